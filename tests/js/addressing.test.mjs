// The next free address of a segment (static/netlab/editor/addressing.js): node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { parseInterface, formatInterface, suggestAddress } from "../../static/netlab/editor/addressing.js";

const host = { id: "host", kind: "host" };
const ns = (id) => ({ id, kind: "namespace" });
const end = (node, iface, ...addresses) => (addresses.length ? { node, interface: iface, addresses } : { node, interface: iface });
const link = (a, b) => ({ endpoints: [a, b] });

/** A bridge `v-net-0` with `bridgeAddresses`, and one namespace per entry of `ports`
 * (the namespace end's addresses; the last port is the one asking). */
function bridgeLab(bridgeAddresses, ports) {
  const nodes = [host, { id: "v-net-0", kind: "bridge", ...(bridgeAddresses.length ? { addresses: bridgeAddresses } : {}) }];
  const links = [];
  ports.forEach((addresses, index) => {
    nodes.push(ns(`n${index}`));
    links.push(link(end(`n${index}`, `veth-n${index}`, ...addresses), end("v-net-0", `veth-n${index}-br`)));
  });
  return { format: "netlab/v1", name: "lab", nodes, links };
}

function pair(peerAddresses, ownAddresses = []) {
  return { format: "netlab/v1", name: "lab", nodes: [host, ns("red"), ns("blue")],
    links: [link(end("red", "veth-red", ...ownAddresses), end("blue", "veth-blue", ...peerAddresses))] };
}

const cases = [
  ["/24 on a bridge: after the bridge's own address and the other ports'",
    bridgeLab(["192.168.15.5/24"], [["192.168.15.1/24"], ["192.168.15.2/24"], []]), { link: 2, end: 0 }, "192.168.15.3/24"],
  ["the bridge's own address is taken, and alone it gives the subnet",
    bridgeLab(["192.168.15.1/24"], [[]]), { link: 0, end: 0 }, "192.168.15.2/24"],
  ["a bridge without an address takes its subnet from a port",
    bridgeLab([], [["10.1.0.9/16"], []]), { link: 1, end: 0 }, "10.1.0.1/16"],
  ["a bridge's own address is suggested from its ports",
    bridgeLab([], [["192.168.15.1/24"], ["192.168.15.2/24"]]), { bridge: "v-net-0" }, "192.168.15.3/24"],
  ["a bridge port takes no address",
    bridgeLab(["192.168.15.5/24"], [["192.168.15.1/24"]]), { link: 0, end: 1 }, null],
  ["/30 between two namespaces: the other host address",
    pair(["10.0.0.1/30"]), { link: 0, end: 0 }, "10.0.0.2/30"],
  ["/30 skips the network address",
    pair(["10.0.0.2/30"]), { link: 0, end: 0 }, "10.0.0.1/30"],
  ["/30 full: both host addresses used elsewhere",
    { ...pair(["10.0.0.1/30"]), links: [...pair(["10.0.0.1/30"]).links,
      link(end("red", "other", "10.0.0.2/30"), end("host", "x"))] }, { link: 0, end: 0 }, null],
  ["/31: both addresses usable, the first one first",
    pair(["10.0.0.1/31"]), { link: 0, end: 0 }, "10.0.0.0/31"],
  ["/31: the second one",
    pair(["10.0.0.0/31"]), { link: 0, end: 0 }, "10.0.0.1/31"],
  ["/32: no room besides the peer", pair(["10.0.0.7/32"]), { link: 0, end: 0 }, null],
  ["a full /24: no suggestion",
    bridgeLab(["192.168.1.254/24"], [...Array.from({ length: 253 }, (_, i) => [`192.168.1.${i + 1}/24`]), []]),
    { link: 253, end: 0 }, null],
  ["the last free address of a /24",
    bridgeLab(["192.168.1.1/24"], [...Array.from({ length: 252 }, (_, i) => [`192.168.1.${i + 2}/24`]), []]),
    { link: 252, end: 0 }, "192.168.1.254/24"],
  ["an interface already on the subnet gets no second address there",
    pair(["10.0.0.1/24"], ["10.0.0.2/24"]), { link: 0, end: 0 }, null],
  ["an address used anywhere in the document is skipped",
    { ...pair(["10.0.0.1/24"]), links: [...pair(["10.0.0.1/24"]).links, link(end("host", "eth9", "10.0.0.2/24"), end("blue", "eth9"))] },
    { link: 0, end: 0 }, "10.0.0.3/24"],
  ["IPv6 /64: after the subnet-router address and the peer's",
    pair(["2001:db8:15::1/64"]), { link: 0, end: 0 }, "2001:db8:15::2/64"],
  ["IPv6 /127: both addresses usable",
    pair(["2001:db8::1/127"]), { link: 0, end: 0 }, "2001:db8::/127"],
  ["IPv6 on a bridge, written in full",
    bridgeLab(["2001:0db8:0000:0000:0000:0000:0000:0001/64"], [[]]), { link: 0, end: 0 }, "2001:db8::2/64"],
  ["dual stack: the family the interface has no address of yet",
    pair(["10.0.0.1/24", "fd00::1/64"], ["10.0.0.2/24"]), { link: 0, end: 0 }, "fd00::2/64"],
  ["no addressed neighbour: nothing to suggest", pair([]), { link: 0, end: 0 }, null],
  ["a neighbour's unreadable address is ignored",
    pair(["192.168.15.300/24", "10.9.0.1/24"]), { link: 0, end: 0 }, "10.9.0.2/24"],
];

for (const [name, doc, place, expected] of cases) {
  test(`suggestAddress: ${name}`, () => {
    assert.equal(suggestAddress(doc, place), expected);
  });
}

test("suggestAddress avoids the texts it is told are taken (rows not saved yet)", () => {
  const doc = pair(["10.0.0.1/24"]);
  assert.equal(suggestAddress(doc, { link: 0, end: 0 }, ["10.0.0.2/24", "10.0.0.3/24"]), "10.0.0.4/24");
});

test("IPv6 texts parse and print in the short form (RFC 5952)", () => {
  const rows = [
    ["2001:db8:0:0:1:0:0:1/64", "2001:db8::1:0:0:1/64"],
    ["::1/128", "::1/128"],
    ["FE80::A/64", "fe80::a/64"],
    ["::ffff:1.2.3.4/96", "::ffff:102:304/96"],
    ["1:2:3:4:5:6:7:8/64", "1:2:3:4:5:6:7:8/64"],
  ];
  for (const [text, short] of rows) {
    const parsed = parseInterface(text);
    assert.equal(formatInterface(parsed.version, parsed.ip, parsed.length), short, text);
  }
  for (const bad of ["1::2::3/64", "2001:db8::g/64", "2001:db8::1/129", "1:2:3:4:5:6:7:8:9/64", "192.168.15.1"]) {
    assert.equal(parseInterface(bad), null, bad);
  }
});
