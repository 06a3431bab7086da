"""The Origin check of session sockets: a page may open one only from this very site, same
scheme (http for ws, https for wss), host and port, or from a configured trusted origin.

Another port or scheme of the same host is another site (another application, perhaps a
user's): its pages must not ride the session cookie.
"""

from __future__ import annotations

from typing import Any

import pytest
from livekit import communicator

from editor.consumers import CLOSE_FORBIDDEN_ORIGIN, origin_allowed

# (origin, Host of the handshake, socket over TLS, allowed)
ROWS = [
    pytest.param("http://127.0.0.1:8000", "127.0.0.1:8000", False, True, id="same-site"),
    pytest.param("http://localhost:8000", "localhost:8000", False, True, id="same-site-by-name"),
    pytest.param("http://127.0.0.1:8001", "127.0.0.1:8000", False, False, id="other-port"),
    pytest.param("http://127.0.0.1", "127.0.0.1:8000", False, False, id="port-left-out"),
    pytest.param("https://127.0.0.1:8000", "127.0.0.1:8000", False, False, id="https-page-ws"),
    pytest.param("http://127.0.0.1:8000", "127.0.0.1:8000", True, False, id="http-page-wss"),
    pytest.param("https://localhost", "localhost", True, True, id="https-default-port"),
    pytest.param("https://localhost:443", "localhost", True, True, id="https-explicit-port"),
    pytest.param("HTTP://LocalHost:8000", "localhost:8000", False, True, id="case-insensitive"),
    pytest.param("http://evil.example:8000", "evil.example:8000", False, False, id="not-allowed"),
    pytest.param("http://127.0.0.1:8000", "", False, False, id="no-host-header"),
    pytest.param("http://127.0.0.1:8000", "localhost:8000", False, False, id="other-host"),
    pytest.param("http://127.0.0.1:99999", "127.0.0.1:99999", False, False, id="bad-port"),
    pytest.param("http://127.0.0.1:8000/page", "127.0.0.1:8000", False, False, id="with-path"),
    pytest.param("http://u@127.0.0.1:8000", "127.0.0.1:8000", False, False, id="with-user"),
    pytest.param("null", "127.0.0.1:8000", False, False, id="opaque"),
    pytest.param("", "127.0.0.1:8000", False, False, id="missing"),
    pytest.param("ws://127.0.0.1:8000", "127.0.0.1:8000", False, False, id="ws-scheme"),
    pytest.param("https://lab.example.org", "127.0.0.1:8000", False, True, id="trusted"),
    pytest.param("http://lab.example.org", "127.0.0.1:8000", False, False, id="trusted-but-http"),
    pytest.param("https://lab.example.org:8443", "x", False, False, id="trusted-but-port"),
    pytest.param("https://a.labs.example.org", "x", True, True, id="trusted-wildcard"),
    pytest.param("https://a.labs.example.org:1", "x", True, False, id="wildcard-other-port"),
]


@pytest.fixture
def sites(settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    settings.CSRF_TRUSTED_ORIGINS = ["https://lab.example.org", "https://*.labs.example.org"]


@pytest.mark.parametrize(("origin", "host", "secure", "allowed"), ROWS)
def test_origin_allowed(sites: None, origin: str, host: str, secure: bool, allowed: bool) -> None:
    assert origin_allowed(origin, host=host, secure=secure) is allowed


# Through the real application: (origin, scheme of the socket, extra headers, opens).
HANDSHAKES = [
    pytest.param(b"http://127.0.0.1:8000", "ws", [], True, id="same-site"),
    pytest.param(b"http://127.0.0.1:8001", "ws", [], False, id="other-port"),
    pytest.param(b"https://127.0.0.1:8000", "ws", [], False, id="https-page-ws"),
    pytest.param(b"http://127.0.0.1:8000", "wss", [], False, id="http-page-wss"),
    pytest.param(b"https://127.0.0.1:8000", "wss", [], True, id="https-page-wss"),
    pytest.param(
        b"https://127.0.0.1:8000",
        "ws",
        [(b"x-forwarded-proto", b"https")],
        True,
        id="behind-a-trusted-tls-proxy",
    ),
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("origin", "scheme", "extra", "opens"), HANDSHAKES)
async def test_handshake_origin(
    settings: Any,
    make_design: Any,
    session_cookie: bytes,
    origin: bytes,
    scheme: str,
    extra: list[tuple[bytes, bytes]],
    opens: bool,
) -> None:
    from asgiref.sync import sync_to_async

    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    design = await sync_to_async(make_design)("origins")
    headers = [(b"cookie", session_cookie), (b"origin", origin), *extra]
    client = communicator(design.pk, headers, scheme=scheme)
    connected, code = await client.connect()
    assert (connected, code) == ((True, None) if opens else (False, CLOSE_FORBIDDEN_ORIGIN))
    await client.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_forwarded_proto_is_ignored_without_a_trusted_proxy(
    settings: Any, make_design: Any, session_cookie: bytes
) -> None:
    """Without ``NETLAB_PROXY_SSL`` a client cannot claim TLS with a header of its own."""
    from asgiref.sync import sync_to_async

    settings.SECURE_PROXY_SSL_HEADER = None
    design = await sync_to_async(make_design)("no-proxy")
    headers = [
        (b"cookie", session_cookie),
        (b"origin", b"https://127.0.0.1:8000"),
        (b"x-forwarded-proto", b"https"),
    ]
    client = communicator(design.pk, headers)
    assert await client.connect() == (False, CLOSE_FORBIDDEN_ORIGIN)
