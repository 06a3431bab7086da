// Unit tests of the live lab's client side: the picture built from websocket events
// (static/netlab/editor/live-state.js) and the reconnecting socket (socket.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { LiveState, nodesNamedIn, pingTargets, plannedInterfaces } from "../../static/netlab/editor/live-state.js";
import { BACKOFF_FIRST_MS, BACKOFF_MAX_MS, LabSocket, backoffDelay, labUrl } from "../../static/netlab/editor/socket.js";

const bridge = () => ({
  format: "netlab/v1", name: "tutorial-2-bridge",
  nodes: [
    { id: "host", kind: "host" },
    { id: "v-net-0", kind: "bridge", in: "host", addresses: ["192.168.15.5/24"] },
    { id: "red", kind: "namespace" },
    { id: "blue", kind: "namespace" },
  ],
  links: [
    { endpoints: [{ node: "red", interface: "veth-red", addresses: ["192.168.15.1/24"] }, { node: "v-net-0", interface: "veth-red-br" }] },
    { endpoints: [{ node: "blue", interface: "veth-blue", addresses: ["192.168.15.2/24"] }, { node: "v-net-0", interface: "veth-blue-br" }] },
  ],
});

const deployment = (state, fields = {}) => ({ type: "deployment", deployment: 12, tag: "k3x9qa", state, error: "", namespaces: {}, ...fields });
const step = (index, outcome, fields = {}) => ({ type: "step", deployment: 12, action: "deploy", index, total: 3,
  description: `step ${index}`, shell: "ip netns add x", outcome, duration_ms: outcome === "started" ? null : 1.5, error: null, ...fields });
const neighbours = (node, entries) => ({ type: "neighbours", node, netns: `netlab-k3x9qa-${node}`, entries });
const entry = (address, mac) => ({ address, mac, interface: "veth-red", state: "REACHABLE" });

test("a deployment event is the current state: a newer one replaces an older one", () => {
  const live = new LiveState();
  assert.equal(live.state, "not deployed");
  const changed = live.apply(deployment("queued"));
  assert.ok(changed.includes("deployment") && changed.includes("steps"));
  live.apply(deployment("deploying"));
  live.apply(deployment("destroying"));
  live.apply(deployment("destroying"));
  assert.equal(live.state, "destroying");
});

test("a step is recorded once per action and index, its latest outcome winning", () => {
  const live = new LiveState();
  live.apply(deployment("deploying"));
  live.apply(step(1, "started"));
  live.apply(step(1, "done"));
  live.apply(step(2, "started"));
  assert.deepEqual(live.orderedSteps().map((item) => [item.index, item.outcome]), [[1, "done"], [2, "started"]]);
  assert.deepEqual(live.progress(), { action: "deploy", done: 1, total: 3, failed: null, fraction: 1 / 3 });
  live.apply({ ...step(1, "done"), action: "destroy" });
  assert.deepEqual(live.orderedSteps().map((item) => `${item.action}${item.index}`), ["deploy1", "deploy2", "destroy1"]);
});

test("a steps message is each of its steps, in order", () => {
  const live = new LiveState();
  live.apply(deployment("deploying"));
  live.apply(step(3, "started"));
  const changed = live.apply({ type: "steps", deployment: 12, steps: [step(1, "done"), step(2, "done"), step(3, "failed", { error: "File exists" })] });
  assert.deepEqual(changed, ["steps"]);
  assert.deepEqual(live.orderedSteps().map((item) => [item.index, item.outcome]), [[1, "done"], [2, "done"], [3, "failed"]]);
  assert.deepEqual(live.apply({ type: "steps", deployment: 13, steps: [step(4, "done", { deployment: 13 })] }), []);
});

test("steps of another deployment are dropped when it takes the place of the old one", () => {
  const live = new LiveState();
  live.apply(deployment("running"));
  live.apply(step(1, "done"));
  live.apply(deployment("queued", { deployment: 13 }));
  assert.equal(live.orderedSteps().length, 0);
  live.apply(step(1, "done"));  // a late step of deployment 12
  assert.equal(live.orderedSteps().length, 0);
});

