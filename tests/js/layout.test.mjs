// Unit tests of the layout adapter (static/netlab/editor/layout.js): the graph it hands to
// fcose, its tidying, and the real engine's answers for the designs of issue 18.
import assert from "node:assert/strict";
import { test } from "node:test";

import "./engine.mjs";
import * as layout from "../../static/netlab/editor/layout.js";
import { campus, chain, star } from "./designs.mjs";
import { quality } from "./layout-quality.mjs";

const overlapping = (boxes) => boxes.some((a, i) => boxes.slice(i + 1).some((b) =>
  Math.abs(a.x - b.x) < (a.width + b.width) / 2 && Math.abs(a.y - b.y) < (a.height + b.height) / 2));

test("a bridge's hosts and its router become one block with it", () => {
  const graph = layout.layoutGraph(campus());
  assert.deepEqual(graph.nodes.map((node) => node.id), ["host", "core", "access1", "access2", "access3", "access4"]);
  const block = graph.members.access1;
  assert.deepEqual(block.map((leaf) => leaf.id),
    ["r1", ...Array.from({ length: 13 }, (_, index) => `h1-${index + 1}`)]);
  assert.ok(block[0].holder && block.slice(1).every((leaf) => !leaf.holder));
  assert.ok(block.every((leaf) => leaf.y >= block[0].y), "the router on top of its bridge");
  assert.equal(graph.members.core, undefined, "routers hold a bridge: they are not leaves");
  const node = graph.nodes.find((each) => each.id === "access1");
  assert.ok(node.width > layout.CELL.width * 3 && node.height > layout.CELL.height * 3);
  assert.deepEqual(graph.edges.map((edge) => [edge.source, edge.target, edge.holder]),
    [["access1", "core", false], ["access2", "core", false], ["access3", "core", false],
      ["access4", "core", false], ["host", "core", true]], "one edge per pair of blocks");
});

test("a block is turned so that its router faces what the block is linked to", () => {
  const graph = layout.layoutGraph(campus());
  const at = Object.fromEntries(graph.nodes.map((node) => [node.id, { x: 0, y: 0 }]));
  at.core = { x: 1000, y: 0 };
  const turned = layout.turnBlocks(graph, at).access1;
  const router = turned[0];
  assert.equal(router.id, "r1");
  assert.ok(router.x > 0 && Math.abs(router.y) < 2, JSON.stringify(router));
  const distance = (leaf) => Math.hypot(leaf.x, leaf.y);
  assert.deepEqual(turned.map((leaf) => Math.round(distance(leaf))),
    graph.members.access1.map((leaf) => Math.round(distance(leaf))), "a turn keeps every distance");
  assert.equal(layout.turnBlocks(graph, { ...at, core: { x: 0, y: 0 } }).access1,
    graph.members.access1, "nothing to face: left as it is");
});

test("a bridge without hosts stays tied to its holder by a holder edge", () => {
  const doc = { nodes: [{ id: "host", kind: "host" }, { id: "r", kind: "namespace" },
    { id: "br", kind: "bridge", in: "r" }], links: [{ endpoints: [{ node: "host" }, { node: "r" }] }] };
  assert.deepEqual(layout.layoutGraph(doc).edges, [
    { source: "host", target: "r", holder: false }, { source: "r", target: "br", holder: true }]);
});

test("a single leaf, and a pair linked only to each other, stay plain nodes", () => {
  const doc = { nodes: [{ id: "host", kind: "host" }, { id: "a", kind: "namespace" },
    { id: "b", kind: "namespace" }, { id: "lan", kind: "namespace" }],
  links: [{ endpoints: [{ node: "a" }, { node: "b" }] }, { endpoints: [{ node: "host" }, { node: "lan" }] }] };
  const graph = layout.layoutGraph(doc);
  assert.deepEqual(graph.nodes.map((node) => node.id), ["host", "a", "b", "lan"]);
  assert.deepEqual(graph.members, {});
  assert.deepEqual(layout.layoutGraph(doc, ["a", "b"]).edges, [{ source: "a", target: "b", holder: false }]);
});

