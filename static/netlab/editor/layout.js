// Automatic positions: an adapter around the fcose layout (cytoscape-fcose, from npm).
//
// The engine alone draws a big lab badly: hundreds of hosts on one bridge take it seconds
// and come out as a hairball, a long chain as a 30000 px line. So the adapter hands it a
// smaller graph and tidies what comes back:
//   1. `layoutGraph`: every node's leaves (namespaces linked to that node only: the hosts
//      of a bridge) become one block with it, drawn as rings around it, so hosts stay by
//      their bridge; a namespace holding that bridge (its router) joins the block, turned to
//      face the block's links, and other bridges are tied to their holder by a short edge.
//   2. fcose lays out the blocks and the other nodes, seeded, so the same design always
//      gets the same picture (laying out twice changes nothing).
//   3. `fold` cuts a picture much wider than high into rows, `separate` puts every box on a
//      grid of free cells near where it was (no overlaps, even spacing), and positions are
//      rounded and moved to the top left.
// Every function here but `computePositions` is pure and tested in tests/js/layout.test.mjs.

import { holderOf, linksOf, nodesOf } from "./readers.js";

/** Room a node takes on the canvas, its label included. */
export const CELL = { width: 96, height: 84 };
export const MARGIN = 60;
const SEED = 18;
const RING_GAP = 92;
const TARGET_ASPECT = 1.6;
// Past this many nodes (blocks counting one) fcose's refinement takes longer than the budget
// of 300 ms; its spectral draft, tidied here, is what a big lab gets.
const REFINE_LIMIT = 150;

/** A small seeded generator (mulberry32): the engine's Math.random while it runs. */
export function seededRandom(seed = SEED) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Offsets of `count` leaves around their centre: rings of growing radius, each as full as
 * its circumference allows; a first ring of few leaves takes the lower half only.
 */
export function ringOffsets(count) {
  const offsets = [];
  let ring = 1;
  while (offsets.length < count) {
    const radius = ring * RING_GAP;
    const room = Math.max(1, Math.floor((2 * Math.PI * radius) / CELL.width));
    const here = Math.min(room, count - offsets.length);
    const half = ring === 1 && here <= 4;
    for (let index = 0; index < here; index += 1) {
      const angle = half
        ? Math.PI * ((index + 1) / (here + 1))
        : Math.PI / 2 + (2 * Math.PI * index) / here + (ring % 2 ? 0 : Math.PI / here);
      offsets.push({ x: Math.round(radius * Math.cos(angle)), y: Math.round(radius * Math.sin(angle)) });
    }
    ring += 1;
  }
  return offsets;
}

/**
 * The graph the engine lays out: `nodes` [{id, width, height}] (a node with leaves stands
 * for its block, sized to hold them), `edges` [{source, target, holder}] (links and
 * bridge holders between blocks, once per pair), and `members` mapping each block's id to
 * its leaves' ids with their offsets from the block's centre.
 */
export function layoutGraph(doc, only = null) {
  const wanted = new Set(only || nodesOf(doc).map((node) => node.id));
  const nodes = nodesOf(doc).filter((node) => wanted.has(node.id));
  const neighbours = new Map(nodes.map((node) => [node.id, new Set()]));
  const pairs = [];
  const join = (a, b, holder) => {
    if (a === b || !neighbours.has(a) || !neighbours.has(b)) return;
    neighbours.get(a).add(b);
    neighbours.get(b).add(a);
    pairs.push({ source: a, target: b, holder });
  };
  for (const link of linksOf(doc)) {
    const [first, second] = (link.endpoints || []).map((end) => end.node);
    join(first, second, false);
  }
  for (const node of nodes) if (node.kind === "bridge") join(holderOf(doc, node), node.id, true);

  const kinds = new Map(nodes.map((node) => [node.id, node.kind]));
  const leavesOf = new Map();
  for (const node of nodes) {
    const around = neighbours.get(node.id);
    if (node.kind !== "namespace" || around.size !== 1) continue;
    const [centre] = around;
    // Two namespaces linked only to each other: the first one named is the centre.
    if (kinds.get(centre) === "namespace" && neighbours.get(centre).size === 1 && centre > node.id) continue;
    if (!leavesOf.has(centre)) leavesOf.set(centre, []);
    leavesOf.get(centre).push(node.id);
  }
  // A namespace holding one bridge with hosts (a router and its access bridge) joins that
  // bridge's block, in its top place, unless it has leaves of its own.
  const held = new Map();
  for (const node of nodes) {
    if (node.kind !== "bridge") continue;
    const holder = holderOf(doc, node);
    held.set(holder, [...(held.get(holder) || []), node.id]);
  }
  const holderOfBlock = new Map();
  for (const [holder, bridges] of held) {
    const leaves = leavesOf.get(bridges[0]) || [];
    if (bridges.length === 1 && kinds.get(holder) === "namespace" && leaves.length >= 2
      && (leavesOf.get(holder) || []).length < 2) holderOfBlock.set(bridges[0], holder);
  }
  const blockOf = new Map();
  const members = {};
  for (const [centre, leaves] of leavesOf) {
    if (leaves.length < 2 || blockOf.has(centre)) continue;
    const holder = holderOfBlock.get(centre);
    const offsets = ringOffsets(leaves.length + (holder ? 1 : 0));
    if (holder) {
      const top = offsets.reduce((best, offset, index) =>
        (offset.y < offsets[best].y || (offset.y === offsets[best].y && Math.abs(offset.x) < Math.abs(offsets[best].x)) ? index : best), 0);
      members[centre] = [{ id: holder, ...offsets[top], holder: true }];
      offsets.splice(top, 1);
      blockOf.set(holder, centre);
    } else {
      members[centre] = [];
    }
    members[centre].push(...leaves.map((id, index) => ({ id, ...offsets[index] })));
    for (const id of leaves) blockOf.set(id, centre);
  }
  const graphNodes = nodes.filter((node) => !blockOf.has(node.id)).map((node) => {
    const block = members[node.id];
    if (!block) return { id: node.id, ...CELL };
    if (block[0].holder) {
      // A block with its router is turned later (`turnBlocks`): room for any turn.
      const radius = Math.max(...block.map((leaf) => Math.hypot(leaf.x, leaf.y)));
      return { id: node.id, width: 2 * radius + CELL.width, height: 2 * radius + CELL.height };
    }
    const reach = (axis) => Math.max(...block.map((leaf) => Math.abs(leaf[axis])));
    return { id: node.id, width: 2 * reach("x") + CELL.width, height: 2 * reach("y") + CELL.height };
  });
  const seen = new Set();
  const edges = [];
  for (const { source, target, holder } of pairs) {
    const a = blockOf.get(source) || source;
    const b = blockOf.get(target) || target;
    const key = a < b ? `${a} ${b}` : `${b} ${a}`;
    if (a === b || seen.has(key)) continue;
    seen.add(key);
    edges.push({ source: a, target: b, holder });
  }
  return { nodes: graphNodes, edges, members };
}

