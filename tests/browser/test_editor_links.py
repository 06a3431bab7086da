"""A link's impairment, MTU and state in a real Chromium: edited in the link's properties,
labelled and drawn on the canvas, and saved as the document's fields."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from editor_page import EditorPage, create_design, wait_until
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

EXAMPLES = Path(__file__).resolve().parents[2] / "netlab" / "examples"
PAIR = yaml.safe_load((EXAMPLES / "1-veth-pair.yaml").read_text())


def edge(page: Page, field: str) -> Any:
    return page.evaluate(
        "(field) => window.netlabEditor.canvas.cy.getElementById('l:0').data(field) ?? null", field
    )


def test_a_link_is_impaired_resized_and_taken_down_in_its_properties(page: Page) -> None:
    editor = EditorPage(page).open(create_design(page, PAIR))
    editor.click("l:0")
    editor.by_testid("link-delay_ms").fill("30")
    editor.by_testid("link-loss_percent").fill("1")
    editor.by_testid("link-rate_kbit").fill("10000")
    editor.by_testid("end-0-delay_ms").fill("5")
    editor.by_testid("link-mtu").fill("1400")
    editor.by_testid("link-up").uncheck()
    wait_until(page, "() => window.netlabEditor.doc.links[0].up === false")
    link = editor.document()["links"][0]
    assert link["impairment"] == {"delay_ms": 30, "loss_percent": 1, "rate_kbit": 10000}
    assert link["endpoints"][0]["impairment"] == {"delay_ms": 5}
    assert link["mtu"] == 1400
    assert edge(page, "linkLabel") == (
        "red: 5 ms · 1% loss · 10 Mbit/s | blue: 30 ms · 1% loss · 10 Mbit/s | MTU 1400 | down"
    )
    assert edge(page, "lossy") is True
    assert edge(page, "down") is True
    editor.settle()
    editor.save()
    editor.by_testid("link-loss_percent").fill("150")
    expect(editor.by_testid("properties")).to_contain_text("a percentage is at most 100")
