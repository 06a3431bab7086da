"""A worker killed with SIGKILL in the middle of a deployment, on the real kernel: the next
worker rolls the half-built lab back (or finds it finished), and the database and the
kernel agree; then a destroy leaves nothing.

Root only. The workers are real ``manage.py netlab worker`` processes on a SQLite file in
a temporary directory; the lab's namespaces carry the test's own prefix (``nlk`` and five
random letters) and its journal lives in a temporary directory. Teardown stops only the
processes this test started (by pid) and removes every namespace of the prefix, pass or
fail.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sqlite3
import string
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from netlab.bench import star_data

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.skipif(os.geteuid() != 0, reason="kernel tests need root"),
]

ROOT = Path(__file__).resolve().parents[2]
CRASHKIT = Path(__file__).resolve().parent / "crashkit.py"
SIZE = 80  # namespaces: enough that the deploy is still going when the worker is killed
WAIT = 60.0  # seconds; an upper bound for a loaded machine, not a speed expectation


def star(size: int) -> dict[str, Any]:
    """A bridge in the host and ``size`` namespaces on it, in 10.213.0.0/16."""
    return star_data(size, "10.213.0.0/16", name="crash-star")


class Site:
    """The test's database, state directory, namespace prefix and worker processes."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.database = directory / "netlab.sqlite3"
        self.state_dir = directory / "state"
        self.prefix = "nlk" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(5))
        self.prefix += "-"
        self.env = {
            **os.environ,
            "NETLAB_DATA_DIR": str(directory),
            "NETLAB_DATABASE": str(self.database),
            "NETLAB_STATE_DIR": str(self.state_dir),
            "NETLAB_NETNS_PREFIX": self.prefix,
            "NETLAB_ENGINE": "netlab.kernel.engine",
        }
        self.env.pop("NETLAB_REDIS_URL", None)
        self.env.pop("NETLAB_DATABASE_URL", None)  # its own SQLite file, read as one below
        self.env.pop("DJANGO_SETTINGS_MODULE", None)
        self.workers: list[subprocess.Popen[bytes]] = []

    def run(self, *arguments: str) -> dict[str, Any]:
        result = subprocess.run(
            [sys.executable, str(CRASHKIT), *arguments],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        answer: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
        return answer

    def migrate(self) -> None:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
            cwd=ROOT,
            env=self.env,
            check=True,
        )

    def start_worker(self) -> subprocess.Popen[bytes]:
        number = len(self.workers)
        with (self.directory / f"worker-{number}.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "manage.py", "netlab", "worker"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.workers.append(process)
        return process

    def steps(self) -> int:
        """Steps recorded so far, read straight from the database file (read-only)."""
        connection = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=5)
        try:
            (count,) = connection.execute("SELECT count(*) FROM editor_deploymentstep").fetchone()
        finally:
            connection.close()
        return int(count)

    def namespaces(self) -> list[str]:
        from netlab.kernel import namespaces

        return [name for name in namespaces.list_names() if name.startswith(self.prefix)]

    def logs(self) -> str:
        return "\n".join(path.read_text() for path in sorted(self.directory.glob("worker-*.log")))

    def close(self) -> None:
        from netlab.kernel import engine, namespaces

        for process in self.workers:  # only the processes this test started, by pid
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        try:
            engine.cleanup(set(), state_dir=self.state_dir)
        finally:
            for name in self.namespaces():
                namespaces.remove(name)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    made = Site(tmp_path)
    try:
        yield made
    finally:
        made.close()


def wait_until(condition: Callable[[], Any], what: str, site: Site) -> Any:
    deadline = time.monotonic() + WAIT
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} never happened; worker logs:\n{site.logs()}")
        time.sleep(0.005)
    return value


def test_a_worker_killed_mid_deploy_is_recovered_by_the_next(site: Site, tmp_path: Path) -> None:
    site.migrate()
    document = tmp_path / "star.json"
    document.write_text(json.dumps(star(SIZE)))
    deployment = str(site.run("queue", str(document))["deployment"])

    first = site.start_worker()
    wait_until(lambda: site.steps() > 0, "a first recorded step", site)
    first.send_signal(signal.SIGKILL)
    first.wait()
    killed = site.run("show", deployment)
    assert killed["worker"], "the killed worker's claim is still on the row"

    site.start_worker()
    shown = wait_until(
        lambda: (
            (row := site.run("show", deployment))["worker"] == ""
            and row["state"] in ("failed", "running")
            and row
        ),
        "recovery",
        site,
    )
    print("recovered as", shown["state"], "after", killed["steps"], "steps")
    if shown["state"] == "failed":
        # Killed before it finished: rolled back, and said so.
        assert "stopped in the middle of the deployment" in shown["error"]
        assert "rolled back" in shown["error"]
        assert site.namespaces() == []
    else:
        # The first worker had finished (and written so) before the kill: all is there.
        assert sorted(site.namespaces()) == sorted(
            name for name in shown["namespaces"].values() if name
        )
        assert len(site.namespaces()) == SIZE + 1  # the host and every spoke

    site.run("destroy", deployment)
    wait_until(lambda: site.run("show", deployment)["state"] == "stopped", "the destroy", site)
    assert site.namespaces() == []
    assert not any(killed["tag"] in path.name for path in site.state_dir.glob("*"))
