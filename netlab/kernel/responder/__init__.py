"""The built-in services of a deployment: one small process serving every node's services.

``start`` launches ``python -m netlab.kernel.responder`` detached from the caller (its own
session, reparented to init, stdio to a log file in the state directory) and returns once
every listening socket is bound, or raises ``ResponderError`` naming the service that could
not be. The process creates each listening socket inside its node's namespace from a
throw-away thread (``namespaces.run_inside``) and serves them all from one selector loop in
its main thread, which never leaves the process's own namespace.

Services:

- ``http``: any ``GET`` (or ``HEAD``) is answered ``200`` with a one-line JSON body naming
  the node and namespace that answered, also given in an ``X-Netlab-Node`` header.
- ``tcp``: an echo that first sends one line, ``netlab node=ID netns=NAME service=tcp
  port=N``, then echoes what it receives.

The caller journals the returned ``pid`` and ``started_at``; ``stop(pid, started_at)`` ends
that process and no other (a reused PID has another start time), and is idempotent. A
process's sockets keep their namespaces alive, so the responder also closes the services of
a namespace that disappears, and exits when it has none left.

This package is the caller's side (start, stop, identify); :mod:`.server` is the process
itself, run as ``python -m netlab.kernel.responder`` (:mod:`.__main__`). The module name in
its command line is how :func:`identity` recognises a responder: it must stay the same.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from netlab.core import names
from netlab.kernel import namespaces

MODULE = "netlab.kernel.responder"
SERVICE_KINDS = ("http", "tcp")

ServiceSpec = Mapping[str, tuple[str, Sequence[tuple[str, int]]]]


class ResponderError(RuntimeError):
    """The responder could not be started (a service could not bind, or it never got ready)."""


@dataclass(frozen=True)
class Responder:
    """A started responder process, as the driver journals it."""

    tag: str
    pid: int
    started_at: int  # start time in clock ticks since boot (/proc/PID/stat field 22)
    log_path: str
    config_path: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _read_start_time(pid: int) -> int | None:
    """Return the start time of process ``pid`` (clock ticks since boot), or None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            text = stat.read().decode("utf-8", "replace")
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    fields = text.rsplit(")", 1)[1].split()
    return int(fields[19])  # field 22 overall; fields[0] is field 3 (state)


