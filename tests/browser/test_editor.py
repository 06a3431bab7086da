"""The design editor in a real Chromium against a real server: drawing, checking, saving."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from editor_page import EditorPage, create_design, wait_until
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

EXAMPLES = Path(__file__).resolve().parents[2] / "netlab" / "examples"


def topology(document: dict[str, Any]) -> dict[str, Any]:
    """The nodes and links of a document, positions left out."""
    nodes = [
        {key: value for key, value in node.items() if key != "position"}
        for node in document["nodes"]
    ]
    return {"nodes": nodes, "links": document.get("links", [])}


def api_document(page: Page, design_id: int) -> dict[str, Any]:
    response = page.request.get(f"/api/designs/{design_id}")
    assert response.ok
    return response.json()


def test_build_the_bridge_tutorial_from_an_empty_design(page, screenshot):
    """The tutorial's bridge network, drawn with the mouse and typed, saves as its document."""
    editor = EditorPage(page)
    design_id = editor.new_design()
    screenshot("01-empty-design")

    bridge = editor.drop("bridge", editor.canvas_point(0.5, 0.7))
    assert bridge == "v-net-0"
    editor.field("nodes[1].in").select_option("host")
    editor.by_testid("add-address").click()
    editor.field("nodes[1].addresses[0]").fill("192.168.15.5/24")

    red = editor.drop("namespace", editor.canvas_point(0.25, 0.9))
    assert red == "ns1"
    editor.rename("ns1", "red")
    blue = editor.drop("namespace", editor.canvas_point(0.75, 0.9))
    assert blue == "ns1"  # the first free name again, now that ns1 became red
    editor.rename("ns1", "blue")

    editor.draw_link("red", "v-net-0")
    # The new link is selected: its ends got the tutorial's names and the bridge's next address.
    expect(editor.by_testid("interface-0")).to_have_value("veth-red")
    expect(editor.by_testid("interface-1")).to_have_value("veth-red-br")
    expect(editor.field("links[0].endpoints[0].addresses[0]")).to_have_value("192.168.15.1/24")
    editor.draw_link("blue", "v-net-0")
    expect(editor.field("links[1].endpoints[0].addresses[0]")).to_have_value("192.168.15.2/24")
    editor.settle()
    expect(editor.by_testid("problem-summary")).to_have_text("No problems")
    expect(editor.by_testid("dirty")).to_be_visible()
    screenshot("02-bridge-network-drawn")

    editor.save()
    page.reload()
    editor.open(design_id)
    expect(editor.by_testid("dirty")).to_be_hidden()

    saved = api_document(page, design_id)
    assert saved["revision"] == 2
    expected = yaml.safe_load((EXAMPLES / "2-bridge.yaml").read_text())
    assert topology(saved["document"]) == topology(expected)
    assert all("position" in node for node in saved["document"]["nodes"])
    assert topology(editor.document()) == topology(expected)
    screenshot("03-saved-and-reloaded")


