"""containerlab topologies in and out.

In: ``linux`` nodes become namespaces, ``bridge`` nodes bridges (in the host, or in a node's
namespace for the ``br|node`` form), ``host:IF`` endpoints the host node's interfaces; links
in the brief and the extended form; ``defaults`` -> ``kinds`` -> ``groups`` -> node, the
later winning; each node's ``exec`` lines replayed as commands on it
(:mod:`netlab.core.interop.script`). What a namespace lab cannot be (images, binds, the
management network, vendor systems) is reported, item by item, with its line; a vendor node
is kept as an empty namespace marked unsupported, so its links stay drawn.

Out: :func:`write` gives a topology of ``linux`` and ``bridge`` nodes whose ``exec`` lines
set the addresses, routes, forwarding and NAT, and a header saying what containerlab needs
first (it does not make ``bridge``-kind bridges, nor touch the host).
"""

from __future__ import annotations

import math
from typing import Any

import yaml

from netlab.core import codec, impairments, names, shell
from netlab.core.document import Document, Link, Node
from netlab.core.interop import Note, Translation
from netlab.core.interop.script import Replay, design_name, statements
from netlab.core.validation import InvalidDesign, Problem

DEFAULT_IMAGE = "alpine:3"  # busybox's ip takes every exec line written below
NAMESPACE_KINDS = {"linux"}
BRIDGE_KINDS = {"bridge", "ovs-bridge"}
LABEL = "netlab-label"
NETLAB_VARS = "netlab"  # a link's vars entry holding what containerlab has no field for
# containerlab tools netem set's flags for each impairment field, and the unit it wants.
NETEM_FLAGS = (
    ("delay_ms", "--delay", "ms"),
    ("jitter_ms", "--jitter", "ms"),
    ("loss_percent", "--loss", ""),
    ("rate_kbit", "--rate", ""),
    ("corrupt_percent", "--corruption", ""),
)
SERVICES = "netlab-services"
MANAGEMENT = "eth0"  # Docker's interface in every containerlab node, not a lab link
# Node settings that only a container has, and what each would have done.
CONTAINER_SETTINGS = {
    "image": "netlab nodes are namespaces, not containers",
    "cmd": "a container's command",
    "entrypoint": "a container's command",
    "binds": "files bound into a container; a daemon's configuration is not read",
    "env": "a container's environment",
    "env-files": "a container's environment",
    "ports": "published container ports",
    "mgmt-ipv4": "the management network is Docker's",
    "mgmt-ipv6": "the management network is Docker's",
    "startup-config": "a network system's configuration",
    "healthcheck": "a container's health check",
    "dns": "a container's DNS settings",
    "aliases": "a container's DNS aliases",
    "cpu": "a container's limits",
    "memory": "a container's limits",
    "user": "a container's user",
    "sysctls": "a container's sysctls (forwarding is read from exec lines)",
}
NODE_SETTINGS = {"kind", "group", "exec", "labels", "network-mode"}


def read(text: str | bytes, filename: str) -> Translation:
    """Translate the containerlab topology ``text`` into design data."""
    data, lines = codec.parse_located(text)
    if not isinstance(data, dict) or not isinstance(data.get("topology"), dict):
        raise InvalidDesign([Problem("topology", "a containerlab topology has a topology map")])
    return _Reader(data, lines, filename).read()


