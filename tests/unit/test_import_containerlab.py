"""containerlab topologies in and out (netlab.core.interop.containerlab): topologies written
here in the shapes of containerlab's own (both link forms, inheritance, bridges in the host
and in a node, host links, exec lines folded into ash -c), every item left out reported with
its line and node; and design -> containerlab -> design is the same lab."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from factories import tutorial_data, vlan_design_data

from netlab.core import interop
from netlab.core.interop import containerlab
from netlab.core.validation import load, validate

ROUTERS = """\
name: two-sites
mgmt:
  network: lab-mgmt
topology:
  defaults:
    kind: linux
    image: alpine:3.20
  kinds:
    linux:
      env:
        ROLE: any
  groups:
    routers:
      image: frr:latest
      exec:
        - sysctl -w net.ipv4.ip_forward=1
    hosts:
      exec:
        - ip link set eth1 up
  nodes:
    r1:
      group: routers
      binds:
        - r1/frr.conf:/etc/frr/frr.conf
    r2:
      group: routers
      exec:
        - >
          ash -c '
          sysctl -w net.ipv4.ip_forward=1 &&
          ip route add 10.1.0.0/24 via 10.0.0.1'
    h1:
      group: hosts
      exec:
        - ip addr add 10.1.0.10/24 dev eth1
        - ip r a default via 10.1.0.1
        - apk add iperf3
    h2:
      kind: linux
      exec:
        - ip address add dev eth1 10.2.0.10/24
        - ip route replace default via 10.2.0.1 dev eth1
    sw:
      kind: nokia_srlinux
      image: ghcr.io/nokia/srlinux
  links:
    - endpoints: ["r1:eth1", "r2:eth1"]
      ipv4: ["10.0.0.1/30", "10.0.0.2/30"]
    - type: veth
      endpoints:
        - node: h1
          interface: eth1
        - node: r1
          interface: eth2
          ipv4: 10.1.0.1/24
          mac: 02:00:00:00:00:01
    - endpoints: ["h2:eth1", "r2:eth2"]
      mtu: 9000
    - endpoints: ["sw:e1-1", "r2:eth3"]
    - type: dummy
      endpoint:
        node: r1
        interface: dummy0
"""

BRIDGES = """\
name: bridges
topology:
  nodes:
    gw:
      kind: linux
      exec:
        - ip address add dev lan0 192.168.7.1/24
    lan0|gw:
      kind: bridge
    c1:
      kind: linux
      exec: ["ip addr add 192.168.7.2/24 dev eth1"]
    c2:
      kind: linux
      exec: ["ip addr add 192.168.8.2/24 dev eth1"]
    br-host:
      kind: bridge
    br2:
      kind: bridge
      network-mode: container:c2
  links:
    - endpoints: ["c1:eth1", "lan0|gw:c1eth1"]
    - endpoints: ["c2:eth1", "br-host:c2eth1"]
    - type: host
      host-interface: gw-up
      endpoint:
        node: gw
        interface: eth9
    - endpoints: ["gw:eth8", "host:gw-eth8"]
    - type: mgmt-net
      host-interface: gw-mgmt
      endpoint: {node: gw, interface: eth7}
