"""ICMP echo (ping) from inside a namespace, on a raw socket: no ``ping`` binary is forked.

Several pings may run at once in one namespace, from any threads: each tells its own replies
apart by an identifier unique in the process and a random nonce in the payload.
"""

from __future__ import annotations

import errno
import secrets
import select
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from netlab.kernel.probes.common import ProbeError, inside, parse_address, zone_index

ICMP_ECHO_REPLY = 0
ICMP_DEST_UNREACH = 3
ICMP_ECHO_REQUEST = 8
ICMP_TIME_EXCEEDED = 11
ICMPV6_DEST_UNREACH = 1
ICMPV6_TIME_EXCEEDED = 3
ICMPV6_ECHO_REQUEST = 128
ICMPV6_ECHO_REPLY = 129
ICMP_FILTER = 1  # linux/icmp.h: a SOL_RAW option, a bit mask of the ICMP types to drop
SOL_RAW = 255
IPV6_RECVHOPLIMIT = getattr(socket, "IPV6_RECVHOPLIMIT", 51)
IPV6_HOPLIMIT = getattr(socket, "IPV6_HOPLIMIT", 52)

PAYLOAD_SIZE = 56  # as ping(8): 64-byte ICMP messages
NONCE_SIZE = 8
MAX_COUNT = 10_000
MIN_INTERVAL = 0.001
RECEIVE_SIZE = 65_535
CANCEL_CHECK = 0.1  # seconds: how soon a cancelled ping notices

UNREACHABLE_V4 = {
    0: "network unreachable",
    1: "host unreachable",
    2: "protocol unreachable",
    3: "port unreachable",
    4: "fragmentation needed",
    9: "network prohibited",
    10: "host prohibited",
    13: "communication prohibited",
}
UNREACHABLE_V6 = {
    0: "no route to destination",
    1: "communication prohibited",
    3: "address unreachable",
    4: "port unreachable",
}


@dataclass(frozen=True)
class PingReply:
    """The outcome of one echo request, reported as soon as it is known.

    A reply has ``rtt_ms``, ``from_address`` and ``ttl`` (the hop limit for IPv6) and no
    ``error``. A timeout has ``error == "timeout"`` and the rest None. An ICMP error (host
    unreachable, time exceeded) has ``error`` naming it and ``from_address`` the router or
    host that sent it.
    """

    seq: int
    rtt_ms: float | None
    from_address: str | None
    ttl: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PingResult:
    """The summary of one ping: counts, ``loss`` in percent (0.0-100.0), RTTs in milliseconds.

    The RTT figures are None when nothing was received.
    """

    netns: str
    target: str
    sent: int
    received: int
    loss: float
    rtt_min_ms: float | None
    rtt_avg_ms: float | None
    rtt_max_ms: float | None
    replies: tuple[PingReply, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["replies"] = [reply.as_dict() for reply in self.replies]
        return data


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def _echo_request(version: int, identifier: int, seq: int, payload: bytes) -> bytes:
    kind = ICMP_ECHO_REQUEST if version == 4 else ICMPV6_ECHO_REQUEST
    header = struct.pack("!BBHHH", kind, 0, 0, identifier, seq)
    if version == 6:
        # The kernel fills in the ICMPv6 checksum (it covers a pseudo-header we do not see).
        return header + payload
    checksum = _checksum(header + payload)
    return struct.pack("!BBHHH", kind, 0, checksum, identifier, seq) + payload


_identifier_lock = threading.Lock()
_identifiers_in_use: set[int] = set()


def _take_identifier() -> int:
    """Return an ICMP identifier no other ping of this process is using.

    A raw socket sees every ICMP message of its namespace, replies to other pings included:
    replies are told apart by this identifier (unique in the process) and by a random nonce
    in the payload (unique across processes, since ``ping`` and other tools pick
    identifiers of their own).
    """
    with _identifier_lock:
        while True:
            candidate = secrets.randbelow(0xFFFF) + 1
            if candidate not in _identifiers_in_use:
                _identifiers_in_use.add(candidate)
                return candidate


def _release_identifier(identifier: int) -> None:
    with _identifier_lock:
        _identifiers_in_use.discard(identifier)


def _icmp_socket(version: int) -> socket.socket:
    """Create a non-blocking raw ICMP (or ICMPv6) socket in the calling thread's namespace."""
    if version == 4:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        # Let only echo replies and the errors that can concern us reach the socket.
        wanted = (1 << ICMP_ECHO_REPLY) | (1 << ICMP_DEST_UNREACH) | (1 << ICMP_TIME_EXCEEDED)
        sock.setsockopt(SOL_RAW, ICMP_FILTER, struct.pack("I", ~wanted & 0xFFFFFFFF))
    else:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        # IPv6 delivers no IP header to raw sockets: the hop limit comes as ancillary data.
        sock.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1)
    sock.setblocking(False)
    return sock


