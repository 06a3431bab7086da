"""A lab's live events reach only the pages of the user who deployed it, and a page whose
user lost the right to read the design is closed.

The in-memory engine and an observer double stand in for the kernel; the people are the
sharing tests' cast (owner, editor, viewer, stranger). Each expectation is written out: who
sees which deployment, and which close code a revoked page gets.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import live_fake_observe as fake
import pytest
from channels.db import database_sync_to_async
from django.test import Client
from livekit import ORIGIN, communicator, receive_until

from editor import services
from editor.consumers import CLOSE_NOT_FOUND
from editor.worker import Worker

pytestmark = pytest.mark.django_db(transaction=True)

# Everything a deployment tells its pages: none of it may reach another user's page.
LAB_EVENTS = {"deployment", "step", "steps", "links", "routes", "neighbours", "counters"}


@pytest.fixture
async def observing_worker(fake_engine: None) -> AsyncIterator[Worker]:
    fake.reset()
    instance = Worker(poll_interval=0.05, observer=fake, counter_interval=0.05)
    task = asyncio.create_task(instance.run())
    yield instance
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    fake.reset()


def socket_of(user: Any, design_id: int) -> Any:
    client = Client()
    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    return communicator(design_id, [(b"cookie", cookie), (b"origin", ORIGIN)])


async def page(user: Any, design_id: int) -> Any:
    """An open lab page of ``user``, past the ``deployment`` message it starts with."""
    client = await database_sync_to_async(socket_of)(user, design_id)
    connected, code = await client.connect()
    assert connected, code
    first = await client.receive_json_from(timeout=5)
    assert (first["type"], first["state"]) == ("deployment", "not deployed")
    return client


async def deploy(client: Any) -> dict[str, Any]:
    """Deploy from ``client``'s page; return its ``running`` message once the tables came."""
    await client.send_json_to({"action": "deploy"})
    seen = await receive_until(
        client, lambda m: m["type"] == "deployment" and m["state"] == "running"
    )
    await receive_until(client, lambda m: m["type"] == "counters")
    return seen[-1]


async def drain(client: Any, quiet: float = 0.3) -> list[dict[str, Any]]:
    """Return what ``client`` receives until nothing came for ``quiet`` seconds."""
    seen = []
    while not await client.receive_nothing(timeout=quiet):
        seen.append(await client.receive_json_from())
    return seen


async def test_a_reader_of_a_public_design_gets_none_of_the_owners_lab(
    shared: Any, people: dict[str, Any], observing_worker: Worker
) -> None:
    """A stranger watching a public design sees no tag, namespace or MAC of the owner's lab:
    not while it deploys, not its tables, not its counters."""
    design = await database_sync_to_async(shared)("public", "public-lab")
    stranger = await page(people["stranger"], design.pk)
    viewer = await page(people["viewer"], design.pk)
    owner = await page(people["owner"], design.pk)
    running = await deploy(owner)
    red = running["namespaces"]["red"]
    fake.emit(red, "link")  # a table change while everyone watches
    await receive_until(owner, lambda m: m["type"] == "links" and m["netns"] == red)

    for reader in (stranger, viewer):
        assert await drain(reader) == []
        # The page itself still works: its own state is still "not deployed".
        await reader.send_json_to({"action": "ping", "source": "red", "target": "blue"})
        seen = await receive_until(reader, lambda m: m["type"] == "error")
        assert "not deployed" in seen[-1]["message"]
        assert not {m["type"] for m in seen} & LAB_EVENTS
    for client in (stranger, viewer, owner):
        await client.disconnect()


