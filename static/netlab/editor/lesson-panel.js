// A lesson on the design page: the design's revisions 1..N in order (the server embeds them
// as `lesson-steps`), taken one step at a time. A step puts its revision's document on the
// canvas, saves it, and deploys it (the first) or changes the running lab to it in place
// (`apply`): the step log shows its commands, the live tables what changed, and this panel
// the step's explanation (its title, description and revision message).

import { h } from "./dom.js";

/** The step to show from the page's URL (`?step=k`, 0: not started), within 0..count. */
export function stepFromUrl(search, count) {
  const value = Number(new URLSearchParams(search).get("step") || 0);
  return Number.isInteger(value) ? Math.min(Math.max(value, 0), count) : 0;
}

/** Step `step`'s document, under the design's own name (a step never renames the design). */
export function stepDocument(step, name) {
  return { ...structuredClone(step.document), name };
}

export class LessonPanel {
  /**
   * @param root the editor element; the steps come from #lesson-steps
   * @param state the page's EditorState
   * @param editor {apply(doc, description), save(), live, say(text, kind)}
   */
  constructor(root, state, editor) {
    this.state = state;
    this.editor = editor;
    this.find = (testid) => root.querySelector(`[data-testid="${testid}"]`);
    this.steps = JSON.parse(document.getElementById("lesson-steps").textContent);
    this.current = stepFromUrl(window.location.search, this.steps.length);
    this.busy = false;
    this.find("lesson-next").addEventListener("click", () => this.next());
    this.render();
  }

  async next() {
    const number = this.current + 1;
    const step = this.steps[number - 1];
    if (!step || this.busy || !this.state.canEdit) return;
    this.busy = true;
    try {
      const live = this.editor.live;
      const running = live.live.state === "running";
      if (!running && !["not deployed", "stopped", "failed"].includes(live.live.state)) {
        this.editor.say(`The lab is ${live.live.state}: wait until it runs.`, "warning");
        return;
      }
      // A step whose document is the one on the canvas needs no new revision.
      if (this.editor.apply(stepDocument(step, this.state.doc.name), `lesson step ${number}`)) {
        await this.editor.save();
      }
      if (this.state.isDirty()) return; // not saved: the status line says why
      if (running) live.changes.run();
      else live.deploy();
      this.current = number;
      const url = new URL(window.location.href);
      url.searchParams.set("step", String(number));
      window.history.replaceState(null, "", url);
      this.render();
    } finally {
      this.busy = false;
    }
  }

  render() {
    const count = this.steps.length;
    this.find("lesson-progress").textContent = this.current
      ? `step ${this.current} of ${count}` : `${count} steps`;
    this.find("lesson-steps").replaceChildren(...this.steps.map((step, index) => h("li", {
      className: index + 1 === this.current ? "current" : index + 1 < this.current ? "done" : "",
      "data-testid": "lesson-step-item" }, step.title || step.message || `revision ${step.number}`)));
    const shown = this.steps[Math.max(this.current, 1) - 1];
    this.find("lesson-step").replaceChildren(...(shown ? [
      h("strong", {}, `${this.current ? "Now" : "First"}: ${shown.title || `revision ${shown.number}`}`),
      shown.description ? h("p", {}, shown.description) : null,
      shown.message && shown.message !== shown.title ? h("p", { className: "hint" }, shown.message) : null,
    ].filter(Boolean) : []));
    const button = this.find("lesson-next");
    const following = this.steps[this.current];
    button.disabled = !following || !this.state.canEdit;
    button.textContent = !this.current ? "Start: deploy step 1" : following ? `Next step: ${following.title || `revision ${following.number}`}` : "Lesson done";
    this.find("lesson-hint").textContent = !this.state.canEdit
      ? "Read-only: fork the design to take the lesson."
      : following && this.current ? "Saves it and changes the running lab in place; the step log shows the commands." : "";
  }
}
