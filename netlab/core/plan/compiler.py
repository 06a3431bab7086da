"""The compiler: a valid document in, the ordered plan of kernel operations that builds it out.

Pure and deterministic. Order, and why: namespaces, then bridges (veth ends need their
master to exist; VLAN filtering set before it has ports), veths, their MTUs (before
addresses: IPv6 needs an MTU of 1280 to stay on), then addresses, links up, VLAN
sub-interfaces with their addresses (a VLAN comes up only on an up parent, and inherits its
MTU), bridge ports' VLANs (on enslaved ports), qdiscs,
sysctls, routes (a route needs its gateway's subnet on an up link), links the design has
down (after the routes, which a down link could not take; routes out of a down link are left
out: the kernel flushes them), nftables, services.

A lab across sites (``naming.part``): only the part's nodes and their ends are built; the end
of a link to another site is a VXLAN device (:class:`AddVxlan`) where a veth would be.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from netlab.core import addressing, names
from netlab.core.document import NAMESPACE_KINDS, Document, Endpoint, Link, Node
from netlab.core.impairments import DEFAULT_MTU
from netlab.core.plan.naming import Naming
from netlab.core.plan.steps import (
    AddAddress,
    AddBridge,
    AddBridgeVlan,
    AddNamespace,
    AddRoute,
    AddVeth,
    AddVlanLink,
    AddVxlan,
    ApplyNftables,
    DeleteBridgeVlan,
    Plan,
    ServiceToStart,
    SetLinkState,
    SetLinkUp,
    SetMtu,
    SetQdisc,
    SetSysctl,
    SetVlanFiltering,
    StartServices,
    Step,
)
from netlab.core.validation import InvalidDesign, validate

DEFAULT_VLAN = 1  # the VLAN a filtering bridge puts every new port in (its default_pvid)


def compile_plan(design: Document, naming: Naming) -> Plan:
    """Return the plan that builds ``design`` under ``naming``.

    Deterministic: the same design and naming give the same plan. Raises
    :class:`InvalidDesign` if the design is not valid (the compiler relies on its references).
    """
    problems = validate(design)
    if problems:
        raise InvalidDesign(problems)
    return _Compiler(design, naming).plan()


class _Compiler:
    def __init__(self, design: Document, naming: Naming) -> None:
        self.design = design
        self.naming = naming
        self.mark = names.ownership_mark(naming.tag)
        self.netns_of_node = naming.namespaces(design)
        self.by_id = {node.id: node for node in design.nodes}
        self.holders = design.holders()
        part = naming.part
        self.local = part.nodes if part is not None else frozenset(self.by_id)
        self.tunnels = {(t.link, t.endpoint): t for t in part.tunnels} if part is not None else {}
        self.addresses_in = self._index_addresses()
        # (namespace node, interface) of every end of a link the design has down.
        self.down_ends = {
            (self.holder(end.node), end.interface)
            for link in design.links
            if not link.up
            for end in link.endpoints
        }
        # A sub-interface goes down with its parent (the 8021q module takes it down).
        self.down_ends |= {
            (node.id, sub.interface)
            for node in design.nodes
            for sub in node.subinterfaces
            if (node.id, sub.parent) in self.down_ends
        }

    def holder(self, node_id: str) -> str:
        """The namespace node holding ``node_id``'s interfaces (a bridge's holder)."""
        return self.holders[node_id]

    def netns(self, node_id: str) -> str | None:
        return self.netns_of_node[self.holder(node_id)]

    def plan(self) -> Plan:
        steps = [
            *self.namespaces(),
            *self.ipv6_at_once(),
            *self.bridges(),
            *self.vlan_filtering(),
            *self.veths(),
            *self.mtus(),
            *self.addresses(),
            *self.links_up(),
            *self.vlan_links(),
            *self.bridge_vlans(),
            *self.qdiscs(),
            *self.sysctls(),
            *self.routes(),
            *self.links_down(),
            *self.nftables(),
            *self.services(),
        ]
        return Plan(
            design_name=self.design.name,
            title=self.design.title,
            naming=self.naming,
            namespaces=dict(self.netns_of_node),
            steps=tuple(steps),
        )

    def namespaces(self) -> Iterator[Step]:
        for node_id, netns in self.netns_of_node.items():
            if netns is not None:
                yield AddNamespace(node=node_id, netns=netns, mark=self.mark)

    def ipv6_at_once(self) -> Iterator[Step]:
        # Measured here: a router resolves a forwarded packet's next hop only from a link-local
        # address that passed duplicate address detection, 1-2 s after its link is up; until
        # then IPv6 across a router fails. A lab's addresses are unique (validation) and its
        # link-local ones come from random MACs: the interfaces made next skip DAD.
        for node in self._namespace_nodes():
            netns = self.netns_of_node[node.id]
            if netns is not None and any(
                address.version == 6 for _, address in self._interface_addresses(node.id)
            ):
                yield SetSysctl(
                    node=node.id, netns=netns, key="net.ipv6.conf.default.accept_dad", value="0"
                )

    def _nodes(self) -> Iterator[Node]:
        """The nodes this plan builds (a part's own, or all)."""
        return (node for node in self.design.nodes if node.id in self.local)

    def _ends(self) -> Iterator[tuple[Link, int, Endpoint]]:
        """Every end of a link on a node this plan builds, with its link and its number."""
        for link in self.design.links:
            for index, end in enumerate(link.endpoints):
                if end.node in self.local:
                    yield link, index, end

    def bridges(self) -> Iterator[Step]:
        for node in self._nodes():
            if node.kind == "bridge":
                yield AddBridge(
                    node=node.id,
                    holder=self.holder(node.id),
                    netns=self.netns(node.id),
                    name=node.id,
                    mark=self.mark,
                )

    def vlan_filtering(self) -> Iterator[Step]:
        for node in self._nodes():
            if node.kind == "bridge" and node.vlan_filtering:
                yield SetVlanFiltering(node=node.id, netns=self.netns(node.id), name=node.id)

    def vlan_links(self) -> Iterator[Step]:
        for node in self._namespace_nodes():
            for sub in node.subinterfaces:
                yield AddVlanLink(
                    node=node.id,
                    netns=self.netns(node.id),
                    name=sub.interface,
                    parent=sub.parent,
                    vlan=sub.vlan,
                    mark=self.mark,
                )
                for address in sub.addresses:
                    yield AddAddress(
                        node=node.id, netns=self.netns(node.id), dev=sub.interface, address=address
                    )

    def bridge_vlans(self) -> Iterator[Step]:
        """An access port joins its VLAN untagged, a trunk its VLANs tagged; both then leave
        VLAN 1, which a port of a filtering bridge is born in (a plain port stays there)."""
        for _, _, end in self._ends():
            if end.vlan is None and not end.trunk:
                continue
            node, netns, dev = end.node, self.netns(end.node), end.interface
            if end.vlan is not None:
                yield AddBridgeVlan(node, netns, dev, end.vlan, untagged=True)
            for vlan in end.trunk:
                yield AddBridgeVlan(node, netns, dev, vlan)
            if DEFAULT_VLAN not in (end.vlan, *end.trunk):
                yield DeleteBridgeVlan(node, netns, dev, DEFAULT_VLAN)

    def _first_end(self, link_index: int) -> int:
        """Which endpoint of a link is created first (with master and up in one request)."""
        ends = self.design.links[link_index].endpoints
        for index, end in enumerate(ends):
            if self.by_id[end.node].kind == "bridge":
                return index
        for index, end in enumerate(ends):
            if self.netns(end.node) is None:
                return index
        return 0

    def _master(self, node_id: str) -> str | None:
        return node_id if self.by_id[node_id].kind == "bridge" else None

    def veths(self) -> Iterator[Step]:
        for index, link in enumerate(self.design.links):
            ours = [end.node in self.local for end in link.endpoints]
            if not all(ours):
                if any(ours):
                    yield self._vxlan(index, ours.index(True))
                continue
            first = self._first_end(index)
            end, peer = link.endpoints[first], link.endpoints[1 - first]
            yield AddVeth(
                node=end.node,
                netns=self.netns(end.node),
                name=end.interface,
                master=self._master(end.node),
                peer_node=peer.node,
                peer_netns=self.netns(peer.node),
                peer_name=peer.interface,
                mark=self.mark,
            )

    def _vxlan(self, link: int, endpoint: int) -> AddVxlan:
        end, tunnel = self.design.links[link].endpoints[endpoint], self.tunnels[link, endpoint]
        return AddVxlan(
            node=end.node,
            netns=self.netns(end.node),
            name=end.interface,
            vni=tunnel.vni,
            local=tunnel.local,
            remote=tunnel.remote,
            mtu=tunnel.mtu,
            mark=self.mark,
        )

    def addresses(self) -> Iterator[Step]:
        for node in self._nodes():
            if node.kind == "bridge":
                for address in node.addresses:
                    yield AddAddress(
                        node=node.id, netns=self.netns(node.id), dev=node.id, address=address
                    )
        for _, _, end in self._ends():
            for address in end.addresses:
                yield AddAddress(
                    node=end.node, netns=self.netns(end.node), dev=end.interface, address=address
                )

    def links_up(self) -> Iterator[Step]:
        for index, link in enumerate(self.design.links):
            ours = [end.node in self.local for end in link.endpoints]
            if not any(ours):
                continue
            # A tunnel's end is created down, like a veth's peer: brought up (and into its
            # bridge) here.
            up = ours.index(True) if not all(ours) else 1 - self._first_end(index)
            peer = link.endpoints[up]
            yield SetLinkUp(
                node=peer.node,
                netns=self.netns(peer.node),
                name=peer.interface,
                master=self._master(peer.node),
                mark=self.mark,
            )

    def mtus(self) -> Iterator[Step]:
        for link, _, end in self._ends():
            if link.mtu is not None:
                yield SetMtu(
                    node=end.node, netns=self.netns(end.node), name=end.interface, mtu=link.mtu
                )

    def qdiscs(self) -> Iterator[Step]:
        for link, index, end in self._ends():
            impairment = link.impairment_of(index)
            if impairment is not None:
                yield SetQdisc(
                    node=end.node,
                    netns=self.netns(end.node),
                    dev=end.interface,
                    impairment=impairment,
                    mtu=link.mtu or DEFAULT_MTU,
                )

    def links_down(self) -> Iterator[Step]:
        for link, _, end in self._ends():
            if not link.up:
                yield SetLinkState(
                    node=end.node, netns=self.netns(end.node), name=end.interface, up=False
                )

    def _index_addresses(self) -> dict[str, list[tuple[str, addressing.IPInterface]]]:
        """``{namespace node: [(interface, address)]}``, built once (designs can be large)."""
        found: dict[str, list[tuple[str, addressing.IPInterface]]] = {}
        for node in self.design.nodes:
            if node.kind == "bridge":
                for text in node.addresses:
                    found.setdefault(self.holder(node.id), []).append(
                        (node.id, addressing.parse_interface_address(text))
                    )
        for link in self.design.links:
            for end in link.endpoints:
                for text in end.addresses:
                    found.setdefault(end.node, []).append(
                        (end.interface, addressing.parse_interface_address(text))
                    )
        for node in self.design.nodes:
            for sub in node.subinterfaces:
                for text in sub.addresses:
                    found.setdefault(node.id, []).append(
                        (sub.interface, addressing.parse_interface_address(text))
                    )
        return found

    def _interface_addresses(self, namespace_node: str) -> list[tuple[str, addressing.IPInterface]]:
        return self.addresses_in.get(namespace_node, [])

    def _namespace_nodes(self) -> Iterator[Node]:
        return (node for node in self._nodes() if node.kind in NAMESPACE_KINDS)

    def sysctls(self) -> Iterator[Step]:
        bridged = {self.holder(node.id) for node in self._nodes() if node.kind == "bridge"}
        for node in self._namespace_nodes():
            netns = self.netns_of_node[node.id]
            if node.id in bridged and netns is not None:
                # Where br_netfilter is loaded (Docker loads it), frames a bridge forwards also
                # pass the namespace's IP hooks: a masquerade would rewrite traffic between two
                # hosts of one bridge. A lab's bridge switches, as on a machine without it (the
                # explainer's model); the host's own namespace is never changed.
                for family in ("iptables", "ip6tables"):
                    yield SetSysctl(
                        node=node.id,
                        netns=netns,
                        value="0",
                        optional=True,
                        key=f"net.bridge.bridge-nf-call-{family}",
                    )
            if not node.forwarding:
                continue
            yield SetSysctl(node=node.id, netns=netns, key="net.ipv4.ip_forward", value="1")
            if any(address.version == 6 for _, address in self._interface_addresses(node.id)):
                yield SetSysctl(
                    node=node.id, netns=netns, key="net.ipv6.conf.all.forwarding", value="1"
                )
        for node in self._namespace_nodes():
            # A link going down drops its IPv6 addresses unless the namespace keeps them.
            if any(
                address.version == 6 and (node.id, name) in self.down_ends
                for name, address in self._interface_addresses(node.id)
            ):
                yield SetSysctl(
                    node=node.id,
                    netns=self.netns_of_node[node.id],
                    key="net.ipv6.conf.all.keep_addr_on_down",
                    value="1",
                )

    def routes(self) -> Iterator[Step]:
        for node in self._namespace_nodes():
            interfaces = self._interface_addresses(node.id)
            for route in node.routes:
                destination = addressing.parse_route_destination(route.to)
                gateway = addressing.parse_address(route.via) if route.via else None
                version = (destination or gateway or ipaddress.IPv4Address(0)).version
                dev = route.dev
                if dev is None and gateway is not None:
                    dev = next(name for name, address in interfaces if gateway in address.network)
                if (node.id, dev) in self.down_ends:
                    continue
                yield AddRoute(
                    node=node.id,
                    netns=self.netns_of_node[node.id],
                    to=route.to,
                    via=route.via,
                    dev=dev,
                    version=version,
                )

    def nftables(self) -> Iterator[Step]:
        for node in self._namespace_nodes():
            if node.nat or node.port_forwards:
                yield ApplyNftables(
                    node=node.id,
                    netns=self.netns_of_node[node.id],
                    table=names.nftables_table(self.naming.tag),
                    nat=node.nat,
                    port_forwards=node.port_forwards,
                )

    def services(self) -> Iterator[Step]:
        services = tuple(
            ServiceToStart(
                node=node.id,
                netns=self.netns_of_node[node.id],
                kind=service.kind,
                port=service.port,
            )
            for node in self._namespace_nodes()
            for service in node.services
        )
        if services:
            yield StartServices(tag=self.naming.tag, services=services)
