// The live panel of the design page: Deploy and Destroy, the deployment's state and
// progress, the step log, each node's live tables, the ping tool, ping-all and the port
// probe. Everything it shows comes from the websocket (socket.js) through a LiveState
// (live-state.js), drawn by live-tables.js; on every reconnect the server sends the state
// again and the panel is drawn afresh from it.

import { predictedMatrix } from "./api.js";
import { ApplyPanel } from "./apply-panel.js";
import { CapturePanel } from "./capture-panel.js";
import { ConsolePanel } from "./console-panel.js";
import { h, patchChildren } from "./dom.js";
import { ExplainPanel } from "./explain-panel.js";
import { DEPLOYABLE, LiveState, namespaceNodes, pingTargets } from "./live-state.js";
import { milliseconds, nodeTables, stepEntries } from "./live-tables.js";
import { PingAllDialog } from "./pingall-dialog.js";
import { progressText } from "./pingall-matrix.js";
import { LabSocket, labUrl } from "./socket.js";

// A ping-all of at most this many cells is drawn in the panel too; a bigger one only in
// the full-width matrix (Matrix…): 390 px hold a few columns, not a campus.
const PANEL_MATRIX_CELLS = 48;
const CANVAS_MARK_MS = 500;
// While steps stream in (a deploy of 1000 namespaces runs 4000), the step log and progress
// follow a few times a second, not every frame: each redraw is style, layout and paint.
const STEP_LOG_MS = 250;

const STATE_HINTS = {
  "not deployed": "This design has never been deployed by you.",
  queued: "Waiting for the worker to take the deployment.",
  deploying: "The worker is creating the lab in the kernel, step by step.",
  running: "The lab is running: ping between its nodes and watch their tables.",
  applying: "The worker is changing the running lab in place, step by step.",
  failed: "The deployment failed; what had been made was rolled back.",
  destroying: "The worker is removing the lab from the kernel.",
  stopped: "The lab was destroyed: nothing of it is left in the kernel.",
  unknown: "The lab's site is down: its worker checks the lab against the design when it is back.",
};

const PHASES = { deploy: "Deploy", apply: "Apply", destroy: "Destroy" };

