"""TCP connect and HTTP GET probes from inside a namespace, reading what the peer says."""

from __future__ import annotations

import errno
import os
import re
import select
import socket
import time
from dataclasses import asdict, dataclass
from typing import Any

from netlab.kernel.probes.common import ProbeError, inside, parse_address, zone_index

MAX_ANSWER = 4096


@dataclass(frozen=True)
class ProbeResult:
    """The outcome of one TCP connect probe.

    ``connected`` says whether the handshake completed; ``connect_ms`` is its duration.
    ``first_line`` is the first line the peer sent (None if it sent nothing in time), and
    ``answer`` up to 4 KiB of what it sent. ``node`` is the node id named by a netlab
    responder in its answer, if the peer is one. ``error`` says why the probe failed.
    """

    netns: str
    address: str
    port: int
    connected: bool
    connect_ms: float | None
    first_line: str | None = None
    answer: str = ""
    node: str | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_NODE_IN_GREETING = re.compile(r"\bnode=(\S+)")
_NODE_IN_HEADER = re.compile(r"^x-netlab-node:\s*(\S+)\s*$", re.IGNORECASE | re.MULTILINE)


def _node_in(answer: str) -> str | None:
    """Return the node id a netlab responder named in ``answer`` (greeting or HTTP header)."""
    match = _NODE_IN_HEADER.search(answer)
    if match:
        return match.group(1)
    first = answer.split("\n", 1)[0]
    if first.startswith("netlab "):
        match = _NODE_IN_GREETING.search(first)
        if match:
            return match.group(1)
    return None


def tcp_probe(
    netns: str,
    address: str,
    port: int,
    *,
    timeout: float = 1.0,
    send: bytes | None = None,
) -> ProbeResult:
    """Connect from inside ``netns`` to ``address``:``port`` and read what the peer says.

    The handshake must complete within ``timeout`` seconds; a refused connection fails at
    once. Once connected, ``send`` (if given) is written, then the answer is read for at
    most ``timeout`` more seconds: until the first line ends when nothing was sent (a
    greeting), else until the peer closes or 4 KiB arrived. Never raises for network
    outcomes (they are in ``error``); raises ProbeError for a bad address, zone or port and
    FileNotFoundError if ``netns`` does not exist.
    """
    if not 1 <= port <= 65535:
        raise ProbeError(f"port must be 1-65535, not {port}")
    parsed, zone = parse_address(address)
    family = socket.AF_INET if parsed.version == 4 else socket.AF_INET6

    def make() -> tuple[socket.socket, int]:
        scope = zone_index(netns, zone)
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        return sock, scope

    sock, scope = inside(netns, make)
    peer: tuple[str, int] | tuple[str, int, int, int] = (
        (str(parsed), port) if parsed.version == 4 else (str(parsed), port, 0, scope)
    )

    def failed(connected: bool, connect_ms: float | None, error: str) -> ProbeResult:
        return ProbeResult(netns, str(parsed), port, connected, connect_ms, error=error)

    try:
        started = time.monotonic_ns()
        code = sock.connect_ex(peer)
        if code not in (0, errno.EINPROGRESS):
            return failed(False, None, os.strerror(code))
        _, writable, _ = select.select([], [sock], [], timeout)
        if not writable:
            return failed(False, None, f"no answer to the handshake within {timeout:g} s")
        code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code:
            return failed(False, None, os.strerror(code))
        connect_ms = round((time.monotonic_ns() - started) / 1e6, 3)
        answer = b""
        error: str | None = None
        try:
            if send:
                sock.setblocking(True)
                sock.settimeout(timeout)
                sock.sendall(send)
                sock.setblocking(False)
            deadline = time.monotonic() + timeout
            while len(answer) < MAX_ANSWER:
                if send is None and b"\n" in answer:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                readable, _, _ = select.select([sock], [], [], remaining)
                if not readable:
                    break
                chunk = sock.recv(MAX_ANSWER - len(answer))
                if not chunk:
                    break
                answer += chunk
        except OSError as failure:
            error = failure.strerror or str(failure)
        text = answer.decode("utf-8", "replace")
        first_line = text.split("\n", 1)[0].rstrip("\r") if text else None
        return ProbeResult(
            netns=netns,
            address=str(parsed),
            port=port,
            connected=True,
            connect_ms=connect_ms,
            first_line=first_line,
            answer=text,
            node=_node_in(text),
            error=error,
        )
    finally:
        sock.close()


def http_probe(
    netns: str, address: str, port: int = 80, *, path: str = "/", timeout: float = 1.0
) -> ProbeResult:
    """Send an HTTP/1.0 GET for ``path`` from inside ``netns``; the answer is in the result.

    ``first_line`` is the status line; ``node`` names the netlab responder that answered.
    """
    if not path.startswith("/") or any(character in path for character in "\r\n "):
        raise ProbeError(f"not an HTTP path: {path!r}")
    host = address if ":" not in address else f"[{address}]"
    request = f"GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: netlab-probe\r\n\r\n"
    return tcp_probe(netns, address, port, timeout=timeout, send=request.encode())
