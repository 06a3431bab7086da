"""Benchmark of a ping-all from the design page, timed where the user waits: in headless
Chromium (not a test; run it by hand, as root):

    .venv/bin/python tests/browser/bench_pingall_page.py [--routers 4] [--hosts 13] [--runs 1]

The campus of ``netlab.campus`` (4 routers, 4 access bridges, 52 hosts: 62 nodes) is saved
through the API on a throw-away server (``netlab serve``, a namespace prefix and state
directory of its own), its page opened and deployed from the page; then Ping all is clicked
and timed until the page's summary says how many cells were reachable, with the page's long
tasks (over 50 ms, a PerformanceObserver) meanwhile. ``--unforwarded``: routers that forward
nothing, so that most cells time out; ``--matrix``: the full-width matrix is open meanwhile.
Destroyed from the page at the end; every namespace of the prefix is removed whatever
happened.
"""

from __future__ import annotations

import argparse
import os
import secrets
import string
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench_live_page import WATCH_LONG_TASKS, click_until_state
from conftest import CHROMIUM, CHROMIUM_ARGS, log_in, remove_labs
from editor_page import create_design
from live_server import USERNAME, running_server
from playwright.sync_api import Page, sync_playwright

from netlab.campus import campus_data

DONE = """() => / of \\d+ reachable/.test(
  document.querySelector('[data-testid="pingall-summary"]').textContent)"""


def measure(page: Page, design_id: int, runs: int, matrix: bool) -> dict[str, Any]:
    page.goto(f"/designs/{design_id}/")
    page.wait_for_selector("#editor[data-ready=true]")
    page.wait_for_selector('[data-testid="connection"][data-status="open"]')
    deploy = click_until_state(page, "deploy", "running")
    page.wait_for_timeout(2000)  # the tables of a fresh lab arrive
    times, tasks, summary = [], [], ""
    for _ in range(runs):
        page.evaluate(WATCH_LONG_TASKS)
        started = time.perf_counter()
        page.get_by_test_id("pingall-run").click()
        if matrix:
            page.get_by_test_id("pingall-open-matrix").click()
        page.wait_for_function(DONE, timeout=600_000, polling="raf")
        times.append(time.perf_counter() - started)
        tasks.extend(page.evaluate("window.benchLongTasks"))
        summary = page.get_by_test_id("pingall-summary").text_content() or ""
        page.wait_for_timeout(500)
        if matrix:
            page.get_by_test_id("pingall-close").click()
    click_until_state(page, "destroy", "stopped")
    return {
        "deploy": deploy,
        "pingall": min(times),
        "summary": summary,
        "long_tasks": len(tasks),
        "longest_task_ms": max(tasks, default=0.0),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--routers", type=int, default=4)
    parser.add_argument("--hosts", type=int, default=13, help="hosts per router")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument(
        "--matrix", action="store_true", help="watch the ping-all in the full-width matrix"
    )
    parser.add_argument(
        "--unforwarded",
        action="store_true",
        help="routers that forward nothing: most pings go unanswered (time out)",
    )
    options = parser.parse_args()
    if os.geteuid() != 0:
        print("deploying creates namespaces: run it as root", file=sys.stderr)
        return 2
    prefix = "nlq" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(5)) + "-"
    data = campus_data(options.routers, options.hosts, forwarding=not options.unforwarded)
    nodes = len(data["nodes"])
    with tempfile.TemporaryDirectory() as directory, tempfile.TemporaryDirectory() as state:
        labs = {
            "NETLAB_NETNS_PREFIX": prefix,
            "NETLAB_STATE_DIR": state,
            "NETLAB_MAX_PINGALL_CELLS": "100000",
        }
        try:
            with running_server(Path(directory), labs) as base, sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
                )
                page = log_in(browser, base, USERNAME).new_page()
                page.set_default_timeout(30_000)
                design_id = create_design(page, data)
                result = measure(page, design_id, options.runs, options.matrix)
                browser.close()
        finally:
            remove_labs(prefix, Path(state))
    print("| campus | deploy (page) | ping-all (page) | summary | long tasks | longest |")
    print("| ---: | ---: | ---: | --- | ---: | ---: |")
    print(
        f"| {nodes} nodes | {result['deploy']:.2f} s | {result['pingall']:.2f} s | "
        f"{result['summary']} | {result['long_tasks']} | {result['longest_task_ms']:.0f} ms |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
