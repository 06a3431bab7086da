"""Links, routes and counters pushed to the page, with the in-memory engine and an observer
double: whole tables on connect, every change pushed (a burst coalesced), and counters read
only while a page of the design is open."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import live_fake_observe as fake
import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from livekit import receive_until, unbatched

from editor import deployments, events
from editor.events import EVENT
from editor.models import Deployment
from editor.worker import Worker
from editor.worker.channel import event_of, lab_group
from editor.worker.monitors import BATCH, TABLES, TableBatches

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def observing_worker(fake_engine: None) -> AsyncIterator[Worker]:
    fake.reset()
    instance = Worker(poll_interval=0.05, observer=fake, counter_interval=0.05)
    task = asyncio.create_task(instance.run())
    yield instance
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    fake.reset()


@pytest.fixture
async def running(make_design: Any, owner: Any, observing_worker: Worker) -> Deployment:
    design = await database_sync_to_async(make_design)("tables")
    deployment = await database_sync_to_async(deployments.request_deploy)(design, actor=owner)
    for _ in range(500):
        await database_sync_to_async(deployment.refresh_from_db)()
        if deployment.state == Deployment.State.RUNNING and all(
            fake.monitoring(netns) for netns in deployment.namespaces.values()
        ):
            return deployment
        await asyncio.sleep(0.01)
    raise AssertionError(f"the deployment is {deployment.state}")


async def opened(browser: Any, deployment: Deployment) -> Any:
    client = browser(deployment.design_id)
    connected, _ = await client.connect()
    assert connected
    return client


def of(kind: str, node: str) -> Any:
    return lambda message: message["type"] == kind and message["node"] == node


async def refreshed(client: Any) -> None:
    """Wait until the connect's refresh has read red's tables: a snapshot that came after
    the test's events would reset them. Its ``neighbours`` come from that snapshot only;
    a ``counters`` may come first from the counters' poll (PostgreSQL's slower first
    query of the refresh showed it)."""
    await receive_until(client, of("neighbours", "red"))


async def test_a_page_gets_every_table_of_every_namespace_on_connect(
    running: Deployment, browser: Any
) -> None:
    client = await opened(browser, running)
    kinds = ("links", "routes", "neighbours", "counters")
    wanted = {(kind, node) for kind in kinds for node in running.namespaces}
    seen: set[tuple[str, str]] = set()
    while not wanted <= seen:
        message = await client.receive_json_from(timeout=5)
        EVENT.validate_python(message)
        for table in unbatched(message):
            if "node" in table:
                seen.add((table["type"], table["node"]))
    await client.disconnect()


async def test_a_link_change_is_pushed_and_a_burst_is_coalesced(
    running: Deployment, browser: Any
) -> None:
    client = await opened(browser, running)
    await refreshed(client)
    red = running.namespaces["red"]
    fake.set_link(red, "eth0", state="down", operstate="DOWN")
    burst = 50
    for _ in range(burst):
        fake.emit(red, "link")

    seen = await receive_until(
        client,
        lambda m: (
            of("links", "red")(m)
            and any(link["name"] == "eth0" and not link["up"] for link in m["links"])
        ),
    )
    (eth0,) = [link for link in seen[-1]["links"] if link["name"] == "eth0"]
    assert (eth0["state"], eth0["up"]) == ("DOWN", False)
    # A link change may take routes with it: they are pushed too.
    await receive_until(client, of("routes", "red"))
    links = [m for m in seen if of("links", "red")(m)]
    assert len(links) < burst
    await client.disconnect()


async def test_counters_are_read_only_while_a_page_is_open(
    running: Deployment, browser: Any, observing_worker: Worker
) -> None:
    red = running.namespaces["red"]
    client = await opened(browser, running)
    await receive_until(client, of("counters", "red"))
    fake.tables[red]["counters"]["eth0"]["rx_packets"] = 7
    seen = await receive_until(
        client, lambda m: of("counters", "red")(m) and m["interfaces"]["eth0"]["rx_packets"] == 7
    )
    EVENT.validate_python(seen[-1])
    await client.disconnect()

    for _ in range(500):  # the worker hears of the closed page
        if not observing_worker._viewers:
            break
        await asyncio.sleep(0.01)
    assert not observing_worker._viewers
    reads = fake.counter_reads[red]
    await asyncio.sleep(10 * observing_worker.counter_interval)
    assert fake.counter_reads[red] == reads


async def test_counters_after_the_first_name_only_what_changed(
    running: Deployment, browser: Any, observing_worker: Worker
) -> None:
    """The connect's counters hold every interface; the next only those that changed (a
    hub of a thousand ports sends a line, not the thousand); a new interface, all again."""
    red = running.namespaces["red"]
    counters = fake.tables[red]["counters"]
    counters["lo"] = {"rx_bytes": 0, "tx_bytes": 0, "rx_packets": 0, "tx_packets": 0}
    client = await opened(browser, running)
    await refreshed(client)  # red's refresh sends its counters right after its neighbours
    first = (await receive_until(client, of("counters", "red")))[-1]
    assert first["complete"]
    assert set(first["interfaces"]) == {"eth0", "lo"}
    # A full read racing the connect's (a refresh) may carry the change, complete: then
    # the one after it must name only what changed.
    for _ in range(3):
        counters["eth0"]["rx_packets"] += 5
        wanted = counters["eth0"]["rx_packets"]
        seen = await receive_until(
            client,
            lambda m, wanted=wanted: (
                of("counters", "red")(m)
                and m["interfaces"].get("eth0", {}).get("rx_packets") == wanted
            ),
        )
        if not seen[-1]["complete"]:
            break
    assert (seen[-1]["complete"], list(seen[-1]["interfaces"])) == (False, ["eth0"])
    counters["eth9"] = dict(counters["eth0"])
    seen = await receive_until(client, of("counters", "red"))
    assert seen[-1]["complete"]
    assert set(seen[-1]["interfaces"]) == {"eth0", "eth9", "lo"}
    del counters["eth9"], counters["lo"]
    await client.disconnect()


async def test_counters_are_read_only_for_the_node_a_page_shows(
    running: Deployment, browser: Any, observing_worker: Worker
) -> None:
    """Once the page says it shows red, blue's counters are no longer read; a page that
    never said (an older client) keeps every node's coming."""
    red, blue = running.namespaces["red"], running.namespaces["blue"]
    group = lab_group(running.design_id, running.owner_id)
    client = await opened(browser, running)
    await client.send_json_to({"action": "show", "node": "red"})
    for _ in range(500):
        if list(observing_worker._viewers.get(group, {}).values()) == ["red"]:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(2 * observing_worker.counter_interval)  # a round under way ends
    reads = dict(fake.counter_reads)
    await asyncio.sleep(10 * observing_worker.counter_interval)
    assert fake.counter_reads[red] > reads.get(red, 0)
    assert fake.counter_reads[blue] == reads.get(blue, 0)
    fake.tables[red]["counters"]["eth0"]["tx_packets"] = 3
    await receive_until(
        client, lambda m: of("counters", "red")(m) and m["interfaces"]["eth0"]["tx_packets"] == 3
    )

    older = await opened(browser, running)  # says nothing: shown every node
    for _ in range(500):
        if fake.counter_reads[blue] > reads.get(blue, 0):
            break
        await asyncio.sleep(0.01)
    assert fake.counter_reads[blue] > reads.get(blue, 0)
    await older.disconnect()
    await client.disconnect()


