// The live state mirrors the server's answer to "may this lab be destroyed" (the
// `destroyable` field of a `deployment` event, editor.deployments.destroyable): it never
// decides from the state itself.
import assert from "node:assert/strict";
import { test } from "node:test";

import { LiveState } from "../../static/netlab/editor/live-state.js";

const deployment = (state, fields = {}) => ({ type: "deployment", deployment: 12, tag: "k3x9qa", state, error: "",
  namespaces: {}, ...fields });

test("a lab never deployed has nothing to destroy", () => {
  assert.equal(new LiveState().destroyable, false);
});

test("destroyable is what the server said, whatever the state", () => {
  const live = new LiveState();
  live.apply(deployment("running", { destroyable: true, updated: "2026-11-28T21:30:01.000000+00:00" }));
  assert.equal(live.destroyable, true);
  live.apply(deployment("running", { destroyable: false, updated: "2026-11-28T21:30:02.000000+00:00" }));
  assert.equal(live.destroyable, false);
});

test("an event without the field (an older server) is not destroyable", () => {
  const live = new LiveState();
  live.apply(deployment("failed"));
  assert.equal(live.destroyable, false);
});
