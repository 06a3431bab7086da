// Read-only topology picture of a netlab/v1 document (examples, revisions, shared designs,
// and the diff of two revisions), drawn like the editor's canvas (graph.js). The document
// is embedded in the page by Django's json_script, with an optional map of changes
// ("node:<id>" or "link:<a:if -- b:if>" to added, removed, changed or moved) that colours
// the elements; cytoscape is loaded as a classic script from the npm package installed by
// the setup.

import { COLOURS, STYLE, elements, themeStyle } from "./graph.js";
import { linksOf } from "./editor/model.js";

const data = JSON.parse(document.getElementById("preview-document").textContent);
const changesElement = document.getElementById("preview-changes");
const changes = changesElement ? JSON.parse(changesElement.textContent) : {};
const container = document.getElementById("preview");

// The same name the server gives a link in a diff: its two ends, sorted.
const linkName = (link) => link.endpoints.map((end) => `${end.node}:${end.interface}`).sort().join(" -- ");

/** The elements of `design`, each with the change the diff names for it (or ""). */
function withChanges(design) {
  const links = linksOf(design);
  return elements(design).map((element) => {
    const key = element.data.id;
    let change = "";
    if (key.startsWith("n:")) change = changes[`node:${key.slice(2)}`] || "";
    else if (key.startsWith("l:")) change = changes[`link:${linkName(links[Number(key.slice(2))])}`] || "";
    return { ...element, data: { ...element.data, change } };
  });
}

const CHANGES = [
  { selector: 'node[change = "added"]', style: { "border-width": 4, "border-color": COLOURS.good } },
  { selector: 'node[change = "removed"]', style: { "border-width": 4, "border-color": COLOURS.bad, opacity: 0.45 } },
  { selector: 'node[change = "changed"]', style: { "border-width": 4, "border-color": COLOURS.changed } },
  { selector: 'node[change = "moved"]', style: { "border-width": 2, "border-color": COLOURS.moved, "border-style": "dashed" } },
  { selector: 'edge[change = "added"]', style: { "line-color": COLOURS.good, width: 4 } },
  { selector: 'edge[change = "removed"]', style: { "line-color": COLOURS.bad, width: 4, "line-style": "dashed", opacity: 0.6 } },
  { selector: 'edge[change = "changed"]', style: { "line-color": COLOURS.changed, width: 4 } },
];

window.cytoscape({
  container,
  elements: withChanges(data),
  layout: { name: "preset", fit: true, padding: 40 },
  userZoomingEnabled: true,
  autoungrabify: true,
  style: [...STYLE, ...themeStyle(container), ...CHANGES],
});
