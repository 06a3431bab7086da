"""Start ``manage.py netlab serve`` (daphne, and the worker with it) on a throw-away SQLite
database with one user, for the browser tests and the editor benchmark."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
USERNAME = "editor"
READER = "reader"  # a second user, for sharing between two people
PASSWORD = "correct horse battery staple"
START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True
    )


@contextmanager
def running_server(data: Path, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """Serve netlab with its database in ``data`` (and ``extra_env`` set, e.g. the namespace
    prefix); yields the base URL, then kills the server."""
    env = {**os.environ, "NETLAB_DATA_DIR": str(data), "NETLAB_DEBUG": "1", **(extra_env or {})}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    manage(env, "migrate", "--verbosity", "0")
    manage(
        env,
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model; "
        f"[get_user_model().objects.create_user(name, password={PASSWORD!r}) "
        f"for name in ({USERNAME!r}, {READER!r})]",
    )
    port = free_port()
    log_path = data / "serve.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "netlab", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_serving(base, process, log_path)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_serving(base: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            # an http:// URL built by running_server, never a user's
            with urllib.request.urlopen(f"{base}/login/", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"netlab serve did not start: {log_path.read_text()}")
        time.sleep(0.1)
