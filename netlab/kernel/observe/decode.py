"""pyroute2 messages decoded into records. ``names`` maps interface indexes to names."""

from __future__ import annotations

import socket
from typing import Any

from netlab.kernel.observe.records import Address, Link, Neighbour, Route

MAIN_TABLE = 254
IFF_UP = 0x1
NUD_STATES = {
    0x01: "INCOMPLETE",
    0x02: "REACHABLE",
    0x04: "STALE",
    0x08: "DELAY",
    0x10: "PROBE",
    0x20: "FAILED",
    0x40: "NOARP",
    0x80: "PERMANENT",
}
NUD_NOARP = 0x40
ROUTE_PROTOCOLS = {0: "unspec", 1: "redirect", 2: "kernel", 3: "boot", 4: "static", 16: "dhcp"}
ROUTE_SCOPES = {0: "global", 200: "site", 253: "link", 254: "host", 255: "nowhere"}
ROUTE_TYPES = {
    1: "unicast",
    2: "local",
    3: "broadcast",
    4: "anycast",
    5: "multicast",
    6: "blackhole",
    7: "unreachable",
    8: "prohibit",
    9: "throw",
    10: "nat",
}
FAMILIES: dict[int, str] = {int(socket.AF_INET): "inet", int(socket.AF_INET6): "inet6"}
COUNTER_NAMES = ("rx_bytes", "tx_bytes", "rx_packets", "tx_packets")


def state_name(state: int) -> str:
    if state == 0:
        return "NONE"
    return "|".join(name for bit, name in NUD_STATES.items() if state & bit)


def link(message: Any, names: dict[int, str], addresses: tuple[str, ...] = ()) -> Link:
    master = message.get("master")
    return Link(
        name=str(message.get("ifname")),
        index=int(message["index"]),
        mac=message.get("address"),
        state="up" if message["flags"] & IFF_UP else "down",
        operstate=str(message.get("operstate") or "UNKNOWN"),
        mtu=message.get("mtu"),
        master=names.get(master, str(master)) if master else None,
        kind=message.get(("linkinfo", "kind")),
        addresses=addresses,
    )


def address(message: Any, names: dict[int, str]) -> Address:
    index = int(message["index"])
    return Address(
        address=f"{message.get('address')}/{message['prefixlen']}",
        interface=names.get(index, str(index)),
        family=FAMILIES.get(message["family"], str(message["family"])),
        scope=ROUTE_SCOPES.get(message["scope"], str(message["scope"])),
    )


def neighbour(message: Any, names: dict[int, str]) -> Neighbour:
    index = int(message["ifindex"])
    return Neighbour(
        address=str(message.get("dst")),
        mac=message.get("lladdr"),
        interface=names.get(index, str(index)),
        state=state_name(int(message["state"])),
    )


def shown_neighbour(message: Any) -> bool:
    # As `ip neigh show`: entries without a state, and NOARP ones (multicast, loopback),
    # are the kernel's bookkeeping, not neighbours anyone resolved.
    state = int(message["state"])
    return state != 0 and not state & NUD_NOARP and message.get("dst") is not None


def route(message: Any, names: dict[int, str]) -> Route:
    family = int(message["family"])
    destination = message.get("dst")
    length = int(message["dst_len"])
    to = "default" if length == 0 else f"{destination}/{length}"
    via = message.get("gateway")
    oif = message.get("oif")
    multipath = message.get("multipath")
    if via is None and oif is None and multipath:
        # A multipath route: show its first next hop, as the main line of `ip route`.
        first = multipath[0]
        via = first.get("gateway")
        oif = first["oif"]
    return Route(
        to=to,
        via=via,
        dev=names.get(oif, str(oif)) if oif else None,
        family=FAMILIES.get(family, str(family)),
        protocol=ROUTE_PROTOCOLS.get(message["proto"], str(message["proto"])),
        scope=ROUTE_SCOPES.get(message["scope"], str(message["scope"])),
        type=ROUTE_TYPES.get(message["type"], str(message["type"])),
        source=message.get("prefsrc"),
        metric=message.get("priority"),
    )


def route_table(message: Any) -> int:
    table = message.get("table")
    return int(table if table is not None else message["table"])


def counters(message: Any) -> dict[str, int]:
    stats = message.get("stats64") or message.get("stats")
    if stats is None:
        return dict.fromkeys(COUNTER_NAMES, 0)
    return {name: int(stats.get(name, 0)) for name in COUNTER_NAMES}
