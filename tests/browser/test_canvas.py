"""The canvas of a big design in a real Chromium: layout, find node, the minimap, labels,
a steady toolbar, free space for new nodes, and the dark theme."""

from __future__ import annotations

import math
from typing import Any

import pytest
from designs import campus
from editor_page import EditorPage, create_design, wait_until
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

# A node's box on the canvas, its label left out (the widest: the host, 54 x 36).
NODE_WIDTH, NODE_HEIGHT = 70, 40


def saved_document(page: Page, design_id: int) -> dict[str, Any]:
    response = page.request.get(f"/api/designs/{design_id}")
    assert response.ok
    document: dict[str, Any] = response.json()["document"]
    return document


def positions_of(document: dict[str, Any]) -> dict[str, tuple[float, float]]:
    return {
        node["id"]: (node["position"]["x"], node["position"]["y"]) for node in document["nodes"]
    }


def check_campus_picture(document: dict[str, Any]) -> None:
    """Compact, no two nodes overlapping, every host nearest its own bridge and every
    router nearest its own access bridge."""
    at = positions_of(document)
    assert set(at) == {node["id"] for node in document["nodes"]}
    xs = [x for x, _ in at.values()]
    ys = [y for _, y in at.values()]
    width = max(xs) - min(xs) + NODE_WIDTH
    height = max(ys) - min(ys) + NODE_HEIGHT
    assert 0.5 < width / height < 2, (width, height)
    points = sorted(at.items(), key=lambda item: item[1])
    for index, (first, (x1, y1)) in enumerate(points):
        for second, (x2, y2) in points[index + 1 :]:
            assert not (abs(x1 - x2) < NODE_WIDTH and abs(y1 - y2) < NODE_HEIGHT), (first, second)
    bridges = [node["id"] for node in document["nodes"] if node["kind"] == "bridge"]

    def nearest_bridge(node_id: str) -> str:
        x, y = at[node_id]
        return min(bridges, key=lambda bridge: math.dist((x, y), at[bridge]))

    hosts = [
        node["id"] for node in document["nodes"] if node["id"].startswith("h") and "-" in node["id"]
    ]
    assert len(hosts) == 52
    wrong = [host for host in hosts if nearest_bridge(host) != f"access{host[1]}"]
    assert wrong == []
    routers = [f"r{number}" for number in range(1, 5)]
    assert [nearest_bridge(router) for router in routers] == [f"access{r[1]}" for r in routers]


def test_a_campus_without_positions_is_laid_out_and_saved_with_the_next_save(page: Page) -> None:
    """Opening lays the 62 nodes out without marking the page unsaved; Save keeps that
    layout; Layout lays out again as an undoable edit, and Save saves it."""
    design_id = create_design(page, campus())
    editor = EditorPage(page).open(design_id)
    expect(editor.by_testid("dirty")).to_be_hidden()
    expect(editor.by_testid("status")).to_contain_text("Save keeps this layout")
    shown = editor.document()

    page.keyboard.press("Control+s")
    expect(editor.by_testid("status")).to_contain_text("Saved revision 2")
    saved = saved_document(page, design_id)
    assert positions_of(saved) == positions_of(shown)
    check_campus_picture(saved)

    # Laying out a laid-out design changes nothing (the layout is stable).
    editor.by_testid("layout").click()
    expect(editor.by_testid("status")).to_contain_text("Already laid out")

    # Move a host away by hand, save, and let Layout put it back: an edit to undo or save.
    x, y = editor.screen_position("n:h2-3")
    editor.drag((x, y), (x + 120, y + 90))
    wait_until(page, "() => window.netlabEditor.history.isDirty()")
    editor.save()
    moved = positions_of(saved_document(page, design_id))["h2-3"]
    assert moved != positions_of(shown)["h2-3"]
    editor.by_testid("layout").click()
    expect(editor.by_testid("dirty")).to_be_visible()
    expect(editor.by_testid("undo")).to_have_attribute("title", "Undo automatic layout (Ctrl+Z)")
    editor.save()
    relaid = saved_document(page, design_id)
    assert positions_of(relaid) == positions_of(shown)
    check_campus_picture(relaid)
    page.keyboard.press("Control+z")
    assert positions_of(editor.document())["h2-3"] == moved


def test_find_node_selects_and_centres_it(page: Page) -> None:
    editor = EditorPage(page).open(create_design(page, campus()))
    editor.by_testid("fit").click()
    find = editor.by_testid("find-node")
    find.fill("h3-1")
    assert "h3-1" in page.eval_on_selector_all(
        "#find-node-names option", "(options) => options.map((option) => option.value)"
    )
    find.fill("h3-7")
    find.press("Enter")
    wait_until(page, "() => window.netlabEditor.canvas.selection().nodes.join() === 'h3-7'")
    x, y = editor.screen_position("n:h3-7")
    box = editor.by_testid("canvas").bounding_box()
    assert box is not None
    assert abs(x - (box["x"] + box["width"] / 2)) < 2
    assert abs(y - (box["y"] + box["height"] / 2)) < 2
    assert page.evaluate("window.netlabEditor.canvas.cy.zoom()") >= 1
    expect(editor.by_testid("node-id")).to_have_value("h3-7")

    find.fill("no-such-node")
    find.press("Enter")
    expect(editor.by_testid("status")).to_contain_text('No node is named "no-such-node"')


