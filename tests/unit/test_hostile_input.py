"""Input no document may hold is a located problem, never an exception (issue 9, defect 6).

NUL and lone surrogates in any string (SQLite, PostgreSQL and UTF-8 refuse them), integers
beyond 2**53 anywhere, and integers longer than Python will read in the text itself.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from factories import changed, tutorial_data

from netlab.core import codec
from netlab.core.validation import MAX_DATA_PROBLEMS, MAX_INTEGER, InvalidDesign, problems_of

T4 = tutorial_data(4)
# One path per kind of string field in the tutorial's whole network.
STRING_FIELDS = [
    "name",
    "title",
    "description",
    "nodes[0].id",
    "nodes[0].label",
    "nodes[0].nat[0].source",
    "nodes[0].nat[0].out",
    "nodes[0].port_forwards[0].to",
    "nodes[0].port_forwards[0].in",
    "nodes[0].port_forwards[0].protocol",
    "nodes[1].kind",
    "nodes[1].in",
    "nodes[1].addresses[0]",
    "nodes[2].routes[0].to",
    "nodes[2].routes[0].via",
    "nodes[2].routes[0].dev",
    "nodes[3].services[0].kind",
    "links[0].endpoints[0].node",
    "links[0].endpoints[0].interface",
    "links[0].endpoints[0].addresses[0]",
    "format",
]
BAD_CHARACTERS = [
    pytest.param("\x00", "a NUL character (\\x00)", id="nul"),
    pytest.param("\ud800", "a lone surrogate (\\ud800)", id="lone-high-surrogate"),
    pytest.param("\udfff", "a lone surrogate (\\udfff)", id="lone-low-surrogate"),
]


@pytest.mark.parametrize(("character", "named"), BAD_CHARACTERS)
@pytest.mark.parametrize("path", STRING_FIELDS)
def test_unstorable_character_in_any_string_is_located(
    path: str, character: str, named: str
) -> None:
    problems = problems_of(changed(T4, {path: f"ok{character}ok"}))
    assert [(problem.path, named in problem.message) for problem in problems] == [(path, True)]
    for problem in problems:
        str(problem).encode()  # every problem can go to a page, a database or a terminal


@pytest.mark.parametrize(("character", "named"), BAD_CHARACTERS)
def test_unstorable_character_in_a_field_name_is_located(character: str, named: str) -> None:
    data = changed(T4, {f"nodes[2].x{character}": 1})
    problems = problems_of(data)
    escaped = named.split("(")[1].rstrip(")")
    assert [(p.path, p.message.startswith("the field name holds")) for p in problems] == [
        (f"nodes[2]['x{escaped}']", True)
    ]


def test_unstorable_characters_in_json_text_are_located() -> None:
    """JSON spells a lone surrogate as an escape: the text reads, the document is refused."""
    text = json.dumps(changed(T4, {"title": "\ud800", "nodes[2].label": "\x00"}))
    with pytest.raises(InvalidDesign) as refused:
        codec.load_text(text, "json")
    assert not isinstance(refused.value, codec.UnreadableDocument)
    assert [problem.path for problem in refused.value.problems] == ["title", "nodes[2].label"]


def test_unstorable_character_deep_in_nested_data_is_located() -> None:
    """Data nested deeper than the stack is walked without recursion."""
    deep: Any = "\x00"
    for _ in range(50_000):
        deep = [deep]
    problems = problems_of(changed(T4, {"description": deep}))
    assert problems[0].path == "description" + "[0]" * 50_000


def test_many_bad_strings_give_a_bounded_list() -> None:
    data = changed(T4, {"description": ["\x00"] * 10_000})
    assert len(problems_of(data)) == MAX_DATA_PROBLEMS


HUGE = [
    pytest.param(MAX_INTEGER + 1, id="2**53"),
    pytest.param(-(MAX_INTEGER + 1), id="minus-2**53"),
    pytest.param(10**1000, id="1000-digits"),
    pytest.param(-(10**5000), id="5000-digits"),
]
INTEGER_FIELDS = [
    "nodes[0].port_forwards[0].port",
    "nodes[3].services[0].port",
    "nodes[0].position.x",
    "nodes[0].position.y",
    "nodes[0].forwarding",
    "nodes[0].id",
    "format",
]


@pytest.mark.parametrize("value", HUGE)
@pytest.mark.parametrize("path", INTEGER_FIELDS)
def test_huge_integer_anywhere_is_located(path: str, value: int) -> None:
    """Before: ``str()`` refused to show a 5000-digit port, ``isfinite`` overflowed on a
    position; now every huge integer is one problem at its path."""
    placed = changed(T4, {"nodes[0].position": {"x": 1, "y": 2}})
    problems = problems_of(changed(placed, {path: value}))
    assert [(p.path, "beyond ±9007199254740991" in p.message) for p in problems] == [(path, True)]


def test_largest_integer_is_only_out_of_range() -> None:
    problems = problems_of(changed(T4, {"nodes[0].port_forwards[0].port": MAX_INTEGER}))
    assert [str(problem) for problem in problems] == [
        "nodes[0].port_forwards[0].port: port 9007199254740991 is out of range 1-65535"
    ]


LONG = "1" + "0" * 4999


@pytest.mark.parametrize(
    ("text", "text_format", "message"),
    [
        pytest.param(
            '{"name": "x",\n "port": ' + LONG + "}",
            "json",
            "not valid JSON: an integer of 5000 digits (line 2, column 10)",
            id="json-5000-digits",
        ),
        pytest.param(
            '{"n": -' + LONG + "}",
            "json",
            "an integer of 5000 digits (line 1, column 7)",
            id="json-negative",
        ),
        pytest.param(
            "name: x\nnodes:\n  - {id: a, port: " + LONG + "}\n",
            "yaml",
            "not valid YAML: cannot read this value: an integer of 5000 digits; a design's "
            "numbers have at most 640 digits (line 3, column 19)",
            id="yaml-5000-digits",
        ),
        pytest.param(
            "port: 1_" + LONG + "\n", "yaml", "an integer of 5001 digits", id="yaml-underscores"
        ),
        pytest.param("port: 0x" + "f" * 700, "yaml", "an integer of 702 digits", id="yaml-hex"),
        pytest.param("when: 2001-13-01\n", "yaml", "month must be in 1..12", id="yaml-13th-month"),
        pytest.param("port: !!int xyz\n", "yaml", "(line 1, column 7)", id="yaml-tagged-int"),
        pytest.param("when: !!timestamp x\n", "yaml", "cannot read", id="yaml-tagged-timestamp"),
    ],
)
def test_text_python_cannot_read_is_refused(text: str, text_format: Any, message: str) -> None:
    """Before: ``ValueError: Exceeds the limit (4300 digits)`` (and YAML's constructors'
    own errors) escaped the codec."""
    with pytest.raises(codec.UnreadableDocument) as refused:
        codec.parse_text(text, text_format)
    assert message in str(refused.value)


def test_integer_of_640_digits_reads_and_is_a_located_problem() -> None:
    """Up to 640 digits a number reads (whatever the interpreter's limit); validation places it."""
    text = json.dumps(T4).replace('"port": 80', '"port": ' + "9" * 640, 1)
    with pytest.raises(InvalidDesign) as refused:
        codec.load_text(text, "json")
    assert not isinstance(refused.value, codec.UnreadableDocument)
    assert [problem.path for problem in refused.value.problems] == [
        "nodes[0].port_forwards[0].port"
    ]


def test_unstorable_character_in_a_yaml_set_is_located() -> None:
    """YAML's ``!!set`` builds a set, which pydantic takes for a list: it is walked too."""
    text = (
        "name: x\nnodes: [{id: host, kind: host}]\nlinks:\n"
        '  - endpoints: [{node: host, interface: a, addresses: !!set {"a\\0": null}},'
        " {node: host, interface: b}]\n"
    )
    with pytest.raises(InvalidDesign) as refused:
        codec.load_text(text, "yaml")
    assert [problem.path for problem in refused.value.problems] == [
        "links[0].endpoints[0].addresses[0]"
    ]
