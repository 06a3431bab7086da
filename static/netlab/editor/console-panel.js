// The consoles of a lab's nodes in the page: one xterm.js terminal per node, several open at
// once as tabs. A line typed on a node runs there (a diagnostic, its output streamed as it
// comes) or becomes an edit of the design, saved and applied in place (the canvas follows).
// A tab keeps its scrollback and its running command while another is shown; closing it
// stops its command. Line editing, history and Tab completion: console-line.js.

import { h } from "./dom.js";
import { interfacesOf } from "./capture-panel.js";
import { LineEditor, printable } from "./console-line.js";

const THEME = { background: "#0f172a", foreground: "#e2e8f0", cursor: "#e2e8f0" };
const BOLD_GREEN = "\x1b[1;32m";
const RESET = "\x1b[0m";

/** The words Tab completes on a node: node ids, its interfaces, every address. */
export function completions(doc, node) {
  const words = new Set((doc.nodes || []).map((item) => item.id));
  for (const name of interfacesOf(doc, node)) words.add(name);
  for (const item of doc.nodes || []) for (const address of item.addresses || []) words.add(address.split("/")[0]);
  for (const link of doc.links || []) {
    for (const end of link.endpoints || []) for (const address of end.addresses || []) words.add(address.split("/")[0]);
  }
  return [...words].sort();
}

/**
 * Runs `open` with every `<style>` element it creates carrying the page's CSP nonce.
 * xterm.js makes its own (colours, cell sizes) while it opens and takes no nonce of its own
 * (xtermjs/xterm.js#4445); the nonce must be on the element before it enters the page,
 * so document.createElement is wrapped for the call, and only for it.
 */
export function withStyleNonce(document, nonce, open) {
  const create = document.createElement;
  document.createElement = function createElement(...args) {
    const element = create.apply(this, args);
    if (element.localName === "style" && nonce) element.setAttribute("nonce", nonce);
    return element;
  };
  try {
    return open();
  } finally {
    delete document.createElement; // the prototype's again
  }
}

