"""Any number of workers claim safely: worker processes, each with its own connection, race
for many waiting deployments on two sites, two workers a site, and each is claimed exactly
once, by a worker of its site (the run's database:
PostgreSQL's row locks under ``--postgres``, SQLite's database lock otherwise).

The workers are processes (``claimrace.py``), as real workers are. On PostgreSQL they share
the test database; SQLite's test database lives in this process's memory, so there the
race runs on a database file of its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

REPOSITORY = Path(__file__).resolve().parents[2]
RACER = Path(__file__).resolve().parent / "claimrace.py"
WORKERS = 4
JOBS = 240
SITES = ["east", "west"]  # claimrace's
WORK = {"queued": "deploy", "applying": "apply", "destroying": "destroy"}
CLAIMED = {"deploy": "deploying", "apply": "applying", "destroy": "destroying"}


@pytest.fixture
def race_env(tmp_path: Path) -> dict[str, str]:
    """The ``NETLAB_*`` environment of the race's processes, its database made."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("NETLAB_")}
    env["DJANGO_SETTINGS_MODULE"] = "netlab.settings"
    env["NETLAB_DATA_DIR"] = str(tmp_path)
    database = connection.settings_dict
    if connection.vendor == "postgresql":  # the test database, made by pytest-django
        env["NETLAB_DATABASE_URL"] = (
            f"postgresql://{database['USER']}@/{database['NAME']}?host={database['HOST']}"
        )
    else:
        env["NETLAB_DATABASE"] = str(tmp_path / "race.sqlite3")
        run(env, str(REPOSITORY / "manage.py"), "migrate", "--verbosity", "0")
    return env


def run(env: dict[str, str], *arguments: str) -> str:
    result = subprocess.run(
        [sys.executable, *arguments], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.django_db(transaction=True)
def test_racing_workers_claim_each_job_exactly_once(race_env: dict[str, str]) -> None:
    run(race_env, str(RACER), "setup", str(JOBS))
    rows = json.loads(run(race_env, str(RACER), "rows"))
    waiting = {pk: WORK[state] for pk, state, _, _ in rows}
    placed = {pk: site for pk, _, _, site in rows}
    assert len(waiting) == JOBS
    assert set(placed.values()) == set(SITES)
    names = [f"racer-{number}" for number in range(WORKERS)]
    site_of = {name: SITES[number % len(SITES)] for number, name in enumerate(names)}
    workers = [
        subprocess.Popen(
            [sys.executable, str(RACER), "worker", name, site_of[name]],
            env=race_env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in names
    ]
    try:
        for process in workers:  # all connected, then all started at once
            assert process.stdout is not None
            assert process.stdout.readline() == "ready\n"
        started = time.monotonic()
        for process in workers:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        outputs = [process.communicate(timeout=120) for process in workers]
        elapsed = time.monotonic() - started
    finally:
        for process in workers:
            if process.poll() is None:
                process.kill()
                process.wait()
    for process, (_, errors) in zip(workers, outputs, strict=True):
        assert process.returncode == 0, errors
    won: dict[str, list[Any]] = {
        name: json.loads(out) for name, (out, _) in zip(names, outputs, strict=True)
    }

    times = Counter(pk for claims in won.values() for pk, _ in claims)
    assert set(times) == set(waiting)  # every job claimed
    assert set(times.values()) == {1}  # and none twice
    winner = {pk: (name, work) for name, claims in won.items() for pk, work in claims}
    for pk, state, worker, site in json.loads(run(race_env, str(RACER), "rows")):
        assert winner[pk] == (worker, waiting[pk])  # the row says who won it, and its work
        assert site_of[worker] == site  # a worker of the row's site
        assert state == CLAIMED[waiting[pk]]
    shares = {name: len(claims) for name, claims in won.items()}
    print(f"{connection.vendor}: {JOBS} jobs, {WORKERS} workers {shares}, {elapsed:.2f} s")