test("after a reconnect the resent steps rebuild the log without duplicates", () => {
  const live = new LiveState();
  live.apply(deployment("running"));
  for (const index of [1, 2, 3]) live.apply(step(index, "done"));
  live.reconnecting();
  live.apply(deployment("running"));
  for (const index of [1, 2, 3]) live.apply(step(index, "done"));
  assert.equal(live.orderedSteps().length, 3);
  assert.equal(live.progress().fraction, 1);
});

test("a failed step marks the node it names; a failure naming none marks every node", () => {
  const doc = bridge();
  const live = new LiveState();
  live.apply(deployment("deploying"));
  assert.equal(live.nodeStates(doc).get("red"), "deploying");
  live.apply(step(2, "failed", { description: "add address 192.168.15.2/24 to veth-blue in blue", error: "File exists" }));
  live.apply(deployment("failed", { error: "step 2 failed: File exists" }));
  assert.deepEqual([...live.nodeStates(doc)], [["blue", "failed"]]);
  assert.equal(live.progress().failed.index, 2);
  const other = new LiveState();
  other.apply(deployment("failed", { error: "the engine is not available" }));
  assert.equal(other.nodeStates(doc).size, 4);
});

test("node ids are found as whole words only", () => {
  const doc = { nodes: [{ id: "red", kind: "namespace" }, { id: "v-net-0", kind: "bridge" }, { id: "re", kind: "namespace" }] };
  assert.deepEqual(nodesNamedIn(doc, "enslave veth-red-br to v-net-0"), ["v-net-0"]);
  assert.deepEqual(nodesNamedIn(doc, "create namespace for red"), ["red"]);
});

test("neighbours new since the node's previous table are fresh; the first table is not", () => {
  const live = new LiveState();
  live.apply(deployment("running"));
  live.apply(neighbours("red", [entry("192.168.15.5", "aa:aa:aa:aa:aa:aa")]));
  assert.equal(live.fresh.get("red").size, 0);
  live.apply(neighbours("red", [entry("192.168.15.5", "aa:aa:aa:aa:aa:aa"), entry("192.168.15.2", "5a:1e:0c:43:9b:20")]));
  assert.deepEqual([...live.fresh.get("red")], ["192.168.15.2"]);
  live.apply(neighbours("red", [entry("192.168.15.5", "aa:aa:aa:aa:aa:aa")]));
  assert.equal(live.fresh.get("red").size, 0);
});

test("a tables message is each of its tables, as if each had come alone, in order", () => {
  const live = new LiveState();
  live.apply(deployment("running"));
  const zero = { rx_bytes: 0, tx_bytes: 0, rx_packets: 0, tx_packets: 0 };
  const changed = live.apply({ type: "tables", tables: [
    neighbours("red", [entry("192.168.15.5", "aa:aa:aa:aa:aa:aa")]),
    { type: "links", node: "blue", netns: "b", links: [{ name: "veth-blue", up: true }] },
    { type: "counters", node: "hub", netns: "h", complete: true, interfaces: { p1: zero, p2: zero } },
    { type: "counters", node: "hub", netns: "h", complete: false, interfaces: { p2: { ...zero, rx_bytes: 7 } } },
    { type: "ping.reply", node: "red" }, // not a table: ignored
  ] });
  assert.deepEqual(changed.sort(), ["counters", "links", "neighbours"]);
  assert.equal(live.received, 2);
  assert.equal(live.tables.neighbours.get("red").rows.length, 1);
  assert.equal(live.tables.links.get("blue").netns, "b");
  assert.deepEqual(live.tables.counters.get("hub").rows.map((row) => [row.name, row.rx_bytes]), [["p1", 0], ["p2", 7]]);
  assert.equal(live.ping, null);
});

