// The ping-all matrix at full width: a dialog over the canvas with every source and
// address, sortable (pingall-matrix.js SORTS), filtered to failures on demand, its progress
// and a Cancel while it runs.
//
// The matrix is painted on a <canvas>, and only its visible part: a campus is thousands of
// cells, and as DOM elements every frame of a stream cost the browser 100-200 ms of style,
// layout, paint and layer work on a loaded machine. Painting the cells in view takes a few
// milliseconds, so the page never blocks while cells stream in (live.js calls update at
// most once a frame; while cells stream it paints at most every DRAW_MS). A spacer gives
// the scroll area the matrix's size; the canvas stays in view (sticky) and is painted for
// the scroll position. Pointing at a cell shows its details under the header.

import { milliseconds } from "./live-tables.js";
import { matrixView, progressText, SORTS } from "./pingall-matrix.js";
import { h } from "./dom.js";

const DRAW_MS = 200;
const CELL = { width: 58, height: 22 };
const HEADER = { width: 120, height: 40 };

// A node's own address: a ping-all does not ping it.
const SELF = Object.freeze({ text: "", kind: "self", title: "its own address: not pinged" });

/** What a cell shows: its text, kind (good, bad, pending) and description. */
export function cellFace(cell) {
  if (!cell) return { text: "…", kind: "pending", title: "not measured yet" };
  const pair = `${cell.source} → ${cell.address} (${cell.target})`;
  if (cell.predicted) {
    return { text: cell.reachable ? "✓" : "✗", kind: cell.reachable ? "good" : "bad",
      title: `${pair}: predicted ${cell.outcome} (click to explain)` };
  }
  if (cell.disagrees) {
    return { text: "≠", kind: "bad",
      title: `${pair}: ${cell.reachable ? "answered" : cell.error || "no reply"}, but the design predicts ${cell.disagrees}: a bug in netlab or a hand-made change in the lab` };
  }
  if (cell.reachable) {
    return { text: milliseconds(cell.rtt_ms) || "✓", kind: "good",
      title: `${cell.source} → ${cell.address} (${cell.target}): ${cell.received}/${cell.sent} replies, ${milliseconds(cell.rtt_ms) || "no time"}` };
  }
  return { text: "✗", kind: "bad", title: `${cell.source} → ${cell.address} (${cell.target}): ${cell.error || "no reply"}` };
}

