"""Why a packet arrives or not: a design's paths, hop by hop, predicted from the document.

Pure: the design is the truth table. A packet from a node to an address is walked the way
Linux would: at each node local delivery first (any address of the node, the loopback
included), then — if it arrived from elsewhere — forwarding must be on; the route is the
longest prefix among the connected subnets and the node's routes; the next hop is its
gateway, or the destination itself on a connected subnet, and must be owned by some node on
the outgoing interface's segment (a veth's other end, or anything on the same bridge: a
bridge forwards within its segment whatever IP forwarding says, and a node answers ARP for
any of its addresses). Port forwards rewrite the destination as packets arrive (DNAT, on any
packet to their port, as the nftables rule does), masquerade rewrites the source as they
leave, and the reply is walked back from the node that took the request, conntrack undoing
the masquerade where it was done.

What it cannot decide (IPv6 link-local targets, a packet with no source address) it says so
(``unknown``), never guesses.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from typing import Any, Literal, get_args

from netlab.core import addressing
from netlab.core.document import NAMESPACE_KINDS, Document
from netlab.core.impairments import impairment_summary
from netlab.core.targets import node_addresses

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Interface = ipaddress.IPv4Interface | ipaddress.IPv6Interface
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Outcome = Literal[
    "delivered",
    "no-route",
    "no-return-route",
    "forwarding-disabled",
    "unreachable-next-hop",
    "port-closed",
    "loop",
    "unknown",
]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)
MAX_HOPS = 64
LOOPBACK = (ipaddress.ip_interface("127.0.0.1/8"), ipaddress.ip_interface("::1/128"))


@dataclass(frozen=True)
class Hop:
    """One node on a path: where the packet came in and went out, and why."""

    node: str
    in_: str | None = None
    out: str | None = None
    route: str | None = None  # the matched route, as ``ip route`` prints it
    next_hop: str | None = None  # the address whose MAC the neighbour lookup needs
    nat: str | None = None  # what a NAT rule rewrote here
    note: str = ""  # the decision, in a sentence
    ok: bool = True  # False for the hop where the packet stops
    destination: str | None = None  # the packet's destination as this node routes it

    def as_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "in": self.in_,
            "out": self.out,
            "route": self.route,
            "next_hop": self.next_hop,
            "nat": self.nat,
            "note": self.note,
            "ok": self.ok,
            "destination": self.destination,
        }


@dataclass(frozen=True)
class Fix:
    """An edit of the design that would make the path work: a sentence and the change."""

    sentence: str
    change: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"sentence": self.sentence, "change": self.change}


@dataclass(frozen=True)
class Explanation:
    source: str
    target: str
    address: str
    protocol: str
    port: int | None
    outcome: Outcome
    reason: str
    hops: tuple[Hop, ...]
    reply: tuple[Hop, ...] | None = None
    fixes: tuple[Fix, ...] = ()

    @property
    def reachable(self) -> bool:
        return self.outcome == "delivered"

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "address": self.address,
            "protocol": self.protocol,
            "port": self.port,
            "outcome": self.outcome,
            "reason": self.reason,
            "hops": [hop.as_dict() for hop in self.hops],
            "reply": [hop.as_dict() for hop in self.reply] if self.reply is not None else None,
            "fixes": [fix.as_dict() for fix in self.fixes],
        }


# -- the design as a network ---------------------------------------------------------------


@dataclass(frozen=True)
class _Port:
    """An interface of a namespace node, on an L2 segment. A down one (its link is down in
    the design) keeps its addresses, local to its node, but the kernel drops its routes and
    it reaches no one: its segment is its own."""

    node: str
    name: str
    addresses: tuple[Interface, ...]
    segment: int
    up: bool = True
    impairment: str = ""  # what the interface does to what it sends, as the canvas says it


@dataclass(frozen=True)
class _Route:
    network: Network
    dev: str
    via: Address | None
    connected: bool
    text: str


@dataclass
class _Packet:
    source: Address
    destination: Address
    port: int | None


@dataclass
class _Walk:
    hops: list[Hop] = field(default_factory=list)
    outcome: Outcome = "delivered"
    reason: str = ""
    at: str = ""  # the node where it was delivered, or stopped
    packet: _Packet | None = None  # as delivered
    stopped: Hop | None = None


class Model:
    """A design's nodes, interfaces, segments and tables, read once for many questions."""

    def __init__(self, design: Document) -> None:
        self.design = design
        self.nodes = {node.id: node for node in design.nodes if node.kind in NAMESPACE_KINDS}
        self.ports: dict[str, list[_Port]] = {node: [] for node in self.nodes}
        self.members: dict[int, list[_Port]] = {}
        self._build()

    def _build(self) -> None:
        parent: dict[tuple[str, ...], tuple[str, ...]] = {}

        def find(key: tuple[str, ...]) -> tuple[str, ...]:
            parent.setdefault(key, key)
            while parent[key] != key:
                parent[key] = parent[parent[key]]
                key = parent[key]
            return key

        def join(a: tuple[str, ...], b: tuple[str, ...]) -> None:
            parent[find(a)] = find(b)

        holders = self.design.holders()
        # A VLAN-filtering bridge is one segment per VLAN: an access port (or a plain one, in
        # VLAN 1) joins its VLAN's; a trunk joins each of its VLANs to the frames tagged with
        # it on the link, where the sub-interfaces of the other end are.
        bridges = {node.id: node for node in self.design.nodes if node.kind == "bridge"}
        end_link: dict[tuple[str, str], int] = {}
        for index, link in enumerate(self.design.links):
            for endpoint in link.endpoints:
                end_link[endpoint.node, endpoint.interface] = index
            if not link.up:
                continue  # each end alone
            ends = [("end", str(index), str(number)) for number in range(2)]
            join(ends[0], ends[1])
            for key, endpoint in zip(ends, link.endpoints, strict=True):
                bridge = bridges.get(endpoint.node)
                if bridge is None:
                    continue
                if not bridge.vlan_filtering:
                    join(key, ("bridge", bridge.id))
                elif endpoint.trunk:
                    for vlan in endpoint.trunk:
                        join(("tagged", str(index), str(vlan)), ("bridge", bridge.id, str(vlan)))
                else:
                    join(key, ("bridge", bridge.id, str(endpoint.vlan or 1)))
        numbers: dict[tuple[str, ...], int] = {}

        def segment(key: tuple[str, ...]) -> int:
            return numbers.setdefault(find(key), len(numbers))

        for node in self.design.nodes:
            if node.kind == "bridge":
                holder = holders.get(node.id)
                if holder in self.ports:
                    own = ("bridge", node.id, "1") if node.vlan_filtering else ("bridge", node.id)
                    self._add(holder, node.id, node.addresses, segment(own))
        for index, link in enumerate(self.design.links):
            for number, endpoint in enumerate(link.endpoints):
                owner = holders.get(endpoint.node, endpoint.node)
                if owner in self.ports:
                    key = ("end", str(index), str(number))
                    impaired = link.impairment_of(number)
                    self._add(
                        owner,
                        endpoint.interface,
                        endpoint.addresses,
                        segment(key),
                        up=link.up,
                        impairment=impairment_summary(impaired) if impaired else "",
                    )
        # A sub-interface is down with its parent's link.
        for node in self.design.nodes:
            for sub in node.subinterfaces:
                if node.id in self.ports and (node.id, sub.parent) in end_link:
                    index = end_link[node.id, sub.parent]
                    tagged = ("tagged", str(index), str(sub.vlan))
                    up = self.design.links[index].up
                    self._add(node.id, sub.interface, sub.addresses, segment(tagged), up=up)

    def _add(
        self,
        node: str,
        name: str,
        texts: tuple[str, ...],
        segment: int,
        *,
        up: bool = True,
        impairment: str = "",
    ) -> None:
        addresses = tuple(ipaddress.ip_interface(text) for text in texts)
        port = _Port(node, name, addresses, segment, up, impairment)
        self.ports[node].append(port)
        self.members.setdefault(segment, []).append(port)

    # Questions about one node.

    def addresses_of(self, node: str) -> list[Interface]:
        return [address for port in self.ports[node] for address in port.addresses]

    def is_local(self, node: str, address: Address) -> bool:
        local = [*self.addresses_of(node), *LOOPBACK]
        if any(item.ip == address for item in local):
            return True
        return any(address in item.network for item in LOOPBACK if item.version == address.version)

    def port(self, node: str, name: str) -> _Port | None:
        return next((port for port in self.ports[node] if port.name == name), None)

    def routes(self, node: str, version: int) -> list[_Route]:
        found = [
            _Route(
                item.network,
                port.name,
                None,
                True,
                f"{item.network} dev {port.name} proto kernel scope link src {item.ip}",
            )
            for port in self.ports[node]
            for item in port.addresses
            if item.version == version and port.up
        ]
        down = {port.name for port in self.ports[node] if not port.up}
        for route in self.nodes[node].routes:
            destination = addressing.parse_route_destination(route.to)
            gateway = ipaddress.ip_address(route.via) if route.via else None
            family = (destination or gateway or ipaddress.IPv4Address(0)).version
            if family != version:
                continue
            network = destination or ipaddress.ip_network("0.0.0.0/0" if version == 4 else "::/0")
            dev = route.dev or self._dev_towards(node, gateway)
            if dev is None or dev in down:
                continue  # out of a down link: the kernel has no such route
            words = [route.to if destination else "default"]
            if gateway is not None:
                words += ["via", str(gateway)]
            words += ["dev", dev]
            found.append(_Route(network, dev, gateway, False, " ".join(words)))
        return found

    def _dev_towards(self, node: str, gateway: Address | None) -> str | None:
        for port in self.ports[node]:
            if gateway is not None and any(gateway in item.network for item in port.addresses):
                return port.name
        return None

    def lookup(self, node: str, destination: Address) -> _Route | None:
        """The route ``node`` takes to ``destination``: the longest prefix, connected first."""
        best: _Route | None = None
        for route in self.routes(node, destination.version):
            if destination in route.network and (
                best is None or route.network.prefixlen > best.network.prefixlen
            ):
                best = route
        return best

    def source_for(self, node: str, route: _Route, destination: Address) -> Address | None:
        """The source address Linux picks for a packet ``node`` sends by ``route``."""
        port = self.port(node, route.dev)
        towards = route.via or destination
        family = [
            item for item in (port.addresses if port else ()) if item.version == towards.version
        ]
        for item in family:
            if towards in item.network:
                return item.ip
        if family:
            return family[0].ip
        anywhere = [item for item in self.addresses_of(node) if item.version == towards.version]
        return anywhere[0].ip if anywhere else None

    def owner_on_segment(self, segment: int, address: Address, besides: str) -> _Port | None:
        """Who answers the neighbour lookup for ``address`` on ``segment``: the member whose
        interface has it, else a member node that has it on another interface (Linux answers
        ARP for any of its addresses)."""
        members = [port for port in self.members.get(segment, []) if port.node != besides]
        for port in members:
            if any(item.ip == address for item in port.addresses):
                return port
        for port in members:
            if self.is_local(port.node, address):
                return port
        return None

    def forwards(self, node: str, version: int) -> bool:
        return self.nodes[node].forwarding

    def listens(self, node: str, port: int) -> bool:
        return any(service.port == port for service in self.nodes[node].services)


