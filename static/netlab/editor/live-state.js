// The live lab's picture, built from the websocket's events alone (docs/protocol.md): the
// deployment, its steps, each node's tables (neighbours, and interfaces, routes and
// counters when the server pushes them), the last ping, ping-all and probe. No DOM here:
// the live panel and the canvas draw from it, and node --test checks it.
//
// A `deployment` event is the current state, never a transition: a newer one replaces an
// older one. Steps and tables belong to one deployment; when another deployment takes its
// place they go.

import { findNode, holderOf, linksOf, namespaceOf, nodesOf } from "./model.js";

/** States in which a deploy may be asked for (the server refuses the others). */
export const DEPLOYABLE = new Set(["not deployed", "failed", "stopped"]);
/** Kinds of per-node tables, by event type; `neighbours` keep their entries' history. */
export const TABLES = ["neighbours", "links", "routes", "counters"];

const stepKey = (step) => `${step.action}:${step.index}`;
const cellKey = (cell) => `${cell.source}|${cell.address}`;

/** The rows of a per-node table event, whatever the list is called in it; counters by
 * interface name ({name: {rx_bytes...}}) become rows with a `name`. */
export function rowsOf(event) {
  for (const name of ["entries", "links", "routes", "interfaces", "counters"]) {
    const value = event[name];
    if (Array.isArray(value)) return value;
    if (value && typeof value === "object") {
      return Object.entries(value).map(([key, fields]) => ({ name: key, ...fields }));
    }
  }
  return [];
}

/** Whether an interface row (from a `links` event) is up: set up, and its operational
 * state UP (or UNKNOWN, as loopback and some virtual links report). */
export function interfaceUp(row) {
  if (row.up === false) return false;
  const state = String(row.state || row.operstate || "").toUpperCase();
  if (!state) return row.up === true;
  return state === "UP" || state === "UNKNOWN";
}

/** The interface name of a row of `links` or `counters`. */
export function interfaceName(row) {
  return row.name ?? row.interface ?? row.ifname ?? "";
}

/** Node ids named in `text` as whole words (a failed step's description names its node). */
export function nodesNamedIn(doc, text) {
  const found = [];
  for (const node of nodesOf(doc)) {
    const escaped = node.id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    if (new RegExp(`(^|[^A-Za-z0-9_.-])${escaped}($|[^A-Za-z0-9_.-])`).test(text)) found.push(node.id);
  }
  return found;
}

/** A ping-all's results: its cells by "source|address", its latest progress, its end. */
function newPingAll() {
  return { cells: new Map(), progress: null, done: null };
}

export class LiveState {
  constructor() {
    this.deployment = { deployment: null, tag: null, state: "not deployed", error: "", namespaces: {}, destroyable: false };
    this.steps = new Map();
    this.tables = Object.fromEntries(TABLES.map((kind) => [kind, new Map()]));
    /** Per node, the neighbour addresses that appeared in its latest table. */
    this.fresh = new Map();
    /** The nodes whose tables changed since takeChangedNodes was last asked. */
    this.changedNodes = new Set();
    this.ping = null;
    this.pingall = null;
    this.probe = null;
    this.error = null;
    this.received = 0;
  }

  get state() {
    return this.deployment.state;
  }

  /** Whether a destroy would act now: the server says so in each `deployment` event
   * (`destroyable`), by the rule of editor.deployments; the page never decides. */
  get destroyable() {
    return this.deployment.destroyable === true;
  }

  /** Forget what the server sends again on (re)connect: steps; tables are kept to compare;
   * a ping-all under way is dropped. */
  reconnecting() {
    this.steps = new Map();
    // The server cancels a page's probes when its connection goes: a ping-all under way
    // will never end, so it is dropped (answers whether there was one).
    const stopped = this.pingAllRunning;
    if (stopped) this.pingall = null;
    return stopped;
  }

