"""VLANs in the document: validation, one named row per rule.

STICK is a router on a stick (``factories.vlan_design_data``): nodes host, br0 (filtering),
red, blue, router; links red — br0 (p-red, VLAN 10), blue — br0 (p-blue, VLAN 20) and
router — br0 (p-router, trunk 10, 20); router's sub-interfaces eth0.10 and eth0.20.
Invalid rows change one thing and expect exactly one problem, at its path.
"""

from __future__ import annotations

from typing import Any

import pytest
from factories import DELETE, changed, vlan_design_data

from netlab.core import targets
from netlab.core.document import Document, json_schema
from netlab.core.explain import explain
from netlab.core.validation import load, problems_of

STICK = vlan_design_data()
BRIDGE = "nodes[1]"
ROUTER = "nodes[4]"
RED_PORT = "links[0].endpoints[1]"
TRUNK = "links[2].endpoints[1]"
SUB = f"{ROUTER}.subinterfaces[0]"

VALID = [
    pytest.param(STICK, id="router-on-a-stick"),
    pytest.param(changed(STICK, {f"{RED_PORT}.vlan": 1}), id="vlan-1"),
    pytest.param(changed(STICK, {f"{RED_PORT}.vlan": 4094}), id="vlan-4094"),
    pytest.param(changed(STICK, {f"{RED_PORT}.vlan": DELETE}), id="a-plain-port-is-in-vlan-1"),
    pytest.param(changed(STICK, {f"{SUB}.name": "to-red"}), id="named-sub-interface"),
    pytest.param(
        changed(STICK, {f"{ROUTER}.routes": [{"to": "10.9.0.0/16", "dev": "eth0.10"}]}),
        id="route-out-of-a-sub-interface",
    ),
    pytest.param(
        changed(STICK, {f"{SUB}.addresses[1]": "fd00:10::1/64"}), id="ipv6-on-a-sub-interface"
    ),
]


@pytest.mark.parametrize("data", VALID)
def test_valid_vlans(data: dict[str, Any]) -> None:
    """A valid VLAN design has no problem and loads."""
    assert problems_of(data) == []
    assert isinstance(load(data), Document)


INVALID = [
    pytest.param(
        changed(STICK, {f"{RED_PORT}.vlan": 0}),
        f"{RED_PORT}.vlan",
        "a VLAN id is from 1 to 4094; 0 is not",
        id="vlan-0",
    ),
    pytest.param(
        changed(STICK, {f"{RED_PORT}.vlan": 4095}),
        f"{RED_PORT}.vlan",
        "4095 is not",
        id="vlan-4095",
    ),
    pytest.param(
        changed(STICK, {f"{TRUNK}.trunk[1]": 4095}),
        f"{TRUNK}.trunk[1]",
        "4095 is not",
        id="trunk-vlan-4095",
    ),
    pytest.param(
        changed(STICK, {f"{TRUNK}.trunk[1]": 10}),
        f"{TRUNK}.trunk[1]",
        "VLAN 10 is listed twice",
        id="trunk-vlan-twice",
    ),
    pytest.param(
        changed(STICK, {f"{RED_PORT}.vlan": "10"}),
        f"{RED_PORT}.vlan",
        "valid integer",
        id="vlan-as-text",
    ),
    pytest.param(
        changed(
            STICK,
            {
                f"{BRIDGE}.vlan_filtering": DELETE,
                f"{TRUNK}.trunk": DELETE,
                "links[1].endpoints[1].vlan": DELETE,
            },
        ),
        f"{RED_PORT}.vlan",
        "bridge br0 does not filter VLANs: set its vlan_filtering to true for p-red's vlan",
        id="access-vlan-on-a-non-filtering-bridge",
    ),
    pytest.param(
        changed(
            STICK,
            {
                f"{BRIDGE}.vlan_filtering": False,
                f"{RED_PORT}.vlan": DELETE,
                "links[1].endpoints[1].vlan": DELETE,
            },
        ),
        f"{TRUNK}.trunk",
        "bridge br0 does not filter VLANs: set its vlan_filtering to true for p-router's trunk",
        id="trunk-on-a-non-filtering-bridge",
    ),
    pytest.param(
        changed(STICK, {f"{RED_PORT}.trunk": [20]}),
        f"{RED_PORT}.trunk",
        "p-red is an access port of VLAN 10 or a trunk, not both",
        id="vlan-and-trunk",
    ),
    pytest.param(
        changed(STICK, {"links[0].endpoints[0].vlan": 10}),
        "links[0].endpoints[0].vlan",
        "only a bridge's port has a vlan; red is a namespace",
        id="vlan-on-a-namespace-end",
    ),
    pytest.param(
        changed(STICK, {f"{SUB}.parent": "eth9"}),
        f"{SUB}.parent",
        "router has no link end 'eth9' to carry VLAN 10 (it has: eth0)",
        id="sub-interface-on-a-missing-parent",
    ),
    pytest.param(
        changed(STICK, {f"{SUB}.vlan": 0}),
        f"{SUB}.vlan",
        "a VLAN id is from 1 to 4094; 0 is not",
        id="sub-interface-vlan-0",
    ),
    pytest.param(
        changed(STICK, {f"{ROUTER}.subinterfaces[1].vlan": 10, f"{SUB}.name": "one"}),
        f"{ROUTER}.subinterfaces[1].vlan",
        "VLAN 10 on eth0 is already sub-interface 1 of router",
        id="sub-interface-vlan-twice",
    ),
    pytest.param(
        changed(STICK, {f"{ROUTER}.subinterfaces[1].name": "eth0.10"}),
        f"{ROUTER}.subinterfaces[1].name",
        "interface 'eth0.10' already exists in 'router'",
        id="duplicate-sub-interface-name",
    ),
    pytest.param(
        changed(STICK, {f"{SUB}.name": "eth0"}),
        f"{SUB}.name",
        "interface 'eth0' already exists in 'router'",
        id="sub-interface-named-like-its-parent",
    ),
    pytest.param(
        changed(STICK, {f"{SUB}.name": "a-name-longer-than-15"}),
        f"{SUB}.name",
        "15",
        id="sub-interface-name-too-long",
    ),
    pytest.param(
        changed(
            STICK,
            {
                "links[2].endpoints[0].interface": "uplink-eth0",
                f"{SUB}.parent": "uplink-eth0",
                f"{ROUTER}.subinterfaces[1].parent": "uplink-eth0",
                f"{SUB}.vlan": 4000,
            },
        ),
        SUB,
        "'uplink-eth0.4000'",
        id="default-name-too-long",
    ),
    pytest.param(
        changed(STICK, {f"{SUB}.addresses[0]": "10.0.10.2/24"}),
        f"{SUB}.addresses[0]",
        "address 10.0.10.2 is already used by the end on red of link red — br0",
        id="sub-interface-address-taken",
    ),
    pytest.param(
        changed(STICK, {f"{SUB}.addresses[0]": "10.0.10.300/24"}),
        f"{SUB}.addresses[0]",
        "10.0.10.300",
        id="sub-interface-address-invalid",
    ),
    pytest.param(
        changed(STICK, {f"{BRIDGE}.subinterfaces": [{"parent": "p-red", "vlan": 10}]}),
        f"{BRIDGE}.subinterfaces",
        "a bridge has no 'subinterfaces'",
        id="sub-interface-on-a-bridge",
    ),
    pytest.param(
        changed(STICK, {f"{ROUTER}.vlan_filtering": True}),
        f"{ROUTER}.vlan_filtering",
        "a namespace has no 'vlan_filtering'",
        id="vlan-filtering-on-a-namespace",
    ),
    pytest.param(
        changed(STICK, {f"{SUB}.tagged": True}),
        f"{SUB}.tagged",
        "unknown field",
        id="unknown-sub-interface-field",
    ),
]


