"""The property panel in a real Chromium: a node's interfaces with their addresses, the next
free address offered, labelled rows that are added empty and quiet, problems as sentences,
the saved title in the header and the tab, and the script exported with unsaved changes."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from editor_page import EditorPage, create_design, wait_until
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

EXAMPLES = Path(__file__).resolve().parents[2] / "netlab" / "examples"
BRIDGE = yaml.safe_load((EXAMPLES / "2-bridge.yaml").read_text())


def bridge_with_green() -> dict[str, Any]:
    """The tutorial's bridge network and a third namespace, green, plugged in unaddressed."""
    document = copy.deepcopy(BRIDGE)
    document["nodes"].append({"id": "green", "kind": "namespace", "position": {"x": 600, "y": 340}})
    document["links"].append(
        {
            "endpoints": [
                {"node": "green", "interface": "veth-green"},
                {"node": "v-net-0", "interface": "veth-green-br"},
            ]
        }
    )
    return document


def api_document(page: Page, design_id: int) -> dict[str, Any]:
    response = page.request.get(f"/api/designs/{design_id}")
    assert response.ok
    return response.json()


def interface_row(editor: EditorPage, name: str) -> Any:
    return editor.by_testid("node-interfaces").locator(f'[data-interface="{name}"]')


def test_a_namespace_shows_its_interfaces_and_edits_their_addresses(page, screenshot):
    """Selecting a namespace lists its interfaces (name, peer, addresses); an address edited
    there, and the next free address taken from the offer, are saved as the link ends'."""
    design_id = create_design(page, bridge_with_green())
    editor = EditorPage(page).open(design_id)

    editor.click("n:red")
    interfaces = editor.by_testid("node-interfaces")
    expect(interfaces).to_be_visible()
    red = interface_row(editor, "veth-red")
    expect(red).to_contain_text("v-net-0")
    address = red.get_by_test_id("interface-address")
    expect(address).to_have_value("192.168.15.1/24")
    # red has its address on the segment already: nothing to offer.
    expect(red.get_by_test_id("suggest-address")).to_be_hidden()

    address.fill("192.168.15.300/24")
    editor.settle()
    expect(red.get_by_test_id("field-problem")).to_have_text(
        "'192.168.15.300/24': 300 is not a valid byte"
    )
    expect(editor.by_testid("problems")).to_contain_text(
        "red — v-net-0: '192.168.15.300/24': 300 is not a valid byte"
    )
    address.fill("192.168.15.9/24")
    editor.settle()
    expect(editor.by_testid("problem-summary")).to_have_text("No problems")
    screenshot("panel-01-red-interfaces")

    # green is plugged into the bridge without an address: the lowest free one is offered
    # (.1 is free again, .2 is blue's, .5 the bridge's own).
    editor.click("n:green")
    green = interface_row(editor, "veth-green")
    expect(green).to_contain_text("v-net-0")
    offer = green.get_by_test_id("suggest-address")
    expect(offer).to_have_text("Use 192.168.15.1/24")
    offer.click()
    expect(green.get_by_test_id("interface-address")).to_have_value("192.168.15.1/24")
    expect(green.get_by_test_id("interface-address")).to_be_focused()
    editor.settle()
    expect(editor.by_testid("problem-summary")).to_have_text("No problems")
    screenshot("panel-02-green-offered")

    editor.save()
    saved = api_document(page, design_id)["document"]
    ends = {
        end["interface"]: end.get("addresses", [])
        for link in saved["links"]
        for end in link["endpoints"]
    }
    assert ends["veth-red"] == ["192.168.15.9/24"]
    assert ends["veth-green"] == ["192.168.15.1/24"]
    assert ends["veth-blue"] == ["192.168.15.2/24"]


def test_the_host_shows_its_bridge_with_the_bridge_address(page):
    """The host's interfaces include the bridge it holds, with the bridge's own address."""
    design_id = create_design(page, BRIDGE)
    editor = EditorPage(page).open(design_id)
    editor.click("n:host")
    bridge = interface_row(editor, "v-net-0")
    expect(bridge.get_by_test_id("interface-address")).to_have_value("192.168.15.5/24")
    bridge.get_by_test_id("interface-address").fill("192.168.15.254/24")
    editor.settle()
    editor.save()
    saved = api_document(page, design_id)["document"]
    assert saved["nodes"][1]["addresses"] == ["192.168.15.254/24"]


