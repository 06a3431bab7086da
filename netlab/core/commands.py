"""The tutorial's vocabulary: a command line typed on a node, read as a diagnostic to run or
an edit of the design.

One parser for the console (a line typed on a node) and the command-script importer. Pure:
a line in, a :class:`Diagnostic` (a program and its checked arguments, never a shell) or an
:class:`Edit` (a change of the design, :func:`apply_edit`) out, or :class:`Refused` with a
sentence saying why and what is understood.

A line is split as a shell splits words (quotes), but never run by one: shell
metacharacters (``;``, ``|``, ``&``, ``$``, backticks, redirections) are refused, not
interpreted.
"""

from __future__ import annotations

import copy
import ipaddress
import shlex
from dataclasses import dataclass, field
from typing import Any

METACHARACTERS = set(";|&$`<>()\\\n\r")
UNDERSTOOD = (
    "show commands of ip (addr, link, route, neigh; -s, -br, -j), ping, tracepath, ss, "
    "bridge fdb|link|vlan show, nft list ruleset, sysctl reads; and as edits of the design: "
    "ip addr add|del, ip route add|del|replace, ip link add NAME type bridge [vlan_filtering "
    "0|1]|veth peer name PEER, ip link add link PARENT name PARENT.N type vlan id N, "
    "ip link set DEV up|down|mtu N|master BRIDGE|netns NODE, "
    "ip link set BRIDGE type bridge vlan_filtering 0|1, "
    "bridge vlan add|del dev PORT vid N [pvid untagged], "
    "sysctl -w net.ipv4.ip_forward=0|1, "
    "iptables -t nat -A POSTROUTING ... -j MASQUERADE, iptables -t nat -A PREROUTING ... "
    "-j DNAT --to-destination ADDRESS[:PORT]"
)
# ip's own words, and their abbreviations as ip accepts them.
OBJECTS = {"a": "addr", "ad": "addr", "addr": "addr", "address": "addr", "r": "route",
           "ro": "route", "rou": "route", "route": "route", "l": "link", "li": "link",
           "link": "link", "n": "neigh", "ne": "neigh", "neigh": "neigh", "neighbor": "neigh",
           "neighbour": "neigh"}  # fmt: skip
SHOW_VERBS = {"s", "sh", "show", "l", "ls", "lst", "list", "get"}
ADD_VERBS = {"a", "add"}
DEL_VERBS = {"d", "del", "delete"}
DISPLAY_OPTIONS = {"-4", "-6", "-s", "-stats", "-statistics", "-br", "-brief", "-j", "-json",
                   "-p", "-pretty", "-d", "-details", "-c", "-color"}  # fmt: skip
PING_OPTIONS = {"-c": 100, "-i": None, "-W": 10, "-w": 60, "-s": 1472, "-t": 255}
MIN_PING_INTERVAL = 0.2
MIN_MTU, MAX_MTU = 68, 65535


class Refused(ValueError):
    """A line the console does not run: the sentence says why."""


@dataclass(frozen=True)
class Diagnostic:
    """A program to run in the node's namespace, with its arguments as checked."""

    argv: tuple[str, ...]


@dataclass(frozen=True)
class Edit:
    """A change of the design, as typed: ``kind`` and its fields; ``words`` says it."""

    kind: str
    fields: dict[str, Any] = field(default_factory=dict)
    words: str = ""


def split(line: str) -> list[str]:
    """The words of ``line``, split as a shell would; metacharacters refused."""
    found = sorted({char for char in line if char in METACHARACTERS})
    if found:
        shown = " ".join(repr(char) for char in found)
        raise Refused(f"{shown}: the console runs one command, never a shell")
    try:
        words = shlex.split(line)
    except ValueError as error:
        raise Refused(f"cannot read the line: {error}") from None
    if not words:
        raise Refused("an empty line")
    return words


