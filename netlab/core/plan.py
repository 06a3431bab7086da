"""The compiler: a valid design in, the ordered plan of kernel operations that builds it out.

Pure: no I/O, no clock, no pyroute2. Each step is a frozen dataclass describing one kernel
operation in iproute2's words, with the exact command(s) a learner would type to do the same
(``shell``) and a short sentence (``description``). The driver (``netlab.kernel``) applies the
steps; :func:`render_script` turns the same plan into a bash script.

Order, and why: namespaces, then bridges (veth ends need their master to exist), veths, then
addresses, links up, sysctls, routes (a route needs its gateway's subnet on an up link),
nftables, services.

Where each veth is created: the end on a bridge (or, in host mode, on the host) is created in
its own namespace with its master and up in one request, and its peer is created directly in
the other namespace (``peer ... netns``). Nothing ever passes through the root namespace, and
no device is moved between namespaces (that waits for an RCU grace period, ~20 ms each).
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from netlab.core import addressing, names
from netlab.core.document import Design, Nat, Node, PortForward
from netlab.core.shell import command, comment, heredoc
from netlab.core.validation import InvalidDesign, validate

NAMESPACE_KINDS = ("host", "namespace")
# The shell spells the host's namespace this way in a veth's ``peer ... netns``: the pid of
# the script itself, whose namespace is the host's (``netns 1`` would be wrong in a sandbox).
SCRIPT_NETNS = "$$"


@dataclass(frozen=True)
class Naming:
    """How a deployment names its namespaces: ``names.namespace_name(tag, index, prefix)``.

    ``index`` is the node's position among the design's host and namespace nodes, in document
    order. With ``host_mode`` the host node maps to None: the process's own (root) namespace.
    No user text ever reaches a namespace name.
    """

    tag: str
    prefix: str = names.NAMESPACE_PREFIX
    host_mode: bool = False

    def namespaces(self, design: Design) -> dict[str, str | None]:
        """Return ``{node id: namespace name or None}`` for every host and namespace node."""
        mapping: dict[str, str | None] = {}
        index = 0
        for node in design.nodes:
            if node.kind not in NAMESPACE_KINDS:
                continue
            if node.kind == "host" and self.host_mode:
                mapping[node.id] = None
            else:
                mapping[node.id] = names.namespace_name(self.tag, index, self.prefix)
            index += 1
        return mapping


# Steps. Every step has ``shell`` (tuple of command lines), ``description``, and ``action``
# (a stable word for logs and events). ``netns`` None means the root namespace (host mode).


# Every shell line is built by ``netlab.core.shell``: each word quoted, comments escaped.


def _ip(netns: str | None, *args: str) -> str:
    where = ("-n", netns) if netns is not None else ()
    return command("ip", *where, *args)


def _exec(netns: str | None, *words: str) -> str:
    where = ("ip", "netns", "exec", netns) if netns is not None else ()
    return command(*where, *words)


@dataclass(frozen=True)
class Step:
    """Base of all steps. ``ip_commands`` lists (namespace, ip arguments) of ip-based steps."""

    action: ClassVar[str] = "step"

    @property
    def ip_commands(self) -> tuple[tuple[str | None, tuple[str, ...]], ...]:
        return ()

    @property
    def shell(self) -> tuple[str, ...]:
        return tuple(_ip(netns, *args) for netns, args in self.ip_commands)

    @property
    def description(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class AddNamespace(Step):
    """Create namespace ``netns`` for ``node``; its loopback up and carrying ``mark``."""

    action: ClassVar[str] = "add-namespace"
    node: str
    netns: str
    mark: str

    @property
    def shell(self) -> tuple[str, ...]:
        return (
            command("ip", "netns", "add", self.netns),
            _ip(self.netns, "link", "set", "lo", "up", "alias", self.mark),
        )

    @property
    def description(self) -> str:
        return f"create namespace {self.netns} for {self.node}"


@dataclass(frozen=True)
class AddBridge(Step):
    """Create bridge ``name`` in ``netns``, up, carrying ``mark``."""

    action: ClassVar[str] = "add-bridge"
    node: str
    holder: str
    netns: str | None
    name: str
    mark: str

    @property
    def ip_commands(self) -> tuple[tuple[str | None, tuple[str, ...]], ...]:
        return (
            (self.netns, ("link", "add", self.name, "up", "type", "bridge")),
            (self.netns, ("link", "set", self.name, "alias", self.mark)),
        )

    @property
    def description(self) -> str:
        return f"create bridge {self.name} in {self.holder}"


@dataclass(frozen=True)
class AddVeth(Step):
    """Create a veth pair: ``name`` in ``netns`` (up, enslaved to ``master`` if given, marked),
    its peer ``peer_name`` directly in ``peer_netns`` (down: a peer cannot be created up, the
    kernel answers ENOTCONN; a later :class:`SetLinkUp` brings it up and marks it).
    """

    action: ClassVar[str] = "add-veth"
    node: str
    netns: str | None
    name: str
    master: str | None
    peer_node: str
    peer_netns: str | None
    peer_name: str
    mark: str

    @property
    def ip_commands(self) -> tuple[tuple[str | None, tuple[str, ...]], ...]:
        master = ("master", self.master) if self.master else ()
        peer_netns = self.peer_netns if self.peer_netns is not None else SCRIPT_NETNS
        create = (
            "link",
            "add",
            self.name,
            *master,
            "up",
            "type",
            "veth",
            "peer",
            "name",
            self.peer_name,
            "netns",
            peer_netns,
        )
        return (
            (self.netns, create),
            (self.netns, ("link", "set", self.name, "alias", self.mark)),
        )

    @property
    def shell(self) -> tuple[str, ...]:
        lines = super().shell
        if self.peer_netns is not None:
            return lines
        # ``$$`` must reach the shell unquoted to expand to the script's pid: it is netlab's
        # own last word of the command, written after the quoted words, never user text.
        create_args = self.ip_commands[0][1]
        create = _ip(self.netns, *create_args[:-1]) + " " + SCRIPT_NETNS
        return (create, *lines[1:])

    @property
    def description(self) -> str:
        return f"connect {self.peer_node} to {self.node} ({self.peer_name} - {self.name})"


@dataclass(frozen=True)
class AddAddress(Step):
    """Add ``address`` (address/prefix) to ``dev`` in ``netns``."""

    action: ClassVar[str] = "add-address"
    node: str
    netns: str | None
    dev: str
    address: str

    @property
    def ip_commands(self) -> tuple[tuple[str | None, tuple[str, ...]], ...]:
        # IPv6: no duplicate address detection, so the address works at once in a lab.
        nodad = ("nodad",) if ":" in self.address else ()
        return ((self.netns, ("addr", "add", self.address, "dev", self.dev, *nodad)),)

    @property
    def description(self) -> str:
        if self.dev == self.node:
            return f"address {self.address} on bridge {self.dev}"
        return f"address {self.address} on {self.node}'s {self.dev}"


@dataclass(frozen=True)
class SetLinkUp(Step):
    """Bring ``name`` in ``netns`` up, enslave it to ``master`` if given, and mark it."""

    action: ClassVar[str] = "set-link-up"
    node: str
    netns: str | None
    name: str
    master: str | None
    mark: str

    @property
    def ip_commands(self) -> tuple[tuple[str | None, tuple[str, ...]], ...]:
        master = ("master", self.master) if self.master else ()
        return ((self.netns, ("link", "set", self.name, *master, "up", "alias", self.mark)),)

    @property
    def description(self) -> str:
        return f"bring {self.node}'s {self.name} up"


@dataclass(frozen=True)
class SetSysctl(Step):
    """Write ``value`` to sysctl ``key`` (dotted, e.g. net.ipv4.ip_forward) in ``netns``."""

    action: ClassVar[str] = "set-sysctl"
    node: str
    netns: str | None
    key: str
    value: str

    @property
    def path(self) -> str:
        """The file under /proc/sys, as the driver writes it from inside the namespace."""
        return "/proc/sys/" + self.key.replace(".", "/")

    @property
    def shell(self) -> tuple[str, ...]:
        return (_exec(self.netns, "sysctl", "-w", f"{self.key}={self.value}"),)

    @property
    def description(self) -> str:
        return f"set {self.key}={self.value} in {self.node}"


@dataclass(frozen=True)
class AddRoute(Step):
    """Add a route to ``to`` (``default`` or a prefix) via ``via`` and/or out of ``dev``.

    ``dev`` is resolved by the compiler when the design gives only a gateway, so the route can
    never bind to an interface netlab did not create (host mode).
    """

    action: ClassVar[str] = "add-route"
    node: str
    netns: str | None
    to: str
    via: str | None
    dev: str | None
    version: int

    @property
    def destination(self) -> str:
        """``to`` as iproute2 reads it in both families (``::/0`` is the IPv6 default)."""
        if self.to == "default" and self.version == 6:
            return "::/0"
        return self.to

    @property
    def ip_commands(self) -> tuple[tuple[str | None, tuple[str, ...]], ...]:
        args = ["route", "add", self.destination]
        if self.via is not None:
            args += ["via", self.via]
        if self.dev is not None:
            args += ["dev", self.dev]
        return ((self.netns, tuple(args)),)

    @property
    def description(self) -> str:
        gateway = f" via {self.via}" if self.via else ""
        return f"route {self.to}{gateway} in {self.node}"


@dataclass(frozen=True)
class ApplyNftables(Step):
    """Create netlab's one table (family inet) in ``netns``: masquerade and port forwards.

    Applied atomically (``nft -j -f -``): the kernel takes the whole table or nothing.
    """

    action: ClassVar[str] = "apply-nftables"
    node: str
    netns: str | None
    table: str
    nat: tuple[Nat, ...]
    port_forwards: tuple[PortForward, ...]

    def ruleset(self) -> dict[str, Any]:
        """Return the nft JSON document that creates the table."""
        return nft_ruleset(self.table, self.nat, self.port_forwards)

    def ruleset_text(self) -> str:
        """Return the same table in nft's own syntax (``nft -f``)."""
        return nft_text(self.table, self.nat, self.port_forwards)

    @property
    def shell(self) -> tuple[str, ...]:
        comments = tuple(
            comment(f"iptables equivalent: {line}")
            for line in iptables_lines(self.nat, self.port_forwards)
        )
        return (*comments, heredoc(_exec(self.netns, "nft", "-f", "-"), self.ruleset_text()))

    @property
    def description(self) -> str:
        parts = []
        if self.nat:
            parts.append("NAT")
        if self.port_forwards:
            parts.append("port forwards")
        return f"{' and '.join(parts)} in {self.node} (nftables table {self.table})"


