"""The asyncio monitor: a netlink socket made inside the namespace, bound to the link,
neighbour, address and route groups and read by the loop, yielding one ``Event`` per change
as the kernel reports it; and a second socket there for the snapshots and counters. Both are
parsed with ``struct`` (:mod:`.raw`): a worker watching 1000 namespaces spent most of its
CPU in pyroute2's decoder."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterable
from types import TracebackType
from typing import Any, Literal, TypeVar

from pyroute2.netlink.rtnl import (
    RTMGRP_IPV4_IFADDR,
    RTMGRP_IPV4_ROUTE,
    RTMGRP_IPV6_IFADDR,
    RTMGRP_IPV6_ROUTE,
    RTMGRP_LINK,
    RTMGRP_NEIGH,
)

from netlab.kernel import namespaces
from netlab.kernel.observe import decode, raw, readers
from netlab.kernel.observe.decode import MAIN_TABLE
from netlab.kernel.observe.raw import RawSocket
from netlab.kernel.observe.records import (
    Address,
    Event,
    EventKind,
    Link,
    Neighbour,
    Route,
    Snapshot,
)

T = TypeVar("T")

RECEIVE_BUFFER = 4 * 1024 * 1024  # a burst of events (a lab being built) must not overflow
GROUPS: dict[str, int] = {
    "link": RTMGRP_LINK,
    "neighbour": RTMGRP_NEIGH,
    "address": RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
    "route": RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE,
}


class MonitorClosed(RuntimeError):
    """A read through a monitor that is not open (not yet, or no longer)."""


class MonitorError(RuntimeError):
    """The monitor lost events (its receive buffer overflowed) or its socket failed.

    Open a new monitor and take a new snapshot: events alone can no longer be trusted.
    """


_KINDS: dict[int, tuple[EventKind, Literal["new", "del"]]] = {
    raw.RTM_NEWLINK: ("link", "new"),
    raw.RTM_DELLINK: ("link", "del"),
    raw.RTM_NEWNEIGH: ("neighbour", "new"),
    raw.RTM_DELNEIGH: ("neighbour", "del"),
    raw.RTM_NEWADDR: ("address", "new"),
    raw.RTM_DELADDR: ("address", "del"),
    raw.RTM_NEWROUTE: ("route", "new"),
    raw.RTM_DELROUTE: ("route", "del"),
}
_PARSERS: dict[EventKind, Callable[[bytes, int, int], dict[Any, Any]]] = {
    "link": raw.link,
    "neighbour": raw.neighbour,
    "address": raw.address,
    "route": raw.route,
}
_END = object()


# Threads that make the monitors' sockets inside namespaces: a lab of 1000 namespaces
# starts 1000 monitors at once, and a destroy cancels those not yet made.
_MAKERS = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="netlab-make")


async def _made_in_thread(make: Callable[[], T], close: Callable[[T], object]) -> T:
    """Return what ``make`` makes in a thread. Cancelled, a ``make`` not yet started never
    runs; one already running carries on, and what it makes is closed: a socket left open
    would keep its namespace alive after a destroy (one that stopped monitors still
    starting waited 5 s for 132 of them)."""
    job = _MAKERS.submit(make)
    try:
        return await asyncio.wrap_future(job)
    except asyncio.CancelledError:
        if not job.cancel():  # running or done: close what it made, when it is made

            def close_made(done: concurrent.futures.Future[T]) -> None:
                if done.exception() is None:
                    close(done.result())

            job.add_done_callback(close_made)
        raise


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
        self._socket: socket.socket | None = None  # the events'
        self._raw: RawSocket | None = None  # for dumps: names, snapshots, counters
        self._reading = False  # the loop reads the events' socket
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._names: dict[int, str] = {}
        self._inode: tuple[int, int] | None = None
        self._closed = False

    async def open(self) -> Monitor:
        """Open the sockets inside the namespace and join the groups.

        Raises FileNotFoundError if the namespace does not exist.
        """
        path = namespaces.path_of(self.netns)
        groups = 0
        for kind in self.kinds:
            groups |= GROUPS[kind]
        Made = tuple[socket.socket, socket.socket, tuple[int, int]]

        def make() -> Made:
            events = raw.make_socket(groups, RECEIVE_BUFFER)
            try:
                requests = raw.make_socket()
            except BaseException:
                events.close()
                raise
            status = os.stat(path)
            return events, requests, (status.st_dev, status.st_ino)

        def close(made: Made) -> None:
            made[0].close()
            made[1].close()

        made = await _made_in_thread(lambda: namespaces.run_inside(self.netns, make), close)
        self._socket, requests, self._inode = made
        self._raw = RawSocket(requests)
        try:
            # Names of the links that exist now; link events keep the map current.
            self._names = {
                int(message["index"]): str(message.get("ifname")) for message in self._raw.links()
            }
            self._socket.setblocking(False)
            asyncio.get_running_loop().add_reader(self._socket.fileno(), self._read)
            self._reading = True
        except BaseException:  # failed half-open: nothing may stay open
            await self.close()
            raise
        return self

    def _read(self) -> None:
        """Called by the loop when the events' socket is readable: queue every event."""
        assert self._socket is not None
        try:
            while True:
                data = self._socket.recv(raw.RECEIVE_BYTES)
                for kind, _, start, end in raw.messages(data):
                    event = self._decode(kind, data, start, end)
                    if event is not None:
                        self._queue.put_nowait(event)
        except BlockingIOError:
            return
        except Exception as error:  # ENOBUFS: events were lost; handed on by __anext__
            self._stop_reading()
            self._queue.put_nowait(MonitorError(f"monitor of {self.netns}: {error!r}"))

    def _stop_reading(self) -> None:
        if self._reading and self._socket is not None:
            self._reading = False
            asyncio.get_running_loop().remove_reader(self._socket.fileno())

    def _decode(self, number: int, datagram: bytes, start: int, end: int) -> Event | None:
        kind_action = _KINDS.get(number)
        if kind_action is None:
            return None
        kind, action = kind_action
        message = _PARSERS[kind](datagram, start, end)
        data: Link | Neighbour | Address | Route
        if kind == "link":
            index = int(message["index"])
            if action == "new":
                self._names[index] = str(message.get("ifname"))
            data = decode.link(message, self._names)
            if action == "del":
                self._names.pop(index, None)
        elif kind == "neighbour":
            if message.get("dst") is None:
                return None
            if not decode.shown_neighbour(message):
                # The entry left the shown table (NOARP, no state): for a reader keeping
                # the table from events, that is a removal.
                action = "del"
            data = decode.neighbour(message, self._names)
        elif kind == "address":
            data = decode.address(message, self._names)
        else:
            if decode.route_table(message) != MAIN_TABLE:
                return None
            data = decode.route(message, self._names)
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
        self._stop_reading()
        if self._socket is not None:
            self._socket.close()
        if self._raw is not None:
            self._raw.close()
        self._queue.put_nowait(_END)

    async def snapshot(self) -> Snapshot:
        """Return links, neighbours, routes and counters of the open monitor's namespace,
        dumped through the plain socket it keeps there and parsed with ``struct``
        (:mod:`.raw`): no thread, no namespace switch, no pyroute2 decoding."""
        reader = self._dumps()
        return readers.snapshot_of(
            self.netns, reader.links(), reader.addresses(), reader.neighbours(), reader.routes()
        )

    async def counters(self) -> dict[str, dict[str, int]]:
        """Return ``{interface: {rx_bytes, tx_bytes, rx_packets, tx_packets}}`` of the open
        monitor's namespace (``RTM_GETSTATS`` on the socket it keeps there)."""
        reader = self._dumps()
        return {
            self._names[index]: values
            for index, values in reader.counters().items()
            if index in self._names
        }

    def _dumps(self) -> RawSocket:
        """The plain socket kept in the namespace for dumps."""
        if self._closed or self._raw is None:
            raise MonitorClosed("the monitor is not open")
        return self._raw

    def __aiter__(self) -> AsyncIterator[Event]:
        return self

    async def __anext__(self) -> Event:
        if self._raw is None and not self._closed:  # never opened
            raise RuntimeError("open the monitor first (async with Monitor(...))")
        while True:
            if self._closed and self._queue.empty():
                raise StopAsyncIteration
            try:
                # Not asyncio.wait_for: on Python 3.11 it returns an item that arrives with a
                # cancellation instead of raising, and a destroy then waits for us forever.
                async with asyncio.timeout(self.watch_interval):
                    item = await self._queue.get()
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
            async with asyncio.timeout(timeout):
                return await self.__anext__()
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