class _Reader:
    def __init__(self, data: dict[str, Any], lines: codec.Lines, filename: str) -> None:
        self.data = data
        self.lines = lines
        self.topology: dict[str, Any] = data["topology"]
        self.filename = filename
        self.replay = Replay(infer=False)
        self.ids: dict[str, str] = {}  # containerlab node name -> node id

    def line(self, *path: Any) -> int | None:
        return self.lines.get(path)

    def skip(self, path: tuple[Any, ...], text: str, reason: str, node: str | None = None) -> None:
        self.replay.notes.append(Note(self.line(*path), text, reason, node))

    def read(self) -> Translation:
        for key in self.data:
            if key not in ("name", "topology"):
                self.skip((key,), f"{key}: ...", _top_level_reason(key))
        nodes = self.topology.get("nodes") or {}
        if not isinstance(nodes, dict):
            raise InvalidDesign([Problem("topology.nodes", "nodes is a map of names to nodes")])
        resolved = {name: self.resolve(name, node) for name, node in nodes.items()}
        hosts = [str(name) for name, (node, _) in resolved.items() if node.get("kind") == "host"]
        if hosts and names.node_id_problem(hosts[0]) is None:
            self.replay.host_id = hosts[0]
        for name, (node, paths) in resolved.items():
            self.node(str(name), node, paths)
        for index, link in enumerate(_list(self.topology.get("links"))):
            self.link(index, link)
        for name, (node, paths) in resolved.items():
            self.exec_lines(str(name), node, paths)
        name = design_name(str(self.data.get("name") or self.filename))
        return self.replay.finish(name, self.filename, source="containerlab")

    def resolve(self, name: Any, node: Any) -> tuple[dict[str, Any], dict[str, tuple[Any, ...]]]:
        """The node's settings after ``defaults``, its kind's and its group's, and the path
        each came from (for its line)."""
        node = _mapping(node)
        defaults = _mapping(self.topology.get("defaults"))
        groups, kinds = _mapping(self.topology.get("groups")), _mapping(self.topology.get("kinds"))
        group = _text(node.get("group"))
        kind = (
            _text(node.get("kind"))
            or _text(_mapping(groups.get(group)).get("kind"))
            or _text(defaults.get("kind"))
        )
        layers: list[tuple[tuple[Any, ...], Any]] = [
            (("topology", "defaults"), defaults),
            (("topology", "kinds", kind), kinds.get(kind)),
            (("topology", "groups", group), groups.get(group)),
            (("topology", "nodes", name), node),
        ]
        settings: dict[str, Any] = {}
        paths: dict[str, tuple[Any, ...]] = {}
        for path, layer in layers:
            for key, value in (layer or {}).items() if isinstance(layer, dict) else ():
                settings[key] = value
                paths[key] = (*path, key)
        settings["kind"] = kind
        return settings, paths

    def node(self, name: str, node: dict[str, Any], paths: dict[str, tuple[Any, ...]]) -> None:
        kind = node.get("kind")
        base, _, holder = name.partition("|")
        node_id = _node_id(base)
        where = paths.get("kind", ("topology", "nodes", name))
        if kind == "host":
            self.ids[name] = self.replay.host_id
            self.replay.host()
            self.labels(self.replay.host_id, node.get("labels"), paths)
            return
        if node_id != base:
            self.skip(("topology", "nodes", name), name, f"not a node id here: named {node_id}")
        self.ids[name] = node_id
        if kind in BRIDGE_KINDS:
            bridge: dict[str, Any] = {"id": node_id, "kind": "bridge"}
            mode = str(node.get("network-mode") or "")
            if not holder and mode.startswith("container:"):
                holder = mode.removeprefix("container:")
            if holder:
                bridge["in"] = _node_id(holder)
            else:
                self.replay.host()
            if kind != "bridge":
                self.skip(where, f"kind: {kind}", "made a Linux bridge", node_id)
            self.replay.add_node(bridge)
        else:
            made: dict[str, Any] = {"id": node_id, "kind": "namespace"}
            if kind not in NAMESPACE_KINDS:
                made["label"] = f"{node_id} ({kind or 'no kind'}: not imported)"
                what = f"{kind} is a network system" if kind else "a node without a kind"
                self.skip(
                    where,
                    f"kind: {kind}",
                    f"{what}, not a Linux namespace: {node_id} is kept empty, with its links",
                    node_id,
                )
            elif node.get("network-mode") == "host":
                self.skip(
                    paths["network-mode"],
                    "network-mode: host",
                    "shares the host's namespace: imported as a namespace of its own",
                    node_id,
                )
            self.replay.add_node(made)
        self.labels(node_id, node.get("labels"), paths)
        for key, value in node.items():
            if key in NODE_SETTINGS:
                continue
            reason = CONTAINER_SETTINGS.get(key, "a container setting")
            self.skip(paths.get(key, where), f"{key}: {_short(value)}", reason, node_id)
        self.replay.translated += 1

    def labels(self, node_id: str, labels: Any, paths: dict[str, tuple[Any, ...]]) -> None:
        """Read what a netlab export keeps in labels: position, label text, services."""
        node = self.replay.node(node_id)
        if node is None or not isinstance(labels, dict):
            return
        position = _position(labels)
        if position:
            node["position"] = position
        if isinstance(labels.get(LABEL), str):
            node["label"] = labels[LABEL]
        for word in str(labels.get(SERVICES) or "").split():
            kind, _, port = word.partition(":")
            if kind in ("http", "tcp") and port.isdigit():
                node.setdefault("services", []).append({"kind": kind, "port": int(port)})
            else:
                self.skip(paths.get("labels", ()), word, "not a service (http:PORT or tcp:PORT)")

    def endpoint(self, text: Any, path: tuple[Any, ...]) -> dict[str, Any] | None:
        """``{"node", "interface"}`` for a brief endpoint ``node:interface``."""
        node, _, interface = str(text).rpartition(":")
        if node in ("mgmt-net", "macvlan") or node.startswith("ovs"):
            self.skip(path, str(text), f"a {node} endpoint: outside the lab")
            return None
        if node == "host":
            self.replay.host()
            return {"node": self.replay.host_id, "interface": interface}
        if node not in self.ids:
            self.skip(path, str(text), f"no node {node!r} in the topology")
            return None
        if interface == MANAGEMENT:
            self.replay.notes.append(
                Note(
                    self.line(*path),
                    str(text),
                    "eth0 is the management interface in containerlab: taken as a lab link here",
                    imported=True,
                )
            )
        return {"node": self.ids[node], "interface": interface}

    def link(self, index: int, link: Any) -> None:
        path = ("topology", "links", index)
        if not isinstance(link, dict):
            self.skip(path, _short(link), "a link is a map")
            return
        kind = link.get("type")
        ends: list[dict[str, Any] | None]
        if kind is None:
            texts = _list(link.get("endpoints"))
            if len(texts) != 2:
                self.skip(path, _short(link), "a link has two endpoints")
                return
            ends = [self.endpoint(text, (*path, "endpoints")) for text in texts]
            for family in ("ipv4", "ipv6"):
                for end, address in zip(ends, _list(link.get(family)), strict=False):
                    if end is not None and address:
                        end.setdefault("addresses", []).append(str(address))
        elif kind == "veth":
            ends = [
                self.extended(end, (*path, "endpoints", number))
                for number, end in enumerate(_list(link.get("endpoints")))
            ]
        elif kind == "host":
            self.replay.host()
            ends = [
                self.extended(link.get("endpoint"), (*path, "endpoint")),
                {"node": self.replay.host_id, "interface": str(link.get("host-interface"))},
            ]
        else:
            reason = {
                "dummy": "a dummy interface: netlab links are veth pairs",
                "mgmt-net": "the management network is Docker's",
            }.get(kind, f"a {kind} link: netlab links are veth pairs")
            self.skip((*path, "type"), f"type: {kind}", reason)
            return
        made: dict[str, Any] = {"endpoints": ends}
        for key, value in link.items():
            if key == "mtu" and isinstance(value, int) and not isinstance(value, bool):
                made["mtu"] = value
            elif key == "vars" and isinstance(value, dict) and NETLAB_VARS in value:
                self.link_settings(made, value, (*path, key))
            elif key not in ("type", "endpoints", "endpoint", "host-interface", "ipv4", "ipv6"):
                self.skip((*path, key), f"{key}: {_short(value)}", _link_reason(key))
        if len(ends) != 2 or any(end is None for end in ends):
            if len(ends) != 2:
                self.skip(path, _short(link), "a link has two endpoints")
            return
        self.replay.data["links"].append(made)
        self.replay.translated += 1

    def link_settings(self, made: dict[str, Any], values: dict[str, Any], path: Any) -> None:
        """Read back what a netlab export keeps in a link's vars: impairments and state."""
        settings = values[NETLAB_VARS]
        if not isinstance(settings, dict):
            self.skip(path, _short(settings), f"{NETLAB_VARS} is a map")
            return
        if isinstance(settings.get("impairment"), dict):
            made["impairment"] = settings["impairment"]
        for end, impairment in zip(
            made["endpoints"], settings.get("impairments") or [], strict=False
        ):
            if end is not None and isinstance(impairment, dict) and impairment:
                end["impairment"] = impairment
        if settings.get("up") is False:
            made["up"] = False

    def extended(self, end: Any, path: tuple[Any, ...]) -> dict[str, Any] | None:
        if not isinstance(end, dict):
            self.skip(path, _short(end), "an endpoint is a map with node and interface")
            return None
        made = self.endpoint(f"{end.get('node')}:{end.get('interface')}", path)
        if made is None:
            return None
        for key, value in end.items():
            if key in ("ipv4", "ipv6"):
                values = value if isinstance(value, list) else [value]
                made.setdefault("addresses", []).extend(str(item) for item in values)
            elif key not in ("node", "interface"):
                reason = "the kernel chooses MAC addresses here" if key == "mac" else "not read"
                self.skip((*path, key), f"{key}: {_short(value)}", reason, made["node"])
        return made

    def exec_lines(
        self, name: str, node: dict[str, Any], paths: dict[str, tuple[Any, ...]]
    ) -> None:
        entries = node.get("exec") or []
        node_id = self.ids.get(name)
        if node_id is None or not isinstance(entries, list):
            return
        for index, entry in enumerate(entries):
            number = self.line(*paths["exec"], index) or self.line(*paths["exec"])
            for statement in statements(" ".join(str(entry).split("\n"))):
                self.replay.run(statement, node_id, number, who=node_id)


