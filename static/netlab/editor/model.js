// The netlab/v1 document in the browser: pure functions over plain JSON documents, shaped
// like the server's (netlab/core/document.py, defaults left out as Design.to_data() does).
//
// A document is never changed in place: every edit returns a new document that shares the
// untouched nodes and links with the old one, so the editor keeps whole documents as its
// undo history and the canvas redraws only the objects whose identity changed.
// Validation stays the server's (POST /api/validate); this module only makes documents
// that are valid by construction where it can (unique ids, interface names, addresses).

import { findNode, interfacesIn, linksOf, namespaceOf, nodesOf } from "./readers.js";
import { addressEntries, formatIPv4, networkOf, nextFreeAddress, parseIPv4Interface } from "./addressing.js";
import { CELL, computePositions } from "./layout.js";

// What other modules know as model.*: the readers, the addressing and the layout too.
export * from "./readers.js";
export * from "./addressing.js";
export * from "./layout.js";

export const FORMAT = "netlab/v1";
export const NODE_KINDS = ["host", "namespace", "bridge"];
const INTERFACE_BYTES = 15;
const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;

// Optional fields of a node and a link end, and the value that means "absent".
const NODE_DEFAULTS = {
  label: null, position: null, forwarding: false, nat: [], port_forwards: [], routes: [],
  services: [], in: null, addresses: [], vlan_filtering: false, subinterfaces: [],
};

/** Return `value` without the fields that hold their default (as the server stores it). */
function withoutDefaults(value, defaults) {
  const result = {};
  for (const [key, field] of Object.entries(value)) {
    if (field === undefined) continue;
    if (key in defaults) {
      const fallback = defaults[key];
      if (field === fallback || field === null) continue;
      if (Array.isArray(fallback) && Array.isArray(field) && field.length === 0) continue;
    }
    result[key] = field;
  }
  return result;
}

/** Return a copy of `node` with `changes` applied and default fields dropped. */
export function cleanNode(node, changes = {}) {
  return withoutDefaults({ ...node, ...changes }, NODE_DEFAULTS);
}

function cleanEndpoint(endpoint, changes = {}) {
  return withoutDefaults({ ...endpoint, ...changes }, { addresses: [] });
}

function withNodes(doc, nodes) {
  return { ...doc, nodes };
}

function withLinks(doc, links) {
  const result = { ...doc, links };
  if (links.length === 0) delete result.links;
  return result;
}

// Names

const KIND_PREFIX = { namespace: "ns", bridge: "v-net-", host: "host" };
const KIND_FIRST = { namespace: 1, bridge: 0, host: 1 };

/** The first free id for a new node of `kind`: ns1, ns2... for namespaces, v-net-0... for bridges. */
export function uniqueNodeId(doc, kind, taken = new Set()) {
  const used = new Set([...nodesOf(doc).map((node) => node.id), ...taken]);
  const prefix = KIND_PREFIX[kind] || kind;
  for (let number = KIND_FIRST[kind] ?? 1; ; number += 1) {
    const candidate = `${prefix}${number}`;
    if (!used.has(candidate)) return candidate;
  }
}

/** Why `id` cannot name a node (the server's rule), or null. */
export function nodeIdProblem(doc, id, currentId = null) {
  if (!NODE_ID.test(id)) {
    return `node id '${id}' must be 1-32 letters, digits, '_', '.' or '-', starting with a letter or digit`;
  }
  if (id !== currentId && findNode(doc, id)) return `duplicate node id '${id}': another node already has it`;
  return null;
}

function fitName(base, suffix = "") {
  const room = INTERFACE_BYTES - suffix.length;
  return base.slice(0, room).replace(/[-.]+$/, "") + suffix;
}

/** A free interface name in `namespace` made from `base` (veth-red, then veth-red-2...). */
export function freeInterfaceName(doc, namespace, base, taken = new Set()) {
  const used = new Set([...interfacesIn(doc, namespace), ...taken]);
  const first = fitName(base);
  if (!used.has(first)) return first;
  for (let number = 2; ; number += 1) {
    const candidate = fitName(base, `-${number}`);
    if (!used.has(candidate)) return candidate;
  }
}

/** The tutorial's name for a link end on `nodeId` towards `peerId`: veth-red, veth-red-br. */
export function defaultInterfaceBase(doc, nodeId, peerId) {
  const node = findNode(doc, nodeId);
  return node && node.kind === "bridge" ? `veth-${peerId}-br` : `veth-${nodeId}`;
}

// Edits: each returns a new document (and what it made)