export class LivePanel {
  /**
   * @param root the editor element (#editor)
   * @param state the page's EditorState (the document, whether it is saved, its revision)
   * @param editor {canvas, save(), say(text, kind), openTab(name)}
   */
  constructor(root, state, editor) {
    this.state = state;
    this.editor = editor;
    // Looked up once: the page of a big lab has thousands of elements (its nodes in every
    // menu), and a query of them all per frame showed in the profile.
    const found = new Map();
    this.find = (testid) => {
      const known = found.get(testid);
      if (known?.isConnected) return known;
      const element = root.querySelector(`[data-testid="${testid}"]`);
      if (element) found.set(testid, element);
      return element;
    };
    this.live = new LiveState();
    this.node = null;
    this.pending = null;
    this.dirty = null; // the parts to draw at the next frame, if one is due
    this.changes = new ApplyPanel(this.find, state, {
      send: (request) => this.#send(request),
      say: (text, kind) => this.editor.say(text, kind),
      canvas: editor.canvas,
      openTab: (name) => this.editor.openTab(name),
      askToSave: () => this.#askToSave("apply"),
    });
    this.explainer = new ExplainPanel(this.find, state, {
      canvas: editor.canvas,
      apply: (doc, description) => this.editor.apply(doc, description),
      save: () => this.editor.save(),
      live: this,
      say: (text, kind) => this.editor.say(text, kind),
      openTab: (name) => this.editor.openTab(name),
    });
    this.capturer = new CapturePanel(this.find, state, {
      send: (request) => this.#send(request),
      canvas: editor.canvas,
      say: (text, kind) => this.editor.say(text, kind),
    });
    this.console = new ConsolePanel(this.find, state, {
      send: (request) => this.#send(request),
      adoptSaved: (revision) => this.editor.adoptSaved(revision),
    });
    this.canvasTimer = null;
    this.matrix = new PingAllDialog(root.querySelector('[data-testid="pingall-dialog"]'), {
      onCancel: () => this.cancelPingAll(),
      planned: () => this.#plannedMatrix(),
    });
    // A cell of the matrix, clicked: explain its path (failed or not).
    this.matrix.canvas.addEventListener("click", (event) => {
      const box = this.matrix.canvas.getBoundingClientRect();
      const cell = this.matrix.cellAt(event.clientX - box.left, event.clientY - box.top);
      if (!cell) return;
      this.matrix.close();
      this.explainer.explain(cell.source, cell.address);
    });
    this.#bind();
    state.on("document", () => this.documentChanged());
    state.on("saved", () => this.#buttons());
    this.socket = new LabSocket(labUrl(state.designId), {
      onEvent: (event) => this.#onEvent(event),
      onStatus: (status, detail) => this.#onStatus(status, detail),
    });
    this.socket.start();
    window.addEventListener("pagehide", () => this.socket.stop());
    this.render();
  }

  // Requests

  deploy() {
    if (!this.state.canEdit) {
      this.#notice("You may read this design but not deploy it: fork it to run a lab of your own.", "error");
      return;
    }
    if (this.state.isDirty()) {
      this.#askToSave();
      return;
    }
    this.#notice(null);
    if (this.#send({ action: "deploy" })) {
      this.pending = "deploy";
      this.editor.openTab("live");
      this.editor.say(`Deploying the saved revision ${this.state.revision}…`);
      this.render();
    }
  }

  async saveAndDeploy() {
    this.#notice(null);
    await this.editor.save();
    if (!this.state.isDirty()) this.deploy();
    else this.#notice("Not deployed: the changes could not be saved (see the status above).", "error");
  }

  async saveAndApply() {
    this.#notice(null);
    await this.editor.save();
    if (!this.state.isDirty()) this.changes.preview();
    else this.#notice("Not applied: the changes could not be saved (see the status above).", "error");
  }

  destroy() {
    if (this.#send({ action: "destroy" })) {
      this.pending = "destroy";
      this.editor.say("Destroying the lab…");
      this.render();
    }
  }

  ping() {
    const source = this.find("ping-source").value;
    const target = this.find("ping-target").value.trim();
    const count = Number(this.find("ping-count").value || 3);
    if (!source || !target) {
      this.#toolMessage("ping-summary", "Choose a source node and type a target (an address or a node).", "error");
      return;
    }
    if (this.#send({ action: "ping", source, target, count })) {
      this.live.ping = { source, target, replies: [], done: null };
      this.#toolMessage("ping-summary", `PING ${target} from ${source}…`);
      this.find("ping-replies").replaceChildren();
    }
  }

  pingAll() {
    if (this.#send({ action: "pingall" })) {
      this.live.startPingAll();
      this.find("pingall-matrix").replaceChildren();
      this.#toolMessage("pingall-summary", "Pinging every address from every node…");
      this.#pingall();
      this.#buttons();
      this.#markCanvas();
    }
  }

  /** Stop the running ping-all: the worker sends no more requests and reports what it has. */
  cancelPingAll() {
    if (!this.live.pingAllRunning) return;
    if (this.#send({ action: "pingall.stop" })) this.#toolMessage("pingall-summary", "Cancelling the ping-all…");
  }

  /** The rows and columns a ping-all of the running lab fills in: its namespaces (those
   * with a namespace of their own) and the addresses of the document. */
  #plannedMatrix() {
    const namespaces = this.live.deployment.namespaces || {};
    const sources = Object.keys(namespaces).filter((node) => namespaces[node]);
    return { sources, columns: pingTargets(this.state.doc).map(({ node, address }) => ({ target: node, address })) };
  }

  /** The ping-all's matrix at full width, over the canvas. */
  openMatrix() {
    this.matrix.open(this.live.pingall);
  }

  probe() {
    const source = this.find("probe-source").value;
    const target = this.find("probe-target").value.trim();
    if (!source || !/^.+:\d{1,5}$/.test(target)) {
      this.#toolMessage("probe-result", "Choose a source node and type address:port (or node:port).", "error");
      return;
    }
    if (this.#send({ action: "probe", source, target })) {
      this.#toolMessage("probe-result", `Connecting from ${source} to ${target}…`);
    }
  }

  #send(request) {
    if (this.socket.send(request)) return true;
    this.editor.say("Not connected to the lab: the page reconnects by itself, try again in a moment.", "error");
    return false;
  }

  // Events

