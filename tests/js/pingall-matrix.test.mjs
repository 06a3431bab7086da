// Unit tests of the ping-all matrix's reading: its order and its failures-only filter
// (static/netlab/editor/pingall-matrix.js), and the ping-all's life in the LiveState.
import assert from "node:assert/strict";
import { test } from "node:test";

import { LiveState } from "../../static/netlab/editor/live-state.js";
import { compareAddresses, compareNames, matrixView, progressText, SORTS } from "../../static/netlab/editor/pingall-matrix.js";

const cell = (source, target, address, reachable, rtt = 0.05) => ({
  type: "pingall.cell", source, target, address, sent: 1, received: reachable ? 1 : 0, loss: reachable ? 0 : 100,
  rtt_ms: reachable ? rtt : null, reachable, error: reachable ? null : "timeout",
});

// h10 cannot reach r2's segment; h2 reaches everything, slowly; r1 reaches everything.
const cells = [
  cell("h10", "r1", "10.0.0.1", true),
  cell("h10", "h2", "10.0.1.12", true),
  cell("h10", "r2", "10.0.0.2", false),
  cell("h2", "r1", "10.0.0.1", true, 0.9),
  cell("h2", "r2", "10.0.0.2", true, 0.4),
  cell("h2", "h10", "10.0.1.20", true),
  cell("r1", "h2", "10.0.1.12", true),
  cell("r1", "h10", "10.0.1.20", true),
  cell("r1", "r2", "10.0.0.2", false),
];

test("names and addresses sort as a reader expects: h2 before h10, .2 before .12", () => {
  assert.deepEqual(["h10", "h2", "r1", "H3"].sort(compareNames), ["h2", "H3", "h10", "r1"]);
  assert.deepEqual(["10.0.0.12", "10.0.0.2", "fe80::1", "10.0.1.1"].sort(compareAddresses),
    ["10.0.0.2", "10.0.0.12", "10.0.1.1", "fe80::1"]);
});

test("by name: sources and target nodes in natural order", () => {
  const view = matrixView(cells);
  assert.deepEqual(view.sources, ["h2", "h10", "r1"]);
  assert.deepEqual(view.columns.map((column) => column.target), ["h2", "h10", "r1", "r2"]);
  assert.equal(view.cell("h10", "10.0.0.2").reachable, false);
  assert.equal(view.cell("h10", "10.0.1.20"), null, "nobody pings itself");
  assert.equal(view.failed, 2);
  assert.equal(view.measured, 9);
  assert.deepEqual(view.hidden, { sources: 0, columns: 0 });
});

test("most failures first: the failing rows and columns lead, ties by name", () => {
  const view = matrixView(cells, { sort: "failures" });
  assert.deepEqual(view.sources, ["h10", "r1", "h2"]);
  assert.equal(view.columns[0].target, "r2");
});

test("slowest first: by each row's and column's slowest answer", () => {
  const view = matrixView(cells, { sort: "rtt" });
  assert.deepEqual(view.sources, ["h2", "h10", "r1"]);
  assert.deepEqual(view.columns.slice(0, 2).map((column) => column.target), ["r1", "r2"]);
});

test("failures only keeps the rows and columns holding a failure", () => {
  const view = matrixView(cells, { failuresOnly: true });
  assert.deepEqual(view.sources, ["h10", "r1"]);
  assert.deepEqual(view.columns.map((column) => column.address), ["10.0.0.2"]);
  assert.deepEqual(view.hidden, { sources: 1, columns: 3 });
  const green = matrixView(cells.filter((found) => found.reachable), { failuresOnly: true });
  assert.deepEqual([green.sources, green.columns, green.failed], [[], [], 0]);
});

test("every order the dialog offers is one matrixView reads", () => {
  for (const sort of Object.keys(SORTS)) assert.equal(matrixView(cells, { sort }).sources.length, 3);
});

test("progress reads n of N, with what failed so far", () => {
  assert.equal(progressText({ done: 40, total: 3421, reachable: 40 }), "40 of 3421 pairs");
  assert.equal(progressText({ done: 40, total: 3421, reachable: 38 }), "40 of 3421 pairs, 2 unreachable");
  assert.equal(progressText(null), "");
});

test("a ping-all runs from its start to its done; a lab that stops clears every result", () => {
  const live = new LiveState();
  live.apply({ type: "deployment", deployment: 1, tag: "t", state: "running", error: "", namespaces: {}, updated: "1", destroyable: true });
  live.startPingAll();
  assert.equal(live.pingAllRunning, true);
  live.apply({ type: "pingall.progress", done: 0, total: 9, reachable: 0 });
  live.apply({ type: "pingall.cells", cells: cells.slice(0, 3) });
  assert.equal(live.pingall.progress.total, 9);
  assert.equal(live.pingall.cells.size, 3);
  assert.equal(matrixView(live.pingall.cells.values()).failed, 1);
  live.apply({ type: "pingall.done", total: 3, reachable: 2, cancelled: true });
  assert.equal(live.pingAllRunning, false);
  live.apply({ type: "ping.done", source: "h2", target: "r1", sent: 1, received: 1, loss: 0, rtt_min_ms: 1, rtt_avg_ms: 1, rtt_max_ms: 1 });
  live.apply({ type: "probe", source: "h2", address: "10.0.0.1", port: 80, connected: false, connect_ms: null, first_line: null, node: null, error: "refused" });
  const changed = live.apply({ type: "deployment", deployment: 1, tag: "t", state: "stopped", error: "", namespaces: {}, updated: "2", destroyable: false });
  assert.ok(["pingall", "ping", "probe"].every((part) => changed.includes(part)));
  assert.deepEqual([live.pingall, live.ping, live.probe], [null, null, null]);
});

test("a ping-all under way is dropped when the connection goes: the server cancelled it", () => {
  const live = new LiveState();
  live.startPingAll();
  live.apply({ type: "pingall.cells", cells: cells.slice(0, 2) });
  assert.equal(live.reconnecting(), true);
  assert.equal(live.pingall, null);
  live.apply({ type: "pingall.done", total: 2, reachable: 2, cancelled: false });
  assert.equal(live.reconnecting(), false, "a finished ping-all is kept");
  assert.equal(live.pingall.done.total, 2);
});
