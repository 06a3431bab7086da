"""Shell text: the only way netlab writes text that a shell will read.

Every line of a generated script, and every step's ``shell`` shown in the UI and the CLI, is
built from these functions, so no text from a document ever starts a line or ends a quote:

- :func:`quote` makes any text one shell word (the only quoting of arguments);
- :func:`comment` makes any text one comment line (the only way text reaches a comment);
- :func:`command` joins words, each quoted, into one command line;
- :func:`heredoc` feeds a body to a command with a terminator that no line of the body is.

Each is total: any ``str`` in (control characters, line separators, lone surrogates
included), safe text out, always one line except the body of a here-document.
"""

from __future__ import annotations

import re

from netlab.core.text import escape_character, printable

# The characters that never need quoting (shlex's own set, ASCII only). A word made of them is
# written bare, so the commands read as a learner would type them.
_BARE_WORD = re.compile(r"[A-Za-z0-9@%+=:,./_-]+")


def quote(argument: str) -> str:
    """Return ``argument`` as exactly one bash word that expands to ``argument`` itself.

    Bare when it holds only safe characters, in single quotes when it is printable, and in
    bash's ``$'...'`` form (escapes such as ``\\n``, ``\\x00``, ``\\u2028``) otherwise, so a
    quoted word never spans lines. Quoting cannot stop a command from reading a word that
    starts with ``-`` as an option: validation refuses such names where a command takes them.
    """
    if _BARE_WORD.fullmatch(argument):
        return argument
    if argument.isprintable():
        return "'" + argument.replace("'", "'\"'\"'") + "'"
    escaped = "".join(
        "\\'"
        if character == "'"
        else character
        if character.isprintable() and character != "\\"
        else _ansi_c_escape(character)
        for character in argument
    )
    return f"$'{escaped}'"


def _ansi_c_escape(character: str) -> str:
    # bash's \xHH writes the byte HH; a character from U+0080 on needs \u to be encoded
    # in the script's locale (UTF-8) as the character it is.
    if 0x80 <= ord(character) < 0x100:
        return f"\\u{ord(character):04x}"
    return escape_character(character)


def command(*words: str) -> str:
    """Return one command line: every word quoted by :func:`quote`, joined by spaces."""
    return " ".join(quote(word) for word in words)


def comment(text: str) -> str:
    """Return ``text`` as one bash comment line: ``# `` then the text, made printable.

    Line breaks (``\\n``, ``\\r``, U+2028, NEL...), other control and format characters, lone
    surrogates and backslashes are written as Python escapes (see ``text.printable``): what
    follows ``#`` can never reach another line.
    """
    return "# " + printable(text)


def heredoc(command_line: str, body: str, terminator: str = "EOF") -> str:
    """Return ``command_line <<'TERMINATOR'``, the body's lines, then the terminator line.

    The terminator is quoted (nothing in the body is expanded) and made longer until no line of
    the body equals it, so the body cannot end the here-document early.
    """
    lines = body.split("\n")  # bash reads a here-document line by line, split on \n only
    while terminator in lines:
        terminator += "_"
    if not body.endswith("\n"):
        body += "\n"
    return f"{command_line} <<'{terminator}'\n{body}{terminator}"
