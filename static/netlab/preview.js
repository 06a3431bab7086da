// Read-only topology preview of a netlab/v1 document (the editor canvas comes later).
// The document is embedded in the page by Django's json_script; cytoscape is loaded as
// a classic script from the npm package installed by the setup.

const data = JSON.parse(document.getElementById("preview-document").textContent);
const container = document.getElementById("preview");

function elements(design) {
  const nodes = (design.nodes || []).map((node) => ({
    group: "nodes",
    data: { id: `node:${node.id}`, label: node.label ? `${node.id}\n${node.label}` : node.id, kind: node.kind },
    position: node.position,
  }));
  const links = (design.links || []).map((link, index) => {
    const [a, b] = link.endpoints;
    const ends = (end) => `${end.interface}${end.addresses ? " " + end.addresses.join(",") : ""}`;
    return {
      group: "edges",
      data: { id: `link:${index}`, source: `node:${a.node}`, target: `node:${b.node}`,
              sourceLabel: ends(a), targetLabel: ends(b) },
    };
  });
  // A bridge lives in a namespace: draw that as a dashed edge to its holder.
  const holders = (design.nodes || []).filter((node) => node.kind === "bridge").map((node) => ({
    group: "edges",
    data: { id: `in:${node.id}`, source: `node:${node.in || "host"}`, target: `node:${node.id}`, holder: true },
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
  ],
});