def _open_icmp_socket(netns: str, version: int, zone: str | None) -> tuple[socket.socket, int]:
    """Create a raw ICMP socket inside ``netns``; return it and the zone's interface index."""

    def make() -> tuple[socket.socket, int]:
        sock = _icmp_socket(version)
        try:
            scope = zone_index(netns, zone) if version == 6 else 0
        except ProbeError:
            sock.close()
            raise
        return sock, scope

    return inside(netns, make)


@dataclass
class _Pending:
    sent_at: int  # time.monotonic_ns()
    deadline: int


def _parse_v4(
    packet: bytes, identifier: int, nonce: bytes, target: str | Callable[[int], str | None]
) -> tuple[str, int, int]:
    """Return (kind, seq, ttl) of a received IPv4 packet that concerns us, else ("", 0, 0).

    ``kind`` is "reply", or "error:<text>" for an ICMP error about one of our requests: one
    sent to ``target``, or (a function of the request's seq) to the address it answers.
    """
    if len(packet) < 28:
        return "", 0, 0
    header_length = (packet[0] & 0x0F) * 4
    ttl = packet[8]
    icmp = packet[header_length:]
    if len(icmp) < 8:
        return "", 0, 0
    kind, code, _, ident, seq = struct.unpack("!BBHHH", icmp[:8])
    if kind == ICMP_ECHO_REPLY:
        if ident == identifier and icmp[8 : 8 + NONCE_SIZE] == nonce:
            return "reply", seq, ttl
        return "", 0, 0
    if kind in (ICMP_DEST_UNREACH, ICMP_TIME_EXCEEDED):
        inner = icmp[8:]
        if len(inner) < 20:
            return "", 0, 0
        inner_length = (inner[0] & 0x0F) * 4
        quoted = inner[inner_length : inner_length + 8]
        if len(quoted) < 8 or inner[9] != socket.IPPROTO_ICMP:
            return "", 0, 0
        q_kind, _, _, q_ident, q_seq = struct.unpack("!BBHHH", quoted)
        if q_kind != ICMP_ECHO_REQUEST or q_ident != identifier:
            return "", 0, 0
        expected = target if isinstance(target, str) else target(q_seq)
        if socket.inet_ntop(socket.AF_INET, inner[16:20]) != expected:
            return "", 0, 0
        if kind == ICMP_TIME_EXCEEDED:
            text = "time to live exceeded"
        else:
            text = UNREACHABLE_V4.get(code, f"destination unreachable (code {code})")
        return f"error:{text}", q_seq, ttl
    return "", 0, 0


def _parse_v6(
    packet: bytes, identifier: int, nonce: bytes, target: str | Callable[[int], str | None]
) -> tuple[str, int]:
    """Return (kind, seq) of a received ICMPv6 message that concerns us, else ("", 0)."""
    if len(packet) < 8:
        return "", 0
    kind, code, _, ident, seq = struct.unpack("!BBHHH", packet[:8])
    if kind == ICMPV6_ECHO_REPLY:
        if ident == identifier and packet[8 : 8 + NONCE_SIZE] == nonce:
            return "reply", seq
        return "", 0
    if kind in (ICMPV6_DEST_UNREACH, ICMPV6_TIME_EXCEEDED):
        inner = packet[8:]  # the offending packet: 40-byte IPv6 header, then our request
        if len(inner) < 48 or inner[6] != socket.IPPROTO_ICMPV6:
            return "", 0
        q_kind, _, _, q_ident, q_seq = struct.unpack("!BBHHH", inner[40:48])
        if q_kind != ICMPV6_ECHO_REQUEST or q_ident != identifier:
            return "", 0
        expected = target if isinstance(target, str) else target(q_seq)
        if socket.inet_ntop(socket.AF_INET6, inner[24:40]) != expected:
            return "", 0
        if kind == ICMPV6_TIME_EXCEEDED:
            text = "hop limit exceeded"
        else:
            text = UNREACHABLE_V6.get(code, f"destination unreachable (code {code})")
        return f"error:{text}", q_seq
    return "", 0


