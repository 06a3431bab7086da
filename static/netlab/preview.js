// Read-only topology picture of a netlab/v1 document (examples, revisions, shared designs,
// and the diff of two revisions). The document is embedded in the page by Django's
// json_script, with an optional map of changes ("node:<id>" or "link:<a:if -- b:if>" to
// added, removed, changed or moved) that colours the elements; cytoscape is loaded as a
// classic script from the npm package installed by the setup.

const data = JSON.parse(document.getElementById("preview-document").textContent);
const changesElement = document.getElementById("preview-changes");
const changes = changesElement ? JSON.parse(changesElement.textContent) : {};
const container = document.getElementById("preview");

// The same name the server gives a link in a diff: its two ends, sorted.
const linkKey = (link) => link.endpoints.map((end) => `${end.node}:${end.interface}`).sort().join(" -- ");
const hostId = (design) => ((design.nodes || []).find((node) => node.kind === "host") || { id: "host" }).id;

function elements(design) {
  const nodes = (design.nodes || []).map((node) => ({
    group: "nodes",
    data: { id: `node:${node.id}`, label: node.label ? `${node.id}\n${node.label}` : node.id, kind: node.kind,
            change: changes[`node:${node.id}`] || "" },
    position: node.position,
  }));
  const links = (design.links || []).map((link, index) => {
    const [a, b] = link.endpoints;
    const ends = (end) => `${end.interface}${end.addresses ? " " + end.addresses.join(",") : ""}`;
    return {
      group: "edges",
      data: { id: `link:${index}`, source: `node:${a.node}`, target: `node:${b.node}`,
              sourceLabel: ends(a), targetLabel: ends(b), change: changes[`link:${linkKey(link)}`] || "" },
    };
  });
  // A bridge lives in a namespace: draw that as a dashed edge to its holder.
  const holders = (design.nodes || []).filter((node) => node.kind === "bridge").map((node) => ({
    group: "edges",
    data: { id: `in:${node.id}`, source: `node:${node.in || hostId(design)}`, target: `node:${node.id}`, holder: true },
  }));
  return [...nodes, ...links, ...holders];
}

window.cytoscape({
  container,
  elements: elements(data),
  layout: { name: "preset", fit: true, padding: 40 },
  userZoomingEnabled: true,
  autoungrabify: true,
  style: [
    { selector: "node", style: { label: "data(label)", "text-wrap": "wrap", "text-valign": "bottom",
      "text-margin-y": 6, "font-size": 12, "background-color": "#4a7bd0", width: 34, height: 34 } },
    { selector: 'node[kind = "host"]', style: { shape: "round-rectangle", "background-color": "#37474f", width: 54 } },
    { selector: 'node[kind = "bridge"]', style: { shape: "rectangle", "background-color": "#ef8f00", height: 18, width: 70 } },
    { selector: "edge", style: { width: 2, "line-color": "#8aa0b6", "curve-style": "bezier",
      "source-label": "data(sourceLabel)", "target-label": "data(targetLabel)", "font-size": 9,
      "source-text-offset": 40, "target-text-offset": 40, color: "#415566" } },
    { selector: "edge[?holder]", style: { "line-style": "dashed", width: 1, "line-color": "#c0c8d0" } },
    { selector: 'node[change = "added"]', style: { "border-width": 4, "border-color": "#2e7d32" } },
    { selector: 'node[change = "removed"]', style: { "border-width": 4, "border-color": "#c62828", opacity: 0.45 } },
    { selector: 'node[change = "changed"]', style: { "border-width": 4, "border-color": "#f9a825" } },
    { selector: 'node[change = "moved"]', style: { "border-width": 2, "border-color": "#8e24aa", "border-style": "dashed" } },
    { selector: 'edge[change = "added"]', style: { "line-color": "#2e7d32", width: 4 } },
    { selector: 'edge[change = "removed"]', style: { "line-color": "#c62828", width: 4, "line-style": "dashed", opacity: 0.6 } },
    { selector: 'edge[change = "changed"]', style: { "line-color": "#f9a825", width: 4 } },
  ],
});
