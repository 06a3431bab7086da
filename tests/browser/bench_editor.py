"""Benchmark of the design editor in headless Chromium (not a test; run it by hand):

    .venv/bin/python tests/browser/bench_editor.py [--nodes 500] [--links 600] [--unplaced]
    .venv/bin/python tests/browser/bench_editor.py --designs   # campus, star, chain

Creates a design of NODES nodes and LINKS links on a throw-away server and measures:
the time from navigation until the editor is interactive (target < 1.5 s), the time the
Layout button takes (target < 300 ms for 500 nodes), the frame rate while a node is
dragged (target > 30 fps), a save end to end, from Ctrl+S to the server's answer shown
(target < 300 ms), and the page's long tasks (> 50 ms) while opening and dragging.
With --unplaced the design has no positions: opening it lays it out. --designs measures
the layout of the designs of issue 18 (the 62-node campus, star and chain of 500 and
1000) in the page: time, aspect and overlaps.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import CHROMIUM, CHROMIUM_ARGS
from designs import campus, chain, star
from editor_page import wait_until
from live_server import PASSWORD, USERNAME, running_server
from playwright.sync_api import sync_playwright


def wait(page: Any, expression: str) -> None:
    """Wait for ``expression`` in the page, as long as Playwright's own default (30 s)."""
    wait_until(page, expression, timeout=30_000)


BRIDGES = 20