/** Add a node of `kind` at `position`; returns {doc, id}. */
export function addNode(doc, kind, position = null, fields = {}) {
  const id = fields.id || uniqueNodeId(doc, kind);
  const node = cleanNode({ id, kind, ...fields,
    position: position ? { x: Math.round(position.x), y: Math.round(position.y) } : null });
  return { doc: withNodes(doc, [...nodesOf(doc), node]), id };
}

/** The endpoint a new link gives `nodeId` towards `peerId`: default name, suggested address. */
function newEndpoint(doc, nodeId, peerId, taken) {
  const namespace = namespaceOf(doc, nodeId);
  const names = taken.names.get(namespace) || new Set();
  const name = freeInterfaceName(doc, namespace, defaultInterfaceBase(doc, nodeId, peerId), names);
  names.add(name);
  taken.names.set(namespace, names);
  const endpoint = { node: nodeId, interface: name };
  const node = findNode(doc, nodeId);
  const peer = findNode(doc, peerId);
  if (node && peer && node.kind !== "bridge" && peer.kind === "bridge") {
    const address = nextFreeAddress(doc, peerId, taken.addresses);
    if (address) {
      endpoint.addresses = [address];
      taken.addresses.add(parseIPv4Interface(address).ip);
    }
  }
  return endpoint;
}

/** Add a veth link between two nodes with the tutorial's defaults; returns {doc, index}. */
export function addLink(doc, sourceId, targetId) {
  const taken = { names: new Map(), addresses: new Set() };
  const first = newEndpoint(doc, sourceId, targetId, taken);
  const second = newEndpoint(doc, targetId, sourceId, taken);
  const links = [...linksOf(doc), { endpoints: [first, second] }];
  return { doc: withLinks(doc, links), index: links.length - 1 };
}

/** Move nodes: `positions` maps node id to {x, y}. Unchanged nodes keep their identity. */
export function moveNodes(doc, positions) {
  let changed = false;
  const nodes = nodesOf(doc).map((node) => {
    const target = positions[node.id];
    if (!target) return node;
    const position = { x: Math.round(target.x), y: Math.round(target.y) };
    if (node.position && node.position.x === position.x && node.position.y === position.y) {
      return node;
    }
    changed = true;
    return cleanNode(node, { position });
  });
  return changed ? withNodes(doc, nodes) : doc;
}

/** Replace the node `id` by `changes` applied to it (a changed id is a rename). */
export function updateNode(doc, id, changes) {
  if ("id" in changes && changes.id !== id) {
    const { id: newId, ...rest } = changes;
    return renameNode(updateNode(doc, id, rest), id, newId);
  }
  const nodes = nodesOf(doc).map((node) => (node.id === id ? cleanNode(node, changes) : node));
  return withNodes(doc, nodes);
}

/** Rename a node, following every reference: link ends, bridges' `in`, default interface names. */
export function renameNode(doc, oldId, newId) {
  const renamed = (name) => {
    if (name === `veth-${oldId}`) return fitName(`veth-${newId}`);
    if (name === `veth-${oldId}-br`) return fitName(`veth-${newId}-br`);
    return name;
  };
  const nodes = nodesOf(doc).map((node) => {
    if (node.id === oldId) return cleanNode(node, { id: newId });
    if (node.in === oldId) return cleanNode(node, { in: newId });
    return node;
  });
  const links = linksOf(doc).map((link) => {
    if (!(link.endpoints || []).some((end) => end.node === oldId)) return link;
    const endpoints = link.endpoints.map((end) => {
      if (end.node === oldId) return cleanEndpoint(end, { node: newId, interface: renamed(end.interface) });
      return cleanEndpoint(end, { interface: renamed(end.interface) });
    });
    return { ...link, endpoints };
  });
  return withLinks(withNodes(doc, nodes), links);
}

/**
 * Replace one end of link `index` by `changes` applied to it. A renamed end takes its node's
 * sub-interfaces with it (their `parent`), and so the interfaces named after it (`eth0.10`,
 * in routes' `dev`, NAT's `out` and port forwards' `in`); not when another end of that node has
 * the old or the new name (which end the sub-interfaces sit on would be a guess).
 */
export function updateEndpoint(doc, index, end, changes) {
  const before = linksOf(doc)[index]?.endpoints?.[end];
  const links = linksOf(doc).map((link, position) => {
    if (position !== index) return link;
    const endpoints = link.endpoints.map((endpoint, which) =>
      which === end ? cleanEndpoint(endpoint, changes) : endpoint);
    return { ...link, endpoints };
  });
  const renamed = withLinks(doc, links);
  const name = changes.interface;
  if (!before || typeof name !== "string" || name === before.interface) return renamed;
  return followParent(renamed, before.node, before.interface, name);
}

