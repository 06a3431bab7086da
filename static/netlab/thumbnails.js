// Small, static pictures of the gallery's designs: each card's document sits in the
// json_script right after its thumbnail.
for (const box of document.querySelectorAll(".thumbnail")) {
  const design = JSON.parse(box.nextElementSibling.textContent);
  const host = (design.nodes.find((node) => node.kind === "host") || { id: "host" }).id;
  const elements = [
    ...design.nodes.map((node) => ({ data: { id: node.id, kind: node.kind }, position: node.position })),
    ...(design.links || []).map((link, index) => ({
      data: { id: `l${index}`, source: link.endpoints[0].node, target: link.endpoints[1].node },
    })),
    ...design.nodes.filter((node) => node.kind === "bridge").map((node) => ({
      data: { id: `in:${node.id}`, source: node.in || host, target: node.id, holder: true },
    })),
  ];
  window.cytoscape({
    container: box, elements, layout: { name: "preset", fit: true, padding: 12 },
    userZoomingEnabled: false, userPanningEnabled: false, autoungrabify: true, autounselectify: true,
    style: [
      { selector: "node", style: { width: 14, height: 14, "background-color": "#4a7bd0" } },
      { selector: 'node[kind = "host"]', style: { shape: "round-rectangle", "background-color": "#37474f", width: 22 } },
      { selector: 'node[kind = "bridge"]', style: { shape: "rectangle", "background-color": "#ef8f00", height: 8, width: 30 } },
      { selector: "edge", style: { width: 1.5, "line-color": "#8aa0b6" } },
      { selector: "edge[?holder]", style: { "line-style": "dashed", width: 1 } },
    ],
  });
}
