// A node's site on its label, and a link between two sites drawn as a tunnel.
import { test } from "node:test";
import assert from "node:assert/strict";

import { crossedSites, elements, nodeLabel, sitesOf } from "../../static/netlab/graph.js";

const DOC = {
  format: "netlab/v1",
  name: "across",
  nodes: [
    { id: "host", kind: "host", site: "one" },
    { id: "red", kind: "namespace", site: "one" },
    { id: "blue", kind: "namespace", site: "two" },
    { id: "green", kind: "namespace" },
    { id: "br0", kind: "bridge", in: "blue" },
  ],
  links: [
    { endpoints: [{ node: "red", interface: "eth0" }, { node: "blue", interface: "eth0" }], mtu: 1400 },
    { endpoints: [{ node: "red", interface: "eth1" }, { node: "green", interface: "eth0" }] },
    { endpoints: [{ node: "host", interface: "eth0" }, { node: "br0", interface: "p1" }] },
    { endpoints: [{ node: "blue", interface: "eth1" }, { node: "br0", interface: "p2" }] },
  ],
};

test("a node's label names its site", () => {
  assert.equal(nodeLabel(DOC.nodes[1]), "red\nsite one");
  assert.equal(nodeLabel(DOC.nodes[3]), "green");
});

test("a bridge is on its holder's site; an unpinned node on none yet", () => {
  assert.deepEqual(Object.fromEntries(sitesOf(DOC)),
    { host: "one", red: "one", blue: "two", green: null, br0: "two" });
});

const CROSSINGS = [
  ["two pinned sites", 0, ["one", "two"]],
  ["an unpinned end: the lab's site, not known yet", 1, null],
  ["a bridge held on another site", 2, ["one", "two"]],
  ["one site", 3, null],
];

for (const [name, index, expected] of CROSSINGS) {
  test(`crossed sites: ${name}`, () => assert.deepEqual(crossedSites(DOC.links[index], sitesOf(DOC)), expected));
}

test("a tunnel is marked and labelled with its sites, before its own settings", () => {
  const edges = elements(DOC).filter((element) => element.group === "edges" && element.data.id.startsWith("l:"));
  assert.deepEqual(edges.map((edge) => Boolean(edge.data.tunnel)), [true, false, true, false]);
  assert.match(edges[0].data.linkLabel, /^VXLAN one - two · /);
  assert.equal(edges[1].data.linkLabel, undefined);
});
