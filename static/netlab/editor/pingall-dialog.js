// The ping-all matrix at full width: a dialog over the canvas with every source and
// address, sortable (pingall-matrix.js SORTS), filtered to failures on demand, its progress
// and a Cancel while it runs. It is drawn from the LiveState's ping-all at most once a frame
// (live.js calls update): cells that change are patched in place, and the whole table is
// rebuilt only when its rows or columns change, at most every REBUILD_MS while cells
// stream, so a lab of thousands of pairs never blocks the page.

import { h } from "./dom.js";
import { milliseconds } from "./live-tables.js";
import { matrixView, progressText, SORTS } from "./pingall-matrix.js";

const REBUILD_MS = 300;

/** What a cell shows: its text, class and tooltip. */
export function cellFace(cell) {
  if (!cell) return { text: "…", className: "pending", title: "not measured yet" };
  if (cell.reachable) {
    return { text: milliseconds(cell.rtt_ms) || "✓", className: "good",
      title: `${cell.source} → ${cell.address} (${cell.target}): ${cell.received}/${cell.sent} replies` };
  }
  return { text: "✗", className: "bad",
    title: `${cell.source} → ${cell.address} (${cell.target}): ${cell.error || "no reply"}` };
}

export class PingAllDialog {
  /**
   * @param dialog the <dialog> element (templates/editor/design.html)
   * @param onCancel called when the reader asks to stop the running ping-all
   */
  constructor(dialog, { onCancel }) {
    this.dialog = dialog;
    this.find = (testid) => dialog.querySelector(`[data-testid="${testid}"]`);
    this.table = this.find("pingall-grid");
    this.sort = "name";
    this.failuresOnly = false;
    this.pingall = null;
    this.signature = null;
    this.builtAt = 0;
    this.later = null;
    this.shown = new Map(); // "source|address" -> {td, cell}
    const sort = this.find("pingall-sort");
    sort.replaceChildren(...Object.entries(SORTS).map(([value, label]) => h("option", { value }, label)));
    sort.addEventListener("change", () => {
      this.sort = sort.value;
      this.#draw({ force: true });
    });
    this.find("pingall-failures-only").addEventListener("change", (event) => {
      this.failuresOnly = event.target.checked;
      this.#draw({ force: true });
    });
    this.find("pingall-dialog-cancel").addEventListener("click", () => onCancel());
    this.find("pingall-close").addEventListener("click", () => this.close());
  }

  get isOpen() {
    return this.dialog.open;
  }

  open(pingall) {
    this.pingall = pingall;
    if (!this.dialog.open) this.dialog.showModal();
    this.#draw({ force: true });
  }

  close() {
    clearTimeout(this.later);
    this.later = null;
    if (this.dialog.open) this.dialog.close();
    this.table.replaceChildren();
    this.shown = new Map();
    this.signature = null;
  }

  /** The ping-all changed (a frame's worth of events): redraw what changed, if open. */
  update(pingall) {
    this.pingall = pingall;
    if (this.dialog.open) this.#draw();
  }

  #draw({ force = false } = {}) {
    const pingall = this.pingall;
    const running = Boolean(pingall && !pingall.done);
    const progress = this.find("pingall-dialog-progress");
    const cancel = this.find("pingall-dialog-cancel");
    cancel.hidden = !running;
    const view = matrixView(pingall ? pingall.cells.values() : [], { sort: this.sort, failuresOnly: this.failuresOnly });
    progress.textContent = pingall?.progress
      ? `${running ? "Pinging: " : pingall.done?.cancelled ? "Cancelled at " : ""}${progressText(pingall.progress)}`
      : running ? "Pinging…" : "";
    const hidden = view.hidden.sources + view.hidden.columns;
    this.find("pingall-dialog-note").textContent = !pingall
      ? "No ping-all yet: run one from the Live lab tab."
      : this.failuresOnly && view.failed === 0 && view.measured
        ? "No failures: every pair measured so far answered."
        : hidden && this.failuresOnly
          ? `Showing the ${view.sources.length} sources and ${view.columns.length} addresses with a failure (${view.failed} failed pairs).`
          : "";
    const signature = `${view.sources.join("\n")}\t${view.columns.map((column) => column.key).join("\n")}`;
    if (signature === this.signature) {
      this.#patch(view);
      return;
    }
    const wait = REBUILD_MS - (performance.now() - this.builtAt);
    if (!force && running && wait > 0) {
      // Rows or columns came or moved: rebuild soon, not at every frame of a stream.
      this.#patch(view);
      if (!this.later) this.later = setTimeout(() => {
        this.later = null;
        if (this.dialog.open) this.#draw();
      }, wait);
      return;
    }
    this.#rebuild(view, signature);
  }

  #rebuild(view, signature) {
    this.signature = signature;
    this.builtAt = performance.now();
    this.shown = new Map();
    const head = h("tr", {}, h("th", { className: "corner" }, "from \\ to"),
      view.columns.map((column) => h("th", { title: `${column.target} ${column.address}`, scope: "col" },
        column.target, h("br"), h("small", {}, column.address))));
    const rows = view.sources.map((source) => {
      const row = h("tr", {}, h("th", { scope: "row" }, source));
      for (const column of view.columns) {
        const cell = view.cell(source, column.address);
        const td = document.createElement("td");
        paint(td, cell);
        row.append(td);
        this.shown.set(`${source}|${column.address}`, { td, cell });
      }
      return row;
    });
    this.table.replaceChildren(h("thead", {}, head), h("tbody", {}, rows));
  }

  #patch(view) {
    for (const [key, entry] of this.shown) {
      const split = key.indexOf("|");
      const cell = view.cell(key.slice(0, split), key.slice(split + 1));
      if (cell === entry.cell) continue;
      entry.cell = cell;
      paint(entry.td, cell);
    }
  }
}

function paint(td, cell) {
  const face = cellFace(cell);
  td.textContent = face.text;
  td.className = face.className;
  td.title = face.title;
  if (cell) td.dataset.testid = "pingall-grid-cell";
  else delete td.dataset.testid;
}
