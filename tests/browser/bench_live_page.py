"""Benchmark of a deploy and a destroy from the design page, timed where the user waits: in
headless Chromium (not a test; run it by hand, as root):

    .venv/bin/python tests/browser/bench_live_page.py [--sizes 62,200,1000] [--lab star]

For each size, a design (the engine benchmark's star, or its chain) is saved through the API
on a throw-away server (``netlab serve``, a namespace prefix and state directory of its
own), its page opened, and then, from the page's side: Deploy clicked until the state label
says ``running``; the page's long tasks (over 50 ms, a PerformanceObserver) meanwhile and
in the 2 s after, as the first tables of the lab arrive; then the page left idle on the
running lab for ``--idle`` seconds (its monitors' tables keep coming), with its long tasks
meanwhile; then Destroy until ``stopped``. Every namespace of the prefix is removed at the
end, whatever happened. Besides the deploy's time until the page's label says ``running``,
the time until the browser received the websocket frame saying so (``running received``):
what lies between is the page's.

A timeline trace runs meanwhile, for the page's main thread's CPU time (a long task's wall
time, on a loaded machine, counts the time other processes had the CPU): its total, and its
tasks of over 50 ms of CPU, in a second table.

``--profile DIR``: Chromium's sampling profiler (CDP ``Profiler``) and a timeline trace run
meanwhile (they slow the page down: figures of such a run are not comparable); each phase's
profile is written to DIR (``*.cpuprofile``, open it in Chromium's DevTools) and summed up:
where the long tasks' time went (script, style, layout, paint, GC) and the functions taking
the most time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import string
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from conftest import CHROMIUM, CHROMIUM_ARGS, log_in, remove_labs
from editor_page import create_design
from live_server import USERNAME, running_server
from playwright.sync_api import CDPSession, Page, WebSocket, sync_playwright

from netlab.bench import chain, star_data
from netlab.core import codec

WATCH_LONG_TASKS = """() => {
  window.benchLongTasks = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) window.benchLongTasks.push(entry.duration);
  }).observe({ type: "longtask" });
}"""

# The long tasks seen since the last call, and the observer's list emptied.
TAKE_LONG_TASKS = "() => window.benchLongTasks.splice(0)"

# Timeline events that are the browser's own work (not the page's script), by kind.
RENDERING = {
    "UpdateLayoutTree": "style",
    "Layout": "layout",
    "PrePaint": "paint",
    "Paint": "paint",
    "Layerize": "paint",
    "Commit": "paint",
    "MinorGC": "gc",
    "MajorGC": "gc",
    "ParseHTML": "parse",
}


def lab_data(lab: str, size: int) -> dict[str, Any]:
    data = star_data(size) if lab == "star" else json.loads(codec.dump(chain(size), "json"))
    return {**data, "name": f"{lab}-{size}"}


# Times, in the page, from now until the state label says each state. (Playwright's own
# wait polls a busy page every 0.5 s: it heard of a label changed at 4.94 s at 5.53 s.)
WATCH_STATE = """() => {
  const label = document.querySelector('[data-testid="deployment-state"]');
  const started = performance.now();
  window.benchStates = {};
  window.benchStateWatch?.disconnect();
  window.benchStateWatch = new MutationObserver(() => {
    const state = label.dataset.state;
    if (!(state in window.benchStates)) window.benchStates[state] = performance.now() - started;
  });
  window.benchStateWatch.observe(label, { attributes: true, attributeFilter: ["data-state"] });
}"""


def click_until_state(page: Page, testid: str, wanted: str) -> float:
    """Seconds from a click on ``testid`` until the page's state label says ``wanted``,
    timed in the page."""
    page.evaluate(WATCH_STATE)
    page.get_by_test_id(testid).click()
    page.wait_for_selector(
        f'[data-testid="deployment-state"][data-state="{wanted}"]', timeout=120_000
    )
    return float(page.evaluate(f"window.benchStates[{json.dumps(wanted)}]")) / 1000


def tasks(found: dict[str, float]) -> str:
    return f"{found['count']:.0f}, {found['longest']:.0f} ms, {found['total']:.0f} ms"


def long_tasks(page: Page) -> dict[str, float]:
    tasks = page.evaluate(TAKE_LONG_TASKS)
    return {"count": len(tasks), "longest": max(tasks, default=0.0), "total": sum(tasks)}


class Recorder:
    """A timeline trace of the page around each phase, for the main thread's CPU time (on a
    loaded machine a task's wall time counts the time others had the CPU); with a
    directory, the CDP sampling profiler too, both written there and summed up on stdout."""

    def __init__(self, page: Page, directory: Path | None, name: str) -> None:
        self.page = page
        self.directory = directory
        self.name = name
        self.cdp: CDPSession | None = None
        if directory:
            self.cdp = page.context.new_cdp_session(page)
            self.cdp.send("Profiler.enable")
            self.cdp.send("Profiler.setSamplingInterval", {"interval": 200})

    def start(self) -> None:
        categories = ["devtools.timeline", "disabled-by-default-devtools.timeline"]
        self.page.context.browser.start_tracing(  # type: ignore[union-attr]
            page=self.page, categories=categories + (["v8"] if self.cdp else [])
        )
        if self.cdp:
            self.cdp.send("Profiler.start")

    def stop(self, phase: str) -> dict[str, float]:
        """The phase's main-thread CPU: its total, and its tasks of over 50 ms of CPU."""
        profile = self.cdp.send("Profiler.stop")["profile"] if self.cdp else None
        trace = self.page.context.browser.stop_tracing()  # type: ignore[union-attr]
        events = json.loads(trace)
        if self.directory and profile:
            stem = self.directory / f"{self.name}-{phase}"
            stem.with_suffix(".cpuprofile").write_text(json.dumps(profile))
            stem.with_suffix(".trace.json").write_bytes(trace)
            print(f"\n## {self.name}, {phase}")
            print(timeline_summary(events))
            print(profile_summary(profile))
        cpu = [e.get("tdur", 0) / 1000 for e in main_thread(events) if e["name"] == "RunTask"]
        long = [ms for ms in cpu if ms > 50]
        return {
            "cpu": sum(cpu),
            "count": len(long),
            "longest": max(long, default=0.0),
            "total": sum(long),
        }


