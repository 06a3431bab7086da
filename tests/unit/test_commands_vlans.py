"""VLANs typed in a console or a command script: a bridge's VLAN filtering, its ports' access
VLAN or trunk (``bridge vlan``) and a namespace's sub-interfaces (``ip link add ... type vlan``)
become the design's fields; what the design cannot hold is refused with a sentence."""

from __future__ import annotations

import re
from typing import Any

import pytest
from factories import vlan_design_data

from netlab.core import interop
from netlab.core.commands import Edit, Refused, apply_edit, parse
from netlab.core.validation import load

EDITS = [
    ("ip link set br0 type bridge vlan_filtering 1", "set-vlan-filtering",
     {"bridge": "br0", "value": True}),
    ("ip link set dev br0 type bridge vlan_filtering 0", "set-vlan-filtering",
     {"bridge": "br0", "value": False}),
    ("ip link add br1 type bridge vlan_filtering 1", "add-bridge",
     {"name": "br1", "vlan_filtering": True}),
    ("bridge vlan add dev p-red vid 10 pvid untagged", "set-access-vlan",
     {"dev": "p-red", "vlan": 10}),
    ("bridge vlan add vid 10 untagged pvid dev p-red master", "set-access-vlan",
     {"dev": "p-red", "vlan": 10}),
    ("bridge vlan add dev p-router vid 20", "add-trunk-vlan", {"dev": "p-router", "vlan": 20}),
    ("bridge vlan del dev p-red vid 1", "delete-bridge-vlan", {"dev": "p-red", "vlan": 1}),
    ("ip link add link eth0 name eth0.10 type vlan id 10", "add-subinterface",
     {"parent": "eth0", "vlan": 10}),
    ("ip link add name to-red link eth0 type vlan id 10", "add-subinterface",
     {"parent": "eth0", "vlan": 10, "name": "to-red"}),
    ("ip link add eth0.20 link eth0 type vlan id 20", "add-subinterface",
     {"parent": "eth0", "vlan": 20}),
]  # fmt: skip

REFUSED = [
    ("bridge vlan add dev p-red vid 10 pvid", "an access port (vid N pvid untagged) or a trunk"),
    ("bridge vlan add dev p-red vid 10-20", "one VLAN id"),
    ("bridge vlan add dev br0 vid 10 self", "a bridge's own VLANs"),
    ("bridge vlan add dev p-red vid 10 tagged", "'tagged' is not understood"),
    ("bridge vlan add vid 10", "dev is missing"),
    ("bridge vlan set dev p-red vid 10", "vlan add and del are edits"),
    ("ip link add link eth0 name eth0.10 type vlan", "id is missing"),
    ("ip link add link eth0 name m0 type macvlan", "only a VLAN"),
    ("ip link add name eth0.10 type vlan id 10", "needs its parent"),
    ("ip link set br0 type bridge vlan_filtering 2", "vlan_filtering is 0 or 1"),
]


@pytest.mark.parametrize(("line", "kind", "fields"), EDITS, ids=[row[0] for row in EDITS])
def test_a_vlan_line_is_an_edit(line: str, kind: str, fields: dict[str, Any]) -> None:
    found = parse(line)
    assert isinstance(found, Edit)
    assert (found.kind, found.fields) == (kind, fields)
    assert found.words


@pytest.mark.parametrize(("line", "reason"), REFUSED, ids=[row[0] for row in REFUSED])
def test_a_vlan_line_the_design_cannot_hold_is_refused(line: str, reason: str) -> None:
    with pytest.raises(Refused, match=re.escape(reason)):
        parse(line)


def test_bridge_vlan_show_is_a_diagnostic() -> None:
    assert not isinstance(parse("bridge vlan show"), Edit)


def flat() -> dict[str, Any]:
    """The router on a stick without any VLAN setting: a plain bridge and plain ports."""
    data = vlan_design_data()
    del data["nodes"][1]["vlan_filtering"]
    del data["nodes"][4]["subinterfaces"]
    for link in data["links"]:
        link["endpoints"][1].pop("vlan", None)
        link["endpoints"][1].pop("trunk", None)
    return data


STICK_LINES = [
    ("host", "ip link set br0 type bridge vlan_filtering 1"),
    ("host", "bridge vlan add dev p-red vid 10 pvid untagged"),
    ("host", "bridge vlan del dev p-red vid 1"),
    ("host", "bridge vlan add dev p-blue vid 20 pvid untagged"),
    ("host", "bridge vlan add dev p-router vid 10"),
    ("host", "bridge vlan add dev p-router vid 20"),
    ("host", "bridge vlan del dev p-router vid 1"),
    ("router", "ip link add link eth0 name eth0.10 type vlan id 10"),
    ("router", "ip link add link eth0 name eth0.20 type vlan id 20"),
    ("router", "ip addr add 10.0.10.1/24 dev eth0.10"),
    ("router", "ip addr add 10.0.20.1/24 dev eth0.20"),
    ("router", "ip link set eth0.10 up"),
]