  /** Take one event in; answers the names of the parts that changed. */
  apply(event) {
    this.received += 1;
    switch (event.type) {
      case "deployment": return this.#deployment(event);
      case "step": return this.#step(event);
      case "steps": return [...new Set(event.steps.flatMap((step) => this.#step(step)))];
      case "tables": // node tables published together: each as if it had come alone
        return [...new Set(event.tables
          .filter((table) => TABLES.includes(table.type) && typeof table.node === "string")
          .flatMap((table) => this.#table(table)))];
      case "ping.reply":
        if (!this.ping || this.ping.source !== event.source || this.ping.target !== event.target) {
          this.ping = { source: event.source, target: event.target, replies: [], done: null };
        }
        this.ping.replies.push(event);
        return ["ping"];
      case "ping.done":
        if (!this.ping || this.ping.source !== event.source || this.ping.target !== event.target) {
          this.ping = { source: event.source, target: event.target, replies: [], done: null };
        }
        this.ping.done = event;
        return ["ping"];
      case "pingall.cell":
        if (!this.pingall || this.pingall.done) this.pingall = newPingAll();
        this.pingall.cells.set(cellKey(event), event);
        return ["pingall"];
      case "pingall.cells":
        if (!this.pingall || this.pingall.done) this.pingall = newPingAll();
        for (const cell of event.cells) this.pingall.cells.set(cellKey(cell), cell);
        return ["pingall"];
      case "pingall.progress":
        if (!this.pingall || this.pingall.done) this.pingall = newPingAll();
        this.pingall.progress = event;
        return ["pingall"];
      case "pingall.done":
        if (!this.pingall) this.pingall = newPingAll();
        this.pingall.done = event;
        return ["pingall"];
      case "probe":
        this.probe = event;
        return ["probe"];
      case "error":
        this.error = event;
        return ["error"];
      default:
        if (TABLES.includes(event.type) && typeof event.node === "string") return this.#table(event);
        return [];
    }
  }

  #deployment(event) {
    const other = event.deployment !== this.deployment.deployment;
    // Two messages about one deployment may cross on their way: the later `updated` wins.
    if (!other && event.updated && this.deployment.updated && event.updated < this.deployment.updated) return [];
    const changed = ["deployment"];
    if (other) {
      this.steps = new Map();
      changed.push("steps");
    } else if (event.state === "applying" && this.deployment.state !== "applying") {
      // A new change: its steps replace the last one's (they are numbered from 1 again).
      for (const [key, step] of this.steps) if (step.action === "apply") this.steps.delete(key);
      changed.push("steps");
    }
    // A lab being changed in place keeps running: its tables stay (and show the change).
    const live = event.state === "running" || event.state === "applying";
    if (other || !live) {
      if (TABLES.some((kind) => this.tables[kind].size)) changed.push(...TABLES);
      for (const kind of TABLES) this.tables[kind] = new Map();
      this.fresh = new Map();
      if (!live) {
        // The results of a lab that is gone (or not up yet) are not shown as if current.
        this.pingall = null;
        this.ping = null;
        this.probe = null;
        changed.push("pingall", "ping", "probe");
      }
    }
    this.deployment = { namespaces: {}, error: "", destroyable: false, ...event };
    return changed;
  }

  #step(event) {
    if (this.deployment.deployment !== null && event.deployment !== this.deployment.deployment) return [];
    this.steps.set(stepKey(event), event);
    return ["steps"];
  }

  #table(event) {
    const kind = event.type;
    this.changedNodes.add(event.node);
    const rows = rowsOf(event);
    if (kind === "neighbours") {
      const before = this.tables.neighbours.get(event.node);
      const known = new Set(before ? before.rows.filter((row) => row.mac).map((row) => row.address) : []);
      // The first table of a node is what was there already; later ones show what is new.
      const fresh = before
        ? new Set(rows.filter((row) => row.mac && !known.has(row.address)).map((row) => row.address))
        : new Set();
      const stillFresh = before ? [...(this.fresh.get(event.node) || [])].filter((address) => rows.some((row) => row.address === address)) : [];
      this.fresh.set(event.node, new Set([...stillFresh, ...fresh]));
    }
    const before = this.tables[kind].get(event.node);
    if (kind === "counters" && event.complete === false && before) {
      // Only the interfaces whose counters changed: the others keep their last values.
      const merged = new Map(before.rows.map((row) => [interfaceName(row), row]));
      for (const row of rows) merged.set(interfaceName(row), row);
      this.tables[kind].set(event.node, { netns: event.netns ?? null, rows: [...merged.values()], event });
      return [kind];
    }
    this.tables[kind].set(event.node, { netns: event.netns ?? null, rows, event });
    return [kind];
  }

  /** The nodes whose tables changed since the last call (a deployment that empties the
   * tables says so itself, by its own change). */
  takeChangedNodes() {
    const nodes = this.changedNodes;
    this.changedNodes = new Set();
    return nodes;
  }

  /** The steps in order: the deploy's, then the destroy's, each by index. */
  orderedSteps() {
    const order = { deploy: 0, apply: 1, destroy: 2 };
    return [...this.steps.values()].sort((a, b) =>
      (order[a.action] - order[b.action]) || (a.index - b.index));
  }

  /** {action, done, total, failed} of the phase in progress (or the last one seen). */
  progress() {
    const state = this.state;
    const latest = this.orderedSteps().at(-1);
    let action = latest && latest.action === "apply" ? "apply" : "deploy";
    if (state === "applying") action = "apply";
    if (state === "destroying" || state === "stopped") action = "destroy";
    const steps = this.orderedSteps().filter((step) => step.action === action);
    const total = steps.length ? Math.max(...steps.map((step) => step.total)) : 0;
    const done = steps.filter((step) => step.outcome === "done").length;
    const failed = steps.find((step) => step.outcome === "failed") || null;
    let fraction = total ? done / total : 0;
    if (state === "running" || state === "stopped") fraction = 1;
    return { action, done, total, failed, fraction };
  }

  /** The failed steps of the current deployment. */
  failedSteps() {
    return this.orderedSteps().filter((step) => step.outcome === "failed");
  }

  /**
   * Node id -> "deploying", "running", "failed" or "destroying" for the canvas: every node
   * while the lab comes up or goes; when it failed, the nodes the failed steps name (all of
   * them when no step names one).
   */
  nodeStates(doc) {
    const states = new Map();
    const state = this.state;
    const ids = nodesOf(doc).map((node) => node.id);
    if (state === "queued" || state === "deploying") for (const id of ids) states.set(id, "deploying");
    else if (state === "running") for (const id of ids) states.set(id, "running");
    else if (state === "destroying") for (const id of ids) states.set(id, "destroying");
    else if (state === "failed") {
      const named = new Set(this.failedSteps().flatMap((step) => nodesNamedIn(doc, `${step.description}\n${step.shell}`)));
      for (const id of named.size ? named : ids) states.set(id, "failed");
    }
    return states;
  }

  /** Link index -> "up" or "down" from the interfaces' state (`links` events), if known. */
  linkStates(doc) {
    const states = new Map();
    const tables = this.tables.links;
    if (!tables.size || this.state !== "running") return states;
    // Indexed once: a star of 1000 has 1000 links whose ends sit in one 1000-row table.
    const holders = new Map(nodesOf(doc).map((node) => [node.id, node.kind === "bridge" ? holderOf(doc, node) : node.id]));
    const rows = new Map();
    for (const [namespace, table] of tables) {
      rows.set(namespace, new Map(table.rows.map((row) => [interfaceName(row), row])));
    }
    linksOf(doc).forEach((link, index) => {
      let known = 0;
      let up = true;
      for (const end of link.endpoints || []) {
        const row = rows.get(holders.get(end.node) ?? end.node)?.get(end.interface);
        if (!row) continue;
        known += 1;
        up = up && interfaceUp(row);
      }
      if (known) states.set(index, up ? "up" : "down");
    });
    return states;
  }

  /** Start a ping-all of this page's: it runs until its `pingall.done`. */
  startPingAll() {
    this.pingall = newPingAll();
  }

  /** Whether a ping-all of this page's runs (asked for, not done yet). */
  get pingAllRunning() {
    return Boolean(this.pingall && !this.pingall.done);
  }

  /** Node id -> "reachable", "partial" or "unreachable" from the ping-all's cells. */
  reachability() {
    const marks = new Map();
    if (!this.pingall) return marks;
    const tally = new Map();
    for (const cell of this.pingall.cells.values()) {
      for (const id of [cell.source, cell.target]) {
        const count = tally.get(id) || { good: 0, bad: 0 };
        if (cell.reachable) count.good += 1;
        else count.bad += 1;
        tally.set(id, count);
      }
    }
    for (const [id, { good, bad }] of tally) {
      marks.set(id, bad === 0 ? "reachable" : good === 0 ? "unreachable" : "partial");
    }
    return marks;
  }

  /** The ping-all as a matrix: {sources, columns [{target, address}], cell(source, address)}. */
  matrix() {
    const cells = this.pingall ? [...this.pingall.cells.values()] : [];
    const sources = [...new Set(cells.map((cell) => cell.source))];
    const columns = [];
    const seen = new Set();
    for (const cell of cells) {
      if (seen.has(cell.address)) continue;
      seen.add(cell.address);
      columns.push({ target: cell.target, address: cell.address });
    }
    return { sources, columns, cell: (source, address) => this.pingall?.cells.get(`${source}|${address}`) || null };
  }
}

/** The nodes that have a namespace of their own: the host and the namespaces (not bridges). */
export function namespaceNodes(doc) {
  return nodesOf(doc).filter((node) => node.kind !== "bridge").map((node) => node.id);
}

/** The interfaces a node will have, from the document: [{name, addresses, bridge}]. */
export function plannedInterfaces(doc, nodeId) {
  const rows = [];
  for (const node of nodesOf(doc)) {
    if (node.kind === "bridge" && holderOf(doc, node) === nodeId) {
      rows.push({ name: node.id, addresses: node.addresses || [], bridge: true });
    }
  }
  for (const link of linksOf(doc)) {
    for (const end of link.endpoints || []) {
      if (namespaceOf(doc, end.node) !== nodeId) continue;
      const port = findNode(doc, end.node)?.kind === "bridge" ? end.node : null;
      rows.push({ name: end.interface, addresses: end.addresses || [], port });
    }
  }
  return rows;
}

/** The addresses a ping can target, for the ping tool's suggestions: [{node, address}]. */
export function pingTargets(doc) {
  const targets = [];
  for (const node of nodesOf(doc)) {
    for (const text of node.kind === "bridge" ? node.addresses || [] : []) targets.push({ node: node.id, address: text.split("/")[0] });
  }
  for (const link of linksOf(doc)) {
    for (const end of link.endpoints || []) {
      for (const text of end.addresses || []) targets.push({ node: end.node, address: text.split("/")[0] });
    }
  }
  return targets;
}
