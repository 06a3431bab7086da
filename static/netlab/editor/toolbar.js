// The toolbar's buttons and the keyboard shortcuts, bound to the editor's actions.

const SHORTCUTS = [
  { keys: ["ctrl+z"], action: "undo" },
  { keys: ["ctrl+y", "ctrl+shift+z"], action: "redo" },
  { keys: ["ctrl+s"], action: "save" },
  { keys: ["ctrl+c"], action: "copy" },
  { keys: ["ctrl+v"], action: "paste" },
  { keys: ["ctrl+a"], action: "selectAll" },
  { keys: ["delete", "backspace"], action: "remove" },
];

function chord(event) {
  const parts = [];
  if (event.ctrlKey || event.metaKey) parts.push("ctrl");
  if (event.shiftKey) parts.push("shift");
  parts.push(event.key.toLowerCase());
  return parts.join("+");
}

/** Whether the user is typing in a field (where the keys keep their usual meaning). */
function typing(event) {
  const target = event.target;
  return target instanceof HTMLElement
    && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

/**
 * Bind every `[data-action]` button under `toolbar` and the shortcuts to `actions`
 * (an object of functions by name). Save works everywhere; the others only when the
 * focus is not in a field, so Ctrl+Z in a field undoes typing there first.
 */
export function bindToolbar(toolbar, actions) {
  for (const button of toolbar.querySelectorAll("[data-action]")) {
    button.addEventListener("click", () => actions[button.dataset.action]?.());
  }
  window.addEventListener("keydown", (event) => {
    const pressed = chord(event);
    const shortcut = SHORTCUTS.find((item) => item.keys.includes(pressed));
    if (!shortcut) return;
    if (shortcut.action !== "save" && typing(event)) {
      // In a field, Ctrl+Z and Ctrl+Y still undo and redo the document: each keystroke
      // there is an edit of it, and the field is redrawn from the document.
      if (shortcut.action !== "undo" && shortcut.action !== "redo") return;
    }
    event.preventDefault();
    actions[shortcut.action]?.();
  });
}
