"""The browser's copies of the server's rules are checked against a file of the server's
answers (``server-cases.json``, used by ``server-cases.test.mjs``): it must be what the
Python answers today, or the browser test would compare with stale answers."""

from __future__ import annotations

from server_cases import FIXTURE, render


def test_the_server_cases_file_is_what_the_server_answers_today() -> None:
    """Regenerate with ``.venv/bin/python tests/js/server_cases.py`` when this fails."""
    assert FIXTURE.read_text(encoding="utf-8") == render()