function followParent(doc, nodeId, oldName, newName) {
  const names = linksOf(doc).flatMap((link) => (link.endpoints || [])
    .filter((end) => end.node === nodeId).map((end) => end.interface));
  if (names.includes(oldName) || names.filter((name) => name === newName).length > 1) return doc;
  const node = findNode(doc, nodeId);
  if (!node || !(node.subinterfaces || []).some((sub) => sub.parent === oldName)) return doc;
  const moved = new Map();  // a sub-interface's default name, old to new
  const subinterfaces = node.subinterfaces.map((sub) => {
    if (sub.parent !== oldName) return sub;
    if (!sub.name) moved.set(`${oldName}.${sub.vlan}`, `${newName}.${sub.vlan}`);
    return { ...sub, parent: newName };
  });
  const follow = (value) => (moved.has(value) ? moved.get(value) : value);
  const routes = (node.routes || []).map((route) => (moved.has(route.dev) ? { ...route, dev: follow(route.dev) } : route));
  const nat = (node.nat || []).map((rule) => (moved.has(rule.out) ? { ...rule, out: follow(rule.out) } : rule));
  const forwards = (node.port_forwards || []).map((rule) => (moved.has(rule.in) ? { ...rule, in: follow(rule.in) } : rule));
  const changes = { subinterfaces };
  if (node.routes) changes.routes = routes;
  if (node.nat) changes.nat = nat;
  if (node.port_forwards) changes.port_forwards = forwards;
  return withNodes(doc, nodesOf(doc).map((item) => (item === node ? { ...item, ...changes } : item)));
}

/** Set fields of link `index` itself (impairment, mtu, up); undefined removes one. */
export function updateLink(doc, index, changes) {
  const links = linksOf(doc).map((link, position) => {
    if (position !== index) return link;
    return withoutDefaults({ ...link, ...changes }, { up: true });
  });
  return withLinks(doc, links);
}

/** Set top-level fields (name, title, description). */
export function updateDesign(doc, changes) {
  const result = { ...doc, ...changes };
  for (const key of ["title", "description"]) if (result[key] === "") delete result[key];
  return result;
}

/**
 * Remove nodes (the host excepted) with every link touching them, and links by index.
 * Returns {doc, kept}: `kept` lists the ids that were not removed (the host).
 */
export function removeElements(doc, nodeIds = [], linkIndices = []) {
  const kept = [];
  const gone = new Set();
  for (const id of nodeIds) {
    const node = findNode(doc, id);
    if (!node) continue;
    if (node.kind === "host") kept.push(id);
    else gone.add(id);
  }
  const dropLinks = new Set(linkIndices);
  const nodes = nodesOf(doc).filter((node) => !gone.has(node.id));
  const links = linksOf(doc).filter((link, index) =>
    !dropLinks.has(index) && !(link.endpoints || []).some((end) => gone.has(end.node)));
  return { doc: withLinks(withNodes(doc, nodes), links), kept };
}

/** The nodes (the host excepted) and the links between them, as a clipboard. */
export function copyElements(doc, nodeIds) {
  const ids = new Set(nodeIds.filter((id) => {
    const node = findNode(doc, id);
    return node && node.kind !== "host";
  }));
  const nodes = nodesOf(doc).filter((node) => ids.has(node.id));
  const links = linksOf(doc).filter((link) =>
    (link.endpoints || []).every((end) => ids.has(end.node)));
  return { nodes, links };
}

/**
 * Paste a clipboard: fresh node ids, default interface names, positions shifted by `offset`.
 * Addresses are dropped (pasting them would duplicate them); returns {doc, ids}.
 */
export function pasteElements(doc, clipboard, offset = { x: 40, y: 40 }) {
  const renames = new Map();
  let result = doc;
  const taken = new Set();
  for (const node of clipboard.nodes) {
    const id = uniqueNodeId(result, node.kind, taken);
    taken.add(id);
    renames.set(node.id, id);
  }
  const nodes = clipboard.nodes.map((node) => {
    const position = node.position
      ? { x: node.position.x + offset.x, y: node.position.y + offset.y } : null;
    const inside = node.in && renames.has(node.in) ? renames.get(node.in) : node.in;
    return cleanNode(node, { id: renames.get(node.id), position, in: inside, addresses: [] });
  });
  result = withNodes(result, [...nodesOf(result), ...nodes]);
  for (const link of clipboard.links) {
    const [a, b] = link.endpoints.map((end) => renames.get(end.node));
    const first = freeInterfaceName(result, namespaceOf(result, a), defaultInterfaceBase(result, a, b));
    const same = namespaceOf(result, a) === namespaceOf(result, b);
    const second = freeInterfaceName(result, namespaceOf(result, b),
      defaultInterfaceBase(result, b, a), same ? new Set([first]) : new Set());
    const endpoints = [{ node: a, interface: first }, { node: b, interface: second }];
    result = withLinks(result, [...linksOf(result), { endpoints }]);
  }
  return { doc: result, ids: [...renames.values()] };
}