# -- walking a packet ----------------------------------------------------------------------


def _walk(
    model: Model,
    start: str,
    packet: _Packet,
    *,
    tcp: bool,
    translations: dict[tuple[str, Address], Address],
    undo: bool,
) -> _Walk:
    """Walk ``packet`` from node ``start``. ``translations`` collects (node, masqueraded
    source) -> original source as the request is masqueraded; a reply (``undo``) has them
    undone where they were made."""
    walk = _Walk()
    node, arrived = start, None
    seen: set[tuple[str, Address, Address]] = set()
    for _ in range(MAX_HOPS):
        hop = Hop(node=node, in_=arrived)
        key = (node, packet.source, packet.destination)
        if key in seen:
            return _stop(walk, hop, "loop", f"the packet comes back to {node}: a routing loop")
        seen.add(key)
        if undo and (node, packet.destination) in translations:
            original = translations[(node, packet.destination)]
            hop = replace(
                hop,
                nat=f"conntrack: destination {packet.destination} -> {original} "
                "(undoes the masquerade)",
            )
            packet.destination = original
        elif arrived is not None and tcp and not undo:
            hop = _port_forward(model, node, arrived, packet, hop)
        if model.is_local(node, packet.destination):
            walk.hops.append(
                replace(
                    hop, note=hop.note or f"{packet.destination} is {node}'s own address: delivered"
                )
            )
            walk.at, walk.packet = node, packet
            return walk
        if arrived is not None and not model.forwards(node, packet.destination.version):
            return _stop(
                walk,
                hop,
                "forwarding-disabled",
                f"{node} does not forward: IP forwarding is off there, so a packet for "
                f"{packet.destination} arriving on {arrived} is dropped",
            )
        hop = replace(hop, destination=str(packet.destination))
        route = model.lookup(node, packet.destination)
        if route is None:
            return _stop(
                walk,
                hop,
                "no-route",
                f"{node} has no route to {packet.destination} (Network is unreachable)",
            )
        next_hop = route.via or packet.destination
        hop = replace(hop, out=route.dev, route=route.text, next_hop=str(next_hop))
        if arrived is None and not undo and packet.source.is_unspecified:
            chosen = model.source_for(node, route, packet.destination)
            if chosen is None:
                return _stop(walk, hop, "unknown", f"{node} has no address to send from")
            packet.source = chosen
        hop = _masquerade(model, node, route, packet, hop, translations, undo)
        port = model.port(node, route.dev)
        owner = model.owner_on_segment(port.segment, next_hop, node) if port else None
        if owner is None:
            return _stop(
                walk,
                hop,
                "unreachable-next-hop",
                f"no node on {node}'s {route.dev} segment has {next_hop}: the neighbour lookup "
                "gets no answer",
            )
        note = hop.note or f"out of {route.dev} to {next_hop} ({owner.node})"
        if port is not None and port.impairment:  # the packet goes, changed: say how
            note += f"; {route.dev} sends with {port.impairment}"
        walk.hops.append(replace(hop, note=note))
        node, arrived = owner.node, owner.name
    return _stop(walk, Hop(node=node, in_=arrived), "loop", f"more than {MAX_HOPS} hops: a loop")


