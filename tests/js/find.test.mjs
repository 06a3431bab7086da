// Unit tests of find node (static/netlab/editor/find.js): which node a typed name means.
import assert from "node:assert/strict";
import { test } from "node:test";

import { findByName, suggestions } from "../../static/netlab/editor/find.js";

const doc = { nodes: [
  { id: "host", kind: "host" }, { id: "red", kind: "namespace", label: "Web server" },
  { id: "red2", kind: "namespace" }, { id: "web", kind: "namespace" }, { id: "Blue", kind: "namespace" },
] };

test("an exact id wins over a label and over a longer id it begins", () => {
  assert.equal(findByName(doc, "red").id, "red");
  assert.equal(findByName(doc, " RED2 ").id, "red2");
  assert.equal(findByName(doc, "web").id, "web", "the id web, not the label Web server");
  assert.equal(findByName(doc, "web server").id, "red");
});

test("a beginning finds the first node it begins, by id then by label", () => {
  assert.equal(findByName(doc, "bl").id, "Blue");
  assert.equal(findByName(doc, "web s").id, "red");
  assert.equal(findByName(doc, "nothing"), null);
  assert.equal(findByName(doc, "   "), null);
});

test("suggestions list the ids and labels that begin with the text, up to a limit", () => {
  assert.deepEqual(suggestions(doc, "re"), ["red", "red2"]);
  assert.deepEqual(suggestions(doc, "we"), ["Web server", "web"]);
  assert.equal(suggestions(doc, "", 3).length, 3);
});
