// The problem list: the server's problems of the current document (POST /api/validate),
// each naming its place; clicking one selects the element it is about.

import { h } from "./dom.js";
import { targetOfPath } from "./model.js";
import { linkKey, nodeKey } from "../graph.js";

/** The canvas key of the element a problem is about (n:<id> or l:<index>), or null. */
export function elementKey(doc, path) {
  const target = targetOfPath(doc, path);
  if (target.kind === "node") return nodeKey(target.id);
  if (target.kind === "link") return linkKey(target.index);
  return null;
}

/** Map canvas keys to the messages of their problems. */
export function problemsByElement(doc, problems) {
  const marks = new Map();
  for (const problem of problems) {
    const key = elementKey(doc, problem.path);
    if (!key) continue;
    if (!marks.has(key)) marks.set(key, []);
    marks.get(key).push(problem.message);
  }
  return marks;
}

export class ProblemList {
  /**
   * @param root the list element (data-testid="problems")
   * @param summary an element saying how many problems there are
   * @param onPick called with the problem's target ({kind, id|index, field}) and its path
   */
  constructor(root, summary, onPick) {
    this.root = root;
    this.summary = summary;
    this.onPick = onPick;
  }

  show(doc, problems, { pending = false, error = null } = {}) {
    this.root.replaceChildren(...problems.map((problem) => {
      const target = targetOfPath(doc, problem.path);
      const where = target.kind === "node" ? `node ${target.id}`
        : target.kind === "link" ? `link ${target.index + 1}` : "design";
      return h("li", {},
        h("button", { type: "button", className: "problem", dataset: { path: problem.path },
          onclick: () => this.onPick(target, problem.path) },
        h("strong", {}, where), " ", h("code", {}, problem.path || "document"), " ", problem.message));
    }));
    this.root.dataset.count = String(problems.length);
    if (error) this.summary.textContent = `Cannot check the design: ${error}`;
    else if (pending) this.summary.textContent = "Checking…";
    else this.summary.textContent = problems.length
      ? `${problems.length} problem${problems.length > 1 ? "s" : ""}` : "No problems";
    this.summary.classList.toggle("bad", problems.length > 0 || Boolean(error));
  }
}