"""


def read(text: str) -> interop.Translation:
    translation = interop.read(text, "lab.clab.yml")
    assert translation.source == "containerlab"
    return translation


def notes(translation: interop.Translation) -> list[str]:
    return [str(note) for note in translation.notes]


def ends(data: dict[str, Any]) -> list[list[tuple[str, str, tuple[str, ...]]]]:
    return [
        sorted((end.node, end.interface, end.addresses) for end in link.endpoints)
        for link in load(data).links
    ]


def test_nodes_inherit_defaults_kinds_and_groups_and_run_their_exec_lines() -> None:
    translation = read(ROUTERS)
    design = load(translation.data)
    assert design.name == "two-sites"
    kinds = {node.id: node.kind for node in design.nodes}
    assert kinds == {
        "r1": "namespace",
        "r2": "namespace",
        "h1": "namespace",
        "h2": "namespace",
        "sw": "namespace",
        "host": "host",
    }
    nodes = {node.id: node for node in design.nodes}
    assert nodes["r1"].forwarding  # the group's exec
    assert nodes["r2"].forwarding
    routes = {
        name: [(route.to, route.via, route.dev) for route in nodes[name].routes]
        for name in ("r2", "h1", "h2")
    }
    assert routes == {
        "r2": [("10.1.0.0/24", "10.0.0.1", None)],
        "h1": [("default", "10.1.0.1", None)],
        "h2": [("default", "10.2.0.1", "eth1")],
    }
    assert ends(translation.data) == [
        [("r1", "eth1", ("10.0.0.1/30",)), ("r2", "eth1", ("10.0.0.2/30",))],
        [("h1", "eth1", ("10.1.0.10/24",)), ("r1", "eth2", ("10.1.0.1/24",))],
        [("h2", "eth1", ("10.2.0.10/24",)), ("r2", "eth2", ())],
        [("r2", "eth3", ()), ("sw", "e1-1", ())],
    ]
    assert nodes["sw"].label == "sw (nokia_srlinux: not imported)"
    assert [link.mtu for link in design.links] == [None, None, 9000, None]
    assert validate(design) == []


def test_what_a_namespace_cannot_be_is_reported_by_line_and_node() -> None:
    said = notes(read(ROUTERS))
    for expected in [
        "line 2: 'mgmt: ...' not imported (the management network is Docker's)",
        "line 7: node h2: 'image: alpine:3.20' not imported (netlab nodes are namespaces, not "
        "containers)",
        "line 10: node r1: 'env: {ROLE: any}' not imported (a container's environment)",
        "line 14: node r1: 'image: frr:latest' not imported",
        "line 23: node r1: \"binds: ['r1/frr.conf:/etc/frr/frr.conf']\" not imported",
        "line 37: node h1: 'apk add iperf3' not imported (installs a package)",
        "line 44: node sw: 'kind: nokia_srlinux' not imported (nokia_srlinux is a network "
        "system, not a Linux namespace: sw is kept empty, with its links)",
        "line 56: node r1: 'mac: 02:00:00:00:00:01' not imported (the kernel chooses MAC "
        "addresses here)",
        "line 60: 'type: dummy' not imported (a dummy interface: netlab links are veth pairs)",
    ]:
        assert any(note.startswith(expected) for note in said), expected
    assert not any("ip link set eth1 up" in note for note in said)  # translated: a no-op


def test_bridges_in_the_host_and_in_a_node_and_host_links() -> None:
    translation = read(BRIDGES)
    design = load(translation.data)
    bridges = {
        node.id: (node.in_, node.addresses) for node in design.nodes if node.kind == "bridge"
    }
    assert bridges == {
        "lan0": ("gw", ("192.168.7.1/24",)),
        "br-host": (None, ()),
        "br2": ("c2", ()),
    }
    assert ends(translation.data) == [
        [("c1", "eth1", ("192.168.7.2/24",)), ("lan0", "c1eth1", ())],
        [("br-host", "c2eth1", ()), ("c2", "eth1", ("192.168.8.2/24",))],
        [("gw", "eth9", ()), ("host", "gw-up", ())],
        [("gw", "eth8", ()), ("host", "gw-eth8", ())],
    ]
    assert "line 30: 'type: mgmt-net' not imported (the management network is Docker's)" in (
        notes(translation)
    )
    assert validate(design) == []


@pytest.mark.parametrize(
    "text",
    ["name: x\ntopology: []\n", "name: x\ntopology:\n  nodes: [a, b]\n"],
    ids=["topology-not-a-map", "nodes-not-a-map"],
)
def test_a_topology_of_the_wrong_shape_is_refused(text: str) -> None:
    with pytest.raises(interop.InvalidDesign):
        interop.read(text, "x.clab.yml")


def test_an_empty_topology_translates_nothing() -> None:
    with pytest.raises(interop.NothingTranslated):
        interop.read("name: x\ntopology:\n  nodes: {}\n", "x.clab.yml")


def same_lab(data: dict[str, Any]) -> dict[str, Any]:
    """What the kernel gets and the canvas shows, the title aside; a bridge's holder named."""
    design = load(data)
    holders = design.holders()
    nodes = []
    for node in design.nodes:
        item = node.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        if node.kind == "bridge":
            item["in"] = holders[node.id]
        nodes.append(item)
    return {
        "name": design.name,
        "nodes": sorted(nodes, key=lambda node: node["id"]),
        "links": [link.model_dump(mode="json", exclude_defaults=True) for link in design.links],
    }