def _mapping(value: Any) -> dict[Any, Any]:
    """``value`` if it is a map, else an empty one (a topology is anyone's text)."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _node_id(name: str) -> str:
    if names.node_id_problem(name) is None:
        return name
    cleaned = "".join(char if char.isalnum() or char in "_.-" else "-" for char in name)
    return (cleaned.lstrip("_.-") or "node")[:32]


def _position(labels: Any) -> dict[str, float] | None:
    if not isinstance(labels, dict):
        return None
    try:
        x, y = float(labels["graph-posX"]), float(labels["graph-posY"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (math.isfinite(x) and math.isfinite(y)):
        return None
    return {"x": int(x) if x.is_integer() else x, "y": int(y) if y.is_integer() else y}


def _short(value: Any) -> str:
    if isinstance(value, dict | list):
        text = yaml.safe_dump(value, default_flow_style=True, width=1000).strip()
    else:
        text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _top_level_reason(key: str) -> str:
    return {
        "mgmt": "the management network is Docker's",
        "prefix": "container names are Docker's",
    }.get(key, "a containerlab setting")


def _link_reason(key: str) -> str:
    return {
        "mtu": "an MTU is a whole number",
        "vars": "template variables",
        "labels": "labels",
    }.get(key, "not read")


# -- out -----------------------------------------------------------------------------------


def write(document: Document, image: str = DEFAULT_IMAGE) -> str:
    """Return ``document`` as a containerlab topology (YAML), with a header of what to do
    before ``containerlab deploy``.

    Namespaces are ``linux`` nodes of ``image``, the host a ``host`` node (containerlab runs
    its ``exec`` lines on the machine itself), bridges ``bridge`` nodes (``NAME|NODE`` when in
    a node's namespace); every address, route, forwarding and NAT rule is an ``exec`` line of
    the node holding it, addresses first. Positions ride in ``graph-posX``/``graph-posY``
    labels, as containerlab's graph tools keep them.
    """
    holders = document.holders()
    host_id = next((node.id for node in document.nodes if node.kind == "host"), None)
    nodes: dict[str, dict[str, Any]] = {}
    for node in document.nodes:
        key, entry = node.id, _node_entry(node, holders[node.id], host_id, image)
        if node.kind == "bridge" and holders[node.id] != host_id:
            key = f"{node.id}|{holders[node.id]}"
        labels = _labels(node)
        if labels:
            entry["labels"] = labels
        nodes[key] = entry
        lines = _address_lines(document, node.id, holders) + _node_commands(node)
        if lines and node.kind != "bridge":
            entry["exec"] = lines
    links = [_link_entry(document, link, holders, host_id) for link in document.links]
    topology = {"name": document.name, "topology": {"nodes": nodes, "links": links}}
    body = yaml.safe_dump(topology, sort_keys=False, default_flow_style=False, width=100)
    return _header(document, host_id, holders) + body


def _labels(node: Node) -> dict[str, str]:
    """netlab's own settings of ``node`` that containerlab has no field for, as its labels
    (free text it keeps and ignores), so that reading the export back loses nothing."""
    labels = {}
    if node.position is not None:
        labels.update({"graph-posX": str(node.position.x), "graph-posY": str(node.position.y)})
    if node.label:
        labels[LABEL] = node.label
    if node.services:
        labels[SERVICES] = " ".join(f"{service.kind}:{service.port}" for service in node.services)
    return labels


def _link_entry(
    document: Document, link: Link, holders: dict[str, str], host_id: str | None
) -> dict[str, Any]:
    """A brief link; its MTU as containerlab's own ``mtu``, its impairments and state (which
    containerlab sets only at run time) in ``vars``, for the header and for reading back."""
    entry: dict[str, Any] = {
        "endpoints": [
            _endpoint(document, end.node, end.interface, holders, host_id) for end in link.endpoints
        ]
    }
    if link.mtu is not None:
        entry["mtu"] = link.mtu
    settings: dict[str, Any] = {}
    if link.impairment is not None:
        settings["impairment"] = link.impairment.model_dump(exclude_none=True)
    if any(end.impairment is not None for end in link.endpoints):
        settings["impairments"] = [
            end.impairment.model_dump(exclude_none=True) if end.impairment else {}
            for end in link.endpoints
        ]
    if not link.up:
        settings["up"] = False
    if settings:
        entry["vars"] = {NETLAB_VARS: settings}
    return entry


def _netem_lines(document: Document, holders: dict[str, str]) -> list[str]:
    """``containerlab tools netem set`` for each impaired end of a namespace (containerlab
    impairs links only at run time), and what it cannot set."""
    lines = []
    for link in document.links:
        for number, end in enumerate(link.endpoints):
            impairment = link.impairment_of(number)
            node = document.node(end.node)
            if impairment is None or node is None:
                continue
            if node.kind != "namespace":
                lines.append(
                    f"{end.node}'s {end.interface} is impaired in the design: set it "
                    "with tc on the machine (containerlab impairs container links)"
                )
                continue
            words = [
                "containerlab",
                "tools",
                "netem",
                "set",
                "-n",
                f"clab-{document.name}-{end.node}",
                "-i",
                end.interface,
            ]
            for field, flag, unit in NETEM_FLAGS:
                value = getattr(impairment, field)
                if value is not None:
                    words += [flag, f"{impairments.number(value)}{unit}"]
            lines.append(f"  {shell.command(*words)}")
            if impairment.duplicate_percent is not None:
                lines.append(f"  ({end.node}'s {end.interface}: duplication has no netem set flag)")
    return lines


def _node_entry(node: Node, holder: str, host_id: str | None, image: str) -> dict[str, Any]:
    if node.kind == "host":
        return {"kind": "host"}
    if node.kind == "namespace":
        return {"kind": "linux", "image": image}
    if holder == host_id:
        return {"kind": "bridge"}
    return {"kind": "bridge", "network-mode": f"container:{holder}"}


def _address_lines(document: Document, node_id: str, holders: dict[str, str]) -> list[str]:
    """``ip address add`` of every address on an interface ``node_id``'s namespace holds."""
    lines = []
    for bridge in document.nodes:
        if bridge.kind == "bridge" and holders[bridge.id] == node_id:
            lines += [
                shell.command("ip", "address", "add", address, "dev", bridge.id)
                for address in bridge.addresses
            ]
    for link in document.links:
        for end in link.endpoints:
            if holders[end.node] == node_id:
                lines += [
                    shell.command("ip", "address", "add", address, "dev", end.interface)
                    for address in end.addresses
                ]
    return lines


