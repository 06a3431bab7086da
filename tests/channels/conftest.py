"""Fixtures of the live-lab tests: a clean in-memory channel layer, the worker running in the
test's event loop, and websocket clients of the real ASGI application.

Each test gets its own event loop (pytest-asyncio), so the process-wide in-memory layer is
flushed before and after every test: its queues must not outlive their loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from livekit import ORIGIN, communicator


@pytest.fixture(autouse=True)
async def _clean_layer() -> AsyncIterator[None]:
    layer = get_channel_layer()
    await layer.flush()
    yield
    await layer.flush()


@pytest.fixture
def fake_engine(settings: Any) -> None:
    """Deployments go through the in-memory engine of ``live_fake_engine``."""
    settings.NETLAB_ENGINE = "live_fake_engine"


@pytest.fixture
async def worker() -> AsyncIterator[Any]:
    """A worker running in the test's loop, polling often so tests stay quick."""
    from editor.worker import Worker

    instance = Worker(poll_interval=0.05)
    task = asyncio.create_task(instance.run())
    yield instance
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


@pytest.fixture
def session_cookie(owner: Any) -> bytes:
    """The ``Cookie`` header of a browser logged in as ``owner``."""
    from django.test import Client

    client = Client()
    client.force_login(owner)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


@pytest.fixture
def owner_token(owner: Any) -> str:
    from editor import services

    return services.create_token(user=owner, name="websocket tests")


@pytest.fixture
def browser(session_cookie: bytes) -> Callable[[int | str], WebsocketCommunicator]:
    """``browser(design_id)``: the owner's session socket, from a page of this site."""
    return lambda design_id: communicator(
        design_id, [(b"cookie", session_cookie), (b"origin", ORIGIN)]
    )