def ping(
    netns: str,
    target: str,
    *,
    count: int = 3,
    interval: float = 0.2,
    timeout: float = 1.0,
    on_reply: Callable[[PingReply], None] | None = None,
    cancel: threading.Event | None = None,
) -> PingResult:
    """Send ``count`` ICMP echo requests from inside ``netns`` to ``target``; wait for them.

    Requests leave every ``interval`` seconds; each is answered by a reply, an ICMP error or
    its timeout (``timeout`` seconds after it left), and that outcome is passed to
    ``on_reply`` in the calling thread the moment it is known, in the order outcomes
    happen. Returns once every request has an outcome. Several pings may run at once in
    one namespace, from any threads: each sees only its own replies. Once ``cancel`` is set
    no more requests leave, outstanding ones are given up without an outcome, and the
    result counts only the requests sent.

    Raises ProbeError for a target that is not an IP address, a zone naming no interface of
    ``netns`` or bad counts, and FileNotFoundError (its ``strerror`` naming the namespace)
    if ``netns`` does not exist. A send the kernel refuses (no route) counts as sent and is
    reported as an error outcome.
    """
    if not 1 <= count <= MAX_COUNT:
        raise ProbeError(f"count must be 1-{MAX_COUNT}, not {count}")
    if interval < MIN_INTERVAL or timeout <= 0:
        raise ProbeError(f"interval must be >= {MIN_INTERVAL} s and timeout > 0")
    address, zone = parse_address(target)
    target_text = str(address)
    version = address.version
    sock, scope = _open_icmp_socket(netns, version, zone)
    identifier = _take_identifier()
    nonce = secrets.token_bytes(NONCE_SIZE)
    payload = nonce + bytes(PAYLOAD_SIZE - NONCE_SIZE)
    destination: tuple[str, int] | tuple[str, int, int, int] = (
        (target_text, 0) if version == 4 else (target_text, 0, 0, scope)
    )
    replies: list[PingReply] = []
    pending: dict[int, _Pending] = {}
    interval_ns = int(interval * 1e9)
    timeout_ns = int(timeout * 1e9)

    def report(reply: PingReply) -> None:
        replies.append(reply)
        if on_reply is not None:
            on_reply(reply)

    try:
        next_seq = 1
        next_send = time.monotonic_ns()
        while next_seq <= count or pending:
            if cancel is not None and cancel.is_set():
                break
            now = time.monotonic_ns()
            if next_seq <= count and now >= next_send:
                seq = next_seq
                next_seq += 1
                next_send += interval_ns
                sent_at = time.monotonic_ns()
                try:
                    sock.sendto(_echo_request(version, identifier, seq, payload), destination)
                except OSError as error:
                    report(PingReply(seq, None, None, None, error.strerror or str(error)))
                else:
                    pending[seq] = _Pending(sent_at, sent_at + timeout_ns)
                continue
            for seq in sorted(pending):
                if pending[seq].deadline <= now:
                    del pending[seq]
                    report(PingReply(seq, None, None, None, "timeout"))
            wake = [item.deadline for item in pending.values()]
            if next_seq <= count:
                wake.append(next_send)
            if not wake:
                break
            wait = max(0, min(wake) - time.monotonic_ns()) / 1e9
            if cancel is not None:
                wait = min(wait, CANCEL_CHECK)
            readable, _, _ = select.select([sock], [], [], wait)
            if not readable:
                continue
            _drain(sock, version, identifier, nonce, target_text, pending, report)
    finally:
        sock.close()
        _release_identifier(identifier)

    rtts = [reply.rtt_ms for reply in replies if reply.rtt_ms is not None]
    replies.sort(key=lambda reply: reply.seq)
    sent = next_seq - 1  # all of count, unless cancelled
    return PingResult(
        netns=netns,
        target=target_text,
        sent=sent,
        received=len(rtts),
        loss=round(100.0 * (sent - len(rtts)) / sent, 3) if sent else 100.0,
        rtt_min_ms=min(rtts) if rtts else None,
        rtt_avg_ms=round(sum(rtts) / len(rtts), 3) if rtts else None,
        rtt_max_ms=max(rtts) if rtts else None,
        replies=tuple(replies),
    )


def _drain(
    sock: socket.socket,
    version: int,
    identifier: int,
    nonce: bytes,
    target: str,
    pending: dict[int, _Pending],
    report: Callable[[PingReply], None],
) -> None:
    """Read every queued packet; report those answering one of our pending requests."""
    while True:
        try:
            if version == 4:
                packet, source = sock.recvfrom(RECEIVE_SIZE)
                received_at = time.monotonic_ns()
                kind, seq, ttl = _parse_v4(packet, identifier, nonce, target)
                hops: int | None = ttl
            else:
                packet, ancillary, _, source = sock.recvmsg(RECEIVE_SIZE, socket.CMSG_SPACE(4))
                received_at = time.monotonic_ns()
                kind, seq = _parse_v6(packet, identifier, nonce, target)
                hops = None
                for level, ctype, data in ancillary:
                    if level == socket.IPPROTO_IPV6 and ctype == IPV6_HOPLIMIT and len(data) >= 4:
                        hops = int(struct.unpack("i", data[:4])[0])
        except BlockingIOError:
            return
        except OSError as error:
            if error.errno in (errno.EAGAIN, errno.EINTR):
                return
            raise
        if not kind or seq not in pending:
            continue  # not ours, a duplicate, or late (its timeout was already reported)
        request = pending.pop(seq)
        from_address = str(source[0])
        if kind == "reply":
            rtt = round((received_at - request.sent_at) / 1e6, 3)
            report(PingReply(seq, rtt, from_address, hops))
        else:
            report(PingReply(seq, None, from_address, None, kind.removeprefix("error:")))
