// The link label of an impaired, resized or down link, as the canvas draws it.
import { test } from "node:test";
import assert from "node:assert/strict";

import { endImpairment, impairmentLabel, isLossy, linkLabel } from "../../static/netlab/impairment.js";

const ends = [{ node: "red", interface: "veth-red" }, { node: "blue", interface: "veth-blue" }];
const link = (fields = {}, red = undefined, blue = undefined) => ({
  ...fields,
  endpoints: [{ ...ends[0], ...(red ? { impairment: red } : {}) }, { ...ends[1], ...(blue ? { impairment: blue } : {}) }],
});

const LABELS = [
  ["a plain link has none", link(), ""],
  ["the issue's label", link({ impairment: { delay_ms: 30, loss_percent: 1, rate_kbit: 10000 } }), "30 ms · 1% loss · 10 Mbit/s"],
  ["jitter", link({ impairment: { delay_ms: 30, jitter_ms: 5 } }), "30 ms ± 5 ms"],
  ["kbit and gbit", link({ impairment: { rate_kbit: 512 } }), "512 kbit/s"],
  ["fractions of a gbit", link({ impairment: { rate_kbit: 1500000 } }), "1.5 Gbit/s"],
  ["corrupt and duplicate", link({ impairment: { corrupt_percent: 0.1, duplicate_percent: 2 } }), "0.1% corrupt · 2% duplicate"],
  ["ends that differ are named", link({ impairment: { delay_ms: 30 } }, { delay_ms: 5 }), "red: 5 ms | blue: 30 ms"],
  ["one impaired end", link({}, undefined, { loss_percent: 100 }), "blue: 100% loss"],
  ["an end's field over the link's", link({ impairment: { delay_ms: 30, loss_percent: 1 } }, { delay_ms: 30 }, { loss_percent: 1 }), "30 ms · 1% loss"],
  ["mtu and down", link({ mtu: 9000, up: false }), "MTU 9000 | down"],
  ["up says nothing", link({ up: true }), ""],
  ["an empty impairment", link({ impairment: {} }), ""],
];

for (const [name, value, expected] of LABELS) {
  test(`link label: ${name}`, () => assert.equal(linkLabel(value), expected));
}

test("an end's impairment is its own laid over the link's, field by field", () => {
  const value = link({ impairment: { delay_ms: 30, loss_percent: 1 } }, { delay_ms: 5, rate_kbit: 100 });
  assert.deepEqual(endImpairment(value, 0), { delay_ms: 5, loss_percent: 1, rate_kbit: 100 });
  assert.deepEqual(endImpairment(value, 1), { delay_ms: 30, loss_percent: 1 });
  assert.equal(endImpairment(link(), 0), null);
  assert.equal(impairmentLabel(null), "");
});

test("a link that loses packets on either end is lossy", () => {
  assert.equal(isLossy(link({}, undefined, { loss_percent: 0.5 })), true);
  assert.equal(isLossy(link({ impairment: { loss_percent: 0, delay_ms: 3 } })), false);
  assert.equal(isLossy(link()), false);
});
