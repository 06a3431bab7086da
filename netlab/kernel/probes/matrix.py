"""The all-pairs ping: every address of a lab pinged from every namespace, as a matrix.

Each source namespace is one pinger (:func:`ping_source`): a raw socket per address family
made in the namespace once, every address pinged at once. Pinging pair by pair, as a
``ping`` each, cost a namespace entry and a socket per pair and, worse, a whole timeout
per silent pair: a 62-node campus whose routers forward nothing took 165 s (16 pairs at a
time); pinger by pinger it takes about ``ceil(sources / concurrency)`` timeouts (4 s).
A round-trip time includes the moments its reply waited in the socket while the pinger
was sending (it reads every ``DRAIN_EVERY`` requests): fractions of a millisecond.
"""

from __future__ import annotations

import secrets
import select
import socket
import struct
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from netlab.kernel.probes.common import ProbeError, inside, parse_address, zone_index
from netlab.kernel.probes.ping import (
    CANCEL_CHECK,
    IPV6_HOPLIMIT,
    NONCE_SIZE,
    PAYLOAD_SIZE,
    RECEIVE_SIZE,
    PingReply,
    _echo_request,
    _icmp_socket,
    _parse_v4,
    _parse_v6,
    _release_identifier,
    _take_identifier,
)

MAX_SEQUENCE = 0xFFFF  # ICMP sequence numbers: one per (address, round) of a source
DRAIN_EVERY = 32  # requests sent between two reads of the replies already there


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
    ``include_self``. Each source is one pinger (:func:`ping_source`): one socket per
    address family made in its namespace, every address pinged at once, ``count`` rounds
    ``interval`` seconds apart, each request given ``timeout`` seconds; at most
    ``concurrency`` sources are pinged at once, each in a worker thread (which never changes
    namespace). A lab's ping-all so takes about ``ceil(sources / concurrency)`` times the
    slowest answer (``timeout`` when some address does not answer), not one timeout per
    silent pair. Each finished cell is passed to ``on_cell`` as soon as it is known, from a
    worker thread, one call at a time.

    A namespace that vanished mid-way yields cells with ``error`` set, not an exception.
    Once ``cancel`` is set no more requests leave and cells not yet known are left out (and
    not reported): the matrix holds the cells reported until then.
    """
    for address in addresses:
        parse_address(address)
    pairs = pairs_of(targets, addresses, include_self=include_self)
    if not pairs:
        return PingMatrix(())
    by_source: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for source, netns, address, owner in pairs:
        by_source.setdefault((source, netns), []).append((address, owner))
    order = {(source, address): index for index, (source, _, address, _) in enumerate(pairs)}
    cells: list[PingCell] = []
    report_lock = threading.Lock()

    def report(cell: PingCell) -> None:
        with report_lock:
            if cancel is not None and cancel.is_set():
                return  # cut short: the caller stopped listening
            cells.append(cell)
            if on_cell is not None:
                on_cell(cell)

    workers = max(1, min(concurrency, len(by_source)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="netlab-ping") as pool:
        futures = [
            pool.submit(
                ping_source,
                source,
                netns,
                wanted,
                count=count,
                interval=interval,
                timeout=timeout,
                on_cell=report,
                cancel=cancel,
            )
            for (source, netns), wanted in by_source.items()
        ]
        for future in futures:
            future.result()
    cells.sort(key=lambda cell: order[(cell.source, cell.address)])
    return PingMatrix(tuple(cells))


@dataclass
class _Target:
    """One address a source pings: its outcomes so far, in :func:`ping_source`."""

    address: str
    owner: str
    version: int
    destination: tuple[str, int] | tuple[str, int, int, int]
    outcomes: list[PingReply] = field(default_factory=list)


def ping_source(
    source: str,
    netns: str,
    wanted: Sequence[tuple[str, str]],
    *,
    count: int = 1,
    interval: float = 0.05,
    timeout: float = 1.0,
    on_cell: Callable[[PingCell], None],
    cancel: threading.Event | None = None,
) -> None:
    """Ping every (address, owner) of ``wanted`` from node ``source``'s namespace ``netns``.

    One raw socket per address family, made in ``netns`` (one namespace entry for all); the
    requests of a round leave together, rounds ``interval`` seconds apart; replies and ICMP
    errors are told apart by the request's sequence number (one per address and round),
    the socket's identifier and a random nonce. Each address's cell is passed to
    ``on_cell`` once its ``count`` requests all have an outcome (a reply, an ICMP error, a
    send the kernel refused, or ``timeout`` seconds of silence). A namespace that does not
    exist, or a zone naming no interface, gives cells with that ``error``. Once ``cancel``
    is set it returns, reporting nothing more.
    """
    if count < 1 or len(wanted) * count > MAX_SEQUENCE:
        raise ProbeError(f"a source pings at most {MAX_SEQUENCE} requests at once")
    parsed = [(parse_address(address), address, owner) for address, owner in wanted]
    versions = sorted({found.version for (found, _), _, _ in parsed})
    zones = {zone for (_, zone), _, _ in parsed if zone}

    def make() -> tuple[dict[int, socket.socket], dict[str, int | None]]:
        sockets: dict[int, socket.socket] = {}
        try:
            for version in versions:
                sockets[version] = _icmp_socket(version)
        except OSError:
            for sock in sockets.values():
                sock.close()
            raise
        scopes: dict[str, int | None] = {}
        for zone in zones:
            try:
                scopes[zone] = zone_index(netns, zone)
            except ProbeError:
                scopes[zone] = None
        return sockets, scopes

    try:
        sockets, scopes = inside(netns, make)
    except OSError as error:
        text = error.strerror or str(error)
        for address, owner in wanted:
            on_cell(PingCell(source, owner, address, 0, 0, 100.0, None, text))
        return
    targets: list[_Target] = []
    for (found, zone), address, owner in parsed:
        if zone and scopes.get(zone) is None:
            text = f"no interface {zone!r} in namespace {netns}"
            on_cell(PingCell(source, owner, address, 0, 0, 100.0, None, text))
            continue
        destination: tuple[str, int] | tuple[str, int, int, int] = (
            (str(found), 0)
            if found.version == 4
            else (str(found), 0, 0, scopes.get(zone or "") or 0)
        )
        targets.append(_Target(address, owner, found.version, destination))
    identifiers = {version: _take_identifier() for version in sockets}
    try:
        _sweep(source, targets, sockets, identifiers, count, interval, timeout, on_cell, cancel)
    finally:
        for version, sock in sockets.items():
            sock.close()
            _release_identifier(identifiers[version])


def _sweep(
    source: str,
    targets: list[_Target],
    sockets: dict[int, socket.socket],
    identifiers: dict[int, int],
    count: int,
    interval: float,
    timeout: float,
    on_cell: Callable[[PingCell], None],
    cancel: threading.Event | None,
) -> None:
    """Send every round of requests to ``targets`` and report each target's cell."""
    nonce = secrets.token_bytes(NONCE_SIZE)
    payload = nonce + bytes(PAYLOAD_SIZE - NONCE_SIZE)
    timeout_ns, interval_ns = int(timeout * 1e9), int(interval * 1e9)
    pending: dict[int, tuple[int, int]] = {}  # seq: (target index, when it left, monotonic ns)
    waiting = len(targets)  # targets whose cell is not reported yet
    rounds_sent = 0
    next_round = time.monotonic_ns()
    by_socket = {sock: version for version, sock in sockets.items()}

    def destination_of(seq: int) -> str | None:
        return targets[(seq - 1) % len(targets)].destination[0] if seq >= 1 else None

    def outcome(index: int, reply: PingReply) -> None:
        nonlocal waiting
        target = targets[index]
        target.outcomes.append(reply)
        if len(target.outcomes) == count:
            waiting -= 1
            on_cell(_cell(source, target))

    while waiting:
        if cancel is not None and cancel.is_set():
            return
        now = time.monotonic_ns()
        if rounds_sent < count and now >= next_round:
            for index, target in enumerate(targets):
                seq = rounds_sent * len(targets) + index + 1
                version = target.version
                request = _echo_request(version, identifiers[version], seq, payload)
                sent_at = time.monotonic_ns()
                try:
                    sockets[version].sendto(request, target.destination)
                except OSError as error:  # no route: an outcome at once
                    outcome(index, PingReply(seq, None, None, None, error.strerror or str(error)))
                else:
                    pending[seq] = (index, sent_at)
                if index % DRAIN_EVERY == DRAIN_EVERY - 1:  # keep the receive buffer short
                    _receive(by_socket, identifiers, nonce, destination_of, pending, outcome)
            rounds_sent += 1
            next_round += interval_ns
            continue
        now = time.monotonic_ns()
        for seq, (index, sent_at) in list(pending.items()):
            if sent_at + timeout_ns <= now:
                del pending[seq]
                outcome(index, PingReply(seq, None, None, None, "timeout"))
        if not waiting:
            return
        wake = [sent_at + timeout_ns for _, sent_at in pending.values()]
        if rounds_sent < count:
            wake.append(next_round)
        wait = max(0, min(wake, default=now) - time.monotonic_ns()) / 1e9
        if cancel is not None:
            wait = min(wait, CANCEL_CHECK)
        readable, _, _ = select.select(list(by_socket), [], [], wait)
        if readable:
            _receive(by_socket, identifiers, nonce, destination_of, pending, outcome)


