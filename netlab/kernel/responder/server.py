"""The responder process itself: every listening socket made inside its node's namespace, all
served from one selector loop in the main thread, which never leaves the process's own
namespace. Started by :func:`netlab.kernel.responder.start`, never imported by the caller.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import ipaddress
import json
import os
import selectors
import signal
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from netlab.kernel import namespaces
from netlab.kernel.responder import MODULE, ResponderError

MAX_CONNECTIONS = 512
MAX_REQUEST = 8192
MAX_PENDING_OUTPUT = 65536
IDLE_SECONDS = 60.0
WATCH_SECONDS = 0.5
LISTEN_BACKLOG = 128


@dataclass
class _Listener:
    sock: socket.socket
    netns: str
    node: str
    kind: str
    port: int


@dataclass
class _Connection:
    sock: socket.socket
    listener: _Listener
    peer: str
    last_active: float
    received: bytes = b""
    pending: bytes = b""
    close_after_write: bool = False


@dataclass
class _Server:
    selector: selectors.BaseSelector
    listeners: dict[int, _Listener] = field(default_factory=dict)
    connections: dict[int, _Connection] = field(default_factory=dict)
    namespace_inodes: dict[str, tuple[int, int]] = field(default_factory=dict)


def _listen(netns: str, node: str, kind: str, port: int) -> socket.socket:
    """Return a listening TCP socket on ``port`` made inside ``netns``, dual-stack if possible."""

    def make() -> socket.socket:
        try:
            sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            wildcard: tuple[str, int] = ("::", port)
        except OSError as error:
            if error.errno != errno.EAFNOSUPPORT:
                raise
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            wildcard = ("0.0.0.0", port)  # noqa: S104 (the namespace is the lab's own)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(wildcard)
            sock.listen(LISTEN_BACKLOG)
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        return sock

    try:
        return namespaces.run_inside(netns, make)
    except OSError as error:
        reason = error.strerror or str(error)
        raise ResponderError(
            f"namespace {netns} (node {node}): cannot listen on {kind} port {port}: {reason}"
        ) from error


def _peer_text(address: Any) -> str:
    host, port = str(address[0]), int(address[1])
    with contextlib.suppress(ValueError):
        parsed = ipaddress.ip_address(host)
        if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
            host = str(parsed.ipv4_mapped)
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _http_answer(connection: _Connection) -> bytes:
    listener = connection.listener
    request_line = connection.received.split(b"\r\n", 1)[0].decode("latin-1")
    parts = request_line.split()
    method = parts[0] if parts else ""
    path = parts[1] if len(parts) > 1 else "/"
    if method in ("GET", "HEAD"):
        status = "200 OK"
        body = json.dumps(
            {
                "node": listener.node,
                "netns": listener.netns,
                "service": "http",
                "port": listener.port,
                "client": connection.peer,
                "path": path,
            }
        )
    else:
        status = "405 Method Not Allowed"
        body = json.dumps({"node": listener.node, "error": f"method {method!r} not allowed"})
    payload = (body + "\n").encode()
    headers = (
        f"HTTP/1.0 {status}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n"
        f"X-Netlab-Node: {listener.node}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    return headers if method == "HEAD" else headers + payload


def _close(server: _Server, connection: _Connection) -> None:
    fd = connection.sock.fileno()
    with contextlib.suppress(KeyError, ValueError):
        server.selector.unregister(connection.sock)
    server.connections.pop(fd, None)
    connection.sock.close()


def _update_interest(server: _Server, connection: _Connection) -> None:
    events = selectors.EVENT_READ
    if connection.pending:
        events |= selectors.EVENT_WRITE
    server.selector.modify(connection.sock, events, connection)


def _accept(server: _Server, listener: _Listener) -> None:
    while True:
        try:
            sock, address = listener.sock.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError as error:
            print(f"accept on {listener.netns} port {listener.port}: {error}", flush=True)
            return
        if len(server.connections) >= MAX_CONNECTIONS:
            sock.close()
            continue
        sock.setblocking(False)
        connection = _Connection(sock, listener, _peer_text(address), time.monotonic())
        if listener.kind == "tcp":
            connection.pending = (
                f"netlab node={listener.node} netns={listener.netns} service=tcp "
                f"port={listener.port}\n"
            ).encode()
        server.connections[sock.fileno()] = connection
        server.selector.register(sock, selectors.EVENT_READ, connection)
        _update_interest(server, connection)


def _readable(server: _Server, connection: _Connection) -> None:
    try:
        data = connection.sock.recv(65536)
    except (BlockingIOError, InterruptedError):
        return
    except OSError:
        _close(server, connection)
        return
    connection.last_active = time.monotonic()
    if not data:
        if connection.pending:
            connection.close_after_write = True
            server.selector.modify(connection.sock, selectors.EVENT_WRITE, connection)
        else:
            _close(server, connection)
        return
    if connection.listener.kind == "tcp":
        connection.pending += data
        if len(connection.pending) > MAX_PENDING_OUTPUT:
            _close(server, connection)  # a peer that sends without reading: drop it
            return
    elif not connection.close_after_write:
        connection.received += data
        if b"\r\n\r\n" in connection.received or b"\n\n" in connection.received:
            connection.pending = _http_answer(connection)
            connection.close_after_write = True
        elif len(connection.received) > MAX_REQUEST:
            _close(server, connection)
            return
    _update_interest(server, connection)


def _writable(server: _Server, connection: _Connection) -> None:
    try:
        sent = connection.sock.send(connection.pending)
    except (BlockingIOError, InterruptedError):
        return
    except OSError:
        _close(server, connection)
        return
    connection.pending = connection.pending[sent:]
    connection.last_active = time.monotonic()
    if connection.pending:
        return
    if connection.close_after_write:
        _close(server, connection)
        return
    _update_interest(server, connection)


def _namespace_inode(netns: str) -> tuple[int, int] | None:
    try:
        status = os.stat(namespaces.path_of(netns))
    except FileNotFoundError:
        return None
    return status.st_dev, status.st_ino


def _watch(server: _Server) -> None:
    """Close the services of namespaces that were removed (or replaced), and idle peers.

    An open socket keeps its namespace alive after ``ip netns del``: serving on would leak
    a namespace nobody can see any more.
    """
    for netns, inode in list(server.namespace_inodes.items()):
        if _namespace_inode(netns) == inode:
            continue
        print(f"namespace {netns} is gone: closing its services", flush=True)
        del server.namespace_inodes[netns]
        for fd, listener in list(server.listeners.items()):
            if listener.netns == netns:
                server.selector.unregister(listener.sock)
                listener.sock.close()
                del server.listeners[fd]
        for connection in list(server.connections.values()):
            if connection.listener.netns == netns:
                _close(server, connection)
    now = time.monotonic()
    for connection in list(server.connections.values()):
        if now - connection.last_active > IDLE_SECONDS:
            _close(server, connection)


def _serve(server: _Server) -> None:
    next_watch = time.monotonic() + WATCH_SECONDS
    while server.listeners:
        timeout = max(0.0, next_watch - time.monotonic())
        for key, events in server.selector.select(timeout):
            if isinstance(key.data, _Listener):
                _accept(server, key.data)
                continue
            connection: _Connection = key.data
            if connection.sock.fileno() < 0:
                continue  # closed earlier in this round
            if events & selectors.EVENT_READ:
                _readable(server, connection)
            if events & selectors.EVENT_WRITE and connection.sock.fileno() >= 0:
                _writable(server, connection)
        if time.monotonic() >= next_watch:
            _watch(server)
            next_watch = time.monotonic() + WATCH_SECONDS
    print("no namespace left to serve: exiting", flush=True)


def _tell(fd: int | None, message: dict[str, Any]) -> None:
    if fd is None:
        return
    with contextlib.suppress(OSError):
        os.write(fd, (json.dumps(message) + "\n").encode())


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(0)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m netlab.kernel.responder --config FILE [--ready-fd N]``."""
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}")
    parser.add_argument("--config", required=True)
    parser.add_argument("--ready-fd", type=int)
    parser.add_argument("--foreground", action="store_true", help="do not detach")
    arguments = parser.parse_args(argv)
    ready_fd: int | None = arguments.ready_fd
    if not arguments.foreground and os.fork() != 0:
        # The launcher exits at once; the server, reparented to init, outlives its caller
        # (a worker that restarts) and never becomes a zombie in it.
        os._exit(0)
    _tell(ready_fd, {"pid": os.getpid()})
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    server = _Server(selectors.DefaultSelector())
    try:
        config = json.loads(Path(arguments.config).read_text())
        tag = config["tag"]
        for entry in config["services"]:
            netns, node = entry["netns"], entry["node"]
            inode = _namespace_inode(netns)
            if inode is None:
                raise ResponderError(f"namespace {netns} (node {node}) does not exist")
            server.namespace_inodes[netns] = inode
            for kind, port in entry["services"]:
                sock = _listen(netns, node, kind, int(port))
                listener = _Listener(sock, netns, node, kind, int(port))
                server.listeners[sock.fileno()] = listener
                server.selector.register(sock, selectors.EVENT_READ, listener)
                print(f"{netns} ({node}): {kind} on port {port}", flush=True)
    except (ResponderError, OSError, KeyError, ValueError) as error:
        print(f"error: {error}", flush=True)
        _tell(ready_fd, {"error": str(error)})
        return 1
    print(f"responder of deployment {tag} ready, pid {os.getpid()}", flush=True)
    _tell(ready_fd, {"ready": True})
    if ready_fd is not None:
        os.close(ready_fd)
    try:
        _serve(server)
    except SystemExit:
        print("stopped by signal", flush=True)
    finally:
        for listener in server.listeners.values():
            listener.sock.close()
        for connection in list(server.connections.values()):
            connection.sock.close()
    return 0
