"""Questions a document answers alone: which namespace holds a node, a node's addresses, a
probe's target, how many namespaces a deployment creates."""

from __future__ import annotations

from typing import Any

import pytest
from factories import bridge, design_data, endpoint, host, link, node, tutorial_data

from netlab.core.document import Document
from netlab.core.plan import namespace_count
from netlab.core.targets import NoAddress, node_addresses, resolve_target
from netlab.core.validation import load


def document(**overrides: Any) -> Document:
    return Document.model_validate(design_data(**overrides))


BRIDGED = {
    "nodes": [
        host(),
        node("red"),
        bridge("br0", addresses=["10.0.0.1/24"]),
        bridge("br1", in_="red"),
    ],
    "links": [
        link(endpoint("red", "eth0", "10.0.0.2/24", "fd00::2/64"), endpoint("br0", "p-red")),
        link(endpoint("host", "h-br1", "10.1.0.1/24"), endpoint("br1", "p-host")),
    ],
}


@pytest.mark.parametrize(
    ("node_id", "holder"),
    [
        pytest.param("host", "host", id="the host holds its own"),
        pytest.param("red", "red", id="a namespace holds its own"),
        pytest.param("br0", "host", id="a bridge without in lives in the host"),
        pytest.param("br1", "red", id="a bridge lives in its in"),
    ],
)
def test_holders(node_id: str, holder: str) -> None:
    """Every node maps to the namespace node holding its interfaces."""
    assert document(**BRIDGED).holders()[node_id] == holder


def test_holders_agree_with_holder_of() -> None:
    """``holders`` and ``holder_of`` are one rule."""
    design = document(**BRIDGED)
    for bridge_node in (n for n in design.nodes if n.kind == "bridge"):
        assert design.holders()[bridge_node.id] == design.holder_of(bridge_node)


def test_a_bridge_without_a_host_node_is_held_by_host() -> None:
    """Without a host node (invalid, reported by validation) a bridge still gets an id."""
    design = document(nodes=[node("red"), bridge("br0")], links=[])
    assert design.holders()["br0"] == "host"


@pytest.mark.parametrize(
    ("node_id", "addresses"),
    [
        pytest.param("red", ["10.0.0.2", "fd00::2"], id="a namespace's link ends, prefix cut"),
        pytest.param("br0", ["10.0.0.1"], id="a bridge's own addresses"),
        pytest.param("br1", [], id="a bridge without addresses"),
        pytest.param("host", ["10.1.0.1"], id="the host's link ends"),
        pytest.param("nobody", [], id="an unknown node has none"),
    ],
)
def test_node_addresses(node_id: str, addresses: list[str]) -> None:
    assert node_addresses(document(**BRIDGED), node_id) == addresses


@pytest.mark.parametrize(
    ("target", "address"),
    [
        pytest.param("red", "10.0.0.2", id="a node is its first address"),
        pytest.param("192.0.2.7", "192.0.2.7", id="an address is itself"),
        pytest.param("not-a-node", "not-a-node", id="any other text is left to the probe"),
    ],
)
def test_resolve_target(target: str, address: str) -> None:
    assert resolve_target(document(**BRIDGED), target) == address


def test_resolve_target_refuses_a_node_without_address() -> None:
    with pytest.raises(NoAddress, match="br1 has no address to reach"):
        resolve_target(document(**BRIDGED), "br1")


@pytest.mark.parametrize(
    ("design", "count"),
    [
        pytest.param(document(), 3, id="host and two namespaces"),
        pytest.param(document(**BRIDGED), 2, id="bridges need none"),
        pytest.param(load(tutorial_data(1)), 3, id="tutorial 1"),
    ],
)
def test_namespace_count(design: Document, count: int) -> None:
    assert namespace_count(design) == count
