"""A ping-all from a page sends its cells in batches (``pingall.cells``), says how far it is
(``pingall.progress``) and can be stopped (``pingall.stop``): no more cells, then a
``pingall.done`` saying ``cancelled`` with what was measured until then.

The in-memory engine and the probes double (``live_fake_probes``) stand in for the kernel;
the double holds a ping-all after a given number of cells until the test lets it go.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import live_fake_probes
import pytest
from livekit import receive_until
from test_probe_pool import deployed

from editor.worker import Worker

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def probing_worker(settings: Any, fake_engine: None) -> AsyncIterator[Worker]:
    live_fake_probes.reset()
    instance = Worker(poll_interval=0.05, probes=live_fake_probes)
    task = asyncio.create_task(instance.run())
    yield instance
    live_fake_probes.release.set()  # a failed test must not leave a ping-all waiting
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def cells_in(messages: list[dict[str, Any]]) -> int:
    """The cells in ``messages``' ``pingall.cells`` batches, each a ``pingall.cell``."""
    batches = [m["cells"] for m in messages if m["type"] == "pingall.cells"]
    assert all(cell["type"] == "pingall.cell" for batch in batches for cell in batch)
    return sum(len(batch) for batch in batches)


async def open_page(browser: Any, design_id: int) -> Any:
    client = browser(design_id)
    assert (await client.connect())[0]
    await receive_until(client, lambda m: m["type"] == "deployment")
    return client


async def test_a_ping_all_says_how_far_it_is(
    make_design: Any, owner: Any, probing_worker: Worker, browser: Any
) -> None:
    """host, red and blue ping red's and blue's addresses: four cells, none to oneself."""
    running = await deployed(make_design, owner, "progress")
    client = await open_page(browser, running.design_id)
    await client.send_json_to({"action": "pingall"})
    seen = await receive_until(client, lambda m: m["type"] in ("pingall.done", "error"))
    ours = [m for m in seen if m["type"].startswith("pingall.")]
    assert ours[0] == {"type": "pingall.progress", "done": 0, "total": 4, "reachable": 0}
    assert ours[-2] == {"type": "pingall.progress", "done": 4, "total": 4, "reachable": 4}
    assert ours[-1] == {"type": "pingall.done", "total": 4, "reachable": 4, "cancelled": False}
    assert cells_in(ours) == 4
    await client.disconnect()


async def test_a_stopped_ping_all_reports_what_it_measured(
    make_design: Any, owner: Any, probing_worker: Worker, browser: Any
) -> None:
    live_fake_probes.pingall_hold = 2
    running = await deployed(make_design, owner, "stopped")
    client = await open_page(browser, running.design_id)
    await client.send_json_to({"action": "pingall"})
    assert await asyncio.to_thread(live_fake_probes.started.acquire, True, 10)
    await client.send_json_to({"action": "pingall.stop"})
    seen = await receive_until(client, lambda m: m["type"] in ("pingall.done", "error"))
    assert await asyncio.to_thread(live_fake_probes.cancelled.acquire, True, 10)
    ours = [m for m in seen if m["type"].startswith("pingall.")]
    assert cells_in(ours) == 2
    assert ours[-2] == {"type": "pingall.progress", "done": 2, "total": 4, "reachable": 2}
    assert ours[-1] == {"type": "pingall.done", "total": 2, "reachable": 2, "cancelled": True}
    await client.disconnect()


async def test_a_stop_reaches_only_its_own_pages_ping_all(
    make_design: Any, owner: Any, probing_worker: Worker, browser: Any
) -> None:
    """A second page of the same lab stopping its (absent) ping-all leaves the first's be."""
    live_fake_probes.pingall_hold = 1
    running = await deployed(make_design, owner, "two-pages")
    pinging = await open_page(browser, running.design_id)
    other = await open_page(browser, running.design_id)
    await pinging.send_json_to({"action": "pingall"})
    assert await asyncio.to_thread(live_fake_probes.started.acquire, True, 10)
    await other.send_json_to({"action": "pingall.stop"})
    # The worker reads its channel in order: once the probe sent after the stop is
    # answered, the stop was handled.
    await other.send_json_to({"action": "probe", "source": "red", "target": "blue:80"})
    await receive_until(other, lambda m: m["type"] == "probe")
    assert not live_fake_probes.cancelled.acquire(blocking=False)
    live_fake_probes.release.set()
    seen = await receive_until(pinging, lambda m: m["type"] in ("pingall.done", "error"))
    assert seen[-1] == {"type": "pingall.done", "total": 4, "reachable": 4, "cancelled": False}
    await pinging.disconnect()
    await other.disconnect()
