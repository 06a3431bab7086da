"""Sharing over the websocket: who may open a lab page, deploy, and ping.

The same people and visibilities as the API and page matrices; expected answers are
written out. Deployments are per user: an editor deploys their own lab, a viewer none, and
nobody's ping reaches another user's deployment.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from livekit import ORIGIN, communicator, receive_until

from editor.consumers import CLOSE_NOT_FOUND, CLOSE_UNAUTHENTICATED
from editor.models import Deployment

pytestmark = pytest.mark.django_db(transaction=True)

ACTORS = ("owner", "editor", "viewer", "stranger", "anonymous")
OPEN = "open"


def socket_of(user: Any, design_id: int) -> Any:
    headers = [(b"origin", ORIGIN)]
    if user is not None:
        client = Client()
        client.force_login(user)
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    return communicator(design_id, headers)


# visibility: what each of owner, editor, viewer, stranger, anonymous gets on connect.
CONNECT = [
    ("private", (OPEN, OPEN, OPEN, CLOSE_NOT_FOUND, CLOSE_UNAUTHENTICATED)),
    ("link", (OPEN, OPEN, OPEN, CLOSE_NOT_FOUND, CLOSE_UNAUTHENTICATED)),
    ("public", (OPEN, OPEN, OPEN, OPEN, CLOSE_UNAUTHENTICATED)),
]


@pytest.mark.parametrize(("visibility", "expected"), CONNECT, ids=[row[0] for row in CONNECT])
async def test_who_may_open_a_lab_page(
    shared: Any, people: dict[str, Any], visibility: str, expected: tuple[Any, ...]
) -> None:
    """Reading rights decide who may watch a design's lab page."""
    from asgiref.sync import sync_to_async

    design = await sync_to_async(shared)(visibility, f"lab-{visibility}")
    answers = {}
    for actor in ACTORS:
        client = await sync_to_async(socket_of)(people[actor], design.pk)
        connected, code = await client.connect()
        answers[actor] = OPEN if connected else code
        await client.disconnect()
    assert answers == dict(zip(ACTORS, expected, strict=True))


# visibility: the answer to {"action": "deploy"} for owner, editor, viewer, stranger.
DEPLOY = [
    ("private", ("deployed", "deployed", "refused", None)),
    ("public", ("deployed", "deployed", "refused", "refused")),
]


@pytest.mark.parametrize(("visibility", "expected"), DEPLOY, ids=[row[0] for row in DEPLOY])
async def test_who_may_deploy(
    shared: Any,
    people: dict[str, Any],
    fake_engine: None,
    visibility: str,
    expected: tuple[Any, ...],
) -> None:
    """Owner and editors deploy (each their own lab); viewers and strangers are refused."""
    from asgiref.sync import sync_to_async

    design = await sync_to_async(shared)(visibility, f"lab-{visibility}")
    answers = {}
    for actor in ACTORS[:4]:
        client = await sync_to_async(socket_of)(people[actor], design.pk)
        connected, _ = await client.connect()
        if not connected:
            answers[actor] = None
            continue
        await client.receive_json_from(timeout=5)  # the state every connection starts with
        await client.send_json_to({"action": "deploy"})
        seen = await receive_until(
            client, lambda message: message["type"] in ("error", "deployment")
        )
        answers[actor] = "refused" if seen[-1]["type"] == "error" else "deployed"
        await client.disconnect()
    assert answers == dict(zip(ACTORS[:4], expected, strict=True))
    owners = await sync_to_async(
        lambda: sorted(Deployment.objects.values_list("owner__username", flat=True))
    )()
    assert owners == ["eddie", "olivia"]  # two labs, one each: nobody deployed anyone else's


async def test_ping_reaches_only_your_own_deployment(
    shared: Any, people: dict[str, Any], fake_engine: None, worker: Any
) -> None:
    """A viewer's ping on a design the owner has running is refused: it is not theirs."""
    from asgiref.sync import sync_to_async

    design = await sync_to_async(shared)("private", "lab")
    owner = await sync_to_async(socket_of)(people["owner"], design.pk)
    await owner.connect()
    await owner.receive_json_from(timeout=5)
    await owner.send_json_to({"action": "deploy"})
    await receive_until(
        owner, lambda message: message["type"] == "deployment" and message["state"] == "running"
    )
    viewer = await sync_to_async(socket_of)(people["viewer"], design.pk)
    await viewer.connect()
    await viewer.send_json_to({"action": "ping", "source": "red", "target": "blue", "count": 1})
    seen = await receive_until(viewer, lambda message: message["type"] == "error")
    assert "not deployed" in seen[-1]["message"]
    await viewer.disconnect()
    await owner.disconnect()
