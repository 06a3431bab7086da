"""A strict Content-Security-Policy on every response.

Every script and style of netlab's pages is a file under ``static/`` (no inline ``<script>``,
no ``style=""``, no ``on...=`` handler in the templates), so the policy allows only the
site itself: an injected ``<script>`` or handler, should one ever slip through escaping, does
not run. Django's admin (5.2) and django-ninja's API docs carry no inline script or style
either. The documents embedded with ``json_script`` are data blocks
(``type="application/json"``), which a browser never executes and the policy leaves alone.

Cytoscape.js would add a ``<style>`` element to the page the first time it draws, unless
an element with its id is already there: ``templates/base.html`` links
``static/netlab/cytoscape.css`` under that id.

xterm.js (the console's terminal) always makes ``<style>`` elements of its own (its colours
and cell sizes, computed in the browser) and takes no nonce. A page that needs them asks for
``request.csp_nonce`` (``templates/editor/design.html`` puts it in a ``<meta nonce>``); the
header then allows ``<style>`` elements carrying that response's nonce, and only those: a
nonce never allows a ``style=""`` attribute, and a response whose page did not ask carries
none. ``static/netlab/editor/console-panel.js`` stamps it on the elements xterm creates.

Django 5.2 has no CSP setting of its own (6.0 will); this middleware goes right after
``SecurityMiddleware`` so that every response, error pages included, carries the header.
A view that sets the header itself keeps its own.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import cast

from asgiref.sync import iscoroutinefunction
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponseBase
from django.utils.decorators import sync_and_async_middleware

HEADER = "Content-Security-Policy"

# Never 'unsafe-inline' or 'unsafe-eval'. img-src: the PNG export is a blob: URL, and
# Cytoscape and Swagger UI draw data: images. frame-ancestors repeats X-Frame-Options: DENY
# for browsers that follow only CSP.
DIRECTIVES = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)


def policy(host: str | None = None, nonce: str | None = None) -> str:
    """Return the header's value; ``host`` (host[:port], already validated) adds its websockets,
    ``nonce`` the ``<style>`` elements that carry it.

    CSP Level 3 lets ``'self'`` match ``ws:``/``wss:`` of the page's own host (Chromium and
    Firefox do); browsers that predate it (Safari before 15.4) need the host spelled out.
    """
    directives = list(DIRECTIVES)
    if nonce:
        directives[directives.index("style-src 'self'")] += f" 'nonce-{nonce}'"
    connect = "connect-src 'self'"
    if host:
        connect += f" ws://{host} wss://{host}"
    return "; ".join((*directives, connect))


class Nonce:
    """A response's nonce: made (128 random bits) when the page first asks for it, as
    ``{{ request.csp_nonce }}``; a response that never asked gets no nonce in its header."""

    def __init__(self) -> None:
        self.value = ""

    def __str__(self) -> str:
        if not self.value:
            self.value = secrets.token_urlsafe(16)
        return self.value


def _host(request: HttpRequest) -> str | None:
    try:
        # get_host() checks ALLOWED_HOSTS: only a host Django accepts reaches the header.
        host: str = request.get_host()
    except DisallowedHost:
        return None
    return host


def _add_header(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    if HEADER not in response:
        nonce: Nonce | None = getattr(request, "csp_nonce", None)
        response[HEADER] = policy(_host(request), nonce.value if nonce else None)
    return response


Handler = Callable[[HttpRequest], HttpResponseBase]
AsyncHandler = Callable[[HttpRequest], Awaitable[HttpResponseBase]]


# Named like the middleware classes it sits among in MIDDLEWARE.
@sync_and_async_middleware
def ContentSecurityPolicyMiddleware(
    get_response: Handler | AsyncHandler,
) -> Handler | AsyncHandler:
    """Middleware that sets ``Content-Security-Policy`` on every response (sync or async)."""
    if iscoroutinefunction(get_response):
        async_get_response = cast(AsyncHandler, get_response)

        async def async_middleware(request: HttpRequest) -> HttpResponseBase:
            request.csp_nonce = Nonce()  # type: ignore[attr-defined]
            return _add_header(request, await async_get_response(request))

        return async_middleware

    sync_get_response = cast(Handler, get_response)

    def middleware(request: HttpRequest) -> HttpResponseBase:
        request.csp_nonce = Nonce()  # type: ignore[attr-defined]
        return _add_header(request, sync_get_response(request))

    return middleware
