"""An observer double for the live-lab tests above the kernel (no namespace is read).

It has the functions of ``netlab.kernel.observe`` that the worker calls. ``tables[netns]``
is what a namespace "holds" (made on first use: a loopback and an ``eth0``);
``emit(netns, kind)`` makes that namespace's open ``Monitor`` report one netlink event of
``kind`` (``action`` and ``data`` may be given: a neighbour's, say); ``counter_reads`` and
``snapshot_reads`` count ``counters`` and ``snapshot`` calls.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace
from typing import Any

from netlab.kernel.observe import (
    Event,
    Link,
    MonitorClosed,
    MonitorError,
    Neighbour,
    Route,
    Snapshot,
)

__all__ = ["Monitor", "MonitorClosed", "MonitorError", "counters", "emit", "snapshot", "tables"]

tables: dict[str, dict[str, Any]] = {}
counter_reads: Counter[str] = Counter()
snapshot_reads: Counter[str] = Counter()
_queues: dict[str, asyncio.Queue[Event | None]] = {}


def _table(netns: str) -> dict[str, Any]:
    if netns not in tables:
        tables[netns] = {
            "links": [
                Link("lo", 1, "00:00:00:00:00:00", "up", "UNKNOWN", 65536, None, None, ()),
                Link("eth0", 2, "02:00:00:00:00:01", "up", "UP", 1500, None, "veth", ()),
            ],
            "routes": [Route("10.0.0.0/24", None, "eth0", "inet", "kernel", "link", "unicast")],
            "neighbours": [],
            "counters": {"eth0": {"rx_bytes": 0, "tx_bytes": 0, "rx_packets": 0, "tx_packets": 0}},
        }
    return tables[netns]


def set_link(netns: str, name: str, **changes: Any) -> None:
    table = _table(netns)
    table["links"] = [
        replace(link, **changes) if link.name == name else link for link in table["links"]
    ]


def snapshot(netns: str) -> Snapshot:
    snapshot_reads[netns] += 1
    table = _table(netns)
    copied = {name: dict(values) for name, values in table["counters"].items()}
    return Snapshot(
        netns,
        tuple(table["links"]),
        tuple(table["neighbours"]),
        tuple(table["routes"]),
        copied,
    )


def counters(netns: str) -> dict[str, dict[str, int]]:
    counter_reads[netns] += 1
    return {name: dict(values) for name, values in _table(netns)["counters"].items()}


def emit(netns: str, kind: str, action: str = "new", data: Any = None) -> None:
    """Make ``netns``'s monitor report one event of ``kind`` (call from the test's loop);
    ``data`` is the last link unless given."""
    if data is None:
        data = _table(netns)["links"][-1]
    _queues[netns].put_nowait(Event(netns, kind, action, data, 0.0))  # type: ignore[arg-type]


def neighbour(address: str, state: str = "REACHABLE") -> Neighbour:
    return Neighbour(address, "02:00:00:00:00:02", "eth0", state)


def monitoring(netns: str) -> bool:
    return netns in _queues


def reset() -> None:
    tables.clear()
    counter_reads.clear()
    snapshot_reads.clear()
    _queues.clear()


class Monitor:
    def __init__(self, netns: str, **options: Any) -> None:
        self.netns = netns

    async def __aenter__(self) -> Monitor:
        _queues[self.netns] = asyncio.Queue()
        return self

    async def __aexit__(self, *exc: object) -> None:
        _queues.pop(self.netns, None)

    def __aiter__(self) -> Monitor:
        return self

    async def counters(self) -> dict[str, dict[str, int]]:
        return counters(self.netns)

    async def snapshot(self) -> Snapshot:
        return snapshot(self.netns)

    async def __anext__(self) -> Event:
        event = await _queues[self.netns].get()
        if event is None:
            raise StopAsyncIteration
        return event