def _endpoint(
    document: Document, node_id: str, interface: str, holders: dict[str, str], host_id: str | None
) -> str:
    node = document.node(node_id)
    if node is not None and node.kind == "host":
        return f"host:{interface}"
    if node is not None and node.kind == "bridge" and holders[node_id] != host_id:
        return f"{node_id}|{holders[node_id]}:{interface}"
    return f"{node_id}:{interface}"


def _node_commands(node: Node) -> list[str]:
    lines = []
    if node.forwarding:
        lines.append(shell.command("sysctl", "-w", "net.ipv4.ip_forward=1"))
    for route in node.routes:
        words = ["ip", "route", "add", route.to]
        if route.via:
            words += ["via", route.via]
        if route.dev:
            words += ["dev", route.dev]
        lines.append(shell.command(*words))
    for nat in node.nat:
        words = ["iptables", "-t", "nat", "-A", "POSTROUTING", "-s", nat.source]
        if nat.out:
            words += ["-o", nat.out]
        lines.append(shell.command(*words, "-j", "MASQUERADE"))
    for forward in node.port_forwards:
        words = ["iptables", "-t", "nat", "-A", "PREROUTING", "-p", forward.protocol]
        if forward.in_:
            words += ["-i", forward.in_]
        words += ["--dport", str(forward.port), "-j", "DNAT", "--to-destination", forward.to]
        lines.append(shell.command(*words))
    return lines