def view_centre(page: Page) -> tuple[float, float]:
    extent = page.evaluate("window.netlabEditor.canvas.cy.extent()")
    return (extent["x1"] + extent["x2"]) / 2, (extent["y1"] + extent["y2"]) / 2


def test_the_minimap_shows_the_design_and_moves_the_view(page: Page) -> None:
    editor = EditorPage(page).open(create_design(page, campus()))
    minimap = editor.by_testid("minimap")
    expect(minimap).to_be_visible()
    page.evaluate("() => window.netlabEditor.canvas.centreOn('h1-1')")
    page.evaluate("() => window.netlabEditor.canvas.cy.zoom(2)")
    box = minimap.bounding_box()
    assert box is not None
    before = view_centre(page)
    # Its rectangle follows the view: the view box it shows is the canvas's extent.
    wait_until(
        page,
        """() => {
          const e = window.netlabEditor.canvas.cy.extent();
          const shown = document.querySelector('[data-testid=minimap]').dataset.view;
          return shown === [e.x1, e.y1, e.x2, e.y2].map(Math.round).join(' ');
        }""",
    )
    for fx, fy in ((0.15, 0.2), (0.85, 0.8)):
        page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
        after = view_centre(page)
        assert after != before
        before = after
    # Left then right, top then bottom: the second click moved the view right and down.
    page.mouse.click(box["x"] + box["width"] * 0.15, box["y"] + box["height"] * 0.2)
    left_top = view_centre(page)
    assert left_top[0] < before[0]
    assert left_top[1] < before[1]
    # A drag moves it along.
    editor.drag(
        (box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.5),
        (box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.5),
    )
    assert view_centre(page)[0] > left_top[0]


def test_the_canvas_stays_where_it_is_when_the_page_becomes_unsaved(page: Page) -> None:
    """At 1280x720 the toolbar keeps its height: the canvas does not move."""
    page.set_viewport_size({"width": 1280, "height": 720})
    editor = EditorPage(page).open(create_design(page, campus()))
    canvas = editor.by_testid("canvas")
    before = canvas.bounding_box()
    toolbar = page.locator(".toolbar").bounding_box()
    x, y = editor.screen_position("n:core")
    editor.drag((x, y), (x + 40, y + 30))
    expect(editor.by_testid("dirty")).to_be_visible()
    assert canvas.bounding_box() == before
    page.evaluate(
        "() => { const s = document.querySelector('[data-testid=status]');"
        " s.textContent = 'A very long status line '.repeat(20); }"
    )
    assert canvas.bounding_box() == before
    assert page.locator(".toolbar").bounding_box() == toolbar


def test_a_palette_click_puts_the_new_node_in_free_space(page: Page) -> None:
    editor = EditorPage(page)
    editor.new_design()
    for _ in range(3):
        editor.by_testid("palette-namespace").click()
    wait_until(page, "() => window.netlabEditor.doc.nodes.length === 4")
    at = list(positions_of(editor.document()).values())
    for index, (x1, y1) in enumerate(at):
        for x2, y2 in at[index + 1 :]:
            assert abs(x1 - x2) >= NODE_WIDTH or abs(y1 - y2) >= NODE_HEIGHT


def test_labels_toggle_and_end_labels_that_would_collide_are_hidden(page: Page) -> None:
    editor = EditorPage(page).open(create_design(page, campus()))
    label = "() => window.netlabEditor.canvas.cy.getElementById('n:h1-1').style('label')"
    assert page.evaluate(label) == "h1-1"
    # On a bridge with 13 ports, some port labels would cover each other: they are hidden.
    wait_until(
        page,
        "() => Number(document.querySelector('[data-testid=canvas]').dataset.hiddenEndLabels) > 0",
    )
    editor.by_testid("labels").click()
    expect(editor.by_testid("labels")).to_have_attribute("aria-pressed", "false")
    assert page.evaluate(label) == ""
    editor.by_testid("labels").click()
    assert page.evaluate(label) == "h1-1"


def test_the_canvas_follows_the_dark_theme(page: Page) -> None:
    page.emulate_media(color_scheme="dark")
    doc = campus()
    doc["nodes"][0].update({"forwarding": True, "nat": [{"source": "10.0.0.0/8", "out": "core"}]})
    EditorPage(page).open(create_design(page, doc))
    background = page.evaluate(
        "getComputedStyle(document.querySelector('.canvas-wrap')).backgroundColor"
    )
    assert background != "rgb(255, 255, 255)"
    ink = page.evaluate(
        "getComputedStyle(document.documentElement).getPropertyValue('--ink').trim()"
    )
    node_colour = page.evaluate(
        "window.netlabEditor.canvas.cy.getElementById('n:h1-1').style('color')"
    )
    assert ink == "#e3e9f0"
    assert node_colour == "rgb(227,233,240)"
    host = page.evaluate("window.netlabEditor.canvas.cy.getElementById('n:host').data()")
    assert host["badges"] == "F N"
    assert host["role"] == "host"
    role = "window.netlabEditor.canvas.cy.getElementById('n:r1').data('role')"
    assert page.evaluate(role) == "router"
    label = "window.netlabEditor.canvas.cy.getElementById('n:access1').data('label')"
    assert "10.1.0.1/24" in page.evaluate(label)
