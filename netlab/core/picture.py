"""A small picture of a design (SVG text) for the gallery, drawn once when it is saved.

The picture is bounded whatever the document: at most ``MAX_NODES`` nodes and
``MAX_LINKS`` links are drawn (the rest are counted in a caption made of digits only), and
the only user text in it, the title and node ids, is shortened and escaped, with every
character XML cannot hold replaced. Pages show it through ``<img>``, where an SVG runs no
script and loads nothing; escaping keeps it well-formed and inert when opened on its own.
"""

from __future__ import annotations

import math
import re
from html import escape

from netlab.core.document import Document, Node
from netlab.core.layout import auto_layout

WIDTH = 240
HEIGHT = 150
PADDING = 12
MAX_NODES = 150
MAX_LINKS = 300
MAX_TEXT = 40
# Each drawn element has a fixed size but for its text, which escaping may grow six-fold:
# an upper bound on the picture's length, checked by the tests.
MAX_CHARACTERS = 600 + MAX_TEXT * 6 * (MAX_NODES + 1) + 80 * (MAX_NODES + MAX_LINKS)

NODE_COLOUR = "#4a7bd0"
HOST_COLOUR = "#37474f"
BRIDGE_COLOUR = "#ef8f00"
LINE_COLOUR = "#8aa0b6"

# Characters XML 1.0 cannot carry (controls, lone surrogates, U+FFFE/U+FFFF).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: str) -> str:
    """Return ``value`` shortened, with XML's forbidden characters replaced, escaped."""
    if len(value) > MAX_TEXT:
        value = value[: MAX_TEXT - 1] + "…"
    return escape(_NOT_XML.sub("\ufffd", value), quote=True)


def _coordinate(value: float) -> float:
    """Return ``value`` as a float the arithmetic below cannot overflow: within ±1e12."""
    try:
        number = float(value)
    except OverflowError:  # an integer past float's range
        number = math.inf if value > 0 else -math.inf
    if math.isnan(number):
        return 0.0
    return max(-1e12, min(1e12, number))


def _scaled(nodes: tuple[Node, ...]) -> dict[str, tuple[float, float]]:
    """Return each node's point in the picture: the layout fitted into the frame, centred."""
    raw = {
        node.id: (
            (_coordinate(node.position.x), _coordinate(node.position.y))
            if node.position is not None
            else (0.0, 0.0)
        )
        for node in nodes
    }
    xs = [x for x, _ in raw.values()]
    ys = [y for _, y in raw.values()]
    left, top = min(xs, default=0.0), min(ys, default=0.0)
    span_x, span_y = max(xs, default=0.0) - left, max(ys, default=0.0) - top
    room_x, room_y = WIDTH - 2 * PADDING, HEIGHT - 2 * PADDING
    scale = min(room_x / span_x if span_x else math.inf, room_y / span_y if span_y else math.inf)
    if not math.isfinite(scale):
        scale = 1.0
    offset_x = PADDING + (room_x - span_x * scale) / 2
    offset_y = PADDING + (room_y - span_y * scale) / 2
    return {
        key: (round(offset_x + (x - left) * scale, 1), round(offset_y + (y - top) * scale, 1))
        for key, (x, y) in raw.items()
    }


def _shape(node: Node, x: float, y: float) -> str:
    label = f"<title>{_text(node.id)}</title>"
    if node.kind == "host":
        return (
            f'<rect x="{x - 8}" y="{y - 5}" width="16" height="10" rx="2" '
            f'fill="{HOST_COLOUR}">{label}</rect>'
        )
    if node.kind == "bridge":
        return (
            f'<rect x="{x - 10}" y="{y - 3}" width="20" height="6" '
            f'fill="{BRIDGE_COLOUR}">{label}</rect>'
        )
    return f'<circle cx="{x}" cy="{y}" r="5" fill="{NODE_COLOUR}">{label}</circle>'


def _line(start: tuple[float, float], end: tuple[float, float], *, dashed: bool = False) -> str:
    dash = ' stroke-dasharray="3 2"' if dashed else ""
    return (
        f'<line x1="{start[0]}" y1="{start[1]}" x2="{end[0]}" y2="{end[1]}" '
        f'stroke="{LINE_COLOUR}" stroke-width="1.2"{dash}/>'
    )


def draw(design: Document) -> str:
    """Return an SVG picture of ``design``, at most :data:`MAX_CHARACTERS` long.

    Nodes without a position are laid out as the editor would; positioned ones keep theirs.
    """
    laid_out = auto_layout(design)
    nodes = laid_out.nodes[:MAX_NODES]
    points = _scaled(nodes)
    lines: list[str] = []
    for link in laid_out.links:
        if len(lines) >= MAX_LINKS:
            break
        first, second = (endpoint.node for endpoint in link.endpoints)
        if first in points and second in points:
            lines.append(_line(points[first], points[second]))
    for node in nodes:
        holder = laid_out.holder_of(node) if node.kind == "bridge" else None
        if holder in points and len(lines) < MAX_LINKS:
            lines.append(_line(points[holder], points[node.id], dashed=True))
    shapes = [_shape(node, *points[node.id]) for node in nodes]
    hidden = len(laid_out.nodes) - len(nodes)
    caption = (
        f'<text x="{WIDTH - 4}" y="{HEIGHT - 4}" font-size="10" text-anchor="end" '
        f'fill="{HOST_COLOUR}">+{hidden} nodes</text>'
        if hidden
        else ""
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img">'
        f"<title>{_text(design.title or design.name)}</title>"
        f"{''.join(lines)}{''.join(shapes)}{caption}</svg>"
    )
