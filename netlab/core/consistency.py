"""Warnings: what a design may hold but probably should not, told without refusing it.

A warning is a :class:`Problem` with ``severity`` "warning": located like a problem, never
blocking a save, a deploy or an apply. Today they are about MTUs that disagree where frames
meet: the ports of a bridge (the kernel gives a bridge its smallest port's MTU and drops a
frame larger than the port it leaves by), and a VLAN sub-interface, which takes its parent's
MTU, facing larger ports in its VLAN.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from netlab.core.document import Document, Link
from netlab.core.problems import Problem

# What a veth gets when the design says nothing.
DEFAULT_MTU = 1500
# A port of a filtering bridge with neither ``vlan`` nor ``trunk`` is in the default VLAN.
DEFAULT_VLAN = 1
WARNING = "warning"


@dataclass(frozen=True)
class _Port:
    link: int
    interface: str
    mtu: int
    written: bool  # the link names its MTU (else it is the default)
    vlans: frozenset[int] | None  # None: every VLAN (a bridge that does not filter)

    def meets(self, vlans: frozenset[int] | None) -> bool:
        return self.vlans is None or vlans is None or bool(self.vlans & vlans)


def warnings(design: Document) -> list[Problem]:
    """Return the warnings of ``design``, in document order (elements unnamed: see
    :func:`netlab.core.problems.name_elements`)."""
    ports = _ports(design)
    found = list(_bridge_ports(ports)) + list(_subinterfaces(design, ports))
    return sorted(found, key=lambda warning: _order(warning.path))


def _mtu(link: Link) -> int:
    return link.mtu if link.mtu is not None else DEFAULT_MTU


def _ports(design: Document) -> dict[str, list[_Port]]:
    """Each bridge's ports, by bridge id."""
    bridges = {node.id: node for node in design.nodes if node.kind == "bridge"}
    found: dict[str, list[_Port]] = {bridge: [] for bridge in bridges}
    for index, link in enumerate(design.links):
        for endpoint in link.endpoints:
            bridge = bridges.get(endpoint.node)
            if bridge is None:
                continue
            vlans: frozenset[int] | None = None
            if bridge.vlan_filtering:
                if endpoint.vlan is not None:
                    vlans = frozenset({endpoint.vlan})
                else:
                    vlans = frozenset(endpoint.trunk) or frozenset({DEFAULT_VLAN})
            written = link.mtu is not None
            found[bridge.id].append(_Port(index, endpoint.interface, _mtu(link), written, vlans))
    return found


def _bridge_ports(ports: dict[str, list[_Port]]) -> Iterator[Problem]:
    """A port larger than the smallest port it shares a VLAN with, once per link."""
    told: set[int] = set()
    for bridge, members in ports.items():
        for port in members:
            peers = [other for other in members if other is not port and other.meets(port.vlans)]
            smallest = min(peers, key=lambda other: other.mtu, default=None)
            if smallest is None or smallest.mtu >= port.mtu or port.link in told:
                continue
            told.add(port.link)
            yield Problem(
                f"links[{port.link}]" + (".mtu" if port.written else ""),
                f"{port.interface} is a port of bridge {bridge} with MTU {port.mtu}, larger "
                f"than its port {smallest.interface}'s {smallest.mtu}: frames over "
                f"{smallest.mtu} bytes are dropped there (give the bridge's ports one MTU)",
                severity=WARNING,
            )


def _subinterfaces(design: Document, ports: dict[str, list[_Port]]) -> Iterator[Problem]:
    """A sub-interface (its parent's MTU) smaller than a port of its VLAN across a bridge."""
    for node_index, node in enumerate(design.nodes):
        for index, sub in enumerate(node.subinterfaces):
            parent = next(
                (
                    (link_index, link, end)
                    for link_index, link in enumerate(design.links)
                    for end, endpoint in enumerate(link.endpoints)
                    if endpoint.node == node.id and endpoint.interface == sub.parent
                ),
                None,
            )
            if parent is None:
                continue  # a problem, told by validation
            link_index, link, end = parent
            far = link.endpoints[1 - end].node
            vlans = frozenset({sub.vlan})
            peers = [
                port
                for port in ports.get(far, [])
                if port.link != link_index and port.meets(vlans) and port.mtu > _mtu(link)
            ]
            if not peers:
                continue
            larger = max(peers, key=lambda port: port.mtu)
            yield Problem(
                f"nodes[{node_index}].subinterfaces[{index}]",
                f"{sub.interface} takes {sub.parent}'s MTU, {_mtu(link)}, smaller than the "
                f"{larger.mtu} of {larger.interface} in VLAN {sub.vlan} on bridge {far}: "
                f"frames over {_mtu(link)} bytes from there are dropped",
                severity=WARNING,
            )


def _order(path: str) -> tuple[int, int, str]:
    """Nodes before links, each by index: the order of the document."""
    kind, _, rest = path.partition("[")
    number = rest.partition("]")[0]
    return (0 if kind == "nodes" else 1, int(number) if number.isdigit() else 0, path)
