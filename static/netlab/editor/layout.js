// The layered layout of a document in the browser: rows by distance from the host.

import { holderOf, hostOf, linksOf, nodesOf } from "./readers.js";

// The server's layered layout (netlab/core/layout.py), mirrored; tests/js/server-cases.test.mjs
// checks both answer the same, as it does for the node-id rule (netlab/core/names.py).
export const COLUMN_WIDTH = 160;
export const ROW_HEIGHT = 140;
export const MARGIN = 60;


/** Each node's row: its distance in links from the host (netlab/core/layout.py's layers). */
export function layers(doc) {
  const neighbours = new Map();
  const join = (a, b) => {
    if (!neighbours.has(a)) neighbours.set(a, new Set());
    if (!neighbours.has(b)) neighbours.set(b, new Set());
    neighbours.get(a).add(b);
    neighbours.get(b).add(a);
  };
  for (const link of linksOf(doc)) {
    const [first, second] = (link.endpoints || []).map((end) => end.node);
    if (first !== undefined && second !== undefined) join(first, second);
  }
  for (const node of nodesOf(doc)) if (node.kind === "bridge") join(holderOf(doc, node), node.id);
  const row = new Map();
  const host = hostOf(doc);
  const queue = host ? [host.id] : [];
  if (host) row.set(host.id, 0);
  while (queue.length) {
    const current = queue.shift();
    for (const other of [...(neighbours.get(current) || [])].sort()) {
      if (!row.has(other)) {
        row.set(other, row.get(current) + 1);
        queue.push(other);
      }
    }
  }
  const deepest = Math.max(-1, ...row.values());
  for (const node of nodesOf(doc)) if (!row.has(node.id)) row.set(node.id, deepest + 1);
  return row;
}

/**
 * Positions for `ids` (default: every node) in the layered layout, as {id: {x, y}}; with
 * `below`, the rows start under the nodes that keep their positions.
 */
export function layeredPositions(doc, ids = null, { below = false } = {}) {
  const wanted = new Set(ids || nodesOf(doc).map((node) => node.id));
  const placed = nodesOf(doc).filter((node) => !wanted.has(node.id) && node.position);
  let top = MARGIN;
  if (below && placed.length) top = Math.max(...placed.map((node) => node.position.y)) + ROW_HEIGHT;
  const rowOf = layers(doc);
  const rows = new Map();
  for (const node of nodesOf(doc)) {
    if (!wanted.has(node.id)) continue;
    const row = rowOf.get(node.id);
    if (!rows.has(row)) rows.set(row, []);
    rows.get(row).push(node.id);
  }
  const widest = Math.max(0, ...[...rows.values()].map((members) => members.length));
  const positions = {};
  [...rows.keys()].sort((a, b) => a - b).forEach((row, number) => {
    const members = rows.get(row);
    const offset = ((widest - members.length) * COLUMN_WIDTH) / 2;
    members.forEach((id, column) => {
      positions[id] = { x: Math.round(MARGIN + offset + column * COLUMN_WIDTH),
        y: Math.round(top + number * ROW_HEIGHT) };
    });
  });
  return positions;
}