@dataclass(frozen=True)
class Service:
    """One built-in responder to run: ``kind`` (http, tcp) on ``port`` inside ``netns``."""

    node: str
    netns: str | None
    kind: str
    port: int


@dataclass(frozen=True)
class StartServices(Step):
    """Start the built-in responders of the design's nodes (one process for the deployment)."""

    action: ClassVar[str] = "start-services"
    tag: str
    services: tuple[Service, ...]

    def by_netns(self) -> dict[str | None, list[Service]]:
        """Return the services grouped by namespace, in document order."""
        grouped: dict[str | None, list[Service]] = {}
        for service in self.services:
            grouped.setdefault(service.netns, []).append(service)
        return grouped

    @property
    def shell(self) -> tuple[str, ...]:
        lines = []
        for service in self.services:
            server: tuple[str, ...]
            if service.kind == "http":
                # The lab's own namespace: every address there is the lab's.
                bind = "0.0.0.0"  # noqa: S104
                server = ("python3", "-m", "http.server", "--bind", bind, str(service.port))
            else:
                server = ("python3", "-c", _TCP_RESPONDER.format(port=int(service.port)))
            run = _exec(service.netns, "setsid", *server)
            lines.append(f"{run} >/dev/null 2>&1 </dev/null &")
        return tuple(lines)

    @property
    def description(self) -> str:
        listed = ", ".join(f"{s.kind}:{s.port} in {s.node}" for s in self.services)
        return f"start services: {listed}"


