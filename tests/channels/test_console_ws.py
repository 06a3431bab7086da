"""A console belongs to its lab's owner: another user reading the design (it is public)
gets an error for a console line, never a command run in the owner's lab."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from livekit import ORIGIN, communicator, receive_until
from test_pingall_progress import open_page, probing_worker  # noqa: F401 - a fixture
from test_probe_pool import deployed

from editor import services

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("probing_worker")]


def cookie_of(user: Any) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def test_another_user_cannot_run_a_line_on_your_lab(
    make_design: Any, owner: Any, stranger: Any
) -> None:
    running = await deployed(make_design, owner, "mine")
    design = await database_sync_to_async(lambda: running.design)()
    await database_sync_to_async(services.set_visibility)(
        design, actor=owner, visibility="public", anonymous=False
    )
    cookie = await database_sync_to_async(cookie_of)(stranger)
    page = communicator(design.pk, [(b"cookie", cookie), (b"origin", ORIGIN)])
    assert (await page.connect())[0]
    await receive_until(page, lambda m: m["type"] == "deployment")
    await page.send_json_to({"action": "console", "node": "red", "line": "ip a"})
    seen = await receive_until(page, lambda m: m["type"] in ("error", "console.output"))
    assert seen[-1]["type"] == "error"
    assert (seen[-1]["action"], seen[-1]["node"]) == ("console", "red")
    assert "not deployed" in seen[-1]["message"]
    await page.disconnect()
