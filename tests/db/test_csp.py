"""The Content-Security-Policy: on every response, strict, and the pages need nothing more.

The header allows scripts and styles from the site only (never ``'unsafe-inline'``); so
that the pages still work under it, none may carry an inline script, a ``<style>``
element, a ``style=""`` attribute or an ``on...=`` handler. The design page alone asks for
a nonce (its console's terminal makes ``<style>`` elements in the browser): a fresh one per
response, allowing style elements only. The browser test ``tests/browser/test_editor_csp.py``
checks that Chromium reports no violation while the editor and its console are used.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client

from netlab import csp

pytestmark = pytest.mark.django_db

# JSON data blocks (json_script, Swagger UI's settings) are never executed.
DATA_TYPES = {"application/json", "application/ld+json"}


class InlineCode(HTMLParser):
    """Collects what a strict policy would block: inline scripts, styles and handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._script: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        for name in attributes:
            if name == "style" or name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
        if tag == "style":
            self.found.append("<style>")
        if tag == "script":
            self._script = attributes
        for name in ("href", "src", "action"):
            if (attributes.get(name) or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:...>")

    def handle_data(self, data: str) -> None:
        script = self._script
        if script is None or "src" in script or not data.strip():
            return
        if (script.get("type") or "").lower() not in DATA_TYPES:
            self.found.append(f"inline <script>: {data.strip()[:60]!r}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def nonce_in(html: str) -> str | None:
    """The nonce a page hands its scripts (``<meta name="csp-nonce" nonce=...>``), if any."""
    found = re.search(r'<meta name="csp-nonce" nonce="([^"]*)">', html)
    return found[1] if found else None


@pytest.fixture
def admin_client(django_user_model: Any) -> Client:
    admin = django_user_model.objects.create_superuser("root", password="x" * 12)
    client = Client()
    client.force_login(admin)
    return client


@pytest.fixture
def pages(make_design: Any, owner: Any) -> list[str]:
    """Pages of every kind: editor, lists, examples, history, API docs."""
    design = make_design("lab")
    return [
        "/",
        f"/designs/{design.pk}/",
        f"/designs/{design.pk}/history",
        f"/designs/{design.pk}/revisions/1/",
        f"/designs/{design.pk}/sharing",
        "/gallery/",
        "/examples/2-bridge/",
        "/api/docs",
    ]


def test_the_policy_allows_only_the_site_itself() -> None:
    """No 'unsafe-inline' or 'unsafe-eval'; no framing; websockets of the page's host."""
    value = csp.policy("lab.example:8000")
    directives = {part.split()[0]: part.split()[1:] for part in value.split("; ") if part.strip()}
    assert "unsafe" not in value
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["img-src"] == ["'self'", "data:", "blob:"]
    assert directives["connect-src"] == [
        "'self'",
        "ws://lab.example:8000",
        "wss://lab.example:8000",
    ]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    nonced = csp.policy("lab.example:8000", "abc")
    assert nonced == value.replace("style-src 'self'", "style-src 'self' 'nonce-abc'")


def test_every_page_carries_the_policy_and_no_inline_code(
    client: Client, owner: Any, pages: list[str]
) -> None:
    client.force_login(owner)
    for url in pages:
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert response["Content-Security-Policy"] == csp.policy("testserver", nonce_in(html)), url
        assert inline_code(html) == [], url


def test_the_design_page_gets_a_fresh_nonce_for_style_elements_only(
    client: Client, owner: Any, pages: list[str]
) -> None:
    """The nonce is in the page and in style-src, new on every response; scripts and style
    attributes stay 'self' only; the pages that do not ask carry none."""
    client.force_login(owner)
    design_page = pages[1]
    nonces = []
    for _ in range(2):
        response = client.get(design_page)
        nonce = nonce_in(response.content.decode())
        assert nonce is not None
        assert len(nonce) >= 22  # 128 random bits
        directives = dict(
            part.split(" ", 1) for part in response["Content-Security-Policy"].split("; ")
        )
        assert directives["style-src"] == f"'self' 'nonce-{nonce}'"
        assert directives["script-src"] == "'self'"
        assert "style-src-attr" not in directives  # so style="" falls back to 'self': refused
        nonces.append(nonce)
    assert nonces[0] != nonces[1]
    for url in [page for page in pages if page != design_page]:
        response = client.get(url, follow=True)
        assert "nonce" not in response["Content-Security-Policy"], url
        assert nonce_in(response.content.decode()) is None, url


def test_logged_out_pages_and_errors_carry_the_policy(client: Client) -> None:
    for url, status in [("/login/", 200), ("/designs/999999/", 302), ("/nowhere/", 404)]:
        response = client.get(url)
        assert response.status_code == status, url
        assert response["Content-Security-Policy"] == csp.policy("testserver"), url
        if status == 200:
            assert inline_code(response.content.decode()) == [], url


def test_api_answers_carry_the_policy(token_client: Any) -> None:
    for url, status in [("/api/designs", 200), ("/api/designs/999999", 404)]:
        response = token_client.get(url)
        assert response.status_code == status, url
        assert "unsafe" not in response["Content-Security-Policy"]
        assert response["Content-Security-Policy"].startswith("default-src 'self'")


def test_the_admin_works_under_the_policy(admin_client: Client, make_design: Any) -> None:
    """Django's admin pages (lists, a change form) have no inline script or style either."""
    design = make_design("lab")
    urls = ["/admin/", "/admin/editor/design/", f"/admin/editor/design/{design.pk}/change/"]
    urls += ["/admin/auth/user/", "/admin/auth/user/add/"]
    for url in urls:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Security-Policy"] == csp.policy("testserver"), url
        assert inline_code(response.content.decode()) == [], url


def test_a_disallowed_host_gets_the_policy_without_websocket_hosts(client: Client) -> None:
    response = client.get("/login/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response["Content-Security-Policy"] == csp.policy(None)


def test_the_parser_finds_what_the_policy_would_block() -> None:
    """The page check itself: each kind of inline code is found, data blocks are not."""
    html = (
        '<script type="application/json" id="d">{"a": 1}</script>'
        '<script src="/static/x.js"></script>'
        "<script>alert(1)</script>"
        '<form onsubmit="return confirm()"></form>'
        '<p style="color: red"></p><style>p {}</style>'
        '<a href="javascript:void(0)">x</a>'
    )
    assert inline_code(html) == [
        "inline <script>: 'alert(1)'",
        "<form onsubmit=...>",
        "<p style=...>",
        "<style>",
        "<a href=javascript:...>",
    ]
