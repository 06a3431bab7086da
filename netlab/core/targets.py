"""What a probe aims at: a node's addresses, and a target given as a node id or an address.

Pure: questions about a document, answered from the document alone.
"""

from __future__ import annotations

from netlab.core.document import Document


class NoAddress(ValueError):
    """A node was named as a target but has no address to reach it by."""


def node_addresses(document: Document, node_id: str) -> list[str]:
    """Return the addresses (without prefix) of ``node_id``'s interfaces, in document order.

    For a bridge, the bridge's own addresses; for the host and namespaces, those of their
    link ends, then of their VLAN sub-interfaces. An unknown node has none.
    """
    texts: list[str] = []
    node = document.node(node_id)
    if node is not None and node.kind == "bridge":
        texts += node.addresses
    for link in document.links:
        for endpoint in link.endpoints:
            if endpoint.node == node_id:
                texts += endpoint.addresses
    if node is not None:
        for sub in node.subinterfaces:
            texts += sub.addresses
    return [text.split("/")[0] for text in texts]


def resolve_target(document: Document, target: str) -> str:
    """Return ``target`` as an address: itself if it names no node, else the node's first address.

    Raises :class:`NoAddress` for a node without addresses. The text is not checked to be an
    address: the probe that uses it refuses one that is not.
    """
    if document.node(target) is None:
        return target
    addresses = node_addresses(document, target)
    if not addresses:
        raise NoAddress(f"{target} has no address to reach")
    return addresses[0]


def interfaces_of(document: Document, node_id: str) -> list[str]:
    """Return the interfaces the namespace of ``node_id`` has: its loopback, its link ends,
    the bridges it holds with their ports, and its VLAN sub-interfaces. Empty for a node that is
    not a namespace."""
    holders = document.holders()
    if holders.get(node_id) != node_id:
        return []
    found = ["lo"]
    for node in document.nodes:
        if node.kind == "bridge" and holders.get(node.id) == node_id:
            found.append(node.id)
    for link in document.links:
        for endpoint in link.endpoints:
            if holders.get(endpoint.node) == node_id:
                found.append(endpoint.interface)
    namespace = document.node(node_id)
    if namespace is not None:
        found += [sub.interface for sub in namespace.subinterfaces]
    return found