async def test_neighbour_events_change_the_published_table_without_a_snapshot(
    running: Deployment, browser: Any
) -> None:
    client = await opened(browser, running)
    await refreshed(client)
    red = running.namespaces["red"]

    def holds(*addresses: str) -> Any:
        def wanted(message: dict[str, Any]) -> bool:
            if not of("neighbours", "red")(message):
                return False
            return sorted(entry["address"] for entry in message["entries"]) == list(addresses)

        return wanted

    # The fake's own table stays empty (a snapshot would show none): only the events, kept
    # in the worker's memory, can put these entries there.
    fake.emit(red, "neighbour", "new", fake.neighbour("10.0.0.2"))
    fake.emit(red, "neighbour", "new", fake.neighbour("10.0.0.3"))
    seen = await receive_until(client, holds("10.0.0.2", "10.0.0.3"))
    EVENT.validate_python(seen[-1])
    assert {entry["state"] for entry in seen[-1]["entries"]} == {"REACHABLE"}

    fake.emit(red, "neighbour", "new", fake.neighbour("10.0.0.2", "STALE"))
    fake.emit(red, "neighbour", "del", fake.neighbour("10.0.0.3", "FAILED"))
    seen = await receive_until(
        client, lambda m: holds("10.0.0.2")(m) and m["entries"][0]["state"] == "STALE"
    )
    await client.disconnect()


