"""The compiler: a valid design in, the ordered plan of kernel steps (and its script) out."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from typing import Any

import pytest
from factories import (
    bridge,
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

from netlab.core import names
from netlab.core.plan import (
    AddAddress,
    AddBridge,
    AddNamespace,
    AddRoute,
    AddVeth,
    ApplyNftables,
    Naming,
    Plan,
    SetLinkUp,
    SetSysctl,
    StartServices,
    Step,
    compile_plan,
    nft_json,
    render_script,
)
from netlab.core.validation import InvalidDesign, load, parse

TAG = "abc123"
ORDER = [
    AddNamespace,
    AddBridge,
    AddVeth,
    AddAddress,
    SetLinkUp,
    SetSysctl,
    AddRoute,
    ApplyNftables,
    StartServices,
]


def plan_of(data: dict[str, Any], *, host_mode: bool = False, prefix: str = "netlab-") -> Plan:
    return compile_plan(load(data), Naming(TAG, prefix=prefix, host_mode=host_mode))


def steps_of(plan: Plan, kind: type[Step]) -> list[Step]:
    return [step for step in plan.steps if isinstance(step, kind)]


@pytest.mark.parametrize("number", [1, 2, 3, 4])
def test_steps_come_in_kernel_order(number: int) -> None:
    """Namespaces, bridges, veths, addresses, links up, sysctls, routes, nftables, services."""
    plan = plan_of(tutorial_data(number))
    ranks = [ORDER.index(type(step)) for step in plan.steps]
    assert ranks == sorted(ranks)


@pytest.mark.parametrize("number", [1, 2, 3, 4])
def test_compiling_twice_gives_the_same_plan(number: int) -> None:
    first, second = plan_of(tutorial_data(number)), plan_of(tutorial_data(number))
    assert first == second
    assert render_script(first) == render_script(second)


def test_namespace_names_come_from_tag_and_position_only() -> None:
    """No user text reaches a namespace name: ids map to prefix, tag and index."""
    data = design_data(
        nodes=[node("evil..name"), host("h/../../etc"), node("x$(reboot)")],
        links=[link(endpoint("evil..name", "a", "10.0.0.1/24"), endpoint("x$(reboot)", "b"))],
    )
    naming = Naming(TAG)
    mapping = naming.namespaces(parse(data))
    assert mapping == {
        "evil..name": "netlab-abc123-0",
        "h/../../etc": "netlab-abc123-1",
        "x$(reboot)": "netlab-abc123-2",
    }


def test_naming_prefix_and_host_mode() -> None:
    design = load(tutorial_data(2))
    assert Naming(TAG, prefix="nlt-").namespaces(design) == {
        "host": "nlt-abc123-0",
        "red": "nlt-abc123-1",
        "blue": "nlt-abc123-2",
    }
    # The host keeps its index in host mode, so the others keep their names.
    assert Naming(TAG, host_mode=True).namespaces(design) == {
        "host": None,
        "red": "netlab-abc123-1",
        "blue": "netlab-abc123-2",
    }


def test_every_namespace_is_created_marked_with_loopback_up() -> None:
    plan = plan_of(tutorial_data(1))
    assert [step.shell for step in steps_of(plan, AddNamespace)] == [
        (
            f"ip netns add netlab-{TAG}-{i}",
            f"ip -n netlab-{TAG}-{i} link set lo up alias netlab:{TAG}",
        )
        for i in range(3)
    ]
    assert plan.created_namespaces() == [f"netlab-{TAG}-{i}" for i in range(3)]


def test_veth_between_namespaces_is_born_with_its_peer_in_place() -> None:
    plan = plan_of(tutorial_data(1))
    (veth,) = steps_of(plan, AddVeth)
    assert veth.shell == (
        f"ip -n netlab-{TAG}-1 link add veth-red up type veth peer name veth-blue "
        f"netns netlab-{TAG}-2",
        f"ip -n netlab-{TAG}-1 link set veth-red alias netlab:{TAG}",
    )
    (up,) = steps_of(plan, SetLinkUp)
    assert up.shell == (f"ip -n netlab-{TAG}-2 link set veth-blue up alias netlab:{TAG}",)


def test_bridge_end_is_created_first_with_its_master() -> None:
    """The bridge port end carries master and up in the creating request."""
    plan = plan_of(tutorial_data(2))
    (bridge_step,) = steps_of(plan, AddBridge)
    assert bridge_step.shell[0] == f"ip -n netlab-{TAG}-0 link add v-net-0 up type bridge"
    red, _blue = steps_of(plan, AddVeth)
    assert red.shell[0] == (
        f"ip -n netlab-{TAG}-0 link add veth-red-br master v-net-0 up type veth "
        f"peer name veth-red netns netlab-{TAG}-1"
    )
    assert red.description == "connect red to v-net-0 (veth-red - veth-red-br)"
    assert [step.shell[0] for step in steps_of(plan, AddAddress)] == [
        f"ip -n netlab-{TAG}-0 addr add 192.168.15.5/24 dev v-net-0",
        f"ip -n netlab-{TAG}-1 addr add 192.168.15.1/24 dev veth-red",
        f"ip -n netlab-{TAG}-2 addr add 192.168.15.2/24 dev veth-blue",
    ]


def test_link_between_two_bridges_enslaves_the_peer_when_bringing_it_up() -> None:
    data = design_data(
        nodes=[host(), node("ns"), bridge("br0"), bridge("br1", in_="ns")],
        links=[link(endpoint("br0", "p0"), endpoint("br1", "p1"))],
    )
    plan = plan_of(data)
    (veth,) = steps_of(plan, AddVeth)
    assert veth.master == "br0"
    assert veth.netns == f"netlab-{TAG}-0"
    (up,) = steps_of(plan, SetLinkUp)
    assert up.shell == (f"ip -n netlab-{TAG}-1 link set p1 master br1 up alias netlab:{TAG}",)


def test_routes_resolve_their_device_from_the_gateway() -> None:
    plan = plan_of(tutorial_data(4))
    assert [step.shell[0] for step in steps_of(plan, AddRoute)] == [
        f"ip -n netlab-{TAG}-1 route add default via 192.168.15.5 dev veth-red",
        f"ip -n netlab-{TAG}-2 route add 192.168.1.0/24 via 192.168.15.5 dev veth-blue",
        f"ip -n netlab-{TAG}-2 route add default via 192.168.15.5 dev veth-blue",
    ]


def test_ipv6_default_route_and_forwarding() -> None:
    """A v6 default route, v6 forwarding, and, first, no duplicate address detection in the
    namespaces with IPv6 (so a router's link-local address works as soon as its link is up)."""
    data = design_data(
        nodes=[host(forwarding=True), node("red", routes=[route("default", "fd00::1")])],
        links=[link(endpoint("host", "h0", "fd00::1/64"), endpoint("red", "r0", "fd00::2/64"))],
    )
    plan = plan_of(data)
    (route_step,) = steps_of(plan, AddRoute)
    assert route_step.shell == (f"ip -n netlab-{TAG}-1 route add ::/0 via fd00::1 dev r0",)
    assert [step.shell for step in steps_of(plan, SetSysctl)] == [
        (f"ip netns exec netlab-{TAG}-0 sysctl -w net.ipv6.conf.default.accept_dad=0",),
        (f"ip netns exec netlab-{TAG}-1 sysctl -w net.ipv6.conf.default.accept_dad=0",),
        (f"ip netns exec netlab-{TAG}-0 sysctl -w net.ipv4.ip_forward=1",),
        (f"ip netns exec netlab-{TAG}-0 sysctl -w net.ipv6.conf.all.forwarding=1",),
    ]
    kinds = [type(step).__name__ for step in plan.steps]
    assert kinds.index("SetSysctl") < kinds.index("AddVeth")
    # An IPv4-only design changes nothing of IPv6.
    assert not [step for step in steps_of(plan_of(tutorial_data(4)), SetSysctl)
                if "accept_dad" in step.key]  # fmt: skip


def test_nat_and_port_forward_make_one_inet_table() -> None:
    plan = plan_of(tutorial_data(4))
    (nft,) = steps_of(plan, ApplyNftables)
    assert isinstance(nft, ApplyNftables)
    assert nft.table == names.nftables_table(TAG)
    commands = json.loads(nft_json(nft))["nftables"]
    assert commands[0] == {"add": {"table": {"family": "inet", "name": f"netlab_{TAG}"}}}
    chains = [c["add"]["chain"] for c in commands if "chain" in c["add"]]
    assert [(c["hook"], c["type"], c["prio"]) for c in chains] == [
        ("prerouting", "nat", -100),
        ("postrouting", "nat", 100),
    ]
    rules = [c["add"]["rule"]["expr"] for c in commands if "rule" in c["add"]]
    assert rules[0][-1] == {"dnat": {"family": "ip", "addr": "192.168.15.2", "port": 80}}
    assert rules[1][-1] == {"masquerade": None}
    text = "\n".join(nft.shell)
    assert (
        "# iptables equivalent: iptables -t nat -A POSTROUTING -s 192.168.15.0/24 -o eth0" in text
    )
    assert 'iifname "eth0" meta nfproto ipv4 tcp dport 80 dnat ip to 192.168.15.2:80' in text
    assert text.splitlines()[-1] == "EOF"


def test_port_forward_without_target_port_keeps_the_port() -> None:
    data = tutorial_data(4)
    data["nodes"][0]["port_forwards"] = [port_forward(port=8080, to="192.168.15.2")]
    (nft,) = steps_of(plan_of(data), ApplyNftables)
    assert "dnat ip to 192.168.15.2:8080" in nft.shell[-1]


def test_services_are_grouped_by_namespace() -> None:
    data = tutorial_data(4)
    data["nodes"][2]["services"] = [service("tcp", 7)]
    (services,) = steps_of(plan_of(data), StartServices)
    assert isinstance(services, StartServices)
    assert {
        netns: [(s.node, s.kind, s.port) for s in group]
        for netns, group in services.by_netns().items()
    } == {
        f"netlab-{TAG}-1": [("red", "tcp", 7)],
        f"netlab-{TAG}-2": [("blue", "http", 80)],
    }


def test_host_mode_builds_the_host_in_the_root_namespace() -> None:
    plan = plan_of(tutorial_data(4), host_mode=True)
    assert plan.created_namespaces() == [f"netlab-{TAG}-{i}" for i in (1, 2, 3)]
    assert plan.root_links() == ["v-net-0", "veth-red-br", "veth-blue-br", "eth0"]
    lan = steps_of(plan, AddVeth)[-1]
    assert lan.shell[0] == f"ip link add eth0 up type veth peer name eth0 netns netlab-{TAG}-3"
    (sysctl,) = steps_of(plan, SetSysctl)
    assert sysctl.shell == ("sysctl -w net.ipv4.ip_forward=1",)


def test_a_bridges_namespace_switches_without_bridge_netfilter() -> None:
    """Where br_netfilter is loaded, bridged frames would meet the namespace's NAT: a lab's
    bridge namespace turns that off (sysctl -e: nothing where the module is absent)."""
    plan = plan_of(tutorial_data(2))
    bridged = [step for step in steps_of(plan, SetSysctl) if step.optional]
    assert [step.shell for step in bridged] == [
        (f"ip netns exec netlab-{TAG}-0 sysctl -e -w net.bridge.bridge-nf-call-{family}=0",)
        for family in ("iptables", "ip6tables")
    ]
    assert [step.node for step in bridged] == ["host", "host"]
    # the machine's own namespace (host mode) keeps its setting
    assert not [
        step
        for step in steps_of(plan_of(tutorial_data(2), host_mode=True), SetSysctl)
        if step.optional
    ]


def test_host_mode_peer_in_the_root_namespace_is_named_by_the_script_pid() -> None:
    data = design_data(
        nodes=[host(), node("ns"), bridge("br0", in_="ns")],
        links=[link(endpoint("br0", "p0"), endpoint("host", "h0", "10.1.0.1/24"))],
    )
    (veth,) = steps_of(plan_of(data, host_mode=True), AddVeth)
    assert veth.shell[0].endswith("peer name h0 netns $$")


def test_invalid_design_is_refused() -> None:
    data = design_data(links=[link(endpoint("red", "a", "10.0.0.1/24"), endpoint("nobody", "b"))])
    with pytest.raises(InvalidDesign, match="nobody"):
        compile_plan(parse(data), Naming(TAG))


@pytest.mark.parametrize("number", [1, 2, 3, 4])
def test_script_has_a_header_and_one_block_per_step(number: int) -> None:
    plan = plan_of(tutorial_data(number))
    script = render_script(plan)
    assert script.startswith("#!/usr/bin/env bash\n")
    assert "\nset -euo pipefail\n" in script
    blocks = re.findall(r"^# \[(\d+)/(\d+)\] ", script, flags=re.MULTILINE)
    assert [int(index) for index, _ in blocks] == list(range(1, len(plan.steps) + 1))
    for step in plan.steps:
        assert "\n".join(step.shell) in script
    assert f"#   ip netns del netlab-{TAG}-0" in script


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash to parse the script")
@pytest.mark.parametrize("number", [1, 2, 3, 4])
def test_script_is_valid_bash(number: int) -> None:
    script = render_script(plan_of(tutorial_data(number), host_mode=number == 4))
    subprocess.run(["bash", "-n"], input=script, text=True, check=True)


def test_nat_table_text_matches_the_json() -> None:
    data = design_data(
        nodes=[host(nat=[nat("10.9.0.0/16")]), node("red"), node("blue")],
    )
    (nft,) = steps_of(plan_of(data), ApplyNftables)
    assert isinstance(nft, ApplyNftables)
    assert "ip saddr 10.9.0.0/16 masquerade" in nft.ruleset_text()
    assert "prerouting" not in nft.ruleset_text()
    assert len(nft.ruleset()["nftables"]) == 3  # table, chain, rule
