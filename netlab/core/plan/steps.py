"""The steps of a plan: one frozen dataclass per kernel operation, in iproute2's words.

Each step carries the exact command(s) a learner would type to do the same (``shell``), a
short sentence (``description``) and a stable word for logs and events (``action``). ``netns``
None means the root namespace (host mode).

Where each veth is created: the end on a bridge (or, in host mode, on the host) is created in
its own namespace with its master and up in one request, and its peer is created directly in
the other namespace (``peer ... netns``). Nothing ever passes through the root namespace, and
no device is moved between namespaces (that waits for an RCU grace period, ~20 ms each).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from netlab.core.document import Impairment, Nat, PortForward
from netlab.core.impairments import (
    DEFAULT_MTU,
    TBF_LATENCY_MS,
    impairment_summary,
    netem_words,
    qdisc_kind,
    tbf_burst,
    tbf_words,
)
from netlab.core.plan.naming import Naming
from netlab.core.plan.nft import iptables_lines, nft_ruleset, nft_text
from netlab.core.shell import command, comment, heredoc
from netlab.core.sites import VXLAN_PORT

# The shell spells the host's namespace this way in a veth's ``peer ... netns``: the pid of
# the script itself, whose namespace is the host's (``netns 1`` would be wrong in a sandbox).
SCRIPT_NETNS = "$$"

# Every shell line is built by ``netlab.core.shell``: each word quoted, comments escaped.


def _ip(netns: str | None, *args: str) -> str:
    where = ("-n", netns) if netns is not None else ()
    return command("ip", *where, *args)


def _tc(netns: str | None, *args: str) -> str:
    where = ("-n", netns) if netns is not None else ()
    return command("tc", *where, *args)


def _bridge(netns: str | None, *args: str) -> str:
    where = ("-n", netns) if netns is not None else ()
    return command("bridge", *where, *args)


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
class SetVlanFiltering(Step):
    """Make bridge ``name`` in ``netns`` forward by VLAN (``on``), or not (its undo)."""

    action: ClassVar[str] = "set-vlan-filtering"
    node: str
    netns: str | None
    name: str
    on: bool = True

    @property
    def ip_commands(self) -> tuple[tuple[str | None, tuple[str, ...]], ...]:
        value = "1" if self.on else "0"
        args = ("link", "set", self.name, "type", "bridge", "vlan_filtering", value)
        return ((self.netns, args),)

    @property
    def description(self) -> str:
        return f"VLAN filtering {'on' if self.on else 'off'} on bridge {self.name}"


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
class AddVxlan(Step):
    """This site's end of a link to another site: VXLAN device ``name`` (``vni``, UDP port
    4789, from underlay address ``local`` to ``remote``, ``mtu``), created by the process's
    own namespace, the underlay's, directly in ``netns``, down (:class:`SetLinkUp` brings it
    up), then marked.

    Its UDP socket stays with the underlay: the kernel opens it in the namespace that made the
    device (iproute2's ``ip link add ... netns NS``; the same as creating it in the underlay's
    and moving it with ``ip link set NAME netns NS``, without the move's wait, and without
    its name ever being taken in the underlay's namespace).
    """

    action: ClassVar[str] = "add-vxlan"
    node: str
    netns: str | None
    name: str
    vni: int
    local: str
    remote: str
    mtu: int
    mark: str

    @property
    def shell(self) -> tuple[str, ...]:
        where = ("netns", self.netns) if self.netns is not None else ()
        create = command(
            "ip", "link", "add", self.name, *where, "mtu", str(self.mtu), "type", "vxlan",
            "id", str(self.vni), "local", self.local, "remote", self.remote,
            "dstport", str(VXLAN_PORT),
        )  # fmt: skip
        return (create, _ip(self.netns, "link", "set", self.name, "alias", self.mark))

    @property
    def description(self) -> str:
        return (
            f"tunnel {self.node}'s {self.name} to {self.remote} (VXLAN {self.vni}, MTU {self.mtu})"
        )


@dataclass(frozen=True)
class AddVlanLink(Step):
    """Create VLAN sub-interface ``name`` of ``node`` on ``parent`` (frames tagged ``vlan``),
    up and marked."""

    action: ClassVar[str] = "add-vlan-link"
    node: str
    netns: str | None
    name: str
    parent: str
    vlan: int
    mark: str

    @property
    def ip_commands(self) -> tuple[tuple[str | None, tuple[str, ...]], ...]:
        create = ("link", "add", "link", self.parent, "name", self.name, "up", "type", "vlan")
        return (
            (self.netns, (*create, "id", str(self.vlan))),
            (self.netns, ("link", "set", self.name, "alias", self.mark)),
        )

    @property
    def description(self) -> str:
        return f"VLAN {self.vlan} sub-interface {self.name} on {self.node}'s {self.parent}"


@dataclass(frozen=True)
class AddBridgeVlan(Step):
    """Let VLAN ``vlan`` through bridge port ``dev`` of bridge ``node``: tagged (a trunk's), or
    ``untagged`` as the port's own (``pvid``: an access port's, untagged frames join it)."""

    action: ClassVar[str] = "add-bridge-vlan"
    node: str
    netns: str | None
    dev: str
    vlan: int
    untagged: bool = False

    @property
    def shell(self) -> tuple[str, ...]:
        flags = ("pvid", "untagged") if self.untagged else ()
        return (_bridge(self.netns, "vlan", "add", "dev", self.dev, "vid", str(self.vlan), *flags),)

    @property
    def description(self) -> str:
        how = "untagged (access port)" if self.untagged else "tagged (trunk)"
        return f"VLAN {self.vlan} {how} on {self.dev} of bridge {self.node}"


@dataclass(frozen=True)
class DeleteBridgeVlan(Step):
    """Stop VLAN ``vlan`` on bridge port ``dev`` (a port of a filtering bridge is born in VLAN
    1, untagged: an access port of another VLAN and a trunk leave it)."""

    action: ClassVar[str] = "delete-bridge-vlan"
    node: str
    netns: str | None
    dev: str
    vlan: int

    @property
    def shell(self) -> tuple[str, ...]:
        return (_bridge(self.netns, "vlan", "del", "dev", self.dev, "vid", str(self.vlan)),)

    @property
    def description(self) -> str:
        return f"VLAN {self.vlan} off {self.dev} of bridge {self.node}"


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
class SetMtu(Step):
    """Set the MTU of ``name`` in ``netns`` (both ends of a link get one step each)."""

    action: ClassVar[str] = "set-mtu"
    node: str
    netns: str | None
    name: str
    mtu: int

    @property
    def ip_commands(self) -> tuple[tuple[str | None, tuple[str, ...]], ...]:
        return ((self.netns, ("link", "set", self.name, "mtu", str(self.mtu))),)

    @property
    def description(self) -> str:
        return f"MTU {self.mtu} on {self.node}'s {self.name}"


@dataclass(frozen=True)
class SetLinkState(Step):
    """Set ``name`` in ``netns`` administratively up or down (a link the design has down;
    up again is the undo)."""

    action: ClassVar[str] = "set-link-state"
    node: str
    netns: str | None
    name: str
    up: bool

    @property
    def ip_commands(self) -> tuple[tuple[str | None, tuple[str, ...]], ...]:
        return ((self.netns, ("link", "set", self.name, "up" if self.up else "down")),)

    @property
    def description(self) -> str:
        return f"bring {self.node}'s {self.name} {'up' if self.up else 'down'}"


@dataclass(frozen=True)
class SetQdisc(Step):
    """Impair the egress of ``dev`` in ``netns``: its root qdisc becomes ``netem`` (delay,
    jitter, loss, corruption, duplication, with any rate inside it) or, for a rate alone,
    ``tbf`` (a token bucket, whose burst follows the rate and ``mtu``). Replaced in place."""

    action: ClassVar[str] = "set-qdisc"
    node: str
    netns: str | None
    dev: str
    impairment: Impairment
    mtu: int = DEFAULT_MTU

    @property
    def kind(self) -> str:
        return qdisc_kind(self.impairment)

    @property
    def burst(self) -> int:
        """tbf's bucket, in bytes (see :func:`netlab.core.impairments.tbf_burst`)."""
        return tbf_burst(self.impairment.rate_kbit or 0, self.mtu)

    @property
    def shell(self) -> tuple[str, ...]:
        if self.kind == "netem":
            words = netem_words(self.impairment)
        else:
            words = tbf_words(self.impairment.rate_kbit or 0, self.burst, TBF_LATENCY_MS)
        return (_tc(self.netns, "qdisc", "replace", "dev", self.dev, "root", *words),)

    @property
    def description(self) -> str:
        summary = impairment_summary(self.impairment)
        return f"impair {self.node}'s {self.dev} ({self.kind}): {summary}"


@dataclass(frozen=True)
class DeleteQdisc(Step):
    """Give ``dev`` in ``netns`` its default root qdisc back (the impairment is gone)."""

    action: ClassVar[str] = "delete-qdisc"
    node: str
    netns: str | None
    dev: str

    @property
    def shell(self) -> tuple[str, ...]:
        return (_tc(self.netns, "qdisc", "del", "dev", self.dev, "root"),)

    @property
    def description(self) -> str:
        return f"remove the impairment of {self.node}'s {self.dev}"


@dataclass(frozen=True)
class SetSysctl(Step):
    """Write ``value`` to sysctl ``key`` (dotted, e.g. net.ipv4.ip_forward) in ``netns``."""

    action: ClassVar[str] = "set-sysctl"
    node: str
    netns: str | None
    key: str
    value: str
    optional: bool = False  # a key only some kernels have (a module's): skipped where absent

    @property
    def path(self) -> str:
        """The file under /proc/sys, as the driver writes it from inside the namespace."""
        return "/proc/sys/" + self.key.replace(".", "/")

    @property
    def shell(self) -> tuple[str, ...]:
        ignore = ("-e",) if self.optional else ()
        return (_exec(self.netns, "sysctl", *ignore, "-w", f"{self.key}={self.value}"),)

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
    # In a change plan: the route may still be there (``ip route replace``), or was changed.
    replace: bool = False

    @property
    def destination(self) -> str:
        """``to`` as iproute2 reads it in both families (``::/0`` is the IPv6 default)."""
        if self.to == "default" and self.version == 6:
            return "::/0"
        return self.to

    @property
    def ip_commands(self) -> tuple[tuple[str | None, tuple[str, ...]], ...]:
        args = ["route", "replace" if self.replace else "add", self.destination]
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
    # In a change plan: the table exists and is replaced in the same transaction.
    replace: bool = False

    def ruleset(self) -> dict[str, Any]:
        """Return the nft JSON document that creates the table (replacing it, if asked)."""
        ruleset = nft_ruleset(self.table, self.nat, self.port_forwards)
        if self.replace:
            table = {"table": {"family": "inet", "name": self.table}}
            ruleset["nftables"][:0] = [{"add": table}, {"delete": table}]
        return ruleset

    def ruleset_text(self) -> str:
        """Return the same table in nft's own syntax (``nft -f``)."""
        text = nft_text(self.table, self.nat, self.port_forwards)
        if self.replace:  # "add" first: the delete then never fails, and all is one transaction
            text = f"table inet {self.table}\ndelete table inet {self.table}\n{text}"
        return text

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
class ServiceToStart:
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
    services: tuple[ServiceToStart, ...]

    def by_netns(self) -> dict[str | None, list[ServiceToStart]]:
        """Return the services grouped by namespace, in document order."""
        grouped: dict[str | None, list[ServiceToStart]] = {}
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


# -- the steps that undo: a change plan's removals (netlab.core.plan.change) ------------------
# The driver removes only objects that carry the deployment's mark.


@dataclass(frozen=True)
class DeleteNamespace(Step):
    """Delete namespace ``netns`` of ``node``, with every link, address and route in it."""

    action: ClassVar[str] = "delete-namespace"
    node: str
    netns: str

    @property
    def shell(self) -> tuple[str, ...]:
        return (command("ip", "netns", "del", self.netns),)

    @property
    def description(self) -> str:
        return f"delete namespace {self.netns} of {self.node}"


@dataclass(frozen=True)
class DeleteLink(Step):
    """Delete link ``name`` (a bridge, or a veth with its peer) of ``node`` in ``netns``."""

    action: ClassVar[str] = "delete-link"
    node: str
    netns: str | None
    name: str

    @property
    def ip_commands(self) -> tuple[tuple[str | None, tuple[str, ...]], ...]:
        return ((self.netns, ("link", "del", self.name)),)

    @property
    def description(self) -> str:
        return f"delete {self.node}'s {self.name}"


@dataclass(frozen=True)
class DeleteAddress(Step):
    """Remove ``address`` from ``dev`` in ``netns`` (the kernel drops the routes it carried)."""

    action: ClassVar[str] = "delete-address"
    node: str
    netns: str | None
    dev: str
    address: str

    @property
    def ip_commands(self) -> tuple[tuple[str | None, tuple[str, ...]], ...]:
        return ((self.netns, ("addr", "del", self.address, "dev", self.dev)),)

    @property
    def description(self) -> str:
        return f"remove address {self.address} from {self.node}'s {self.dev}"


@dataclass(frozen=True)
class DeleteRoute(Step):
    """Remove the route :class:`AddRoute` ``route`` added."""

    action: ClassVar[str] = "delete-route"
    route: AddRoute

    @property
    def node(self) -> str:
        return self.route.node

    @property
    def netns(self) -> str | None:
        return self.route.netns

    @property
    def ip_commands(self) -> tuple[tuple[str | None, tuple[str, ...]], ...]:
        (netns, args), *_ = self.route.ip_commands
        return ((netns, ("route", "del", *args[2:])),)

    @property
    def description(self) -> str:
        return f"remove route {self.route.to} in {self.route.node}"


@dataclass(frozen=True)
class DeleteNftables(Step):
    """Delete netlab's table ``table`` (NAT and port forwards) in ``netns``."""

    action: ClassVar[str] = "delete-nftables"
    node: str
    netns: str | None
    table: str

    @property
    def shell(self) -> tuple[str, ...]:
        return (_exec(self.netns, "nft", "delete", "table", "inet", self.table),)

    @property
    def description(self) -> str:
        return f"remove NAT and port forwards in {self.node} (nftables table {self.table})"


@dataclass(frozen=True)
class StopServices(Step):
    """Stop the built-in responders of deployment ``tag`` (its one process)."""

    action: ClassVar[str] = "stop-services"
    tag: str
    services: tuple[ServiceToStart, ...]

    @property
    def shell(self) -> tuple[str, ...]:
        # Every process in a lab namespace is one of its services.
        netns = dict.fromkeys(service.netns for service in self.services)
        return tuple(
            command("ip", "netns", "pids", name) + " | xargs -r kill"
            for name in netns
            if name is not None
        )

    @property
    def description(self) -> str:
        listed = ", ".join(f"{s.kind}:{s.port} in {s.node}" for s in self.services)
        return f"stop services: {listed}"


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
            if isinstance(step, AddBridge | AddVeth | AddVlanLink) and step.netns is None:
                created.append(step.name)
            if isinstance(step, AddVeth) and step.peer_netns is None:
                created.append(step.peer_name)
        return created
