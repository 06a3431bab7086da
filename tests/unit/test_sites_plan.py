"""Labs across sites in the core: the node field ``site``, each site's part and its tunnels,
and the plan of one part (its nodes only, a VXLAN device for each end of a link to another
site)."""

from __future__ import annotations

from typing import Any

import pytest

from netlab.core import sites
from netlab.core.document import Document, json_schema
from netlab.core.plan import AddVeth, AddVxlan, Naming, SetLinkUp, compile_plan
from netlab.core.validation import load, problems_of

UNDERLAYS = {"a": "10.255.0.1", "b": "10.255.0.2"}


def two_sites(**red: Any) -> dict[str, Any]:
    """red (site a) - blue (site b), and green beside the host's bridge br0 (the lab's site),
    blue on br0 too."""
    return {
        "format": "netlab/v1",
        "name": "two",
        "nodes": [
            {"id": "host", "kind": "host"},
            {"id": "red", "kind": "namespace", "site": "a", **red},
            {"id": "blue", "kind": "namespace", "site": "b"},
            {"id": "br0", "kind": "bridge"},
            {"id": "green", "kind": "namespace"},
        ],
        "links": [
            {
                "endpoints": [
                    {"node": "red", "interface": "eth0", "addresses": ["10.0.0.1/24"]},
                    {"node": "blue", "interface": "eth0", "addresses": ["10.0.0.2/24"]},
                ]
            },
            {
                "endpoints": [
                    {"node": "green", "interface": "eth0"},
                    {"node": "br0", "interface": "p1"},
                ]
            },
            {
                "endpoints": [
                    {"node": "blue", "interface": "eth1"},
                    {"node": "br0", "interface": "p2"},
                ]
            },
        ],
    }


@pytest.mark.parametrize(
    ("data", "path", "message"),
    [
        pytest.param(two_sites(site="a b"), "nodes[1].site", "must be 1-50 letters", id="space"),
        pytest.param(two_sites(site=""), "nodes[1].site", "must be 1-50 letters", id="empty"),
        pytest.param(two_sites(site="x" * 51), "nodes[1].site", "1-50", id="too-long"),
        pytest.param(two_sites(site="../a"), "nodes[1].site", "must be", id="path"),
        pytest.param(
            {
                **two_sites(),
                "nodes": [
                    *two_sites()["nodes"][:3],
                    {"id": "br0", "kind": "bridge", "site": "a"},
                    two_sites()["nodes"][4],
                ],
            },
            "nodes[3].site",
            "a bridge has no 'site'",
            id="on-a-bridge",
        ),
    ],
)
def test_a_bad_site_is_told_at_its_place(data: dict[str, Any], path: str, message: str) -> None:
    problems = problems_of(data)
    assert [problem.path for problem in problems] == [path]
    assert message in problems[0].message


def test_site_is_in_the_schema_and_round_trips() -> None:
    node = json_schema()["$defs"]["Node"]["properties"]["site"]
    assert "VXLAN" in node["description"]
    document = load(two_sites())
    assert document.to_data()["nodes"][1]["site"] == "a"
    assert "site" not in document.to_data()["nodes"][4]


def test_nodes_run_on_their_pin_else_the_lab_site_and_a_bridge_with_its_holder() -> None:
    where = sites.node_sites(load(two_sites()), "c")
    assert where == {"host": "c", "red": "a", "blue": "b", "br0": "c", "green": "c"}
    assert sites.pinned(load(two_sites())) == ["a", "b"]


def test_one_site_is_one_part_without_tunnels() -> None:
    document = Document.model_validate({**two_sites(), "nodes": [
        {**node, "site": "a"} if node["kind"] != "bridge" else node
        for node in two_sites()["nodes"]]})  # fmt: skip
    (part,) = sites.parts(document, "a", UNDERLAYS, 7)
    assert part == sites.Part("a", frozenset({"host", "red", "blue", "br0", "green"}))


def test_a_link_between_sites_is_a_tunnel_end_on_each() -> None:
    underlays = {**UNDERLAYS, "c": "10.255.0.3"}
    parts = sites.parts(load(two_sites()), "c", underlays, 7)
    assert [part.site for part in parts] == ["c", "a", "b"]
    by_site = {part.site: part for part in parts}
    assert by_site["a"].tunnels == (sites.Tunnel(0, 0, 128, "10.255.0.1", "10.255.0.2", 1450),)
    assert by_site["b"].tunnels == (
        sites.Tunnel(0, 1, 128, "10.255.0.2", "10.255.0.1", 1450),
        sites.Tunnel(2, 0, 129, "10.255.0.2", "10.255.0.3", 1450),
    )
    assert by_site["c"].tunnels == (sites.Tunnel(2, 1, 129, "10.255.0.3", "10.255.0.2", 1450),)


