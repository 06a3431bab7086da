"""Labs across sites: which node runs where, and the VXLAN tunnels between them. Pure.

A host or namespace node runs on its ``site`` (the document's pin), else on the lab's site
(where it was placed); a bridge runs with the node that holds it. A link whose two ends run
on two sites is a VXLAN tunnel: on each site, its end is a ``vxlan`` device (VNI
:func:`vni`, UDP port 4789, local and remote the two sites' underlay addresses) in the
end's namespace, where a veth end would have been. Each site builds its :class:`Part` of
the lab: its own nodes, the links between them, and its ends of the tunnels.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from netlab.core import names
from netlab.core.document import NAMESPACE_KINDS, Document

VXLAN_PORT = 4789  # IANA's
# What VXLAN adds to each frame: outer IP (20 or 40), UDP (8), VXLAN (8) and the inner
# Ethernet header (14). A tunnel end's MTU is the underlay's 1500 less this, unless the link
# sets its own ``mtu`` (the user raised the underlay's).
OVERHEAD = {4: 50, 6: 70}
UNDERLAY_MTU = 1500
MAX_TUNNELS = 16  # a lab's cross-site links: VNIs are 16 per deployment (see vni)
MAX_VNI = 2**24 - 1


class PartError(ValueError):
    """A part that cannot be built as described; the message says why."""


def node_sites(document: Document, placed: str) -> dict[str, str]:
    """Return ``{node id: site}`` for every node: its pin, else ``placed``; a bridge its
    holder's."""
    own = {node.id: node.site or placed for node in document.nodes if node.kind in NAMESPACE_KINDS}
    holders = document.holders()
    return {node.id: own.get(holders[node.id], placed) for node in document.nodes}


def pinned(document: Document) -> list[str]:
    """The sites the document's nodes are pinned to, in document order, each once."""
    return list(dict.fromkeys(node.site for node in document.nodes if node.site))


def vni(deployment_number: int, ordinal: int) -> int:
    """The VNI of a deployment's ``ordinal``-th tunnel (0-15): unique among the labs of
    deployment numbers (database ids) less than about a million apart, and within 24 bits."""
    if not 0 <= ordinal < MAX_TUNNELS:
        raise PartError(f"a lab has at most {MAX_TUNNELS} links between sites")
    return (deployment_number % (MAX_VNI // MAX_TUNNELS) + 1) * MAX_TUNNELS + ordinal


@dataclass(frozen=True)
class Tunnel:
    """This site's end of a link between two sites: link ``link`` (its index) ends here at
    ``endpoint`` (0 or 1); a VXLAN device with ``vni`` from ``local`` to ``remote``."""

    link: int
    endpoint: int
    vni: int
    local: str
    remote: str
    mtu: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "link": self.link,
            "endpoint": self.endpoint,
            "vni": self.vni,
            "local": self.local,
            "remote": self.remote,
            "mtu": self.mtu,
        }


@dataclass(frozen=True)
class Part:
    """What one site builds of a lab: its ``nodes`` (ids) and its ``tunnels``' ends."""

    site: str
    nodes: frozenset[str]
    tunnels: tuple[Tunnel, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "nodes": sorted(self.nodes),
            "tunnels": [tunnel.as_dict() for tunnel in self.tunnels],
        }

    @classmethod
    def from_dict(cls, data: Any, document: Document) -> Part:
        """Read a stored part of ``document``, checking every field (the row is not to be
        believed); raise :class:`PartError`."""
        try:
            site, nodes, tunnels = data["site"], data["nodes"], data["tunnels"]
            known = {node.id for node in document.nodes}
            if not isinstance(site, str) or names.site_name_problem(site):
                raise PartError(f"{site!r} is not a site name")
            if not isinstance(nodes, list) or not set(nodes) <= known:
                raise PartError("the part names nodes the design does not have")
            read = tuple(_tunnel(item, document) for item in tunnels)
        except (KeyError, TypeError) as error:
            raise PartError(f"the part is not well formed ({error})") from None
        return cls(site, frozenset(nodes), read)


def _tunnel(data: dict[str, Any], document: Document) -> Tunnel:
    link, endpoint, number, mtu = (data[key] for key in ("link", "endpoint", "vni", "mtu"))
    for value in (link, endpoint, number, mtu):
        if not isinstance(value, int) or isinstance(value, bool):
            raise PartError(f"{value!r} is not a number")
    if not 0 <= link < len(document.links) or endpoint not in (0, 1):
        raise PartError(f"link {link} end {endpoint} is not in the design")
    if not 1 <= number <= MAX_VNI or not 68 <= mtu <= 65535:
        raise PartError(f"VNI {number} or MTU {mtu} is out of range")
    try:
        local, remote = (str(ipaddress.ip_address(data[key])) for key in ("local", "remote"))
    except ValueError as error:
        raise PartError(str(error)) from None
    return Tunnel(link, endpoint, number, local, remote, mtu)


def parts(
    document: Document, placed: str, underlays: dict[str, str], deployment_number: int
) -> list[Part]:
    """Return each site's part of ``document`` placed on ``placed``, the lab's own site
    first; one part (with no tunnels) when every node runs there.

    ``underlays`` maps each site to its underlay address (both ends of a tunnel use the same
    IP version). Raises :class:`PartError` for a site without an underlay, more tunnels
    than :data:`MAX_TUNNELS`, or underlays of two IP versions.
    """
    where = node_sites(document, placed)
    order = list(dict.fromkeys([placed, *where.values()]))
    missing = [site for site in order if site not in underlays]
    if missing:
        raise PartError(f"no underlay address for site {missing[0]!r}")
    ends: dict[str, list[Tunnel]] = {site: [] for site in order}
    crossing = [
        index
        for index, link in enumerate(document.links)
        if where[link.endpoints[0].node] != where[link.endpoints[1].node]
    ]
    for ordinal, index in enumerate(crossing):
        number = vni(deployment_number, ordinal)
        sites = [where[end.node] for end in document.links[index].endpoints]
        addresses = [ipaddress.ip_address(underlays[site]) for site in sites]
        if addresses[0].version != addresses[1].version:
            raise PartError(f"sites {sites[0]} and {sites[1]} have underlays of two IP versions")
        mtu = document.links[index].mtu or UNDERLAY_MTU - OVERHEAD[addresses[0].version]
        for endpoint in (0, 1):
            ends[sites[endpoint]].append(
                Tunnel(
                    index,
                    endpoint,
                    number,
                    str(addresses[endpoint]),
                    str(addresses[1 - endpoint]),
                    mtu,
                )
            )
    return [
        Part(
            site,
            frozenset(node for node, its in where.items() if its == site),
            tuple(ends[site]),
        )
        for site in order
        if any(its == site for its in where.values()) or site == placed
    ]