def _stop(walk: _Walk, hop: Hop, outcome: Outcome, reason: str) -> _Walk:
    walk.hops.append(replace(hop, note=reason, ok=False))
    walk.outcome, walk.reason, walk.at = outcome, reason, hop.node
    return walk


def _port_forward(model: Model, node: str, arrived: str, packet: _Packet, hop: Hop) -> Hop:
    for forward in model.nodes[node].port_forwards:
        if forward.port != packet.port or (forward.in_ and forward.in_ != arrived):
            continue
        target, given = addressing.parse_socket(forward.to)
        if target.version != packet.destination.version:
            continue
        port = given if given is not None else forward.port
        note = f"DNAT {packet.destination}:{packet.port} -> {target}:{port} (port forward)"
        packet.destination, packet.port = target, port
        return replace(hop, nat=note)
    return hop


def _masquerade(
    model: Model,
    node: str,
    route: _Route,
    packet: _Packet,
    hop: Hop,
    translations: dict[tuple[str, Address], Address],
    undo: bool,
) -> Hop:
    if undo:
        return hop
    for rule in model.nodes[node].nat:
        network = ipaddress.ip_network(rule.source, strict=False)
        if packet.source.version != network.version or packet.source not in network:
            continue
        if rule.out and rule.out != route.dev:
            continue
        chosen = model.source_for(node, route, packet.destination)
        if chosen is None or chosen == packet.source:
            return hop
        translations[(node, chosen)] = packet.source
        note = f"masquerade: source {packet.source} -> {chosen}"
        packet.source = chosen
        return replace(hop, nat=note)
    return hop