def parse(line: str) -> Diagnostic | Edit:
    """Read one line typed on a node."""
    words = split(line)
    program, arguments = words[0], words[1:]
    if program == "ip":
        return _ip(arguments, words)
    if program == "ping":
        return _ping(arguments)
    if program in ("tracepath", "ss"):
        return Diagnostic(tuple(words))
    if program == "bridge":
        if (
            len(arguments) >= 1
            and arguments[0] in ("fdb", "link", "vlan")
            and arguments[1:2] in ([], ["show"])
        ):
            return Diagnostic(tuple(words))
        if arguments[:1] == ["vlan"] and arguments[1:2] and arguments[1] in ADD_VERBS | DEL_VERBS:
            return _bridge_vlan(arguments[1], arguments[2:])
        raise Refused("bridge: fdb, link and vlan show are run; vlan add and del are edits")
    if program == "nft":
        if arguments in (["list", "ruleset"], ["-j", "list", "ruleset"]):
            return Diagnostic(tuple(words))
        raise Refused("nft: only list ruleset is run")
    if program == "sysctl":
        return _sysctl(arguments, words)
    if program == "iptables":
        return _iptables(arguments)
    raise Refused(f"{program!r} is not understood here; understood: {UNDERSTOOD}")


def _ip(arguments: list[str], words: list[str]) -> Diagnostic | Edit:
    options = []
    while arguments and arguments[0].startswith("-"):
        option = arguments.pop(0)
        if option in ("-n", "-netns", "-b", "-batch", "-force"):
            raise Refused(f"ip {option}: the console runs in this node's namespace, on its own")
        if option not in DISPLAY_OPTIONS:
            raise Refused(f"ip {option} is not understood here")
        options.append(option)
    if not arguments:
        raise Refused("ip needs an object: addr, link, route or neigh")
    thing = OBJECTS.get(arguments[0])
    if thing is None:
        if arguments[0] == "netns":
            raise Refused("ip netns: each node is its own namespace; open its console instead")
        raise Refused(f"ip {arguments[0]} is not understood here")
    verb = arguments[1] if len(arguments) > 1 else "show"
    rest = arguments[2:]
    if verb in SHOW_VERBS or (thing == "link" and verb == "show"):
        return Diagnostic(("ip", *options, thing, "show" if verb != "get" else "get", *rest))
    if thing == "addr" and verb in ADD_VERBS | DEL_VERBS:
        dev = _after(rest, "dev")
        # ip takes the address anywhere among its options: "add dev eth1 10.0.0.1/24" too.
        free = [word for index, word in enumerate(rest)
                if word != "dev" and (index == 0 or rest[index - 1] != "dev")]  # fmt: skip
        address = _interface_address(free[1] if free[:1] == ["local"] else (free or [""])[0])
        kind = "add-address" if verb in ADD_VERBS else "delete-address"
        return Edit(
            kind, {"address": address, "dev": dev}, f"{kind.replace('-', ' ')} {address} on {dev}"
        )
    if thing == "route" and verb in ADD_VERBS | DEL_VERBS | {"replace", "change"}:
        return _route(verb, rest)
    if thing == "link" and verb in ADD_VERBS:
        return _link_add(rest)
    if thing == "link" and verb == "set":
        return _link_set(rest)
    if thing == "link" and verb in DEL_VERBS:
        name = _after(["dev", *rest] if rest and rest[0] != "dev" else rest, "dev")
        return Edit("delete-link", {"name": name}, f"delete link {name}")
    raise Refused(f"ip {thing} {verb} is not understood here")


def _after(words: list[str], keyword: str) -> str:
    if keyword in words and words.index(keyword) + 1 < len(words):
        return words[words.index(keyword) + 1]
    raise Refused(f"{keyword} is missing: say which with '{keyword} NAME'")


def _interface_address(text: str) -> str:
    try:
        return str(ipaddress.ip_interface(text))
    except ValueError:
        raise Refused(f"{text!r} is not an address with its prefix, e.g. 192.168.15.1/24") from None


