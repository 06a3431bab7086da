"""The diff between two designs, as the history view shows it."""

from __future__ import annotations

from typing import Any

import pytest
from factories import changed, design_data, endpoint, link, node

from netlab.core import diff, validation

BASE = design_data(name="lab")


def changes(old: dict[str, Any], new: dict[str, Any]) -> set[tuple[str, str, str]]:
    result = diff.diff(validation.load(old), validation.load(new))
    return {(item.kind, item.key, item.change) for item in result.elements}


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        pytest.param(BASE, set(), id="same-design"),
        pytest.param(
            changed(BASE, {"nodes[1].position": {"x": 5, "y": 6}}),
            {("node", "red", "moved")},
            id="moved-node",
        ),
        pytest.param(
            changed(BASE, {"nodes[1].routes": [{"to": "10.9.0.0/16", "via": "192.168.15.2"}]}),
            {("node", "red", "changed")},
            id="changed-node",
        ),
        pytest.param(
            {**BASE, "nodes": [*BASE["nodes"], node("green")]},
            {("node", "green", "added")},
            id="added-node",
        ),
        pytest.param(
            {**BASE, "links": []},
            {("link", "blue:veth-blue -- red:veth-red", "removed")},
            id="removed-link",
        ),
        pytest.param(
            changed(BASE, {"links[0].endpoints[0].addresses": ["192.168.15.9/24"]}),
            {("link", "blue:veth-blue -- red:veth-red", "changed")},
            id="changed-link-address",
        ),
        pytest.param(
            {
                **BASE,
                "links": [
                    link(
                        endpoint("blue", "veth-blue", "192.168.15.2/24"),
                        endpoint("red", "veth-red", "192.168.15.1/24"),
                    )
                ],
            },
            set(),
            id="swapped-endpoints-are-no-change",
        ),
    ],
)
def test_diff(new: dict[str, Any], expected: set[tuple[str, str, str]]) -> None:
    """Each kind of edit is reported as what it is, and nothing else is."""
    assert changes(BASE, new) == expected


def test_removed_node_and_title() -> None:
    """Removing a node (and its link) and retitling are all reported."""
    new = {**BASE, "title": "renamed", "nodes": BASE["nodes"][:2], "links": []}
    result = diff.diff(validation.load(BASE), validation.load(new))
    assert result.design == ("title",)
    assert ("node", "blue", "removed") in {(i.kind, i.key, i.change) for i in result.elements}
    assert not result.empty
