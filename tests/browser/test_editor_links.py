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


BRIDGE = yaml.safe_load((EXAMPLES / "2-bridge.yaml").read_text())


def test_a_bridge_port_with_a_larger_mtu_is_warned_about_not_refused(page: Page) -> None:
    """A warning is listed after the problems, in its own colour, and outlines its link; the
    design is saved as a revision, not a draft."""
    editor = EditorPage(page).open(create_design(page, BRIDGE))
    editor.click("l:0")
    editor.by_testid("link-mtu").fill("9000")
    editor.settle()
    expect(editor.by_testid("problem-summary")).to_have_text("No problems · 1 warning")
    warning = editor.by_testid("problems").locator('li[data-severity="warning"]')
    expect(warning).to_have_count(1)
    expect(warning).to_contain_text("is a port of bridge v-net-0 with MTU 9000, larger than")
    assert page.evaluate(
        "() => window.netlabEditor.canvas.cy.getElementById('l:0').hasClass('caution')"
    )
    editor.save()
    expect(page.get_by_text("(draft)")).to_have_count(0)
    editor.by_testid("link-mtu").fill("")
    editor.settle()
    expect(editor.by_testid("problem-summary")).to_have_text("No problems")
    assert not page.evaluate(
        "() => window.netlabEditor.canvas.cy.getElementById('l:0').hasClass('caution')"
    )
