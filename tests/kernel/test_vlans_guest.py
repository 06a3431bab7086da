"""VLANs on a kernel that has them (marked ``guest_kernel``).

This machine's kernel has neither 802.1Q nor bridge VLAN filtering: here these tests skip,
and ``make test`` runs them in a guest booted with Debian's stock kernel
(tests/kernel/test_guest_kernel.py). Two labs, kept few and fast: isolation on one filtering
bridge, and a router on a stick.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from enginekit import Kit, requires_root
from factories import bridge, changed, design_data, endpoint, link, node, vlan_design_data

from netlab.core.validation import load
from netlab.kernel import engine, features, probes


def _has_vlans() -> bool:
    have = features.supported()
    return have["vlan"] and have["bridge-vlan-filtering"]


pytestmark = [
    pytest.mark.kernel,
    pytest.mark.guest_kernel,
    requires_root,
    pytest.mark.skipif(
        os.geteuid() != 0 or not _has_vlans(),
        reason="this kernel has no VLANs: make test runs these in a guest with Debian's kernel",
    ),
]

# red and blue on one subnet, on one filtering bridge, in VLANs 10 and 20.
SPLIT = design_data(
    nodes=[node("host", "host"), bridge("br0", vlan_filtering=True), node("red"), node("blue")],
    links=[
        link(endpoint("red", "eth0", "10.0.0.1/24"), endpoint("br0", "p-red") | {"vlan": 10}),
        link(endpoint("blue", "eth0", "10.0.0.2/24"), endpoint("br0", "p-blue") | {"vlan": 20}),
    ],
)
STICK = vlan_design_data()


def ping(record: engine.DeploymentRecord, address: str, count: int) -> probes.PingResult:
    red = record.namespaces["red"]
    assert red is not None
    return probes.ping(red, address, count=count, interval=0.05, timeout=1.0)


def drift_of(data: dict[str, Any], record: engine.DeploymentRecord) -> list[tuple[str, str]]:
    return [(drift.kind, drift.subject) for drift in engine.check(load(data), record)]


def test_two_vlans_on_one_bridge_are_isolated_until_a_port_joins_the_other(kit: Kit) -> None:
    """Same subnet, different access VLANs: no ping. blue's port moved to VLAN 10 live:
    ping. check is clean after both, and tells a port in the wrong VLAN."""
    record = kit.deploy(load(SPLIT))
    assert drift_of(SPLIT, record) == []
    assert ping(record, "10.0.0.2", 3).received == 0
    joined = changed(SPLIT, {"links[1].endpoints[1].vlan": 10})
    record = engine.change(load(SPLIT), load(joined), record, state_dir=kit.state_dir)
    assert drift_of(joined, record) == []
    assert ping(record, "10.0.0.2", 3).received == 3
    elsewhere = changed(SPLIT, {"links[1].endpoints[1].vlan": 30})
    assert drift_of(elsewhere, record) == [
        ("vlan-missing", "p-blue"),
        ("vlan-unexpected", "p-blue"),
    ]
    kit.destroy(record)


def test_a_router_on_a_stick_routes_between_two_vlans(kit: Kit) -> None:
    """router's trunk carries VLANs 10 and 20 tagged to its sub-interfaces eth0.10 and
    eth0.20: red (VLAN 10) pings blue (VLAN 20) through it; check is clean, and tells a
    sub-interface that is gone."""
    record = kit.deploy(load(STICK))
    assert drift_of(STICK, record) == []
    assert features.supported() == {
        "netem": True,
        "tbf": True,
        "bridge-vlan-filtering": True,
        "vlan": True,
    }
    assert ping(record, "10.0.20.2", 3).received == 3
    assert ping(record, "10.0.10.1", 1).received == 1
    third = changed(STICK, {"nodes[4].subinterfaces[2]": {"parent": "eth0", "vlan": 30}})
    assert drift_of(third, record) == [("link-missing", "eth0.30")]
    kit.destroy(record)
