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