RICH = {
    "format": "netlab/v1",
    "name": "rich",
    "nodes": [
        {
            "id": "gw",
            "kind": "host",
            "forwarding": True,
            "position": {"x": 10, "y": 20.5},
            "nat": [{"source": "10.9.0.0/24", "out": "up0"}],
        },
        {
            "id": "r",
            "kind": "namespace",
            "label": "the router",
            "forwarding": True,
            "routes": [{"to": "default", "via": "10.8.0.1", "dev": "up"}],
            "port_forwards": [{"protocol": "udp", "port": 53, "in": "up", "to": "10.9.0.2"}],
        },
        {"id": "inner", "kind": "bridge", "in": "r", "addresses": ["10.9.0.1/24"]},
        {
            "id": "web",
            "kind": "namespace",
            "services": [{"kind": "http", "port": 8080}],
            "routes": [{"to": "default", "via": "10.9.0.1"}],
        },
    ],
    "links": [
        {
            "endpoints": [
                {"node": "gw", "interface": "up0", "addresses": ["10.8.0.1/30"]},
                {"node": "r", "interface": "up", "addresses": ["10.8.0.2/30"]},
            ]
        },
        {
            "endpoints": [
                {"node": "inner", "interface": "p-web"},
                {
                    "node": "web",
                    "interface": "eth1",
                    "addresses": ["10.9.0.2/24"],
                    "impairment": {"loss_percent": 1},
                },
            ],
            "impairment": {"delay_ms": 30, "jitter_ms": 5, "rate_kbit": 10000},
            "mtu": 9000,
        },
        {
            "endpoints": [
                {"node": "r", "interface": "spare"},
                {"node": "web", "interface": "spare"},
            ],
            "up": False,
        },
    ],
}


@pytest.mark.parametrize(
    "data",
    [*(tutorial_data(number) for number in range(1, 5)), RICH],
    ids=["tutorial-1", "tutorial-2", "tutorial-3", "tutorial-4", "rich"],
)
def test_design_to_containerlab_to_design_is_the_same_lab(data: dict[str, Any]) -> None:
    text = containerlab.write(load(data))
    back = read(text)
    assert same_lab(back.data) == same_lab(data)
    assert all(
        "image" in note.text or "management interface" in note.reason for note in back.notes
    ), notes(back)


def test_the_export_says_what_containerlab_needs_first() -> None:
    text = containerlab.write(load(tutorial_data(4)), image="debian:stable-slim")
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert "#   ip link add v-net-0 type bridge" in header
    assert any("run on THIS MACHINE" in line for line in header)
    assert any("rename the eth0 of lan" in line for line in header)
    assert "image: debian:stable-slim" in text
    assert "      - iptables -t nat -A PREROUTING -p tcp -i eth0 --dport 80 -j DNAT " in text


def test_hostile_names_are_quoted_in_exec_lines() -> None:
    data = {
        "format": "netlab/v1",
        "name": "q",
        "nodes": [
            {"id": "host", "kind": "host"},
            {"id": "a", "kind": "namespace"},
            {"id": "b", "kind": "namespace"},
        ],
        "links": [
            {
                "endpoints": [
                    {"node": "a", "interface": "x", "addresses": ["10.0.0.1/24"]},
                    {"node": "b", "interface": "y"},
                ]
            }
        ],
    }
    text = containerlab.write(load(data))
    assert "- ip address add 10.0.0.1/24 dev x\n" in text
    # every exec line reads back as the words written
    assert same_lab(read(text).data) == same_lab(data)


def test_vlan_settings_are_said_not_exported() -> None:
    text = containerlab.write(load(vlan_design_data()))
    header = " ".join(line for line in text.splitlines() if line.startswith("#"))
    assert "Not exported: the VLAN settings of" in header


def test_a_large_rate_is_written_as_a_whole_number() -> None:
    data = copy.deepcopy(RICH)
    data["links"][1]["impairment"]["rate_kbit"] = 10_000_000
    assert "--rate 10000000" in containerlab.write(load(data))
