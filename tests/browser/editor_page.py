"""Drive the design editor like a user: the palette, the canvas, the link handle, the panel.

Positions on the canvas are read from Cytoscape (through ``window.netlabEditor``) only to
know where to point the mouse; every change is made with the mouse and the keyboard.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from playwright.sync_api import Page, expect

READY = "#editor[data-ready=true]"
WAIT_TIMEOUT_MS = 10_000


def wait_until(
    page: Page, expression: str, arg: Any = None, timeout: float = WAIT_TIMEOUT_MS
) -> None:
    """Wait until ``expression`` (a function of ``arg``, or an expression) is truthy in the page.

    Playwright's ``wait_for_function`` polls with ``eval`` inside the page, which the
    pages' Content-Security-Policy refuses (no 'unsafe-eval'); ``evaluate`` is not
    subject to it, so this polls with that.
    """
    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(expression, arg):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} ms: {expression}")
        time.sleep(0.05)


class EditorPage:
    def __init__(self, page: Page) -> None:
        self.page = page

    def open(self, design_id: int) -> EditorPage:
        self.page.goto(f"/designs/{design_id}/")
        self.page.wait_for_selector(READY)
        self.settle()
        return self

    def new_design(self) -> int:
        """Press "New design" on the dashboard; answers the new design's id."""
        self.page.goto("/")
        self.page.locator("form[action='/designs/new'] button").click()
        self.page.wait_for_selector(READY)
        self.settle()
        return int(self.page.locator("#editor").get_attribute("data-design-id") or 0)

    def by_testid(self, testid: str) -> Any:
        return self.page.get_by_test_id(testid)

    # What the editor holds

    def document(self) -> dict[str, Any]:
        return json.loads(self.page.evaluate("JSON.stringify(window.netlabEditor.doc)"))

    def settle(self) -> None:
        """Wait until the server has checked the current document."""
        wait_until(
            self.page,
            "window.netlabEditor && window.netlabEditor.validated === window.netlabEditor.doc",
        )

    def screen_position(self, key: str) -> tuple[float, float]:
        """Where a canvas element (``n:<id>``, or ``l:<index>`` for a link's middle) is drawn."""
        point = self.page.evaluate(
            """(key) => {
              const canvas = window.netlabEditor.canvas;
              const element = canvas.cy.getElementById(key);
              const box = canvas.container.getBoundingClientRect();
              const p = element.isNode() ? element.renderedPosition() : element.renderedMidpoint();
              return [box.left + p.x, box.top + p.y];
            }""",
            key,
        )
        return float(point[0]), float(point[1])

    def canvas_point(self, fx: float, fy: float) -> tuple[float, float]:
        """A point of the canvas, as fractions of its width and height."""
        box = self.by_testid("canvas").bounding_box()
        assert box is not None
        return box["x"] + box["width"] * fx, box["y"] + box["height"] * fy

    # Gestures

    def drag(self, start: tuple[float, float], end: tuple[float, float], steps: int = 12) -> None:
        mouse = self.page.mouse
        mouse.move(*start)
        mouse.down()
        mouse.move(*end, steps=steps)
        mouse.up()

    def drop(self, kind: str, at: tuple[float, float]) -> str:
        """Drag a palette item onto the canvas; answers the new node's id (it is selected)."""
        item = self.by_testid(f"palette-{kind}").bounding_box()
        assert item is not None
        before = {node["id"] for node in self.document()["nodes"]}
        self.drag((item["x"] + item["width"] / 2, item["y"] + item["height"] / 2), at)
        added = [node["id"] for node in self.document()["nodes"] if node["id"] not in before]
        assert len(added) == 1, added
        return added[0]

    def draw_link(self, source: str, target: str) -> None:
        """Hover ``source``, press its handle and release it over ``target``."""
        x, y = self.screen_position(f"n:{source}")
        self.page.mouse.move(x - 30, y + 40)
        self.page.mouse.move(x, y, steps=4)
        handle = self.by_testid("link-handle")
        expect(handle).to_be_visible()
        box = handle.bounding_box()
        assert box is not None
        links = len(self.document().get("links", []))
        self.drag(
            (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2),
            self.screen_position(f"n:{target}"),
            steps=20,
        )
        wait_until(
            self.page, "(n) => (window.netlabEditor.doc.links || []).length === n", links + 1
        )

    def click(self, key: str, **options: Any) -> None:
        x, y = self.screen_position(key)
        self.page.mouse.click(x, y, **options)

    def field(self, path: str) -> Any:
        return self.by_testid("properties").locator(f'[data-path="{path}"]')

    def rename(self, node_id: str, new_id: str) -> None:
        self.click(f"n:{node_id}")
        field = self.by_testid("node-id")
        # The panel follows the selection a moment after the click: wait for it.
        expect(field).to_have_value(node_id)
        field.fill(new_id)
        field.press("Enter")
        wait_until(
            self.page,
            "(id) => window.netlabEditor.doc.nodes.some((node) => node.id === id)",
            new_id,
        )

    def save(self) -> None:
        self.page.keyboard.press("Control+s")
        expect(self.by_testid("status")).to_contain_text("Saved revision")
        expect(self.by_testid("dirty")).to_be_hidden()


def create_design(page: Page, document: dict[str, Any]) -> int:
    """Create a design through the API, with the page's session and CSRF token."""
    document = {**document, "name": f"{document['name']}-{uuid.uuid4().hex[:6]}"}
    page.goto("/")
    cookies = page.context.cookies()
    token = next(cookie["value"] for cookie in cookies if cookie["name"] == "csrftoken")
    response = page.request.post(
        "/api/designs",
        data=json.dumps(document),
        headers={"Content-Type": "application/json", "X-CSRFToken": token},
    )
    assert response.status == 201, response.text()
    return int(response.json()["id"])
