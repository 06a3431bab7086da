"""The gallery's picture of a design: well-formed SVG of a bounded size, in which no title
or node id can be anything but text."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from netlab.core import picture
from netlab.core.document import Document, Endpoint, Link, Node, Position

SVG = "{http://www.w3.org/2000/svg}"
ALLOWED = {f"{SVG}{tag}" for tag in ("svg", "title", "line", "rect", "circle", "text")}
HOSTILE = [
    "</title><script>alert(1)</script>",
    '"><svg onload="alert(1)">',
    "<![CDATA[x]]>&amp;&#x3c;",
    "\x00\x08\x1b\ufffe\ud800 control characters",
    "]]></svg><foreignObject><iframe src=javascript:alert(1)>",
]


def star(size: int, name: str = "n", title: str = "") -> Document:
    nodes = [Node(id="host", kind="host"), Node(id="br0", kind="bridge")]
    nodes += [Node(id=f"{name}{index}", kind="namespace") for index in range(size)]
    links = [
        Link(
            endpoints=(
                Endpoint(node=f"{name}{index}", interface="eth0"),
                Endpoint(node="br0", interface=f"p{index}"),
            )
        )
        for index in range(size)
    ]
    return Document(name="star", title=title, nodes=tuple(nodes), links=tuple(links))


def parsed(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # noqa: S314 - text netlab drew, parsed to check it
    assert root.tag == f"{SVG}svg"
    return root


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_stays_text(text: str) -> None:
    """A title or node id full of markup is escaped: the picture has only drawing elements."""
    design = Document(
        name="evil",
        title=text,
        nodes=(Node(id="host", kind="host"), Node(id=text, kind="namespace")),
        links=(
            Link(
                endpoints=(
                    Endpoint(node="host", interface="eth0"),
                    Endpoint(node=text, interface="eth0"),
                )
            ),
        ),
    )
    svg = picture.draw(design)
    root = parsed(svg)
    elements = list(root.iter())
    assert {element.tag for element in elements} <= ALLOWED
    for element in elements:
        assert not [name for name in element.attrib if name.lower().startswith("on")]
    assert "<script" not in svg
    assert "<svg onload" not in svg
    titles = [element.text or "" for element in elements if element.tag == f"{SVG}title"]
    assert len(titles) == 3  # the design's, and one per node
    assert titles[0].startswith(text[:10].replace("\x00", "\ufffd")[:1])


def test_text_is_shortened() -> None:
    svg = picture.draw(
        Document(name="long", title="x" * 10_000, nodes=(Node(id="host", kind="host"),))
    )
    assert "x" * (picture.MAX_TEXT + 1) not in svg


def test_size_is_bounded_for_any_design() -> None:
    """Thousands of nodes with the longest, most escaped ids: the picture stays bounded."""
    design = star(3000, name='"' * 64, title="<" * 5000)
    svg = picture.draw(design)
    root = parsed(svg)
    assert len(svg) <= picture.MAX_CHARACTERS
    shapes = [element for element in root.iter() if element.tag in {f"{SVG}circle", f"{SVG}rect"}]
    assert len(shapes) == picture.MAX_NODES
    assert "+2852 nodes" in svg  # 3002 nodes, the first 150 drawn


@pytest.mark.parametrize(("x", "y"), [(0, 0), (10**400, -(10**400)), (1e308, -1e308), (5.5, 5.5)])
def test_any_position_draws_inside_the_frame(x: float, y: float) -> None:
    """Positions far apart, huge or equal still draw, every point within the picture."""
    design = Document(
        name="far",
        nodes=(
            Node(id="host", kind="host", position=Position(x=x, y=y)),
            Node(id="red", kind="namespace", position=Position(x=0, y=0)),
            Node(id="blue", kind="namespace"),
        ),
    )
    root = parsed(picture.draw(design))
    for element in root.iter(f"{SVG}circle"):
        assert 0 <= float(element.attrib["cx"]) <= picture.WIDTH
        assert 0 <= float(element.attrib["cy"]) <= picture.HEIGHT


def test_an_empty_design_draws() -> None:
    parsed(picture.draw(Document(name="empty")))