def _receive(
    by_socket: dict[socket.socket, int],
    identifiers: dict[int, int],
    nonce: bytes,
    destination_of: Callable[[int], str | None],
    pending: dict[int, tuple[int, int]],
    outcome: Callable[[int, PingReply], None],
) -> None:
    """Read every packet queued on the sockets; pass those answering a pending request."""
    for sock, version in by_socket.items():
        identifier = identifiers[version]
        while True:
            try:
                if version == 4:
                    packet, peer = sock.recvfrom(RECEIVE_SIZE)
                    received_at = time.monotonic_ns()
                    kind, seq, ttl = _parse_v4(packet, identifier, nonce, destination_of)
                    hops: int | None = ttl
                else:
                    packet, ancillary, _, peer = sock.recvmsg(RECEIVE_SIZE, socket.CMSG_SPACE(4))
                    received_at = time.monotonic_ns()
                    kind, seq = _parse_v6(packet, identifier, nonce, destination_of)
                    hops = _hop_limit(ancillary)
            except (BlockingIOError, InterruptedError):
                break
            if not kind or seq not in pending:
                continue  # not ours, a duplicate, or late (its timeout was reported)
            index, sent_at = pending.pop(seq)
            if kind == "reply":
                rtt = round((received_at - sent_at) / 1e6, 3)
                outcome(index, PingReply(seq, rtt, str(peer[0]), hops))
            else:
                outcome(
                    index, PingReply(seq, None, str(peer[0]), None, kind.removeprefix("error:"))
                )


def _hop_limit(ancillary: list[tuple[int, int, bytes]]) -> int | None:
    for level, kind, data in ancillary:
        if level == socket.IPPROTO_IPV6 and kind == IPV6_HOPLIMIT and len(data) >= 4:
            return int(struct.unpack("i", data[:4])[0])
    return None


def _cell(source: str, target: _Target) -> PingCell:
    rtts = [reply.rtt_ms for reply in target.outcomes if reply.rtt_ms is not None]
    errors = {reply.error for reply in target.outcomes if reply.error}
    sent = len(target.outcomes)
    return PingCell(
        source=source,
        target=target.owner,
        address=target.address,
        sent=sent,
        received=len(rtts),
        loss=round(100.0 * (sent - len(rtts)) / sent, 3) if sent else 100.0,
        rtt_ms=round(sum(rtts) / len(rtts), 3) if rtts else None,
        error=None if rtts else ", ".join(sorted(errors)) or None,
    )


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