/** The bounding box of `boxes` ({x, y, width, height}, centred on x, y). */
export function extent(boxes) {
  const box = { x1: Infinity, y1: Infinity, x2: -Infinity, y2: -Infinity };
  for (const { x, y, width, height } of boxes) {
    box.x1 = Math.min(box.x1, x - width / 2);
    box.x2 = Math.max(box.x2, x + width / 2);
    box.y1 = Math.min(box.y1, y - height / 2);
    box.y2 = Math.max(box.y2, y + height / 2);
  }
  return box;
}

/**
 * Boxes of a picture much wider than high (a chain drawn as a line) cut into strips laid
 * below each other, every other one mirrored, so neighbours stay neighbours; a picture much
 * higher than wide is first turned on its side. Answers new boxes (the input is kept).
 */
export function fold(boxes, aspect = TARGET_ASPECT) {
  if (boxes.length < 3) return boxes;
  let result = boxes.map((box) => ({ ...box }));
  let box = extent(result);
  if (box.y2 - box.y1 > (box.x2 - box.x1) * 1.2) {
    result = result.map((item) => ({ ...item, x: item.y, y: -item.x, width: item.height, height: item.width }));
    box = extent(result);
  }
  const width = box.x2 - box.x1;
  const height = box.y2 - box.y1;
  if (width / height <= aspect * 2) return result;
  const strips = Math.max(1, Math.round(Math.sqrt(width / (aspect * (height + CELL.height)))));
  if (strips < 2) return result;
  const stripWidth = width / strips;
  const pitch = height + CELL.height;
  return result.map((item) => {
    const along = item.x - box.x1;
    const strip = Math.min(strips - 1, Math.floor(along / stripWidth));
    const inStrip = along - strip * stripWidth;
    const x = strip % 2 ? stripWidth - inStrip : inStrip;
    return { ...item, x: box.x1 + x, y: item.y + strip * pitch };
  });
}

/**
 * Boxes moved onto a grid of CELL-sized cells, each to the free cells nearest to where it
 * was (blocks first, as they need most room), so that no two overlap and spacing is even.
 * Deterministic; answers new boxes in the same order.
 */
