// A bridge port's VLANs on its end label, as the canvas draws it.
import { test } from "node:test";
import assert from "node:assert/strict";

import { endLabel } from "../../static/netlab/graph.js";

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
