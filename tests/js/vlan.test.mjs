// A bridge port's VLANs on its end label, as the canvas draws it; renaming a sub-interface's
// parent in the editor.
import { test } from "node:test";
import assert from "node:assert/strict";

import { endLabel } from "../../static/netlab/graph.js";
import { updateEndpoint } from "../../static/netlab/editor/model.js";

const LABELS = [
  ["a plain port", { interface: "p-red" }, "p-red"],
  ["an access port", { interface: "p-red", vlan: 10 }, "p-red VLAN 10"],
  ["a trunk", { interface: "p-router", trunk: [10, 20] }, "p-router trunk 10,20"],
  ["an empty trunk says nothing", { interface: "p-router", trunk: [] }, "p-router"],
  ["before the addresses", { interface: "eth0", vlan: 1, addresses: ["10.0.0.1/24"] }, "eth0 VLAN 1 10.0.0.1/24"],
];

for (const [name, end, expected] of LABELS) {
  test(`end label: ${name}`, () => assert.equal(endLabel(end), expected));
}

// Renaming a sub-interface's parent (a link end) in the editor takes the sub-interfaces along.

function stick() {
  return {
    format: "netlab/v1", name: "stick",
    nodes: [
      { id: "host", kind: "host" },
      { id: "br0", kind: "bridge", vlan_filtering: true },
      { id: "router", kind: "namespace", forwarding: true,
        routes: [{ to: "10.9.0.0/16", dev: "eth0.10" }, { to: "10.8.0.0/16", dev: "eth0" }],
        subinterfaces: [
          { parent: "eth0", vlan: 10, addresses: ["10.0.10.1/24"] },
          { parent: "eth0", vlan: 20, name: "to-blue", addresses: ["10.0.20.1/24"] },
        ] },
      { id: "other", kind: "namespace" },
    ],
    links: [
      { endpoints: [{ node: "router", interface: "eth0" }, { node: "br0", interface: "p-router", trunk: [10, 20] }] },
      { endpoints: [{ node: "router", interface: "eth1" }, { node: "other", interface: "eth0" }] },
    ],
  };
}

test("renaming a parent renames its sub-interfaces' parent and their default names' uses", () => {
  const doc = updateEndpoint(stick(), 0, 0, { interface: "trunk0" });
  const router = doc.nodes[2];
  assert.deepEqual(router.subinterfaces.map((sub) => [sub.parent, sub.name]), [["trunk0", undefined], ["trunk0", "to-blue"]]);
  assert.deepEqual(router.routes.map((route) => route.dev), ["trunk0.10", "eth0"]);
  assert.equal(doc.links[0].endpoints[0].interface, "trunk0");
});

test("typing a new name letter by letter follows at each step", () => {
  let doc = stick();
  for (const name of ["eth", "et", "e", "up", "uplink"]) doc = updateEndpoint(doc, 0, 0, { interface: name });
  assert.deepEqual(doc.nodes[2].subinterfaces.map((sub) => sub.parent), ["uplink", "uplink"]);
});

test("another node's end of the same name, or a clash in the node, leaves sub-interfaces alone", () => {
  const other = updateEndpoint(stick(), 1, 1, { interface: "eth9" });  // other's eth0
  assert.deepEqual(other.nodes[2].subinterfaces.map((sub) => sub.parent), ["eth0", "eth0"]);
  const clash = updateEndpoint(stick(), 0, 0, { interface: "eth1" });  // router has eth1 already
  assert.deepEqual(clash.nodes[2].subinterfaces.map((sub) => sub.parent), ["eth0", "eth0"]);
  const bridgePort = updateEndpoint(stick(), 0, 1, { interface: "p-r" });
  assert.deepEqual(bridgePort.nodes[2], stick().nodes[2]);
});