class Console {
  /** A node's terminal, its tab and its line editor. */
  constructor(node, { nonce, onData, onSelect, onClose }) {
    this.node = node;
    this.running = false;
    this.editor = new LineEditor(`${BOLD_GREEN}${printable(node)}$${RESET} `);
    this.tab = h("span", { class: "console-tab", "data-testid": "console-tab", dataset: { node } },
      h("button", { type: "button", role: "tab", onclick: onSelect }, node),
      h("button", { type: "button", class: "console-close", "data-testid": "console-close",
        "aria-label": `close ${node}'s console`, title: "Close (stops its command)", onclick: onClose }, "×"));
    this.element = h("div", { class: "console-terminal", "data-testid": "console-terminal", dataset: { node } });
    this.terminal = new window.Terminal({ theme: THEME, fontSize: 12, scrollback: 2000,
      fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace", cursorBlink: true });
    this.fit = new window.FitAddon.FitAddon();
    this.terminal.loadAddon(this.fit);
    this.terminal.onData(onData);
    this.nonce = nonce;
  }

  /** Puts the terminal into the page (once, when first shown: it needs its size). */
  open(parent) {
    parent.append(this.element);
    withStyleNonce(document, this.nonce, () => this.terminal.open(this.element));
    this.terminal.write(`Console on ${printable(this.node)}: diagnostics (ip, ping, ss, ...) run in its namespace;`
      + " ip addr, route and link changes edit the design. Tab completes, Up and Down recall,"
      + ` Ctrl+C stops.\r\n${this.editor.start()}`);
  }

  resize() {
    if (!this.element.hidden) this.fit.fit();
  }

  print(text) {
    this.terminal.write(printable(text));
  }

  dispose() {
    this.terminal.dispose();
    this.tab.remove();
    this.element.remove();
  }
}

export class ConsolePanel {
  /**
   * @param find the page's lookup by data-testid
   * @param state the page's EditorState
   * @param panel {send(request): boolean, adoptSaved(revision)}
   */
  constructor(find, state, panel) {
    this.find = find;
    this.state = state;
    this.panel = panel;
    this.consoles = new Map(); // node: its Console, in the order of the tabs
    this.active = null;
    this.last = null; // the node that sent the last line: an error without a node is its
    this.nonce = document.querySelector('meta[name="csp-nonce"]')?.nonce || "";
    this.find("console-open").addEventListener("click", () => this.open(this.find("console-node").value));
    this.find("console-stop").addEventListener("click", () => this.stop(this.active));
    new ResizeObserver(() => this.consoles.get(this.active)?.resize()).observe(this.find("console-terminals"));
  }

  choices(nodes) {
    const select = this.find("console-node");
    const value = select.value;
    select.replaceChildren(...nodes.map((id) => h("option", { value: id }, id)));
    if (nodes.includes(value)) select.value = value;
  }

  /** Opens `node`'s console, or shows it if it is open. */
  open(node) {
    if (!node) return;
    if (!this.consoles.has(node)) {
      const item = new Console(node, {
        nonce: this.nonce,
        onData: (data) => this.#typed(item, data),
        onSelect: () => this.show(node),
        onClose: () => this.close(node),
      });
      this.consoles.set(node, item);
      this.find("console-tabs").append(item.tab);
      this.#select(node);
      item.open(this.find("console-terminals"));
      item.resize();
    }
    this.show(node);
  }

  show(node) {
    this.#select(node);
    const item = this.consoles.get(node);
    item?.resize();
    item?.terminal.focus();
    this.#buttons();
  }

  close(node) {
    const item = this.consoles.get(node);
    if (!item) return;
    this.stop(node);
    item.dispose();
    this.consoles.delete(node);
    if (this.active === node) this.show([...this.consoles.keys()].at(-1) ?? null);
    this.#buttons();
  }

  stop(node) {
    if (this.consoles.get(node)?.running) this.panel.send({ action: "console.stop", node });
  }

  onEvent(event) {
    const node = event.node || this.last;
    const item = this.consoles.get(node);
    if (!item) return;
    if (event.type === "console.output") {
      item.print(event.output);
      return;
    }
    if (event.type === "console.done" && event.edit) {
      item.print(`(saved as revision ${event.edit}; applying it to the running lab)\n`);
      this.panel.adoptSaved(event.edit);
    } else if (event.type === "console.done" && event.exit_code) {
      item.print(`(exit status ${event.exit_code})\n`);
    } else if (event.type === "error") {
      item.print(`${item.running ? "" : "\n"}${event.message}\n`);
    }
    item.terminal.write(item.editor.start());
    item.running = false;
    this.#buttons();
  }

  buttons(running) {
    this.labRunning = running;
    this.#buttons();
  }

  #typed(item, data) {
    if (item.running) {
      if (data.includes("\x03")) this.stop(item.node);
      return;
    }
    const words = completions(this.state.doc, item.node);
    const { write, line } = item.editor.type(data, { cols: item.terminal.cols, words });
    item.terminal.write(write);
    if (line === undefined) return;
    if (!line.trim()) {
      item.terminal.write(item.editor.start());
    } else if (!this.labRunning) {
      item.print("The lab is not running: deploy it first.\n");
      item.terminal.write(item.editor.start());
    } else if (this.panel.send({ action: "console", node: item.node, line })) {
      item.running = true;
      this.last = item.node;
    } else {
      item.print("Not connected to the lab: wait for the connection and try again.\n");
      item.terminal.write(item.editor.start());
    }
    this.#buttons();
  }

  #select(node) {
    this.active = node;
    for (const [name, item] of this.consoles) {
      item.tab.classList.toggle("selected", name === node);
      item.tab.querySelector("[role=tab]").setAttribute("aria-selected", String(name === node));
      item.element.hidden = name !== node;
    }
  }

  #buttons() {
    this.find("console-open").disabled = !this.find("console-node").value;
    this.find("console-stop").disabled = !this.consoles.get(this.active)?.running;
  }
}