/**
 * The gateway a node's default route should use: an address on one of the node's subnets
 * held by another namespace, a bridge's address first. Returns the address text or null.
 */
export function gatewayFor(doc, nodeId) {
  const entries = addressEntries(doc);
  const own = entries.filter((entry) => entry.namespace === nodeId)
    .map((entry) => parseIPv4Interface(entry.text)).filter(Boolean);
  const others = entries.filter((entry) => entry.namespace !== nodeId)
    .sort((a, b) => Number(b.bridge) - Number(a.bridge));
  for (const subnet of own) {
    for (const entry of others) {
      const address = parseIPv4Interface(entry.text);
      if (address && networkOf({ ip: address.ip, length: subnet.length }) === networkOf(subnet)) {
        return formatIPv4(address.ip);
      }
    }
  }
  return null;
}

/** Set the node's default route via `gateway` (replacing an existing IPv4 default). */
export function setDefaultRoute(doc, nodeId, gateway) {
  const node = findNode(doc, nodeId);
  const routes = (node.routes || []).filter((route) => !(route.to === "default" || route.to === "0.0.0.0/0"));
  return updateNode(doc, nodeId, { routes: [...routes, { to: "default", via: gateway }] });
}

/**
 * The document with a position on every node: the ones without are laid out among
 * themselves (layout.js), below those that have one.
 */
export function withPositions(doc, { cytoscape } = {}) {
  const missing = nodesOf(doc).filter((node) => !node.position).map((node) => node.id);
  if (!missing.length) return doc;
  const placed = nodesOf(doc).filter((node) => node.position).map((node) => node.position);
  const origin = placed.length
    ? { x: Math.min(...placed.map((p) => p.x)), y: Math.max(...placed.map((p) => p.y)) + 2 * CELL.height }
    : undefined;
  return moveNodes(doc, computePositions(doc, { only: missing, origin, cytoscape }));
}

/** The document without node positions (to compare two documents' topology). */
export function withoutPositions(doc) {
  return withNodes(doc, nodesOf(doc).map((node) => cleanNode(node, { position: null })));
}

// Paths of problems

/**
 * Where a problem's path points: {kind: "node", id, field} for `nodes[3].routes[0].via`,
 * {kind: "link", index, field} for `links[0].endpoints[1].addresses[0]`, {kind: "design",
 * field} otherwise. `field` is the rest of the path (`routes[0].via`), "" for the whole element.
 */
export function targetOfPath(doc, path) {
  const node = /^nodes\[(\d+)\]\.?(.*)$/.exec(path || "");
  if (node) {
    const found = nodesOf(doc)[Number(node[1])];
    if (found) return { kind: "node", id: found.id, index: Number(node[1]), field: node[2] };
  }
  const link = /^links\[(\d+)\]\.?(.*)$/.exec(path || "");
  if (link && linksOf(doc)[Number(link[1])]) {
    return { kind: "link", index: Number(link[1]), field: link[2] };
  }
  return { kind: "design", field: path || "" };
}

/** Whether a document can be shown on the canvas: a mapping with lists of nodes and links. */
export function shapeProblem(data) {
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    return "a design document must be a mapping (a JSON object)";
  }
  if (data.nodes !== undefined && !Array.isArray(data.nodes)) return "nodes must be a list";
  if (data.links !== undefined && !Array.isArray(data.links)) return "links must be a list";
  for (const node of data.nodes || []) {
    if (!node || typeof node !== "object" || typeof node.id !== "string" || !NODE_KINDS.includes(node.kind)) {
      return "every node needs a string id and a kind (host, namespace or bridge)";
    }
  }
  const ids = (data.nodes || []).map((node) => node.id);
  const first = ids.findIndex((id, index) => ids.indexOf(id) !== index);
  if (first >= 0) {
    const id = ids[first];
    const where = ids.flatMap((other, index) => (other === id ? [index + 1] : []));
    return `duplicate node id '${id}' (nodes ${where.join(" and ")}): node ids must be unique`;
  }
  for (const link of data.links || []) {
    const ends = link && link.endpoints;
    if (!Array.isArray(ends) || ends.length !== 2 || ends.some((end) => !end || typeof end.node !== "string" || typeof end.interface !== "string")) {
      return "every link needs two endpoints, each with a node and an interface";
    }
  }
  return null;
}
