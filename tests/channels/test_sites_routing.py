"""Everything about a lab goes to its site's worker: a page's watch, probe and deploy reach
the channel of the lab's site (``netlab.worker.SITE``), and two workers of two sites, in
one loop, each claim and run only their own site's labs (the in-memory engine)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.utils import timezone
from livekit import receive_until, wait_for_state

from editor import deployments
from editor.deployments import sites
from editor.models import Deployment, Site
from editor.worker import WORKER_CHANNEL, Worker
from netlab.core.features import CAPABILITIES

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 5.0


async def next_message(channel: str) -> dict[str, Any]:
    async with asyncio.timeout(TIMEOUT):
        message: dict[str, Any] = await get_channel_layer().receive(channel)
        return message


async def test_a_pages_watch_probe_and_deploy_go_to_its_labs_site(
    owner: Any, make_design: Any, browser: Callable[[int], Any]
) -> None:
    await database_sync_to_async(sites.register)("east", "192.0.2.1")
    west = await database_sync_to_async(sites.register)("west", "192.0.2.2")
    design = await database_sync_to_async(make_design)("routed")
    lab = await database_sync_to_async(deployments.request_deploy)(design, actor=owner, site="west")
    await database_sync_to_async(
        Deployment.objects.filter(pk=lab.pk).update
    )(state=Deployment.State.STOPPED)  # fmt: skip
    client = browser(design.pk)
    connected, _ = await client.connect()
    assert connected
    try:
        watch = await next_message("netlab.worker.west")
        assert (watch["type"], watch["design"]) == ("worker.watch", design.pk)
        await client.send_json_to({"action": "ping", "source": "red", "target": "blue"})
        probe = await next_message("netlab.worker.west")
        assert (probe["type"], probe["request"]["action"]) == ("worker.probe", "ping")

        # West drains: the next lab goes to east, and the page tells east it watches.
        await database_sync_to_async(Site.objects.filter(pk=west.pk).update)(draining=True)
        await client.send_json_to({"action": "deploy"})
        await receive_until(client, lambda m: m["type"] == "deployment")
        assert (await next_message("netlab.worker.east"))["type"] == "worker.nudge"
        assert (await next_message("netlab.worker.east"))["type"] == "worker.watch"
    finally:
        await client.disconnect()
    # Leaving, the page tells both workers it told of a watch.
    assert (await next_message("netlab.worker.east"))["type"] == "worker.unwatch"
    assert (await next_message("netlab.worker.west"))["type"] == "worker.unwatch"


async def test_without_sites_a_pages_messages_go_to_the_one_worker(
    owner: Any, make_design: Any, browser: Callable[[int], Any]
) -> None:
    design = await database_sync_to_async(make_design)("embedded")
    client = browser(design.pk)
    connected, _ = await client.connect()
    assert connected
    try:
        assert (await next_message(WORKER_CHANNEL))["type"] == "worker.watch"
        await client.send_json_to({"action": "deploy"})
        await receive_until(client, lambda m: m["type"] == "deployment")
        assert (await next_message(WORKER_CHANNEL))["type"] == "worker.nudge"
    finally:
        await client.disconnect()


async def test_two_sites_workers_each_run_only_their_own_labs(
    owner: Any, make_design: Any, fake_engine: None
) -> None:
    """East's worker runs east's lab and leaves west's queued; then west's runs west's.
    (One after the other, a lab each: two writers at once lock the in-memory SQLite test
    database; the claim race of tests/db races four processes over two sites.)"""
    await database_sync_to_async(sites.register)("east", "192.0.2.1")
    await database_sync_to_async(sites.register)("west", "192.0.2.2")
    labs = {}
    for name in ("east", "west"):
        design = await database_sync_to_async(make_design)(name)
        labs[name] = await database_sync_to_async(deployments.request_deploy)(
            design, actor=owner, site=name
        )
    for site, underlay in (("east", "192.0.2.1"), ("west", "192.0.2.2")):
        worker = Worker(name=f"{site}-worker", site=site, underlay=underlay, poll_interval=0.05)
        task = asyncio.create_task(worker.run())
        try:
            await wait_for_state(labs[site], Deployment.State.RUNNING)
            await monitored(worker, labs[site])
            assert set(worker._monitors) == {labs[site].pk}  # of its site's lab only
            # Its kernel's capabilities are published for the editor's marks.
            row = await database_sync_to_async(Site.objects.get)(name=site)
            assert set(row.capabilities) == {capability.name for capability in CAPABILITIES}
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if site == "east":
            await database_sync_to_async(labs["west"].refresh_from_db)()
            assert labs["west"].state == Deployment.State.QUEUED


async def monitored(worker: Worker, lab: Deployment) -> None:
    """Wait until ``worker`` runs ``lab``'s monitors (they start once the lab runs)."""
    deadline = asyncio.get_running_loop().time() + TIMEOUT
    while lab.pk not in worker._monitors:
        assert asyncio.get_running_loop().time() < deadline, "no monitors"
        await asyncio.sleep(0.01)


async def test_a_page_may_choose_its_labs_site(
    owner: Any, make_design: Any, browser: Callable[[int], Any]
) -> None:
    await database_sync_to_async(sites.register)("east", "192.0.2.1")
    await database_sync_to_async(sites.register)("west", "192.0.2.2")
    design = await database_sync_to_async(make_design)("chosen")
    client = browser(design.pk)
    connected, _ = await client.connect()
    assert connected
    try:
        for wrong, reason in (("north", "there is no site 'north'"), ("a b", "site")):
            await client.send_json_to({"action": "deploy", "site": wrong})
            refused = await receive_until(client, lambda m: m["type"] == "error")
            assert reason in refused[-1]["message"]
        await client.send_json_to({"action": "deploy", "site": "west"})
        await receive_until(client, lambda m: m["type"] == "deployment" and m["tag"])
        assert (await next_message("netlab.worker.west"))["type"] == "worker.nudge"
    finally:
        await client.disconnect()


async def test_a_sites_worker_back_after_its_site_was_down_checks_its_unknown_labs(
    owner: Any, make_design: Any, fake_engine: None, settings: Any
) -> None:
    """East's worker deploys a lab and stops; east is then down and the lab unknown; a new
    east worker checks it (the in-memory engine finds no difference) and runs it again."""
    settings.NETLAB_SITE_TIMEOUT = 30
    await database_sync_to_async(sites.register)("east", "192.0.2.1")
    design = await database_sync_to_async(make_design)("comeback")
    lab = await database_sync_to_async(deployments.request_deploy)(design, actor=owner)
    for attempt in ("first", "back"):
        worker = Worker(name=attempt, site="east", underlay="192.0.2.1", poll_interval=0.05)
        task = asyncio.create_task(worker.run())
        try:
            await wait_for_state(lab, Deployment.State.RUNNING)
            await monitored(worker, lab)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if attempt == "first":  # east's worker stopped 31 s ago: another site's sees it
            gone = timezone.now() - timedelta(seconds=31)
            await database_sync_to_async(Site.objects.filter(name="east").update)(last_seen=gone)
            lost = await database_sync_to_async(sites.mark_lost)()
            assert [(row.pk, row.state) for row in lost] == [(lab.pk, "unknown")]
