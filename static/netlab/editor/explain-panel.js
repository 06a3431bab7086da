// Explain from the page: why a packet from a node to a target arrives or not, asked of the
// server (POST /api/designs/{id}/explain, predicted from the saved revision: no lab needed),
// drawn as a list of hops (the request's, then the reply's) and on the canvas (the nodes on
// the path outlined, the one where it stops in red). A fix on offer is one click: it becomes
// an edit of the design, saved and applied in place when the lab runs.

import { nodeKey } from "../graph.js";
import { explainPath } from "./api.js";
import { h } from "./dom.js";

const ON_PATH = "on-path";
const STOPS_HERE = "path-stops";

/** `doc` with a fix's `change` made (the server's netlab.core.explain.apply_fix). */
export function applyFix(doc, change) {
  const result = structuredClone(doc);
  const node = (result.nodes || []).find((item) => item.id === change.node);
  if (!node) throw new Error(`no node ${change.node} in the design`);
  const append = (field, value) => { node[field] = [...(node[field] || []), structuredClone(value)]; };
  if (change.op === "set-forwarding") node.forwarding = Boolean(change.value);
  else if (change.op === "add-route") append("routes", change.route);
  else if (change.op === "add-nat") append("nat", change.nat);
  else if (change.op === "add-service") append("services", change.service);
  else throw new Error(`unknown change ${change.op}`);
  return result;
}

/** The nodes an explanation passes, and the one where it stops (null when it arrives). */
export function pathNodes(answer) {
  const hops = [...answer.hops, ...(answer.reply || [])];
  const stopped = hops.find((hop) => !hop.ok);
  return { nodes: new Set(hops.map((hop) => hop.node)), stops: stopped ? stopped.node : null };
}

export class ExplainPanel {
  /**
   * @param find the page's lookup by data-testid
   * @param state the page's EditorState
   * @param editor {canvas, apply(doc, description), save(), live, say(text, kind), openTab(name)}
   */
  constructor(find, state, editor) {
    this.find = find;
    this.state = state;
    this.editor = editor;
    this.find("explain").addEventListener("submit", (event) => {
      event.preventDefault();
      this.run();
    });
    this.find("explain-protocol").addEventListener("change", () => this.#portField());
    this.#portField();
    this.#nodeMenu();
  }

  /** A node's menu on the canvas (right click, or a long press): explain a path from it. */
  #nodeMenu() {
    const cy = this.editor.canvas.cy;
    const menu = h("div", { className: "node-menu", "data-testid": "node-menu", role: "menu", hidden: true });
    cy.container().append(menu);
    const hide = () => { menu.hidden = true; };
    cy.on("cxttap", "node", (event) => {
      const node = (this.state.doc.nodes || []).find((item) => nodeKey(item.id) === event.target.id());
      const id = node && node.id;
      if (!node || node.kind === "bridge") return hide();
      const { x, y } = event.renderedPosition;
      menu.replaceChildren(h("button", { type: "button", role: "menuitem", "data-testid": "node-menu-explain",
        onclick: () => {
          hide();
          this.find("explain-source").value = id;
          this.editor.openTab("live");
          this.find("explain-target").focus();
        } }, `Explain a path from ${id} to…`));
      menu.style.left = `${x}px`;
      menu.style.top = `${y}px`;
      menu.hidden = false;
    });
    cy.on("tap", hide);
    cy.on("viewport", hide);
  }

  /** Fill the form (from a ping, a probe or a ping-all cell) and explain. */
  explain(source, target, { protocol = "icmp", port = null } = {}) {
    this.find("explain-source").value = source;
    this.find("explain-target").value = target;
    this.find("explain-protocol").value = protocol;
    this.find("explain-port").value = port ?? "";
    this.#portField();
    this.editor.openTab("live");
    this.find("explain").scrollIntoView({ block: "nearest" });
    return this.run();
  }

