"""Checks and escapes for text that comes from a document and goes somewhere stricter.

A document's strings may hold anything JSON can spell. Two kinds of character cannot go on:
NUL (PostgreSQL refuses it, C code and the kernel stop at it) and a lone surrogate (not a
character at all: UTF-8 cannot encode it, so SQLite, a web page or a file write would fail).
Everything else may be stored, and is escaped where it is shown on one line.
"""

from __future__ import annotations

import re

# U+D800-U+DFFF only ever appear alone in a Python str: a pair decodes to one character.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_NAMED_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def unstorable_character(text: str) -> str | None:
    """Return the first character of ``text`` that no stored text may hold, or None.

    That is NUL or a lone surrogate (see the module's docstring).
    """
    match = _UNSTORABLE.search(text)
    return match.group() if match else None


def escape_character(character: str) -> str:
    """Return Python's escape of one character: ``\\n``, ``\\x1b``, ``\\u2028``, ``\\U000e0001``."""
    if character in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[character]
    code = ord(character)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(text: str) -> str:
    """Return ``text`` as one line of printable text, in Python's escapes (as ``repr`` does).

    Backslashes and every character that is not printable (control characters, line and
    paragraph separators, NEL, format characters such as bidirectional overrides, lone
    surrogates, unassigned code points) are escaped; spaces and printable characters of every
    script stay as they are. The result never holds a line break and always encodes as UTF-8.
    """
    if text.isprintable() and "\\" not in text:
        return text
    return "".join(
        character if character.isprintable() and character != "\\" else escape_character(character)
        for character in text
    )
