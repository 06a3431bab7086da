"""The tutorial's vocabulary (netlab.core.commands): each line read as a diagnostic to run
or an edit of the design, or refused with its reason; hostile lines never reach a shell; and
the tutorial's own commands, typed on its nodes, build the tutorial's network."""

from __future__ import annotations

import re
from typing import Any

import pytest
from factories import tutorial_data

from netlab.core.commands import Diagnostic, Edit, Refused, apply_edit, parse
from netlab.core.validation import load

READS = [
    ("ip a", ("ip", "addr", "show")),
    ("ip -br a", ("ip", "-br", "addr", "show")),
    ("ip -4 addr show dev veth-red", ("ip", "-4", "addr", "show", "dev", "veth-red")),
    ("ip r", ("ip", "route", "show")),
    ("ip route get 192.168.15.2", ("ip", "route", "get", "192.168.15.2")),
    ("ip -s link", ("ip", "-s", "link", "show")),
    ("ip -j neigh", ("ip", "-j", "neigh", "show")),
    ("ip n show", ("ip", "neigh", "show")),
    ("ping blue", ("ping", "-c", "4", "blue")),
    ("ping -c 2 192.168.15.2", ("ping", "-c", "2", "192.168.15.2")),
    ("tracepath 192.168.1.3", ("tracepath", "192.168.1.3")),
    ("ss -tln", ("ss", "-tln")),
    ("bridge fdb show", ("bridge", "fdb", "show")),
    ("bridge link", ("bridge", "link")),
    ("nft list ruleset", ("nft", "list", "ruleset")),
    ("sysctl net.ipv4.ip_forward", ("sysctl", "net.ipv4.ip_forward")),
]

EDITS = [
    ("ip addr add 192.168.15.1/24 dev veth-red", "add-address",
     {"address": "192.168.15.1/24", "dev": "veth-red"}),
    ("ip a a 192.168.15.1/24 dev veth-red", "add-address",
     {"address": "192.168.15.1/24", "dev": "veth-red"}),
    ("ip -4 addr add 10.0.0.1/24 dev eth0", "add-address",
     {"address": "10.0.0.1/24", "dev": "eth0"}),
    ("ip addr del 192.168.15.1/24 dev veth-red", "delete-address",
     {"address": "192.168.15.1/24", "dev": "veth-red"}),
    ("ip route add default via 192.168.15.5", "add-route",
     {"route": {"to": "default", "via": "192.168.15.5"}}),
    ("ip r a 192.168.1.0/24 via 192.168.15.5 dev veth-blue", "add-route",
     {"route": {"to": "192.168.1.0/24", "via": "192.168.15.5", "dev": "veth-blue"}}),
    ("ip route replace default via 192.168.15.2", "replace-route",
     {"route": {"to": "default", "via": "192.168.15.2"}}),
    ("ip route del default", "delete-route", {"route": {"to": "default"}}),
    ("ip link add v-net-0 type bridge", "add-bridge", {"name": "v-net-0"}),
    ("ip link add veth-red type veth peer name veth-red-br", "add-veth",
     {"name": "veth-red", "peer": "veth-red-br"}),
    ("ip link set veth-red-br master v-net-0", "set-master",
     {"dev": "veth-red-br", "bridge": "v-net-0"}),
    ("ip link set dev veth-red netns red", "set-netns", {"dev": "veth-red", "node": "red"}),
    ("ip link set veth-red up", "link-up", {"dev": "veth-red"}),
    ("ip link set dev veth-red down", "link-down", {"dev": "veth-red"}),
    ("ip l set veth-red mtu 9000", "set-mtu", {"dev": "veth-red", "mtu": 9000}),
    ("sysctl -w net.ipv4.ip_forward=1", "set-forwarding", {"value": True}),
    ("iptables -t nat -A POSTROUTING -s 192.168.15.0/255.255.255.0 -j MASQUERADE", "add-nat",
     {"nat": {"source": "192.168.15.0/24"}}),
    ("iptables -t nat -A POSTROUTING -s 192.168.15.0/24 -o eth0 -j MASQUERADE", "add-nat",
     {"nat": {"source": "192.168.15.0/24", "out": "eth0"}}),
    ("iptables -t nat -A PREROUTING -i eth0 -p tcp --dport 80 -j DNAT --to-destination "
     "192.168.15.2:80", "add-port-forward",
     {"port_forward": {"protocol": "tcp", "port": 80, "to": "192.168.15.2:80", "in": "eth0"}}),
]  # fmt: skip

REFUSED = [
    ("ip a; rm -rf /", "never a shell"),
    ("ping $(cat /etc/shadow)", "never a shell"),
    ("ping `id`", "never a shell"),
    ("ip a > /tmp/x", "never a shell"),
    ("ip a | tee x", "never a shell"),
    ("ip netns exec red bash", "its own namespace"),
    ("ip -n red addr", "this node's namespace"),
    ("ip -batch /etc/passwd", "this node's namespace"),
    ("bash", "not understood"),
    ("curl http://example.org", "not understood"),
    ("ping -f blue", "not understood"),
    ("ping -i 0.001 blue", "at least 0.2 s"),
    ("ping -c 100000 blue", "between 1 and 100"),
    ("ip link set veth-red mtu 9", "a whole number from 68 to 65535"),
    ("ip link set veth-red mtu big", "a whole number from 68 to 65535"),
    ("ip addr add 192.168.15.300/24 dev veth-red", "not an address"),
    ("ip route add default", "a gateway (via) or an interface (dev)"),
    ("sysctl -w kernel.panic=1", "only forwarding"),
    ("iptables -A INPUT -j DROP", "only the nat table"),
    ("nft flush ruleset", "only list ruleset"),
    ("ip link add x type vxlan id 4", "only veth, bridge and vlan"),
    ("'unterminated", "cannot read the line"),
    ("", "an empty line"),
]


