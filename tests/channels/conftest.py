"""Fixtures of the live-lab tests: a clean in-memory channel layer, the worker running in the
test's event loop, and websocket clients of the real ASGI application.

Each test gets its own event loop (pytest-asyncio), so the process-wide in-memory layer is
flushed before and after every test: its queues must not outlive their loop.
"""

from __future__ import annotations

import asyncio
import secrets
import string
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db.backends.signals import connection_created
from livekit import ORIGIN, communicator


def _read_uncommitted(sender: Any, connection: Any, **kwargs: Any) -> None:
    # The test database is SQLite in shared-cache memory, where a reader meets a writer's
    # table lock with an immediate "table is locked" (no busy timeout applies). Here the
    # worker's threads and the consumers' really run at once, so let readers not lock.
    # The real database (a WAL file) waits instead, and needs none of this.
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        connection.connection.execute("PRAGMA read_uncommitted = 1")


EXAMPLE = Path(__file__).resolve().parents[2] / "netlab" / "examples" / "2-bridge.yaml"


connection_created.connect(_read_uncommitted, dispatch_uid="netlab-live-read-uncommitted")


@pytest.fixture(autouse=True)
def _clean_layer() -> Iterator[None]:
    # Flushing only drops the layer's dicts, so it needs no event loop of its own; a sync
    # fixture keeps the sync tests of this directory free of any loop.
    layer = get_channel_layer()
    async_to_sync(layer.flush)()
    yield
    async_to_sync(layer.flush)()


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
    if task.done():  # the worker must outlive the test: a crash is the test's failure
        task.result()
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


@pytest.fixture
def kernel_lab(settings: Any, tmp_path: Path) -> Iterator[str]:
    """A unique namespace prefix and state directory; everything under them goes at the end."""
    from netlab.kernel import engine, namespaces

    prefix = "nlw" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(5)) + "-"
    settings.NETLAB_NETNS_PREFIX = prefix
    settings.NETLAB_STATE_DIR = str(tmp_path / "state")
    settings.NETLAB_ENGINE = "netlab.kernel.engine"
    try:
        yield prefix
    finally:
        try:
            engine.cleanup(set(), state_dir=settings.NETLAB_STATE_DIR)
        finally:
            for name in namespaces.list_names():
                if name.startswith(prefix):
                    namespaces.remove(name)


@pytest.fixture
def bridge_design(owner: Any) -> Any:
    """The tutorial's bridge example (host, a bridge, red and blue), owned by ``owner``."""
    from editor import services

    return services.create_design(owner=owner, data=yaml.safe_load(EXAMPLE.read_text()))