# -- questions -----------------------------------------------------------------------------


def explain(
    design: Document,
    source: str,
    target: str,
    *,
    protocol: str = "icmp",
    port: int | None = None,
    model: Model | None = None,
) -> Explanation:
    """The path of a ping (``icmp``) or a TCP connection (``tcp`` to ``port``) from node
    ``source`` to ``target`` (an address, or a node: its first address), and its reply's.

    Raises ``ValueError`` for a source that is not a namespace node or the host, a target
    that names no address, or tcp without a port.
    """
    model = model or Model(design)
    if source not in model.nodes:
        raise ValueError(f"{source!r} is not a namespace node or the host of this design")
    if protocol == "tcp" and port is None:
        raise ValueError("a tcp path needs a port")
    address = _address_of(design, target)
    destination = ipaddress.ip_address(address)

    def answer(
        outcome: Outcome,
        reason: str,
        hops: list[Hop],
        reply: list[Hop] | None = None,
        fixes: tuple[Fix, ...] = (),
    ) -> Explanation:
        return Explanation(
            source,
            target,
            address,
            protocol,
            port,
            outcome,
            reason,
            tuple(hops),
            tuple(reply) if reply is not None else None,
            fixes,
        )

    if destination.version == 6 and destination.is_link_local:
        return answer("unknown", "a link-local target depends on its interface: not predicted", [])
    nowhere = ipaddress.ip_address(0 if destination.version == 4 else "::")
    translations: dict[tuple[str, Address], Address] = {}
    request = _walk(
        model,
        source,
        _Packet(nowhere, destination, port),
        tcp=protocol == "tcp",
        translations=translations,
        undo=False,
    )
    if request.outcome != "delivered" or request.packet is None:
        fixes = _fixes(model, request, destination)
        return answer(request.outcome, request.reason, request.hops, fixes=fixes)
    taken = request.packet
    if protocol == "tcp" and not model.listens(request.at, taken.port or 0):
        reason = (
            f"the packet reaches {request.at}, but nothing listens there on port "
            f"{taken.port}: the connection is refused"
        )
        service = {"kind": "tcp", "port": taken.port}
        fix = Fix(
            f"add a tcp service on port {taken.port} to {request.at}",
            {"op": "add-service", "node": request.at, "service": service},
        )
        return answer("port-closed", reason, request.hops, fixes=(fix,))
    if request.at == source:
        return answer("delivered", f"{destination} is {source}'s own address", request.hops, [])
    back = _Packet(taken.destination, taken.source, None)
    reply = _walk(model, request.at, back, tcp=False, translations=translations, undo=True)
    if reply.outcome != "delivered" or reply.at != source:
        why = reply.reason or f"it ends in {reply.at}"
        reason = f"the request reaches {request.at}, but its reply cannot come back: {why}"
        fixes = _return_fixes(model, request, reply, source)
        return answer("no-return-route", reason, request.hops, reply.hops, fixes)
    reason = (
        f"{destination} answers: the request reaches {request.at} and its reply comes back "
        f"to {source}"
    )
    return answer("delivered", reason, request.hops, reply.hops)


