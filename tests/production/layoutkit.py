"""A throw-away production layout: Redis, daphne and ``manage.py netlab worker`` as separate
processes on a database of their own, and websocket clients that speak to it.

Used by ``test_redis_layout.py`` and ``bench_live.py``. Everything lives under one
temporary directory; :meth:`Layout.close` stops every process this kit started, by its
PID, and removes what a deployment left in the kernel under the layout's own prefix.

The layout is the one the README documents: ``NETLAB_DEBUG=0``, a secret key, Redis as the
channel layer, daphne as the unprivileged user ``nobody`` and the worker as root, the only
privileged process. The database directory belongs to ``nobody``; SQLite, run by root,
gives the files it creates there (``-wal``, ``-shm``) the database file's owner, so the
worker writing first does not lock the web server out.
"""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import secrets
import shutil
import socket
import string
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parents[2]
PYTHON = str(REPOSITORY / ".venv" / "bin" / "python")
DAPHNE = str(REPOSITORY / ".venv" / "bin" / "daphne")
WEB_USER = "nobody"
START_TIMEOUT = 20.0


def write_report(text: str, path: str) -> None:
    """Print a benchmark's markdown report and write it to ``path`` (under artifacts/)."""
    output = Path(path)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    print(text)


def missing_requirements() -> str | None:
    """Why this machine cannot run the layout, or None when it can."""
    if os.geteuid() != 0:
        return "the production layout's worker needs root"
    if shutil.which("redis-server") is None:
        return "redis-server is not installed (make setup installs it)"
    if shutil.which("setpriv") is None:
        return "setpriv (util-linux) is missing"
    try:
        pwd.getpwnam(WEB_USER)
    except KeyError:
        return f"there is no user {WEB_USER!r} to run daphne as"
    return None


def as_web_user(command: list[str]) -> list[str]:
    """``command`` run as the unprivileged web user, with no groups and no capabilities."""
    web = pwd.getpwnam(WEB_USER)
    return [
        "setpriv",
        f"--reuid={web.pw_uid}",
        f"--regid={web.pw_gid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--",
        *command,
    ]


def web_user_problem() -> str | None:
    """Why the web user cannot run the virtualenv's Python as root does, or None if it can.

    A virtualenv made from a Python under ``/root`` (pyenv, as root installs it) links a
    ``libpython`` the web user cannot read: its interpreter then starts with another
    Python's library and standard library, a mix that breaks (redis-py picks code for the
    wrong patch release). Production makes the virtualenv from a Python every user can
    read, e.g. ``make setup PYTHON=/usr/bin/python3``.
    """
    probe = [PYTHON, "-c", "import sys; print(sys.version, sys.base_prefix)"]
    as_root = subprocess.run(probe, capture_output=True, text=True).stdout
    as_web = subprocess.run(as_web_user(probe), capture_output=True, text=True).stdout
    if as_root != as_web:
        return (
            f"daphne runs as root: {WEB_USER} cannot run .venv's Python as root does "
            f"(root: {as_root.strip()!r}, {WEB_USER}: {as_web.strip()!r}); make the "
            "virtualenv from a Python every user can read to run it unprivileged"
        )
    return None


def unique_prefix(start: str) -> str:
    """A namespace prefix of its own: ``start``, five random lowercase letters and a dash."""
    return start + "".join(secrets.choice(string.ascii_lowercase) for _ in range(5)) + "-"


def free_port() -> int:
    """A TCP port of 127.0.0.1 free at the time of asking."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(condition: Callable[[], bool], what: str, timeout: float = START_TIMEOUT) -> None:
    """Poll ``condition`` until it holds; raise ``TimeoutError`` naming ``what`` if not."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(0.02)


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