def _route(verb: str, rest: list[str]) -> Edit:
    if not rest:
        raise Refused("a route needs its destination: default or a prefix")
    to = rest[0]
    if to != "default":
        try:
            to = str(ipaddress.ip_network(to, strict=True))
        except ValueError:
            raise Refused(f"{to!r} is not a destination: default or a prefix") from None
    route: dict[str, str] = {"to": to}
    if "via" in rest:
        via = _after(rest, "via")
        try:
            route["via"] = str(ipaddress.ip_address(via))
        except ValueError:
            raise Refused(f"{via!r} is not a gateway address") from None
    if "dev" in rest:
        route["dev"] = _after(rest, "dev")
    if verb not in DEL_VERBS and "via" not in route and "dev" not in route:
        raise Refused("a route needs a gateway (via) or an interface (dev)")
    kind = {"replace": "replace-route", "change": "replace-route"}.get(verb, "")
    kind = kind or ("add-route" if verb in ADD_VERBS else "delete-route")
    return Edit(kind, {"route": route}, f"{kind.replace('-', ' ')} {' '.join(rest)}")


def _link_add(rest: list[str]) -> Edit:
    # "link PARENT" and "name NAME" come in any order before "type".
    words = list(rest)
    options = words[: words.index("type")] if "type" in words else words
    parent = _after(words, "link") if "link" in options else None
    if parent is not None:
        at = words.index("link")
        del words[at : at + 2]
    if "name" in options:
        at = words.index("name")
        words = [words[at + 1], *words[:at], *words[at + 2 :]] if at + 1 < len(words) else []
    name = words[0] if words else ""
    if not name or name.startswith("-") or name == "type":
        raise Refused("ip link add needs a name")
    kind = _after(words, "type")
    if kind == "vlan":
        if parent is None:
            raise Refused("a VLAN sub-interface needs its parent: link PARENT")
        vlan = _vlan_id(_after(words, "id"))
        fields: dict[str, Any] = {"parent": parent, "vlan": vlan}
        if name != f"{parent}.{vlan}":
            fields["name"] = name
        return Edit(
            "add-subinterface", fields, f"add sub-interface {name} (VLAN {vlan} on {parent})"
        )
    if parent is not None:
        raise Refused(f"link {parent}: only a VLAN (type vlan id N) is stacked on a link here")
    if kind == "bridge":
        fields = {"name": name}
        if "vlan_filtering" in words:
            fields["vlan_filtering"] = _flag(_after(words, "vlan_filtering"), "vlan_filtering")
        return Edit("add-bridge", fields, f"add bridge {name}")
    if kind == "veth":
        head = words[: words.index("peer")] if "peer" in words else words
        tail = words[words.index("peer") + 1 :] if "peer" in words else []
        if "name" not in tail:
            raise Refused("a veth needs its peer: peer name PEER")
        peer = _after(tail, "name")
        fields = {"name": name, "peer": peer}
        # "ip link add A netns X type veth peer name B netns Y" puts each end in place at once.
        for key, side in (("netns", head), ("peer_netns", tail)):
            if "netns" in side:
                fields[key] = _after(side, "netns")
        return Edit("add-veth", fields, f"add veth {name} - {peer}")
    raise Refused(f"type {kind}: only veth, bridge and vlan links are made here")


def _vlan_id(text: str) -> int:
    if not text.isdigit():
        raise Refused(f"VLAN {text!r}: one VLAN id, a whole number from 1 to 4094")
    return int(text)


def _flag(text: str, name: str) -> bool:
    if text not in ("0", "1"):
        raise Refused(f"{name} is 0 or 1")
    return text == "1"


