"""Shell text (``netlab.core.shell``): any text in, one safe word or one comment line out.

The scripts these tests give bash only ever run ``printf``, ``cat`` and, when a quoting is
broken, ``touch`` of a file in the test's own temporary folder: the file's existence is the
proof that text escaped its quotes or its comment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hostile import HOSTILE, LINE_BREAKS

from netlab.core.shell import command, comment, heredoc, quote
from netlab.core.text import printable, unstorable_character

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


def run_bash(script: str, folder: Path) -> subprocess.CompletedProcess[bytes]:
    """Run ``script`` with bash in ``folder`` (UTF-8 locale), returning its output."""
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"}
    return subprocess.run(
        ["bash", "-c", script],
        cwd=folder,
        env=environment,
        capture_output=True,
        check=True,
        timeout=30,
    )


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_quote_is_one_word_on_one_line(text: str, tmp_path: Path) -> None:
    """A quoted argument is one line, and bash reads it back as exactly one word: the text."""
    quoted = quote(text)
    assert not any(character in quoted for character in LINE_BREAKS)
    quoted.encode()  # a lone surrogate comes out escaped, so the line is UTF-8
    result = run_bash(f"printf '%s\\0' {quoted} done", tmp_path)
    words = result.stdout.split(b"\0")
    assert words[-2:] == [b"done", b""]
    if unstorable_character(text) is None:  # bash cannot hold NUL; \ud800 is no character
        assert words[:-2] == [text.encode()]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("veth-red", "veth-red", id="name-stays-bare"),
        pytest.param("192.168.15.1/24", "192.168.15.1/24", id="address-stays-bare"),
        pytest.param("netlab:abc123", "netlab:abc123", id="mark-stays-bare"),
        pytest.param("", "''", id="empty-is-two-quotes"),
        pytest.param("a b", "'a b'", id="space-single-quoted"),
        pytest.param("it's", "'it'\"'\"'s'", id="quote-closed-and-reopened"),
        pytest.param("$$", "'$$'", id="dollar-quoted"),
        pytest.param("two\nlines", "$'two\\nlines'", id="newline-ansi-c"),
        pytest.param("it's\n", "$'it\\'s\\n'", id="quote-inside-ansi-c"),
        pytest.param("a\\b\t", "$'a\\\\b\\t'", id="backslash-inside-ansi-c"),
        pytest.param("\u2028", "$'\\u2028'", id="line-separator-ansi-c"),
    ],
)
def test_quote_forms(text: str, expected: str) -> None:
    assert quote(text) == expected


def test_command_quotes_every_word() -> None:
    assert command("ip", "-n", "ns 1", "link", "$(x)") == "ip -n 'ns 1' link '$(x)'"


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_comment_is_one_line_that_runs_nothing(text: str, tmp_path: Path) -> None:
    """A comment is one ``#`` line whatever the text; bash runs nothing of it."""
    line = comment(text)
    assert line.startswith("# ")
    assert not any(character in line for character in LINE_BREAKS)
    assert line.isprintable()
    line.encode()
    result = run_bash(f"{line}\nprintf done", tmp_path)
    assert result.stdout == b"done"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        pytest.param("Namespaces, a bridge", "Namespaces, a bridge", id="plain"),
        pytest.param("penguin 🐧", "penguin 🐧", id="printable-unicode-stays"),
        pytest.param("a\nb", "a\\nb", id="newline"),
        pytest.param("a\r\nb", "a\\r\\nb", id="crlf"),
        pytest.param("a\u2028b", "a\\u2028b", id="line-separator"),
        pytest.param("a\x85b", "a\\x85b", id="next-line"),
        pytest.param("a\x00b", "a\\x00b", id="nul"),
        pytest.param("\ud800", "\\ud800", id="lone-surrogate"),
        pytest.param("back\\slash", "back\\\\slash", id="backslash-doubled"),
        pytest.param("\U000e0001", "\\U000e0001", id="tag-character"),
    ],
)
def test_printable_escapes_like_repr(text: str, shown: str) -> None:
    assert printable(text) == shown
    assert comment(text) == f"# {shown}"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("table inet t {\n}\n", id="plain"),
        pytest.param("EOF\n", id="terminator-line"),
        pytest.param("a\nEOF\nEOF_\ntouch pwned\n", id="terminator-and-longer"),
        pytest.param("$(touch pwned) `touch pwned` $HOME\n", id="no-expansion"),
        pytest.param("no final newline", id="no-final-newline"),
    ],
)
def test_heredoc_body_cannot_end_early(body: str, tmp_path: Path) -> None:
    """The here-document gives the command the whole body, expanded nothing, and ends after."""
    script = heredoc("cat", body) + "\nprintf done"
    result = run_bash(script, tmp_path)
    expected = body if body.endswith("\n") else body + "\n"
    assert result.stdout == (expected + "done").encode()
    assert list(tmp_path.iterdir()) == []
