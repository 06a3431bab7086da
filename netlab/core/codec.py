"""Design documents as text: JSON and YAML in, JSON and YAML out.

Reading is defensive (the text may come from anyone): a size limit, no YAML aliases (a few
lines of anchors can expand to gigabytes), no YAML tags beyond plain data, integers of at most
:data:`MAX_INTEGER_DIGITS` digits, and nesting too deep for the parser reported as a problem
rather than a crash. A value YAML cannot build (``!!int xyz``, a 13th month) is refused with
its line and column.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import yaml

from netlab.core.document import Document
from netlab.core.validation import InvalidDesign, Problem, load

TextFormat = Literal["json", "yaml"]
MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
# Python's int() refuses long decimal strings (ValueError: "Exceeds the limit"); 640 digits is
# the lowest limit an interpreter can be set to, so no setting makes a read number fail.
# Validation then refuses any number beyond 2**53 with its path.
MAX_INTEGER_DIGITS = 640


class _LongInteger(ValueError):
    """A number in the text has more than :data:`MAX_INTEGER_DIGITS` digits."""

    def __init__(self, digits: str) -> None:
        self.digits = digits
        super().__init__(f"an integer of {len(digits.lstrip('-+'))} digits")


def _json_integer(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise _LongInteger(digits)
    return int(digits)


class _SafeLoader(yaml.SafeLoader):
    """PyYAML's safe loader without aliases."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases (*name) are not allowed in a design", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        # PyYAML builds some values with Python calls that raise plain errors: int() of a
        # 5000-digit number, datetime() of a 13th month, a tag on a value it does not fit.
        try:
            return super().construct_object(node, deep)
        except (yaml.YAMLError, RecursionError):
            raise
        except (ValueError, TypeError, AttributeError, OverflowError) as error:
            problem = str(error)
            if isinstance(error, _LongInteger):
                problem += f"; a design's numbers have at most {MAX_INTEGER_DIGITS} digits"
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read this value: {problem}", node.start_mark
            ) from None

    def construct_yaml_int(self, node: Any) -> Any:
        text = str(self.construct_scalar(node))
        digits = text.replace("_", "").lstrip("-+")
        if len(digits) > MAX_INTEGER_DIGITS:
            raise _LongInteger(digits)
        return super().construct_yaml_int(node)


_SafeLoader.add_constructor("tag:yaml.org,2002:int", _SafeLoader.construct_yaml_int)


class _SafeDumper(yaml.SafeDumper):
    """PyYAML's safe dumper, writing strings that hold a NEL (U+0085) double-quoted.

    Left to itself it writes NEL raw inside a quoted or block scalar, where every YAML
    reader takes it for a line break: the text would not survive a round trip.
    """


def _represent_str(dumper: yaml.SafeDumper, value: str) -> Any:
    style = '"' if "\x85" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_SafeDumper.add_representer(str, _represent_str)


def guess_format(filename: str) -> TextFormat:
    """Return the format a file name suggests: YAML for .yaml/.yml, JSON otherwise."""
    return "yaml" if filename.lower().endswith((".yaml", ".yml")) else "json"


class UnreadableDocument(InvalidDesign):
    """The text is not a document at all: too large, not UTF-8, or not JSON (YAML) syntax.

    Callers that answer over HTTP tell it apart from a document that reads but is not a
    valid design (400 against 422).
    """


def _unreadable(message: str) -> UnreadableDocument:
    return UnreadableDocument([Problem("", message)])


Lines = dict[tuple[Any, ...], int]


def parse_text(text: str | bytes, text_format: TextFormat = "yaml") -> Any:
    """Return the data in ``text``, or raise with one problem.

    Raises :class:`UnreadableDocument` for text that cannot be read, and
    :class:`InvalidDesign` for data nested too deeply to read. YAML is a superset of JSON,
    so ``yaml`` reads both; ``json`` is strict JSON.
    """
    return _parse(text, text_format, located=False)


def parse_located(text: str | bytes) -> tuple[Any, Lines]:
    """Return the data in YAML ``text`` and the line of each of its keys and list items,
    by path (``("topology", "nodes", "r1", "exec", 0)``), for reports that cite the source.
    Read as :func:`parse_text` reads."""
    located: tuple[Any, Lines] = _parse(text, "yaml", located=True)
    return located


def _load_located(text: str) -> tuple[Any, Lines]:
    loader = _SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    lines: Lines = {}

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                inner = (*path, key.value if isinstance(key, yaml.ScalarNode) else None)
                lines[inner] = key.start_mark.line + 1
                walk(value, inner)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                lines[(*path, index)] = item.start_mark.line + 1
                walk(item, (*path, index))

    walk(node, ())
    return data, lines


def _parse(text: str | bytes, text_format: TextFormat, *, located: bool) -> Any:
    # A character may take up to four bytes: measure the encoded size of text given as str.
    if len(text) > MAX_DOCUMENT_BYTES or (
        isinstance(text, str) and len(text.encode(errors="surrogatepass")) > MAX_DOCUMENT_BYTES
    ):
        raise _unreadable(f"the document is larger than {MAX_DOCUMENT_BYTES} bytes")
    if isinstance(text, bytes):
        try:
            text = text.decode()
        except UnicodeDecodeError:
            raise _unreadable("the document is not UTF-8 text") from None
    try:
        if text_format == "json":
            return json.loads(text, parse_int=_json_integer)
        if located:
            return _load_located(text)
        return yaml.load(text, Loader=_SafeLoader)  # noqa: S506 - a SafeLoader subclass
    except _LongInteger as error:
        where = _position_of(text, error.digits)
        raise _unreadable(
            f"not valid JSON: {error}{where}; a design's numbers have at most "
            f"{MAX_INTEGER_DIGITS} digits"
        ) from None
    except RecursionError:
        raise InvalidDesign([Problem("", "the document is nested too deeply")]) from None
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        raise _unreadable(f"not valid JSON: {error.msg} ({where})") from None
    except yaml.YAMLError as error:
        raise _unreadable(f"not valid YAML: {_yaml_message(error)}") from None
    except ValueError as error:  # anything else a parser raises on what it cannot read
        raise _unreadable(f"not a readable {text_format.upper()} document: {error}") from None


def _position_of(text: str, digits: str) -> str:
    """Return `` (line L, column C)`` of the first occurrence of ``digits`` in ``text``."""
    offset = text.find(digits)
    if offset < 0:
        return ""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f" (line {line}, column {column})"


def load_text(text: str | bytes, text_format: TextFormat = "yaml") -> Document:
    """Return the valid design in ``text``; raise :class:`InvalidDesign` listing every problem."""
    return load(parse_text(text, text_format))


def dump(design: Document, text_format: TextFormat) -> str:
    """Return ``design`` as JSON (indented, newline-terminated) or YAML text."""
    data = design.to_data()
    if text_format == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return yaml.dump(
        data, Dumper=_SafeDumper, sort_keys=False, allow_unicode=True, default_flow_style=False
    )


def _yaml_message(error: yaml.YAMLError) -> str:
    if isinstance(error, yaml.MarkedYAMLError):
        problem = error.problem or error.context or "syntax error"
        mark = error.problem_mark or error.context_mark
        if mark is not None:
            return f"{problem} (line {mark.line + 1}, column {mark.column + 1})"
        return problem
    return str(error)
