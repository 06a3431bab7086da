"""docs/protocol.md against the models of ``editor.events``: every example message parses,
says nothing the models would not, and every request and event appears in the example."""

from __future__ import annotations

import json
import re
import typing
from pathlib import Path
from typing import Any

import pytest

from editor import events

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def session_lines() -> list[tuple[str, dict[str, Any]]]:
    """Return ``(direction, message)`` for every line of the doc's example session."""
    (block,) = re.findall(r"```session\n(.*?)```", DOC.read_text(), re.DOTALL)
    lines = []
    for line in block.splitlines():
        direction, _, text = line.partition(" ")
        assert direction in ("->", "<-"), line
        lines.append((direction, json.loads(text)))
    return lines


def literal_values(union: Any, field: str) -> set[str]:
    (members, _) = typing.get_args(union)
    return {
        typing.get_args(model.model_fields[field].annotation)[0]
        for model in typing.get_args(members)
    }


def test_every_pushed_message_is_an_event_exactly_as_the_models_write_it() -> None:
    for direction, message in session_lines():
        if direction == "<-":
            assert events.EVENT.validate_python(message).as_message() == message


def test_requests_parse_or_get_the_documented_error() -> None:
    """A valid request parses; an invalid one is followed by the error its parsing gives."""
    lines = session_lines()
    for position, (direction, message) in enumerate(lines):
        if direction != "->":
            continue
        answer = lines[position + 1][1]
        if answer["type"] == "error" and answer["action"] is None:
            with pytest.raises(events.BadRequest) as error:
                events.parse_request(json.dumps(message))
            assert answer["message"] == str(error.value)
        else:
            events.parse_request(json.dumps(message))


@pytest.mark.parametrize(
    ("direction", "union", "field"),
    [
        pytest.param("->", events.Request, "action", id="requests"),
        pytest.param("<-", events.Event, "type", id="events"),
    ],
)
def test_the_example_shows_every_message(direction: str, union: Any, field: str) -> None:
    messages = [message for way, message in session_lines() if way == direction]
    inside = [table for message in messages for table in message.get("tables", [])]
    shown = {message.get(field) for message in messages + inside}
    assert literal_values(union, field) <= shown
    assert all(f"`{name}`" in DOC.read_text() for name in literal_values(union, field))