async def test_a_snapshot_resets_the_neighbour_table(running: Deployment, browser: Any) -> None:
    client = await opened(browser, running)
    await refreshed(client)
    red = running.namespaces["red"]
    fake.emit(red, "neighbour", "new", fake.neighbour("10.0.0.7"))
    await receive_until(
        client,
        lambda m: (
            of("neighbours", "red")(m) and [e["address"] for e in m["entries"]] == ["10.0.0.7"]
        ),
    )
    # A link event reads the namespace again: the kernel's table (here, one other entry)
    # replaces what the events built.
    fake.tables[red]["neighbours"] = [fake.neighbour("10.0.0.8")]
    fake.emit(red, "link")
    await receive_until(
        client,
        lambda m: (
            of("neighbours", "red")(m) and [e["address"] for e in m["entries"]] == ["10.0.0.8"]
        ),
    )
    await client.disconnect()


async def test_tables_published_together_reach_the_page_in_few_messages(
    running: Deployment, browser: Any
) -> None:
    """A page's connect publishes four tables of each node at once: they come in fewer
    messages than tables, the first alone, the rest in ``tables`` messages."""
    client = await opened(browser, running)
    wanted = {(kind, node) for kind in TABLES for node in running.namespaces}
    seen: set[tuple[str, str]] = set()
    messages: list[dict[str, Any]] = []
    while not wanted <= seen:
        message = await client.receive_json_from(timeout=5)
        EVENT.validate_python(message)
        if message["type"] not in ("deployment", "steps"):
            messages.append(message)
        seen |= {(table["type"], table["node"]) for table in unbatched(message) if "node" in table}
    tables = [table for message in messages for table in unbatched(message)]
    assert any(message["type"] == "tables" for message in messages)
    assert len(messages) < len(tables)
    await client.disconnect()


async def test_table_batches_send_the_first_at_once_and_drop_a_going_labs() -> None:
    """Alone after a quiet spell: its own message; right after: together; a lab going:
    what it had yet to send is dropped."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("lab-x", channel)
    batches = TableBatches(layer)

    def links(node: str) -> events.LinksEvent:
        return events.LinksEvent(node=node, netns=f"ns-{node}", links=[])

    await batches.send("lab-x", links("a"))
    first = event_of(await layer.receive(channel))
    assert (first["type"], first["node"]) == ("links", "a")
    for node in ("b", "c", "d"):
        await batches.send("lab-x", links(node))
    together = event_of(await asyncio.wait_for(layer.receive(channel), 1))
    assert together["type"] == "tables"
    assert [table["node"] for table in together["tables"]] == ["b", "c", "d"]
    for node in ("e", "f"):
        await batches.send("lab-x", links(node))
    batches.drop("lab-x")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(layer.receive(channel), 3 * BATCH)
    await layer.group_discard("lab-x", channel)