@pytest.mark.parametrize(("line", "argv"), READS, ids=[row[0] for row in READS])
def test_a_read_runs_as_checked(line: str, argv: tuple[str, ...]) -> None:
    assert parse(line) == Diagnostic(argv)


@pytest.mark.parametrize(("line", "kind", "fields"), EDITS, ids=[row[0] for row in EDITS])
def test_a_change_is_an_edit(line: str, kind: str, fields: dict[str, Any]) -> None:
    found = parse(line)
    assert isinstance(found, Edit)
    assert (found.kind, found.fields) == (kind, fields)
    assert found.words


@pytest.mark.parametrize(("line", "reason"), REFUSED, ids=[row[0] or "empty" for row in REFUSED])
def test_anything_else_is_refused_with_its_reason(line: str, reason: str) -> None:
    with pytest.raises(Refused, match=re.escape(reason)):
        parse(line)


def typed(data: dict[str, Any], node: str, *lines: str) -> dict[str, Any]:
    for line in lines:
        edit = parse(line)
        assert isinstance(edit, Edit), line
        data = apply_edit(data, node, edit)
    return data


def network_of(data: dict[str, Any]) -> Any:
    """What the kernel would get: links (their ends, addresses) and bridges' addresses."""
    design = load(data)
    ends = sorted(
        tuple(sorted((end.node, end.interface, tuple(end.addresses)) for end in link.endpoints))
        for link in design.links
    )
    bridges = sorted((node.id, node.in_, tuple(node.addresses)) for node in design.nodes
                     if node.kind == "bridge")  # fmt: skip
    return ends, bridges


def test_the_tutorials_commands_build_the_bridge_network() -> None:
    """The seed's bridge section, typed on the host, red and blue."""
    start = {"format": "netlab/v1", "name": "typed", "nodes": [
        {"id": "host", "kind": "host"}, {"id": "red", "kind": "namespace"},
        {"id": "blue", "kind": "namespace"}], "links": []}  # fmt: skip
    data = typed(
        start, "host",
        "ip link add v-net-0 type bridge",
        "ip link set v-net-0 up",
        "ip link add veth-red type veth peer name veth-red-br",
        "ip link add veth-blue type veth peer name veth-blue-br",
        "ip link set veth-red netns red",
        "ip link set veth-blue netns blue",
        "ip link set veth-red-br master v-net-0",
        "ip link set veth-blue-br master v-net-0",
        "ip addr add 192.168.15.5/24 dev v-net-0",
    )  # fmt: skip
    data = typed(data, "red", "ip addr add 192.168.15.1/24 dev veth-red", "ip link set veth-red up")
    data = typed(data, "blue", "ip a a 192.168.15.2/24 dev veth-blue")
    expected = tutorial_data(2)
    ends, bridges = network_of(data)
    want_ends, want_bridges = network_of(expected)
    assert ends == want_ends
    assert [bridge[0::2] for bridge in bridges] == [bridge[0::2] for bridge in want_bridges]


def test_the_gateway_and_nat_commands_make_tutorial_3s_settings() -> None:
    data = typed(tutorial_data(2), "host", "sysctl -w net.ipv4.ip_forward=1",
                 "iptables -t nat -A POSTROUTING -s 192.168.15.0/24 -j MASQUERADE")  # fmt: skip
    data = typed(data, "red", "ip route add default via 192.168.15.5")
    host = next(node for node in load(data).nodes if node.id == "host")
    assert host.forwarding
    assert [nat.source for nat in host.nat] == ["192.168.15.0/24"]
    red = next(node for node in load(data).nodes if node.id == "red")
    assert [(route.to, route.via) for route in red.routes] == [("default", "192.168.15.5")]


def test_edits_that_name_what_is_not_there_are_refused() -> None:
    data = tutorial_data(2)
    for node, line, reason in (
        ("red", "ip addr add 10.0.0.1/24 dev eth9", "red has no interface 'eth9'"),
        ("red", "ip addr del 10.0.0.1/24 dev veth-red", "has no address 10.0.0.1/24"),
        ("red", "ip route del default", "red has no route to default"),
        ("host", "ip link set veth-red-br master nowhere", "no bridge 'nowhere'"),
        ("nobody", "ip a a 10.0.0.1/24 dev x", "no node 'nobody'"),
    ):
        edit = parse(line)
        assert isinstance(edit, Edit)
        with pytest.raises(Refused, match=reason):
            apply_edit(data, node, edit)


def test_a_link_typed_down_up_and_resized_is_the_links_state_and_mtu() -> None:
    data = tutorial_data(1)
    down = typed(data, "red", "ip link set veth-red down", "ip link set veth-red mtu 9000")
    link = load(down).links[0]
    assert (link.up, link.mtu) == (False, 9000)
    assert load(typed(down, "blue", "ip link set veth-blue up")).links[0].up
    bridged = tutorial_data(2)
    with pytest.raises(Refused, match="v-net-0 is a bridge"):
        typed(bridged, "host", "ip link set v-net-0 down")
    assert typed(bridged, "host", "ip link set v-net-0 up") == bridged
