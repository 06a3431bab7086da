"""The per-user quota of probes running at once (``NETLAB_MAX_PROBES_PER_USER``), with the
in-memory engine and a probes double that holds pings open until the test lets them go."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import live_fake_probes
import pytest
from channels.db import database_sync_to_async
from livekit import receive_until

from editor import deployments
from editor.models import Deployment
from editor.worker import Worker

pytestmark = pytest.mark.django_db(transaction=True)

LIMIT = 2


@pytest.fixture
async def probing_worker(settings: Any, fake_engine: None) -> AsyncIterator[Worker]:
    settings.NETLAB_MAX_PROBES_PER_USER = LIMIT
    live_fake_probes.reset()
    instance = Worker(poll_interval=0.05, probes=live_fake_probes)
    task = asyncio.create_task(instance.run())
    yield instance
    live_fake_probes.release.set()  # a failed test must not leave pings waiting
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


@pytest.fixture
async def running(make_design: Any, owner: Any, probing_worker: Worker) -> Deployment:
    design = await database_sync_to_async(make_design)("quota")
    deployment = await database_sync_to_async(deployments.request_deploy)(design, actor=owner)
    for _ in range(500):
        await database_sync_to_async(deployment.refresh_from_db)()
        if deployment.state == Deployment.State.RUNNING:
            return deployment
        await asyncio.sleep(0.01)
    raise AssertionError(f"the deployment is {deployment.state}")


async def wait_started(count: int) -> None:
    """Return once ``count`` more pings have started in the double."""
    for _ in range(count):
        assert await asyncio.to_thread(live_fake_probes.started.acquire, True, 10)


def ping(count: int = 1) -> dict[str, Any]:
    return {"action": "ping", "source": "red", "target": "blue", "count": count}


async def test_a_probe_beyond_the_quota_gets_an_error_and_runs_nothing(
    running: Deployment, browser: Any
) -> None:
    client = browser(running.design_id)
    connected, _ = await client.connect()
    assert connected
    await receive_until(client, lambda m: m["type"] == "deployment")
    for _ in range(LIMIT):
        await client.send_json_to(ping())
    await wait_started(LIMIT)

    for refused in (
        ping(),
        {"action": "pingall"},
        {"action": "probe", "source": "red", "target": "blue:80"},
    ):
        await client.send_json_to(refused)
        seen = await receive_until(client, lambda m: m["type"] == "error")
        assert seen[-1]["action"] == refused["action"]
        assert f"{LIMIT} probes running" in seen[-1]["message"]
    assert not live_fake_probes.started.acquire(blocking=False)  # nothing more started

    live_fake_probes.release.set()
    done = []
    while len(done) < LIMIT:
        seen = await receive_until(client, lambda m: m["type"] == "ping.done")
        done.append(seen[-1])
    # Places are free again: the next ping runs.
    await client.send_json_to(ping(2))
    seen = await receive_until(client, lambda m: m["type"] in ("ping.done", "error"))
    assert seen[-1]["type"] == "ping.done"
    assert [m["seq"] for m in seen if m["type"] == "ping.reply"] == [1, 2]
    await client.disconnect()
