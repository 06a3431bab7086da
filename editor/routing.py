"""Websocket routes and their authentication: a bearer token (scripts) or the session."""

from __future__ import annotations

from typing import Any

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.urls import path

from editor import services
from editor.consumers import LabConsumer

websocket_urlpatterns = [
    path("ws/designs/<int:design_id>/", LabConsumer.as_asgi()),
]


class TokenAuthMiddleware(BaseMiddleware):
    """Authenticate a handshake carrying ``Authorization: Bearer <token>``.

    With that header the session is not consulted at all and ``scope["bearer"]`` is True;
    a bad token leaves the user anonymous (the consumer refuses it) rather than falling back
    to a cookie. Without it, the inner session middleware decides.
    """

    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.session = AuthMiddlewareStack(inner)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        header = dict(scope.get("headers", [])).get(b"authorization", b"").decode("latin-1")
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer":
            return await self.session(dict(scope, bearer=False), receive, send)
        from django.contrib.auth.models import AnonymousUser

        user = await database_sync_to_async(services.user_for_token)(key.strip())
        scope = dict(scope, bearer=True, user=user or AnonymousUser())
        return await self.inner(scope, receive, send)