def _header(document: Document, host_id: str | None, holders: dict[str, str]) -> str:
    lines = [
        f"containerlab topology of the netlab design {document.name}.",
        "Deploy with: containerlab deploy -t THIS_FILE",
    ]
    bridges = [
        node for node in document.nodes if node.kind == "bridge" and holders[node.id] == host_id
    ]
    if bridges:
        lines.append("containerlab does not make bridge-kind bridges: first run, as root,")
        for bridge in bridges:
            lines += [
                f"  {shell.command('ip', 'link', 'add', bridge.id, 'type', 'bridge')}",
                f"  {shell.command('ip', 'link', 'set', bridge.id, 'up')}",
            ]
    host = document.node(host_id) if host_id else None
    if host is not None and (_address_lines(document, host.id, holders) or _node_commands(host)):
        lines.append(
            f"The exec lines of {host.id} (kind host) run on THIS MACHINE, as root: they "
            "change its network (addresses, forwarding, NAT)."
        )
    management = sorted(
        {
            holders[end.node]
            for link in document.links
            for end in link.endpoints
            if end.interface == MANAGEMENT and holders[end.node] != host_id
        }
    )
    if management:
        lines.append(
            f"eth0 is the management interface of a containerlab node: rename the eth0 "
            f"of {', '.join(management)} before deploying."
        )
    netem = _netem_lines(document, holders)
    if netem:
        lines.append("containerlab impairs links at run time only: after deploying, run")
        lines += netem
    down = [
        " — ".join(end.node for end in link.endpoints) for link in document.links if not link.up
    ]
    if down:
        lines.append(f"Down in the design (containerlab brings every link up): {', '.join(down)}.")
    vlans = [node.id for node in document.nodes if node.vlan_filtering or node.subinterfaces]
    vlans += [
        f"{end.node}'s {end.interface}"
        for link in document.links
        for end in link.endpoints
        if end.vlan is not None or end.trunk
    ]
    if vlans:
        lines.append(
            f"Not exported: the VLAN settings of {', '.join(vlans)} (containerlab has "
            "no field for them; set them by exec lines or by hand)."
        )
    services = [node.id for node in document.nodes if node.services]
    if services:
        lines.append(
            f"The built-in services of {', '.join(services)} are netlab's: kept as "
            f"{SERVICES} labels only."
        )
    return "".join(shell.comment(line) + "\n" for line in lines)