class Layout:
    """One production layout under a fresh temporary directory.

    ``start()`` brings up Redis and the database; ``start_daphne()`` and ``start_worker()``
    the two netlab processes. With ``embedded=True`` there is no Redis and ``start_serve()``
    runs ``manage.py netlab serve`` (daphne and the worker in one root process, the
    in-memory channel layer) instead. Always ``close()`` it (it is a context manager).
    """

    def __init__(
        self, prefix: str, *, unprivileged_web: bool = True, embedded: bool = False
    ) -> None:
        self.prefix = prefix
        self.embedded = embedded
        self.unprivileged_web = unprivileged_web and not embedded
        self.root = Path(tempfile.mkdtemp(prefix="netlab-layout-"))
        # The web user must reach its database directory through the root of the layout.
        self.root.chmod(0o711)
        self.data = self.root / "data"
        self.state = self.root / "state"
        self.logs = self.root / "logs"
        self.logs.mkdir()
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.redis_port = free_port()
        self.web_port = 0
        self.env = {
            key: value for key, value in os.environ.items() if not key.startswith("NETLAB_")
        }
        self.env.update(
            DJANGO_SETTINGS_MODULE="netlab.settings",
            PYTHONUNBUFFERED="1",
            NETLAB_DEBUG="0",
            NETLAB_SECRET_KEY=secrets.token_urlsafe(50),
            NETLAB_ALLOWED_HOSTS="127.0.0.1,localhost",
            NETLAB_REDIS_URL=f"redis://127.0.0.1:{self.redis_port}/0",
            NETLAB_DATA_DIR=str(self.data),
            NETLAB_STATE_DIR=str(self.state),
            NETLAB_NETNS_PREFIX=prefix,
        )
        if embedded:
            del self.env["NETLAB_REDIS_URL"]

    def __enter__(self) -> Layout:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- processes -------------------------------------------------------------------------

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("wb")
        process = subprocess.Popen(
            command,
            cwd=REPOSITORY,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.processes[name] = process
        return process

    def log(self, name: str) -> str:
        """What process ``name`` printed so far."""
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _wait_listening(self, name: str, port: int) -> None:
        process = self.processes[name]

        def ready() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{self.log(name)}")
            return port_open(port)

        wait_for(ready, f"{name} listening on port {port}")

    def start(self) -> None:
        """Start Redis (no persistence), migrate a fresh database and hand it to the web user."""
        if not self.embedded:
            self._start_redis()
        self.data.mkdir(mode=0o700)
        self.manage("migrate", "--verbosity", "0")
        if self.unprivileged_web:
            web = pwd.getpwnam(WEB_USER)
            for path in [self.data, *self.data.iterdir()]:
                os.chown(path, web.pw_uid, web.pw_gid)

    def _start_redis(self) -> None:
        redis_dir = self.root / "redis"
        redis_dir.mkdir()
        self._spawn(
            "redis",
            [
                "redis-server",
                "--port", str(self.redis_port),
                "--bind", "127.0.0.1",
                "--dir", str(redis_dir),
                "--save", "",
                "--appendonly", "no",
            ],
        )  # fmt: skip
        self._wait_listening("redis", self.redis_port)

    def manage(self, *arguments: str) -> str:
        """Run ``manage.py`` with the layout's environment; return its standard output."""
        result = subprocess.run(
            [PYTHON, "manage.py", *arguments],
            cwd=REPOSITORY,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(arguments)} failed:\n{result.stderr}")
        return result.stdout

    def start_daphne(self) -> None:
        """Serve the ASGI application with daphne (as the web user) and wait for its port."""
        self.web_port = free_port()
        command = [DAPHNE, "-b", "127.0.0.1", "-p", str(self.web_port), "netlab.asgi:application"]
        if self.unprivileged_web:
            command = as_web_user(command)
        self._spawn("daphne", command)
        self._wait_listening("daphne", self.web_port)

    def start_serve(self) -> None:
        """The embedded layout: ``manage.py netlab serve`` (as root, for its worker)."""
        self.web_port = free_port()
        self._spawn("serve", [PYTHON, "manage.py", "netlab", "serve", "--port", str(self.web_port)])
        self._wait_listening("serve", self.web_port)

    def start_worker(self) -> None:
        """Start ``manage.py netlab worker`` (root) and wait until it says it started."""
        process = self._spawn("worker", [PYTHON, "manage.py", "netlab", "worker"])

        def started() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"the worker exited:\n{self.log('worker')}")
            return "netlab worker" in self.log("worker")

        wait_for(started, "the worker's start")

    def uid_of(self, name: str) -> int:
        """The real user id of process ``name``."""
        status = Path(f"/proc/{self.processes[name].pid}/status").read_text()
        (line,) = [line for line in status.splitlines() if line.startswith("Uid:")]
        return int(line.split()[1])

    def close(self) -> None:
        """Stop every process this layout started (by PID), then remove the kernel's leftovers
        of the layout's prefix and the temporary directory."""
        for name in ("daphne", "serve", "worker", "redis"):
            process = self.processes.pop(name, None)
            if process is None or process.poll() is not None:
                continue
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        try:
            self._cleanup_kernel()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def _cleanup_kernel(self) -> None:
        from netlab.kernel import engine, namespaces

        if self.state.exists():
            engine.cleanup(set(), state_dir=str(self.state))
        for name in namespaces.list_names():
            if name.startswith(self.prefix):
                namespaces.remove(name)

    # -- the application -------------------------------------------------------------------

    def create_admin_token(self) -> str:
        """Create the admin account (``netlab ensure-admin``) and return a new API token for it."""
        self.manage("netlab", "ensure-admin")
        return self.manage("netlab", "token", "admin", "--name", "layout tests").strip()

    def import_design(self, path: Path) -> int:
        """Import a design file (``netlab import``); return the new design's id."""
        last_line = self.manage("netlab", "import", str(path)).strip().splitlines()[-1]
        return int(last_line.split()[0])

    def websocket_url(self, design_id: int) -> str:
        return f"ws://127.0.0.1:{self.web_port}/ws/designs/{design_id}/"


class Client:
    """A websocket client of a lab page, authenticated by a bearer token."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.token = token
        self.connection: Any = None

    async def __aenter__(self) -> Client:
        from websockets.asyncio.client import connect

        self.connection = await connect(
            self.url, additional_headers={"Authorization": f"Bearer {self.token}"}
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.connection.close()

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self, timeout: float = 10.0) -> dict[str, Any]:
        text = await asyncio.wait_for(self.connection.recv(), timeout)
        return dict(json.loads(text))

    async def receive_until(
        self, wanted: Callable[[dict[str, Any]], bool], timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        """Every message up to and including the first one ``wanted`` accepts."""
        seen: list[dict[str, Any]] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            left = deadline - loop.time()
            try:
                if left <= 0:
                    raise TimeoutError
                message = await self.receive(left)
            except TimeoutError:
                raise AssertionError(f"the awaited message never came; got {seen}") from None
            seen.append(message)
            if wanted(message):
                return seen
