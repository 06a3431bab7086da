"""Soak: deploy and destroy the tutorial's bridge lab many times, the way a click does, and
check that nothing accumulates.

``.venv/bin/python tests/production/soak.py [--cycles 500]`` (root; ``make soak``; needs
redis-server). It brings up the production layout of ``layoutkit`` (Redis, daphne and
``manage.py netlab worker`` as separate processes, on a fresh database, state directory and
namespace prefix of their own), opens a lab page's websocket and sends ``deploy`` and
``destroy`` as the page's buttons do, waiting for ``running`` and ``stopped`` each time.

After cycle 10 (the warm-up: imports, caches, the first connections) and at the end it
records the worker's open file descriptors and RSS, the namespaces under /run/netns, the
nftables tables (in the root namespace), and the entries of the layout's state directory
and of /run/netlab. It prints both and exits non-zero if one grew; the worker's RSS may
move by allocator noise (``--rss-slack``, 4 MiB by default), nothing else may move at all.
Not part of the test run. Packets never leave the lab's own namespaces (none are sent).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[2])]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "netlab.settings")

from layoutkit import (  # noqa: E402 - found through the path set just above
    REPOSITORY,
    Client,
    Layout,
    missing_requirements,
    unique_prefix,
    web_user_problem,
)

EXAMPLE = REPOSITORY / "netlab" / "examples" / "2-bridge.yaml"
WARM_UP = 10
RUN_NETLAB = Path("/run/netlab")
NETNS_DIR = Path("/run/netns")
STATE_TIMEOUT = 60.0


def worker_figures(pid: int) -> dict[str, int]:
    """Open file descriptors and resident memory (KiB) of process ``pid``."""
    status = Path(f"/proc/{pid}/status").read_text()
    (rss,) = [line for line in status.splitlines() if line.startswith("VmRSS:")]
    return {"fds": len(os.listdir(f"/proc/{pid}/fd")), "rss_kib": int(rss.split()[1])}


def fd_kinds(pid: int) -> dict[str, int]:
    """What the open file descriptors of ``pid`` are (socket, pipe, a file's path...)."""
    kinds: dict[str, int] = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:  # closed meanwhile
            continue
        kind = target.split(":")[0]
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def entries(directory: Path) -> int:
    return len(list(directory.iterdir())) if directory.is_dir() else 0


def nft_tables() -> int:
    """The nftables tables of the root namespace (lab tables live in the lab's namespaces,
    which the namespace count covers)."""
    listed = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, check=True)
    return len([line for line in listed.stdout.splitlines() if line.strip()])


def measure(layout: Layout, worker_pid: int) -> dict[str, int]:
    figures = worker_figures(worker_pid)
    names = [path.name for path in NETNS_DIR.iterdir()] if NETNS_DIR.is_dir() else []
    figures.update(
        namespaces=len(names),
        lab_namespaces=sum(1 for name in names if name.startswith(layout.prefix)),
        nft_tables=nft_tables(),
        state_dir_entries=entries(layout.state),
        run_netlab_entries=entries(RUN_NETLAB),
    )
    return figures


async def wait_state(client: Client, states: tuple[str, ...]) -> dict[str, Any]:
    """The next ``deployment`` message in one of ``states`` (an ``error`` ends the soak)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STATE_TIMEOUT
    while True:
        message = await client.receive(timeout=max(deadline - loop.time(), 0.001))
        if message.get("type") == "error":
            raise RuntimeError(f"the page was refused: {message}")
        if message.get("type") == "deployment" and message.get("state") in states:
            return message


async def cycle(client: Client) -> None:
    """One click on Deploy, one on Destroy, each waited for as the page shows it."""
    await client.send({"action": "deploy"})
    state = await wait_state(client, ("running", "failed"))
    if state["state"] != "running":
        raise RuntimeError(f"the deployment failed: {state.get('error')}")
    await client.send({"action": "destroy"})
    state = await wait_state(client, ("stopped", "failed"))
    if state["state"] != "stopped":
        raise RuntimeError(f"the destroy failed: {state.get('error')}")


async def soak(cycles: int) -> dict[str, Any]:
    problem = web_user_problem()
    with Layout(unique_prefix("nls"), unprivileged_web=problem is None) as layout:
        layout.start()
        layout.start_daphne()
        layout.start_worker()
        worker_pid = layout.processes["worker"].pid
        token = layout.create_admin_token()
        design = layout.import_design(EXAMPLE)
        before = measure(layout, worker_pid)
        after_warm_up: dict[str, int] = {}
        started = time.perf_counter()
        async with Client(layout.websocket_url(design), token) as client:
            for number in range(1, cycles + 1):
                try:
                    await cycle(client)
                except Exception:
                    # The layout's directory goes with it: show its logs while they exist.
                    print(f"soak: cycle {number} failed", file=sys.stderr)
                    for name in ("worker", "daphne"):
                        print(f"--- {name} log ---\n{layout.log(name)[-20000:]}", file=sys.stderr)
                    raise
                if number == min(WARM_UP, cycles):
                    await asyncio.sleep(1)  # let the last destroy's events and sockets settle
                    after_warm_up = measure(layout, worker_pid)
                    print(f"worker's file descriptors: {fd_kinds(worker_pid)}", flush=True)
                if number % 50 == 0:
                    print(f"cycle {number}: {measure(layout, worker_pid)}", flush=True)
        await asyncio.sleep(1)
        end = measure(layout, worker_pid)
        print(f"worker's file descriptors at the end: {fd_kinds(worker_pid)}", flush=True)
        return {
            "cycles": cycles,
            "seconds": round(time.perf_counter() - started, 1),
            "web_as_root": problem is not None,
            "before": before,
            "after_warm_up": after_warm_up,
            "end": end,
        }


def growth(result: dict[str, Any], rss_slack_kib: int) -> list[str]:
    """What grew from after the warm-up to the end, beyond what noise allows."""
    grown = []
    start, end = result["after_warm_up"], result["end"]
    for key, value in end.items():
        slack = rss_slack_kib if key == "rss_kib" else 0
        if value > start[key] + slack:
            grown.append(f"{key}: {start[key]} -> {value}")
    return grown


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=500)
    parser.add_argument("--rss-slack", type=int, default=4096, help="KiB the worker may vary")
    options = parser.parse_args()
    if (missing := missing_requirements()) is not None:
        print(f"soak: cannot run: {missing}", file=sys.stderr)
        return 2
    result = asyncio.run(soak(options.cycles))
    print(json.dumps(result, indent=1))
    grown = growth(result, options.rss_slack)
    if grown:
        print("soak: GREW: " + "; ".join(grown), file=sys.stderr)
        return 1
    print(f"soak: {result['cycles']} cycles in {result['seconds']} s, nothing grew")
    return 0


if __name__ == "__main__":
    sys.exit(main())
