// Unit tests of the live panel's cheap redraws (a deploy of 1000 namespaces streams 4000
// steps and 4000 tables): the step log patched, not rebuilt (dom.js patchChildren,
// live-tables.js stepEntries), the nodes whose tables changed (live-state.js), and the
// canvas's live marks changed by slices (live-marks.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { patchChildren } from "../../static/netlab/editor/dom.js";
import { sliceMarks } from "../../static/netlab/editor/live-marks.js";
import { LiveState } from "../../static/netlab/editor/live-state.js";
import { SHOWN_STEPS, stepEntries } from "../../static/netlab/editor/live-tables.js";

/** Just enough of an element for patchChildren, counting the moves made in it. */
class FakeList {
  constructor() {
    this.children = [];
    this.moves = 0;
  }

  get firstElementChild() {
    return this.children[0] ?? null;
  }

  insertBefore(child, before) {
    child.remove();
    const index = before ? this.children.indexOf(before) : this.children.length;
    this.children.splice(index, 0, child);
    child.parent = this;
    this.moves += 1;
  }
}

class FakeItem {
  constructor(label) {
    this.label = label;
    this.parent = null;
  }

  get nextElementSibling() {
    const siblings = this.parent.children;
    return siblings[siblings.indexOf(this) + 1] ?? null;
  }

  remove() {
    if (!this.parent) return;
    this.parent.children.splice(this.parent.children.indexOf(this), 1);
    this.parent = null;
  }
}

const step = (index, outcome, action = "deploy") => ({ type: "step", deployment: 12, action, index, total: 1000,
  description: `step ${index}`, shell: "ip netns add x", outcome, duration_ms: 1, error: null });

function patch(list, steps, made) {
  patchChildren(list, stepEntries(steps).map((entry) => ({ ...entry, make: () => {
    made.push(entry.key);
    return new FakeItem(entry.key);
  } })));
  return list.children.map((item) => item.label);
}

test("the step log is patched: only new steps and steps whose event changed are made again", () => {
  const list = new FakeList();
  const made = [];
  const one = step(1, "done");
  const two = step(2, "started");
  assert.deepEqual(patch(list, [one, two], made), ["phase:deploy", "deploy:1", "deploy:2"]);
  const first = list.children[1];
  made.length = 0;
  list.moves = 0;
  assert.deepEqual(patch(list, [one, step(2, "done"), step(3, "started")], made),
    ["phase:deploy", "deploy:1", "deploy:2", "deploy:3"]);
  assert.deepEqual(made, ["deploy:2", "deploy:3"]);
  assert.equal(list.children[1], first);
  assert.equal(list.moves, 2);
});

test("a log longer than SHOWN_STEPS slides: the steps that scroll off go, the kept ones stay", () => {
  const list = new FakeList();
  const made = [];
  const steps = Array.from({ length: SHOWN_STEPS + 10 }, (_, index) => step(index + 1, "done"));
  const labels = patch(list, steps, made);
  assert.equal(labels.length, SHOWN_STEPS + 2);
  assert.deepEqual(labels.slice(0, 3), ["earlier", "phase:deploy", "deploy:11"]);
  const kept = list.children[2];
  made.length = 0;
  const more = [...steps, step(SHOWN_STEPS + 11, "started"), step(1, "started", "destroy")];
  const after = patch(list, more, made);
  assert.deepEqual(after.slice(0, 3), ["earlier", "phase:deploy", "deploy:13"]);
  assert.deepEqual(after.slice(-3), [`deploy:${SHOWN_STEPS + 11}`, "phase:destroy", "destroy:1"]);
  assert.equal(after.length, SHOWN_STEPS + 3);
  // The count of earlier steps changed: its line is made again, with the new steps.
  assert.deepEqual(made, ["earlier", `deploy:${SHOWN_STEPS + 11}`, "phase:destroy", "destroy:1"]);
  assert.equal(kept.parent, null);
  assert.equal(list.children.filter((item) => item.label === "deploy:13").length, 1);
});

test("patchChildren puts kept elements in the wanted order", () => {
  const list = new FakeList();
  const items = (keys) => keys.map((key) => ({ key, value: key, make: () => new FakeItem(key) }));
  patchChildren(list, items(["a", "b", "c", "d"]));
  const [a, b, c, d] = list.children;
  patchChildren(list, items(["d", "b", "e", "a"]));
  assert.deepEqual(list.children.map((item) => item.label), ["d", "b", "e", "a"]);
  assert.deepEqual([list.children[0], list.children[1], list.children[3]], [d, b, a]);
  assert.equal(c.parent, null);
  patchChildren(list, items([]));
  assert.deepEqual(list.children, []);
});

test("the nodes whose tables changed are told once, tables published together or alone", () => {
  const live = new LiveState();
  live.apply({ type: "deployment", deployment: 12, state: "running", namespaces: {} });
  live.apply({ type: "tables", tables: [
    { type: "links", node: "n1", links: [] },
    { type: "routes", node: "n2", routes: [] },
    { type: "nonsense", node: "n3" },
  ] });
  live.apply({ type: "counters", node: "n4", interfaces: {}, complete: true });
  assert.deepEqual([...live.takeChangedNodes()].sort(), ["n1", "n2", "n4"]);
  assert.deepEqual([...live.takeChangedNodes()], []);
});

test("the canvas's live marks change by slices: a frame's restyles, a hub's links counted", () => {
  // A star: the hub first (its 5 links restyled with it), then 5 leaves, then 5 links.
  const items = (state) => [
    { key: "n:br0", mark: state, cost: 6 },
    ...[1, 2, 3, 4, 5].map((index) => ({ key: `n:n${index}`, mark: state, cost: 2 })),
    ...[1, 2, 3, 4, 5].map((index) => ({ key: `e:${index}`, mark: `link ${state === "running" ? "up" : "none"}`, cost: 1 })),
  ];
  const marked = new Map();
  const costOf = (item) => item.cost;
  const taken = (found) => [...found.groups.values()].flat().map((item) => item.key);
  let slice = sliceMarks(items("deploying"), marked, 8, costOf);
  assert.deepEqual(taken(slice), ["n:br0", "n:n1"]);
  assert.equal(slice.more, true);
  slice = sliceMarks(items("deploying"), marked, 8, costOf);
  assert.deepEqual(taken(slice), ["n:n2", "n:n3", "n:n4", "n:n5"]);
  slice = sliceMarks(items("deploying"), marked, 8, costOf);
  assert.deepEqual(taken(slice), ["e:1", "e:2", "e:3", "e:4", "e:5"]);
  assert.equal(slice.more, false);
  assert.deepEqual([...slice.groups.keys()], ["link none"]);
  assert.equal(sliceMarks(items("deploying"), marked, 8, costOf).groups.size, 0);
  // The lab runs: the latest marks are what the next slices take; a hub over the budget
  // takes a frame of its own.
  slice = sliceMarks(items("running"), marked, 4, costOf);
  assert.deepEqual(taken(slice), ["n:br0"]);
  slice = sliceMarks(items("running"), marked, 4, costOf);
  assert.deepEqual(taken(slice), ["n:n1", "n:n2"]);
  assert.deepEqual([...slice.groups.keys()], ["running"]);
});
