"""Read one namespace's links, neighbours, routes and counters, and watch them change.

The readers (``links``, ``neighbours``, ``routes``, ``counters``, ``snapshot``) open an
``IPRoute`` inside the namespace from a throw-away thread (``namespaces.run_inside``) and
dump there: no fork (``IPRoute(netns=...)`` forks a helper), no thread of the caller ever
changes namespace, and they work from inside a running asyncio loop too (a sync
``IPRoute`` in the loop's own thread raises "This event loop is already running"). They
are blocking: call them through ``asyncio.to_thread`` from async code.

``Monitor`` is the asyncio side: a netlink socket made inside the namespace, driven by an
``AsyncIPRoute`` bound to the link, neighbour, address and route groups, yielding one
``Event`` per change as the kernel reports it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import asdict, dataclass, field
from types import TracebackType
from typing import Any, Literal, TypeVar

from pyroute2 import AsyncIPRoute, IPRoute
from pyroute2.netlink.rtnl import (
    RTMGRP_IPV4_IFADDR,
    RTMGRP_IPV4_ROUTE,
    RTMGRP_IPV6_IFADDR,
    RTMGRP_IPV6_ROUTE,
    RTMGRP_LINK,
    RTMGRP_NEIGH,
)

from netlab.kernel import namespaces

T = TypeVar("T")

MAIN_TABLE = 254
IFF_UP = 0x1
NETLINK_ROUTE = 0
RECEIVE_BUFFER = 4 * 1024 * 1024  # a burst of events (a lab being built) must not overflow

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

EventKind = Literal["link", "neighbour", "address", "route"]
GROUPS: dict[str, int] = {
    "link": RTMGRP_LINK,
    "neighbour": RTMGRP_NEIGH,
    "address": RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
    "route": RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE,
}


@dataclass(frozen=True)
class Address:
    """An address of a link, as ``ip address`` shows it: ``10.0.0.1/24``."""

    address: str
    interface: str
    family: str
    scope: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Link:
    """A link (interface) of a namespace. ``state`` is the administrative state (up/down);
    ``operstate`` is the kernel's operational one (UP, DOWN, LOWERLAYERDOWN, UNKNOWN...)."""

    name: str
    index: int
    mac: str | None
    state: Literal["up", "down"]
    operstate: str
    mtu: int | None
    master: str | None
    kind: str | None
    addresses: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["addresses"] = list(self.addresses)
        return data


@dataclass(frozen=True)
class Neighbour:
    """An entry of the ARP (IPv4) or NDP (IPv6) table; ``state`` is REACHABLE, STALE..."""

    address: str
    mac: str | None
    interface: str
    state: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Route:
    """A route of the main table; ``to`` is ``default`` or a prefix."""

    to: str
    via: str | None
    dev: str | None
    family: str
    protocol: str
    scope: str
    type: str
    source: str | None = None
    metric: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Snapshot:
    """Everything the live panel shows of one namespace, read through one netlink socket."""

    netns: str
    links: tuple[Link, ...]
    neighbours: tuple[Neighbour, ...]
    routes: tuple[Route, ...]
    counters: dict[str, dict[str, int]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "netns": self.netns,
            "links": [link.as_dict() for link in self.links],
            "neighbours": [neighbour.as_dict() for neighbour in self.neighbours],
            "routes": [route.as_dict() for route in self.routes],
            "counters": self.counters,
        }


@dataclass(frozen=True)
class Event:
    """One change in a namespace: ``action`` is ``new`` or ``del`` of a link, neighbour,
    address or route. ``at`` is ``time.monotonic()`` when the event was decoded."""

    netns: str
    kind: EventKind
    action: Literal["new", "del"]
    data: Link | Neighbour | Address | Route
    at: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "netns": self.netns,
            "kind": self.kind,
            "action": self.action,
            "data": self.data.as_dict(),
        }


# 8<----------------------------------------------------------------------------------------
# Decoding pyroute2 messages. ``names`` maps interface indexes to names.


def _state_name(state: int) -> str:
    if state == 0:
        return "NONE"
    return "|".join(name for bit, name in NUD_STATES.items() if state & bit)


def _link(message: Any, names: dict[int, str], addresses: tuple[str, ...] = ()) -> Link:
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


def _address(message: Any, names: dict[int, str]) -> Address:
    index = int(message["index"])
    return Address(
        address=f"{message.get('address')}/{message['prefixlen']}",
        interface=names.get(index, str(index)),
        family=FAMILIES.get(message["family"], str(message["family"])),
        scope=ROUTE_SCOPES.get(message["scope"], str(message["scope"])),
    )


def _neighbour(message: Any, names: dict[int, str]) -> Neighbour:
    index = int(message["ifindex"])
    return Neighbour(
        address=str(message.get("dst")),
        mac=message.get("lladdr"),
        interface=names.get(index, str(index)),
        state=_state_name(int(message["state"])),
    )


def _shown_neighbour(message: Any) -> bool:
    # As `ip neigh show`: entries without a state, and NOARP ones (multicast, loopback),
    # are the kernel's bookkeeping, not neighbours anyone resolved.
    state = int(message["state"])
    return state != 0 and not state & NUD_NOARP and message.get("dst") is not None


