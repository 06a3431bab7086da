"""The worker as a durable state machine, with the in-memory engine: work queued while no
worker ran is found by polling, a restarted worker takes up the running deployments'
monitors again, and work left claimed by a dead worker is recovered."""

from __future__ import annotations

import asyncio
import os
import subprocess
from typing import Any

import pytest
from channels.db import database_sync_to_async
from livekit import wait_for_state

from editor import deployments, events
from editor.models import Deployment
from editor.worker import Worker

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queued(make_design: Any, owner: Any, fake_engine: None) -> Deployment:
    """A deployment requested while no worker ran (no nudge will ever come)."""
    return deployments.request_deploy(make_design("durable"), actor=owner)


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


# Crash recovery: rows left claimed by a worker that died.


@pytest.fixture
def dead_worker() -> str:
    """The worker id of a process of this host that ran and has exited."""
    process = subprocess.Popen(["sleep", "30"])
    try:
        name = deployments.worker_id(process.pid)
    finally:
        process.kill()
        process.wait()
    return name


def claimed_by(deployment: Deployment, worker: str, state: str) -> Deployment:
    Deployment.objects.filter(pk=deployment.pk).update(state=state, worker=worker)
    deployment.refresh_from_db()
    return deployment


def test_worker_ids_tell_a_reused_pid_from_the_process_that_had_it(dead_worker: str) -> None:
    host = os.uname().nodename
    me = deployments.worker_id()
    assert me.startswith(f"{host}:{os.getpid()}:")
    assert not deployments.worker_gone(me)
    assert deployments.worker_gone(dead_worker)
    # The same pid with another start time is another process: the one that died.
    assert deployments.worker_gone(f"{host}:{os.getpid()}:1")
    # Workers of other hosts, and marks that are not worker ids, cannot be judged here.
    assert not deployments.worker_gone(f"elsewhere.example:{os.getpid()}:1")
    assert not deployments.worker_gone("first")


def test_a_deploy_abandoned_by_a_dead_worker_is_rolled_back_and_fails(
    queued: Deployment, dead_worker: str
) -> None:
    from live_fake_engine import deployed

    deployment = claimed_by(queued, dead_worker, Deployment.State.DEPLOYING)
    deployed.add(deployment.tag)  # as if the dead worker had built part of the lab
    seen: list[str] = []

    recovered = deployments.recover_abandoned(on_state=lambda row: seen.append(row.state))

    assert [row.pk for row in recovered] == [deployment.pk]
    deployment.refresh_from_db()
    assert (deployment.state, deployment.worker) == (Deployment.State.FAILED, "")
    assert "stopped in the middle of the deployment" in deployment.error
    assert "rolled back" in deployment.error
    assert deployment.tag not in deployed
    assert seen == [Deployment.State.FAILED]
    assert deployments.recover_abandoned() == []  # done once


def test_a_destroy_abandoned_by_a_dead_worker_is_released_to_run_again(
    queued: Deployment, dead_worker: str
) -> None:
    deployment = claimed_by(queued, dead_worker, Deployment.State.DESTROYING)
    assert [row.pk for row in deployments.recover_abandoned()] == [deployment.pk]
    deployment.refresh_from_db()
    assert (deployment.state, deployment.worker) == (Deployment.State.DESTROYING, "")
    assert deployments.claim(deployment, worker="next") == "destroy"


def test_a_claim_of_a_row_read_before_its_state_changed_finds_its_work(
    queued: Deployment,
) -> None:
    """A stale row (read queued, destroyed since) is claimed for what it now waits for, and
    read again whole."""
    Deployment.objects.filter(pk=queued.pk).update(
        state=Deployment.State.DESTROYING, error="asked twice"
    )
    assert queued.state == Deployment.State.QUEUED
    assert deployments.claim(queued, worker="next") == "destroy"
    assert (queued.state, queued.worker, queued.error) == (
        Deployment.State.DESTROYING,
        "next",
        "asked twice",
    )
    assert deployments.claim(queued, worker="other") is None


def test_claimed_work_keeps_its_revision_read_with_it(
    queued: Deployment, django_assert_num_queries: Any
) -> None:
    """claim_pending reads each row with its revision; the claim does not drop it, so the
    worker's first event needs no query."""
    [(deployment, work)] = deployments.claim_pending(worker="next")
    assert (work, deployment.state) == ("deploy", Deployment.State.DEPLOYING)
    with django_assert_num_queries(0):
        events.deployment_event(deployment)


@pytest.mark.parametrize(
    "worker",
    [
        pytest.param("live", id="a-live-worker-of-this-host"),
        pytest.param("elsewhere.example:1:1", id="a-worker-of-another-host"),
        pytest.param("cli", id="not-a-worker-id"),
    ],
)
@pytest.mark.parametrize("state", [Deployment.State.DEPLOYING, Deployment.State.DESTROYING])
def test_claims_of_live_or_foreign_workers_are_left_alone(
    queued: Deployment, worker: str, state: str
) -> None:
    mark = deployments.worker_id() if worker == "live" else worker
    deployment = claimed_by(queued, mark, state)
    assert deployments.recover_abandoned() == []
    deployment.refresh_from_db()
    assert (deployment.state, deployment.worker) == (state, mark)


async def test_a_worker_recovers_on_start_and_finishes_the_destroy(
    queued: Deployment, dead_worker: str
) -> None:
    await database_sync_to_async(claimed_by)(queued, dead_worker, Deployment.State.DESTROYING)
    _, task = await run_worker("here")
    try:
        await wait_for_state(queued, Deployment.State.STOPPED)
    finally:
        await stop(task)
