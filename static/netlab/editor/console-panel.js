// The console of a lab's nodes in the page: a line typed on a node runs there (a diagnostic,
// its output streamed as it comes) or becomes an edit of the design, saved and applied in
// place (the canvas follows). One output per node, kept while another node's is shown;
// history with Up and Down, completion of node names, interfaces and addresses with Tab,
// Ctrl+C (or Stop) interrupts.

import { h } from "./dom.js";
import { interfacesOf } from "./capture-panel.js";

const KEPT = 200_000; // characters of output kept per node

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

/** `line` with its last word completed from `words` (the common prefix of the matches). */
export function complete(line, words) {
  const start = line.lastIndexOf(" ") + 1;
  const partial = line.slice(start);
  const matches = words.filter((word) => word.startsWith(partial));
  if (!partial || !matches.length) return line;
  let common = matches[0];
  for (const word of matches) while (!word.startsWith(common)) common = common.slice(0, -1);
  return line.slice(0, start) + common + (matches.length === 1 ? " " : "");
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
    this.outputs = new Map(); // node: its text
    this.running = new Set(); // nodes running a line
    this.history = [];
    this.back = 0;
    const input = this.find("console-input");
    input.addEventListener("keydown", (event) => this.#key(event));
    this.find("console-stop").addEventListener("click", () => this.stop());
    this.find("console-node").addEventListener("change", () => this.#show());
  }

  choices(nodes) {
    const select = this.find("console-node");
    const value = select.value;
    select.replaceChildren(...nodes.map((id) => h("option", { value: id }, id)));
    if (nodes.includes(value)) select.value = value;
    this.#show();
  }

  get node() {
    return this.find("console-node").value;
  }

  run(line) {
    const node = this.node;
    if (!node || !line.trim()) return;
    this.#print(node, `${node}# ${line}\n`);
    if (this.panel.send({ action: "console", node, line })) {
      this.running.add(node);
      this.history.push(line);
      this.back = 0;
      this.#buttons();
    }
  }

  stop() {
    if (this.running.has(this.node)) this.panel.send({ action: "console.stop", node: this.node });
  }

  onEvent(event) {
    if (event.type === "console.output") {
      this.#print(event.node, event.output);
    } else if (event.type === "console.done") {
      this.running.delete(event.node);
      if (event.edit) {
        this.#print(event.node, `(saved as revision ${event.edit}; applying it to the running lab)\n`);
        this.panel.adoptSaved(event.edit);
      } else if (event.exit_code) {
        this.#print(event.node, `(exit status ${event.exit_code})\n`);
      }
    } else if (event.type === "error") {
      this.running.delete(this.node);
      this.#print(this.node, `${event.message}\n`);
    }
    this.#buttons();
  }

  buttons(running) {
    this.labRunning = running;
    this.#buttons();
  }

  #buttons() {
    this.find("console-input").disabled = !this.labRunning || this.running.has(this.node);
    this.find("console-stop").disabled = !this.running.has(this.node);
  }

  #key(event) {
    const input = event.target;
    if (event.key === "Enter") {
      event.preventDefault();
      const line = input.value;
      input.value = "";
      this.run(line);
    } else if (event.key === "ArrowUp" || event.key === "ArrowDown") {
      event.preventDefault();
      this.back = Math.min(Math.max(this.back + (event.key === "ArrowUp" ? 1 : -1), 0), this.history.length);
      input.value = this.back ? this.history[this.history.length - this.back] : "";
    } else if (event.key === "Tab") {
      event.preventDefault();
      input.value = complete(input.value, completions(this.state.doc, this.node));
    } else if (event.key === "c" && event.ctrlKey) {
      event.preventDefault();
      this.stop();
    }
  }

  #print(node, text) {
    const kept = ((this.outputs.get(node) || "") + text).slice(-KEPT);
    this.outputs.set(node, kept);
    if (node === this.node) this.#show();
  }

  #show() {
    const output = this.find("console-output");
    output.textContent = this.outputs.get(this.node) || "";
    output.scrollTop = output.scrollHeight;
    this.#buttons();
  }
}
