"""The all-pairs ping: every address of a lab pinged from every namespace, as a matrix."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from netlab.kernel.probes.common import ProbeError, parse_address
from netlab.kernel.probes.ping import ping


@dataclass(frozen=True)
class PingCell:
    """One cell of an all-pairs ping: ``source`` node to ``address`` (owned by ``target``)."""

    source: str
    target: str
    address: str
    sent: int
    received: int
    loss: float
    rtt_ms: float | None
    error: str | None = None

    @property
    def reachable(self) -> bool:
        return self.received > 0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["reachable"] = self.reachable
        return data


@dataclass(frozen=True)
class PingMatrix:
    """Every cell of an all-pairs ping, in (source, address) order."""

    cells: tuple[PingCell, ...] = field(default_factory=tuple)

    def reachability(self) -> dict[str, dict[str, bool]]:
        """Return ``{source: {address: reachable}}``."""
        table: dict[str, dict[str, bool]] = {}
        for cell in self.cells:
            table.setdefault(cell.source, {})[cell.address] = cell.reachable
        return table

    def as_dict(self) -> dict[str, Any]:
        reachable = sum(1 for cell in self.cells if cell.reachable)
        return {
            "cells": [cell.as_dict() for cell in self.cells],
            "total": len(self.cells),
            "reachable": reachable,
        }


def ping_all(
    targets: Mapping[str, str],
    addresses: Mapping[str, str],
    *,
    count: int = 1,
    interval: float = 0.05,
    timeout: float = 1.0,
    concurrency: int = 16,
    include_self: bool = False,
    on_cell: Callable[[PingCell], None] | None = None,
    cancel: threading.Event | None = None,
) -> PingMatrix:
    """Ping every address from every namespace; return the matrix once every cell is done.

    ``targets`` maps a source node id to its namespace; ``addresses`` maps an address to
    the node id that owns it. A node's pings to its own addresses are left out unless
    ``include_self``. At most ``concurrency`` pings run at once, each in a worker thread
    (which never changes namespace). Each finished cell is passed to ``on_cell`` as soon as
    it is known, from a worker thread, one call at a time.

    A namespace that vanished mid-way yields cells with ``error`` set, not an exception.
    Once ``cancel`` is set, cells not yet started are left out (and not reported).
    """
    for address in addresses:
        parse_address(address)
    pairs = pairs_of(targets, addresses, include_self=include_self)
    report_lock = threading.Lock()

    def run(source: str, netns: str, address: str, owner: str) -> PingCell | None:
        if cancel is not None and cancel.is_set():
            return None
        try:
            result = ping(
                netns, address, count=count, interval=interval, timeout=timeout, cancel=cancel
            )
        except OSError as error:
            cell = PingCell(source, owner, address, 0, 0, 100.0, None, error.strerror or str(error))
        except ProbeError as error:
            cell = PingCell(source, owner, address, 0, 0, 100.0, None, str(error))
        else:
            errors = {reply.error for reply in result.replies if reply.error}
            cell = PingCell(
                source=source,
                target=owner,
                address=address,
                sent=result.sent,
                received=result.received,
                loss=result.loss,
                rtt_ms=result.rtt_avg_ms,
                error=None if result.received else ", ".join(sorted(errors)) or None,
            )
        if cancel is not None and cancel.is_set():
            return None  # cut short: not a measurement
        if on_cell is not None:
            with report_lock:
                on_cell(cell)
        return cell

    if not pairs:
        return PingMatrix(())
    workers = max(1, min(concurrency, len(pairs)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="netlab-ping") as pool:
        futures = [pool.submit(run, *pair) for pair in pairs]
        cells = tuple(cell for future in futures if (cell := future.result()) is not None)
    return PingMatrix(cells)


def pairs_of(
    targets: Mapping[str, str], addresses: Mapping[str, str], *, include_self: bool = False
) -> list[tuple[str, str, str, str]]:
    """Return the (source, netns, address, owner) cells :func:`ping_all` would ping."""
    return [
        (source, netns, address, owner)
        for source, netns in targets.items()
        for address, owner in addresses.items()
        if include_self or owner != source
    ]