  async run() {
    const source = this.find("explain-source").value;
    const target = this.find("explain-target").value.trim();
    const protocol = this.find("explain-protocol").value;
    const port = protocol === "tcp" ? Number(this.find("explain-port").value) || null : null;
    const result = this.find("explain-result");
    if (!source || !target) {
      result.replaceChildren(h("p", { className: "result", dataset: { kind: "error" } }, "Choose a source node and type a target (an address or a node)."));
      return;
    }
    result.replaceChildren(h("p", { className: "hint" }, `Explaining ${source} → ${target}…`));
    try {
      this.answer = await explainPath(this.state.designId, { source, target, protocol, port });
    } catch (error) {
      result.replaceChildren(h("p", { className: "result", dataset: { kind: "error" } }, error.message));
      this.#mark(null);
      return;
    }
    this.#show(this.answer);
  }

  #show(answer) {
    const hopItems = (hops) => hops.map((hop) => h("li", {
      className: hop.ok ? "" : "bad", "data-testid": "explain-hop", dataset: { node: hop.node } },
    h("strong", {}, hop.node), hop.in ? ` (in ${hop.in})` : "", `: ${hop.note}`,
    hop.route ? h("code", { className: "route" }, `route: ${hop.route}`) : null,
    hop.nat ? h("code", { className: "nat" }, hop.nat) : null));
    const fixes = answer.fixes.map((fix) => h("button", { type: "button", className: "secondary",
      "data-testid": "explain-fix", onclick: () => this.fix(fix) }, `Fix: ${fix.sentence}`));
    this.find("explain-result").replaceChildren(
      h("p", { className: "outcome", "data-testid": "explain-outcome", dataset: { outcome: answer.outcome } },
        h("strong", {}, answer.outcome), ` — ${answer.reason}`),
      h("h4", {}, `Request ${answer.source} → ${answer.address}${answer.port ? `:${answer.port}` : ""}`),
      h("ol", { className: "hops" }, hopItems(answer.hops)),
      ...(answer.reply && answer.reply.length ? [h("h4", {}, "Reply"), h("ol", { className: "hops" }, hopItems(answer.reply))] : []),
      ...fixes);
    this.#mark(answer);
    this.editor.say(`${answer.outcome}: ${answer.reason}`, answer.outcome === "delivered" ? "ok" : "warning");
  }

  /** Make the fix an edit of the design; when the lab runs, save it and apply it. */
  async fix(fix) {
    let doc;
    try {
      doc = applyFix(this.state.doc, fix.change);
    } catch (error) {
      this.editor.say(error.message, "error");
      return;
    }
    if (!this.editor.apply(doc, fix.sentence)) return;
    const live = this.editor.live;
    if (live.live.state !== "running") {
      this.editor.say(`Fixed on the canvas: ${fix.sentence}. Save to keep it.`, "ok");
      return;
    }
    await this.editor.save();
    if (this.state.isDirty()) return;
    live.changes.run();
  }

  #portField() {
    this.find("explain-port").disabled = this.find("explain-protocol").value !== "tcp";
  }

  #mark(answer) {
    const cy = this.editor.canvas.cy;
    if (!this.styled) {
      cy.style()
        .selector(`node.${ON_PATH}`).style({ "underlay-color": "#2563eb", "underlay-opacity": 0.25, "underlay-padding": 8 })
        .selector(`node.${STOPS_HERE}`).style({ "underlay-color": "#dc2626", "underlay-opacity": 0.45, "underlay-padding": 10 })
        .update();
      this.styled = true;
    }
    const { nodes, stops } = answer ? pathNodes(answer) : { nodes: new Set(), stops: null };
    cy.batch(() => {
      cy.nodes(`.${ON_PATH}, .${STOPS_HERE}`).removeClass(`${ON_PATH} ${STOPS_HERE}`);
      for (const id of nodes) cy.getElementById(nodeKey(id)).addClass(id === stops ? STOPS_HERE : ON_PATH);
    });
  }
}
