// Reading a netlab/v1 document in the browser: which nodes and links it has, and which
// namespace node holds what (the server's Document.holders rule, netlab/core/document.py).

export function nodesOf(doc) {
  return Array.isArray(doc.nodes) ? doc.nodes : [];
}

export function linksOf(doc) {
  return Array.isArray(doc.links) ? doc.links : [];
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