test("ring offsets never put two leaves in one cell", () => {
  for (const count of [2, 3, 13, 100]) {
    const boxes = layout.ringOffsets(count).map((p) => ({ ...p, width: 60, height: 50 }));
    assert.equal(boxes.length, count);
    assert.ok(!overlapping(boxes), `${count} leaves`);
  }
  assert.ok(layout.ringOffsets(3).every((p) => p.y > 0), "a few leaves hang below their centre");
});

test("the seeded generator repeats itself and stays in [0, 1)", () => {
  const a = layout.seededRandom(7);
  const b = layout.seededRandom(7);
  const values = Array.from({ length: 100 }, () => a());
  assert.deepEqual(values, Array.from({ length: 100 }, () => b()));
  assert.ok(values.every((value) => value >= 0 && value < 1));
  assert.notDeepEqual(values.slice(0, 3), [layout.seededRandom(8)(), 0, 0]);
});

test("a long line is folded into rows, neighbours kept near, and a tall one turned", () => {
  const line = Array.from({ length: 60 }, (_, index) => ({ x: index * 100, y: 0, width: 40, height: 40 }));
  const folded = layout.fold(line);
  const box = layout.extent(folded);
  const aspect = (box.x2 - box.x1) / (box.y2 - box.y1);
  assert.ok(aspect > 0.8 && aspect < 3.5, `aspect ${aspect}`);
  for (let index = 1; index < folded.length; index += 1) {
    const step = Math.hypot(folded[index].x - folded[index - 1].x, folded[index].y - folded[index - 1].y);
    assert.ok(step < 300, `step ${index}: ${step}`);
  }
  const tall = line.map(({ x, y, width, height }) => ({ x: y, y: x, width, height }));
  const turned = layout.extent(layout.fold(tall));
  assert.ok(turned.x2 - turned.x1 >= turned.y2 - turned.y1);
  assert.equal(layout.fold(line.slice(0, 2)).length, 2);
});

test("separate puts overlapping boxes on free grid cells, near where they were", () => {
  const boxes = [{ x: 0, y: 0, width: 300, height: 300 }, { x: 10, y: 10, width: 40, height: 40 },
    { x: 12, y: 8, width: 40, height: 40 }, { x: 1000, y: 0, width: 40, height: 40 }];
  const result = layout.separate(boxes);
  assert.ok(!overlapping(result));
  assert.equal(result.length, 4);
  assert.ok(Math.abs(result[3].x - 1000) < layout.CELL.width);
  assert.deepEqual(layout.separate(boxes), result);
});

for (const [name, doc, maxAspect] of [["campus", campus(), 2], ["star-500", star(500), 2], ["chain-500", chain(500), 2.5]]) {
  test(`fcose through the adapter: ${name} is compact, without overlaps and stable`, () => {
    const positions = layout.computePositions(doc);
    assert.deepEqual(Object.keys(positions).sort(), doc.nodes.map((node) => node.id).sort());
    const measured = quality(doc, positions);
    assert.equal(measured.overlaps, 0);
    assert.ok(measured.aspect < maxAspect && measured.aspect > 1 / maxAspect, `aspect ${measured.aspect}`);
    assert.equal(measured.nearestOwn, measured.hosts, "every host nearest its own bridge");
    assert.ok(Object.values(positions).every(({ x, y }) => Number.isInteger(x) && Number.isInteger(y)));
    assert.deepEqual(layout.computePositions(doc), positions, "laying out twice changes nothing");
  });
}

test("the campus puts each router next to its access bridge", () => {
  const positions = layout.computePositions(campus());
  for (let r = 1; r <= 4; r += 1) {
    const router = positions[`r${r}`];
    const distance = (id) => Math.hypot(positions[id].x - router.x, positions[id].y - router.y);
    const own = distance(`access${r}`);
    for (let other = 1; other <= 4; other += 1) {
      if (other !== r) assert.ok(own < distance(`access${other}`), `r${r}: access${other} nearer`);
    }
  }
});
