"""Integer parameters of URLs and query strings, read one way for the API and the pages.

``str.isdigit`` accepts ``"²"`` where ``int`` refuses it, and ``int`` has no upper bound
while the database's integers do: a number past a column's range raises in the driver
instead of finding nothing. Every integer a request
names is therefore read here, within the range of the column it is looked up in, and a bad
one is refused with a sentence that says which parameter and why.
"""

from __future__ import annotations

from typing import Annotated

from ninja import Path, Query

# Row ids are 64-bit (BigAutoField) and revision numbers 32-bit (PositiveIntegerField, an
# ``integer`` column on PostgreSQL): the largest values either database can hold.
MAX_ID = 2**63 - 1
MAX_NUMBER = 2**31 - 1

DesignId = Annotated[int, Path(ge=1, le=MAX_ID, description="a design's id")]
RevisionNumber = Annotated[int, Path(ge=1, le=MAX_NUMBER, description="a revision's number")]
RevisionQuery = Annotated[int, Query(ge=1, le=MAX_NUMBER, description="a revision's number")]
PageQuery = Annotated[int, Query(ge=1, le=MAX_NUMBER, description="the page, from 1")]


class BadParameter(ValueError):
    """A request parameter that is not a whole number in its allowed range."""


def integer(
    text: str | None, *, name: str, default: int, low: int = 1, high: int = MAX_NUMBER
) -> int:
    """Return the whole number ``text`` (``default`` when absent or empty).

    Only ASCII digits (and a leading minus, refused by range) are read, so that ``"²"``,
    Arabic-Indic digits or ``" 1"`` are refused rather than half-read. Raises :class:`BadParameter`
    naming ``name`` for anything else, or for a number outside ``low``..``high``.
    """
    if text is None or text == "":
        return default
    digits = text[1:] if text.startswith("-") else text
    # Past 20 digits the number is out of every range: refuse it before int() reads it.
    if not digits.isascii() or not digits.isdigit() or len(digits) > 20:
        raise BadParameter(f"{name} must be a whole number from {low} to {high}")
    value = int(text)
    if not low <= value <= high:
        raise BadParameter(f"{name} must be a whole number from {low} to {high}")
    return value
