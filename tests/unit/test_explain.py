"""The path explainer: a table of paths over the tutorial's examples and purpose-built
designs, each with its outcome and the nodes it passes (and its reply's), and the fixes
offered. Its kernel side — the prediction equals what the kernel does — is in
tests/kernel/test_explain_kernel.py."""

from __future__ import annotations

from typing import Any

import pytest
from factories import endpoint, link, nat, node, route, service, tutorial_data

from netlab.core.explain import OUTCOMES, apply_fix, explain, matrix
from netlab.core.validation import load


def chain(
    *,
    a_routes: tuple[Any, ...] = (route("default", via="10.0.1.2"),),
    b_routes: tuple[Any, ...] = (route("default", via="10.0.2.1"),),
    forwarding: bool = True,
    masquerade: bool = False,
    b_services: tuple[Any, ...] = (),
) -> dict[str, Any]:
    """a — r — b: 10.0.1.0/24 (a .1, r .2) and 10.0.2.0/24 (r .1, b .2)."""
    return {
        "format": "netlab/v1",
        "name": "chain",
        "nodes": [
            node("host", "host"),
            node("a", routes=list(a_routes)),
            node("r", forwarding=forwarding,
                 nat=[nat("10.0.1.0/24", out="r-b")] if masquerade else []),
            node("b", routes=list(b_routes), services=list(b_services)),
        ],
        "links": [
            link(endpoint("a", "a-r", "10.0.1.1/24"), endpoint("r", "r-a", "10.0.1.2/24")),
            link(endpoint("r", "r-b", "10.0.2.1/24"), endpoint("b", "b-r", "10.0.2.2/24")),
        ],
    }  # fmt: skip


def looped() -> dict[str, Any]:
    """a — r1 — r2, where r1 and r2 send 10.9.0.0/16 to each other."""
    return {
        "format": "netlab/v1",
        "name": "looped",
        "nodes": [
            node("host", "host"),
            node("a", routes=[route("default", via="10.0.1.2")]),
            node("r1", forwarding=True, routes=[route("10.9.0.0/16", via="10.0.3.2")]),
            node("r2", forwarding=True, routes=[route("10.9.0.0/16", via="10.0.3.1"),
                                               route("default", via="10.0.3.1")]),
        ],
        "links": [
            link(endpoint("a", "a-r1", "10.0.1.1/24"), endpoint("r1", "r1-a", "10.0.1.2/24")),
            link(endpoint("r1", "r1-r2", "10.0.3.1/24"), endpoint("r2", "r2-r1", "10.0.3.2/24")),
        ],
    }  # fmt: skip


def dual_stack() -> dict[str, Any]:
    data = chain()
    data["links"][0]["endpoints"][0]["addresses"].append("fd00:1::1/64")
    data["links"][0]["endpoints"][1]["addresses"].append("fd00:1::2/64")
    data["links"][1]["endpoints"][0]["addresses"].append("fd00:2::1/64")
    data["links"][1]["endpoints"][1]["addresses"].append("fd00:2::2/64")
    data["nodes"][1]["routes"].append(route("default", via="fd00:1::2"))
    data["nodes"][3]["routes"].append(route("default", via="fd00:2::1"))
    return data


T1, T2, T3, T4 = (tutorial_data(number) for number in (1, 2, 3, 4))
NOWHERE = chain(a_routes=(route("default", via="10.0.1.9"),))
UNROUTED = chain(a_routes=())
NO_WAY_BACK = chain(b_routes=())
NOT_FORWARDING = chain(forwarding=False)
MASQUERADED = chain(b_routes=(), masquerade=True)
LISTENING = chain(b_services=(service("tcp", 7),))
ONE_WAY = chain(a_routes=(route("10.0.2.0/24", via="10.0.1.2"),), b_routes=())
BACK_ONLY = chain(b_routes=(route("10.0.1.0/24", via="10.0.2.1"),))
T3_NO_NAT = {**T3, "nodes": [{**T3["nodes"][0], "nat": []}, *T3["nodes"][1:]]}
# blue's link to the bridge down in the design: its address stays, its routes go.
T2_BLUE_DOWN = {
    **T2,
    "name": "blue-down",
    "links": [T2["links"][0], {**T2["links"][1], "up": False}],
}
# the chain's second link down: b is cut off, and r has no route to 10.0.2.0/24.
CHAIN_CUT = {
    **chain(),
    "name": "chain-cut",
    "links": [chain()["links"][0], {**chain()["links"][1], "up": False}],
}

