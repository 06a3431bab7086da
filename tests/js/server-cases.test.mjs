// The browser's copies of server rules (static/netlab/editor/model.js) against the server's
// own answers: server-cases.json is written by server_cases.py from netlab/core/layout.py
// and names.py (and checked to be current by test_server_cases.py), so a drift on either
// side fails a test.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import * as model from "../../static/netlab/editor/model.js";

const cases = JSON.parse(readFileSync(new URL("./server-cases.json", import.meta.url), "utf8"));

for (const { document, layers, positions } of cases.layouts) {
  test(`the layout of ${document.name} is the server's`, () => {
    assert.deepEqual(Object.fromEntries(model.layers(document)), layers);
    const laidOut = model.withPositions(document);
    assert.deepEqual(Object.fromEntries(laidOut.nodes.map((node) => [node.id, node.position])), positions);
  });
}

test("node ids follow the server's rule, with its message", () => {
  const doc = { format: "netlab/v1", name: "lab", nodes: [] };
  for (const { id, problem } of cases.node_ids) {
    assert.equal(model.nodeIdProblem(doc, id), problem, id);
  }
});
