"""Warnings: MTUs that disagree (netlab.core.consistency) and what a site's kernel lacks
(netlab.core.features.warnings). A warning never makes a document invalid."""

from __future__ import annotations

from typing import Any

import pytest
from factories import DELETE, bridge, changed, endpoint, host, link, node, vlan_design_data

from netlab.core import features
from netlab.core.validation import load, problems_of, warnings_of

STICK = vlan_design_data()
ROUTER = "nodes[4]"


def star(*mtus: int | None, **bridge_fields: Any) -> dict[str, Any]:
    """A bridge br0 with one namespace per MTU (None: the link names none)."""
    nodes = [host(), bridge("br0", **bridge_fields)]
    links = []
    for index, mtu in enumerate(mtus):
        name = f"n{index}"
        nodes.append(node(name))
        made = link(endpoint(name, "eth0", f"10.0.0.{index + 1}/24"), endpoint("br0", f"p-{name}"))
        if mtu is not None:
            made["mtu"] = mtu
        links.append(made)
    return {"format": "netlab/v1", "name": "star", "nodes": nodes, "links": links}


WARNED = [
    pytest.param(
        star(9000, 1500),
        [
            (
                "links[0].mtu",
                "n0 — br0: p-n0 is a port of bridge br0 with MTU 9000, larger than its port "
                "p-n1's 1500: frames over 1500 bytes are dropped there (give the bridge's ports "
                "one MTU)",
            )
        ],
        id="bridge-ports-differ",
    ),
    pytest.param(
        star(None, 1400, 9000),
        [
            (
                "links[0]",
                "n0 — br0: p-n0 is a port of bridge br0 with MTU 1500, larger than its port "
                "p-n1's 1400: frames over 1400 bytes are dropped there (give the bridge's ports "
                "one MTU)",
            ),
            (
                "links[2].mtu",
                "n2 — br0: p-n2 is a port of bridge br0 with MTU 9000, larger than its port "
                "p-n1's 1400: frames over 1400 bytes are dropped there (give the bridge's ports "
                "one MTU)",
            ),
        ],
        id="a-default-mtu-is-1500",
    ),
    pytest.param(
        changed(STICK, {"links[0].mtu": 9000}),
        [
            (
                f"{ROUTER}.subinterfaces[0]",
                "router: eth0.10 takes eth0's MTU, 1500, smaller than the 9000 of p-red in "
                "VLAN 10 on bridge br0: frames over 1500 bytes from there are dropped",
            ),
            (
                "links[0].mtu",
                "red — br0: p-red is a port of bridge br0 with MTU 9000, larger than its port "
                "p-router's 1500: frames over 1500 bytes are dropped there (give the bridge's "
                "ports one MTU)",
            ),
        ],
        id="sub-interface-smaller-than-its-vlan",
    ),
]


@pytest.mark.parametrize(("data", "expected"), WARNED)
def test_warnings(data: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    """Each warning is located and named as a problem is, severity "warning"; the design
    stays valid."""
    assert problems_of(data) == []
    found = warnings_of(data)
    assert [(warning.path, warning.sentence) for warning in found] == expected
    assert {warning.as_dict()["severity"] for warning in found} == {"warning"}


QUIET = [
    pytest.param(star(None, None), id="no-mtu"),
    pytest.param(star(9000, 9000), id="one-mtu"),
    pytest.param(star(9000), id="one-port"),
    pytest.param(STICK, id="router-on-a-stick"),
    # VLAN 10 is all 9000 (red and the router's trunk); blue is alone in VLAN 30.
    pytest.param(
        changed(
            STICK, {"links[0].mtu": 9000, "links[2].mtu": 9000, "links[1].endpoints[1].vlan": 30}
        ),
        id="vlans-apart",
    ),
    # Not a bridge's port: two namespaces straight, one MTU for both ends anyway.
    pytest.param(
        changed(star(None, None), {"links": [link(endpoint("n0"), endpoint("n1")) | {"mtu": 900}]}),
        id="veth",
    ),
]


@pytest.mark.parametrize("data", QUIET)
def test_no_warnings(data: dict[str, Any]) -> None:
    """Ports that agree, or share no VLAN, are not warned about."""
    assert problems_of(data) == []
    assert warnings_of(data) == []


def test_an_ill_shaped_document_has_no_warnings() -> None:
    """Its problems say what is wrong; warnings need a document."""
    assert warnings_of({"name": 3}) == []


def test_ipv6_on_a_sub_interface_below_1280_is_a_problem() -> None:
    """A sub-interface takes its parent's MTU: IPv6 on it needs 1280 too."""
    data = changed(
        STICK, {"links[2].mtu": 1000, f"{ROUTER}.subinterfaces[0].addresses[1]": "fd00::1/64"}
    )
    assert [(problem.path, problem.message) for problem in problems_of(data)] == [
        (
            f"{ROUTER}.subinterfaces[0].addresses[1]",
            "IPv6 needs an MTU of at least 1280 and eth0.10 takes eth0's, 1000: the kernel "
            "turns IPv6 off on it",
        )
    ]


def test_kernel_warnings_name_the_site() -> None:
    """A capability the site's kernel lacks marks each element needing it, in the words of the
    worker's refusal; one it has, or did not say, marks nothing."""
    data = changed(STICK, {"links[0].impairment": {"delay_ms": 30}})
    design = load(data)
    have = {"netem": False, "bridge-vlan-filtering": True}  # no word of "vlan"
    found = features.warnings(design, have, "site lab-2's kernel")
    assert [(warning.path, warning.message) for warning in found] == [
        (
            "links[0]",
            "delay needs the kernel's netem qdisc (CONFIG_NET_SCH_NETEM), which site lab-2's "
            "kernel lacks",
        )
    ]
    assert found[0].severity == "warning"
    everything = {capability.name: True for capability in features.CAPABILITIES}
    assert features.warnings(design, everything, "k") == []
    nothing = {capability.name: False for capability in features.CAPABILITIES}
    assert [warning.path for warning in features.warnings(design, nothing, "k")] == [
        "links[0]",
        "nodes[1].vlan_filtering",
        f"{ROUTER}.subinterfaces[0]",
    ]


def test_problems_keep_their_four_fields() -> None:
    """The problem JSON is unchanged: severity is only on warnings."""
    problem = problems_of(changed(STICK, {"links[0].endpoints[1].vlan": DELETE, "name": ""}))[0]
    assert set(problem.as_dict()) == {"path", "message", "element", "sentence"}