# (design, source, target, protocol, port, outcome, nodes passed, reply's nodes or None)
PATHS: list[tuple[Any, ...]] = [
    # delivered
    (T1, "red", "blue", "icmp", None, "delivered", ["red", "blue"], ["blue", "red"]),
    (T1, "blue", "192.168.15.1", "icmp", None, "delivered", ["blue", "red"], ["red", "blue"]),
    (T2, "red", "blue", "icmp", None, "delivered", ["red", "blue"], ["blue", "red"]),
    (T2, "red", "192.168.15.5", "icmp", None, "delivered", ["red", "host"], ["host", "red"]),
    (T2, "host", "red", "icmp", None, "delivered", ["host", "red"], ["red", "host"]),
    (T3, "blue", "lan", "icmp", None, "delivered", ["blue", "host", "lan"], ["lan", "host", "blue"]),  # noqa: E501
    (T3, "red", "192.168.1.2", "icmp", None, "delivered", ["red", "host"], ["host", "red"]),
    (T4, "lan", "192.168.1.2", "tcp", 80, "delivered", ["lan", "host", "blue"], ["blue", "host", "lan"]),  # noqa: E501
    (T4, "red", "blue", "tcp", 80, "delivered", ["red", "blue"], ["blue", "red"]),
    (chain(), "a", "b", "icmp", None, "delivered", ["a", "r", "b"], ["b", "r", "a"]),
    (chain(), "a", "10.0.2.1", "icmp", None, "delivered", ["a", "r"], ["r", "a"]),
    (NOT_FORWARDING, "a", "10.0.2.1", "icmp", None, "delivered", ["a", "r"], ["r", "a"]),
    (MASQUERADED, "a", "b", "icmp", None, "delivered", ["a", "r", "b"], ["b", "r", "a"]),
    (LISTENING, "a", "b", "tcp", 7, "delivered", ["a", "r", "b"], ["b", "r", "a"]),
    (dual_stack(), "a", "fd00:2::2", "icmp", None, "delivered", ["a", "r", "b"], ["b", "r", "a"]),
    (chain(), "a", "127.0.0.1", "icmp", None, "delivered", ["a"], []),
    (chain(), "a", "10.0.1.1", "icmp", None, "delivered", ["a"], []),
    # no-route
    (T1, "host", "red", "icmp", None, "no-route", ["host"], None),
    (T2, "red", "192.168.1.3", "icmp", None, "no-route", ["red"], None),
    (T3, "lan", "blue", "icmp", None, "no-route", ["lan"], None),
    (UNROUTED, "a", "b", "icmp", None, "no-route", ["a"], None),
    (chain(), "a", "172.16.0.1", "icmp", None, "no-route", ["a", "r"], None),
    (CHAIN_CUT, "a", "b", "icmp", None, "no-route", ["a", "r"], None),
    (T2_BLUE_DOWN, "blue", "red", "icmp", None, "no-route", ["blue"], None),
    (dual_stack(), "host", "fd00:2::2", "icmp", None, "no-route", ["host"], None),
    # no-return-route
    (NO_WAY_BACK, "a", "b", "icmp", None, "no-return-route", ["a", "r", "b"], ["b"]),
    (NO_WAY_BACK, "a", "b", "tcp", 7, "port-closed", ["a", "r", "b"], None),
    (T3_NO_NAT, "blue", "lan", "icmp", None, "no-return-route", ["blue", "host", "lan"], ["lan"]),
    (ONE_WAY, "a", "b", "icmp", None, "no-return-route", ["a", "r", "b"], ["b"]),
    (BACK_ONLY, "b", "a", "icmp", None, "delivered", ["b", "r", "a"], ["a", "r", "b"]),
    # forwarding-disabled
    (NOT_FORWARDING, "a", "b", "icmp", None, "forwarding-disabled", ["a", "r"], None),
    (NOT_FORWARDING, "b", "a", "icmp", None, "forwarding-disabled", ["b", "r"], None),
    (NOT_FORWARDING, "a", "b", "tcp", 7, "forwarding-disabled", ["a", "r"], None),
    # unreachable-next-hop
    (NOWHERE, "a", "b", "icmp", None, "unreachable-next-hop", ["a"], None),
    (chain(), "a", "10.0.1.77", "icmp", None, "unreachable-next-hop", ["a"], None),
    (chain(), "a", "10.0.2.99", "icmp", None, "unreachable-next-hop", ["a", "r"], None),
    (T2, "red", "192.168.15.9", "icmp", None, "unreachable-next-hop", ["red"], None),
    (T2_BLUE_DOWN, "red", "blue", "icmp", None, "unreachable-next-hop", ["red"], None),
    (T2_BLUE_DOWN, "blue", "192.168.15.2", "icmp", None, "delivered", ["blue"], []),
    # port-closed
    (chain(), "a", "b", "tcp", 22, "port-closed", ["a", "r", "b"], None),
    (T4, "red", "blue", "tcp", 81, "port-closed", ["red", "blue"], None),
    (LISTENING, "a", "b", "tcp", 8, "port-closed", ["a", "r", "b"], None),
    # loop
    (looped(), "a", "10.9.0.1", "icmp", None, "loop", None, None),
    (looped(), "r1", "10.9.1.1", "icmp", None, "loop", None, None),
    (looped(), "r2", "10.9.2.2", "icmp", None, "loop", None, None),
    # unknown
    (dual_stack(), "a", "fe80::1", "icmp", None, "unknown", [], None),
    (T2, "red", "fe80::2", "icmp", None, "unknown", [], None),
    (chain(), "b", "fe80::3", "icmp", None, "unknown", [], None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("data", "source", "target", "protocol", "port", "outcome", "nodes", "reply"),
    PATHS,
    ids=[f"{row[0]['name']}:{row[1]}->{row[2]}:{row[3]}{row[4] or ''}" for row in PATHS],
)
def test_a_path(
    data: dict[str, Any],
    source: str,
    target: str,
    protocol: str,
    port: int | None,
    outcome: str,
    nodes: list[str] | None,
    reply: list[str] | None,
) -> None:
    found = explain(load(data), source, target, protocol=protocol, port=port)
    assert found.outcome == outcome, found.reason
    assert found.reason
    if nodes is not None:
        assert [hop.node for hop in found.hops] == nodes
    if reply is not None:
        assert found.reply is not None
        assert [hop.node for hop in found.reply] == reply
    stopped = [hop for hop in [*found.hops, *(found.reply or ())] if not hop.ok]
    assert len(stopped) == (0 if outcome in ("delivered", "port-closed", "unknown") else 1)


def test_every_outcome_is_in_the_table_three_times() -> None:
    counts = dict.fromkeys(OUTCOMES, 0)
    for row in PATHS:
        counts[row[5]] += 1
    assert all(count >= 3 for count in counts.values()), counts
    assert len(PATHS) >= 40


def test_each_hop_says_what_it_decided_in_iproute2_words() -> None:
    found = explain(load(T3), "blue", "lan")
    blue, host, lan = found.hops
    assert (blue.out, blue.route, blue.next_hop) == (
        "veth-blue",
        "192.168.1.0/24 via 192.168.15.5 dev veth-blue",
        "192.168.15.5",
    )
    assert (host.in_, host.out, host.next_hop) == ("v-net-0", "eth0", "192.168.1.3")
    assert host.nat == "masquerade: source 192.168.15.2 -> 192.168.1.2"
    assert lan.note == "192.168.1.3 is lan's own address: delivered"
    assert found.reply is not None
    assert "undoes the masquerade" in (found.reply[1].nat or "")
    as_json = found.as_dict()
    assert set(as_json["hops"][0]) >= {"node", "in", "out", "route", "next_hop", "nat", "note"}


def test_a_port_forward_rewrites_the_destination_on_the_way_in() -> None:
    found = explain(load(T4), "lan", "192.168.1.2", protocol="tcp", port=80)
    assert found.hops[1].nat == "DNAT 192.168.1.2:80 -> 192.168.15.2:80 (port forward)"


def test_fixes_are_edits_that_make_the_path_work() -> None:
    cases = [
        (NOT_FORWARDING, "a", "b", "set-forwarding"),
        (UNROUTED, "a", "b", "add-route"),
        (NO_WAY_BACK, "a", "b", "add-nat"),
        (chain(), "a", "b", "add-service"),
    ]
    for data, source, target, kind in cases:
        protocol, port = ("tcp", 22) if kind == "add-service" else ("icmp", None)
        found = explain(load(data), source, target, protocol=protocol, port=port)
        fixes = [fix for fix in found.fixes if fix.change["op"] == kind]
        assert fixes, (kind, found.reason)
        fixed = apply_fix(data, fixes[0].change)
        after = explain(load(fixed), source, target, protocol=protocol, port=port)
        assert after.outcome == "delivered", (kind, after.reason)


def test_the_seed_lesson_the_lan_machine_needs_a_masquerade_to_answer() -> None:
    found = explain(load(T3_NO_NAT), "blue", "lan")
    assert found.outcome == "no-return-route"
    assert "lan has no route to 192.168.15.2" in found.reason
    sentences = [fix.sentence for fix in found.fixes]
    assert "masquerade 192.168.15.0/24 out of eth0 in host" in sentences
    assert "add a route to 192.168.15.0/24 via 192.168.1.2 in lan" in sentences


def test_the_matrix_has_the_pairs_of_ping_all() -> None:
    cells = matrix(load(T2))
    assert {(cell["source"], cell["address"]) for cell in cells} == {
        (source, address)
        for source in ("host", "red", "blue")
        for address, owner in (("192.168.15.5", "v-net-0"), ("192.168.15.1", "red"),
                               ("192.168.15.2", "blue"))
        if owner != source
    }  # fmt: skip
    assert all(cell["reachable"] for cell in cells)
    assert {cell["outcome"] for cell in matrix(load(T1))} == {"delivered", "no-route"}


def test_bad_questions_are_refused() -> None:
    with pytest.raises(ValueError, match="not a namespace node"):
        explain(load(T2), "v-net-0", "red")
    with pytest.raises(ValueError, match="neither a node"):
        explain(load(T2), "red", "nowhere")
    with pytest.raises(ValueError, match="needs a port"):
        explain(load(T2), "red", "blue", protocol="tcp")
    with pytest.raises(ValueError, match="unknown change"):
        apply_fix(T2, {"op": "reboot", "node": "red"})


def test_a_hop_out_of_an_impaired_interface_says_what_it_does_to_the_packet() -> None:
    data = {
        **T2,
        "links": [
            {**T2["links"][0], "impairment": {"delay_ms": 30, "loss_percent": 1}},
            T2["links"][1],
        ],
    }
    found = explain(load(data), "red", "blue")
    assert found.outcome == "delivered"
    assert found.hops[0].note == (
        "out of veth-red to 192.168.15.2 (blue); veth-red sends with 30 ms · 1% loss"
    )
