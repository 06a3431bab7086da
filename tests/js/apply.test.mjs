// Unit tests of the page's live changes (static/netlab/editor/apply-panel.js) and of the live
// state during and after one (live-state.js): when Apply is offered, which nodes a plan
// touches, and the progress of an apply's steps.
import assert from "node:assert/strict";
import { test } from "node:test";

import { applicable, touchedNodes } from "../../static/netlab/editor/apply-panel.js";
import { LiveState } from "../../static/netlab/editor/live-state.js";

const doc = {
  format: "netlab/v1", name: "lab",
  nodes: [{ id: "host", kind: "host" }, { id: "red", kind: "namespace" }, { id: "blue", kind: "namespace" },
    { id: "red-2", kind: "namespace" }],
  links: [],
};
const deployment = (state, fields = {}) => ({ type: "deployment", deployment: 12, tag: "k3x9qa", state,
  error: "", namespaces: { red: "netlab-k3x9qa-1" }, updated: "2026-12-06T10:00:00.000000+00:00",
  destroyable: true, revision: 1, applying_revision: null, ...fields });

test("Apply is offered only for a running lab of an older saved revision", () => {
  assert.equal(applicable(deployment("running"), 2), true);
  assert.equal(applicable(deployment("running"), 1), false);
  assert.equal(applicable(deployment("applying", { applying_revision: 2 }), 2), false);
  assert.equal(applicable(deployment("failed"), 2), false);
  assert.equal(applicable({ state: "not deployed", revision: null }, 2), false);
});

test("a plan touches the nodes its steps name, as whole words", () => {
  const plan = { revision: 2, recreated: [], steps: [
    { description: "route 10.9.0.0/16 via 192.168.15.2 in red", shell: [] },
    { description: "address 10.0.0.1/24 on bridge v-net-0", shell: [] },
  ] };
  assert.deepEqual([...touchedNodes(doc, plan)], ["red"]);
  assert.deepEqual([...touchedNodes(doc, { ...plan, steps: [] })], []);
});

test("an applying lab keeps its tables, and its progress counts the apply's steps", () => {
  const live = new LiveState();
  live.apply(deployment("running"));
  live.apply({ type: "routes", node: "red", netns: "netlab-k3x9qa-1", routes: [{ to: "default" }] });
  const changed = live.apply(deployment("applying", { applying_revision: 2, updated: "2026-12-06T10:00:01.000000+00:00" }));
  assert.ok(!changed.includes("routes"));
  assert.equal(live.tables.routes.get("red").rows.length, 1);
  live.apply({ type: "steps", deployment: 12, steps: [
    { type: "step", deployment: 12, action: "apply", index: 1, total: 2, description: "route x in red",
      shell: "ip route add x", outcome: "done", duration_ms: 0.2, error: null },
  ] });
  assert.deepEqual(live.progress().action, "apply");
  assert.equal(live.progress().done, 1);
  assert.equal(live.progress().total, 2);
  live.apply(deployment("running", { revision: 2, updated: "2026-12-06T10:00:02.000000+00:00" }));
  assert.equal(live.progress().action, "apply");
  assert.equal(live.orderedSteps().at(-1).action, "apply");
});

test("a lesson's step comes from the URL, within its steps, under the design's name", async () => {
  const { stepDocument, stepFromUrl } = await import("../../static/netlab/editor/lesson-panel.js");
  assert.equal(stepFromUrl("?step=2", 4), 2);
  assert.equal(stepFromUrl("?step=9", 4), 4);
  assert.equal(stepFromUrl("?step=-1", 4), 0);
  assert.equal(stepFromUrl("?step=x", 4), 0);
  assert.equal(stepFromUrl("", 4), 0);
  const step = { number: 2, document: { format: "netlab/v1", name: "tutorial-2-bridge", nodes: [], links: [] } };
  const made = stepDocument(step, "tutorial-lesson");
  assert.equal(made.name, "tutorial-lesson");
  assert.equal(step.document.name, "tutorial-2-bridge"); // the step itself is not changed
});

