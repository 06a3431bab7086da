// The browser's copies of server rules (static/netlab/editor/model.js) against the server's
// own answers: server-cases.json is written by server_cases.py from netlab/core/names.py
// (and checked to be current by test_server_cases.py), so a drift on either side fails a
// test. (The layout is no longer a copy: the browser lays out with fcose, layout.js, and
// the server's layered rows only draw pictures of designs that have no positions.)
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import * as model from "../../static/netlab/editor/model.js";

const cases = JSON.parse(readFileSync(new URL("./server-cases.json", import.meta.url), "utf8"));

test("node ids follow the server's rule, with its message", () => {
  const doc = { format: "netlab/v1", name: "lab", nodes: [] };
  for (const { id, problem } of cases.node_ids) {
    assert.equal(model.nodeIdProblem(doc, id), problem, id);
  }
});