def main_thread(trace: Any) -> list[dict[str, Any]]:
    """The complete events of the page's main thread."""
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    main = {
        (e["pid"], e["tid"])
        for e in events
        if e.get("name") == "thread_name" and e.get("args", {}).get("name") == "CrRendererMain"
    }
    return [e for e in events if e.get("ph") == "X" and (e["pid"], e["tid"]) in main]


def timeline_summary(trace: dict[str, Any]) -> str:
    """The long tasks (RunTask over 50 ms on the page's main thread) of a trace: how many,
    what started them, and their time by kind (rendering events nested in them; the rest
    is script)."""
    complete = main_thread(trace)
    tasks = [e for e in complete if e["name"] == "RunTask" and e.get("dur", 0) > 50_000]
    kinds: dict[str, float] = {}
    starters: dict[str, list[float]] = {}
    for task in tasks:
        start, end = task["ts"], task["ts"] + task["dur"]
        inside = [e for e in complete if start <= e["ts"] < end and e is not task]
        rendering = 0.0
        for e in inside:
            kind = RENDERING.get(e["name"])
            if kind:
                kinds[kind] = kinds.get(kind, 0.0) + e.get("dur", 0) / 1000
                rendering += e.get("dur", 0) / 1000
        kinds["script and other"] = (
            kinds.get("script and other", 0.0) + task["dur"] / 1000 - rendering
        )
        first = min(
            (e for e in inside if e["name"] in STARTERS), key=lambda e: e["ts"], default=None
        )
        starter = STARTERS.get(first["name"], "?") if first else "?"
        if first and first["name"] == "FunctionCall":
            data = first.get("args", {}).get("data", {})
            starter = f"call {data.get('functionName') or '?'} ({Path(data.get('url', '')).name})"
        starters.setdefault(starter, []).append(task["dur"] / 1000)
    lines = [f"long tasks: {len(tasks)}, {sum(t['dur'] for t in tasks) / 1000:.0f} ms"]
    lines += [f"  {kind}: {ms:.0f} ms" for kind, ms in sorted(kinds.items(), key=lambda x: -x[1])]
    lines.append("started by:")
    for starter, durations in sorted(starters.items(), key=lambda x: -sum(x[1])):
        lines.append(
            f"  {starter}: {len(durations)} tasks, {sum(durations):.0f} ms, "
            f"longest {max(durations):.0f} ms"
        )
    return "\n".join(lines)


STARTERS = {
    "FireAnimationFrame": "animation frame",
    "TimerFire": "timer",
    "EventDispatch": "event",
    "FunctionCall": "call",
    "EvaluateScript": "script",
    "V8.Execute": "script",
}


def profile_summary(profile: dict[str, Any], top: int = 20) -> str:
    """The functions taking the most time (self, and with what they call) in a CDP profile."""
    nodes = {node["id"]: node for node in profile["nodes"]}
    parent = {child: node["id"] for node in profile["nodes"] for child in node.get("children", [])}
    deltas = profile.get("timeDeltas", [])
    self_ms: dict[int, float] = {}
    for sample, delta in zip(profile.get("samples", [])[1:], deltas[1:], strict=False):
        self_ms[sample] = self_ms.get(sample, 0.0) + delta / 1000

    def name(node: dict[str, Any]) -> str:
        frame = node["callFrame"]
        where = Path(frame.get("url", "")).name
        return f"{frame['functionName'] or '(anonymous)'} {where}:{frame.get('lineNumber', 0) + 1}"

    by_self: dict[str, float] = {}
    by_total: dict[str, float] = {}
    for node_id, ms in self_ms.items():
        by_self[name(nodes[node_id])] = by_self.get(name(nodes[node_id]), 0.0) + ms
        seen = set()
        current: int | None = node_id
        while current is not None:
            label = name(nodes[current])
            if label not in seen:
                seen.add(label)
                by_total[label] = by_total.get(label, 0.0) + ms
            current = parent.get(current)
    busy = sum(ms for key, ms in by_self.items() if not key.startswith("(idle)"))
    lines = [f"profile: {busy:.0f} ms busy; self time:"]
    for label, ms in sorted(by_self.items(), key=lambda x: -x[1])[:top]:
        if not label.startswith("(idle)"):
            lines.append(f"  {ms:7.0f} ms  {label}")
    lines.append("with callees (page's functions):")
    ours = [(k, v) for k, v in by_total.items() if "/netlab/" in k or ".js:" in k]
    for label, ms in sorted(ours, key=lambda x: -x[1])[:top]:
        lines.append(f"  {ms:7.0f} ms  {label}")
    return "\n".join(lines)


