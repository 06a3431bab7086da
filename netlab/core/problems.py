"""The first two stages of reading untrusted data as a design, and what they report.

The *data* stage refuses what no document may hold wherever it is (NUL, lone surrogates,
integers a browser cannot read exactly); the *shape* stage turns pydantic's errors into one
:class:`Problem` per field. The third stage, the meaning, is :mod:`netlab.core.validation`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import ValidationError

from netlab.core.text import escape_character, unstorable_character

# The largest integer a browser's JSON reads exactly; no field of a design needs more, and
# larger ones reach limits elsewhere (str() refuses 4300+ digits, float() overflows).
MAX_INTEGER = 2**53 - 1
# A field name shown as it is in a path; any other is quoted (see format_path).
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A document with thousands of bad strings needs only the first few to be told.
MAX_DATA_PROBLEMS = 100


# How a link is named where the user sees it: its two ends' nodes, as on the panel.
LINK_SEPARATOR = " — "


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a document: where (a path into the document) and why.

    ``element`` names the node or link the path is in as the user sees it on the canvas
    (``red``, ``red — v-net-0``); empty for the design itself, or before it is known (see
    :func:`name_elements`). It takes no part in comparisons. ``severity`` is "error" for a
    problem (the design is refused) or "warning" (told, never refusing: see
    :mod:`netlab.core.consistency`).
    """

    path: str
    message: str
    element: str = field(default="", compare=False)
    severity: str = field(default="error", compare=False)

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    @property
    def sentence(self) -> str:
        """The problem as one line for a person: ``red — v-net-0: '192.168.15.300/24': 300 is
        not a valid byte``; the message alone when the problem is about the design."""
        return f"{self.element}: {self.message}" if self.element else self.message

    def as_dict(self) -> dict[str, str]:
        """The JSON form: ``path`` and ``message`` (the contract since the first round),
        ``element`` and ``sentence`` (added for the problem list); a warning adds
        ``severity: "warning"`` (a problem's four fields are unchanged)."""
        found = {
            "path": self.path,
            "message": self.message,
            "element": self.element,
            "sentence": self.sentence,
        }
        if self.severity != "error":
            found["severity"] = self.severity
        return found


_ELEMENT_PATH = re.compile(r"^(?P<kind>nodes|links)\[(?P<index>\d+)\]")


def element_name(data: Any, path: str) -> str:
    """Return the node or link that ``path`` points into, named as the canvas shows it: a
    node by its id, a link by its ends' nodes (``red — v-net-0``); "" for anything else.

    ``data`` is the document as read (a mapping), possibly ill-shaped: whatever does not
    read falls back to the element's number (``node 3``, ``link 1``).
    """
    match = _ELEMENT_PATH.match(path)
    if not match or not isinstance(data, dict):
        return ""
    index = int(match["index"])
    items = data.get(match["kind"])
    item = items[index] if isinstance(items, list | tuple) and index < len(items) else None
    if match["kind"] == "nodes":
        node_id = item.get("id") if isinstance(item, dict) else None
        return node_id if isinstance(node_id, str) and node_id.strip() else f"node {index + 1}"
    ends = item.get("endpoints") if isinstance(item, dict) else None
    if isinstance(ends, list | tuple) and ends:
        nodes = [end.get("node") if isinstance(end, dict) else None for end in ends]
        named = [node for node in nodes if isinstance(node, str) and node.strip()]
        if len(named) == len(nodes):
            return LINK_SEPARATOR.join(named)
    return f"link {index + 1}"


def name_elements(data: Any, problems: Iterable[Problem]) -> list[Problem]:
    """Return ``problems`` with their ``element`` named from ``data`` (see :func:`element_name`)."""
    return [replace(problem, element=element_name(data, problem.path)) for problem in problems]


