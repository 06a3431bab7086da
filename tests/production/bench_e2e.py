"""End-to-end benchmark: what a user waits for, next to the engine, in one run.

``.venv/bin/python tests/production/bench_e2e.py [--sizes 10,200,500,1000] [--labs
star,chain] [--runs 1] [--layout embedded|redis]`` (root; part of ``make bench``). On a
fresh layout (``layoutkit``: its own database, state directory and namespace prefix), for
each lab and size:

- engine: ``netlab.kernel.engine.deploy``/``destroy`` called in this process, timed around
  the call (the design already validated; imports excluded);
- CLI: ``manage.py netlab deploy`` and ``destroy`` timed as whole processes, and the
  start-up they share, timed as ``manage.py netlab status`` (the issue's definition); the
  CLI runs before the server starts, so no worker claims its deployments;
- websocket: a client of the lab page (bearer token) times ``deploy`` sent until the
  ``deployment`` message saying ``running`` arrives, and ``destroy``, sent ``--settle``
  seconds after ``running`` (a lab its page showed for a while), until ``stopped``; one
  more lab is destroyed as soon as it runs, while its monitors start (its own column);
  it counts the messages and bytes it received during the deploy and, showing one node
  as netlab's page does (``show``), while it sat idle on the running lab (``--idle``
  seconds, from ``--settle`` seconds after ``running``), when the server's CPU and RSS
  are read from ``/proc``.

Medians of ``--runs`` runs. Writes a markdown table to artifacts/bench-e2e.md and prints it.
Not part of the test run. Packets: none (nothing is pinged).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "netlab.settings")

from layoutkit import Client, Layout, unique_prefix, write_report

from netlab.bench import chain, star_data
from netlab.core import codec
from netlab.core.document import Document
from netlab.core.validation import load

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") / 1024


def lab_data(lab: str, size: int) -> dict[str, Any]:
    if lab == "star":
        return star_data(size)
    return dict(json.loads(codec.dump(chain(size), "json")))


# -- the engine, in this process -----------------------------------------------------------------


def engine_times(design: Document, runs: int, prefix: str) -> dict[str, float]:
    from netlab.kernel import engine

    deploys, destroys = [], []
    with tempfile.TemporaryDirectory(prefix="netlab-bench-e2e-") as state_dir:
        for _ in range(runs):
            started = time.perf_counter()
            record = engine.deploy(design, prefix=prefix, state_dir=state_dir)
            deploys.append(time.perf_counter() - started)
            started = time.perf_counter()
            report = engine.destroy(record.tag, state_dir=state_dir)
            destroys.append(time.perf_counter() - started)
            if not report.settled:
                raise RuntimeError(f"the kernel did not let go of {report.lingering}")
    return {"deploy": statistics.median(deploys), "destroy": statistics.median(destroys)}


# -- the command line, as whole processes --------------------------------------------------------


def timed_manage(layout: Layout, *arguments: str) -> float:
    started = time.perf_counter()
    layout.manage(*arguments)
    return time.perf_counter() - started


def cli_times(layout: Layout, design_id: int, runs: int) -> dict[str, float]:
    design = str(design_id)
    startup = statistics.median(timed_manage(layout, "netlab", "status", design) for _ in range(3))
    deploys, destroys = [], []
    for _ in range(runs):
        deploys.append(timed_manage(layout, "netlab", "deploy", design))
        destroys.append(timed_manage(layout, "netlab", "destroy", design))
    return {
        "startup": startup,
        "deploy": statistics.median(deploys) - startup,
        "destroy": statistics.median(destroys) - startup,
    }


# -- a websocket client --------------------------------------------------------------------------


class Watcher:
    """Reads every message as it arrives: when, its size, and it."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.messages: list[tuple[float, int, dict[str, Any]]] = []
        self.arrived = asyncio.Event()
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for text in self.client.connection:
            self.messages.append((time.perf_counter(), len(text), json.loads(text)))
            self.arrived.set()

    async def wait_for(
        self, wanted: Callable[[dict[str, Any]], bool], start: int
    ) -> tuple[float, dict[str, Any]]:
        """The first message from index ``start`` on that ``wanted`` accepts, and when it
        arrived."""
        deadline = time.perf_counter() + 600
        checked = start
        while time.perf_counter() < deadline:
            for at, _, message in self.messages[checked:]:
                if wanted(message):
                    return at, message
            checked = len(self.messages)
            self.arrived.clear()
            try:
                async with asyncio.timeout(5):
                    await self.arrived.wait()
            except TimeoutError:
                continue
        raise TimeoutError("the awaited message never came")

    def traffic(self, start: int, end: int | None = None) -> tuple[int, int]:
        chosen = self.messages[start:end]
        return len(chosen), sum(size for _, size, _ in chosen)