# The `deployment` event saying a lab runs, as its websocket frame.
RUNNING = re.compile(
    r'"type": ?"deployment".*"state": ?"running"|"state": ?"running".*"type": ?"deployment"'
)


def measure(page: Page, design_id: int, idle: float, recorder: Recorder) -> dict[str, Any]:
    # When the browser received the frame saying the lab runs (Chromium's network side, as
    # Playwright hears of it, some 30 ms late): the rest of the wait for the label is the
    # page's.
    received: list[float] = []

    def frame(payload: str | bytes) -> None:
        if not received and isinstance(payload, str) and RUNNING.search(payload):
            received.append(time.perf_counter())

    def listen(socket: WebSocket) -> None:
        socket.on("framereceived", frame)

    page.on("websocket", listen)
    page.goto(f"/designs/{design_id}/")
    page.wait_for_selector("#editor[data-ready=true]")
    page.wait_for_selector('[data-testid="connection"][data-status="open"]')
    page.evaluate(WATCH_LONG_TASKS)
    recorder.start()
    clicked = time.perf_counter()
    deploy = click_until_state(page, "deploy", "running")
    socket = received[0] - clicked if received else float("nan")
    page.wait_for_timeout(2000)  # the tables of a fresh lab arrive
    deploying = long_tasks(page)
    deploying_cpu = recorder.stop("deploy")
    recorder.start()
    page.wait_for_timeout(idle * 1000)
    idling = long_tasks(page)
    idling_cpu = recorder.stop("idle")
    destroy = click_until_state(page, "destroy", "stopped")
    page.remove_listener("websocket", listen)
    return {
        "deploy": deploy,
        "socket": socket,
        "destroy": destroy,
        "deploying": deploying,
        "idle": idling,
        "deploying_cpu": deploying_cpu,
        "idle_cpu": idling_cpu,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="62,200,1000")
    parser.add_argument("--lab", choices=["star", "chain"], default="star")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds watched idle")
    parser.add_argument("--profile", type=Path, help="write and sum up profiles in this directory")
    options = parser.parse_args()
    if os.geteuid() != 0:
        print("deploying creates namespaces: run it as root", file=sys.stderr)
        return 2
    prefix = "nlq" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(5)) + "-"
    rows = []
    with tempfile.TemporaryDirectory() as data, tempfile.TemporaryDirectory() as state:
        labs = {"NETLAB_NETNS_PREFIX": prefix, "NETLAB_STATE_DIR": state}
        try:
            with running_server(Path(data), labs) as base, sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
                )
                page = log_in(browser, base, USERNAME).new_page()
                page.set_default_timeout(30_000)
                for size in (int(size) for size in options.sizes.split(",")):
                    design_id = create_design(page, lab_data(options.lab, size))
                    if options.profile:
                        options.profile.mkdir(parents=True, exist_ok=True)
                    recorder = Recorder(page, options.profile, f"{options.lab}-{size}")
                    rows.append((size, measure(page, design_id, options.idle, recorder)))
                browser.close()
        finally:
            remove_labs(prefix, Path(state))
    print(
        f"| {options.lab} | deploy (page) | running received | destroy (page) | long tasks "
        f"deploying (+2 s): count, longest, total | idle {options.idle:.0f} s: count, longest, "
        "total |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for size, m in rows:
        print(
            f"| {size} | {m['deploy']:.2f} s | {m['socket']:.2f} s | {m['destroy']:.2f} s | "
            f"{tasks(m['deploying'])} | {tasks(m['idle'])} |"
        )
    print("\nThe page's main thread, CPU time (what the load of the machine does not inflate):")
    print(
        f"| {options.lab} | deploying (+2 s): CPU, tasks over 50 ms: count, longest, total | "
        f"idle: CPU, tasks over 50 ms |"
    )
    print("| ---: | ---: | ---: |")
    for size, m in rows:
        deploying, idling = m["deploying_cpu"], m["idle_cpu"]
        print(
            f"| {size} | {deploying['cpu']:.0f} ms, {tasks(deploying)} | "
            f"{idling['cpu']:.0f} ms, {tasks(idling)} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