def _is_responder_cmdline(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            arguments = cmdline.read().split(b"\0")
    except (FileNotFoundError, ProcessLookupError):
        return False
    return MODULE.encode() in arguments


def identity(pid: int) -> int | None:
    """Return ``started_at`` of ``pid`` if it is a responder process, else None."""
    started_at = _read_start_time(pid)
    if started_at is None or not _is_responder_cmdline(pid):
        return None
    return started_at


def running(pid: int, started_at: int) -> bool:
    """Return whether the responder journaled as (``pid``, ``started_at``) is still running."""
    return identity(pid) == started_at


def _check_services(tag: str, services: ServiceSpec) -> None:
    if not names.TAG.match(tag):
        raise ValueError(f"not a deployment tag: {tag!r}")
    if not services:
        raise ValueError("a responder needs at least one service")
    for netns, (node_id, entries) in services.items():
        namespaces.path_of(netns)  # refuses names that are not plain namespace names
        seen: set[int] = set()
        for kind, port in entries:
            if kind not in SERVICE_KINDS:
                raise ValueError(f"{netns} ({node_id}): unknown service kind {kind!r}")
            if not 1 <= port <= 65535:
                raise ValueError(f"{netns} ({node_id}): port {port} out of range")
            if port in seen:
                raise ValueError(f"{netns} ({node_id}): port {port} used twice")
            seen.add(port)


def start(
    tag: str, services: ServiceSpec, state_dir: str | os.PathLike[str], *, timeout: float = 10.0
) -> Responder:
    """Launch the responder of deployment ``tag``; return once all its sockets are bound.

    ``services`` maps a namespace to its node id and that node's ``(kind, port)`` list.
    Files ``responder-TAG.json`` (the configuration) and ``responder-TAG.log`` (its output)
    are written under ``state_dir``. Raises ``ResponderError`` naming the namespace, node
    and port that could not be served (nothing is left running then), ``ValueError`` for a
    bad specification. Blocks for up to ``timeout`` seconds (about 50 ms when all is well).
    """
    _check_services(tag, services)
    directory = Path(state_dir)
    directory.mkdir(parents=True, exist_ok=True)
    config_path = directory / f"responder-{tag}.json"
    log_path = directory / f"responder-{tag}.log"
    config = {
        "tag": tag,
        "services": [
            {"netns": netns, "node": node_id, "services": [[kind, port] for kind, port in entries]}
            for netns, (node_id, entries) in services.items()
        ],
    }
    config_path.write_text(json.dumps(config, indent=2) + "\n")
    read_end, write_end = os.pipe()
    environment = dict(os.environ)
    # Run this very copy of netlab, whatever the caller's working directory.
    package_root = str(Path(__file__).resolve().parents[3])
    environment["PYTHONPATH"] = os.pathsep.join(
        [package_root, *filter(None, [environment.get("PYTHONPATH")])]
    )
    try:
        with open(log_path, "ab") as log:
            launcher = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    MODULE,
                    "--config",
                    str(config_path),
                    "--ready-fd",
                    str(write_end),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                pass_fds=(write_end,),
                env=environment,
                cwd="/",
            )
    finally:
        os.close(write_end)
    try:
        messages = _read_messages(read_end, timeout)
    finally:
        os.close(read_end)
        # The launcher forks the server and exits at once: reap it so it leaves no zombie.
        try:
            launcher.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            launcher.kill()
            launcher.wait()
    pid = next((message["pid"] for message in messages if "pid" in message), None)
    error = next((message["error"] for message in messages if "error" in message), None)
    ready = any(message.get("ready") for message in messages)
    started_at = _read_start_time(pid) if isinstance(pid, int) else None
    if ready and isinstance(pid, int) and started_at is not None:
        return Responder(tag, pid, started_at, str(log_path), str(config_path))
    if isinstance(pid, int) and started_at is not None:
        stop(pid, started_at)
    if error is None:
        tail = log_path.read_text(errors="replace")[-2000:].strip()
        error = f"the responder did not get ready within {timeout:g} s" + (
            f"; its log ends with:\n{tail}" if tail else ""
        )
    raise ResponderError(f"responder of deployment {tag}: {error}")


def _read_messages(fd: int, timeout: float) -> list[dict[str, Any]]:
    """Read JSON lines from the readiness pipe until it closes or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    data = b""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        readable, _, _ = select.select([fd], [], [], remaining)
        if not readable:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
        if b'"ready"' in data or b'"error"' in data:
            break
    messages = []
    for line in data.splitlines():
        with contextlib.suppress(ValueError):
            message = json.loads(line)
            if isinstance(message, dict):
                messages.append(message)
    return messages


def stop(pid: int, started_at: int, *, timeout: float = 3.0) -> bool:
    """Stop the responder journaled as (``pid``, ``started_at``); wait until it has exited.

    Returns True if this call ended it, False if it was already gone or ``pid`` now belongs
    to another process (a reused PID has another start time or command line): that process
    is left alone. Sends SIGTERM, then SIGKILL after ``timeout`` seconds.
    """
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return False
    try:
        if identity(pid) != started_at:
            return False
        # The pidfd pins the process it was opened on. If that process is still running
        # now, the /proc checks above were about it and not about a successor with the same
        # PID, and every signal below goes to it alone.
        if _exited(pidfd, 0):
            return False
        try:
            signal.pidfd_send_signal(pidfd, signal.SIGTERM)
            if not _exited(pidfd, timeout):
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
                if not _exited(pidfd, timeout):
                    raise ResponderError(f"responder {pid} survived SIGKILL for {timeout:g} s")
        except ProcessLookupError:
            pass
        return True
    finally:
        os.close(pidfd)


def _exited(pidfd: int, timeout: float) -> bool:
    readable, _, _ = select.select([pidfd], [], [], timeout)
    return bool(readable)