  #onStatus(status, detail) {
    const element = this.find("connection");
    element.dataset.status = status;
    if (status === "open") {
      this.#tellShown();
      element.replaceChildren("● live");
      element.title = "Connected to the lab: its state and tables follow the kernel";
    } else if (status === "connecting") {
      element.replaceChildren("connecting…");
      element.title = "";
      // What the server sends on connect replaces what was shown: start the steps afresh.
      if (this.live.reconnecting()) {
        this.#pingall();
        this.#toolMessage("pingall-summary", "The connection was lost, and the ping-all with it: run it again.", "error");
      }
    } else {
      const retry = h("button", { type: "button", className: "link", "data-testid": "reconnect",
        onclick: () => this.socket.retryNow() }, "retry now");
      element.replaceChildren(`connection lost, reconnecting in ${detail} s `, retry);
      element.title = "The live lab's connection was lost; the page reconnects by itself";
    }
    this.#buttons();
  }

  #onEvent(event) {
    if (event.type === "plan") {
      this.changes.showPlan(event);
      return;
    }
    if (["console.output", "console.done"].includes(event.type)
      || (event.type === "error" && event.action?.startsWith("console"))) {
      this.console.onEvent(event);
      if (event.type !== "error") return;
    }
    if (["capture.started", "packet", "capture.done"].includes(event.type)
      || (event.type === "error" && event.action?.startsWith("capture"))) {
      this.capturer.onEvent(event);
      if (event.type !== "error") return;
    }
    const changed = new Set(this.live.apply(event));
    if (changed.has("deployment")) {
      this.pending = null;
      const { state, error, revision } = this.live.deployment;
      if (state === "running" && error) this.editor.say(`The change failed and was undone: ${error}`, "error");
      else if (state === "running") this.editor.say(`The lab is running revision ${revision}.`, "ok");
      else if (state === "failed") this.editor.say(`The deployment failed: ${this.live.deployment.error || "see the step log"}.`, "error");
      else if (state === "stopped") this.editor.say("The lab is destroyed.", "ok");
    }
    if (changed.has("error")) {
      this.pending = null;
      this.#onError(event);
    }
    if (changed.has("deployment")) {
      // The state is what the user waits for: shown now (label, buttons, canvas), not after
      // a frame that tables arriving by the hundred may delay.
      this.#deploymentState();
      this.#buttons();
      this.#markCanvas();
    }
    this.#renderSoon(changed);
  }

  /** Draw what changed once per frame: a deploy of 1000 namespaces sends steps by the
   * thousand, and redrawing the step log and the canvas for each would freeze the page. */
  #renderSoon(changed) {
    if (this.dirty) {
      for (const part of changed) this.dirty.add(part);
      return;
    }
    this.dirty = new Set(changed);
    requestAnimationFrame(() => {
      const dirty = this.dirty;
      this.dirty = null;
      this.render(dirty);
    });
  }

  #onError(event) {
    const text = event.message;
    if (event.action === "ping") this.#toolMessage("ping-summary", text, "error");
    else if (event.action === "pingall" || event.action === "pingall.stop") {
      if (event.action === "pingall" && this.live.pingAllRunning && !this.live.pingall.cells.size) {
        this.live.pingall = null; // refused: it never started
        this.#pingall();
      }
      this.#toolMessage("pingall-summary", text, "error");
    }
    else if (event.action === "probe") this.#toolMessage("probe-result", text, "error");
    else this.#notice(text, "error");
    this.editor.say(text, "error");
  }

  // Drawing

  /** Redraw the parts in `changed` (everything when not given). */
  render(changed = null) {
    const all = changed === null;
    const has = (part) => all || changed.has(part);
    if (has("deployment")) this.#deploymentState();
    if (has("deployment")) this.#steps();
    else if (has("steps")) this.#stepsSoon();
    // Tables of other nodes than the shown one change nothing on the page but the canvas.
    const tables = this.live.takeChangedNodes();
    if (all || has("deployment") || tables.has(this.node)) this.#nodeTables();
    if (has("ping")) this.#ping();
    if (has("pingall")) this.#pingall();
    if (has("probe")) this.#probe();
    this.#buttons();
    // The canvas shows the lab's state, its links' and ping-all's: not its steps. While a
    // ping-all streams its cells, or the links' tables come (1000 as a big lab starts),
    // their colours follow a few times a second, not every frame.
    if (all || has("deployment") || (has("pingall") && !this.live.pingAllRunning)) this.#markCanvas();
    else if (has("links") || has("pingall")) this.#markCanvasSoon();
  }

  #markCanvasSoon() {
    if (this.canvasTimer) return;
    this.canvasTimer = setTimeout(() => {
      this.canvasTimer = null;
      this.#markCanvas();
    }, CANVAS_MARK_MS);
  }

  /** The document changed (an edit, a save): refresh what depends on it. */
  documentChanged() {
    this.#choices();
    this.#markCanvas();
    this.#nodeTables();
    this.#buttons();
  }

  /** The canvas selection changed: the node tables follow a selected node. */
  selectionChanged(selection) {
    this.capturer.offerLink(selection.links.length === 1 && !selection.nodes.length ? selection.links[0] : null);
    if (selection.nodes.length !== 1) return;
    const id = selection.nodes[0];
    if (!namespaceNodes(this.state.doc).includes(id)) return;
    this.#show(id);
  }

  /** Show node `id`'s tables, and tell the server: it reads the counters of shown nodes only. */
  #show(id) {
    const changed = id !== this.node;
    this.node = id;
    if (id) this.find("live-node").value = id;
    this.#nodeTables();
    if (changed) this.#tellShown();
  }

  #tellShown() {
    if (this.node) this.socket?.send({ action: "show", node: this.node });
  }

  #deploymentState() {
    const { state, error } = this.live.deployment;
    const label = this.find("deployment-state");
    label.textContent = state;
    label.dataset.state = state;
    label.title = STATE_HINTS[state] || "";
    const failure = this.find("deployment-error");
    failure.hidden = !error;
    const what = state === "running" ? "The last change failed and was undone" : "The deployment failed";
    failure.textContent = error ? `${what}: ${error}` : "";
    this.find("state-hint").textContent = STATE_HINTS[state] || "";
  }

  #buttons() {
    const state = this.live.state;
    const open = this.socket ? this.socket.isOpen : false;
    const deploy = this.find("deploy");
    const destroy = this.find("destroy");
    const busy = this.pending !== null;
    deploy.disabled = !this.state.canEdit || !open || busy || !DEPLOYABLE.has(state);
    destroy.disabled = !this.state.canEdit || !open || busy || !this.live.destroyable;
    if (!this.state.canEdit) {
      deploy.title = "You may read this design but not deploy it: fork it to run your own lab";
      destroy.title = deploy.title;
    } else if (!open) {
      deploy.title = "Not connected to the lab yet";
      destroy.title = deploy.title;
    } else {
      deploy.title = !DEPLOYABLE.has(state)
        ? `The lab is ${state}: destroy it before deploying again`
        : this.state.draft
          ? `The saved revision ${this.state.revision} is a draft: fix its problems and save before deploying`
          : `Deploy the saved revision ${this.state.revision} to the kernel`;
      destroy.title = this.live.destroyable ? "Remove the lab from the kernel" : `Nothing to destroy: the lab is ${state}`;
    }
    this.changes.update(this.live.deployment, { open, busy });
    const running = state === "running" && open;
    this.capturer.buttons(running);
    this.console.buttons(running);
    for (const testid of ["ping-run", "pingall-run", "probe-run"]) this.find(testid).disabled = !running;
    if (this.live.pingAllRunning) this.find("pingall-run").disabled = true;
    this.find("tools-hint").hidden = running;
  }

  #stepsSoon() {
    if (this.stepsTimer) return;
    const wait = (this.stepsDrawn ?? -Infinity) + STEP_LOG_MS - performance.now();
    if (wait <= 0) this.#steps();
    else this.stepsTimer = setTimeout(() => this.#steps(), wait);
  }

  #steps() {
    clearTimeout(this.stepsTimer);
    this.stepsTimer = null;
    this.stepsDrawn = performance.now();
    const list = this.find("steps");
    const steps = this.live.orderedSteps();
    patchChildren(list, stepEntries(steps));
    const failed = list.querySelector('[data-outcome="failed"]');
    if (failed) failed.scrollIntoView({ block: "nearest" });
    const progress = this.live.progress();
    const bar = this.find("progress");
    bar.value = Math.round(progress.fraction * 100);
    bar.dataset.action = progress.action;
    bar.classList.toggle("failed", Boolean(progress.failed) || this.live.state === "failed");
    this.find("progress-label").textContent = progress.total
      ? `${PHASES[progress.action] || progress.action}: ${progress.done} of ${progress.total} steps${progress.failed ? `, step ${progress.failed.index} failed` : ""}`
      : "";
  }

  #choices() {
    const doc = this.state.doc;
    const nodes = namespaceNodes(doc);
    this.capturer.choices(nodes);
    this.console.choices(nodes);
    for (const testid of ["live-node", "ping-source", "probe-source", "explain-source"]) {
      const select = this.find(testid);
      const value = select.value;
      select.replaceChildren(...nodes.map((id) => h("option", { value: id }, id)));
      if (nodes.includes(value)) select.value = value;
    }
    if (!this.node || !nodes.includes(this.node)) this.#show(nodes.find((id) => id !== "host") || nodes[0] || null);
    else this.find("live-node").value = this.node;
    const targets = pingTargets(doc);
    const ids = [...new Set(targets.map((target) => target.node))];
    this.find("ping-targets").replaceChildren(
      ...ids.map((id) => h("option", { value: id }, "node")),
      ...targets.map((target) => h("option", { value: target.address }, target.node)));
  }

  #nodeTables() {
    this.find("node-live").replaceChildren(...nodeTables(this.state.doc, this.live, this.node));
  }

  #ping() {
    const ping = this.live.ping;
    const list = this.find("ping-replies");
    if (!ping) {
      list.replaceChildren();
      this.#toolMessage("ping-summary", "");
      return;
    }
    list.replaceChildren(...ping.replies.map((reply) => h("li", {
      className: reply.error ? "bad" : "good", "data-testid": "ping-reply" },
    reply.error
      ? `seq ${reply.seq}: ${reply.error}`
      : `seq ${reply.seq}: reply from ${reply.from_address} ttl ${reply.ttl} time ${milliseconds(reply.rtt_ms)}`)));
    if (ping.done) {
      const done = ping.done;
      const rtt = done.rtt_avg_ms === null ? "" : `, rtt min/avg/max ${done.rtt_min_ms}/${done.rtt_avg_ms}/${done.rtt_max_ms} ms`;
      this.#toolMessage("ping-summary", `${done.sent} sent, ${done.received} received, ${done.loss}% loss${rtt}`,
        done.received ? "ok" : "error");
      if (!done.received) this.#explainButton("ping-summary", ping.source, ping.target);
    }
  }

  /** The ping-all the design predicts (no lab needed): shown in the matrix dialog, and kept
   * to compare a real ping-all of the same revision with. */
  async predict() {
    let cells;
    try {
      cells = await predictedMatrix(this.state.designId);
    } catch (error) {
      this.#toolMessage("pingall-summary", `The prediction failed: ${error.message}`, "error");
      return;
    }
    const byKey = new Map(cells.map((cell) => [`${cell.source}|${cell.address}`, {
      ...cell, target: cell.node, predicted: true, sent: 0, received: 0, rtt_ms: null, error: null }]));
    const reachable = cells.filter((cell) => cell.reachable).length;
    this.prediction = { revision: this.state.revision, cells: byKey };
    this.matrix.open({ cells: byKey, done: { total: cells.length, reachable, cancelled: false },
      progress: null, predicted: this.state.revision });
    this.#toolMessage("pingall-summary", `Predicted: ${reachable} of ${cells.length} pairs reachable (saved revision ${this.state.revision}).`);
  }

  /** Mark the ping-all's cells that disagree with the prediction of the revision the lab
   * runs; answers how many do. */
  #compareWithPrediction(pingall) {
    const prediction = this.prediction;
    if (!prediction || prediction.revision !== this.live.deployment.revision) return null;
    let disagreeing = 0;
    for (const [key, cell] of pingall.cells) {
      const predicted = prediction.cells.get(key);
      cell.disagrees = predicted && predicted.reachable !== cell.reachable ? predicted.outcome : undefined;
      if (cell.disagrees) disagreeing += 1;
    }
    return disagreeing;
  }

  #pingall() {
    const table = this.find("pingall-matrix");
    const pingall = this.live.pingall;
    const running = this.live.pingAllRunning;
    this.find("pingall-cancel").hidden = !running;
    this.find("pingall-open-matrix").disabled = !pingall;
    const progress = pingall?.progress;
    this.find("pingall-progress-wrap").hidden = !progress;
    if (progress) {
      const bar = this.find("pingall-progress");
      bar.max = Math.max(progress.total, 1);
      bar.value = progress.done;
      this.find("pingall-progress-label").textContent = progressText(progress);
    }
    this.matrix.update(pingall);
    if (!pingall) {
      table.replaceChildren();
      this.#toolMessage("pingall-summary", "");
      return;
    }
    if (pingall.cells.size <= PANEL_MATRIX_CELLS) {
      const { sources, columns, cell } = this.live.matrix();
      table.replaceChildren(
        h("thead", {}, h("tr", {}, h("th", {}, "from \\ to"),
          columns.map((column) => h("th", { title: column.address }, column.target, h("br"), h("small", {}, column.address))))),
        h("tbody", {}, sources.map((source) => h("tr", {}, h("th", {}, source), columns.map((column) => {
          const found = cell(source, column.address);
          if (!found) return h("td", { className: "pending" }, "…");
          return h("td", { className: found.reachable ? "good" : "bad", "data-testid": "pingall-cell",
            title: found.error || `${found.received}/${found.sent} replies` },
          found.reachable ? milliseconds(found.rtt_ms) || "✓" : "✗");
        })))));
    } else if (table.firstChild) {
      table.replaceChildren();
    }
    if (pingall.done) {
      const { total, reachable, cancelled } = pingall.done;
      const planned = pingall.progress?.total;
      let text = cancelled
        ? `${reachable} of ${total} reachable (cancelled after ${total} of ${planned ?? "?"} pairs)`
        : `${reachable} of ${total} reachable`;
      const disagreeing = this.#compareWithPrediction(pingall);
      if (disagreeing) text += `; ${disagreeing} disagree with the prediction (≠ in the matrix)`;
      else if (disagreeing === 0) text += ", as predicted";
      this.#toolMessage("pingall-summary", text, reachable === total && !cancelled && !disagreeing ? "ok" : "error");
    } else if (running && pingall.cells.size > PANEL_MATRIX_CELLS && !this.matrix.isOpen) {
      this.#toolMessage("pingall-summary", "Pinging every address from every node… (Matrix… shows every pair)");
    }
  }

    #probe() {
    const probe = this.live.probe;
    if (!probe) {
      this.#toolMessage("probe-result", "");
      return;
    }
    const where = `${probe.address}:${probe.port}${probe.node ? ` (${probe.node})` : ""}`;
    if (probe.connected) {
      const line = probe.first_line ? `, first line: ${probe.first_line}` : "";
      this.#toolMessage("probe-result", `${probe.source} connected to ${where} in ${milliseconds(probe.connect_ms)}${line}`, "ok");
    } else {
      this.#toolMessage("probe-result", `${probe.source} could not connect to ${where}: ${probe.error}`, "error");
      this.#explainButton("probe-result", probe.source, probe.address, { protocol: "tcp", port: probe.port });
    }
  }

  /** A button after a failed ping or probe's message: explain why. */
  #explainButton(testid, source, target, options = {}) {
    this.find(testid).append(" ", h("button", { type: "button", className: "link", "data-testid": `${testid}-explain`,
      onclick: () => this.explainer.explain(source, target, options) }, "Explain why"));
  }

  #markCanvas() {
    const doc = this.state.doc;
    this.editor.canvas.markLive(this.live.nodeStates(doc), this.live.linkStates(doc), this.live.reachability());
  }

  #toolMessage(testid, text, kind = "info") {
    const element = this.find(testid);
    element.textContent = text;
    element.dataset.kind = kind;
  }

  #notice(text, kind = "info", ...actions) {
    const notice = this.find("deploy-notice");
    notice.hidden = !text;
    notice.dataset.kind = kind;
    notice.replaceChildren(...(text ? [h("span", {}, text), ...actions] : []));
    if (text) this.editor.openTab("live");
  }

  #askToSave(what = "deploy") {
    const [Verb, verb, run] = what === "apply"
      ? ["Apply", "applied", () => this.saveAndApply()]
      : ["Deploy", "deployed", () => this.saveAndDeploy()];
    this.#notice(`This design has unsaved changes. ${Verb} runs the saved revision: save them first?`, "warning",
      h("button", { type: "button", "data-testid": `save-and-${what}`, onclick: run }, `Save and ${what}`),
      h("button", { type: "button", className: "secondary", "data-testid": `cancel-${what}`, onclick: () => this.#notice(null) }, "Cancel"));
    this.editor.say(`Not ${verb}: save your changes first (${Verb} runs the saved revision).`, "warning");
  }

  #bind() {
    this.find("deploy").addEventListener("click", () => this.deploy());
    this.find("destroy").addEventListener("click", () => this.destroy());
    this.find("live-node").addEventListener("change", (event) => this.#show(event.target.value));
    const submit = (testid, action) => this.find(testid).addEventListener("submit", (event) => {
      event.preventDefault();
      action();
    });
    submit("ping", () => this.ping());
    submit("probe", () => this.probe());
    this.find("pingall-run").addEventListener("click", () => this.pingAll());
    this.find("pingall-predict").addEventListener("click", () => this.predict());
    this.find("pingall-cancel").addEventListener("click", () => this.cancelPingAll());
    this.find("pingall-open-matrix").addEventListener("click", () => this.openMatrix());
    this.#choices();
  }
}