test("tables go when the lab stops running", () => {
  const live = new LiveState();
  live.apply(deployment("running"));
  live.apply(neighbours("red", []));
  live.apply({ type: "links", node: "red", netns: "x", interfaces: [{ name: "veth-red", up: true }] });
  const changed = live.apply(deployment("destroying"));
  assert.ok(changed.includes("neighbours") && changed.includes("links"));
  assert.equal(live.tables.neighbours.size + live.tables.links.size, 0);
});

test("links are up or down from their interfaces, bridge ports read in the bridge's holder", () => {
  const doc = bridge();
  const live = new LiveState();
  live.apply(deployment("running"));
  assert.equal(live.linkStates(doc).size, 0, "no `links` events: no colour");
  const link = (name, up, state) => ({ name, mac: "aa:bb:cc:dd:ee:ff", state, up, mtu: 1500, addresses: [] });
  live.apply({ type: "links", node: "red", netns: "a", links: [link("veth-red", true, "UP")] });
  live.apply({ type: "links", node: "blue", netns: "b", links: [link("veth-blue", true, "UP")] });
  live.apply({ type: "links", node: "host", netns: "c", links: [link("veth-red-br", true, "UP"), link("veth-blue-br", true, "LOWERLAYERDOWN")] });
  assert.deepEqual([...live.linkStates(doc)], [[0, "up"], [1, "down"]]);
});

test("ping replies stream into the current ping, its summary closes it", () => {
  const live = new LiveState();
  live.apply({ type: "ping.reply", source: "red", target: "blue", seq: 1, rtt_ms: 0.08, from_address: "192.168.15.2", ttl: 64, error: null });
  live.apply({ type: "ping.reply", source: "red", target: "blue", seq: 2, rtt_ms: null, error: "timeout" });
  assert.equal(live.ping.replies.length, 2);
  live.apply({ type: "ping.done", source: "red", target: "blue", sent: 2, received: 1, loss: 50, rtt_min_ms: 0.08, rtt_avg_ms: 0.08, rtt_max_ms: 0.08 });
  assert.equal(live.ping.done.received, 1);
});

test("ping-all cells make a matrix and colour each node by what it reached", () => {
  const live = new LiveState();
  live.apply(deployment("running"));
  const cell = (source, target, address, reachable) => ({ type: "pingall.cell", source, target, address, sent: 1,
    received: reachable ? 1 : 0, loss: reachable ? 0 : 100, rtt_ms: reachable ? 0.05 : null, reachable, error: reachable ? null : "timeout" });
  live.apply(cell("red", "blue", "192.168.15.2", true));
  live.apply(cell("blue", "red", "192.168.15.1", true));
  live.apply(cell("host", "lan", "192.168.1.3", false));
  live.apply({ type: "pingall.done", total: 3, reachable: 2 });
  const matrix = live.matrix();
  assert.deepEqual(matrix.sources, ["red", "blue", "host"]);
  assert.deepEqual(matrix.columns.map((column) => column.address), ["192.168.15.2", "192.168.15.1", "192.168.1.3"]);
  assert.equal(matrix.cell("red", "192.168.15.2").reachable, true);
  assert.equal(matrix.cell("red", "192.168.1.3"), null);
  assert.deepEqual(Object.fromEntries(live.reachability()), { red: "reachable", blue: "reachable", host: "unreachable", lan: "unreachable" });
  live.apply({ type: "pingall.cell", ...cell("red", "blue", "192.168.15.2", true) });
  assert.equal(live.matrix().sources.length, 1, "a new ping-all starts a new matrix");
});

test("the designed interfaces of a node include its bridges and their ports", () => {
  const doc = bridge();
  assert.deepEqual(plannedInterfaces(doc, "red"), [{ name: "veth-red", addresses: ["192.168.15.1/24"], port: null }]);
  assert.deepEqual(plannedInterfaces(doc, "host").map((row) => row.name), ["v-net-0", "veth-red-br", "veth-blue-br"]);
  assert.deepEqual(pingTargets(doc).map((target) => target.address), ["192.168.15.5", "192.168.15.1", "192.168.15.2"]);
});