class InvalidDesign(ValueError):
    """A document was refused; ``problems`` lists every reason."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))


def data_problems(data: Any) -> list[Problem]:
    """Return what no document may hold, wherever it is: a string (or key) with NUL or a lone
    surrogate, an integer beyond :data:`MAX_INTEGER` either way. At most
    :data:`MAX_DATA_PROBLEMS`, in document order.

    Walks without recursion (the data may be nested deeper than the stack) and builds a path
    only for a problem (a path per value would be quadratic in the depth).
    """
    problems: list[Problem] = []
    # (value, where): ``where`` is None at the top, else (parent's where, key or index).
    pending: list[tuple[Any, Any]] = [(data, None)]
    while pending and len(problems) < MAX_DATA_PROBLEMS:
        value, where = pending.pop()
        if isinstance(value, str):
            if message := _unstorable(value):
                problems.append(Problem(_path_of(where), f"this text {message}"))
        elif isinstance(value, int) and not isinstance(value, bool):
            if not -MAX_INTEGER <= value <= MAX_INTEGER:
                message = f"this number is beyond ±{MAX_INTEGER} (2**53 - 1); no field takes it"
                problems.append(Problem(_path_of(where), message))
        elif isinstance(value, dict):
            children = []
            for key, item in value.items():
                if isinstance(key, str) and (message := _unstorable(key)):
                    problems.append(Problem(_path_of((where, key)), f"the field name {message}"))
                children.append((item, (where, key)))
            pending.extend(reversed(children))
        elif isinstance(value, list | tuple | set | frozenset):  # YAML has !!set
            pending.extend(
                (item, (where, index)) for index, item in reversed(list(enumerate(value)))
            )
    return problems[:MAX_DATA_PROBLEMS]


def _unstorable(text: str) -> str | None:
    character = unstorable_character(text)
    if character is None:
        return None
    name = "a NUL character" if character == "\x00" else "a lone surrogate"
    return f"holds {name} ({escape_character(character)}), which no text in a design may hold"


def _path_of(where: Any) -> str:
    parts: list[Any] = []
    while where is not None:
        where, part = where
        parts.append(part)
    return format_path(reversed(parts))


def format_path(location: Iterable[Any]) -> str:
    """Render a pydantic location like ``('links', 2, 'endpoints')`` as ``links[2].endpoints``.

    A field name that is not a plain word (an unknown field such as ``''`` or ``'a b'``) is
    shown quoted in brackets, Python's escapes inside: a path is always one line of text, and
    never empty when it points into the document.
    """
    path = ""
    for part in location:
        if isinstance(part, int) and not isinstance(part, bool):
            path += f"[{part}]"
        elif isinstance(part, str) and _FIELD_NAME.fullmatch(part):
            path += f".{part}" if path else part
        else:
            path += f"[{str(part)!r}]"
    return path


def shape_problems(error: ValidationError) -> list[Problem]:
    problems: dict[str, Problem] = {}
    details = error.errors(include_url=False)
    locations = [tuple(detail["loc"]) for detail in details]
    for detail in details:
        location = list(detail["loc"])
        # pydantic counts only the items that validated: a link whose endpoint has a bad
        # field would also be "too short". The endpoint's own problem says it all.
        if detail["type"] == "too_short" and any(
            len(other) > len(location) and list(other[: len(location)]) == location
            for other in locations
        ):
            continue
        # A union (a number may be an int or a float) reports each member under its type
        # name; the user wants one message at the field itself.
        kind = detail["type"]
        if kind != "extra_forbidden" and location and location[-1] in ("int", "float"):
            location.pop()
        path = format_path(location)
        if kind == "extra_forbidden":
            message = f"unknown field {location[-1]!r}" if location else "unknown field"
        elif kind == "missing":
            message = "this field is required"
        elif kind == "literal_error" and location and location[-1] == "format":
            # Only a string is shown: the repr of deeply nested data would overflow the stack.
            shown = f" {detail['input']!r}" if isinstance(detail["input"], str) else ""
            message = f"unsupported format{shown}; this netlab reads 'netlab/v1'"
        else:
            message = str(detail["msg"])
        problems.setdefault(path, Problem(path, message))
    return sorted(problems.values())