def _bridge_vlan(verb: str, rest: list[str]) -> Edit:
    """``bridge vlan add dev PORT vid N pvid untagged`` (an access port of VLAN N), ``... vid
    N`` (N tagged: the port is a trunk); ``del`` takes N off."""
    dev = _after(rest, "dev")
    vlan = _vlan_id(_after(rest, "vid"))
    flags = {word for word in rest if word in ("pvid", "untagged")}
    unknown = [word for word in rest if word not in ("dev", dev, "vid", str(vlan), "pvid",
                                                     "untagged", "master")]  # fmt: skip
    if "self" in rest:
        raise Refused("bridge vlan ... self: a bridge's own VLANs are not in the design")
    if unknown:
        raise Refused(f"bridge vlan: {unknown[0]!r} is not understood here")
    if verb in DEL_VERBS:
        return Edit("delete-bridge-vlan", {"dev": dev, "vlan": vlan}, f"{dev} leaves VLAN {vlan}")
    if flags == {"pvid", "untagged"}:
        return Edit(
            "set-access-vlan", {"dev": dev, "vlan": vlan}, f"{dev}: access port of VLAN {vlan}"
        )
    if flags:
        raise Refused(
            "a port here is an access port (vid N pvid untagged) or a trunk (vid N, tagged)"
        )
    return Edit("add-trunk-vlan", {"dev": dev, "vlan": vlan}, f"{dev}: trunk carrying VLAN {vlan}")


def _link_set(rest: list[str]) -> Edit:
    words = rest[1:] if rest and rest[0] == "dev" else rest
    if not words:
        raise Refused("ip link set needs a device")
    dev, settings = words[0], words[1:]
    if settings[:3] == ["type", "bridge", "vlan_filtering"] and len(settings) == 4:
        value = _flag(settings[3], "vlan_filtering")
        return Edit(
            "set-vlan-filtering",
            {"bridge": dev, "value": value},
            f"bridge {dev} {'filters' if value else 'does not filter'} VLANs",
        )
    if settings == ["up"]:
        return Edit("link-up", {"dev": dev}, f"bring {dev} up")
    if settings == ["down"]:
        return Edit("link-down", {"dev": dev}, f"take {dev} down")
    if len(settings) == 2 and settings[0] == "mtu":
        if not settings[1].isdigit() or not MIN_MTU <= int(settings[1]) <= MAX_MTU:
            raise Refused(f"mtu {settings[1]!r}: a whole number from {MIN_MTU} to {MAX_MTU}")
        mtu = int(settings[1])
        return Edit("set-mtu", {"dev": dev, "mtu": mtu}, f"MTU {mtu} on {dev}'s link")
    if len(settings) == 2 and settings[0] == "master":
        return Edit("set-master", {"dev": dev, "bridge": settings[1]}, f"{dev} joins {settings[1]}")
    if len(settings) == 2 and settings[0] == "netns":
        return Edit("set-netns", {"dev": dev, "node": settings[1]}, f"move {dev} to {settings[1]}")
    raise Refused(f"ip link set {' '.join(words)} is not understood here")


def _ping(arguments: list[str]) -> Diagnostic:
    checked: list[str] = []
    words = list(arguments)
    target = None
    while words:
        word = words.pop(0)
        if word in PING_OPTIONS:
            if not words:
                raise Refused(f"ping {word} needs a value")
            value = words.pop(0)
            try:
                number = float(value)
            except ValueError:
                raise Refused(f"ping {word} {value!r}: not a number") from None
            most = PING_OPTIONS[word]
            if word == "-i" and number < MIN_PING_INTERVAL:
                raise Refused(f"ping -i: at least {MIN_PING_INTERVAL} s between requests here")
            if most is not None and not 0 < number <= most:
                raise Refused(f"ping {word}: between 1 and {most}")
            checked += [word, value]
        elif word.startswith("-"):
            raise Refused(f"ping {word} is not understood here")
        elif target is None:
            target = word
        else:
            raise Refused("ping takes one target")
    if target is None:
        raise Refused("ping needs a target: an address or a node")
    if "-c" not in checked:
        checked += ["-c", "4"]  # a console ping ends by itself
    return Diagnostic(("ping", *checked, target))


