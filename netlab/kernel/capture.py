"""Capturing packets on an interface of a lab's namespace.

An ``AF_PACKET`` socket made inside the namespace (a thread enters it, makes the socket and
leaves: the socket stays bound to that namespace), bound to one interface, with the BPF
program of a filter compiled by libpcap (``tcpdump -ddd``: never a hand-written compiler)
attached before the socket is bound, so nothing unfiltered is ever queued. Frames are read
up to a snap length; their whole length is kept. Written as pcap by dpkt.
"""

from __future__ import annotations

import ctypes
import os
import select
import socket
import struct
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import BinaryIO

import dpkt

from netlab.kernel import namespaces

ETH_P_ALL = 0x0003
SO_ATTACH_FILTER = 26
PACKET_OUTGOING = 4
SOL_PACKET = 263
SO_RCVBUFFORCE = 33  # not in the socket module; root may pass the system's limit
RECEIVE_BUFFER = 16 * 1024 * 1024
PACKET_STATISTICS = 6
SNAPLEN = 262_144
MAX_FILTER = 256
DLT_EN10MB = 1


class CaptureError(ValueError):
    """A capture that cannot start: a filter libpcap refuses, an interface that is not there."""


@dataclass(frozen=True)
class Packet:
    """A frame as it passed: when (seconds since the epoch), on which interface, in or out,
    its whole length, and its first bytes (up to the snap length)."""

    time: float
    interface: str
    direction: str  # "in" or "out"
    length: int
    data: bytes


def compile_filter(expression: str) -> list[tuple[int, int, int, int]]:
    """Compile a BPF filter expression (tcpdump's syntax) with libpcap, for Ethernet.

    Raises :class:`CaptureError` with libpcap's words for an expression it refuses. The
    text reaches tcpdump as one argument after ``--`` (never an option, never a shell).
    """
    text = expression.strip()
    if len(text) > MAX_FILTER or any(not char.isprintable() for char in text):
        raise CaptureError(f"a filter is at most {MAX_FILTER} printable characters")
    result = subprocess.run(
        ["tcpdump", "-ddd", "-y", "EN10MB", "--", text],
        capture_output=True, text=True, timeout=10, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        reason = " ".join(result.stderr.split()) or "tcpdump refused it"
        raise CaptureError(f"not a capture filter: {reason}")
    lines = result.stdout.split("\n")
    count = int(lines[0])
    program = [tuple(int(word) for word in line.split()) for line in lines[1 : count + 1]]
    return [(code, jt, jf, k) for code, jt, jf, k in program]


class Capture:
    """A capture on ``interface`` of namespace ``netns`` (a name netlab made), with an
    optional BPF ``bpf`` filter. Use as a context manager; :meth:`read` waits for the next
    frame."""

    def __init__(
        self, netns: str, interface: str, *, bpf: str | None = None, snaplen: int = SNAPLEN
    ) -> None:
        self.netns = netns
        self.interface = interface
        self.program = compile_filter(bpf) if bpf and bpf.strip() else None
        self.snaplen = snaplen
        self.sock: socket.socket | None = None
        self.buffer = bytearray(snaplen)

    def __enter__(self) -> Capture:
        self.open()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def open(self) -> None:
        fd = namespaces.open_fd(self.netns)  # no O_CREAT: a missing namespace fails

        def inside() -> socket.socket:
            namespaces.enter_here(fd)
            # Protocol 0: nothing is queued until bound, after the filter is attached.
            return socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)

        try:
            sock = namespaces.in_thread(inside)
        finally:
            os.close(fd)
        try:
            # A deep queue rides out bursts the reader (Python, decoding) falls behind on.
            sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RECEIVE_BUFFER)
            if self.program is not None:
                _attach(sock, self.program)
            sock.bind((self.interface, ETH_P_ALL))
        except OSError as error:
            sock.close()
            raise CaptureError(
                f"cannot capture on {self.interface} in {self.netns}: {error.strerror or error}"
            ) from None
        sock.setblocking(False)
        self.sock = sock

    def read(self, timeout: float) -> Packet | None:
        """The next frame, or None when none came within ``timeout`` seconds."""
        assert self.sock is not None, "open the capture first"
        ready, _, _ = select.select([self.sock], [], [], max(timeout, 0.0))
        if not ready:
            return None
        try:
            length, address = self.sock.recvfrom_into(self.buffer, self.snaplen, socket.MSG_TRUNC)
        except BlockingIOError:
            return None
        direction = "out" if address[2] == PACKET_OUTGOING else "in"
        data = bytes(self.buffer[: min(length, self.snaplen)])
        return Packet(time.time(), self.interface, direction, length, data)

    def statistics(self) -> tuple[int, int]:
        """(packets, drops) the kernel counted on this socket since the last call: drops are
        frames lost because the socket's queue was full (the reader was too slow)."""
        assert self.sock is not None, "open the capture first"
        raw = self.sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
        packets, drops = struct.unpack("II", raw)
        return packets, drops

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def _attach(sock: socket.socket, program: list[tuple[int, int, int, int]]) -> None:
    instructions = b"".join(struct.pack("HBBI", *instruction) for instruction in program)
    buffer = ctypes.create_string_buffer(instructions)
    fprog = struct.pack("HL", len(program), ctypes.addressof(buffer))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)


def capture(
    netns: str,
    interface: str,
    *,
    seconds: float,
    count: int | None = None,
    bpf: str | None = None,
    on_packet: Callable[[Packet], None] | None = None,
    ready: Callable[[], None] | None = None,
) -> list[Packet]:
    """Capture for ``seconds`` (or until ``count`` frames); return the frames. ``ready`` is
    called once the socket listens (a test sends its traffic then)."""
    packets: list[Packet] = []
    deadline = time.monotonic() + seconds
    with Capture(netns, interface, bpf=bpf) as live:
        if ready is not None:
            ready()
        while (left := deadline - time.monotonic()) > 0 and (count is None or len(packets) < count):
            packet = live.read(min(left, 0.2))
            if packet is None:
                continue
            packets.append(packet)
            if on_packet is not None:
                on_packet(packet)
    return packets


def write_pcap(file: BinaryIO, packets: Iterable[Packet], snaplen: int = SNAPLEN) -> None:
    """Write ``packets`` as a pcap file (Ethernet) that Wireshark and tcpdump read."""
    writer = dpkt.pcap.Writer(file, snaplen=snaplen, linktype=DLT_EN10MB)
    for packet in packets:
        writer.writepkt(packet.data, ts=packet.time)
