"""Sites in a real Chromium: a node's site edited in its properties, named on its label, and
a link between two sites drawn as a tunnel (cased, labelled with the sites)."""

from __future__ import annotations

from typing import Any

import pytest
from editor_page import EditorPage, create_design, wait_until
from playwright.sync_api import Page

pytestmark = pytest.mark.browser

ACROSS = {
    "format": "netlab/v1",
    "name": "across",
    "nodes": [
        {"id": "host", "kind": "host", "position": {"x": 0, "y": 0}},
        {"id": "red", "kind": "namespace", "site": "one", "position": {"x": 200, "y": 0}},
        {"id": "blue", "kind": "namespace", "position": {"x": 400, "y": 0}},
    ],
    "links": [
        {"endpoints": [{"node": "red", "interface": "eth0"}, {"node": "blue", "interface": "eth0"}]}
    ],
}


def edge(page: Page, field: str) -> Any:
    return page.evaluate(
        "(field) => window.netlabEditor.canvas.cy.getElementById('l:0').data(field) ?? null", field
    )


def test_a_nodes_site_is_edited_and_a_link_between_two_sites_drawn_as_a_tunnel(page: Page) -> None:
    editor = EditorPage(page).open(create_design(page, ACROSS))
    assert edge(page, "tunnel") is None
    label = "() => window.netlabEditor.canvas.cy.getElementById('n:red').data('label')"
    assert page.evaluate(label) == "red\nsite one"
    editor.click("n:blue")
    editor.by_testid("node-site").fill("two")
    wait_until(page, "() => window.netlabEditor.doc.nodes[2].site === 'two'")
    wait_until(page, "() => window.netlabEditor.canvas.cy.getElementById('l:0').data('tunnel')")
    assert edge(page, "linkLabel") == "VXLAN one - two"
    casing = "() => window.netlabEditor.canvas.cy.getElementById('l:0').style('line-outline-width')"
    assert page.evaluate(casing) == "2px"
    editor.by_testid("node-site").fill("")
    wait_until(page, "() => window.netlabEditor.doc.nodes[2].site === undefined")
    wait_until(page, "() => !window.netlabEditor.canvas.cy.getElementById('l:0').data('tunnel')")
    assert "site" not in editor.document()["nodes"][2]
