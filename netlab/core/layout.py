"""Automatic canvas positions for nodes that have none.

A layered drawing: the host on top, then each node one row below the nearest node it is
linked to (breadth first from the host), nodes of a row spread evenly and centred. Nodes
that already have a position keep it; when some do, the new ones are drawn below them so
nothing overlaps.
"""

from __future__ import annotations

from collections import defaultdict, deque

from netlab.core.document import Document, Node, Position

COLUMN_WIDTH = 160
ROW_HEIGHT = 140
MARGIN = 60


def layers(design: Document) -> dict[str, int]:
    """Return each node's row: its distance in links from the host (bridges count as hops).

    A bridge also hangs one row below the node holding it. Nodes not connected to the host
    go one row below the deepest connected node.
    """
    neighbours: dict[str, set[str]] = defaultdict(set)
    for link in design.links:
        first, second = (endpoint.node for endpoint in link.endpoints)
        neighbours[first].add(second)
        neighbours[second].add(first)
    for node in design.nodes:
        if node.kind == "bridge":
            holder = design.holder_of(node)
            neighbours[holder].add(node.id)
            neighbours[node.id].add(holder)
    roots = [node.id for node in design.nodes if node.kind == "host"][:1]
    row: dict[str, int] = dict.fromkeys(roots, 0)
    queue = deque(roots)
    while queue:
        current = queue.popleft()
        for other in sorted(neighbours[current]):
            if other not in row:
                row[other] = row[current] + 1
                queue.append(other)
    deepest = max(row.values(), default=-1)
    for node in design.nodes:
        row.setdefault(node.id, deepest + 1)
    return row


def auto_layout(design: Document) -> Document:
    """Return ``design`` with a position on every node; positioned nodes are left alone."""
    missing = [node for node in design.nodes if node.position is None]
    if not missing:
        return design
    placed = [node.position for node in design.nodes if node.position is not None]
    top = max((position.y for position in placed), default=-ROW_HEIGHT) + ROW_HEIGHT
    if not placed:
        top = MARGIN
    row_of = layers(design)
    rows: dict[int, list[Node]] = defaultdict(list)
    for node in missing:
        rows[row_of[node.id]].append(node)
    widest = max(len(members) for members in rows.values())
    positions: dict[str, Position] = {}
    for number, row in enumerate(sorted(rows)):
        members = rows[row]
        offset = (widest - len(members)) * COLUMN_WIDTH / 2
        for column, node in enumerate(members):
            positions[node.id] = Position(
                x=round(MARGIN + offset + column * COLUMN_WIDTH),
                y=round(top + number * ROW_HEIGHT),
            )
    nodes = tuple(
        node
        if node.position is not None
        else node.model_copy(update={"position": positions[node.id]})
        for node in design.nodes
    )
    return design.model_copy(update={"nodes": nodes})
