"""Helpers of the live-lab tests: websocket clients of the real ASGI application."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

ORIGIN = b"http://127.0.0.1:8000"
HOST = b"127.0.0.1:8000"  # the server ORIGIN's pages came from
TIMEOUT = 5.0


def steps_in(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every step the messages carry, in order: the worker sends them in ``steps`` bursts."""
    return [
        step
        for message in messages
        for step in (message["steps"] if message["type"] == "steps" else [message])
        if step["type"] == "step"
    ]


def communicator(
    design_id: int | str, headers: list[tuple[bytes, bytes]], *, scheme: str = "ws"
) -> WebsocketCommunicator:
    """A client of the real ASGI application at the design's websocket, over ``scheme``
    (ws or wss); the handshake's ``Host`` is :data:`HOST` unless ``headers`` has one."""
    from netlab.asgi import application

    if not any(name == b"host" for name, _ in headers):
        headers = [*headers, (b"host", HOST)]
    client = WebsocketCommunicator(application, f"/ws/designs/{design_id}/", headers=headers)
    # The application reads the scope when the handshake starts, not before.
    client.scope["scheme"] = scheme
    return client


def unbatched(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The messages a ``tables`` message carries (node tables published together), or the
    message itself."""
    return list(message["tables"]) if message["type"] == "tables" else [message]


async def receive_until(
    client: WebsocketCommunicator,
    wanted: Callable[[dict[str, Any]], bool],
    timeout: float = TIMEOUT,
) -> list[dict[str, Any]]:
    """Return every message received up to and including the first one ``wanted`` accepts,
    the tables of a ``tables`` message each as its own (those after the one accepted are
    kept for the next call)."""
    seen: list[dict[str, Any]] = []
    backlog: list[dict[str, Any]] = client.__dict__.setdefault("netlab_backlog", [])
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        if not backlog:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(f"the awaited message never came; got {seen}")
            try:
                message = await client.receive_json_from(timeout=left)
            except TimeoutError:
                raise AssertionError(f"the awaited message never came; got {seen}") from None
            backlog.extend(unbatched(message))
        each = backlog.pop(0)
        seen.append(each)
        if wanted(each):
            return seen


async def wait_for_state(deployment: Any, state: str, timeout: float = TIMEOUT) -> None:
    """Read ``deployment`` again until it is in ``state`` (fail after ``timeout`` s)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        await database_sync_to_async(deployment.refresh_from_db)()
        if deployment.state == state:
            return
        assert asyncio.get_running_loop().time() < deadline, deployment.state
        await asyncio.sleep(0.02)