def test_add_route_and_add_address_give_an_empty_focused_quiet_row(page, screenshot):
    """A new row is empty, has the focus and shows no problem until it is typed in or left;
    every field of routes, NAT and port forwards has a label of its own."""
    design_id = create_design(page, BRIDGE)
    editor = EditorPage(page).open(design_id)
    editor.click("n:red")
    expect(editor.by_testid("node-id")).to_have_value("red")
    for testid in ("add-nat-rule", "add-port-forward", "add-service"):
        editor.by_testid(testid).click()
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll(
                '[data-testid="properties"] input, [data-testid="properties"] select')]
              .filter((field) => field.type !== "checkbox")
              .filter((field) => !field.closest("label")?.querySelector("span")?.textContent.trim())
              .map((field) => field.dataset.path)"""
    )
    assert unlabelled == []

    editor.by_testid("add-route").click()
    route = editor.field("nodes[2].routes[0].to")
    expect(route).to_have_value("")
    expect(route).to_be_focused()
    editor.settle()
    properties = editor.by_testid("properties")
    new_row = '[data-for^="nodes[2].routes[0]"]'
    expect(properties.locator(new_row)).to_have_count(0)
    expect(properties.locator('[data-row="nodes[2].routes[0]"] [aria-invalid]')).to_have_count(0)
    problems = editor.by_testid("problems")
    expect(problems.locator('[title^="nodes[2].routes[0]"]')).to_have_count(0)
    expect(route.locator("xpath=..").locator("span")).to_have_text("To")
    screenshot("panel-03-new-route-quiet")

    # Leaving the row: now it is an empty route, and the page says so.
    editor.by_testid("node-id").focus()
    expect(properties.locator(new_row).first).to_be_visible()
    expect(problems.locator('[title^="nodes[2].routes[0]"]').first).to_contain_text("red: ")

    # "Add address" on an interface: the same.
    row = interface_row(editor, "veth-red")
    row.get_by_test_id("add-address").click()
    new_address = editor.field("links[0].endpoints[0].addresses[1]")
    expect(new_address).to_have_value("")
    expect(new_address).to_be_focused()
    editor.settle()
    expect(new_address).not_to_have_attribute("aria-invalid", "true")
    new_address.type("10.9.9.")
    expect(new_address).to_have_attribute("aria-invalid", "true")


def test_a_duplicate_id_is_listed_under_problems(page):
    """Renaming a node to an id another node has is refused and listed under Problems."""
    design_id = create_design(page, BRIDGE)
    editor = EditorPage(page).open(design_id)
    editor.click("n:blue")
    field = editor.by_testid("node-id")
    expect(field).to_have_value("blue")
    field.fill("red")
    field.press("Enter")
    expect(editor.by_testid("problems")).to_contain_text(
        "blue: duplicate node id 'red': another node already has it"
    )
    expect(field).to_have_attribute("aria-invalid", "true")
    assert [node["id"] for node in editor.document()["nodes"]].count("red") == 1

    # A document with a duplicate id cannot be drawn: the Document tab says so, and so
    # does the problem list.
    twice = copy.deepcopy(BRIDGE)
    twice["nodes"].append({"id": "red", "kind": "namespace"})
    page.get_by_role("tab", name="Document").click()
    editor.by_testid("document-form").locator("textarea").fill(yaml.safe_dump(twice))
    editor.by_testid("apply-document").click()
    expect(editor.by_testid("status")).to_contain_text("Not applied: duplicate node id 'red'")
    page.get_by_role("tab", name="Properties").click()
    expect(editor.by_testid("problems")).to_contain_text(
        "duplicate node id 'red' (nodes 3 and 5): node ids must be unique"
    )


def test_the_header_and_the_tab_follow_the_saved_title(page):
    """A new title shows in the header and the browser tab once it is saved."""
    design_id = create_design(page, BRIDGE)
    editor = EditorPage(page).open(design_id)
    old = BRIDGE["title"]
    expect(editor.by_testid("design-title")).to_have_text(old)
    assert page.title() == f"{old} · netlab"

    title = editor.field("title")  # nothing selected: the panel shows the design
    expect(title).to_have_value(old)
    title.fill("A campus of my own")
    wait_until(page, "() => document.title.startsWith('• ')")
    assert page.title() == f"• {old} · netlab"  # unsaved: the tab still says what is saved
    editor.save()
    expect(editor.by_testid("design-title")).to_have_text("A campus of my own")
    wait_until(page, "() => document.title === 'A campus of my own · netlab'")
    page.reload()
    editor.open(design_id)
    assert page.title() == "A campus of my own · netlab"


def test_the_script_exports_with_unsaved_changes_without_a_prompt(page):
    """Export → Shell script downloads the saved revision's script while the page has
    unsaved changes: no leave-page dialog, the page and its changes stay."""
    design_id = create_design(page, BRIDGE)
    editor = EditorPage(page).open(design_id)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    editor.drop("namespace", editor.canvas_point(0.8, 0.2))
    expect(editor.by_testid("dirty")).to_be_visible()

    editor.by_testid("export").click()
    with page.expect_download() as download:
        editor.by_testid("export-sh").click()
    script = Path(download.value.path()).read_text()
    assert download.value.suggested_filename.endswith(".sh")
    assert "ip netns add" in script or "ip link add" in script
    assert dialogs == []
    assert page.url.endswith(f"/designs/{design_id}/")
    expect(editor.by_testid("dirty")).to_be_visible()
    expect(editor.by_testid("status")).to_contain_text("unsaved changes are not in it")
    assert len(editor.document()["nodes"]) == len(BRIDGE["nodes"]) + 1