export function separate(boxes) {
  const taken = new Set();
  const spans = boxes.map((box) => ({
    columns: Math.max(1, Math.ceil(box.width / CELL.width)),
    rows: Math.max(1, Math.ceil(box.height / CELL.height)),
  }));
  const order = boxes.map((box, index) => index)
    .sort((a, b) => spans[b].columns * spans[b].rows - spans[a].columns * spans[a].rows || a - b);
  const result = new Array(boxes.length);
  const free = (column, row, span) => {
    for (let i = 0; i < span.columns; i += 1) {
      for (let j = 0; j < span.rows; j += 1) if (taken.has(`${column + i},${row + j}`)) return false;
    }
    return true;
  };
  for (const index of order) {
    const box = boxes[index];
    const span = spans[index];
    const column = Math.round((box.x - (span.columns * CELL.width) / 2) / CELL.width);
    const row = Math.round((box.y - (span.rows * CELL.height) / 2) / CELL.height);
    let spot = null;
    for (let ring = 0; !spot; ring += 1) {
      const candidates = [];
      for (let di = -ring; di <= ring; di += 1) {
        for (let dj = -ring; dj <= ring; dj += 1) {
          if (Math.max(Math.abs(di), Math.abs(dj)) === ring) candidates.push([di, dj]);
        }
      }
      candidates.sort((a, b) => a[0] ** 2 + a[1] ** 2 - b[0] ** 2 - b[1] ** 2 || a[1] - b[1] || a[0] - b[0]);
      spot = candidates.find(([di, dj]) => free(column + di, row + dj, span)) || null;
    }
    const [di, dj] = spot;
    for (let i = 0; i < span.columns; i += 1) {
      for (let j = 0; j < span.rows; j += 1) taken.add(`${column + di + i},${row + dj + j}`);
    }
    result[index] = { ...box, x: (column + di + span.columns / 2) * CELL.width,
      y: (row + dj + span.rows / 2) * CELL.height };
  }
  return result;
}

/**
 * The blocks' members turned about their centre so that each block's router faces the
 * nodes its block is linked to (its link then leaves the block instead of crossing it).
 * `at` maps the graph's node ids to their places; answers a new members map.
 */
export function turnBlocks(graph, at) {
  const members = {};
  for (const [centre, block] of Object.entries(graph.members)) {
    members[centre] = block;
    const holder = block[0];
    if (!holder.holder) continue;
    const others = graph.edges.filter((edge) => edge.source === centre || edge.target === centre)
      .map((edge) => at[edge.source === centre ? edge.target : edge.source]);
    if (!others.length) continue;
    const here = at[centre];
    const dx = others.reduce((sum, p) => sum + p.x, 0) / others.length - here.x;
    const dy = others.reduce((sum, p) => sum + p.y, 0) / others.length - here.y;
    if (!dx && !dy) continue;
    const turn = Math.atan2(dy, dx) - Math.atan2(holder.y, holder.x);
    const cos = Math.cos(turn);
    const sin = Math.sin(turn);
    members[centre] = block.map((leaf) => ({ ...leaf,
      x: Math.round(leaf.x * cos - leaf.y * sin), y: Math.round(leaf.x * sin + leaf.y * cos) }));
  }
  return members;
}

/** Run fcose on the graph, seeded; answers {id: {x, y}} for the graph's nodes. */
function runEngine(cytoscape, graph) {
  const elements = [
    ...graph.nodes.map(({ id, width, height }) => ({ data: { id, width, height } })),
    ...graph.edges.map(({ source, target, holder }, index) => ({
      data: { id: `e${index}`, source, target, length: holder ? 40 : 90 } })),
  ];
  const cy = cytoscape({ headless: true, styleEnabled: true, elements,
    style: [{ selector: "node", style: { width: "data(width)", height: "data(height)" } }] });
  const random = Math.random;
  Math.random = seededRandom();
  const draft = graph.nodes.length > REFINE_LIMIT;
  try {
    cy.layout({
      name: "fcose", animate: false, fit: false, randomize: true,
      quality: draft ? "draft" : "default",
      // Greedy sampling for the spectral draft: measured about twice as fast as random
      // sampling on a chain of 500.
      samplingType: !draft,
      nodeDimensionsIncludeLabels: false, packComponents: true, tile: true,
      nodeSeparation: 90, idealEdgeLength: (edge) => edge.data("length"), nodeRepulsion: 12000,
    }).run();
  } finally {
    Math.random = random;
  }
  const positions = {};
  cy.nodes().forEach((node) => { positions[node.id()] = { ...node.position() }; });
  cy.destroy();
  return positions;
}

/**
 * Positions {id: {x, y}} for the nodes `only` (default: all) of `doc`, laid out among
 * themselves, the top left of the picture at `origin`. `cytoscape` is the Cytoscape.js
 * factory with fcose registered (the page's global one by default).
 */
export function computePositions(doc, { only = null, origin = { x: MARGIN, y: MARGIN },
  cytoscape = globalThis.cytoscape } = {}) {
  const graph = layoutGraph(doc, only);
  if (!graph.nodes.length) return {};
  const engine = graph.nodes.length === 1 ? { [graph.nodes[0].id]: { x: 0, y: 0 } } : runEngine(cytoscape, graph);
  const boxes = separate(fold(graph.nodes.map((node) => ({ ...node, ...engine[node.id] }))));
  const box = extent(boxes);
  const positions = {};
  const place = (id, x, y) => {
    positions[id] = { x: Math.round(x - box.x1 + origin.x), y: Math.round(y - box.y1 + origin.y) };
  };
  const members = turnBlocks(graph, Object.fromEntries(graph.nodes.map((node, index) => [node.id, boxes[index]])));
  graph.nodes.forEach((node, index) => {
    const { x, y } = boxes[index];
    place(node.id, x, y);
    for (const leaf of members[node.id] || []) place(leaf.id, x + leaf.x, y + leaf.y);
  });
  return positions;
}
