// Find node (data-testid="find-node"): a field in the toolbar that suggests node ids and
// labels as they are typed (a <datalist>); Enter selects the node named and centres it.

import { nodesOf } from "./readers.js";

/** The node named `text`: its id, else its label, else the first id or label it begins. */
export function findByName(doc, text) {
  const wanted = text.trim().toLowerCase();
  if (!wanted) return null;
  const nodes = nodesOf(doc);
  const matches = (value) => typeof value === "string" && value.toLowerCase() === wanted;
  const starts = (value) => typeof value === "string" && value.toLowerCase().startsWith(wanted);
  return nodes.find((node) => matches(node.id)) || nodes.find((node) => matches(node.label))
    || nodes.find((node) => starts(node.id)) || nodes.find((node) => starts(node.label)) || null;
}

/** Up to `limit` suggestions (node ids, then labels) for the text typed so far. */
export function suggestions(doc, text, limit = 20) {
  const wanted = text.trim().toLowerCase();
  const found = [];
  for (const node of nodesOf(doc)) {
    if (found.length >= limit) break;
    if (node.id.toLowerCase().startsWith(wanted)) found.push(node.id);
    else if (typeof node.label === "string" && node.label.toLowerCase().startsWith(wanted)) found.push(node.label);
  }
  return found;
}

/**
 * Bind the find field: `canvas` selects and centres, `doc()` answers the current document,
 * `say(text, kind)` reports a name that matches nothing.
 */
export function bindFindNode(input, canvas, doc, say) {
  if (!input) return;
  const list = document.getElementById(input.getAttribute("list"));
  const suggest = () => {
    if (!list) return;
    list.replaceChildren(...suggestions(doc(), input.value).map((value) => {
      const option = document.createElement("option");
      option.value = value; // a property, never markup: names are the user's text
      return option;
    }));
  };
  input.addEventListener("input", suggest);
  input.addEventListener("focus", suggest);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      input.value = "";
      input.blur();
      return;
    }
    if (event.key !== "Enter") return;
    event.preventDefault();
    const node = findByName(doc(), input.value);
    if (!node) {
      say(`No node is named ${JSON.stringify(input.value.trim())}.`, "warning");
      return;
    }
    canvas.select({ nodes: [node.id] });
    canvas.centreOn(node.id);
    say(`Found ${node.id}.`);
  });
}