@pytest.mark.parametrize(
    ("underlays", "mtu", "wanted"),
    [
        pytest.param(UNDERLAYS, None, 1450, id="ipv4-less-50"),
        pytest.param({"a": "fd00::1", "b": "fd00::2"}, None, 1430, id="ipv6-less-70"),
        pytest.param(UNDERLAYS, 1500, 1500, id="the-link-mtu-kept"),
    ],
)
def test_a_tunnel_mtu(underlays: dict[str, str], mtu: int | None, wanted: int) -> None:
    data = two_sites()
    data["links"][0]["mtu"] = mtu
    parts = sites.parts(load(data), "a", underlays, 1)
    assert {tunnel.mtu for part in parts for tunnel in part.tunnels if tunnel.link == 0} == {wanted}


def test_vnis_are_unique_per_deployment_and_within_24_bits() -> None:
    seen = {sites.vni(number, ordinal) for number in range(1, 500) for ordinal in range(16)}
    assert len(seen) == 499 * 16
    assert sites.vni(2**40, 15) <= sites.MAX_VNI
    assert sites.vni(0, 0) >= 1
    with pytest.raises(sites.PartError, match="at most 16 links between sites"):
        sites.vni(1, 16)


@pytest.mark.parametrize(
    ("underlays", "message"),
    [
        pytest.param({"a": "10.255.0.1"}, "no underlay address for site 'b'", id="missing"),
        pytest.param({"a": "10.255.0.1", "b": "fd00::2"}, "two IP versions", id="mixed"),
    ],
)
def test_parts_refused(underlays: dict[str, str], message: str) -> None:
    with pytest.raises(sites.PartError, match=message):
        sites.parts(load(two_sites()), "a", underlays, 1)


def test_a_stored_part_is_read_back_and_a_forged_one_refused() -> None:
    document = load(two_sites())
    part = sites.parts(document, "a", UNDERLAYS, 3)[1]
    assert sites.Part.from_dict(part.as_dict(), document) == part
    forged = [
        {**part.as_dict(), "site": "a;b"},
        {**part.as_dict(), "nodes": ["mallory"]},
        {**part.as_dict(), "tunnels": [{**part.as_dict()["tunnels"][0], "local": "eth0"}]},
        {**part.as_dict(), "tunnels": [{**part.as_dict()["tunnels"][0], "link": 9}]},
        {**part.as_dict(), "tunnels": [{**part.as_dict()["tunnels"][0], "vni": 2**24}]},
        {"site": "a"},
    ]
    for data in forged:
        with pytest.raises(sites.PartError):
            sites.Part.from_dict(data, document)


def test_a_part_plan_builds_its_nodes_and_its_tunnel_ends() -> None:
    document = load(two_sites())
    part_b = sites.parts(document, "a", UNDERLAYS, 7)[1]
    plan = compile_plan(document, Naming("abcdef", part=part_b))
    # Numbered as in the whole design: no two parts of a lab share a namespace name.
    assert plan.namespaces == {"blue": "netlab-abcdef-2"}
    tunnels = [step for step in plan.steps if isinstance(step, AddVxlan)]
    assert tunnels[0].shell == (
        "ip link add eth0 netns netlab-abcdef-2 mtu 1450 type vxlan id 128 local 10.255.0.2 "
        "remote 10.255.0.1 dstport 4789",
        "ip -n netlab-abcdef-2 link set eth0 alias netlab:abcdef",
    )
    assert [step.name for step in tunnels] == ["eth0", "eth1"]
    assert not [step for step in plan.steps if isinstance(step, AddVeth)]
    assert [step.name for step in plan.steps if isinstance(step, SetLinkUp)] == ["eth0", "eth1"]
    assert {getattr(step, "node", "blue") for step in plan.steps} == {"blue"}


def test_a_tunnel_end_on_a_bridge_joins_it_when_it_comes_up() -> None:
    document = load(two_sites())
    part_a = sites.parts(document, "a", UNDERLAYS, 7)[0]
    plan = compile_plan(document, Naming("abcdef", part=part_a))
    assert set(plan.namespaces) == {"host", "red", "green"}
    up = [step for step in plan.steps if isinstance(step, SetLinkUp) and step.name == "p2"]
    assert [(step.node, step.master) for step in up] == [("br0", "br0")]
    assert any(isinstance(step, AddVeth) and step.name == "p1" for step in plan.steps)


def test_a_lab_on_one_site_plans_as_before() -> None:
    document = load(two_sites())
    whole = compile_plan(document, Naming("abcdef"))
    assert not [step for step in whole.steps if isinstance(step, AddVxlan)]