def _route(message: Any, names: dict[int, str]) -> Route:
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


def _route_table(message: Any) -> int:
    table = message.get("table")
    return int(table if table is not None else message["table"])


def _counters(message: Any) -> dict[str, int]:
    stats = message.get("stats64") or message.get("stats")
    if stats is None:
        return dict.fromkeys(COUNTER_NAMES, 0)
    return {name: int(stats.get(name, 0)) for name in COUNTER_NAMES}


# 8<----------------------------------------------------------------------------------------
# Synchronous readers.


def _read(netns: str, work: Callable[[IPRoute], T]) -> T:
    """Run ``work`` with an IPRoute opened inside ``netns``; FileNotFoundError if it is gone."""

    def inside() -> T:
        with IPRoute() as ipr:
            return work(ipr)

    return namespaces.run_inside(netns, inside)


def _names(link_messages: Iterable[Any]) -> dict[int, str]:
    return {int(message["index"]): str(message.get("ifname")) for message in link_messages}


def _links(ipr: IPRoute) -> tuple[tuple[Link, ...], dict[int, str], list[Any]]:
    link_messages = list(ipr.get_links())
    names = _names(link_messages)
    by_index: dict[int, list[str]] = {}
    for message in ipr.get_addr():
        by_index.setdefault(int(message["index"]), []).append(_address(message, names).address)
    links = tuple(
        _link(message, names, tuple(by_index.get(int(message["index"]), ())))
        for message in link_messages
    )
    return links, names, link_messages


def _neighbours(ipr: IPRoute, names: dict[int, str]) -> tuple[Neighbour, ...]:
    return tuple(
        _neighbour(message, names) for message in ipr.get_neighbours() if _shown_neighbour(message)
    )


def _routes(ipr: IPRoute, names: dict[int, str]) -> tuple[Route, ...]:
    return tuple(
        _route(message, names)
        for message in ipr.get_routes(table=MAIN_TABLE)
        if _route_table(message) == MAIN_TABLE
    )


def links(netns: str) -> list[Link]:
    """Return the links of ``netns`` with their addresses, in index order."""
    return list(_read(netns, lambda ipr: _links(ipr)[0]))


def neighbours(netns: str) -> list[Neighbour]:
    """Return the ARP and NDP tables of ``netns`` as ``ip neigh show`` does (no NOARP)."""
    return list(_read(netns, lambda ipr: _neighbours(ipr, _names(ipr.get_links()))))


def routes(netns: str) -> list[Route]:
    """Return the routes of the main table of ``netns``, IPv4 then IPv6."""
    return list(_read(netns, lambda ipr: _routes(ipr, _names(ipr.get_links()))))


def counters(netns: str) -> dict[str, dict[str, int]]:
    """Return ``{interface: {rx_bytes, tx_bytes, rx_packets, tx_packets}}`` for ``netns``."""
    return _read(
        netns,
        lambda ipr: {str(message.get("ifname")): _counters(message) for message in ipr.get_links()},
    )


def snapshot(netns: str) -> Snapshot:
    """Return links, neighbours, routes and counters of ``netns`` in one visit."""

    def work(ipr: IPRoute) -> Snapshot:
        found, names, link_messages = _links(ipr)
        return Snapshot(
            netns=netns,
            links=found,
            neighbours=_neighbours(ipr, names),
            routes=_routes(ipr, names),
            counters={str(message.get("ifname")): _counters(message) for message in link_messages},
        )

    return _read(netns, work)


# 8<----------------------------------------------------------------------------------------
# The asyncio monitor.


class MonitorError(RuntimeError):
    """The monitor lost events (its receive buffer overflowed) or its socket failed.

    Open a new monitor and take a new snapshot: events alone can no longer be trusted.
    """


_KINDS: dict[str, tuple[EventKind, Literal["new", "del"]]] = {
    "RTM_NEWLINK": ("link", "new"),
    "RTM_DELLINK": ("link", "del"),
    "RTM_NEWNEIGH": ("neighbour", "new"),
    "RTM_DELNEIGH": ("neighbour", "del"),
    "RTM_NEWADDR": ("address", "new"),
    "RTM_DELADDR": ("address", "del"),
    "RTM_NEWROUTE": ("route", "new"),
    "RTM_DELROUTE": ("route", "del"),
}
_END = object()


