"""Random sequences of deploy, destroy, worker kill and restart, design delete and
collaborator revoke against a real worker and the real kernel leave the kernel matching the
database, and nothing orphaned (``lifecycle_machine.py`` holds the state machine).

Root only. The machine runs in a process of its own on a fresh SQLite file, state directory
and namespace prefix (``nlm`` and five random letters); teardown stops any worker it left
(by the PIDs it wrote) and removes every namespace of the prefix, pass or fail.
"""

from __future__ import annotations

import os
import secrets
import signal
import string
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.skipif(os.geteuid() != 0, reason="kernel tests need root"),
]

ROOT = Path(__file__).resolve().parents[2]
MACHINE = Path(__file__).resolve().parent / "lifecycle_machine.py"


def stop_leftover_workers(pid_file: Path) -> None:
    """Kill the workers the machine started and did not stop (a crash), by their PIDs."""
    if not pid_file.exists():
        return
    for line in pid_file.read_text().split():
        pid = int(line)
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if str(MACHINE).encode() in cmdline:  # still ours, not a recycled pid
            os.kill(pid, signal.SIGKILL)


def test_random_lifecycles_leave_the_kernel_matching_the_database(tmp_path: Path) -> None:
    from netlab.kernel import engine, namespaces

    prefix = "nlm" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(5)) + "-"
    environment = {key: value for key, value in os.environ.items() if not key.startswith("NETLAB_")}
    environment.update(
        PYTHONPATH=str(ROOT),
        DJANGO_SETTINGS_MODULE="netlab.settings",
        NETLAB_DATA_DIR=str(tmp_path),
        NETLAB_DATABASE=str(tmp_path / "netlab.sqlite3"),
        NETLAB_STATE_DIR=str(tmp_path / "state"),
        NETLAB_NETNS_PREFIX=prefix,
        NETLAB_ENGINE="netlab.kernel.engine",
        LIFECYCLE_PIDS=str(tmp_path / "workers.pid"),
        LIFECYCLE_LOG=str(tmp_path / "workers.log"),
    )
    try:
        result = subprocess.run(
            [sys.executable, str(MACHINE), "run"],
            capture_output=True,
            text=True,
            env=environment,
            cwd=ROOT,
            timeout=300,
        )
        print(result.stdout[-2000:])
        logs = (tmp_path / "workers.log").read_text() if (tmp_path / "workers.log").exists() else ""
        assert result.returncode == 0, f"{result.stdout[-4000:]}\n{result.stderr[-6000:]}\n{logs}"
        assert "lifecycle: " in result.stdout
    finally:
        stop_leftover_workers(tmp_path / "workers.pid")
        engine.cleanup(set(), state_dir=str(tmp_path / "state"))
        for name in namespaces.list_names():
            if name.startswith(prefix):  # only this test's own prefix
                namespaces.remove(name)
