"""Probes run on the worker's own bounded executor: held probes never stall a deployment, a
page that goes away cancels its probes, and a ping-all has a cap on its cells.

The in-memory engine and a probes double that holds pings open until the test lets them go
(``live_fake_probes``) stand in for the kernel. Nothing here measures time: a deployment
must reach ``running`` while every probe is still held.
"""

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

PROBE_THREADS = 3
HELD = 40  # far more than asyncio's default threads (at most 32) and the probe threads


@pytest.fixture
async def probing_worker(settings: Any, fake_engine: None) -> AsyncIterator[Worker]:
    settings.NETLAB_MAX_PROBES_PER_USER = HELD
    settings.NETLAB_PROBE_THREADS = PROBE_THREADS
    live_fake_probes.reset()
    instance = Worker(poll_interval=0.05, probes=live_fake_probes)
    task = asyncio.create_task(instance.run())
    yield instance
    live_fake_probes.release.set()  # a failed test must not leave pings waiting
    assert not task.done(), "the worker ended during the test"
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def deployed(make_design: Any, owner: Any, name: str) -> Deployment:
    design = await database_sync_to_async(make_design)(name)
    deployment = await database_sync_to_async(deployments.request_deploy)(design, actor=owner)
    for _ in range(500):
        await database_sync_to_async(deployment.refresh_from_db)()
        if deployment.state == Deployment.State.RUNNING:
            return deployment
        await asyncio.sleep(0.01)
    raise AssertionError(f"the deployment is {deployment.state}")


def ping(count: int = 1) -> dict[str, Any]:
    return {"action": "ping", "source": "red", "target": "blue", "count": count}


async def started(count: int) -> None:
    for _ in range(count):
        assert await asyncio.to_thread(live_fake_probes.started.acquire, True, 10)


async def test_held_probes_never_stall_a_deployment(
    make_design: Any, owner: Any, probing_worker: Worker, browser: Any
) -> None:
    """With every probe thread held (and many more probes queued behind them), a deploy from
    another page is claimed, run and reported while the probes are all still held."""
    running = await deployed(make_design, owner, "probed")
    pinging = browser(running.design_id)
    assert (await pinging.connect())[0]
    await receive_until(pinging, lambda m: m["type"] == "deployment")
    for _ in range(HELD):
        await pinging.send_json_to(ping())
    await started(PROBE_THREADS)

    other = await database_sync_to_async(make_design)("deployed-meanwhile")
    deploying = browser(other.pk)
    assert (await deploying.connect())[0]
    await receive_until(deploying, lambda m: m["type"] == "deployment")
    await deploying.send_json_to({"action": "deploy"})
    seen = await receive_until(
        deploying, lambda m: m["type"] == "deployment" and m["state"] in ("running", "failed")
    )
    assert seen[-1]["state"] == "running", seen[-1]["error"]
    # Still held: the deploy did not wait for them. The executor is bounded: only its
    # threads' worth of probes started, the rest wait their turn.
    assert not live_fake_probes.release.is_set()
    assert not live_fake_probes.started.acquire(blocking=False)

    live_fake_probes.release.set()
    done = 0
    while done < HELD:
        seen = await receive_until(pinging, lambda m: m["type"] in ("ping.done", "error"))
        assert seen[-1]["type"] == "ping.done", seen[-1]
        done += 1
    await pinging.disconnect()
    await deploying.disconnect()


async def test_a_page_that_goes_away_cancels_its_probes(
    make_design: Any, owner: Any, probing_worker: Worker, browser: Any
) -> None:
    running = await deployed(make_design, owner, "abandoned")
    client = browser(running.design_id)
    assert (await client.connect())[0]
    await receive_until(client, lambda m: m["type"] == "deployment")
    await client.send_json_to(ping(100))
    await started(1)
    await client.disconnect()
    assert await asyncio.to_thread(live_fake_probes.cancelled.acquire, True, 10)
    for _ in range(500):  # its place in the user's quota is free again
        if not probing_worker._probes_running[owner.pk]:
            break
        await asyncio.sleep(0.01)
    assert not probing_worker._probes_running[owner.pk]


async def test_a_ping_all_beyond_the_cap_is_refused(
    settings: Any, make_design: Any, owner: Any, probing_worker: Worker, browser: Any
) -> None:
    """Three namespaces (host, red, blue) and two addresses (red's, blue's): four cells, as
    no node pings itself. A cap of one refuses, naming both figures."""
    settings.NETLAB_MAX_PINGALL_CELLS = 1
    running = await deployed(make_design, owner, "too-many-cells")
    client = browser(running.design_id)
    assert (await client.connect())[0]
    await receive_until(client, lambda m: m["type"] == "deployment")
    await client.send_json_to({"action": "pingall"})
    seen = await receive_until(client, lambda m: m["type"] in ("error", "pingall.done"))
    assert seen[-1]["type"] == "error"
    assert seen[-1]["action"] == "pingall"
    assert "4 pairs" in seen[-1]["message"]
    assert "(1)" in seen[-1]["message"]
    assert not live_fake_probes.started.acquire(blocking=False)  # nothing ran
    await client.disconnect()
