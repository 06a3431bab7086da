"""The explainer's proof: deploy a design, ping every address from every node, and the
prediction (``netlab.core.explain.matrix``, from the document alone) equals what the kernel
answered, cell by cell. Packets travel only between the namespaces each test deployed."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from enginekit import Kit, requires_root
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netlab.core.explain import matrix
from netlab.core.targets import node_addresses
from netlab.core.validation import load
from netlab.kernel.probes import ping_all

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
import test_explain as designs

pytestmark = [pytest.mark.kernel, requires_root]

DESIGNS = {
    "tutorial-1": designs.T1,
    "tutorial-2": designs.T2,
    "tutorial-3": designs.T3,
    "tutorial-3-without-nat": designs.T3_NO_NAT,
    "tutorial-4": designs.T4,
    "chain": designs.chain(),
    "chain-unrouted": designs.UNROUTED,
    "chain-no-way-back": designs.NO_WAY_BACK,
    "chain-not-forwarding": designs.NOT_FORWARDING,
    "chain-masqueraded": designs.MASQUERADED,
    "chain-one-way": designs.ONE_WAY,
    "chain-wrong-gateway": designs.NOWHERE,
    "looped": designs.looped(),
    "dual-stack": designs.dual_stack(),
    "tutorial-2-blue-down": designs.T2_BLUE_DOWN,
    "chain-cut": designs.CHAIN_CUT,
}


def observed(kit: Kit, data: dict[str, Any]) -> dict[tuple[str, str], bool]:
    design = load(data)
    record = kit.deploy(design)
    try:
        targets = {node: netns for node, netns in record.namespaces.items() if netns}
        addresses = {
            address: node.id for node in design.nodes for address in node_addresses(design, node.id)
        }
        cells = ping_all(targets, addresses, count=2, interval=0.05, timeout=1.0).cells
        return {(cell.source, cell.address): cell.reachable for cell in cells}
    finally:
        kit.destroy(record)


@pytest.mark.parametrize("name", sorted(DESIGNS))
def test_the_prediction_is_what_the_kernel_does(kit: Kit, name: str) -> None:
    data = DESIGNS[name]
    predicted = {(cell["source"], cell["address"]): cell for cell in matrix(load(data))}
    seen = observed(kit, data)
    assert set(seen) == set(predicted)
    disagreements = {
        pair: (predicted[pair]["outcome"], "kernel: reachable" if seen[pair] else "kernel: not")
        for pair in seen
        if seen[pair] != predicted[pair]["reachable"]
    }
    assert disagreements == {}


@st.composite
def random_designs(draw: st.DrawFn) -> dict[str, Any]:
    """A line of routers r0..rN-1 between two bridges of hosts, with random forwarding,
    default routes, routes to far subnets, and masquerades (bounded: at most 8 nodes)."""
    routers = draw(st.integers(1, 3))
    subnets = [f"10.{index}.0.0/24" for index in range(routers + 1)]  # subnet i: left of r_i

    def at(subnet: int, host: int) -> str:
        return f"10.{subnet}.0.{host}"

    nodes: list[dict[str, Any]] = [{"id": "host", "kind": "host"}]
    links: list[dict[str, Any]] = []
    for side, subnet in (("left", 0), ("right", routers)):
        nodes.append({"id": f"br-{side}", "kind": "bridge"})
        for number in range(draw(st.integers(1, 2))):
            name = f"{side}{number}"
            address = at(subnet, 10 + number)
            routes = []
            if draw(st.booleans()):
                gateway = at(subnet, 1) if side == "left" else at(subnet, 2)
                routes.append({"to": "default", "via": gateway})
            nodes.append({"id": name, "kind": "namespace", "routes": routes})
            links.append({"endpoints": [
                {"node": name, "interface": "eth0", "addresses": [f"{address}/24"]},
                {"node": f"br-{side}", "interface": f"{name}-br"},
            ]})  # fmt: skip
    for index in range(routers):
        name = f"r{index}"
        left, right = index, index + 1
        routes = []
        for far in range(routers + 1):
            if far in (left, right) or not draw(st.booleans()):
                continue
            via = at(left, 2) if far < left else at(right, 1)  # toward the far subnet's side
            if (far < left and index == 0) or (far > right and index == routers - 1):
                continue
            routes.append({"to": subnets[far], "via": via})
        nat = []
        if draw(st.booleans()):
            nat.append({"source": subnets[left], "out": f"{name}-right"})
        nodes.append({"id": name, "kind": "namespace", "forwarding": draw(st.booleans()),
                      "routes": routes, "nat": nat})  # fmt: skip
        left_peer = "br-left" if index == 0 else f"r{index - 1}"
        if index == 0:
            links.append({"endpoints": [
                {"node": name, "interface": f"{name}-left", "addresses": [f"{at(left, 1)}/24"]},
                {"node": "br-left", "interface": f"{name}-lbr"},
            ]})  # fmt: skip
        else:
            links.append({"endpoints": [
                {"node": name, "interface": f"{name}-left", "addresses": [f"{at(left, 1)}/24"]},
                {"node": left_peer, "interface": f"{left_peer}-right",
                 "addresses": [f"{at(left, 2)}/24"]},
            ]})  # fmt: skip
    last = f"r{routers - 1}"
    links.append({"endpoints": [
        {"node": last, "interface": f"{last}-right", "addresses": [f"{at(routers, 2)}/24"]},
        {"node": "br-right", "interface": f"{last}-rbr"},
    ]})  # fmt: skip
    return {"format": "netlab/v1", "name": "random", "nodes": nodes, "links": links}


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=random_designs())
def test_random_designs_are_predicted_exactly(data: dict[str, Any], tmp_path_factory: Any) -> None:
    from netlab.kernel import engine

    state = tmp_path_factory.mktemp("state")
    kit = Kit(prefix="nlx" + str(abs(hash(str(data))) % 10**5).zfill(5) + "-", state_dir=str(state))
    try:
        predicted = {(cell["source"], cell["address"]): cell for cell in matrix(load(data))}
        seen = observed(kit, data)
    finally:
        engine.cleanup(set(), state_dir=kit.state_dir)
    wrong = {
        pair: predicted[pair]["outcome"]
        for pair in seen
        if seen[pair] != predicted[pair]["reachable"]
    }
    assert wrong == {}, data