export class PingAllDialog {
  /**
   * @param dialog the <dialog> element (templates/editor/design/pingall_dialog.html)
   * @param onCancel called when the reader asks to stop the running ping-all
   * @param planned answers the sources and columns expected ({sources, columns}) or null
   */
  constructor(dialog, { onCancel, planned = () => null }) {
    this.dialog = dialog;
    this.planned = planned;
    this.find = (testid) => dialog.querySelector(`[data-testid="${testid}"]`);
    this.wrap = dialog.querySelector(".grid-wrap");
    this.grid = this.find("pingall-grid");
    this.canvas = this.grid.querySelector("canvas");
    this.spacer = this.grid.querySelector(".spacer");
    this.sort = "name";
    this.failuresOnly = false;
    this.pingall = null;
    /** What is drawn: {sources, columns, cell(source, address), failed, measured, hidden}. */
    this.view = matrixView([]);
    this.drawnAt = 0;
    this.later = null;
    this.frame = null;
    const sort = this.find("pingall-sort");
    sort.replaceChildren(...Object.entries(SORTS).map(([value, label]) => h("option", { value }, label)));
    sort.addEventListener("change", () => {
      this.sort = sort.value;
      this.#draw();
    });
    this.find("pingall-failures-only").addEventListener("change", (event) => {
      this.failuresOnly = event.target.checked;
      this.#draw();
    });
    this.find("pingall-dialog-cancel").addEventListener("click", () => onCancel());
    this.find("pingall-close").addEventListener("click", () => this.close());
    this.wrap.addEventListener("scroll", () => this.#paintSoon(), { passive: true });
    window.addEventListener("resize", () => this.#paintSoon());
    this.canvas.addEventListener("mousemove", (event) => this.#point(event));
    this.canvas.addEventListener("mouseleave", () => this.#describe(null));
  }

  get isOpen() {
    return this.dialog.open;
  }

  open(pingall) {
    this.pingall = pingall;
    if (!this.dialog.open) this.dialog.showModal();
    this.colours = themeColours(this.dialog);
    this.#draw();
  }

  close() {
    clearTimeout(this.later);
    this.later = null;
    if (this.dialog.open) this.dialog.close();
  }

  /** The ping-all changed (a frame's worth of events): redraw, if open. */
  update(pingall) {
    this.pingall = pingall;
    if (!this.dialog.open) return;
    const running = Boolean(pingall && !pingall.done);
    const wait = DRAW_MS - (performance.now() - this.drawnAt);
    if (running && wait > 0) {
      if (!this.later) this.later = setTimeout(() => {
        this.later = null;
        if (this.dialog.open) this.#draw();
      }, wait);
      return;
    }
    this.#draw();
  }

  /** The source and address under canvas point (x, y) (CSS pixels), or null. */
  cellAt(x, y) {
    const column = Math.floor((x + this.wrap.scrollLeft - HEADER.width) / CELL.width);
    const row = Math.floor((y + this.wrap.scrollTop - HEADER.height) / CELL.height);
    if (x < HEADER.width || y < HEADER.height) return null;
    const source = this.view.sources[row];
    const target = this.view.columns[column];
    return source && target ? { source, address: target.address } : null;
  }

  #draw() {
    this.drawnAt = performance.now();
    const pingall = this.pingall;
    const running = Boolean(pingall && !pingall.done);
    this.find("pingall-dialog-cancel").hidden = !running;
    const view = matrixView(pingall ? pingall.cells.values() : [], {
      sort: this.sort, failuresOnly: this.failuresOnly, planned: pingall ? this.planned() : null });
    this.view = view;
    this.find("pingall-dialog-progress").textContent = pingall?.progress
      ? `${running ? "Pinging: " : pingall.done?.cancelled ? "Cancelled at " : ""}${progressText(pingall.progress)}`
      : running ? "Pinging…" : "";
    this.find("pingall-dialog-note").textContent = !pingall
      ? "No ping-all yet: run one from the Live lab tab."
      : pingall.predicted
        ? `Predicted from saved revision ${pingall.predicted}, no packet sent: ${view.failed} of ${view.measured} pairs fail. Click a cell to explain it.`
      : this.failuresOnly && view.failed === 0 && view.measured
        ? "No failures: every pair measured so far answered."
        : this.failuresOnly
          ? `Showing the ${view.sources.length} sources and ${view.columns.length} addresses with a failure (${view.failed} failed pairs).`
          : "";
    Object.assign(this.grid.dataset, {
      rows: String(view.sources.length), columns: String(view.columns.length),
      measured: String(view.measured), failed: String(view.failed),
    });
    // Sizes through the CSSOM, not style attributes: the page's CSP allows it.
    this.spacer.style.width = `${HEADER.width + view.columns.length * CELL.width}px`;
    this.spacer.style.height = `${HEADER.height + view.sources.length * CELL.height}px`;
    this.#paint();
  }

  #paintSoon() {
    if (this.frame || !this.dialog.open) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = null;
      this.#paint();
    });
  }