def big_design(node_count: int, link_count: int) -> dict[str, Any]:
    """Host, BRIDGES bridges and namespaces: each namespace on a bridge, then extra links
    between namespaces, every address unique and valid."""
    nodes: list[dict[str, Any]] = [{"id": "host", "kind": "host", "position": {"x": 0, "y": 0}}]
    for bridge in range(BRIDGES):
        nodes.append(
            {
                "id": f"br{bridge}",
                "kind": "bridge",
                "addresses": [f"10.{bridge}.0.1/16"],
                "position": {"x": bridge * 300, "y": 200},
            }
        )
    namespaces = [f"ns{number}" for number in range(node_count - len(nodes))]
    links: list[dict[str, Any]] = []
    for number, name in enumerate(namespaces):
        bridge = number % BRIDGES
        nodes.append(
            {
                "id": name,
                "kind": "namespace",
                "position": {"x": (number % 40) * 150, "y": 400 + (number // 40) * 150},
            }
        )
        if len(links) < link_count:
            links.append(
                {
                    "endpoints": [
                        {
                            "node": name,
                            "interface": "eth0",
                            "addresses": [f"10.{bridge}.{1 + number // 250}.{1 + number % 250}/16"],
                        },
                        {"node": f"br{bridge}", "interface": f"p{number}"},
                    ]
                }
            )
    extra = 0
    while len(links) < link_count:
        first, second = namespaces[extra], namespaces[(extra + 7) % len(namespaces)]
        links.append(
            {
                "endpoints": [
                    {
                        "node": first,
                        "interface": f"x{extra}a",
                        "addresses": [f"172.16.{extra}.1/30"],
                    },
                    {
                        "node": second,
                        "interface": f"x{extra}b",
                        "addresses": [f"172.16.{extra}.2/30"],
                    },
                ]
            }
        )
        extra += 1
    return {
        "format": "netlab/v1",
        "name": "bench",
        "title": "Benchmark",
        "nodes": nodes,
        "links": links,
    }


# Records the page's long tasks from its first moment (an init script: not subject to the
# page's Content-Security-Policy).
LONG_TASKS = """
  window.benchLongTasks = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) window.benchLongTasks.push(entry.duration);
  }).observe({ type: "longtask", buffered: true });
"""


def long_tasks(page: Any) -> list[float]:
    """The long tasks since the last call, in ms."""
    tasks: list[float] = page.evaluate("window.benchLongTasks.splice(0)")
    return tasks


def open_page(base: str, playwright: Any) -> tuple[Any, Any]:
    """A logged-in page and its browser."""
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    context = browser.new_context(base_url=base, viewport={"width": 1400, "height": 860})
    context.add_init_script(LONG_TASKS)
    page = context.new_page()
    page.goto("/login/")
    page.fill("input[name=username]", USERNAME)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page, browser


def create(page: Any, document: dict[str, Any]) -> int:
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        "/api/designs",
        data=json.dumps(document),
        headers={"Content-Type": "application/json", "X-CSRFToken": token},
    )
    assert response.status == 201, response.text()
    return int(response.json()["id"])


def press_layout(page: Any, times: int = 3) -> list[float]:
    """Press Layout ``times`` times; answers how long each layout took in the page, in ms."""
    layouts = []
    for _ in range(times):
        page.locator("#editor").evaluate("(element) => { delete element.dataset.lastLayoutMs; }")
        page.get_by_test_id("layout").click()
        wait(page, "document.querySelector('#editor').dataset.lastLayoutMs !== undefined")
        layouts.append(float(page.locator("#editor").get_attribute("data-last-layout-ms") or 0))
    return layouts


def measure_designs(base: str) -> list[dict[str, Any]]:
    """Open each design of issue 18 without positions, press Layout; time and picture."""
    rows = []
    with sync_playwright() as playwright:
        page, browser = open_page(base, playwright)
        for document in (campus(), star(500), chain(500), star(1000), chain(1000)):
            name = f"{document['name']}-{len(document['nodes'])}"
            design_id = create(page, {**document, "name": name})
            page.goto(f"/designs/{design_id}/")
            page.wait_for_selector("#editor[data-ready=true]")
            ready = float(page.locator("#editor").get_attribute("data-ready-ms") or 0)
            layouts = press_layout(page)
            picture = page.evaluate(
                """() => {
                  const nodes = window.netlabEditor.doc.nodes.map((node) => node.position);
                  const xs = nodes.map((p) => p.x), ys = nodes.map((p) => p.y);
                  const width = Math.max(...xs) - Math.min(...xs) + 70;
                  const height = Math.max(...ys) - Math.min(...ys) + 40;
                  const sorted = [...nodes].sort((a, b) => a.x - b.x);
                  let overlaps = 0;
                  for (let i = 0; i < sorted.length; i += 1)
                    for (let j = i + 1; j < sorted.length && sorted[j].x - sorted[i].x < 70; j += 1)
                      if (Math.abs(sorted[j].y - sorted[i].y) < 40) overlaps += 1;
                  return { width, height, overlaps };
                }"""
            )
            rows.append(
                {
                    "design": name,
                    "open_ms": ready,
                    "layout_ms": min(layouts),
                    "layout_ms_worst": max(layouts),
                    "long_tasks": long_tasks(page),
                    **picture,
                }
            )
        browser.close()
    return rows


def measure(base: str, node_count: int, link_count: int, unplaced: bool = False) -> dict[str, Any]:
    with sync_playwright() as playwright:
        page, browser = open_page(base, playwright)
        document = big_design(node_count, link_count)
        if unplaced:
            for node in document["nodes"]:
                node.pop("position", None)
        design_id = create(page, document)

        opens = []
        open_tasks: list[float] = []
        for _ in range(3):
            page.goto(f"/designs/{design_id}/")
            page.wait_for_selector("#editor[data-ready=true]")
            opens.append(float(page.locator("#editor").get_attribute("data-ready-ms") or 0))
            open_tasks = long_tasks(page)
        wait(page, "window.netlabEditor.validated === window.netlabEditor.doc")
        layouts = press_layout(page)
        long_tasks(page)

        # Drag a node for a second and a half and count the frames the page draws meanwhile.
        point = page.evaluate(
            """() => {
              const canvas = window.netlabEditor.canvas;
              const node = canvas.cy.getElementById('n:ns45');
              canvas.cy.zoom(1); canvas.cy.center(node);
              const box = canvas.container.getBoundingClientRect();
              const p = node.renderedPosition();
              return [box.left + p.x, box.top + p.y];
            }"""
        )
        page.wait_for_timeout(200)
        page.evaluate(
            """() => {
              window.benchFrames = [];
              const tick = (time) => {
                window.benchFrames.push(time);
                if (!window.benchStop) requestAnimationFrame(tick);
              };
              window.benchStop = false;
              requestAnimationFrame(tick);
            }"""
        )
        page.mouse.move(*point)
        page.mouse.down()
        for step in range(90):
            page.mouse.move(point[0] + step * 3, point[1] + (step % 30) * 2)
            page.wait_for_timeout(16)
        page.mouse.up()
        frames = page.evaluate("window.benchStop = true; window.benchFrames")
        drag_tasks = long_tasks(page)
        seconds = (frames[-1] - frames[0]) / 1000
        gaps = sorted(b - a for a, b in itertools.pairwise(frames))
        fps = (len(frames) - 1) / seconds
        worst = gaps[int(len(gaps) * 0.95)] if gaps else 0

        wait(page, "window.netlabEditor.history.isDirty()")
        saves = []
        for attempt in range(3):
            if attempt:
                page.keyboard.press("Control+z" if attempt % 2 else "Control+y")
            wait(page, "window.netlabEditor.validated === window.netlabEditor.doc")
            page.keyboard.press("Control+s")
            wait(
                page,
                "!window.netlabEditor.history.isDirty() || window.netlabEditor.saving === false",
            )
            wait(
                page,
                "document.querySelector('[data-testid=status]').textContent.startsWith('Saved')",
            )
            saves.append(float(page.locator("#editor").get_attribute("data-last-save-ms") or 0))
        browser.close()
    return {
        "open_ms": min(opens),
        "open_ms_worst": max(opens),
        "open_long_tasks": open_tasks,
        "layout_ms": min(layouts),
        "layout_ms_worst": max(layouts),
        "drag_long_tasks": drag_tasks,
        "drag_fps": fps,
        "drag_frame_p95_ms": worst,
        "save_ms": min(saves),
        "save_ms_worst": max(saves),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--links", type=int, default=600)
    parser.add_argument("--unplaced", action="store_true", help="a design without positions")
    parser.add_argument("--designs", action="store_true", help="campus, star and chain")
    options = parser.parse_args()
    if options.designs:
        with tempfile.TemporaryDirectory() as data, running_server(Path(data)) as base:
            rows = measure_designs(base)
        for row in rows:
            tasks = row["long_tasks"]
            print(
                f"{row['design']}: open {row['open_ms']:.0f} ms, layout {row['layout_ms']:.0f} ms"
                f" (worst of 3 {row['layout_ms_worst']:.0f}), {row['width']:.0f} x"
                f" {row['height']:.0f} px (aspect {row['width'] / row['height']:.2f}),"
                f" {row['overlaps']} overlaps, long tasks {len(tasks)}"
                f" (longest {max(tasks, default=0):.0f} ms)"
            )
        return
    with tempfile.TemporaryDirectory() as data, running_server(Path(data)) as base:
        figures = measure(base, options.nodes, options.links, options.unplaced)
    f = figures
    placed = "without positions" if options.unplaced else "with positions"
    print(f"design: {options.nodes} nodes, {options.links} links, {placed}")
    print(f"open until interactive: {f['open_ms']:.0f} ms", end=" ")
    print(f"(worst of 3: {f['open_ms_worst']:.0f} ms; target < 1500)")
    for name in ("open", "drag"):
        tasks = f[f"{name}_long_tasks"]
        print(
            f"long tasks while {'opening' if name == 'open' else 'dragging'}: {len(tasks)}", end=" "
        )
        print(f"(longest {max(tasks, default=0):.0f} ms, total {sum(tasks):.0f} ms)")
    print(f"Layout button: {f['layout_ms']:.0f} ms", end=" ")
    print(f"(worst of 3: {f['layout_ms_worst']:.0f} ms; target < 300 for 500 nodes)")
    print(f"dragging a node: {f['drag_fps']:.1f} fps", end=" ")
    print(f"(95th percentile frame {f['drag_frame_p95_ms']:.1f} ms; target > 30 fps)")
    print(f"save end to end: {f['save_ms']:.0f} ms", end=" ")
    print(f"(worst of 3: {f['save_ms_worst']:.0f} ms; target < 300)")


if __name__ == "__main__":
    main()
