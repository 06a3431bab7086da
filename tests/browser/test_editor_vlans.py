"""VLANs in a real Chromium: a bridge's filtering, a port's access VLAN or trunk and a
namespace's sub-interfaces, edited in the properties, shown on the link end's label, and
saved as the document's fields."""

from __future__ import annotations

from typing import Any

import pytest
from editor_page import EditorPage, create_design, wait_until
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

SWITCHED = {
    "format": "netlab/v1",
    "name": "switched",
    "nodes": [
        {"id": "host", "kind": "host", "position": {"x": 0, "y": 0}},
        {"id": "br0", "kind": "bridge", "position": {"x": 200, "y": 0}},
        {"id": "red", "kind": "namespace", "position": {"x": 400, "y": 0}},
    ],
    "links": [
        {"endpoints": [{"node": "red", "interface": "eth0"}, {"node": "br0", "interface": "p-red"}]}
    ],
}


def edge(page: Page, field: str) -> Any:
    return page.evaluate(
        "(field) => window.netlabEditor.canvas.cy.getElementById('l:0').data(field) ?? null", field
    )


def test_vlans_are_edited_in_the_properties_and_labelled(page: Page) -> None:
    editor = EditorPage(page).open(create_design(page, SWITCHED))
    editor.click("n:br0")
    editor.by_testid("vlan-filtering").check()
    wait_until(page, "() => window.netlabEditor.doc.nodes[1].vlan_filtering === true")
    editor.click("l:0")
    editor.by_testid("vlan-1").fill("10")
    wait_until(page, "() => window.netlabEditor.doc.links[0].endpoints[1].vlan === 10")
    assert edge(page, "targetLabel") == "p-red VLAN 10"
    editor.by_testid("vlan-1").fill("")
    editor.by_testid("trunk-1").fill("10, 20")
    wait_until(page, "() => window.netlabEditor.doc.links[0].endpoints[1].trunk?.length === 2")
    assert edge(page, "targetLabel") == "p-red trunk 10,20"
    editor.click("n:red")
    editor.by_testid("add-sub-interface").click()
    editor.by_testid("subinterface-parent").fill("eth0")
    editor.by_testid("subinterface-vlan").fill("10")
    editor.by_testid("subinterface-addresses").fill("10.0.10.1/24")
    wait_until(page, "() => window.netlabEditor.doc.nodes[2].subinterfaces?.[0]?.addresses")
    document = editor.document()
    assert document["links"][0]["endpoints"][1] == {
        "node": "br0",
        "interface": "p-red",
        "trunk": [10, 20],
    }
    assert document["nodes"][2]["subinterfaces"] == [
        {"parent": "eth0", "vlan": 10, "addresses": ["10.0.10.1/24"]}
    ]
    editor.settle()
    editor.save()
    editor.by_testid("subinterface-vlan").fill("4095")
    expect(editor.by_testid("properties")).to_contain_text("a VLAN id is from 1 to 4094")