def _address_of(design: Document, target: str) -> str:
    if design.node(target) is not None:
        addresses = node_addresses(design, target)
        if not addresses:
            raise ValueError(f"{target} has no address to reach")
        return addresses[0]
    try:
        return str(ipaddress.ip_address(target))
    except ValueError:
        raise ValueError(f"{target!r} is neither a node of this design nor an address") from None


def _fixes(model: Model, walk: _Walk, destination: Address) -> tuple[Fix, ...]:
    node = walk.at
    if walk.outcome == "forwarding-disabled":
        return (
            Fix(
                f"turn on forwarding in {node}",
                {"op": "set-forwarding", "node": node, "value": True},
            ),
        )
    if walk.outcome == "no-route":
        routers = _routers_near(model, node, destination.version)
        if routers:
            gateway = routers[0]
            return (
                Fix(
                    f"add a default route via {gateway} in {node}",
                    {
                        "op": "add-route",
                        "node": node,
                        "route": {"to": "default", "via": str(gateway)},
                    },
                ),
            )
    return ()


def _routers_near(model: Model, node: str, version: int) -> list[Address]:
    """Addresses of forwarding nodes on ``node``'s segments (candidate gateways)."""
    found = []
    for port in model.ports[node]:
        for member in model.members.get(port.segment, []):
            if member.node != node and model.forwards(member.node, version):
                found += [item.ip for item in member.addresses if item.version == version]
    return found


