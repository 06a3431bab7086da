"""Automatic canvas layout of nodes that have no position."""

from __future__ import annotations

from itertools import combinations

import pytest
from factories import (
    TUTORIALS,
    bridge,
    design_data,
    endpoint,
    generated_design_data,
    host,
    link,
    node,
    tutorial_data,
    without_positions,
)

from netlab.core.document import Document, Position
from netlab.core.layout import COLUMN_WIDTH, MARGIN, ROW_HEIGHT, auto_layout, layers
from netlab.core.validation import load

UNPLACED = [
    *(
        pytest.param(load(without_positions(tutorial_data(number))), id=f"{path.stem}-unplaced")
        for number, path in TUTORIALS.items()
    ),
    *(
        pytest.param(load(without_positions(generated_design_data(seed))), id=f"generated-{seed}")
        for seed in range(10)
    ),
    pytest.param(load(design_data(links=[])), id="no-links"),
]
PARTLY_PLACED = [
    pytest.param(load(without_positions(tutorial_data(4), "red", "blue")), id="tutorial-4-leaves"),
    pytest.param(load(without_positions(tutorial_data(4), "host")), id="tutorial-4-host"),
    pytest.param(load(without_positions(tutorial_data(3), "v-net-0", "lan")), id="tutorial-3"),
    *(
        pytest.param(load(generated_design_data(seed)), id=f"generated-{seed}")
        for seed in range(10)
    ),
]


# New positions are rounded to whole canvas units, so a row may sit up to half a unit
# closer than ROW_HEIGHT to a placed node at a fractional position.
ROUNDING = 0.5


def overlap(first: Position, second: Position) -> bool:
    """Tell whether two nodes are closer than one grid cell (less rounding) in both directions."""
    return (
        abs(first.x - second.x) < COLUMN_WIDTH - ROUNDING
        and abs(first.y - second.y) < ROW_HEIGHT - ROUNDING
    )


@pytest.mark.parametrize("design", UNPLACED + PARTLY_PLACED)
def test_every_node_gets_a_position(design: Document) -> None:
    """After layout every node has a position, and nothing else changed."""
    laid_out = auto_layout(design)
    assert all(item.position is not None for item in laid_out.nodes)
    assert [item.model_copy(update={"position": None}) for item in laid_out.nodes] == [
        item.model_copy(update={"position": None}) for item in design.nodes
    ]
    assert laid_out.links == design.links
    assert laid_out.name == design.name


@pytest.mark.parametrize("design", PARTLY_PLACED)
def test_positioned_nodes_are_untouched(design: Document) -> None:
    """A node that had a position keeps it exactly."""
    laid_out = auto_layout(design)
    for before, after in zip(design.nodes, laid_out.nodes, strict=True):
        if before.position is not None:
            assert after.position == before.position


@pytest.mark.parametrize("design", PARTLY_PLACED)
def test_new_nodes_do_not_overlap_existing_ones(design: Document) -> None:
    """New nodes go below every placed node, and no two new nodes overlap."""
    laid_out = auto_layout(design)
    placed = [item.position for item in design.nodes if item.position is not None]
    new = [
        after.position
        for before, after in zip(design.nodes, laid_out.nodes, strict=True)
        if before.position is None
    ]
    assert all(p is not None for p in new)
    lowest = max(position.y for position in placed)
    assert all(position.y >= lowest + ROW_HEIGHT - ROUNDING for position in new)  # type: ignore[union-attr]
    assert not any(overlap(a, b) for a, b in combinations(new, 2))  # type: ignore[arg-type]
    assert not any(overlap(a, b) for a in new for b in placed)  # type: ignore[arg-type]


@pytest.mark.parametrize("design", UNPLACED)
def test_host_is_alone_on_the_top_row(design: Document) -> None:
    """With no positions, the host is drawn above every other node, at the top margin."""
    laid_out = auto_layout(design)
    host_y = next(item.position.y for item in laid_out.nodes if item.kind == "host")
    others = [item.position.y for item in laid_out.nodes if item.kind != "host"]
    assert host_y == MARGIN
    assert all(y > host_y for y in others)


@pytest.mark.parametrize("design", UNPLACED)
def test_unplaced_nodes_do_not_overlap(design: Document) -> None:
    """With no positions, no two nodes overlap."""
    positions = [item.position for item in auto_layout(design).nodes]
    assert not any(overlap(a, b) for a, b in combinations(positions, 2))  # type: ignore[arg-type]


@pytest.mark.parametrize("design", UNPLACED + PARTLY_PLACED)
def test_layout_is_deterministic_and_idempotent(design: Document) -> None:
    """The same design always gets the same positions, and laying it out again changes nothing."""
    first = auto_layout(design)
    assert auto_layout(design.model_copy(deep=True)) == first
    assert auto_layout(first) is first


@pytest.mark.parametrize("number", TUTORIALS, ids=lambda number: TUTORIALS[number].stem)
def test_fully_positioned_design_is_returned_as_is(number: int) -> None:
    """A design whose nodes all have positions is returned unchanged."""
    design = load(tutorial_data(number))
    assert auto_layout(design) is design


@pytest.mark.parametrize(
    ("design", "rows"),
    [
        pytest.param(
            load(tutorial_data(4)),
            {"host": 0, "v-net-0": 1, "lan": 1, "red": 2, "blue": 2},
            id="tutorial-4-bridge-below-its-holder",
        ),
        pytest.param(
            load(tutorial_data(1)), {"host": 0, "red": 1, "blue": 1}, id="unlinked-below-deepest"
        ),
        pytest.param(
            load(
                design_data(
                    nodes=[host(), node("a"), node("b"), node("c"), bridge("br0", in_="c")],
                    links=[
                        link(endpoint("host", "h-a"), endpoint("a", "a-h")),
                        link(endpoint("a", "a-b"), endpoint("b", "b-a")),
                    ],
                )
            ),
            {"host": 0, "a": 1, "b": 2, "c": 3, "br0": 3},
            id="chain-and-an-island",
        ),
    ],
)
def test_layers(design: Document, rows: dict[str, int]) -> None:
    """A node's row is its distance in links from the host; islands go below the deepest."""
    assert layers(design) == rows


def test_rows_are_centred_and_evenly_spaced() -> None:
    """Nodes of a row sit one column apart, a narrower row centred under the widest."""
    laid_out = auto_layout(load(without_positions(tutorial_data(2))))
    position = {item.id: item.position for item in laid_out.nodes}
    assert position["host"] == Position(x=MARGIN + COLUMN_WIDTH // 2, y=MARGIN)
    assert position["v-net-0"] == Position(x=MARGIN + COLUMN_WIDTH // 2, y=MARGIN + ROW_HEIGHT)
    assert position["red"].y == position["blue"].y == MARGIN + 2 * ROW_HEIGHT  # type: ignore[union-attr]
    assert abs(position["red"].x - position["blue"].x) == COLUMN_WIDTH  # type: ignore[union-attr]