  /** Paint the part of the matrix in view, headers on top and at the left. */
  #paint() {
    const width = this.wrap.clientWidth;
    const height = this.wrap.clientHeight;
    if (!width || !height) return;
    const ratio = window.devicePixelRatio || 1;
    if (this.canvas.width !== Math.round(width * ratio) || this.canvas.height !== Math.round(height * ratio)) {
      this.canvas.width = Math.round(width * ratio);
      this.canvas.height = Math.round(height * ratio);
      this.canvas.style.width = `${width}px`;
      this.canvas.style.height = `${height}px`;
    }
    const context = this.canvas.getContext("2d");
    const colours = this.colours || themeColours(this.dialog);
    const { sources, columns, cell } = this.view;
    const left = this.wrap.scrollLeft;
    const top = this.wrap.scrollTop;
    const firstColumn = Math.max(0, Math.floor(left / CELL.width));
    const lastColumn = Math.min(columns.length, Math.ceil((left + width - HEADER.width) / CELL.width) + 1);
    const firstRow = Math.max(0, Math.floor(top / CELL.height));
    const lastRow = Math.min(sources.length, Math.ceil((top + height - HEADER.height) / CELL.height) + 1);
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.fillStyle = colours.paper;
    context.fillRect(0, 0, width, height);
    context.textBaseline = "middle";
    context.textAlign = "center";
    context.font = `11px ${colours.mono}`;
    for (let row = firstRow; row < lastRow; row += 1) {
      const y = HEADER.height + row * CELL.height - top;
      for (let index = firstColumn; index < lastColumn; index += 1) {
        const x = HEADER.width + index * CELL.width - left;
        const face = columns[index].target === sources[row] ? SELF : cellFace(cell(sources[row], columns[index].address));
        context.fillStyle = colours[`${face.kind}Fill`];
        context.fillRect(x, y, CELL.width - 1, CELL.height - 1);
        context.fillStyle = colours[face.kind];
        context.fillText(face.text, x + CELL.width / 2, y + CELL.height / 2, CELL.width - 6);
      }
    }
    // The headers, over the cells that scrolled under them.
    context.font = `600 11px ${colours.sans}`;
    context.fillStyle = colours.paper;
    context.fillRect(0, 0, width, HEADER.height);
    context.fillRect(0, 0, HEADER.width, height);
    for (let index = firstColumn; index < lastColumn; index += 1) {
      const x = HEADER.width + index * CELL.width - left + CELL.width / 2;
      if (x < HEADER.width) continue;
      context.fillStyle = colours.ink;
      context.fillText(columns[index].target, x, 13, CELL.width - 4);
      context.fillStyle = colours.muted;
      context.font = `10px ${colours.sans}`;
      context.fillText(columns[index].address, x, 28, CELL.width - 4);
      context.font = `600 11px ${colours.sans}`;
    }
    context.textAlign = "left";
    context.fillStyle = colours.ink;
    for (let row = firstRow; row < lastRow; row += 1) {
      const y = HEADER.height + row * CELL.height - top + CELL.height / 2;
      if (y < HEADER.height) continue;
      context.fillText(sources[row], 6, y, HEADER.width - 10);
    }
    context.fillStyle = colours.paper;
    context.fillRect(0, 0, HEADER.width, HEADER.height);
    context.fillStyle = colours.muted;
    context.fillText("from \\ to", 6, HEADER.height - 10);
    context.strokeStyle = colours.line;
    context.beginPath();
    context.moveTo(0, HEADER.height - 0.5);
    context.lineTo(width, HEADER.height - 0.5);
    context.moveTo(HEADER.width - 0.5, 0);
    context.lineTo(HEADER.width - 0.5, height);
    context.stroke();
  }

  #point(event) {
    const box = this.canvas.getBoundingClientRect();
    const found = this.cellAt(event.clientX - box.left, event.clientY - box.top);
    this.#describe(found ? this.view.cell(found.source, found.address) || { ...found, pending: true } : null);
  }

  #describe(cell) {
    const own = cell?.pending && this.view.columns.find((column) => column.address === cell.address)?.target === cell.source;
    const text = !cell ? "" : own ? `${cell.source} → ${cell.address}: ${SELF.title}`
      : cell.pending ? `${cell.source} → ${cell.address}: not measured yet` : cellFace(cell).title;
    this.find("pingall-dialog-cell").textContent = text;
    this.canvas.title = text;
  }
}

/** The colours of the page's theme, read from its CSS custom properties. */
function themeColours(element) {
  const style = getComputedStyle(element);
  const read = (name, fallback) => style.getPropertyValue(name).trim() || fallback;
  return {
    paper: read("--paper", "#ffffff"),
    ink: read("--ink", "#1d2733"),
    muted: read("--muted", "#5b6b7c"),
    line: read("--line", "#d6dde5"),
    good: read("--ok", "#2e7d32"),
    goodFill: read("--pingall-good-fill", "#e3f4e4"),
    bad: read("--danger", "#c62828"),
    badFill: read("--pingall-bad-fill", "#fdecea"),
    pending: read("--muted", "#5b6b7c"),
    pendingFill: read("--pingall-pending-fill", "#f2f4f7"),
    self: read("--muted", "#5b6b7c"),
    selfFill: read("--line", "#d6dde5"),
    sans: read("--pingall-font", "system-ui, sans-serif"),
    mono: "ui-monospace, monospace",
  };
}