def typed(data: dict[str, Any], lines: list[tuple[str, str]]) -> dict[str, Any]:
    for node, line in lines:
        edit = parse(line)
        assert isinstance(edit, Edit), line
        data = apply_edit(data, node, edit)
    return data


def test_typing_a_router_on_a_stick_makes_its_design() -> None:
    """The lines a tutorial types build exactly the design's VLAN fields."""
    assert load(typed(flat(), STICK_LINES)) == load(vlan_design_data())


def test_a_script_of_the_same_lines_imports_as_the_same_design() -> None:
    """The command-script importer shares the parser: ``ip netns exec`` and ``-n`` lines."""
    before = "\n".join(
        ["ip netns add red", "ip netns add blue", "ip netns add router",
         "ip link add br0 type bridge",
         "ip link add p-red type veth peer name eth0 netns red",
         "ip link add p-blue type veth peer name eth0 netns blue",
         "ip link add p-router type veth peer name eth0 netns router",
         *(f"ip link set {port} master br0" for port in ("p-red", "p-blue", "p-router")),
         "ip -n red addr add 10.0.10.2/24 dev eth0", "ip -n blue addr add 10.0.20.2/24 dev eth0",
         "ip -n red route add default via 10.0.10.1", "ip -n blue route add default via 10.0.20.1",
         "ip netns exec router sysctl -w net.ipv4.ip_forward=1"]
    )  # fmt: skip
    vlans = [
        line if node == "host" else f"ip netns exec {node} {line}" for node, line in STICK_LINES
    ]
    translation = interop.read("\n".join([before, *vlans]) + "\n", "stick.sh")
    design = load(translation.data)
    nodes = {node.id: node for node in design.nodes}
    assert nodes["br0"].vlan_filtering
    assert [(sub.interface, sub.addresses) for sub in nodes["router"].subinterfaces] == [
        ("eth0.10", ("10.0.10.1/24",)),
        ("eth0.20", ("10.0.20.1/24",)),
    ]
    ports = {end.interface: (end.vlan, end.trunk) for link in design.links
             for end in link.endpoints if end.node == "br0"}  # fmt: skip
    assert ports == {"p-red": (10, ()), "p-blue": (20, ()), "p-router": (None, (10, 20))}


def test_vlan_edits_that_the_design_cannot_hold_are_refused() -> None:
    stick = vlan_design_data()
    for node, line, reason in (
        ("host", "bridge vlan add dev p-red vid 30", "access port of VLAN 10: a port here is"),
        ("host", "bridge vlan add dev p-router vid 10", "carries VLAN 10 already"),
        ("host", "bridge vlan del dev p-red vid 30", "p-red is not in VLAN 30"),
        ("red", "bridge vlan add dev eth0 vid 10 pvid untagged", "not a bridge's port"),
        ("host", "ip link add link p-red name p-red.10 type vlan id 10", "is a bridge's port"),
        ("router", "ip link add link eth0 name eth0.10 type vlan id 10", "has eth0.10 already"),
        ("router", "ip link add link eth9 name eth9.10 type vlan id 10", "no interface 'eth9'"),
        ("router", "ip link set eth0.10 mtu 9000", "is a sub-interface: set eth0's link"),
        ("red", "ip link set br0 type bridge vlan_filtering 0", "red holds no bridge 'br0'"),
    ):
        edit = parse(line)
        assert isinstance(edit, Edit)
        with pytest.raises(Refused, match=re.escape(reason)):
            apply_edit(stick, node, edit)


def test_a_port_moves_between_access_and_trunk_and_a_sub_interface_goes() -> None:
    stick = vlan_design_data()
    trunked = typed(
        stick,
        [("host", "bridge vlan del dev p-red vid 10"), ("host", "bridge vlan add dev p-red vid 10"),
         ("host", "bridge vlan add dev p-router vid 30 pvid untagged")],
    )  # fmt: skip
    ports = {end["interface"]: end for link in trunked["links"] for end in link["endpoints"]}
    assert (ports["p-red"].get("vlan"), ports["p-red"]["trunk"]) == (None, [10])
    assert (ports["p-router"]["vlan"], ports["p-router"].get("trunk")) == (30, None)
    fewer = typed(stick, [("router", "ip link del eth0.20")])
    assert [sub["vlan"] for sub in fewer["nodes"][4]["subinterfaces"]] == [10]
    off = typed(stick, [("host", "ip link set br0 type bridge vlan_filtering 0")])
    assert "vlan_filtering" not in off["nodes"][1]
