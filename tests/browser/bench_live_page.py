"""Benchmark of a deploy and a destroy from the design page, timed where the user waits: in
headless Chromium (not a test; run it by hand, as root):

    .venv/bin/python tests/browser/bench_live_page.py [--sizes 62,200,1000] [--lab star]

For each size, a design (the engine benchmark's star, or its chain) is saved through the API
on a throw-away server (``netlab serve``, a namespace prefix and state directory of its
own), its page opened, and then, from the page's side: Deploy clicked until the state label
says ``running``; the page's long tasks (over 50 ms, a PerformanceObserver) meanwhile; then
Destroy until ``stopped``. Every namespace of the prefix is removed at the end, whatever
happened.
"""

from __future__ import annotations

import argparse
import json
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

from conftest import CHROMIUM, CHROMIUM_ARGS, log_in, remove_labs
from editor_page import create_design
from live_server import USERNAME, running_server
from playwright.sync_api import Page, sync_playwright

from netlab.bench import chain, star_data
from netlab.core import codec

WATCH_LONG_TASKS = """() => {
  window.benchLongTasks = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) window.benchLongTasks.push(entry.duration);
  }).observe({ type: "longtask" });
}"""


def lab_data(lab: str, size: int) -> dict[str, Any]:
    data = star_data(size) if lab == "star" else json.loads(codec.dump(chain(size), "json"))
    return {**data, "name": f"{lab}-{size}"}


def until_state(page: Page, wanted: str) -> float:
    """Seconds until the page's state label says ``wanted`` (checked every animation frame,
    in the page)."""
    started = time.perf_counter()
    page.wait_for_selector(
        f'[data-testid="deployment-state"][data-state="{wanted}"]', timeout=120_000
    )
    return time.perf_counter() - started


def measure(page: Page, design_id: int) -> dict[str, Any]:
    page.goto(f"/designs/{design_id}/")
    page.wait_for_selector("#editor[data-ready=true]")
    page.wait_for_selector('[data-testid="connection"][data-status="open"]')
    page.evaluate(WATCH_LONG_TASKS)
    page.get_by_test_id("deploy").click()
    deploy = until_state(page, "running")
    tasks = page.evaluate("window.benchLongTasks")
    page.wait_for_timeout(2000)  # the tables of a fresh lab arrive
    page.get_by_test_id("destroy").click()
    destroy = until_state(page, "stopped")
    return {
        "deploy": deploy,
        "destroy": destroy,
        "long_tasks": len(tasks),
        "longest_task_ms": max(tasks, default=0.0),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="62,200,1000")
    parser.add_argument("--lab", choices=["star", "chain"], default="star")
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
                    rows.append((size, measure(page, design_id)))
                browser.close()
        finally:
            remove_labs(prefix, Path(state))
    print(f"| {options.lab} | deploy (page) | destroy (page) | long tasks | longest |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for size, m in rows:
        print(
            f"| {size} | {m['deploy']:.2f} s | {m['destroy']:.2f} s | {m['long_tasks']} | "
            f"{m['longest_task_ms']:.0f} ms |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
