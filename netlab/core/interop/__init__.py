"""Labs written for other tools, read into designs and written back out.

Three formats come in, told apart by their content (:func:`read`): a ``netlab/v1`` document,
a containerlab topology (:mod:`.containerlab`) and a command script, a tutorial's or a blog
post's list of ``ip`` commands (:mod:`.script`). The two foreign formats are *translated*:
what netlab can build becomes the design, and every item it cannot is kept out and reported
as a :class:`Note` with the line it came from. One containerlab writer goes the other way.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from netlab.core import codec
from netlab.core.validation import InvalidDesign, Problem

Source = Literal["netlab", "containerlab", "script"]


@dataclass(frozen=True)
class Note:
    """One item of the source that was left out (or imported with an adjustment), and why.

    ``text`` is the item as the source wrote it; ``node`` the node it came from, when it is
    one node's; ``imported`` tells an adjustment (the item is in the design, changed as
    ``reason`` says) from an item kept out.
    """

    line: int | None
    text: str
    reason: str
    node: str | None = None
    imported: bool = False

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        whose = f"node {self.node}: " if self.node else ""
        if self.imported:
            return f"{where}{whose}{self.text!r}: {self.reason}"
        return f"{where}{whose}{self.text!r} not imported ({self.reason})"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "message": str(self)}


@dataclass(frozen=True)
class Translation:
    """A design translated from another format: its document data (validated by the
    caller, and possibly with problems: a source may describe a lab that does not work),
    the notes, and how many items were translated."""

    source: Source
    data: dict[str, Any]
    notes: tuple[Note, ...]
    translated: int


class NothingTranslated(InvalidDesign):
    """The text is in a foreign format, but nothing in it makes a design: the problems
    are that sentence and every note."""

    def __init__(self, filename: str, notes: tuple[Note, ...]) -> None:
        self.notes = notes
        problems = [Problem("", f"nothing in {filename} could be imported")]
        problems += [Problem("", str(note)) for note in notes]
        super().__init__(problems)


DESIGN_FILES = (".json", ".yaml", ".yml")


def sniff(text: str | bytes, filename: str) -> Source:
    """Return the format of ``text``, by its content: a mapping with ``topology`` is a
    containerlab topology, one with a design's fields a ``netlab/v1`` document; anything else
    is a command script, unless the file's name says it is a design file (which then fails
    as one, saying why)."""
    try:
        data = codec.parse_text(text, "yaml")
    except InvalidDesign:
        data = None  # a script seldom reads as YAML
    if isinstance(data, dict):
        if "topology" in data and "format" not in data:
            return "containerlab"
        if data.keys() & {"format", "name", "nodes", "links"}:
            return "netlab"
    return "netlab" if filename.lower().endswith(DESIGN_FILES) else "script"


def read(text: str | bytes, filename: str) -> Translation:
    """Read the file ``filename`` holding ``text`` in whichever format it is.

    A ``netlab/v1`` document must be valid (it is the user's own: raises
    :class:`InvalidDesign` listing every problem). A foreign one is translated: its data may
    still have problems (a source can describe a lab that does not work), for the caller to
    keep as a draft. Raises :class:`NothingTranslated` when nothing in it makes a design,
    and :class:`InvalidDesign` for text that does not read (too large, not UTF-8, a broken
    topology).
    """
    from netlab.core.interop import containerlab, script

    source = sniff(text, filename)
    if source == "netlab":
        text_format: codec.TextFormat = "json" if filename.lower().endswith(".json") else "yaml"
        document = codec.load_text(text, text_format)
        return Translation(source, document.to_data(), (), len(document.nodes))
    reader = containerlab.read if source == "containerlab" else script.read
    translation = reader(text, filename)
    if not translation.translated:
        raise NothingTranslated(filename, translation.notes)
    return translation