def _return_fixes(model: Model, request: _Walk, reply: _Walk, source: str) -> tuple[Fix, ...]:
    """The seed's lesson: the far side has no way back to the source's private subnet, so
    the last router masquerades it (or the far side gets a route back)."""
    fixes: list[Fix] = []
    routers = [hop for hop in request.hops[1:-1] if hop.out]
    first = request.hops[0]
    source_port = model.port(source, first.out or "")
    subnet = next(
        (
            item.network
            for item in (source_port.addresses if source_port else ())
            if request.packet and item.version == request.packet.source.version
        ),
        None,
    )
    if routers and subnet is not None:
        last = routers[-1]
        fixes.append(
            Fix(
                f"masquerade {subnet} out of {last.out} in {last.node}",
                {
                    "op": "add-nat",
                    "node": last.node,
                    "nat": {"source": str(subnet), "out": last.out},
                },
            )
        )
        if reply.outcome == "no-route" and reply.at == request.at:
            gateway = next(
                (
                    item.ip
                    for port in model.ports[last.node]
                    if port.name == last.out
                    for item in port.addresses
                    if item.version == subnet.version
                ),
                None,
            )
            if gateway is not None:
                way_back = {"to": str(subnet), "via": str(gateway)}
                fixes.append(
                    Fix(
                        f"add a route to {subnet} via {gateway} in {reply.at}",
                        {"op": "add-route", "node": reply.at, "route": way_back},
                    )
                )
    return tuple(fixes)


def matrix(design: Document) -> list[dict[str, Any]]:
    """Predicted ping-all: a cell per namespace node (the host included) and address of the
    design owned by another node, as ping-all pings them."""
    model = Model(design)
    owners = [
        (address, node.id) for node in design.nodes for address in node_addresses(design, node.id)
    ]
    cells = []
    for source in model.nodes:
        for address, owner in owners:
            if owner == source:
                continue
            found = explain(design, source, address, model=model)
            cells.append(
                {
                    "source": source,
                    "address": address,
                    "node": owner,
                    "reachable": found.reachable,
                    "outcome": found.outcome,
                }
            )
    return cells


def apply_fix(data: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """Return document ``data`` with a fix's ``change`` made (the page makes it an unsaved
    edit). Raises ``ValueError`` for a change it does not know."""
    result = {**data, "nodes": [dict(node) for node in data.get("nodes", [])]}
    node = next((item for item in result["nodes"] if item.get("id") == change.get("node")), None)
    if node is None:
        raise ValueError(f"no node {change.get('node')!r} in the design")
    operation = change.get("op")
    if operation == "set-forwarding":
        node["forwarding"] = bool(change["value"])
    elif operation == "add-route":
        node["routes"] = [*node.get("routes", []), dict(change["route"])]
    elif operation == "add-nat":
        node["nat"] = [*node.get("nat", []), dict(change["nat"])]
    elif operation == "add-service":
        node["services"] = [*node.get("services", []), dict(change["service"])]
    else:
        raise ValueError(f"unknown change {operation!r}")
    return result
