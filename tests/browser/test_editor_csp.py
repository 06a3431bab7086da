"""The pages under the strict Content-Security-Policy (netlab/csp.py), in a real Chromium:
using the editor, its tabs, export and the live lab's websocket, and the read-only
pictures, reports no violation; an inline style added on purpose is refused and reported,
so the policy is enforced and the watch works (``watched``: conftest.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from editor_page import EditorPage, wait_until
from playwright.sync_api import Page, expect
from test_live import connected, console_rows, copy_example, open_console, open_live_tab

pytestmark = pytest.mark.browser


def test_using_the_editor_reports_no_violation(page: Page, watched: Any) -> None:
    editor = copy_example(page)
    connected(page)  # the websocket: connect-src allows the page's own host
    editor.drop("namespace", editor.canvas_point(0.3, 0.8))
    editor.draw_link("ns1", "v-net-0")
    editor.settle()
    page.locator("[role=tab][data-tab=document]").click()
    expect(editor.by_testid("document-form").locator("textarea")).to_have_value(
        re.compile("id: ns1")
    )
    page.locator("[role=tab][data-tab=live]").click()
    editor.by_testid("export").click()
    with page.expect_download() as download:
        editor.by_testid("export-png").click()
    assert download.value.suggested_filename.endswith(".png")
    editor.save()
    assert watched() == []


def test_the_consoles_terminal_is_styled_and_reports_no_violation(page: Page, watched: Any) -> None:
    """xterm.js's own <style> elements carry the response's nonce: they apply (the theme's
    colour, the cells' layout) and nothing is refused."""
    copy_example(page)
    connected(page)
    open_live_tab(page)
    open_console(page, "red")
    rows = console_rows(page, "red")
    expect(rows).to_contain_text("red$")
    page.keyboard.type("ip a")
    page.keyboard.press("Enter")
    expect(rows).to_contain_text("The lab is not running")
    assert rows.evaluate("(rows) => getComputedStyle(rows).color") == "rgb(226, 232, 240)"
    cell = "(rows) => getComputedStyle(rows.querySelector('span')).display"
    assert rows.evaluate(cell) == "inline-block"
    styles = page.evaluate(
        "[...document.querySelectorAll('.xterm style')].map((style) => Boolean(style.sheet))"
    )
    assert styles
    assert all(styles)
    assert watched() == []


def test_the_read_only_pictures_report_no_violation(page: Page, watched: Any) -> None:
    copy_example(page)
    design_id = int(page.locator("#editor").get_attribute("data-design-id") or 0)
    for url in ["/examples/2-bridge/", f"/designs/{design_id}/revisions/1/", "/gallery/"]:
        page.goto(url)
        page.wait_for_load_state("networkidle")
        assert watched() == [], url


def test_an_inline_style_is_refused_and_reported(page: Page, watched: Any) -> None:
    EditorPage(page).new_design()
    page.evaluate(
        """() => {
          const style = document.createElement("style");
          style.textContent = "body { background: red; }";
          document.head.append(style);
        }"""
    )
    wait_until(page, "window.cspViolations.length > 0")
    assert any(violation.startswith("style-src") for violation in watched())
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background != "rgb(255, 0, 0)"