test("the reconnect backoff doubles up to its cap, jittered down by at most a quarter", () => {
  assert.equal(backoffDelay(0, () => 0), BACKOFF_FIRST_MS);
  assert.equal(backoffDelay(3, () => 0), BACKOFF_FIRST_MS * 8);
  assert.equal(backoffDelay(30, () => 0), BACKOFF_MAX_MS);
  assert.equal(backoffDelay(30, () => 1), BACKOFF_MAX_MS * 0.75);
  assert.equal(labUrl(7, { protocol: "https:", host: "lab.example:8443" }), "wss://lab.example:8443/ws/designs/7/");
});

test("a lost socket reconnects by itself and reports each status", async () => {
  const sockets = [];
  class FakeSocket {
    constructor(url) { this.url = url; this.sent = []; sockets.push(this); }
    send(text) { this.sent.push(text); }
    close() { this.onclose?.(); }
  }
  const statuses = [];
  const events = [];
  const socket = new LabSocket("ws://x/ws/designs/1/", {
    onEvent: (event) => events.push(event), onStatus: (status) => statuses.push(status),
  }, { WebSocketClass: FakeSocket }).start();
  assert.equal(socket.send({ action: "deploy" }), false, "nothing is sent before the socket opens");
  sockets[0].onopen();
  assert.equal(socket.send({ action: "deploy" }), true);
  sockets[0].onmessage({ data: '{"type": "deployment", "state": "queued"}' });
  sockets[0].onmessage({ data: "not json" });
  assert.deepEqual(events, [{ type: "deployment", state: "queued" }]);
  sockets[0].onclose();
  assert.equal(socket.status, "lost");
  socket.retryNow();
  assert.equal(sockets.length, 2);
  sockets[1].onopen();
  assert.deepEqual(statuses, ["connecting", "open", "lost", "connecting", "open"]);
  socket.stop();
  assert.equal(sockets.length, 2, "a stopped socket does not come back");
});

test("counters by interface name become rows", () => {
  const live = new LiveState();
  live.apply(deployment("running"));
  live.apply({ type: "counters", node: "red", netns: "a", interfaces: { "veth-red": { rx_bytes: 1, tx_bytes: 2, rx_packets: 3, tx_packets: 4 } } });
  assert.deepEqual(live.tables.counters.get("red").rows, [{ name: "veth-red", rx_bytes: 1, tx_bytes: 2, rx_packets: 3, tx_packets: 4 }]);
});

test("counters that are not complete change only the interfaces they name", () => {
  const live = new LiveState();
  live.apply(deployment("running"));
  const zero = { rx_bytes: 0, tx_bytes: 0, rx_packets: 0, tx_packets: 0 };
  live.apply({ type: "counters", node: "hub", netns: "a", complete: true, interfaces: { p1: zero, p2: zero, p3: zero } });
  live.apply({ type: "counters", node: "hub", netns: "a", complete: false, interfaces: { p2: { ...zero, rx_bytes: 90 } } });
  assert.deepEqual(live.tables.counters.get("hub").rows.map((row) => [row.name, row.rx_bytes]),
    [["p1", 0], ["p2", 90], ["p3", 0]]);
  // a complete one replaces them all (an interface went)
  live.apply({ type: "counters", node: "hub", netns: "a", complete: true, interfaces: { p1: zero } });
  assert.deepEqual(live.tables.counters.get("hub").rows.map((row) => row.name), ["p1"]);
});

test("of two messages about one deployment, the later `updated` is the current one", () => {
  const live = new LiveState();
  live.apply(deployment("destroying", { updated: "2026-01-01T10:00:00.000002+00:00" }));
  assert.deepEqual(live.apply(deployment("running", { updated: "2026-01-01T10:00:00.000001+00:00" })), []);
  assert.equal(live.state, "destroying");
  live.apply(deployment("stopped", { updated: "2026-01-01T10:00:01.000000+00:00" }));
  assert.equal(live.state, "stopped");
});