def test_a_bad_address_is_shown_on_its_field_and_in_the_list_and_saved_as_a_draft(page, screenshot):
    """A typed address the server refuses is marked at its field, on the link and in the list;
    Save keeps the work as a draft revision, whose Deploy is refused naming the problem."""
    document = yaml.safe_load((EXAMPLES / "2-bridge.yaml").read_text())
    design_id = create_design(page, document)
    editor = EditorPage(page).open(design_id)

    editor.click("l:0")
    address = editor.field("links[0].endpoints[0].addresses[0]")
    expect(address).to_have_value("192.168.15.1/24")
    address.fill("192.168.15.300/24")
    message = "'192.168.15.300/24': 300 is not a valid byte"
    field_problem = editor.by_testid("properties").get_by_test_id("field-problem")
    expect(field_problem).to_contain_text(message)
    expect(address).to_have_attribute("aria-invalid", "true")
    # The list reads as a sentence naming the link as the canvas does; the path is its title.
    problems = editor.by_testid("problems")
    expect(problems.locator("li")).to_have_text(f"red — v-net-0: {message}")
    expect(problems.get_by_role("button")).to_have_attribute(
        "title", "links[0].endpoints[0].addresses[0]"
    )
    assert page.evaluate("window.netlabEditor.canvas.cy.getElementById('l:0').hasClass('invalid')")
    screenshot("04-bad-address")

    # Save keeps half-done work: a draft revision, listed as such, that cannot be deployed.
    with page.expect_response(lambda response: response.request.method == "PUT") as put:
        editor.by_testid("save").click()
    assert put.value.status == 200
    status = editor.by_testid("status")
    expect(status).to_contain_text("Saved revision 2 as a draft: the design has 1 problem")
    expect(editor.by_testid("revision-number")).to_have_text("revision 2 (draft)")
    expect(editor.by_testid("revisions").get_by_test_id("revision-draft")).to_have_count(1)
    saved = api_document(page, design_id)
    assert (saved["revision"], saved["draft"]) == (2, True)
    page.locator("[role=tab][data-tab=live]").click()
    expect(editor.by_testid("connection")).to_have_attribute("data-status", "open")
    editor.by_testid("deploy").click()
    notice = editor.by_testid("deploy-notice")
    expect(notice).to_contain_text("revision 2 of")
    expect(notice).to_contain_text("is a draft")
    expect(notice).to_contain_text("192.168.15.300/24")
    expect(editor.by_testid("deployment-state")).to_have_text("not deployed")
    screenshot("04b-draft-deploy-refused")
    page.locator("[role=tab][data-tab=properties]").click()

    # Clicking the problem selects its link and puts the focus on the field.
    editor.click("n:host")
    problems.get_by_role("button").first.click()
    expect(address).to_be_focused()
    assert page.evaluate("window.netlabEditor.canvas.selection().links") == [0]

    address.fill("192.168.15.7/24")
    editor.settle()
    expect(problems.locator("li")).to_have_count(0)
    editor.save()
    expect(editor.by_testid("revision-number")).to_have_text("revision 3")
    saved = api_document(page, design_id)
    assert (saved["revision"], saved["draft"]) == (3, False)
    assert saved["document"]["links"][0]["endpoints"][0]["addresses"] == ["192.168.15.7/24"]


def test_undo_and_redo_restore_every_state(page):
    """Ctrl+Z walks back through every edit (a move included) and Ctrl+Y forward again."""
    editor = EditorPage(page)
    editor.new_design()
    states = [editor.document()]

    def edit(action: Any) -> None:
        action()
        wait_until(editor.page, "(n) => window.netlabEditor.history.past.length === n", len(states))
        states.append(editor.document())

    edit(lambda: editor.drop("namespace", editor.canvas_point(0.3, 0.7)))
    edit(lambda: editor.drop("bridge", editor.canvas_point(0.7, 0.7)))
    edit(lambda: editor.drag(editor.screen_position("n:ns1"), editor.canvas_point(0.2, 0.4)))
    edit(lambda: editor.rename("ns1", "red"))
    edit(lambda: editor.draw_link("red", "v-net-0"))

    def delete_bridge() -> None:
        editor.click("n:v-net-0")
        editor.page.keyboard.press("Delete")

    edit(delete_bridge)
    assert [node["id"] for node in states[-1]["nodes"]] == ["host", "red"]
    assert states[3]["nodes"][1]["position"] != states[2]["nodes"][1]["position"]

    for state in reversed(states[:-1]):
        page.locator("body").press("Control+z")
        assert editor.document() == state
    expect(editor.by_testid("undo")).to_be_disabled()
    expect(editor.by_testid("dirty")).to_be_hidden()
    for state in states[1:]:
        page.locator("body").press("Control+y")
        assert editor.document() == state
    expect(editor.by_testid("redo")).to_be_disabled()
    expect(editor.by_testid("dirty")).to_be_visible()


def test_opening_a_design_never_saves_it(page):
    """A design without positions is laid out in the browser, shown unchanged and not saved."""
    document = yaml.safe_load((EXAMPLES / "2-bridge.yaml").read_text())
    for node in document["nodes"]:
        node.pop("position")
    design_id = create_design(page, document)
    editor = EditorPage(page).open(design_id)

    assert all("position" in node for node in editor.document()["nodes"])
    expect(editor.by_testid("dirty")).to_be_hidden()
    saved = api_document(page, design_id)
    assert saved["revision"] == 1
    assert topology(saved["document"]) == topology(document)
    assert all("position" not in node for node in saved["document"]["nodes"])
