// The netlab/v1 document in the browser: pure functions over plain JSON documents, shaped
// like the server's (netlab/core/document.py, defaults left out as Design.to_data() does).
//
// A document is never changed in place: every edit returns a new document that shares the
// untouched nodes and links with the old one, so the editor keeps whole documents as its
// undo history and the canvas redraws only the objects whose identity changed.
// Validation stays the server's (POST /api/validate); this module only makes documents
// that are valid by construction where it can (unique ids, interface names, addresses).

export const FORMAT = "netlab/v1";
export const NODE_KINDS = ["host", "namespace", "bridge"];
const NAMESPACE_KINDS = new Set(["host", "namespace"]);
const INTERFACE_BYTES = 15;
const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;

// The server's layered layout (netlab/core/layout.py), mirrored; tests/js/server-cases.test.mjs
// checks both answer the same, as it does for the node-id rule (netlab/core/names.py).
export const COLUMN_WIDTH = 160;
export const ROW_HEIGHT = 140;
export const MARGIN = 60;

// Optional fields of a node and a link end, and the value that means "absent".
const NODE_DEFAULTS = {
  label: null, position: null, forwarding: false, nat: [], port_forwards: [], routes: [],
  services: [], in: null, addresses: [],
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

export function nodesOf(doc) {
  return Array.isArray(doc.nodes) ? doc.nodes : [];
}

export function linksOf(doc) {
  return Array.isArray(doc.links) ? doc.links : [];
}

function withNodes(doc, nodes) {
  return { ...doc, nodes };
}

function withLinks(doc, links) {
  const result = { ...doc, links };
  if (links.length === 0) delete result.links;
  return result;
}

export function findNode(doc, id) {
  return nodesOf(doc).find((node) => node.id === id) || null;
}

export function nodeIndex(doc, id) {
  return nodesOf(doc).findIndex((node) => node.id === id);
}

export function hostOf(doc) {
  return nodesOf(doc).find((node) => node.kind === "host") || null;
}

/** The id of the namespace node holding a bridge: its `in`, else the host node. */
export function holderOf(doc, bridge) {
  if (bridge.in) return bridge.in;
  const host = hostOf(doc);
  return host ? host.id : "host";
}

/** The id of the namespace node whose interfaces an endpoint on `nodeId` becomes. */
export function namespaceOf(doc, nodeId) {
  const node = findNode(doc, nodeId);
  return node && node.kind === "bridge" ? holderOf(doc, node) : nodeId;
}

/** The interface names living in the namespace node `namespace` (bridges included). */
export function interfacesIn(doc, namespace) {
  const names = new Set();
  for (const node of nodesOf(doc)) {
    if (node.kind === "bridge" && holderOf(doc, node) === namespace) names.add(node.id);
  }
  for (const link of linksOf(doc)) {
    for (const endpoint of link.endpoints || []) {
      if (namespaceOf(doc, endpoint.node) === namespace) names.add(endpoint.interface);
    }
  }
  return names;
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
  if (id !== currentId && findNode(doc, id)) return `duplicate node id '${id}'`;
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

// Addresses (IPv4; IPv6 addresses are kept as typed and never suggested)

/** Parse "a.b.c.d/len" into {ip, length} as unsigned integers, or null. */
export function parseIPv4Interface(text) {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(String(text).trim());
  if (!match) return null;
  const octets = match.slice(1, 5).map(Number);
  const length = Number(match[5]);
  if (octets.some((octet) => octet > 255) || length > 32) return null;
  const ip = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
  return { ip, length };
}

export function parseIPv4(text) {
  const parsed = parseIPv4Interface(`${String(text).trim()}/32`);
  return parsed ? parsed.ip : null;
}

export function formatIPv4(ip) {
  return [24, 16, 8, 0].map((shift) => (ip >>> shift) & 255).join(".");
}

function maskOf(length) {
  return length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
}

function networkOf({ ip, length }) {
  return (ip & maskOf(length)) >>> 0;
}

/** Every address text of the document, with the node (namespace) and interface holding it. */
export function addressEntries(doc) {
  const entries = [];
  nodesOf(doc).forEach((node, index) => {
    if (node.kind !== "bridge") return;
    (node.addresses || []).forEach((text, position) => {
      entries.push({ text, namespace: holderOf(doc, node), node: node.id, interface: node.id,
        bridge: true, path: `nodes[${index}].addresses[${position}]` });
    });
  });
  linksOf(doc).forEach((link, linkIndex) => {
    (link.endpoints || []).forEach((endpoint, end) => {
      (endpoint.addresses || []).forEach((text, position) => {
        entries.push({ text, namespace: namespaceOf(doc, endpoint.node), node: endpoint.node,
          interface: endpoint.interface, bridge: false,
          path: `links[${linkIndex}].endpoints[${end}].addresses[${position}]` });
      });
    });
  });
  return entries;
}

/** The IPv4 subnet {ip, length} a bridge's ports share: its own address, else a port's. */
export function bridgeSubnet(doc, bridgeId) {
  const bridge = findNode(doc, bridgeId);
  if (!bridge || bridge.kind !== "bridge") return null;
  for (const text of bridge.addresses || []) {
    const parsed = parseIPv4Interface(text);
    if (parsed) return parsed;
  }
  for (const link of linksOf(doc)) {
    const ends = link.endpoints || [];
    if (!ends.some((end) => end.node === bridgeId)) continue;
    for (const end of ends) {
      if (end.node === bridgeId) continue;
      for (const text of end.addresses || []) {
        const parsed = parseIPv4Interface(text);
        if (parsed) return parsed;
      }
    }
  }
  return null;
}

/** The lowest address of the bridge's subnet no interface uses yet, as "a.b.c.d/len", or null. */
export function nextFreeAddress(doc, bridgeId, taken = new Set()) {
  const subnet = bridgeSubnet(doc, bridgeId);
  if (!subnet || subnet.length > 30) return null;
  const used = new Set(taken);
  for (const entry of addressEntries(doc)) {
    const ip = parseIPv4Interface(entry.text);
    if (ip) used.add(ip.ip);
  }
  const network = networkOf(subnet);
  const last = (network + 2 ** (32 - subnet.length) - 1) >>> 0; // the broadcast address
  for (let ip = network + 1; ip < last; ip += 1) {
    if (!used.has(ip >>> 0)) return `${formatIPv4(ip >>> 0)}/${subnet.length}`;
  }
  return null;
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

/** Replace one end of link `index` by `changes` applied to it. */
export function updateEndpoint(doc, index, end, changes) {
  const links = linksOf(doc).map((link, position) => {
    if (position !== index) return link;
    const endpoints = link.endpoints.map((endpoint, which) =>
      which === end ? cleanEndpoint(endpoint, changes) : endpoint);
    return { ...link, endpoints };
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

// Layout

/** Each node's row: its distance in links from the host (netlab/core/layout.py's layers). */
export function layers(doc) {
  const neighbours = new Map();
  const join = (a, b) => {
    if (!neighbours.has(a)) neighbours.set(a, new Set());
    if (!neighbours.has(b)) neighbours.set(b, new Set());
    neighbours.get(a).add(b);
    neighbours.get(b).add(a);
  };
  for (const link of linksOf(doc)) {
    const [first, second] = (link.endpoints || []).map((end) => end.node);
    if (first !== undefined && second !== undefined) join(first, second);
  }
  for (const node of nodesOf(doc)) if (node.kind === "bridge") join(holderOf(doc, node), node.id);
  const row = new Map();
  const host = hostOf(doc);
  const queue = host ? [host.id] : [];
  if (host) row.set(host.id, 0);
  while (queue.length) {
    const current = queue.shift();
    for (const other of [...(neighbours.get(current) || [])].sort()) {
      if (!row.has(other)) {
        row.set(other, row.get(current) + 1);
        queue.push(other);
      }
    }
  }
  const deepest = Math.max(-1, ...row.values());
  for (const node of nodesOf(doc)) if (!row.has(node.id)) row.set(node.id, deepest + 1);
  return row;
}

/**
 * Positions for `ids` (default: every node) in the layered layout, as {id: {x, y}}; with
 * `below`, the rows start under the nodes that keep their positions.
 */
export function layeredPositions(doc, ids = null, { below = false } = {}) {
  const wanted = new Set(ids || nodesOf(doc).map((node) => node.id));
  const placed = nodesOf(doc).filter((node) => !wanted.has(node.id) && node.position);
  let top = MARGIN;
  if (below && placed.length) top = Math.max(...placed.map((node) => node.position.y)) + ROW_HEIGHT;
  const rowOf = layers(doc);
  const rows = new Map();
  for (const node of nodesOf(doc)) {
    if (!wanted.has(node.id)) continue;
    const row = rowOf.get(node.id);
    if (!rows.has(row)) rows.set(row, []);
    rows.get(row).push(node.id);
  }
  const widest = Math.max(0, ...[...rows.values()].map((members) => members.length));
  const positions = {};
  [...rows.keys()].sort((a, b) => a - b).forEach((row, number) => {
    const members = rows.get(row);
    const offset = ((widest - members.length) * COLUMN_WIDTH) / 2;
    members.forEach((id, column) => {
      positions[id] = { x: Math.round(MARGIN + offset + column * COLUMN_WIDTH),
        y: Math.round(top + number * ROW_HEIGHT) };
    });
  });
  return positions;
}

/** The document with a position on every node (the ones without get the layered layout). */
export function withPositions(doc) {
  const missing = nodesOf(doc).filter((node) => !node.position).map((node) => node.id);
  if (!missing.length) return doc;
  return moveNodes(doc, layeredPositions(doc, missing, { below: true }));
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
  if (new Set(ids).size !== ids.length) return "node ids must be unique";
  for (const link of data.links || []) {
    const ends = link && link.endpoints;
    if (!Array.isArray(ends) || ends.length !== 2 || ends.some((end) => !end || typeof end.node !== "string" || typeof end.interface !== "string")) {
      return "every link needs two endpoints, each with a node and an interface";
    }
  }
  return null;
}
