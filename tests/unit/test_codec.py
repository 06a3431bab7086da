"""Designs as JSON and YAML text: lossless round trips, the format always written."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from factories import (
    AWKWARD_TEXT,
    DELETE,
    TUTORIALS,
    changed,
    design_data,
    generated_design_data,
    tutorial_data,
)

from netlab.core import codec
from netlab.core.document import FORMAT, Document
from netlab.core.validation import load

FORMATS = [pytest.param("json", id="json"), pytest.param("yaml", id="yaml")]
TUTORIAL_DESIGNS = [
    pytest.param(load(tutorial_data(number)), id=path.stem) for number, path in TUTORIALS.items()
]
GENERATED_DESIGNS = [
    pytest.param(load(generated_design_data(seed)), id=f"generated-{seed}") for seed in range(40)
]
AWKWARD_DESIGNS = [
    pytest.param(load(design_data(title=text, description=f"{text}\n{text}")), id=repr(text))
    for text in (*AWKWARD_TEXT, "next\x85line", "\x85", "tab\x85\n")
]
DESIGNS = TUTORIAL_DESIGNS + GENERATED_DESIGNS + AWKWARD_DESIGNS


@pytest.mark.parametrize("text_format", FORMATS)
@pytest.mark.parametrize("design", DESIGNS)
def test_round_trip_is_lossless(design: Document, text_format: Any) -> None:
    """Reading what was written gives the same design, and writing it again the same text."""
    text = codec.dump(design, text_format)
    again = codec.load_text(text, text_format)
    assert again == design
    assert again.to_data() == design.to_data()
    assert codec.dump(again, text_format) == text


@pytest.mark.parametrize("design", DESIGNS)
def test_yaml_to_json_to_yaml(design: Document) -> None:
    """A design read from YAML, written as JSON and read back, writes the same YAML."""
    yaml_text = codec.dump(design, "yaml")
    through_json = codec.load_text(codec.dump(codec.load_text(yaml_text, "yaml"), "json"), "json")
    assert through_json == design
    assert codec.dump(through_json, "yaml") == yaml_text


@pytest.mark.parametrize("number", TUTORIALS, ids=lambda number: TUTORIALS[number].stem)
def test_example_files_read_as_written(number: int) -> None:
    """An example file reads to the same design as its data, from text or bytes."""
    path = TUTORIALS[number]
    design = load(tutorial_data(number))
    assert codec.load_text(path.read_text(encoding="utf-8")) == design
    assert codec.load_text(path.read_bytes(), "yaml") == design


@pytest.mark.parametrize("design", TUTORIAL_DESIGNS + GENERATED_DESIGNS[:5])
def test_yaml_reader_reads_json(design: Document) -> None:
    """YAML is a superset of JSON: the YAML reader reads the JSON a design is written as."""
    assert codec.load_text(codec.dump(design, "json"), "yaml") == design


@pytest.mark.parametrize("text_format", FORMATS)
@pytest.mark.parametrize(
    "data",
    [
        pytest.param(changed(design_data(), {"format": DELETE}), id="read-without-format"),
        pytest.param(design_data(), id="read-with-format"),
        pytest.param(tutorial_data(4), id="tutorial-4"),
    ],
)
def test_format_is_always_written_first(data: dict[str, Any], text_format: Any) -> None:
    """Whatever was read, the written document starts with format: netlab/v1."""
    text = codec.dump(load(data), text_format)
    written = json.loads(text) if text_format == "json" else yaml.safe_load(text)
    assert next(iter(written.items())) == ("format", FORMAT)


def test_json_is_indented_strict_and_newline_terminated() -> None:
    """JSON is written indented, ends with a newline, and is strict JSON (no NaN)."""
    text = codec.dump(load(tutorial_data(4)), "json")

    def refuse(constant: str) -> None:
        raise AssertionError(f"not strict JSON: {constant}")

    assert text.endswith("}\n")
    assert text.startswith('{\n  "format": "netlab/v1",\n')
    json.loads(text, parse_constant=refuse)


def test_json_keeps_unicode_readable() -> None:
    """Non-ASCII text is written as itself, not as \\u escapes."""
    design = load(design_data(title="Réseau 🐧"))
    assert "Réseau 🐧" in codec.dump(design, "json")
    assert "Réseau 🐧" in codec.dump(design, "yaml")


def test_defaults_are_left_out() -> None:
    """Fields at their default value are not written."""
    written = load(design_data()).to_data()
    assert "title" not in written
    assert "forwarding" not in written["nodes"][0]
    assert written["nodes"][0] == {"id": "host", "kind": "host"}


@pytest.mark.parametrize(
    ("filename", "text_format"),
    [
        pytest.param("lab.yaml", "yaml", id="yaml"),
        pytest.param("lab.yml", "yaml", id="yml"),
        pytest.param("LAB.YAML", "yaml", id="yaml-upper-case"),
        pytest.param("dir.json/lab.Yml", "yaml", id="yml-mixed-case"),
        pytest.param("lab.json", "json", id="json"),
        pytest.param("lab", "json", id="no-extension"),
        pytest.param("lab.yaml.txt", "json", id="other-extension"),
        pytest.param("yaml", "json", id="yaml-without-dot"),
        pytest.param("", "json", id="empty"),
    ],
)
def test_guess_format(filename: str, text_format: str) -> None:
    """.yaml and .yml (any case) mean YAML; anything else is read as JSON."""
    assert codec.guess_format(filename) == text_format


@pytest.mark.parametrize(
    ("text", "text_format", "data"),
    [
        pytest.param('{"a": [1, 2]}', "json", {"a": [1, 2]}, id="json"),
        pytest.param('{"a": [1, 2]}', "yaml", {"a": [1, 2]}, id="json-read-as-yaml"),
        pytest.param("a: [1, 2]\n", "yaml", {"a": [1, 2]}, id="yaml"),
        pytest.param(b"a: caf\xc3\xa9\n", "yaml", {"a": "café"}, id="utf-8-bytes"),
        pytest.param("a: &anchor 1\n", "yaml", {"a": 1}, id="anchor-without-alias"),
    ],
)
def test_parse_text_returns_plain_data(text: str | bytes, text_format: Any, data: Any) -> None:
    """parse_text returns the data in the text, without validating it as a design."""
    assert codec.parse_text(text, text_format) == data