def _sysctl(arguments: list[str], words: list[str]) -> Diagnostic | Edit:
    writes = [word for word in arguments if "=" in word]
    if not writes:
        if any(word.startswith("-") and word not in ("-n",) for word in arguments):
            raise Refused("sysctl: only reads and -w net.ipv4.ip_forward are understood")
        return Diagnostic(tuple(words))
    key, _, value = writes[0].partition("=")
    if key.replace("/", ".") not in ("net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding"):
        raise Refused(f"sysctl {key}: only forwarding (net.ipv4.ip_forward) is in the design")
    if value not in ("0", "1"):
        raise Refused("forwarding is 0 or 1")
    return Edit(
        "set-forwarding", {"value": value == "1"}, f"forwarding {'on' if value == '1' else 'off'}"
    )


def _iptables(arguments: list[str]) -> Edit:
    words = list(arguments)
    if _option(words, "-t") != "nat":
        raise Refused("iptables: only the nat table (-t nat) is in the design")
    chain = _option(words, "-A")
    target = _option(words, "-j")
    if chain == "POSTROUTING" and target == "MASQUERADE":
        source = _option(words, "-s")
        if not source:
            raise Refused("a masquerade here needs its source: -s PREFIX")
        try:
            source = str(ipaddress.ip_network(source, strict=False))
        except ValueError:
            raise Refused(f"{source!r} is not a prefix") from None
        nat: dict[str, str] = {"source": source}
        if _option(words, "-o"):
            nat["out"] = _option(words, "-o")
        return Edit("add-nat", {"nat": nat}, f"masquerade {source}")
    if chain == "PREROUTING" and target == "DNAT":
        port = _option(words, "--dport")
        destination = _option(words, "--to-destination") or _option(words, "--to")
        protocol = _option(words, "-p") or "tcp"
        if not port or not destination:
            raise Refused("a port forward needs --dport PORT and --to-destination ADDRESS[:PORT]")
        number = int(port) if port.isdigit() else port
        forward: dict[str, Any] = {"protocol": protocol, "port": number, "to": destination}
        if _option(words, "-i"):
            forward["in"] = _option(words, "-i")
        return Edit(
            "add-port-forward", {"port_forward": forward}, f"forward {port} to {destination}"
        )
    raise Refused("iptables: MASQUERADE in POSTROUTING and DNAT in PREROUTING are understood")


def _option(words: list[str], option: str) -> str:
    if option in words and words.index(option) + 1 < len(words):
        return words[words.index(option) + 1]
    return ""


# -- edits of a design ----------------------------------------------------------------------