def is_state(*states: str) -> Callable[[dict[str, Any]], bool]:
    return lambda message: message["type"] == "deployment" and message["state"] in states


def process_usage(pid: int) -> tuple[float, float]:
    """CPU seconds so far and resident MiB of process ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KIB / 1024
    return cpu, rss


async def websocket_times(
    layout: Layout,
    token: str,
    design_id: int,
    runs: int,
    idle: float,
    settle: float,
    server_pid: int,
) -> dict[str, float]:
    deploys, destroys = [], []
    result: dict[str, float] = {}
    async with Client(layout.websocket_url(design_id), token) as client:
        watcher = Watcher(client)
        try:
            await watcher.wait_for(lambda message: message["type"] == "deployment", 0)
            # The last run's lab is destroyed as soon as it runs, while its monitors start.
            for run in range(runs + 1):
                start = len(watcher.messages)
                sent = time.perf_counter()
                await client.send({"action": "deploy"})
                running, outcome = await watcher.wait_for(is_state("running", "failed"), start)
                if outcome["state"] == "failed":
                    raise RuntimeError(f"the deployment failed: {outcome}")
                if run < runs:
                    deploys.append(running - sent)
                if run == 0:
                    result["deploy_messages"], result["deploy_kib"] = watcher.traffic(start)
                    result["deploy_kib"] /= 1024
                    # As netlab's page does: it shows one node's tables, the first one.
                    first = next(iter(outcome["namespaces"]))
                    await client.send({"action": "show", "node": first})
                    # The first tables after a deploy settle, then the page sits idle.
                    await asyncio.sleep(settle)
                    idle_start = len(watcher.messages)
                    cpu_before, rss_before = process_usage(server_pid)
                    await asyncio.sleep(idle)
                    cpu_after, rss_after = process_usage(server_pid)
                    count, size = watcher.traffic(idle_start)
                    result["idle_messages_per_s"] = count / idle
                    result["idle_kib_per_s"] = size / idle / 1024
                    result["idle_cpu_percent"] = (cpu_after - cpu_before) / idle * 100
                    result["server_rss_mib"] = rss_after
                    result["idle_rss_growth_mib"] = rss_after - rss_before
                elif run < runs:  # a lab its page has shown for a while, as a user's
                    await asyncio.sleep(settle)
                start = len(watcher.messages)
                sent = time.perf_counter()
                await client.send({"action": "destroy"})
                stopped, _ = await watcher.wait_for(is_state("stopped", "failed"), start)
                if run < runs:
                    destroys.append(stopped - sent)
                else:
                    result["destroy_at_once"] = stopped - sent
        finally:
            watcher.task.cancel()
    result["deploy"] = statistics.median(deploys)
    result["destroy"] = statistics.median(destroys)
    return result


# -- the run -------------------------------------------------------------------------------------


def run(arguments: argparse.Namespace) -> list[dict[str, Any]]:
    sizes = [int(size) for size in arguments.sizes.split(",")]
    labs = arguments.labs.split(",")
    embedded = arguments.layout == "embedded"
    rows: list[dict[str, Any]] = []
    with Layout(unique_prefix("nle"), embedded=embedded, unprivileged_web=False) as layout:
        layout.start()
        token = layout.create_admin_token()
        files = layout.root / "designs"
        files.mkdir()
        ids: dict[tuple[str, int], int] = {}
        for lab in labs:
            for size in sizes:
                data = lab_data(lab, size)
                path = files / f"{lab}-{size}.json"
                path.write_text(json.dumps(data))
                ids[lab, size] = layout.import_design(path)
                row: dict[str, Any] = {"lab": lab, "size": size}
                row["engine"] = engine_times(load(data), arguments.runs, layout.prefix)
                row["cli"] = cli_times(layout, ids[lab, size], arguments.runs)
                rows.append(row)
                print(f"{lab}-{size}: engine and CLI measured", file=sys.stderr)
        if embedded:
            layout.start_serve()
            server = layout.processes["serve"].pid
        else:
            layout.start_daphne()
            layout.start_worker()
            server = layout.processes["worker"].pid
        for row in rows:
            design_id = ids[row["lab"], row["size"]]
            row["websocket"] = asyncio.run(
                websocket_times(
                    layout,
                    token,
                    design_id,
                    arguments.runs,
                    arguments.idle,
                    arguments.settle,
                    server,
                )
            )
            print(f"{row['lab']}-{row['size']}: websocket measured", file=sys.stderr)
    return rows


def report(rows: list[dict[str, Any]], arguments: argparse.Namespace) -> str:
    lines = [
        "# netlab end to end",
        "",
        f"{platform.node()}: kernel {platform.release()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs; {arguments.layout} layout; medians of {arguments.runs} runs. "
        "Engine: in-process, around the call. CLI: whole process minus the start-up "
        "(`netlab status`, shown). Websocket: from the client's side of the socket, `deploy` "
        "sent to `running` received, `destroy` sent to `stopped` received, "
        f"{arguments.settle:.0f} s after `running` (and, in the last column, at once: while "
        "the lab's monitors start). Ratios are to the engine of the same run.",
        "",
        "| lab | N | engine deploy | CLI deploy | ws deploy | CLI/engine | ws/engine "
        "| engine destroy | CLI destroy | ws destroy | CLI/engine | ws/engine | CLI start-up "
        "| ws destroy at once |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: | ---: |",
    ]
    for row in rows:
        engine, cli, ws = row["engine"], row["cli"], row["websocket"]
        cells = [row["lab"], str(row["size"])]
        for action in ("deploy", "destroy"):
            cells += [
                f"{engine[action]:.3f} s",
                f"{cli[action]:.3f} s",
                f"{ws[action]:.3f} s",
                f"{cli[action] / engine[action]:.2f}x",
                f"{ws[action] / engine[action]:.2f}x",
            ]
        cells.append(f"{cli['startup']:.3f} s")
        cells.append(f"{ws['destroy_at_once']:.3f} s")
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        f"What the page receives (websocket), and the server (`netlab serve`, or the worker in "
        f"the redis layout) while one page sits on the running lab for {arguments.idle:.0f} s "
        f"(from {arguments.settle:.0f} s after `running`), showing one node:",
        "",
        "| lab | N | deploy: messages | deploy: KiB | idle: messages/s | idle: KiB/s "
        "| idle: server CPU | server RSS | RSS growth while idle |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        ws = row["websocket"]
        lines.append(
            f"| {row['lab']} | {row['size']} | {ws['deploy_messages']:.0f} | "
            f"{ws['deploy_kib']:.0f} | {ws['idle_messages_per_s']:.1f} | "
            f"{ws['idle_kib_per_s']:.1f} | {ws['idle_cpu_percent']:.1f}% | "
            f"{ws['server_rss_mib']:.0f} MiB | {ws['idle_rss_growth_mib']:+.1f} MiB |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10,200,500,1000")
    parser.add_argument("--labs", default="star,chain")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--idle", type=float, default=10.0, help="seconds idle on the lab")
    parser.add_argument(
        "--settle", type=float, default=5.0, help="seconds after running before idle is timed"
    )
    parser.add_argument("--layout", choices=["embedded", "redis"], default="embedded")
    parser.add_argument("--output", default="artifacts/bench-e2e.md")
    arguments = parser.parse_args()
    if os.geteuid() != 0:
        print("the benchmark creates namespaces: run it as root", file=sys.stderr)
        return 2
    write_report(report(run(arguments), arguments), arguments.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
