// IPv4 addresses of a document in the browser, to suggest free ones (IPv6 addresses are kept
// as typed and never suggested). Validation stays the server's.

import { findNode, holderOf, linksOf, namespaceOf, nodesOf } from "./readers.js";

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

export function maskOf(length) {
  return length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
}

export function networkOf({ ip, length }) {
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

// Suggestions for any address field: IPv4 and IPv6, as big integers so one piece of
// arithmetic serves both families.

const V6_GROUPS = 8;

function parseIPv6(text) {
  if (!/^[0-9A-Fa-f:.]+$/.test(text) || (text.match(/::/g) || []).length > 1) return null;
  let head = text;
  let tailGroups = [];
  const v4 = /(^|:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (v4) {
    const ip = parseIPv4(v4[2]);
    if (ip === null) return null;
    tailGroups = [ip >>> 16, ip & 0xffff];
    head = text.slice(0, text.length - v4[2].length);
    if (head.endsWith(":") && !head.endsWith("::")) head = head.slice(0, -1);
  }
  const [left, right] = head.includes("::") ? head.split("::") : [head, null];
  const groups = (part) => (part === "" ? [] : part.split(":"));
  const leftGroups = groups(left);
  const rightGroups = right === null ? [] : groups(right);
  if ([...leftGroups, ...rightGroups].some((group) => !/^[0-9A-Fa-f]{1,4}$/.test(group))) return null;
  const known = leftGroups.length + rightGroups.length + tailGroups.length;
  if (right === null ? known !== V6_GROUPS : known > V6_GROUPS - 1) return null;
  const all = [...leftGroups.map((group) => parseInt(group, 16)),
    ...Array(V6_GROUPS - known).fill(0),
    ...rightGroups.map((group) => parseInt(group, 16)), ...tailGroups];
  return all.reduce((value, group) => (value << 16n) | BigInt(group), 0n);
}

function formatIPv6(value) {
  const groups = [];
  for (let index = V6_GROUPS - 1; index >= 0; index -= 1) {
    groups.push(Number((value >> BigInt(index * 16)) & 0xffffn));
  }
  // RFC 5952: the longest run (two or more) of zero groups, the first of equals, becomes "::".
  let best = { start: -1, length: 1 };
  for (let start = 0; start < V6_GROUPS; start += 1) {
    let length = 0;
    while (start + length < V6_GROUPS && groups[start + length] === 0) length += 1;
    if (length > best.length) best = { start, length };
  }
  const hex = groups.map((group) => group.toString(16));
  if (best.start < 0) return hex.join(":");
  return `${hex.slice(0, best.start).join(":")}::${hex.slice(best.start + best.length).join(":")}`;
}

/**
 * Parse an interface address of either family: {version, bits, ip (BigInt), length}, or null.
 * "192.168.15.1/24" -> {version: 4, bits: 32, ip: 3232239361n, length: 24}.
 */
export function parseInterface(text) {
  const v4 = parseIPv4Interface(text);
  if (v4) return { version: 4, bits: 32, ip: BigInt(v4.ip), length: v4.length };
  const match = /^([^/]+)\/(\d{1,3})$/.exec(String(text).trim());
  if (!match || Number(match[2]) > 128) return null;
  const ip = parseIPv6(match[1]);
  return ip === null ? null : { version: 6, bits: 128, ip, length: Number(match[2]) };
}

/** The address text of `ip` (BigInt) of `version`, with "/length". */
export function formatInterface(version, ip, length) {
  return `${version === 4 ? formatIPv4(Number(ip)) : formatIPv6(ip)}/${length}`;
}

/** The first and last address of a subnet an interface may take, as BigInts (the
 * server's rule: IPv4 up to /30 loses its network and broadcast addresses; a /31 has two
 * and a /32 one; IPv6 starts after the subnet-router address ::). */
function usableRange({ version, bits, ip, length }) {
  const size = 1n << BigInt(bits - length);
  const network = (ip >> BigInt(bits - length)) << BigInt(bits - length);
  const last = network + size - 1n;
  if (version === 4) return length >= 31 ? [network, last] : [network + 1n, last - 1n];
  return length >= 127 ? [network, last] : [network + 1n, last];
}

function sameSubnet(a, b) {
  if (a.version !== b.version || a.length !== b.length) return false;
  const shift = BigInt(a.bits - a.length);
  return a.ip >> shift === b.ip >> shift;
}

/**
 * The segment of an interface: the addresses of the other interfaces on the same wire, as
 * parsed interfaces. `place` is {link, end} (a link end: the other end of a veth straight
 * to a node, or, when the peer is a bridge, the bridge's own addresses and its other ports'
 * peers) or {bridge} (a bridge's own address: its ports' peers). A bridge port takes no
 * address: its segment is empty.
 */
export function segmentAddresses(doc, place) {
  const bridgeSegment = (bridgeId, except) => {
    const bridge = findNode(doc, bridgeId);
    const texts = place.bridge === bridgeId ? [] : [...(bridge?.addresses || [])];
    linksOf(doc).forEach((link, index) => {
      const ends = link.endpoints || [];
      if (!ends.some((end) => end.node === bridgeId)) return;
      ends.forEach((end, which) => {
        if (end.node === bridgeId || (index === except?.link && which === except?.end)) return;
        texts.push(...(end.addresses || []));
      });
    });
    return texts;
  };
  let texts = [];
  if (place.bridge !== undefined) {
    texts = bridgeSegment(place.bridge, null);
  } else {
    const ends = linksOf(doc)[place.link]?.endpoints || [];
    const own = findNode(doc, ends[place.end]?.node);
    const peerEnd = ends[1 - place.end];
    const peer = peerEnd && findNode(doc, peerEnd.node);
    if (!own || own.kind === "bridge" || !peerEnd) return [];
    texts = peer && peer.kind === "bridge" ? bridgeSegment(peer.id, place) : [...(peerEnd.addresses || [])];
  }
  return texts.map(parseInterface).filter(Boolean);
}

// Documents are never changed in place (model.js), so the addresses a document uses are
// read once per document: the panel asks for a suggestion per interface row.
const usedByDocument = new WeakMap();

/** The addresses `doc` uses, as a set of "version:integer" keys. */
function usedAddresses(doc) {
  let used = usedByDocument.get(doc);
  if (!used) {
    used = new Set();
    for (const entry of addressEntries(doc)) {
      const parsed = parseInterface(entry.text);
      if (parsed) used.add(`${parsed.version}:${parsed.ip}`);
    }
    usedByDocument.set(doc, used);
  }
  return used;
}

/** The address texts the interface at `place` has now ({link, end} or {bridge}). */
function ownAddresses(doc, place) {
  if (place.bridge !== undefined) return findNode(doc, place.bridge)?.addresses || [];
  return linksOf(doc)[place.link]?.endpoints?.[place.end]?.addresses || [];
}

/**
 * The next free address for the interface at `place` ({link, end} or {bridge}): the lowest
 * address that no interface of the document uses, in the first subnet of its segment (see
 * segmentAddresses) that the interface has no address in yet. Answers "a.b.c.d/len" (or an
 * IPv6 text), or null: no addressed neighbour, the subnet is full, or the interface is a
 * bridge port. `taken` holds address texts to avoid as well (rows not in the document yet).
 */
export function suggestAddress(doc, place, taken = []) {
  const mine = ownAddresses(doc, place).map(parseInterface).filter(Boolean);
  const used = usedAddresses(doc);
  const extra = new Set();
  for (const text of taken) {
    const parsed = parseInterface(text);
    if (parsed) extra.add(`${parsed.version}:${parsed.ip}`);
  }
  for (const subnet of segmentAddresses(doc, place)) {
    if (mine.some((address) => sameSubnet(address, subnet))) continue;
    const [first, last] = usableRange(subnet);
    // Stops at the first free address: at most one step more than there are used ones.
    for (let ip = first; ip <= last; ip += 1n) {
      const key = `${subnet.version}:${ip}`;
      if (!used.has(key) && !extra.has(key)) return formatInterface(subnet.version, ip, subnet.length);
    }
  }
  return null;
}
