// Unit tests of the editor's document model (static/netlab/editor/model.js): node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import "./engine.mjs";
import * as model from "../../static/netlab/editor/model.js";
import { History } from "../../static/netlab/editor/history.js";

const empty = () => ({ format: "netlab/v1", name: "lab", nodes: [{ id: "host", kind: "host" }] });

function bridgeLab() {
  let doc = empty();
  doc = model.addNode(doc, "bridge", { x: 0, y: 0 }).doc;
  doc = model.updateNode(doc, "v-net-0", { in: "host", addresses: ["192.168.15.5/24"] });
  doc = model.addNode(doc, "namespace", null, { id: "red" }).doc;
  doc = model.addNode(doc, "namespace", null, { id: "blue" }).doc;
  return doc;
}

test("new nodes get the first free name of their kind", () => {
  let doc = empty();
  const names = [];
  for (const kind of ["namespace", "namespace", "bridge", "bridge"]) {
    const added = model.addNode(doc, kind, { x: 1.4, y: 2.6 });
    doc = added.doc;
    names.push(added.id);
  }
  assert.deepEqual(names, ["ns1", "ns2", "v-net-0", "v-net-1"]);
  assert.deepEqual(doc.nodes[1], { id: "ns1", kind: "namespace", position: { x: 1, y: 3 } });
  doc = model.removeElements(doc, ["ns1"]).doc;
  assert.equal(model.addNode(doc, "namespace").id, "ns1");
});

test("a link to an addressed bridge follows the tutorial: names and the next free address", () => {
  let doc = bridgeLab();
  doc = model.addLink(doc, "red", "v-net-0").doc;
  doc = model.addLink(doc, "blue", "v-net-0").doc;
  assert.deepEqual(doc.links, [
    { endpoints: [{ node: "red", interface: "veth-red", addresses: ["192.168.15.1/24"] },
      { node: "v-net-0", interface: "veth-red-br" }] },
    { endpoints: [{ node: "blue", interface: "veth-blue", addresses: ["192.168.15.2/24"] },
      { node: "v-net-0", interface: "veth-blue-br" }] },
  ]);
});

test("interface names stay unique in their namespace and fit 15 bytes", () => {
  let doc = bridgeLab();
  doc = model.addLink(doc, "red", "blue").doc;
  doc = model.addLink(doc, "red", "blue").doc;
  assert.deepEqual(doc.links.map((link) => link.endpoints.map((end) => end.interface)),
    [["veth-red", "veth-blue"], ["veth-red-2", "veth-blue-2"]]);
  doc = model.addNode(doc, "namespace", null, { id: "a-very-long-node-name" }).doc;
  doc = model.addLink(doc, "a-very-long-node-name", "v-net-0").doc;
  for (const end of doc.links[2].endpoints) assert.ok(end.interface.length <= 15, end.interface);
});

test("the next free address skips used ones, the network and the broadcast", () => {
  let doc = bridgeLab();
  assert.equal(model.nextFreeAddress(doc, "v-net-0"), "192.168.15.1/24");
  doc = model.updateNode(doc, "v-net-0", { addresses: ["10.0.0.1/30"] });
  assert.equal(model.nextFreeAddress(doc, "v-net-0"), "10.0.0.2/30");
  doc = model.addLink(doc, "red", "v-net-0").doc;
  assert.equal(model.nextFreeAddress(doc, "v-net-0"), null);
  doc = model.updateNode(doc, "v-net-0", { addresses: [] });
  assert.equal(model.nextFreeAddress(doc, "v-net-0"), "10.0.0.1/30");  // from a port's subnet
});

test("renaming a node follows its links, its bridges and its default interface names", () => {
  let doc = bridgeLab();
  doc = model.addLink(doc, "red", "v-net-0").doc;
  doc = model.updateNode(doc, "red", { id: "green" });
  assert.deepEqual(doc.links[0].endpoints.map((end) => [end.node, end.interface]),
    [["green", "veth-green"], ["v-net-0", "veth-green-br"]]);
  doc = model.updateNode(doc, "host", { id: "gw" });
  assert.equal(model.findNode(doc, "v-net-0").in, "gw");
});

test("the host cannot be removed; removing a node removes its links", () => {
  let doc = model.addLink(bridgeLab(), "red", "v-net-0").doc;
  const { doc: after, kept } = model.removeElements(doc, ["host", "v-net-0"]);
  assert.deepEqual(kept, ["host"]);
  assert.deepEqual(after.nodes.map((node) => node.id), ["host", "red", "blue"]);
  assert.equal(after.links, undefined);
});