test("a fix is the same document change the server describes, and a path lists its nodes", async () => {
  const { applyFix, pathNodes } = await import("../../static/netlab/editor/explain-panel.js");
  const design = { format: "netlab/v1", name: "lab", nodes: [{ id: "r", kind: "namespace" }], links: [] };
  assert.equal(applyFix(design, { op: "set-forwarding", node: "r", value: true }).nodes[0].forwarding, true);
  assert.deepEqual(applyFix(design, { op: "add-route", node: "r", route: { to: "default", via: "10.0.0.1" } }).nodes[0].routes,
    [{ to: "default", via: "10.0.0.1" }]);
  assert.deepEqual(applyFix(design, { op: "add-nat", node: "r", nat: { source: "10.0.0.0/24" } }).nodes[0].nat,
    [{ source: "10.0.0.0/24" }]);
  assert.deepEqual(applyFix(design, { op: "add-service", node: "r", service: { kind: "tcp", port: 7 } }).nodes[0].services,
    [{ kind: "tcp", port: 7 }]);
  assert.equal(design.nodes[0].forwarding, undefined); // the original is not changed
  assert.throws(() => applyFix(design, { op: "reboot", node: "r" }), /unknown change/);
  assert.throws(() => applyFix(design, { op: "set-forwarding", node: "x", value: true }), /no node x/);
  const answer = { hops: [{ node: "a", ok: true }, { node: "r", ok: true }, { node: "b", ok: true }],
    reply: [{ node: "b", ok: false }] };
  assert.deepEqual([...pathNodes(answer).nodes], ["a", "r", "b"]);
  assert.equal(pathNodes(answer).stops, "b");
});

test("a capture's interfaces, its link, and the pcap of what it saw", async () => {
  const { interfacesOf, linkOf, pcapOf } = await import("../../static/netlab/editor/capture-panel.js");
  const doc = {
    format: "netlab/v1", name: "lab",
    nodes: [{ id: "host", kind: "host" }, { id: "v-net-0", kind: "bridge" }, { id: "red", kind: "namespace" }],
    links: [{ endpoints: [{ node: "red", interface: "veth-red" }, { node: "v-net-0", interface: "veth-red-br" }] }],
  };
  assert.deepEqual(interfacesOf(doc, "red"), ["lo", "veth-red"]);
  assert.deepEqual(interfacesOf(doc, "host"), ["lo", "v-net-0", "veth-red-br"]);
  assert.deepEqual(interfacesOf(doc, "v-net-0"), []);
  assert.deepEqual(linkOf(doc, "red", "veth-red"), { index: 0, end: 0 });
  assert.deepEqual(linkOf(doc, "v-net-0", "veth-red-br"), { index: 0, end: 1 });
  assert.equal(linkOf(doc, "red", "eth9"), null);
  const frame = Uint8Array.from([1, 2, 3, 4]);
  const bytes = pcapOf([{ time: 1700000000.25, length: 60, data: btoa(String.fromCharCode(...frame)) }]);
  const view = new DataView(bytes.buffer);
  assert.equal(view.getUint32(0, true), 0xa1b2c3d4);
  assert.equal(view.getUint32(20, true), 1); // Ethernet
  assert.equal(view.getUint32(24, true), 1700000000);
  assert.equal(view.getUint32(28, true), 250000);
  assert.equal(view.getUint32(32, true), 4); // bytes kept
  assert.equal(view.getUint32(36, true), 60); // the frame's whole length
  assert.deepEqual([...bytes.slice(40)], [1, 2, 3, 4]);
});

test("the console completes node names, interfaces and addresses", async () => {
  const { completions } = await import("../../static/netlab/editor/console-panel.js");
  const { complete } = await import("../../static/netlab/editor/console-line.js");
  const doc = {
    format: "netlab/v1", name: "lab",
    nodes: [{ id: "host", kind: "host" }, { id: "red", kind: "namespace" }, { id: "blue", kind: "namespace" }],
    links: [{ endpoints: [{ node: "red", interface: "veth-red", addresses: ["192.168.15.1/24"] },
      { node: "blue", interface: "veth-blue", addresses: ["192.168.15.2/24"] }] }],
  };
  const words = completions(doc, "red");
  assert.ok(words.includes("blue") && words.includes("veth-red") && words.includes("192.168.15.2"));
  assert.ok(!words.includes("veth-blue")); // another node's interface
  assert.equal(complete("ping bl", words), "ping blue ");
  assert.equal(complete("ping 192.168.15.", words), "ping 192.168.15.");
  assert.equal(complete("ip a show dev veth-r", words), "ip a show dev veth-red ");
  assert.equal(complete("ping zz", words), "ping zz");
});
