"""Random documents through validate, compile and render (issue 9: document fuzzing).

Mostly-valid documents (the tutorials and a small design) with hostile text and odd values in
random fields, raw JSON-ish data, and raw text through the codec. Whatever comes in:

- validation raises nothing but :class:`InvalidDesign`, whose problems are located text that
  can be stored and shown (UTF-8, one path per problem);
- a document that validates compiles, and its script parses (``bash -n``: nothing runs);
- no line of the script starts with the payload, and every line that the design's free text
  changes is a comment.

Bounded and reproducible: derandomized, a fixed example count, no deadline.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from typing import Any

import pytest
from factories import AWKWARD_TEXT, changed, design_data, tutorial_data
from hostile import HOSTILE, LINE_BREAKS, PAYLOAD
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from netlab.core import codec
from netlab.core.plan import Naming, compile_plan, render_script
from netlab.core.validation import InvalidDesign, load

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash to parse")

FUZZ = settings(
    derandomize=True,
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TAG = "abc123"
BASES = [tutorial_data(number) for number in (1, 2, 3, 4)] + [design_data()]
FREE_TEXT = ("title", "description")
# Text of the shapes validation lets into names and addresses: such text is netlab's words.
NAME_LIKE = re.compile(r"[A-Za-z0-9_.:/-]*")
KEYS = [
    "format",
    "name",
    "title",
    "description",
    "nodes",
    "links",
    "id",
    "kind",
    "label",
    "position",
    "x",
    "y",
    "forwarding",
    "nat",
    "port_forwards",
    "routes",
    "services",
    "in",
    "addresses",
    "source",
    "out",
    "protocol",
    "port",
    "to",
    "via",
    "dev",
    "node",
    "interface",
    "endpoints",
]

# Text: the hostile crossings, YAML's awkward words, any Unicode (lone surrogates included),
# and compositions that put the payload after a separator that tries to end a line or quote.
SEPARATORS = ["\n", "\r", "\r\n", "\u2028", "\x85", "\x0b", ";", "$(", "`", "'", '"', "\nEOF\n"]
any_characters = st.characters(codec=None, exclude_categories=())
hostile_text = st.one_of(
    st.sampled_from([*HOSTILE.values(), *AWKWARD_TEXT]),
    st.text(any_characters, max_size=12),
    st.builds(
        lambda before, separator, after: f"{before}{separator}{PAYLOAD}{after}",
        st.text(any_characters, max_size=6),
        st.sampled_from(SEPARATORS),
        st.sampled_from(["", " #", "'", '"', ")", "`", "\nEOF"]),
    ),
)
ip_text = st.one_of(
    st.ip_addresses().map(str),
    st.builds(lambda a, p: f"{a}/{p}", st.ip_addresses(), st.integers(0, 128)),
    st.builds(lambda a, s: f"{a}%{s}", st.ip_addresses(v=6), hostile_text),
)
odd_value = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([0, -1, 65535, 65536, 2**53 - 1, 2**53, -(2**63), 10**100, -(10**600)]),
    st.floats(),
    st.just([]),
    st.just({}),
    st.lists(st.text(max_size=3), max_size=2),
)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), hostile_text)
json_data = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), hostile_text), inner, max_size=5),
    ),
    max_leaves=20,
)


def leaf_paths(data: Any, path: str = "") -> list[str]:
    """Return the paths (in ``changed``'s form) of every scalar and container in ``data``."""
    paths = [path] if path else []
    if isinstance(data, dict):
        for key, value in data.items():
            paths += leaf_paths(value, f"{path}.{key}" if path else key)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            paths += leaf_paths(value, f"{path}[{index}]")
    return paths


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    """A base design with hostile free text and up to four fields changed to odd values."""
    data = draw(st.sampled_from(BASES))
    changes: dict[str, Any] = {}
    for field in FREE_TEXT:
        if draw(st.booleans()):
            changes[field] = draw(hostile_text)
    for index in range(len(data["nodes"])):
        if draw(st.integers(0, 3)) == 0:
            changes[f"nodes[{index}].label"] = draw(hostile_text)
    data = changed(data, changes)
    paths = leaf_paths(data)
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2, 4]))):
        path = draw(st.sampled_from(paths))
        value = draw(st.one_of(hostile_text, ip_text, odd_value, json_data))
        data = changed(data, {path: value})
        paths = leaf_paths(data)
    if draw(st.integers(0, 9)) == 0:
        data[draw(st.one_of(st.sampled_from(KEYS), hostile_text))] = draw(json_data)
    return data


