"""A throw-away PostgreSQL server for the test run: ``pytest --postgres``.

A pytest plugin (``-p postgres_cluster`` in pyproject's ``addopts``): with ``--postgres`` it
starts the server and sets ``NETLAB_DATABASE_URL`` before pytest-django reads the settings,
so that Django's test database is made there (``test_netlab``) and the suite runs against it
the way production does. The server stops, and its folder goes, when the run ends, pass or
fail. Without the package, the run's tests are skipped with the reason (on CI, where
``make setup`` installs it, that is an error instead).

Debian's ``postgresql`` package (installed by ``make setup``) puts ``initdb`` and ``pg_ctl``
under ``/usr/lib/postgresql/VERSION/bin``, off ``PATH``. The cluster lives in a temporary
folder, listens on a unix socket in that folder only (no TCP), trusts whoever can reach
the socket (the folder is 0700: its owner, and root), and is removed at the end. PostgreSQL
refuses to run as root, so as root it runs as the ``postgres`` user the package creates
(``nobody`` without it).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

ROLE = "netlab"
_SKIPPED = pytest.StashKey[str]()


def bin_directory() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl``: on ``PATH``, else Debian's newest version."""
    found = shutil.which("initdb")
    if found:  # through a link, perhaps: pg_ctl is beside the real one
        return Path(found).resolve().parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda path: int(path.parts[-3]) if path.parts[-3].isdigit() else 0,
    )
    return versions[-1].parent if versions else None


class Cluster:
    """A PostgreSQL cluster in a temporary folder: :meth:`start`, then :meth:`stop`."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.folder = Path(tempfile.mkdtemp(prefix="netlab-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.server: subprocess.Popen[bytes] | None = None
        self._user: dict[str, Any] = {}
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam("postgres")
            except KeyError:
                user = pwd.getpwnam("nobody")
            os.chown(self.folder, user.pw_uid, user.pw_gid)
            self._user = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}

    @property
    def url(self) -> str:
        """``NETLAB_DATABASE_URL`` of a ``netlab`` database (its socket form): Django's test
        run makes ``test_netlab`` through the ``postgres`` database, and uses only that."""
        return f"postgresql://{ROLE}@/{ROLE}?host={self.folder}"

    def start(self) -> None:
        initdb = [str(self.bin_dir / "initdb"), "--no-sync", "--auth=trust", f"--username={ROLE}"]
        made = subprocess.run(
            [*initdb, "-D", str(self.data)],
            capture_output=True,
            text=True,
            check=False,
            **self._user,
        )
        if made.returncode:
            raise RuntimeError(f"initdb failed: {made.stderr.strip()}")
        # The server is this process's child (not pg_ctl's daemon), so that it is waited for
        # and stopped by its pid. Speed over durability: it lives for one test run.
        server = [str(self.bin_dir / "postgres"), "-D", str(self.data), "-k", str(self.folder)]
        for setting in ("listen_addresses=", "fsync=off", "synchronous_commit=off",
                        "full_page_writes=off"):  # fmt: skip
            server += ["-c", setting]
        with self.log.open("w") as log:
            self.server = subprocess.Popen(
                server,
                stdout=log,
                stderr=subprocess.STDOUT,
                **self._user,
            )
        deadline = time.monotonic() + 30
        while subprocess.run(
            [str(self.bin_dir / "pg_isready"), "-q", "-h", str(self.folder), "-d", "postgres"],
            check=False,
        ).returncode:
            if self.server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not start:\n{self.log.read_text()}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server (if it runs: SIGINT is PostgreSQL's fast shutdown) and remove its
        folder."""
        try:
            if self.server is not None and self.server.poll() is None:
                self.server.send_signal(signal.SIGINT)
                try:
                    self.server.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self.server.kill()
                    self.server.wait()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--postgres",
        action="store_true",
        help="run against a PostgreSQL server started for the run (Debian's postgresql)",
    )


@pytest.hookimpl(tryfirst=True)  # before pytest-django's, which reads the settings
def pytest_load_initial_conftests(early_config: pytest.Config, args: list[str]) -> None:
    if not early_config.known_args_namespace.postgres:
        return
    bin_dir = bin_directory()
    if bin_dir is None:
        if os.environ.get("CI"):
            raise pytest.UsageError("--postgres: PostgreSQL is not installed (make setup)")
        early_config.stash[_SKIPPED] = "PostgreSQL is not installed (apt-get install postgresql)"
        return
    cluster = Cluster(bin_dir)
    early_config.add_cleanup(cluster.stop)  # pass or fail, and when starting fails
    cluster.start()
    os.environ["NETLAB_DATABASE_URL"] = cluster.url
    # The test database is dropped at the end of the run: connections kept by the worker's
    # threads (which end with their tests) would keep it in use.
    os.environ["NETLAB_DATABASE_CONN_MAX_AGE"] = "0"


def pytest_report_header(config: pytest.Config) -> str | None:
    if not config.getoption("--postgres"):
        return None
    skipped = config.stash.get(_SKIPPED, "")
    return f"database: PostgreSQL skipped ({skipped})" if skipped else "database: PostgreSQL"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = config.stash.get(_SKIPPED, "")
    for item in items if reason else []:
        item.add_marker(pytest.mark.skip(reason=f"--postgres: {reason}"))
