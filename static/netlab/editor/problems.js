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

/**
 * The element a problem's path is in, named as the canvas shows it (the server's rule,
 * netlab/core/problems.py element_name): a node by its id, a link by its ends' nodes
 * ("red — v-net-0"); "" for the design itself.
 */
export function elementName(doc, path) {
  const target = targetOfPath(doc, path);
  if (target.kind === "node") return target.id;
  if (target.kind === "link") {
    const ends = doc.links[target.index].endpoints || [];
    return ends.map((end) => end.node).join(" — ");
  }
  return "";
}

/** A problem as one sentence naming its element: the server's, else made the same way. */
export function sentenceOf(doc, problem) {
  if (problem.sentence) return problem.sentence;
  const element = problem.element ?? elementName(doc, problem.path);
  return element ? `${element}: ${problem.message}` : problem.message;
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

const plural = (count, noun) => `${count} ${noun}${count > 1 ? "s" : ""}`;

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

  show(doc, problems, { pending = false, error = null, warnings = [] } = {}) {
    // Each problem reads as a sentence naming its element ("red — v-net-0: '192.168.15.300/24':
    // 300 is not a valid byte"); its document path is the button's title. Text nodes only:
    // the messages quote what the user typed. Warnings follow, marked as such: they refuse
    // nothing (data-severity="warning").
    const item = (problem, severity) => {
      const target = targetOfPath(doc, problem.path);
      const sentence = sentenceOf(doc, problem);
      const element = problem.element ?? elementName(doc, problem.path);
      const text = element && sentence.startsWith(`${element}: `)
        ? [h("strong", {}, element), sentence.slice(element.length)] : [sentence];
      const title = `${severity === "warning" ? "warning: " : ""}${problem.path || "the document"}`;
      return h("li", { dataset: { severity } },
        h("button", { type: "button", className: `problem ${severity}`, title,
          dataset: { path: problem.path }, onclick: () => this.onPick(target, problem.path) }, text));
    };
    this.root.replaceChildren(...problems.map((problem) => item(problem, "error")),
      ...warnings.map((warning) => item(warning, "warning")));
    this.root.dataset.count = String(problems.length);
    this.root.dataset.warnings = String(warnings.length);
    const told = problems.length ? plural(problems.length, "problem") : "No problems";
    if (error) this.summary.textContent = `Cannot check the design: ${error}`;
    else if (pending) this.summary.textContent = "Checking…";
    else this.summary.textContent = warnings.length ? `${told} · ${plural(warnings.length, "warning")}` : told;
    this.summary.classList.toggle("bad", problems.length > 0 || Boolean(error));
  }
}