@pytest.mark.parametrize(("data", "path", "message"), INVALID)
def test_invalid_vlans(data: Any, path: str, message: str) -> None:
    """An invalid VLAN setting is exactly one problem, at its path, for its reason."""
    problems = problems_of(data)
    assert [problem.path for problem in problems] == [path], problems
    assert message in problems[0].message


def test_a_gateway_on_a_sub_interface_is_on_link() -> None:
    """red's gateway 10.0.10.1 is on router's eth0.10: a route of router via blue's subnet
    (on eth0.20) is on-link too, and one via a subnet no interface has is not."""
    ok = changed(STICK, {f"{ROUTER}.routes": [{"to": "10.9.0.0/16", "via": "10.0.20.2"}]})
    assert problems_of(ok) == []
    wrong = changed(STICK, {f"{ROUTER}.routes": [{"to": "10.9.0.0/16", "via": "10.0.30.2"}]})
    assert [problem.path for problem in problems_of(wrong)] == [f"{ROUTER}.routes[0].via"]


def test_sub_interfaces_are_among_a_node_s_addresses_and_interfaces() -> None:
    """Probes reach router by its sub-interfaces' addresses; its console lists them."""
    design = load(STICK)
    assert targets.node_addresses(design, "router") == ["10.0.10.1", "10.0.20.1"]
    assert targets.interfaces_of(design, "router") == ["lo", "eth0", "eth0.10", "eth0.20"]


def test_fields_round_trip_and_are_in_the_schema() -> None:
    """The fields survive a save, and the JSON Schema the browser reads has them."""
    data = changed(STICK, {f"{SUB}.name": "to-red"})
    saved = load(data).to_data()
    assert saved["links"] == data["links"]
    assert saved["nodes"] == data["nodes"]
    defs = json_schema()["$defs"]
    assert {"vlan", "trunk"} <= set(defs["Endpoint"]["properties"])
    assert {"vlan_filtering", "subinterfaces"} <= set(defs["Node"]["properties"])
    assert set(defs["Subinterface"]["properties"]) == {"parent", "vlan", "name", "addresses"}


@pytest.mark.parametrize(
    ("data", "outcome", "nodes"),
    [
        pytest.param(STICK, "delivered", ["red", "router", "blue"], id="routed-on-the-stick"),
        pytest.param(
            changed(
                STICK,
                {
                    "links[1].endpoints[0].addresses[0]": "10.0.10.3/24",
                    "nodes[3].routes": [],
                },
            ),
            None,
            None,
            id="same-subnet-other-vlan-is-isolated",
        ),
        pytest.param(
            changed(
                STICK,
                {
                    "links[1].endpoints[0].addresses[0]": "10.0.10.3/24",
                    "links[1].endpoints[1].vlan": 10,
                    "nodes[3].routes": [],
                },
            ),
            "delivered",
            ["red", "blue"],
            id="same-subnet-same-vlan-talks",
        ),
    ],
)
def test_the_explainer_sees_vlans(data: Any, outcome: str | None, nodes: list[str] | None) -> None:
    """The explainer's model has one segment per VLAN of a filtering bridge, and a trunk's
    VLANs reach the sub-interfaces on its other end."""
    found = explain(load(data), "red", "blue")
    if outcome is None:
        assert found.outcome != "delivered", found.reason
    else:
        assert found.outcome == outcome, found.reason
        assert [hop.node for hop in found.hops] == nodes