def strings_in(data: Any) -> list[str]:
    """Return every string (keys too) in ``data``."""
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [
            text for key, value in data.items() for text in [*strings_in(key), *strings_in(value)]
        ]
    if isinstance(data, list | tuple):
        return [text for value in data for text in strings_in(value)]
    return []


def physical_lines(text: str) -> list[str]:
    """Split ``text`` wherever bash, an editor or a viewer may start a new line."""
    return re.split(f"[{re.escape(LINE_BREAKS)}]", text)


def check_refusal(data: Any, refused: InvalidDesign) -> None:
    assert refused.problems
    for problem in refused.problems:
        assert isinstance(problem.path, str)
        assert isinstance(problem.message, str)
        assert problem.message
        str(problem).encode()  # storable and showable: no lone surrogate survives
        assert problem.path.isprintable()
        if isinstance(data, dict) and not isinstance(refused, codec.UnreadableDocument):
            assert problem.path or "nested too deeply" in problem.message, problem


def script_of(design: Any) -> str:
    return render_script(compile_plan(design, Naming(TAG)))


def check_script(data: dict[str, Any], script: str) -> None:
    script.encode()
    subprocess.run(["bash", "-n"], input=script.encode(), check=True, timeout=30)
    lines = physical_lines(script)
    for line in lines:
        assert not line.lstrip(" \t;&|'\"`$(").startswith(PAYLOAD), repr(line)
    # The same design with its free text blanked: its lines are netlab's own.
    blanked = changed(data, {field: "" for field in FREE_TEXT if field in data})
    for node in blanked.get("nodes", []):
        node.pop("label", None)
    own = set(physical_lines(script_of(load(blanked))))
    changed_lines = [line for line in lines if line not in own]
    assert all(line.startswith("# ") for line in changed_lines), changed_lines
    for text in strings_in(data):
        if NAME_LIKE.fullmatch(text):
            continue
        for segment in physical_lines(text):
            segment = segment.strip()
            if segment and not segment.startswith("#"):
                for line in changed_lines:
                    assert not line.lstrip().startswith(segment), (segment, line)


def check(data: Any) -> None:
    """Validate, compile and render ``data``; assert everything the module promises."""
    try:
        design = load(data)
    except InvalidDesign as refused:
        check_refusal(data, refused)
        event("refused")
        return
    check_script(data, script_of(design))
    event("rendered")


@FUZZ
@given(documents())
def test_mostly_valid_documents(data: dict[str, Any]) -> None:
    check(data)


@FUZZ
@given(json_data)
def test_raw_data(data: Any) -> None:
    check(data)


@FUZZ
@given(
    st.one_of(
        st.builds(json.dumps, documents()),
        st.builds(lambda data: json.dumps(data, ensure_ascii=False), documents()),
        st.text(any_characters, max_size=200),
        st.binary(max_size=200),
        st.builds(
            lambda data, digits: json.dumps(data).replace("80", "8" * digits, 1),
            documents(),
            st.sampled_from([17, 640, 641, 5000]),
        ),
    ),
    st.sampled_from(["json", "yaml"]),
)
def test_raw_text(text: str | bytes, text_format: Any) -> None:
    """Text in either format: read, or refused with problems; never another exception."""
    try:
        data = codec.parse_text(text, text_format)
    except InvalidDesign as refused:
        check_refusal(None, refused)
        return
    check(data)
