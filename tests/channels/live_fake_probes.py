"""A probes double for the live-lab tests above the kernel: pings that wait for the test.

It has the ``ping``, ``ping_all`` and ``tcp_probe`` of ``netlab.kernel.probes`` and sends
nothing. Each ``ping`` counts itself in ``started``, waits until the test sets ``release``
(so a test can hold probes open), then reports every echo request answered; one whose
``cancel`` is set while it waits counts itself in ``cancelled`` and returns at once, with
nothing sent. ``ping_all`` and ``tcp_probe`` answer at once (every cell reachable, every
port refused), except that with ``pingall_hold`` set a ``ping_all`` reports that many cells,
counts itself in ``started`` and waits until ``release`` or its ``cancel`` (reporting no
more cells once cancelled).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from netlab.kernel.probes import (
    CaptureError,
    Packet,
    PingCell,
    PingMatrix,
    PingReply,
    PingResult,
    ProbeResult,
)

started = threading.Semaphore(0)
cancelled = threading.Semaphore(0)
release = threading.Event()
pingall_hold: int | None = None
HOLD_LIMIT = 30.0  # seconds: a test that never releases must not hang the run
CANCEL_CHECK = 0.01


def ping(
    netns: str,
    target: str,
    *,
    count: int = 3,
    on_reply: Callable[[PingReply], None] | None = None,
    cancel: threading.Event | None = None,
    **options: object,
) -> PingResult:
    started.release()
    for _ in range(int(HOLD_LIMIT / CANCEL_CHECK)):
        if release.wait(CANCEL_CHECK):
            break
        if cancel is not None and cancel.is_set():
            cancelled.release()
            return PingResult(netns, target, 0, 0, 100.0, None, None, None, ())
    replies = tuple(PingReply(seq, 0.05, target, 64) for seq in range(1, count + 1))
    for reply in replies:
        if on_reply is not None:
            on_reply(reply)
    return PingResult(netns, target, count, count, 0.0, 0.05, 0.05, 0.05, replies)


def reset() -> None:
    global started, cancelled, pingall_hold
    started = threading.Semaphore(0)
    cancelled = threading.Semaphore(0)
    pingall_hold = None
    release.clear()


def ping_all(
    targets: Mapping[str, str],
    addresses: Mapping[str, str],
    *,
    on_cell: Callable[[PingCell], None] | None = None,
    cancel: threading.Event | None = None,
    **options: object,
) -> PingMatrix:
    """Every (source, address) cell answered at once, no waiting (but see ``pingall_hold``)."""
    pairs = [
        (source, owner, address)
        for source in targets
        for address, owner in addresses.items()
        if owner != source
    ]
    cells = []
    for index, (source, owner, address) in enumerate(pairs):
        if index == pingall_hold:
            started.release()
            for _ in range(int(HOLD_LIMIT / CANCEL_CHECK)):
                if release.wait(CANCEL_CHECK) or (cancel is not None and cancel.is_set()):
                    break
        if cancel is not None and cancel.is_set():
            cancelled.release()
            break
        cell = PingCell(source, owner, address, 1, 1, 0.0, 0.05)
        cells.append(cell)
        if on_cell is not None:
            on_cell(cell)
    return PingMatrix(tuple(cells))


def tcp_probe(netns: str, address: str, port: int, **options: object) -> ProbeResult:
    """A refused connection, at once."""
    return ProbeResult(netns, address, port, False, None, error="connection refused")


# -- captures -----------------------------------------------------------------------------------

open_captures = 0  # captures open now (a closed page must close its own)
CAPTURE_EVERY = 0.005  # seconds between the double's packets: a flood of ARP requests


def _arp_frame() -> bytes:
    import dpkt

    arp = dpkt.arp.ARP(op=dpkt.arp.ARP_OP_REQUEST, sha=b"\x02\x00\x00\x00\x00\x01",
                       spa=bytes([192, 168, 15, 1]), tha=b"\x00" * 6,
                       tpa=bytes([192, 168, 15, 2]))  # fmt: skip
    frame = dpkt.ethernet.Ethernet(src=b"\x02\x00\x00\x00\x00\x01", dst=b"\xff" * 6,
                                   type=dpkt.ethernet.ETH_TYPE_ARP, data=arp)  # fmt: skip
    return bytes(frame)


class Capture:
    """A capture that sees an ARP request every :data:`CAPTURE_EVERY` seconds; a filter
    reading ``refused`` is refused as libpcap would refuse a bad one."""

    def __init__(self, netns: str, interface: str, *, bpf: str | None = None) -> None:
        if bpf == "refused":
            raise CaptureError("not a capture filter: tcpdump: syntax error")
        self.interface = interface

    def __enter__(self) -> Capture:
        global open_captures
        open_captures += 1
        return self

    def __exit__(self, *_exc: object) -> None:
        global open_captures
        open_captures -= 1

    def read(self, timeout: float) -> Packet | None:
        time.sleep(min(CAPTURE_EVERY, timeout))
        frame = _arp_frame()
        return Packet(time.time(), self.interface, "in", len(frame), frame)