class Monitor:
    """Changes of one namespace's links, neighbours, addresses and main-table routes.

    Use ``async with Monitor(netns) as monitor: async for event in monitor: ...``. Events
    come in the kernel's order, each decoded as it arrives. Neighbour events describe the
    shown table (as ``neighbours`` reads it, like ``ip neigh show``): an entry whose new
    state is hidden (NOARP, or no state) comes out as a ``del`` of that entry, so the table
    can be kept from events; FAILED entries are shown, so going FAILED is a ``new``. A new
    entry in INCOMPLETE state produces no event (the kernel sends none), so a table kept
    from events lacks such entries until they resolve or fail. Iteration ends when the
    monitor is closed or when the namespace is removed (checked every ``watch_interval``
    seconds): the monitor's socket would otherwise keep a removed namespace alive.
    ``MonitorError`` is raised if events were lost.

    ``kinds`` restricts the groups joined (``link``, ``neighbour``, ``address``, ``route``).
    """

    def __init__(
        self,
        netns: str,
        *,
        kinds: Iterable[str] = ("link", "neighbour", "address", "route"),
        watch_interval: float = 1.0,
    ) -> None:
        self.netns = netns
        self.kinds = tuple(kinds)
        unknown = set(self.kinds) - set(GROUPS)
        if unknown:
            raise ValueError(f"unknown event kinds: {sorted(unknown)}")
        self.watch_interval = watch_interval
        self._ipr: Any = None
        self._socket: socket.socket | None = None
        self._reader: asyncio.Task[None] | None = None
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._names: dict[int, str] = {}
        self._inode: tuple[int, int] | None = None
        self._closed = False

    async def open(self) -> Monitor:
        """Open the netlink socket inside the namespace and join the groups.

        Raises FileNotFoundError if the namespace does not exist.
        """
        path = namespaces.path_of(self.netns)

        def make() -> tuple[socket.socket, tuple[int, int]]:
            sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_ROUTE)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
            status = os.stat(path)
            return sock, (status.st_dev, status.st_ino)

        self._socket, self._inode = await asyncio.to_thread(namespaces.run_inside, self.netns, make)
        groups = 0
        for kind in self.kinds:
            groups |= GROUPS[kind]
        # A socket made in the namespace, handed over: AsyncIPRoute(netns=...) would fork.
        self._ipr = AsyncIPRoute(use_socket=self._socket)
        await self._ipr.bind(groups=groups)
        # Names of the links that exist now; link events keep the map current. Replies to
        # this dump carry its sequence number, so they never mix with broadcast events.
        self._names = {
            int(message["index"]): str(message.get("ifname"))
            async for message in await self._ipr.link("dump")
        }
        self._reader = asyncio.create_task(self._read(), name=f"netlab-monitor-{self.netns}")
        return self

    async def _read(self) -> None:
        try:
            while True:
                async for message in self._ipr.get():
                    event = self._decode(message)
                    if event is not None:
                        self._queue.put_nowait(event)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # handed to the consumer by __anext__
            self._queue.put_nowait(MonitorError(f"monitor of {self.netns}: {error!r}"))

    def _decode(self, message: Any) -> Event | None:
        kind_action = _KINDS.get(str(message.get("event")))
        if kind_action is None:
            return None
        kind, action = kind_action
        data: Link | Neighbour | Address | Route
        if kind == "link":
            index = int(message["index"])
            if action == "new":
                self._names[index] = str(message.get("ifname"))
            data = _link(message, self._names)
            if action == "del":
                self._names.pop(index, None)
        elif kind == "neighbour":
            if message.get("dst") is None:
                return None
            if not _shown_neighbour(message):
                # The entry left the shown table (NOARP, no state): for a reader keeping
                # the table from events, that is a removal.
                action = "del"
            data = _neighbour(message, self._names)
        elif kind == "address":
            data = _address(message, self._names)
        else:
            if _route_table(message) != MAIN_TABLE:
                return None
            data = _route(message, self._names)
        return Event(self.netns, kind, action, data, time.monotonic())

    def _namespace_gone(self) -> bool:
        try:
            status = os.stat(namespaces.path_of(self.netns))
        except FileNotFoundError:
            return True
        return (status.st_dev, status.st_ino) != self._inode

    async def close(self) -> None:
        """Stop reading and close the socket (which frees the namespace). Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        if self._ipr is not None:
            with contextlib.suppress(Exception):
                self._ipr.close()
        if self._socket is not None:
            self._socket.close()
        self._queue.put_nowait(_END)

    def __aiter__(self) -> AsyncIterator[Event]:
        return self

    async def __anext__(self) -> Event:
        if self._reader is None and not self._closed:
            raise RuntimeError("open the monitor first (async with Monitor(...))")
        while True:
            if self._closed and self._queue.empty():
                raise StopAsyncIteration
            try:
                item = await asyncio.wait_for(self._queue.get(), self.watch_interval)
            except TimeoutError:
                if self._namespace_gone():
                    await self.close()
                continue
            if item is _END:
                raise StopAsyncIteration
            if isinstance(item, MonitorError):
                await self.close()
                raise item
            assert isinstance(item, Event)
            return item

    async def next_event(self, timeout: float) -> Event | None:
        """Return the next event, or None if none came within ``timeout`` seconds."""
        try:
            return await asyncio.wait_for(self.__anext__(), timeout)
        except (TimeoutError, StopAsyncIteration):
            return None

    async def __aenter__(self) -> Monitor:
        return await self.open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


async def watch(netns: str, **options: Any) -> AsyncIterator[Event]:
    """Yield the events of ``netns`` until it is removed; see ``Monitor``."""
    async with Monitor(netns, **options) as monitor:
        async for event in monitor:
            yield event