_TCP_RESPONDER = (
    "import socket\n"
    "s = socket.create_server(('0.0.0.0', {port}))\n"
    "while True:\n"
    "    c, _ = s.accept(); c.sendall(socket.gethostname().encode() + b'\\n'); c.close()"
)


@dataclass(frozen=True)
class Plan:
    """The ordered steps that build one deployment of a design, and its kernel names."""

    design_name: str
    title: str
    naming: Naming
    namespaces: Mapping[str, str | None]
    steps: tuple[Step, ...] = field(default=())

    @property
    def tag(self) -> str:
        return self.naming.tag

    def created_namespaces(self) -> list[str]:
        """Return the namespaces this plan creates, in order."""
        return [step.netns for step in self.steps if isinstance(step, AddNamespace)]

    def root_links(self) -> list[str]:
        """Return the links this plan creates in the root namespace (host mode only)."""
        created = []
        for step in self.steps:
            if isinstance(step, AddBridge | AddVeth) and step.netns is None:
                created.append(step.name)
            if isinstance(step, AddVeth) and step.peer_netns is None:
                created.append(step.peer_name)
        return created


def compile_plan(design: Design, naming: Naming) -> Plan:
    """Return the plan that builds ``design`` under ``naming``.

    Deterministic: the same design and naming give the same plan. Raises
    :class:`InvalidDesign` if the design is not valid (the compiler relies on its references).
    """
    problems = validate(design)
    if problems:
        raise InvalidDesign(problems)
    return _Compiler(design, naming).plan()