def apply_edit(data: dict[str, Any], node_id: str, edit: Edit) -> dict[str, Any]:
    """Return document ``data`` with ``edit`` made as typed on node ``node_id`` (the caller
    validates the result). Raises :class:`Refused` for an edit that names what is not
    there."""
    result = copy.deepcopy(data)
    nodes: list[dict[str, Any]] = result.setdefault("nodes", [])
    links: list[dict[str, Any]] = result.setdefault("links", [])
    node = next((item for item in nodes if item.get("id") == node_id), None)
    if node is None:
        raise Refused(f"no node {node_id!r} in the design")
    fields = edit.fields

    def end_named(name: str) -> dict[str, Any]:
        for link in links:
            for end in link.get("endpoints", []):
                if _holder(nodes, end.get("node")) == node_id and end.get("interface") == name:
                    found: dict[str, Any] = end
                    return found
        raise Refused(f"{node_id} has no interface {name!r}")

    def link_of(end: dict[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = next(link for link in links if end in link.get("endpoints", []))
        return found

    def sub_named(name: str) -> dict[str, Any] | None:
        subs: list[dict[str, Any]] = node.get("subinterfaces", [])
        return next((sub for sub in subs if _sub_name(sub) == name), None)

    def port_named(name: str) -> dict[str, Any]:
        end = end_named(name)
        if _kind(nodes, end.get("node")) != "bridge":
            raise Refused(f"{name} is not a bridge's port: VLANs on {node_id} are sub-interfaces")
        return end

    if edit.kind in ("add-address", "delete-address"):
        bridge = next((item for item in nodes if item.get("id") == fields["dev"]
                       and item.get("kind") == "bridge"), None)  # fmt: skip
        target = bridge or sub_named(fields["dev"]) or end_named(fields["dev"])
        addresses = list(target.get("addresses", []))
        if edit.kind == "add-address":
            if fields["address"] in addresses:
                raise Refused(f"{fields['dev']} has {fields['address']} already")
            addresses.append(fields["address"])
        elif fields["address"] in addresses:
            addresses.remove(fields["address"])
        else:
            raise Refused(f"{fields['dev']} has no address {fields['address']}")
        target["addresses"] = addresses
    elif edit.kind in ("add-route", "replace-route", "delete-route"):
        routes = [dict(route) for route in node.get("routes", [])]
        same = [route for route in routes if route.get("to") == fields["route"]["to"]]
        if edit.kind == "add-route" and same:
            raise Refused(f"{node_id} has a route to {fields['route']['to']} already")
        if edit.kind == "delete-route" and not same:
            raise Refused(f"{node_id} has no route to {fields['route']['to']}")
        routes = [route for route in routes if route not in same]
        if edit.kind != "delete-route":
            routes.append(dict(fields["route"]))
        node["routes"] = routes
    elif edit.kind == "add-bridge":
        made = {"id": fields["name"], "kind": "bridge", "in": node_id}
        if fields.get("vlan_filtering"):
            made["vlan_filtering"] = True
        nodes.append(made)
    elif edit.kind == "set-vlan-filtering":
        bridge = next((item for item in nodes if item.get("id") == fields["bridge"]
                       and item.get("kind") == "bridge"), None)  # fmt: skip
        if bridge is None or _holder(nodes, bridge["id"]) != node_id:
            raise Refused(f"{node_id} holds no bridge {fields['bridge']!r}")
        if fields["value"]:
            bridge["vlan_filtering"] = True
        else:
            bridge.pop("vlan_filtering", None)
    elif edit.kind == "add-subinterface":
        parent = end_named(fields["parent"])
        if parent.get("node") != node_id:
            raise Refused(f"{fields['parent']} is a bridge's port: a sub-interface sits on a "
                          f"link end of {node_id}")  # fmt: skip
        subs = [dict(sub) for sub in node.get("subinterfaces", [])]
        made = {key: fields[key] for key in ("parent", "vlan", "name") if key in fields}
        if any(_sub_name(sub) == _sub_name(made) for sub in subs):
            raise Refused(f"{node_id} has {_sub_name(made)} already")
        node["subinterfaces"] = [*subs, made]
    elif edit.kind in ("set-access-vlan", "add-trunk-vlan", "delete-bridge-vlan"):
        _port_vlan(port_named(fields["dev"]), edit.kind, fields["dev"], fields["vlan"])
    elif edit.kind == "add-veth":
        ends = [(fields.get(key, node_id), fields[name]) for key, name in
                (("netns", "name"), ("peer_netns", "peer"))]  # fmt: skip
        for holder, _ in ends:
            other = next((item for item in nodes if item.get("id") == holder), None)
            if other is None or other.get("kind") == "bridge":
                raise Refused(f"no namespace node {holder!r} in the design")
        links.append({"endpoints": [{"node": holder, "interface": name} for holder, name in ends]})
    elif edit.kind == "delete-link" and sub_named(fields["name"]) is not None:
        gone = sub_named(fields["name"])
        node["subinterfaces"] = [sub for sub in node["subinterfaces"] if sub is not gone]
    elif edit.kind == "delete-link":
        end = end_named(fields["name"])
        links[:] = [link for link in links if end not in link.get("endpoints", [])]
    elif edit.kind in ("link-up", "link-down", "set-mtu"):
        held = any(item.get("id") == fields["dev"] and item.get("kind") == "bridge"
                   and _holder(nodes, item["id"]) == node_id for item in nodes)  # fmt: skip
        if held and edit.kind != "link-up":  # a bridge is up in a design, its MTU its ports'
            raise Refused(f"{fields['dev']} is a bridge: set its ports' links instead")
        sub = sub_named(fields["dev"])
        if sub is not None and edit.kind != "link-up":  # up with its parent, at its MTU
            raise Refused(f"{fields['dev']} is a sub-interface: set {sub['parent']}'s link instead")
        if not held and sub is None:
            link = link_of(end_named(fields["dev"]))
            if edit.kind == "set-mtu":
                link["mtu"] = fields["mtu"]  # a link's MTU is both ends'
            elif edit.kind == "link-down":
                link["up"] = False
            else:
                link.pop("up", None)
    elif edit.kind == "set-master":
        bridge = next((item for item in nodes if item.get("id") == fields["bridge"]), None)
        if bridge is None or bridge.get("kind") != "bridge":
            raise Refused(f"no bridge {fields['bridge']!r} in the design")
        end_named(fields["dev"])["node"] = fields["bridge"]
    elif edit.kind == "set-netns":
        other = next((item for item in nodes if item.get("id") == fields["node"]), None)
        if other is None or other.get("kind") == "bridge":
            raise Refused(f"no namespace node {fields['node']!r} in the design")
        end_named(fields["dev"])["node"] = fields["node"]
    elif edit.kind == "set-forwarding":
        node["forwarding"] = fields["value"]
    elif edit.kind == "add-nat":
        node["nat"] = [*node.get("nat", []), dict(fields["nat"])]
    elif edit.kind == "add-port-forward":
        node["port_forwards"] = [*node.get("port_forwards", []), dict(fields["port_forward"])]
    else:
        raise Refused(f"no such edit {edit.kind!r}")
    return result


def _sub_name(sub: dict[str, Any]) -> str:
    return str(sub.get("name") or f"{sub.get('parent')}.{sub.get('vlan')}")


def _kind(nodes: list[dict[str, Any]], node_id: Any) -> Any:
    return next((item.get("kind") for item in nodes if item.get("id") == node_id), None)


def _port_vlan(end: dict[str, Any], kind: str, dev: str, vlan: int) -> None:
    """Make bridge port ``end`` an access port of ``vlan``, add it to its trunk, or take it
    off; a port is one or the other, as in the design."""
    trunk = list(end.get("trunk", []))
    if kind == "set-access-vlan":
        end["vlan"] = vlan
        end.pop("trunk", None)
    elif kind == "add-trunk-vlan":
        if "vlan" in end:
            raise Refused(f"{dev} is an access port of VLAN {end['vlan']}: a port here is an "
                          "access port or a trunk, not both")  # fmt: skip
        if vlan in trunk:
            raise Refused(f"{dev} carries VLAN {vlan} already")
        end["trunk"] = [*trunk, vlan]
    elif end.get("vlan") == vlan:
        del end["vlan"]
    elif vlan in trunk:
        trunk.remove(vlan)
        if trunk:
            end["trunk"] = trunk
        else:
            del end["trunk"]
    elif vlan == 1 and ("vlan" in end or trunk):
        pass  # the kernel's default VLAN, which a port given VLANs leaves in the design
    else:
        raise Refused(f"{dev} is not in VLAN {vlan}")


def _holder(nodes: list[dict[str, Any]], node_id: Any) -> Any:
    """The namespace node holding ``node_id``'s interfaces (a bridge's holder)."""
    node = next((item for item in nodes if item.get("id") == node_id), None)
    if node is None or node.get("kind") != "bridge":
        return node_id
    if node.get("in"):
        return node["in"]
    host = next((item for item in nodes if item.get("kind") == "host"), None)
    return host["id"] if host else None