async def test_two_collaborators_each_see_only_their_own_lab(
    shared: Any, people: dict[str, Any], observing_worker: Worker
) -> None:
    """The owner and an editor deploy the same design side by side: each page shows one lab."""
    design = await database_sync_to_async(shared)("private", "side-by-side")
    owner = await page(people["owner"], design.pk)
    editor = await page(people["editor"], design.pk)
    mine = await deploy(owner)
    theirs = await deploy(editor)
    assert mine["deployment"] != theirs["deployment"]

    for client, own in ((owner, mine), (editor, theirs)):
        seen = await drain(client)
        with_deployment = {"deployment", "step", "steps"}
        deployments = {m["deployment"] for m in seen if m["type"] in with_deployment}
        namespaces = {m["netns"] for m in seen if m["type"] in LAB_EVENTS - with_deployment}
        assert deployments <= {own["deployment"]}
        assert namespaces <= set(own["namespaces"].values())
    # The editor's page, opened again, starts from the editor's lab, not the owner's.
    late = await database_sync_to_async(socket_of)(people["editor"], design.pk)
    assert (await late.connect())[0]
    first = await late.receive_json_from(timeout=5)
    assert (first["deployment"], first["state"]) == (theirs["deployment"], "running")
    seen = await receive_until(late, lambda m: m["type"] == "counters")
    assert {m["netns"] for m in seen if m["type"] == "links"} <= set(theirs["namespaces"].values())
    for client in (owner, editor, late):
        await client.disconnect()


async def closed_with(client: Any, code: int) -> None:
    """Assert ``client``'s socket is closed by the server with ``code`` (events may come
    before the close, never an error)."""
    while True:
        output = await client.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            assert output.get("code") == code
            return
        assert output["type"] == "websocket.send", output


# revocation: the design's visibility before, the change, whose page closes.
REVOCATIONS = {
    "made private": (
        "public",
        lambda design, people: services.set_visibility(
            design, actor=people["owner"], visibility="private"
        ),
        "stranger",
    ),
    "collaborator removed": (
        "private",
        lambda design, people: services.remove_collaborator(
            design, actor=people["owner"], user=people["viewer"]
        ),
        "viewer",
    ),
}


@pytest.mark.parametrize("revocation", list(REVOCATIONS))
async def test_a_page_whose_reader_lost_access_is_closed(
    shared: Any, people: dict[str, Any], observing_worker: Worker, revocation: str
) -> None:
    """Made private: the stranger's page of a public design closes (4404, as a design they
    never saw); the owner's, the editor's and the viewer's stay. Collaborator removed from a
    private design: the viewer's page closes, the others stay."""
    visibility, revoke, losing = REVOCATIONS[revocation]
    design = await database_sync_to_async(shared)(visibility, "revocable")
    actors = ["owner", "editor", "viewer"] + (["stranger"] if visibility == "public" else [])
    pages = {actor: await page(people[actor], design.pk) for actor in actors}
    await database_sync_to_async(revoke)(design, people)

    await closed_with(pages[losing], CLOSE_NOT_FOUND)
    for actor, client in pages.items():
        if actor == losing:
            continue
        assert await client.receive_nothing(timeout=0.3), actor
        await client.send_json_to({"action": "pingall"})  # still open, still answered
        seen = await receive_until(client, lambda m: m["type"] == "error")
        assert "not deployed" in seen[-1]["message"]
        await client.disconnect()
    # The closed page sends nothing more.
    assert await pages[losing].receive_nothing(timeout=0.2)


async def test_deleting_a_design_closes_every_page_of_it(
    shared: Any, people: dict[str, Any], observing_worker: Worker
) -> None:
    design = await database_sync_to_async(shared)("public", "short-lived")
    pages = [await page(people[actor], design.pk) for actor in ("owner", "editor", "stranger")]
    await database_sync_to_async(services.delete_design)(design, actor=people["owner"])
    for client in pages:
        await closed_with(client, CLOSE_NOT_FOUND)


async def test_deleting_a_user_closes_their_pages(
    shared: Any, people: dict[str, Any], observing_worker: Worker
) -> None:
    """The viewer's account goes: their page of a design shared with them closes, the
    owner's stays."""
    design = await database_sync_to_async(shared)("private", "shared-once")
    owner, viewer = await page(people["owner"], design.pk), await page(people["viewer"], design.pk)
    await database_sync_to_async(services.delete_user)(people["viewer"], actor=people["owner"])
    await closed_with(viewer, CLOSE_NOT_FOUND)
    assert await owner.receive_nothing(timeout=0.3)
    await owner.disconnect()