class _Compiler:
    def __init__(self, design: Design, naming: Naming) -> None:
        self.design = design
        self.naming = naming
        self.mark = names.ownership_mark(naming.tag)
        self.netns_of_node = naming.namespaces(design)
        self.by_id = {node.id: node for node in design.nodes}
        self.host_id = next(node.id for node in design.nodes if node.kind == "host")
        self.addresses_in = self._index_addresses()

    def holder(self, node_id: str) -> str:
        """The namespace node holding ``node_id``'s interfaces (a bridge's holder)."""
        node = self.by_id[node_id]
        if node.kind == "bridge":
            return node.in_ if node.in_ is not None else self.host_id
        return node_id

    def netns(self, node_id: str) -> str | None:
        return self.netns_of_node[self.holder(node_id)]

    def plan(self) -> Plan:
        steps = [
            *self.namespaces(),
            *self.bridges(),
            *self.veths(),
            *self.addresses(),
            *self.links_up(),
            *self.sysctls(),
            *self.routes(),
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

    def bridges(self) -> Iterator[Step]:
        for node in self.design.nodes:
            if node.kind == "bridge":
                yield AddBridge(
                    node=node.id,
                    holder=self.holder(node.id),
                    netns=self.netns(node.id),
                    name=node.id,
                    mark=self.mark,
                )

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

    def addresses(self) -> Iterator[Step]:
        for node in self.design.nodes:
            if node.kind == "bridge":
                for address in node.addresses:
                    yield AddAddress(
                        node=node.id, netns=self.netns(node.id), dev=node.id, address=address
                    )
        for link in self.design.links:
            for end in link.endpoints:
                for address in end.addresses:
                    yield AddAddress(
                        node=end.node,
                        netns=self.netns(end.node),
                        dev=end.interface,
                        address=address,
                    )

    def links_up(self) -> Iterator[Step]:
        for index, link in enumerate(self.design.links):
            peer = link.endpoints[1 - self._first_end(index)]
            yield SetLinkUp(
                node=peer.node,
                netns=self.netns(peer.node),
                name=peer.interface,
                master=self._master(peer.node),
                mark=self.mark,
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
        return found

    def _interface_addresses(self, namespace_node: str) -> list[tuple[str, addressing.IPInterface]]:
        return self.addresses_in.get(namespace_node, [])

    def _namespace_nodes(self) -> Iterator[Node]:
        return (node for node in self.design.nodes if node.kind in NAMESPACE_KINDS)

    def sysctls(self) -> Iterator[Step]:
        for node in self._namespace_nodes():
            if not node.forwarding:
                continue
            netns = self.netns_of_node[node.id]
            yield SetSysctl(node=node.id, netns=netns, key="net.ipv4.ip_forward", value="1")
            if any(address.version == 6 for _, address in self._interface_addresses(node.id)):
                yield SetSysctl(
                    node=node.id, netns=netns, key="net.ipv6.conf.all.forwarding", value="1"
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
            Service(
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


# nftables: one table per namespace, family inet, built as JSON (applied) and text (shown).


def _family(version: int) -> str:
    return "ip" if version == 4 else "ip6"


def _forward_target(forward: PortForward) -> tuple[addressing.IPAddress, int]:
    address, port = addressing.parse_socket(forward.to)
    return address, port if port is not None else forward.port


def nft_ruleset(
    table: str, nat: tuple[Nat, ...], forwards: tuple[PortForward, ...]
) -> dict[str, Any]:
    """Return the nft JSON (``nft -j -f -``) that adds ``table`` with these rules."""
    base = {"family": "inet", "table": table}
    commands: list[dict[str, Any]] = [{"add": {"table": {"family": "inet", "name": table}}}]
    if forwards:
        commands.append(
            {
                "add": {
                    "chain": {
                        **base,
                        "name": "prerouting",
                        "type": "nat",
                        "hook": "prerouting",
                        "prio": -100,
                        "policy": "accept",
                    }
                }
            }
        )
    if nat:
        commands.append(
            {
                "add": {
                    "chain": {
                        **base,
                        "name": "postrouting",
                        "type": "nat",
                        "hook": "postrouting",
                        "prio": 100,
                        "policy": "accept",
                    }
                }
            }
        )
    for forward in forwards:
        address, port = _forward_target(forward)
        expressions: list[dict[str, Any]] = []
        if forward.in_ is not None:
            expressions.append(_match({"meta": {"key": "iifname"}}, forward.in_))
        # nfproto pins the rule to the target's family: an inet table sees both.
        expressions.append(_match({"meta": {"key": "nfproto"}}, f"ipv{address.version}"))
        expressions.append(
            _match({"payload": {"protocol": forward.protocol, "field": "dport"}}, forward.port)
        )
        expressions.append(
            {"dnat": {"family": _family(address.version), "addr": str(address), "port": port}}
        )
        commands.append({"add": {"rule": {**base, "chain": "prerouting", "expr": expressions}}})
    for rule in nat:
        source = addressing.parse_prefix(rule.source)
        expressions = [
            _match(
                {"payload": {"protocol": _family(source.version), "field": "saddr"}},
                {"prefix": {"addr": str(source.network_address), "len": source.prefixlen}},
            )
        ]
        if rule.out is not None:
            expressions.append(_match({"meta": {"key": "oifname"}}, rule.out))
        expressions.append({"masquerade": None})
        commands.append({"add": {"rule": {**base, "chain": "postrouting", "expr": expressions}}})
    return {"nftables": commands}


def _match(left: dict[str, Any], right: Any) -> dict[str, Any]:
    return {"match": {"op": "==", "left": left, "right": right}}


def nft_text(table: str, nat: tuple[Nat, ...], forwards: tuple[PortForward, ...]) -> str:
    """Return the same table as :func:`nft_ruleset`, in ``nft -f`` syntax."""
    lines = [f"table inet {table} {{"]
    if forwards:
        lines += [
            "  chain prerouting {",
            "    type nat hook prerouting priority dstnat; policy accept;",
        ]
        for forward in forwards:
            address, port = _forward_target(forward)
            where = f"iifname {_nft_string(forward.in_)} " if forward.in_ else ""
            target = f"{address}:{port}" if address.version == 4 else f"[{address}]:{port}"
            lines.append(
                f"    {where}meta nfproto ipv{address.version} {forward.protocol} "
                f"dport {forward.port} dnat {_family(address.version)} to {target}"
            )
        lines.append("  }")
    if nat:
        lines += [
            "  chain postrouting {",
            "    type nat hook postrouting priority srcnat; policy accept;",
        ]
        for rule in nat:
            source = addressing.parse_prefix(rule.source)
            out = f" oifname {_nft_string(rule.out)}" if rule.out else ""
            lines.append(f"    {_family(source.version)} saddr {source}{out} masquerade")
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _nft_string(name: str) -> str:
    """Return an interface name as an nft string: nft's quotes take no escapes at all."""
    if '"' in name or not name.isprintable():
        raise ValueError(f"{name!r} cannot be written as an nft string")
    return f'"{name}"'


_IPTABLES = {4: "iptables", 6: "ip6tables"}


def iptables_lines(nat: tuple[Nat, ...], forwards: tuple[PortForward, ...]) -> list[str]:
    """Return the tutorial's iptables commands for the same rules (shown as comments).

    Each is one command line, every word quoted; the caller makes it a comment.
    """
    lines = []
    for rule in nat:
        version = addressing.parse_prefix(rule.source).version
        out = ("-o", rule.out) if rule.out else ()
        lines.append(
            command(_IPTABLES[version], "-t", "nat", "-A", "POSTROUTING", "-s", rule.source, *out)
            + " -j MASQUERADE"
        )
    for forward in forwards:
        address, port = _forward_target(forward)
        where = ("-i", forward.in_) if forward.in_ else ()
        target = f"{address}:{port}" if address.version == 4 else f"[{address}]:{port}"
        lines.append(
            command(
                _IPTABLES[address.version],
                *("-t", "nat", "-A", "PREROUTING", *where),
                *("-p", forward.protocol, "--dport", str(forward.port)),
                *("-j", "DNAT", "--to-destination", target),
            )
        )
    return lines


def render_script(plan: Plan) -> str:
    """Return a bash script that, run as root on a clean machine, builds the same lab.

    Text from the design (its title, names in step descriptions) reaches the script only
    through ``shell.comment`` and ``shell.quote``: no line starts with it.
    """
    title = plan.title or plan.design_name
    namespaces = plan.created_namespaces()
    lines = [
        "#!/usr/bin/env bash",
        comment(f"netlab: {title}"),
        comment(f"design {plan.design_name}, deployment tag {plan.tag}"),
        "# Builds the lab with the same operations netlab performs, one command each.",
        "# Run as root. Remove it again with:",
        *(comment("  " + command("ip", "netns", "del", netns)) for netns in namespaces),
        *(comment("  " + command("ip", "link", "del", name)) for name in plan.root_links()),
        "set -euo pipefail",
    ]
    total = len(plan.steps)
    for index, step in enumerate(plan.steps, start=1):
        lines += ["", comment(f"[{index}/{total}] {step.description}"), *step.shell]
    return "\n".join(lines) + "\n"


def nft_json(step: ApplyNftables) -> str:
    """Return the JSON text the driver pipes to ``nft -j -f -`` for ``step``."""
    return json.dumps(step.ruleset(), separators=(",", ":"))