test("paste gives fresh names, keeps inner links and drops addresses", () => {
  let doc = model.addLink(bridgeLab(), "red", "v-net-0").doc;
  const clipboard = model.copyElements(doc, ["host", "red", "v-net-0"]);
  assert.deepEqual(clipboard.nodes.map((node) => node.id), ["v-net-0", "red"]);
  doc = model.pasteElements(doc, clipboard).doc;
  assert.deepEqual(doc.nodes.slice(-2).map((node) => node.id), ["v-net-1", "ns1"]);
  assert.equal(doc.nodes.at(-2).addresses, undefined);
  assert.deepEqual(doc.links[1], { endpoints: [{ node: "ns1", interface: "veth-ns1" },
    { node: "v-net-1", interface: "veth-ns1-br" }] });
});

test("the default route goes via the bridge's address on the node's subnet", () => {
  let doc = model.addLink(bridgeLab(), "red", "v-net-0").doc;
  assert.equal(model.gatewayFor(doc, "red"), "192.168.15.5");
  assert.equal(model.gatewayFor(doc, "blue"), null);
  doc = model.setDefaultRoute(doc, "red", "192.168.15.5");
  doc = model.setDefaultRoute(doc, "red", "192.168.15.5");
  assert.deepEqual(model.findNode(doc, "red").routes, [{ to: "default", via: "192.168.15.5" }]);
});

test("problem paths point at their element and field", () => {
  const doc = model.addLink(bridgeLab(), "red", "v-net-0").doc;
  assert.deepEqual(model.targetOfPath(doc, "nodes[2].routes[0].via"),
    { kind: "node", id: "red", index: 2, field: "routes[0].via" });
  assert.deepEqual(model.targetOfPath(doc, "links[0].endpoints[1].addresses[0]"),
    { kind: "link", index: 0, field: "endpoints[1].addresses[0]" });
  assert.deepEqual(model.targetOfPath(doc, "name"), { kind: "design", field: "name" });
  assert.deepEqual(model.targetOfPath(doc, "nodes[9].id"), { kind: "design", field: "nodes[9].id" });
});

test("nodes without a position are laid out below the placed ones, the placed ones kept", () => {
  const lab = bridgeLab();
  const doc = model.withPositions(lab);
  assert.deepEqual(doc.nodes[1].position, { x: 0, y: 0 });
  for (const node of doc.nodes.filter((each) => each.id !== "v-net-0")) {
    assert.ok(node.position.y >= 2 * 84, `${node.id} at ${JSON.stringify(node.position)}`);
  }
  assert.equal(model.withPositions(doc), doc);
  assert.deepEqual(model.withPositions(lab), doc);
});

test("moves keep unchanged nodes' identity, and a move to the same place changes nothing", () => {
  const doc = model.withPositions(bridgeLab());
  const moved = model.moveNodes(doc, { red: { x: 5, y: 6 } });
  assert.equal(moved.nodes[0], doc.nodes[0]);
  assert.notEqual(moved.nodes[2], doc.nodes[2]);
  assert.equal(model.moveNodes(moved, { red: { x: 5, y: 6 } }), moved);
});

test("the history undoes and redoes, merges typing and knows what was saved", () => {
  const history = new History({ step: 0 });
  const first = { step: 1 };
  history.push(first, "one");
  history.push({ step: 2 }, "type", "field");
  history.push({ step: 3 }, "type", "field");
  assert.equal(history.past.length, 2);
  assert.equal(history.undo(), "type");
  assert.equal(history.present, first);
  history.markSaved();
  assert.equal(history.isDirty(), false);
  assert.equal(history.redo(), "type");
  assert.equal(history.isDirty(), true);
  history.undo();
  history.undo();
  assert.deepEqual(history.present, { step: 0 });
  history.push({ step: 4 }, "other");
  assert.equal(history.canRedo(), false);
});

test("documents the canvas cannot show are refused before they are loaded", () => {
  assert.match(model.shapeProblem([]), /mapping/);
  assert.match(model.shapeProblem({ nodes: [{ id: "a", kind: "router" }] }), /kind/);
  assert.equal(model.shapeProblem({ nodes: [{ id: "a", kind: "host" }, { id: "b", kind: "namespace" }, { id: "b", kind: "namespace" }] }),
    "duplicate node id 'b' (nodes 2 and 3): node ids must be unique");
  assert.match(model.shapeProblem({ links: [{ endpoints: [{ node: "a", interface: "x" }] }] }), /two endpoints/);
  assert.equal(model.shapeProblem(bridgeLab()), null);
});
