"""Validation of ``netlab/v1`` documents: every rule, one named row per case.

Invalid rows change one thing in a valid document and expect exactly one problem, at the
path of what was changed (or of the element the rule is about), with a distinctive part of
its message.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from factories import (
    DELETE,
    TUTORIALS,
    bridge,
    changed,
    design_data,
    endpoint,
    host,
    link,
    nat,
    node,
    port_forward,
    route,
    service,
    tutorial_data,
)

from netlab.core import codec, validation
from netlab.core.document import Document
from netlab.core.problems import element_name
from netlab.core.validation import InvalidDesign, Problem, format_path, load, problems_of

# The tutorial's whole network. nodes: 0 host, 1 v-net-0 (bridge), 2 red, 3 blue, 4 lan.
# links: 0 red-v-net-0, 1 blue-v-net-0, 2 host eth0 - lan eth0.
T4 = tutorial_data(4)
SMALL = design_data()
HOST_ETH0 = "links[2].endpoints[0].addresses[0]"
LAN_ETH0 = "links[2].endpoints[1]"


def nested(depth: int) -> list[Any]:
    """Return a list nested ``depth`` levels deep, built without recursion."""
    outer: list[Any] = []
    inner = outer
    for _ in range(depth):
        inner.append([])
        inner = inner[0]
    return outer


def deep_text(depth: int) -> str:
    """Return JSON (and YAML flow) text of a list nested ``depth`` levels deep."""
    return "[" * depth + "]" * depth


VALID = [
    pytest.param(SMALL, id="small-design"),
    pytest.param(design_data(nodes=[host()], links=[]), id="host-alone"),
    pytest.param(
        design_data(
            nodes=[host("gw"), bridge("br0", addresses=["10.0.0.1/24"]), node("red")],
            links=[link(endpoint("red", "eth0", "10.0.0.2/24"), endpoint("br0", "br0-red"))],
        ),
        id="bridge-without-in-lives-in-the-host-whatever-its-id",
    ),
    pytest.param(changed(SMALL, {"format": DELETE}), id="format-absent-means-v1"),
    pytest.param(changed(SMALL, {"nodes[1].position": {"x": 1.5, "y": -20}}), id="float-position"),
    pytest.param(
        changed(
            SMALL,
            {
                "links[0].endpoints[0].addresses[0]": "10.0.0.0/31",
                "links[0].endpoints[1].addresses[0]": "10.0.0.1/31",
            },
        ),
        id="ipv4-slash-31-has-no-network-or-broadcast",
    ),
    pytest.param(
        changed(SMALL, {"links[0].endpoints[0].addresses[0]": "10.0.0.1/32"}),
        id="ipv4-slash-32",
    ),
    pytest.param(
        changed(
            SMALL,
            {
                "links[0].endpoints[0].addresses[1]": "2001:db8::1/64",
                "links[0].endpoints[1].addresses[1]": "2001:db8::2/64",
                "nodes[1].routes": [
                    route("default", via="2001:db8::2"),
                    route("default", via="192.168.15.2"),
                ],
            },
        ),
        id="ipv4-and-ipv6-default-routes-are-different-routes",
    ),
    pytest.param(
        changed(SMALL, {"nodes[1].routes": [route("10.9.0.0/16", dev="veth-red")]}),
        id="route-with-dev-only",
    ),
    pytest.param(
        changed(SMALL, {"nodes[1].routes": [route("10.9.0.0/16", via="10.0.0.1", dev="veth-red")]}),
        id="gateway-off-subnet-allowed-with-dev",
    ),
    pytest.param(
        changed(T4, {"nodes[0].port_forwards[0].to": "192.168.15.2"}),
        id="port-forward-to-bare-address",
    ),
    pytest.param(
        changed(T4, {"nodes[0].port_forwards[0].to": "[2001:db8::2]:8080"}),
        id="port-forward-to-ipv6-socket",
    ),
    pytest.param(
        changed(
            T4,
            {
                "nodes[0].port_forwards[0].protocol": "udp",
                "nodes[0].port_forwards[0].port": 65535,
                "nodes[0].port_forwards[0].in": DELETE,
            },
        ),
        id="port-forward-udp-last-port-any-interface",
    ),
    pytest.param(
        changed(T4, {"nodes[3].services": [service("http", 1), service("tcp", 65535)]}),
        id="service-ports-at-both-ends-of-range",
    ),
    pytest.param(
        changed(T4, {"nodes[2].services": [service("http", 80)]}),
        id="same-service-port-in-two-nodes",
    ),
    pytest.param(
        changed(
            T4,
            {
                "nodes[1].id": "v-net-0-123456",
                "links[0].endpoints[1].node": "v-net-0-123456",
                "links[1].endpoints[1].node": "v-net-0-123456",
                "links[2].endpoints[1].interface": "abcdefghijklmno",
            },
        ),
        id="names-of-15-bytes",
    ),
    pytest.param(
        changed(SMALL, {"nodes[1].id": "r" * 32, "links[0].endpoints[0].node": "r" * 32}),
        id="node-id-of-32-characters",
    ),
    pytest.param(
        design_data(
            nodes=[
                host(),
                node("red"),
                node("blue"),
                bridge("br0", in_="red", addresses=["10.1.0.1/24"]),
            ],
            links=[link(endpoint("blue", "eth0", "10.1.0.2/24"), endpoint("br0", "br0-blue"))],
        ),
        id="bridge-held-by-a-namespace",
    ),
    pytest.param(changed(T4, {"nodes[1].in": DELETE}), id="bridge-held-by-the-host-by-default"),
]


@pytest.mark.parametrize("data", VALID)
def test_valid_document(data: dict[str, Any]) -> None:
    """A valid document has no problem and loads into a Document."""
    assert problems_of(data) == []
    assert isinstance(load(data), Document)


@pytest.mark.parametrize("path", TUTORIALS.values(), ids=lambda path: path.stem)
def test_tutorial_examples_are_valid(path: Any) -> None:
    """Each of the four tutorial examples loads without a problem."""
    design = codec.load_text(path.read_bytes())
    assert design.name == f"tutorial-{path.stem}"


INVALID = [
    # Addresses.
    pytest.param(
        changed(T4, {HOST_ETH0: "192.168.15.300/24"}),
        HOST_ETH0,
        "'192.168.15.300/24': 300 is not a valid byte",
        id="address-octet-over-255",
    ),
    pytest.param(
        changed(T4, {HOST_ETH0: "red/24"}),
        HOST_ETH0,
        "is not an IP interface address",
        id="address-not-an-address",
    ),
    pytest.param(
        changed(T4, {HOST_ETH0: "192.168.1.2/33"}),
        HOST_ETH0,
        "'192.168.1.2/33': the prefix length 33 is more than 32",
        id="address-prefix-over-32",
    ),
    pytest.param(
        changed(T4, {HOST_ETH0: "2001:db8::g/64"}),
        HOST_ETH0,
        "is not an IP interface address",
        id="address-ipv6-bad-digit",
    ),
    pytest.param(
        changed(T4, {HOST_ETH0: "192.168.1.2"}),
        HOST_ETH0,
        "has no prefix length",
        id="address-without-prefix",
    ),
    pytest.param(changed(T4, {HOST_ETH0: ""}), HOST_ETH0, "is empty", id="address-empty"),
    pytest.param(
        changed(T4, {HOST_ETH0: "192.168.1.0/24"}),
        HOST_ETH0,
        "is the network address of 192.168.1.0/24",
        id="address-network",
    ),
    pytest.param(
        changed(T4, {HOST_ETH0: "192.168.1.255/24"}),
        HOST_ETH0,
        "is the broadcast address of 192.168.1.0/24",
        id="address-broadcast",
    ),
    pytest.param(
        changed(T4, {HOST_ETH0: "10.0.0.4/30"}),
        HOST_ETH0,
        "is the network address of 10.0.0.4/30",
        id="address-network-of-slash-30",
    ),
    pytest.param(
        changed(T4, {HOST_ETH0: "127.0.0.2/8"}),
        HOST_ETH0,
        "is not a usable interface address",
        id="address-loopback",
    ),
    pytest.param(
        changed(T4, {HOST_ETH0: "0.0.0.0/8"}),
        HOST_ETH0,
        "is not a usable interface address",
        id="address-unspecified",
    ),
    pytest.param(
        changed(T4, {HOST_ETH0: "224.0.0.1/24"}),
        HOST_ETH0,
        "is not a usable interface address",
        id="address-multicast",
    ),
    pytest.param(
        changed(T4, {HOST_ETH0: "::1/128"}),
        HOST_ETH0,
        "is not a usable interface address",
        id="address-ipv6-loopback",
    ),
    pytest.param(
        changed(T4, {HOST_ETH0: "192.168.15.1/24"}),
        HOST_ETH0,
        "address 192.168.15.1 is already used by the end on red of link red — v-net-0",
        id="address-duplicated-across-namespaces",
    ),
    pytest.param(
        changed(T4, {HOST_ETH0: "192.168.15.5/16"}),
        HOST_ETH0,
        "is already used by bridge v-net-0",
        id="address-duplicated-with-other-prefix-on-bridge",
    ),
    pytest.param(
        changed(T4, {f"{LAN_ETH0}.addresses[1]": "192.168.1.3/24"}),
        f"{LAN_ETH0}.addresses[1]",
        "is already used by the end on lan of link host — lan",
        id="address-duplicated-on-one-interface",
    ),
    pytest.param(
        changed(T4, {"nodes[1].addresses[0]": "192.168.15.5"}),
        "nodes[1].addresses[0]",
        "has no prefix length",
        id="bridge-address-bad",
    ),
    pytest.param(
        changed(T4, {"links[0].endpoints[1].addresses": ["192.168.15.9/24"]}),
        "links[0].endpoints[1].addresses",
        "veth-red-br is a port of bridge 'v-net-0' and takes no address",
        id="address-on-bridge-port",
    ),
    # Node ids and the design name.
    pytest.param(
        changed(SMALL, {"nodes[3]": node("red")}),
        "nodes[3].id",
        "duplicate node id 'red'",
        id="node-id-duplicated",
    ),
    pytest.param(
        changed(SMALL, {"nodes[3]": node("red one")}),
        "nodes[3].id",
        "node id 'red one' must be 1-32 letters",
        id="node-id-with-space",
    ),
    pytest.param(
        changed(SMALL, {"nodes[3]": node("a/b")}),
        "nodes[3].id",
        "must be 1-32 letters",
        id="node-id-with-slash",
    ),
    pytest.param(
        changed(SMALL, {"nodes[3]": node("-red")}),
        "nodes[3].id",
        "starting with a letter or digit",
        id="node-id-starting-with-dash",
    ),
    pytest.param(
        changed(SMALL, {"nodes[3]": node("")}),
        "nodes[3].id",
        "must be 1-32 letters",
        id="node-id-empty",
    ),
    pytest.param(
        changed(SMALL, {"nodes[3]": node("r" * 33)}),
        "nodes[3].id",
        "must be 1-32 letters",
        id="node-id-of-33-characters",
    ),
    pytest.param(
        changed(SMALL, {"nodes[3]": node("rød")}),
        "nodes[3].id",
        "must be 1-32 letters",
        id="node-id-not-ascii",
    ),
    pytest.param(
        changed(SMALL, {"nodes[3]": node("green\n")}),
        "nodes[3].id",
        "must be 1-32 letters",
        id="node-id-with-trailing-newline",
    ),
    pytest.param(
        changed(SMALL, {"nodes[3]": bridge("bridge-0123456789")}),
        "nodes[3].id",
        "a bridge's id is its interface name",
        id="bridge-id-over-15-bytes",
    ),
    pytest.param(
        changed(SMALL, {"nodes[3]": bridge("lo")}),
        "nodes[3].id",
        "interface name 'lo' is reserved",
        id="bridge-id-lo",
    ),
    pytest.param(
        changed(SMALL, {"name": "Tutorial 4"}),
        "name",
        "design name 'Tutorial 4' must be a slug",
        id="design-name-not-a-slug",
    ),
    pytest.param(
        changed(SMALL, {"name": "lab\n"}),
        "name",
        "must be a slug",
        id="design-name-with-trailing-newline",
    ),
    # Interface names (lan's eth0: no other rule looks at it).
    pytest.param(
        changed(T4, {f"{LAN_ETH0}.interface": "abcdefghijklmnop"}),
        f"{LAN_ETH0}.interface",
        "is 16 bytes long; the kernel allows 15",
        id="interface-name-of-16-bytes",
    ),
    pytest.param(
        changed(T4, {f"{LAN_ETH0}.interface": "é" * 15}),
        f"{LAN_ETH0}.interface",
        "is 30 bytes long; the kernel allows 15",
        id="interface-name-of-15-characters-30-bytes",
    ),
    pytest.param(
        changed(T4, {f"{LAN_ETH0}.interface": "veth-lan-00000é"}),
        f"{LAN_ETH0}.interface",
        "is 16 bytes long",
        id="interface-name-15-chars-16-bytes",
    ),
    pytest.param(
        changed(T4, {f"{LAN_ETH0}.interface": "rød"}),
        f"{LAN_ETH0}.interface",
        "may only hold letters, digits",
        id="interface-name-not-ascii",
    ),
    pytest.param(
        changed(T4, {f"{LAN_ETH0}.interface": "eth/0"}),
        f"{LAN_ETH0}.interface",
        "may only hold letters, digits",
        id="interface-name-with-slash",
    ),
    pytest.param(
        changed(T4, {f"{LAN_ETH0}.interface": "eth0;reboot"}),
        f"{LAN_ETH0}.interface",
        "may only hold letters, digits",
        id="interface-name-with-semicolon",
    ),
    pytest.param(
        changed(T4, {f"{LAN_ETH0}.interface": "eth 0"}),
        f"{LAN_ETH0}.interface",
        "may only hold letters, digits",
        id="interface-name-with-space",
    ),
    pytest.param(
        changed(T4, {f"{LAN_ETH0}.interface": "eth0\n"}),
        f"{LAN_ETH0}.interface",
        "may only hold letters, digits",
        id="interface-name-with-trailing-newline",
    ),
    pytest.param(
        changed(T4, {f"{LAN_ETH0}.interface": "a..b"}),
        f"{LAN_ETH0}.interface",
        "may not be '.' or contain '..'",
        id="interface-name-with-dot-dot",
    ),
    pytest.param(
        changed(T4, {f"{LAN_ETH0}.interface": "."}),
        f"{LAN_ETH0}.interface",
        "may not be '.'",
        id="interface-name-dot",
    ),
    pytest.param(
        changed(T4, {f"{LAN_ETH0}.interface": "lo"}),
        f"{LAN_ETH0}.interface",
        "interface name 'lo' is reserved by the kernel",
        id="interface-name-lo",
    ),
    pytest.param(
        changed(T4, {f"{LAN_ETH0}.interface": "all"}),
        f"{LAN_ETH0}.interface",
        "is reserved by the kernel",
        id="interface-name-all",
    ),
    pytest.param(
        changed(T4, {f"{LAN_ETH0}.interface": ""}),
        f"{LAN_ETH0}.interface",
        "interface name is empty",
        id="interface-name-empty",
    ),
    pytest.param(
        changed(T4, {"links[3]": link(endpoint("lan", "eth0"), endpoint("red", "x"))}),
        "links[3].endpoints[0].interface",
        "interface 'eth0' already exists in 'lan' (the end on lan of link host — lan)",
        id="interface-duplicated-in-namespace",
    ),
    pytest.param(
        changed(T4, {"links[3]": link(endpoint("host", "v-net-0"), endpoint("red", "x"))}),
        "links[3].endpoints[0].interface",
        "interface 'v-net-0' already exists in 'host' (bridge v-net-0)",
        id="interface-named-like-a-bridge-of-its-namespace",
    ),
    pytest.param(
        changed(T4, {"links[3]": link(endpoint("host", "veth-blue-br"), endpoint("lan", "eth1"))}),
        "links[3].endpoints[0].interface",
        "'veth-blue-br' already exists in 'host' (the end on v-net-0 of link blue — v-net-0)",
        id="interface-named-like-a-bridge-port-in-the-holder",
    ),
    pytest.param(
        changed(T4, {"links[3]": link(endpoint("red", "x"), endpoint("red", "x"))}),
        "links[3].endpoints[1].interface",
        "'x' already exists in 'red'",
        id="interface-duplicated-by-both-ends-of-a-link",
    ),
    # Links and endpoints.
    pytest.param(
        changed(T4, {f"{LAN_ETH0}.node": "green"}),
        f"{LAN_ETH0}.node",
        "no node 'green' in this design",
        id="endpoint-unknown-node",
    ),
    pytest.param(
        changed(SMALL, {"links[0].endpoints[1]": DELETE}),
        "links[0].endpoints",
        "at least 2 items",
        id="link-with-one-endpoint",
    ),
    pytest.param(
        changed(SMALL, {"links[0].endpoints[2]": endpoint("host", "x")}),
        "links[0].endpoints",
        "at most 2 items",
        id="link-with-three-endpoints",
    ),
    # Routes (blue: 192.168.15.2/24 on veth-blue).
    pytest.param(
        changed(T4, {"nodes[3].routes[0].via": "10.0.0.1"}),
        "nodes[3].routes[0].via",
        "10.0.0.1 is not on any subnet of blue",
        id="route-gateway-off-link",
    ),
    pytest.param(
        changed(T4, {"nodes[3].routes[0].via": "gateway"}),
        "nodes[3].routes[0].via",
        "'gateway' is not an IP address",
        id="route-gateway-not-an-address",
    ),
    pytest.param(
        changed(T4, {"nodes[3].routes[0]": route("192.168.1.0/24")}),
        "nodes[3].routes[0]",
        "a route needs a gateway ('via') or an interface ('dev')",
        id="route-without-via-or-dev",
    ),
    pytest.param(
        changed(T4, {"nodes[3].routes[0]": route("192.168.1.0/24", dev="eth9")}),
        "nodes[3].routes[0].dev",
        "blue has no interface 'eth9' (it has: veth-blue)",
        id="route-dev-missing",
    ),
    pytest.param(
        changed(T4, {"nodes[3].routes[0].to": "192.168.1.1/24"}),
        "nodes[3].routes[0].to",
        "has host bits set; did you mean 192.168.1.0/24?",
        id="route-to-with-host-bits",
    ),
    pytest.param(
        changed(T4, {"nodes[3].routes[0].to": "lan"}),
        "nodes[3].routes[0].to",
        "'lan' is not an IP prefix",
        id="route-to-not-a-prefix",
    ),
    pytest.param(
        changed(T4, {"nodes[3].routes[0].to": "2001:db8::/32"}),
        "nodes[3].routes[0].via",
        "are not of the same IP version",
        id="route-family-mismatch",
    ),
    pytest.param(
        changed(T4, {"nodes[3].routes[1].to": "192.168.1.0/24"}),
        "nodes[3].routes[1].to",
        "a route to 192.168.1.0/24 is already route 1 of blue",
        id="route-duplicated",
    ),
    pytest.param(
        changed(T4, {"nodes[3].routes[2]": route("0.0.0.0/0", via="192.168.15.5")}),
        "nodes[3].routes[2].to",
        "a route to 0.0.0.0/0 is already route 2 of blue",
        id="route-duplicated-default-spelt-as-prefix",
    ),
    # NAT and port forwards (the host has eth0, v-net-0 and the two bridge ports).
    pytest.param(
        changed(T4, {"nodes[0].nat[0].out": "eth9"}),
        "nodes[0].nat[0].out",
        "host has no interface 'eth9' (it has: eth0, v-net-0, veth-blue-br, veth-red-br)",
        id="nat-on-missing-interface",
    ),
    pytest.param(
        changed(T4, {"nodes[0].nat[0].source": "everything"}),
        "nodes[0].nat[0].source",
        "'everything' is not an IP prefix",
        id="nat-source-not-a-prefix",
    ),
    pytest.param(
        changed(T4, {"nodes[0].nat[0].source": "192.168.15.1/24"}),
        "nodes[0].nat[0].source",
        "has host bits set",
        id="nat-source-with-host-bits",
    ),
    pytest.param(
        changed(T4, {"nodes[0].port_forwards[0].port": 0}),
        "nodes[0].port_forwards[0].port",
        "port 0 is out of range 1-65535",
        id="port-forward-port-0",
    ),
    pytest.param(
        changed(T4, {"nodes[0].port_forwards[0].port": 65536}),
        "nodes[0].port_forwards[0].port",
        "port 65536 is out of range 1-65535",
        id="port-forward-port-65536",
    ),
    pytest.param(
        changed(T4, {"nodes[0].port_forwards[0].in": "eth9"}),
        "nodes[0].port_forwards[0].in",
        "host has no interface 'eth9'",
        id="port-forward-in-missing-interface",
    ),
    pytest.param(
        changed(T4, {"nodes[0].port_forwards[0].to": "blue:80"}),
        "nodes[0].port_forwards[0].to",
        "'blue:80' is not an address or address:port",
        id="port-forward-to-a-name",
    ),
    pytest.param(
        changed(T4, {"nodes[0].port_forwards[0].to": "192.168.15.2:http"}),
        "nodes[0].port_forwards[0].to",
        "has a port that is not a number",
        id="port-forward-to-named-port",
    ),
    pytest.param(
        changed(T4, {"nodes[0].port_forwards[0].to": "192.168.15.2:٨٠"}),
        "nodes[0].port_forwards[0].to",
        "has a port that is not a number",
        id="port-forward-to-non-ascii-digits",
    ),
    pytest.param(
        changed(T4, {"nodes[0].port_forwards[0].to": "192.168.15.2:0"}),
        "nodes[0].port_forwards[0].to",
        "port 0 is out of range",
        id="port-forward-to-port-0",
    ),
    pytest.param(
        changed(T4, {"nodes[0].port_forwards[0].to": "[2001:db8::2]:65536"}),
        "nodes[0].port_forwards[0].to",
        "port 65536 is out of range",
        id="port-forward-to-ipv6-port-65536",
    ),
    # Services (blue serves http on 80).
    pytest.param(
        changed(T4, {"nodes[3].services[0].port": 0}),
        "nodes[3].services[0].port",
        "port 0 is out of range",
        id="service-port-0",
    ),
    pytest.param(
        changed(T4, {"nodes[3].services[0].port": 65536}),
        "nodes[3].services[0].port",
        "port 65536 is out of range",
        id="service-port-65536",
    ),
    pytest.param(
        changed(T4, {"nodes[3].services[1]": service("tcp", 80)}),
        "nodes[3].services[1].port",
        "port 80 is already used by service 1 of blue",
        id="service-port-duplicated",
    ),
    # Hosts and bridges.
    pytest.param(
        changed(T4, {"nodes[4].kind": "host"}),
        "nodes",
        "a design has exactly one node of kind 'host'; found 2",
        id="two-hosts",
    ),
    pytest.param(
        design_data(nodes=[node("red"), node("blue")]),
        "nodes",
        "exactly one node of kind 'host'; found 0",
        id="no-host",
    ),
    pytest.param(
        changed(T4, {"nodes[1].in": "router"}),
        "nodes[1].in",
        "no node 'router' to hold this bridge",
        id="bridge-in-missing-node",
    ),
    pytest.param(
        changed(T4, {"nodes[5]": bridge("br1", in_="v-net-0")}),
        "nodes[5].in",
        "'v-net-0' is a bridge; a bridge lives in a namespace",
        id="bridge-in-a-bridge",
    ),
    # Fields on the wrong kind of node.
    pytest.param(
        changed(T4, {"nodes[2].addresses": ["192.168.15.9/24"]}),
        "nodes[2].addresses",
        "a namespace has no 'addresses'; only bridges have it",
        id="addresses-on-a-namespace",
    ),
    pytest.param(
        changed(T4, {"nodes[2].in": "host"}),
        "nodes[2].in",
        "a namespace has no 'in'",
        id="in-on-a-namespace",
    ),
    pytest.param(
        changed(T4, {"nodes[0].in": "lan"}),
        "nodes[0].in",
        "a host has no 'in'",
        id="in-on-the-host",
    ),
    pytest.param(
        changed(T4, {"nodes[1].routes": [route(via="192.168.15.1")]}),
        "nodes[1].routes",
        "a bridge has no 'routes'; only the host and namespaces have it",
        id="routes-on-a-bridge",
    ),
    pytest.param(
        changed(T4, {"nodes[1].forwarding": True}),
        "nodes[1].forwarding",
        "a bridge has no 'forwarding'",
        id="forwarding-on-a-bridge",
    ),
    pytest.param(
        changed(T4, {"nodes[1].nat": [nat()]}),
        "nodes[1].nat",
        "a bridge has no 'nat'",
        id="nat-on-a-bridge",
    ),
    pytest.param(
        changed(T4, {"nodes[1].port_forwards": [port_forward()]}),
        "nodes[1].port_forwards",
        "a bridge has no 'port_forwards'",
        id="port-forwards-on-a-bridge",
    ),
    pytest.param(
        changed(T4, {"nodes[1].services": [service()]}),
        "nodes[1].services",
        "a bridge has no 'services'",
        id="services-on-a-bridge",
    ),
    # Non-finite positions are not JSON and cannot be drawn.
    pytest.param(
        changed(T4, {"nodes[2].position.x": float("nan")}),
        "nodes[2].position.x",
        "a position must be a finite number",
        id="position-nan",
    ),
    pytest.param(
        changed(T4, {"nodes[2].position.y": float("inf")}),
        "nodes[2].position.y",
        "a position must be a finite number",
        id="position-infinite",
    ),
    # Unknown fields at every level.
    pytest.param(
        changed(T4, {"colour": "red"}),
        "colour",
        "unknown field 'colour'",
        id="unknown-field-in-design",
    ),
    pytest.param(
        changed(T4, {"nodes[2].colour": "red"}),
        "nodes[2].colour",
        "unknown field 'colour'",
        id="unknown-field-in-node",
    ),
    pytest.param(
        changed(T4, {"nodes[2].int": 1}),
        "nodes[2].int",
        "unknown field 'int'",
        id="unknown-field-named-int",
    ),
    pytest.param(
        changed(T4, {"nodes[0].position.z": 0}),
        "nodes[0].position.z",
        "unknown field 'z'",
        id="unknown-field-in-position",
    ),
    pytest.param(
        changed(T4, {"links[0].weight": 1}),
        "links[0].weight",
        "unknown field 'weight'",
        id="unknown-field-in-link",
    ),
    pytest.param(
        changed(T4, {"links[0].endpoints[0].mac": "02:00:00:00:00:01"}),
        "links[0].endpoints[0].mac",
        "unknown field 'mac'",
        id="unknown-field-in-endpoint",
    ),
    pytest.param(
        changed(T4, {"nodes[2].routes[0].metric": 10}),
        "nodes[2].routes[0].metric",
        "unknown field 'metric'",
        id="unknown-field-in-route",
    ),
    pytest.param(
        changed(T4, {"nodes[0].nat[0].to": "x"}),
        "nodes[0].nat[0].to",
        "unknown field 'to'",
        id="unknown-field-in-nat",
    ),
    pytest.param(
        changed(T4, {"nodes[0].port_forwards[0].dport": 80}),
        "nodes[0].port_forwards[0].dport",
        "unknown field 'dport'",
        id="unknown-field-in-port-forward",
    ),
    pytest.param(
        changed(T4, {"nodes[3].services[0].body": "hi"}),
        "nodes[3].services[0].body",
        "unknown field 'body'",
        id="unknown-field-in-service",
    ),
    # Wrong types and missing fields.
    pytest.param(
        changed(T4, {"nodes[0].port_forwards[0].port": "80"}),
        "nodes[0].port_forwards[0].port",
        "valid integer",
        id="port-as-string",
    ),
    pytest.param(
        changed(T4, {"nodes[3].services[0].port": 80.0}),
        "nodes[3].services[0].port",
        "valid integer",
        id="service-port-as-float",
    ),
    pytest.param(
        changed(T4, {"nodes[0].forwarding": "yes"}),
        "nodes[0].forwarding",
        "valid boolean",
        id="forwarding-as-string",
    ),
    pytest.param(
        changed(T4, {"nodes[0].forwarding": 1}),
        "nodes[0].forwarding",
        "valid boolean",
        id="forwarding-as-number",
    ),
    pytest.param(
        changed(T4, {"nodes[0].position.x": "300"}),
        "nodes[0].position.x",
        "valid integer",
        id="position-as-string",
    ),
    pytest.param(
        changed(T4, {"nodes[0].position.x": True}),
        "nodes[0].position.x",
        "valid integer",
        id="position-as-boolean",
    ),
    pytest.param(
        changed(T4, {"nodes[1].addresses": "192.168.15.5/24"}),
        "nodes[1].addresses",
        "valid tuple",
        id="addresses-as-string",
    ),
    pytest.param(changed(T4, {"name": 4}), "name", "valid string", id="name-as-number"),
    pytest.param(
        changed(T4, {"nodes": {"host": {"kind": "host"}}}),
        "nodes",
        "valid tuple",
        id="nodes-as-mapping",
    ),
    pytest.param(
        changed(T4, {"nodes[2]": "red"}), "nodes[2]", "valid dictionary", id="node-as-string"
    ),
    pytest.param(
        changed(T4, {"nodes[2].kind": "router"}),
        "nodes[2].kind",
        "'host', 'namespace' or 'bridge'",
        id="node-kind-unknown",
    ),
    pytest.param(
        changed(T4, {"nodes[0].port_forwards[0].protocol": "icmp"}),
        "nodes[0].port_forwards[0].protocol",
        "'tcp' or 'udp'",
        id="port-forward-protocol-unknown",
    ),
    pytest.param(
        changed(T4, {"nodes[3].services[0].kind": "ftp"}),
        "nodes[3].services[0].kind",
        "'http' or 'tcp'",
        id="service-kind-unknown",
    ),
    pytest.param(
        changed(T4, {"nodes[2].kind": DELETE}),
        "nodes[2].kind",
        "this field is required",
        id="node-kind-missing",
    ),
    pytest.param(
        changed(T4, {"name": DELETE}), "name", "this field is required", id="name-missing"
    ),
    pytest.param(
        changed(T4, {"links[0].endpoints[0].interface": DELETE}),
        "links[0].endpoints[0].interface",
        "this field is required",
        id="endpoint-interface-missing",
    ),
    # Format and the document itself.
    pytest.param(
        changed(T4, {"format": "netlab/v2"}),
        "format",
        "unsupported format 'netlab/v2'; this netlab reads 'netlab/v1'",
        id="format-unsupported",
    ),
    pytest.param(changed(T4, {"format": None}), "format", "unsupported format", id="format-null"),
    pytest.param(
        changed(T4, {"format": nested(100_000)}),
        "format",
        "unsupported format",
        id="format-deeply-nested",
    ),
    pytest.param(
        changed(T4, {"description": nested(100_000)}),
        "description",
        "valid string",
        id="description-deeply-nested",
    ),
    pytest.param([T4], "", "a design document must be a mapping", id="document-is-a-list"),
    pytest.param("netlab/v1", "", "must be a mapping", id="document-is-a-string"),
    pytest.param(None, "", "must be a mapping", id="document-is-null"),
    pytest.param(nested(100_000), "", "must be a mapping", id="document-deeply-nested"),
]


@pytest.mark.parametrize(("data", "path", "message"), INVALID)
def test_invalid_document(data: Any, path: str, message: str) -> None:
    """An invalid document has exactly one problem, at the path and for the reason expected."""
    problems = problems_of(data)
    assert [problem.path for problem in problems] == [path], problems
    assert message in problems[0].message
    with pytest.raises(InvalidDesign) as raised:
        load(data)
    assert raised.value.problems == problems


T4_YAML = TUTORIALS[4].read_text(encoding="utf-8")
BILLION_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + level)}: &{chr(98 + level)} [{', '.join([f'*{chr(97 + level)}'] * 9)}]\n"
    for level in range(8)
)

TEXTS = [
    pytest.param(
        T4_YAML.replace("  - id: red\n", "  - id: red\n    colour: red\n"),
        "yaml",
        "nodes[2].colour",
        "unknown field 'colour'",
        id="yaml-unknown-field-in-node",
    ),
    pytest.param(
        T4_YAML + "owner: me\n",
        "yaml",
        "owner",
        "unknown field 'owner'",
        id="yaml-unknown-field-in-design",
    ),
    pytest.param(
        T4_YAML.replace("port: 80, in", "port: '80', in"),
        "yaml",
        "nodes[0].port_forwards[0].port",
        "valid integer",
        id="yaml-port-as-string",
    ),
    pytest.param(
        T4_YAML.replace("forwarding: true", "forwarding: 'yes'"),
        "yaml",
        "nodes[0].forwarding",
        "valid boolean",
        id="yaml-forwarding-as-string",
    ),
    pytest.param(
        T4_YAML.replace("netlab/v1", "netlab/v0", 1),
        "yaml",
        "format",
        "unsupported format 'netlab/v0'",
        id="yaml-wrong-format",
    ),
    pytest.param(
        T4_YAML.replace("x: 150", "x: .nan"),
        "yaml",
        "nodes[2].position.x",
        "finite number",
        id="yaml-position-nan",
    ),
    pytest.param(
        '{"name": "x", "nodes": [{"id": "host", "kind": "host", '
        '"position": {"x": Infinity, "y": 0}}]}',
        "json",
        "nodes[0].position.x",
        "finite number",
        id="json-position-infinity",
    ),
    pytest.param("- a\n- b\n", "yaml", "", "must be a mapping", id="yaml-list"),
    pytest.param("", "yaml", "", "must be a mapping", id="yaml-empty"),
    pytest.param("42", "json", "", "must be a mapping", id="json-number"),
    pytest.param(deep_text(100_000), "json", "", "nested too deeply", id="json-100000-lists"),
    pytest.param(deep_text(100_000), "yaml", "", "nested too deeply", id="yaml-100000-lists"),
    pytest.param(
        '{"name": ' + deep_text(100_000) + "}",
        "json",
        "",
        "nested too deeply",
        id="json-100000-lists-in-a-field",
    ),
    pytest.param(
        "- " * 100_000 + "x\n", "yaml", "", "nested too deeply", id="yaml-100000-block-lists"
    ),
    pytest.param(
        "{a: " * 50_000 + "}" * 50_000, "yaml", "", "nested too deeply", id="yaml-50000-mappings"
    ),
    pytest.param(
        BILLION_LAUGHS, "yaml", "", "YAML aliases (*name) are not allowed", id="yaml-alias-bomb"
    ),
    pytest.param(
        "base: &base {kind: namespace}\nnodes:\n  - {<<: *base, id: red}\n",
        "yaml",
        "",
        "YAML aliases",
        id="yaml-merge-key",
    ),
    pytest.param(
        "!!python/object/apply:os.system ['true']\n",
        "yaml",
        "",
        "not valid YAML",
        id="yaml-python-tag",
    ),
    pytest.param("name: [unclosed\n", "yaml", "", "not valid YAML", id="yaml-syntax-error"),
    pytest.param("name: x\n", "json", "", "not valid JSON", id="json-given-yaml"),
    pytest.param(
        '{"name": "x",}',
        "json",
        "",
        "not valid JSON: Expecting property name",
        id="json-trailing-comma",
    ),
    pytest.param(b"name: \xff\xfe\n", "yaml", "", "not UTF-8 text", id="invalid-utf-8"),
    pytest.param(
        b"#" * (codec.MAX_DOCUMENT_BYTES + 1),
        "yaml",
        "",
        f"larger than {codec.MAX_DOCUMENT_BYTES} bytes",
        id="bytes-over-size-limit",
    ),
    pytest.param(
        "#" * (codec.MAX_DOCUMENT_BYTES + 1), "json", "", "larger than", id="text-over-size-limit"
    ),
    pytest.param(
        "#" + "é" * (codec.MAX_DOCUMENT_BYTES // 2),
        "yaml",
        "",
        "larger than",
        id="text-over-size-limit-in-utf-8-bytes-only",
    ),
]


@pytest.mark.parametrize(("text", "text_format", "path", "message"), TEXTS)
def test_invalid_text(text: str | bytes, text_format: Any, path: str, message: str) -> None:
    """Text that is not a valid design raises InvalidDesign with one problem, never crashes."""
    with pytest.raises(InvalidDesign) as raised:
        codec.load_text(text, text_format)
    problems = raised.value.problems
    assert [problem.path for problem in problems] == [path], problems
    assert message in problems[0].message


def test_yaml_one_point_one_booleans_are_booleans() -> None:
    """Unquoted YAML ``yes`` is read as true, as PyYAML (YAML 1.1) reads it."""
    design = codec.load_text(T4_YAML.replace("forwarding: true", "forwarding: yes"))
    assert design.nodes[0].forwarding is True


def test_text_at_the_size_limit_is_read() -> None:
    """A document of exactly the size limit is read; one byte more is refused."""
    text = T4_YAML + "#" * (codec.MAX_DOCUMENT_BYTES - len(T4_YAML.encode()))
    assert codec.load_text(text.encode()).name == "tutorial-4-port-forward"


FIVE_ERRORS = changed(
    T4,
    {
        "nodes[1].routes": [route(via="192.168.15.1")],
        "nodes[3].routes[0].via": "10.0.0.1",
        "nodes[4].id": "bad id",
        HOST_ETH0: "192.168.1.256/24",
        "links[0].endpoints[0].interface": "veth/red",
        f"{LAN_ETH0}.node": "bad id",
    },
)


def test_every_problem_is_reported_at_once() -> None:
    """A document with five different errors yields five problems, in document order."""
    assert [str(problem) for problem in problems_of(FIVE_ERRORS)] == [
        "nodes[1].routes: a bridge has no 'routes'; only the host and namespaces have it",
        "nodes[4].id: node id 'bad id' must be 1-32 letters, digits, '_', '.' or '-', "
        "starting with a letter or digit",
        "links[0].endpoints[0].interface: interface name 'veth/red' may only hold letters, "
        "digits and '_', '.', '-' (no '/', spaces or shell characters)",
        "links[2].endpoints[0].addresses[0]: '192.168.1.256/24': 256 is not a valid byte",
        "nodes[3].routes[0].via: 10.0.0.1 is not on any subnet of blue",
    ]


def test_every_shape_problem_is_reported_at_once() -> None:
    """Shape problems are all reported too, sorted by path."""
    data = changed(
        T4,
        {
            "name": 1,
            "nodes[0].forwarding": "yes",
            "links[1].colour": "red",
            "nodes[3].services[0].port": "80",
        },
    )
    assert [problem.path for problem in problems_of(data)] == [
        "links[1].colour",
        "name",
        "nodes[0].forwarding",
        "nodes[3].services[0].port",
    ]


def test_problem_order_is_stable() -> None:
    """The same document gives the same problems in the same order, whatever the key order."""
    reordered = {key: FIVE_ERRORS[key] for key in reversed(FIVE_ERRORS)}
    first = problems_of(FIVE_ERRORS)
    assert all(problems_of(FIVE_ERRORS) == first for _ in range(3))
    assert problems_of(reordered) == first


def test_valid_data_is_remembered_by_its_content() -> None:
    """Loading equal data again (another copy, keys in another order) gives the document
    found valid the first time; invalid data is checked every time."""
    data = changed(T4, {"name": "remembered"})
    reordered = json.loads(json.dumps({key: data[key] for key in reversed(data)}))
    assert load(reordered) is load(data)
    for _ in range(2):
        with pytest.raises(InvalidDesign):
            load(FIVE_ERRORS)


@pytest.mark.parametrize(
    "data",
    [{1: "x"}, {"a": (1, 2)}, {"a": float("nan")}, {"a": {1, 2}}, [{"a": b"x"}]],
    ids=["integer-key", "tuple", "nan", "set", "bytes"],
)
def test_data_that_is_not_exactly_json_is_not_remembered(data: Any) -> None:
    """JSON writes {1: x} and {"1": x} alike: such data gets no digest, so a document found
    valid can never be mistaken for data that only looks the same as JSON."""
    assert validation._content_key(data) is None
    assert validation._content_key(json.loads(json.dumps({"1": "x"}))) is not None


def test_invalid_design_lists_every_problem() -> None:
    """InvalidDesign carries the problems and reads as 'path: message; ...'."""
    with pytest.raises(InvalidDesign) as raised:
        load(FIVE_ERRORS)
    assert len(raised.value.problems) == 5
    assert str(raised.value) == "; ".join(str(problem) for problem in raised.value.problems)


@pytest.mark.parametrize(
    ("problem", "text", "as_dict"),
    [
        pytest.param(
            Problem("name", "bad"),
            "name: bad",
            {"path": "name", "message": "bad", "element": "", "sentence": "bad"},
            id="with-path",
        ),
        pytest.param(
            Problem("", "not a mapping"),
            "not a mapping",
            {"path": "", "message": "not a mapping", "element": "", "sentence": "not a mapping"},
            id="whole-document",
        ),
        pytest.param(
            Problem("nodes[2].id", "bad", "red"),
            "nodes[2].id: bad",
            {"path": "nodes[2].id", "message": "bad", "element": "red", "sentence": "red: bad"},
            id="with-element",
        ),
    ],
)
def test_problem_forms(problem: Problem, text: str, as_dict: dict[str, str]) -> None:
    """A problem reads as 'path: message' (the message alone for the whole document); its
    JSON form adds the element and the sentence naming it."""
    assert str(problem) == text
    assert problem.as_dict() == as_dict


@pytest.mark.parametrize(
    ("location", "path"),
    [
        pytest.param((), "", id="empty"),
        pytest.param(("name",), "name", id="field"),
        pytest.param(
            ("links", 2, "endpoints", 0, "addresses", 0),
            "links[2].endpoints[0].addresses[0]",
            id="nested",
        ),
    ],
)
def test_format_path(location: tuple[str | int, ...], path: str) -> None:
    """A pydantic location renders as the path problems use."""
    assert format_path(location) == path


@pytest.mark.parametrize(
    ("changes", "sentence"),
    [
        pytest.param(
            {"links[0].endpoints[0].addresses[0]": "192.168.15.300/24"},
            "red — v-net-0: '192.168.15.300/24': 300 is not a valid byte",
            id="link-end-address",
        ),
        pytest.param(
            {"nodes[1].addresses[0]": "192.168.15.5/33"},
            "v-net-0: '192.168.15.5/33': the prefix length 33 is more than 32",
            id="bridge-address",
        ),
        pytest.param(
            {"nodes[2].routes[0].via": "192.168.15.300"},
            "red: '192.168.15.300': 300 is not a valid byte",
            id="route-gateway",
        ),
        pytest.param(
            {"nodes[3].id": "red"},
            "red: duplicate node id 'red': another node already has it",
            id="duplicate-node-id",
        ),
        pytest.param(
            {"nodes[2].forwarding": "yes"},
            "red: Input should be a valid boolean",
            id="shape-problem",
        ),
        pytest.param(
            {"name": "Bad Name"},
            "design name 'Bad Name' must be a slug",
            id="design-field",
        ),
    ],
)
def test_problems_read_as_sentences_naming_their_element(
    changes: dict[str, Any], sentence: str
) -> None:
    """Each problem names the node (its id) or the link (its ends' nodes) it is about, as
    the canvas shows them, before its message; a problem of the design is its message."""
    sentences = [problem.sentence for problem in problems_of(changed(T4, changes))]
    assert any(text.startswith(sentence) for text in sentences), sentences


@pytest.mark.parametrize(
    ("data", "path", "element"),
    [
        pytest.param({"nodes": [{"id": "red"}]}, "nodes[0].routes[1].via", "red", id="node"),
        pytest.param({"nodes": [{"id": ""}]}, "nodes[0].id", "node 1", id="node-without-id"),
        pytest.param({"nodes": [{"id": 7}]}, "nodes[0].id", "node 1", id="node-with-number-id"),
        pytest.param({"nodes": "red"}, "nodes[0]", "node 1", id="nodes-not-a-list"),
        pytest.param(
            {"links": [{"endpoints": [{"node": "a"}, {"node": "b"}]}]},
            "links[0].endpoints[1].interface",
            "a — b",
            id="link",
        ),
        pytest.param(
            {"links": [{"endpoints": [{"node": "a"}, {}]}]},
            "links[0]",
            "link 1",
            id="link-end-without-node",
        ),
        pytest.param({"links": [{}]}, "links[0].endpoints", "link 1", id="link-without-ends"),
        pytest.param({"nodes": []}, "nodes", "", id="the-node-list"),
        pytest.param({}, "name", "", id="design-field"),
        pytest.param([], "nodes[0]", "", id="not-a-mapping"),
    ],
)
def test_element_name(data: Any, path: str, element: str) -> None:
    """The element of a path is read from the document as written, however ill-shaped."""
    assert element_name(data, path) == element
