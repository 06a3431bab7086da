"""Benchmark of the design editor in headless Chromium (not a test; run it by hand):

    .venv/bin/python tests/browser/bench_editor.py [--nodes 500] [--links 600]

Creates a design of NODES nodes and LINKS links on a throw-away server and measures:
the time from navigation until the editor is interactive (target < 1.5 s), the frame
rate while a node is dragged (target > 30 fps), and a save end to end, from Ctrl+S to the
server's answer shown (target < 300 ms).
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


def measure(base: str, node_count: int, link_count: int) -> dict[str, float]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=base, viewport={"width": 1400, "height": 860})
        page = context.new_page()
        page.goto("/login/")
        page.fill("input[name=username]", USERNAME)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")
        token = next(c["value"] for c in context.cookies() if c["name"] == "csrftoken")
        response = page.request.post(
            "/api/designs",
            data=json.dumps(big_design(node_count, link_count)),
            headers={"Content-Type": "application/json", "X-CSRFToken": token},
        )
        assert response.status == 201, response.text()
        design_id = response.json()["id"]

        opens = []
        for _ in range(3):
            page.goto(f"/designs/{design_id}/")
            page.wait_for_selector("#editor[data-ready=true]")
            opens.append(float(page.locator("#editor").get_attribute("data-ready-ms") or 0))
        wait(page, "window.netlabEditor.validated === window.netlabEditor.doc")

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
        "drag_fps": fps,
        "drag_frame_p95_ms": worst,
        "save_ms": min(saves),
        "save_ms_worst": max(saves),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--links", type=int, default=600)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as data, running_server(Path(data)) as base:
        figures = measure(base, options.nodes, options.links)
    f = figures
    print(f"design: {options.nodes} nodes, {options.links} links")
    print(f"open until interactive: {f['open_ms']:.0f} ms", end=" ")
    print(f"(worst of 3: {f['open_ms_worst']:.0f} ms; target < 1500)")
    print(f"dragging a node: {f['drag_fps']:.1f} fps", end=" ")
    print(f"(95th percentile frame {f['drag_frame_p95_ms']:.1f} ms; target > 30 fps)")
    print(f"save end to end: {f['save_ms']:.0f} ms", end=" ")
    print(f"(worst of 3: {f['save_ms_worst']:.0f} ms; target < 300)")


if __name__ == "__main__":
    main()
