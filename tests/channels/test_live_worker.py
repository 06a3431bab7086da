"""The worker as a durable state machine, with the in-memory engine: work queued while no
worker ran is found by polling, and a restarted worker takes up the running deployments'
monitors again."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.db import database_sync_to_async

from editor import deployments
from editor.models import Deployment
from editor.worker import Worker

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queued(make_design: Any, owner: Any, fake_engine: None) -> Deployment:
    """A deployment requested while no worker ran (no nudge will ever come)."""
    return deployments.request_deploy(make_design("durable"), actor=owner)


async def wait_for_state(deployment: Deployment, state: str, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        await database_sync_to_async(deployment.refresh_from_db)()
        if deployment.state == state:
            return
        assert asyncio.get_running_loop().time() < deadline, deployment.state
        await asyncio.sleep(0.02)


async def run_worker(name: str) -> tuple[Worker, asyncio.Task[None]]:
    worker = Worker(name=name, poll_interval=0.05)
    return worker, asyncio.create_task(worker.run())


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_queued_work_is_found_without_a_nudge_and_a_restart_resumes_monitors(
    queued: Deployment,
) -> None:
    _, task = await run_worker("first")
    try:
        await wait_for_state(queued, Deployment.State.RUNNING)
        assert queued.worker == ""  # the claim is released once the work is done
    finally:
        await stop(task)

    second, task = await run_worker("second")
    try:
        for _ in range(100):  # the monitors start as soon as run() has read the database
            if queued.pk in second._monitors:
                break
            await asyncio.sleep(0.01)
        assert queued.pk in second._monitors
    finally:
        await stop(task)


async def test_work_claimed_by_another_worker_is_left_alone(queued: Deployment) -> None:
    """Claims are atomic: a deployment another worker took is not run twice."""
    assert await database_sync_to_async(deployments.claim)(queued, worker="elsewhere") == "deploy"
    _, task = await run_worker("here")
    try:
        await asyncio.sleep(0.2)
        await database_sync_to_async(queued.refresh_from_db)()
        assert (queued.state, queued.worker) == (Deployment.State.DEPLOYING, "elsewhere")
    finally:
        await stop(task)
