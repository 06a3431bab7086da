// Measures of a layout, shared by the layout tests and the layout benchmark: the aspect
// of the picture, overlapping nodes and the share of hosts nearest their own bridge.

export const NODE_BOX = { width: 70, height: 40 };

/** {aspect, width, height, overlaps, nearestOwn, hosts} of `positions` for `doc`. */
export function quality(doc, positions) {
  const points = doc.nodes.map((node) => ({ ...positions[node.id], id: node.id, kind: node.kind }));
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const width = Math.max(...xs) - Math.min(...xs) + NODE_BOX.width;
  const height = Math.max(...ys) - Math.min(...ys) + NODE_BOX.height;
  const sorted = [...points].sort((a, b) => a.x - b.x);
  let overlaps = 0;
  for (let i = 0; i < sorted.length; i += 1) {
    for (let j = i + 1; j < sorted.length && sorted[j].x - sorted[i].x < NODE_BOX.width; j += 1) {
      if (Math.abs(sorted[j].y - sorted[i].y) < NODE_BOX.height) overlaps += 1;
    }
  }
  const bridges = points.filter((p) => p.kind === "bridge");
  // A host: a namespace without forwarding with one link, to a bridge.
  const routers = new Set(doc.nodes.filter((node) => node.forwarding).map((node) => node.id));
  const linkCount = new Map();
  for (const link of doc.links) for (const end of link.endpoints) linkCount.set(end.node, (linkCount.get(end.node) || 0) + 1);
  const bridgeIds = new Set(bridges.map((p) => p.id));
  const bridgeOf = new Map();
  for (const link of doc.links) {
    const [a, b] = link.endpoints.map((end) => end.node);
    if (bridgeIds.has(b) && linkCount.get(a) === 1 && !bridgeIds.has(a) && !routers.has(a)) bridgeOf.set(a, b);
  }
  let nearestOwn = 0;
  for (const [host, own] of bridgeOf) {
    const at = positions[host];
    const distance = (p) => Math.hypot(p.x - at.x, p.y - at.y);
    const nearest = bridges.reduce((best, p) => (distance(p) < distance(best) ? p : best));
    if (nearest.id === own) nearestOwn += 1;
  }
  return { width, height, aspect: width / height, overlaps, nearestOwn, hosts: bridgeOf.size };
}
