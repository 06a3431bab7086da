"""The live lab websocket through the real ASGI application, on a real database, with the
in-memory engine (no kernel): authorisation, malformed requests, deployments driven by the
worker, and the state a page gets on connect."""

from __future__ import annotations

from typing import Any

import pytest
from channels.layers import get_channel_layer
from livekit import ORIGIN, communicator, receive_until, steps_in

from editor import events
from editor.consumers import CLOSE_FORBIDDEN_ORIGIN, CLOSE_NOT_FOUND, CLOSE_UNAUTHENTICATED
from editor.events import EVENT
from editor.worker.channel import envelope, event_of, lab_group

pytestmark = pytest.mark.django_db(transaction=True)


def is_state(state: str) -> Any:
    return lambda message: message["type"] == "deployment" and message["state"] == state


async def opened(client: Any) -> dict[str, Any]:
    """Connect ``client``; return the ``deployment`` message every connection starts with."""
    connected, _ = await client.connect()
    assert connected
    first = await client.receive_json_from(timeout=5)
    assert first["type"] == "deployment"
    return first


@pytest.fixture
def design(make_design: Any) -> Any:
    return make_design("live")


async def test_anonymous_is_refused(design: Any) -> None:
    """A handshake without a session or a token is closed before it is accepted."""
    client = communicator(design.pk, [(b"origin", ORIGIN)])
    assert await client.connect() == (False, CLOSE_UNAUTHENTICATED)


async def test_bad_token_is_refused_even_with_a_session(design: Any, session_cookie: bytes) -> None:
    """A bearer header is all that counts when present: a bad token is not saved by a cookie."""
    headers = [(b"authorization", b"Bearer nope"), (b"cookie", session_cookie), (b"origin", ORIGIN)]
    assert await communicator(design.pk, headers).connect() == (False, CLOSE_UNAUTHENTICATED)


@pytest.mark.parametrize(
    "origin",
    [
        pytest.param(b"https://evil.example", id="foreign"),
        pytest.param(None, id="missing"),
        pytest.param(b"null", id="opaque"),
    ],
)
async def test_session_needs_a_page_of_this_site(
    design: Any, session_cookie: bytes, origin: bytes | None
) -> None:
    """Session sockets from another site (or with no Origin) are refused."""
    headers = [(b"cookie", session_cookie)]
    if origin is not None:
        headers.append((b"origin", origin))
    assert await communicator(design.pk, headers).connect() == (False, CLOSE_FORBIDDEN_ORIGIN)


@pytest.fixture
def theirs(make_design: Any, stranger: Any) -> Any:
    return make_design("theirs", owner=stranger)


async def test_another_users_design_answers_like_a_missing_one(theirs: Any, browser: Any) -> None:
    """A design the user may not see closes exactly like an id that does not exist."""
    assert await browser(theirs.pk).connect() == (False, CLOSE_NOT_FOUND)
    assert await browser(theirs.pk + 1000).connect() == (False, CLOSE_NOT_FOUND)


async def test_bearer_token_without_origin_connects(design: Any, owner_token: str) -> None:
    """Scripts authenticate with a token and may omit Origin; they get the state first."""
    client = communicator(design.pk, [(b"authorization", f"Bearer {owner_token}".encode())])
    first = await opened(client)
    assert first == {
        "type": "deployment",
        "deployment": None,
        "tag": None,
        "state": "not deployed",
        "error": "",
        "namespaces": {},
        "updated": None,
        "destroyable": False,
        "revision": None,
        "applying_revision": None,
    }
    await client.disconnect()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param("not json", "JSON", id="not-json"),
        pytest.param("[1, 2]", "action", id="not-an-object"),
        pytest.param('{"type": "deploy"}', "action", id="no-action"),
        pytest.param('{"action": "reboot"}', "reboot", id="unknown-action"),
        pytest.param('{"action": "deploy", "force": true}', "force", id="extra-field"),
        pytest.param(
            '{"action": "ping", "source": "red", "target": "blue", "count": 0}',
            "count",
            id="count-zero",
        ),
        pytest.param('{"action": "ping", "source": "red"}', "target", id="missing-field"),
        pytest.param(
            '{"action": "probe", "source": "red", "target": "10.0.0.1"}', "target", id="no-port"
        ),
    ],
)
async def test_malformed_messages_get_an_error_and_change_nothing(
    design: Any, browser: Any, text: str, reason: str
) -> None:
    from channels.db import database_sync_to_async

    from editor.models import Deployment

    client = browser(design.pk)
    await opened(client)
    await client.send_to(text_data=text)
    answer = await client.receive_json_from(timeout=5)
    assert answer["type"] == "error"
    assert reason in answer["message"]
    EVENT.validate_python(answer)
    assert await database_sync_to_async(Deployment.objects.count)() == 0
    assert await client.receive_nothing(timeout=0.05)
    await client.disconnect()


async def test_deploy_streams_steps_and_states_then_reload_shows_them(
    design: Any, browser: Any, fake_engine: None, worker: Any
) -> None:
    """The worker runs the deployment; the page sees queued, each step, running; a reload
    gets the state and the steps back from the database."""
    client = browser(design.pk)
    await opened(client)
    await client.send_json_to({"action": "deploy"})
    seen = await receive_until(client, is_state("running"))
    for message in seen:
        EVENT.validate_python(message)
    # The asking page publishes "queued" while the worker publishes "deploying": the two may
    # cross, and ``updated`` puts them back in order.
    announced = sorted(
        (message["updated"], message["state"])
        for message in seen
        if message["type"] == "deployment"
    )
    assert [state for _, state in announced] == ["queued", "deploying", "running"]
    steps = [(m["index"], m["outcome"]) for m in steps_in(seen)]
    # The small design has three namespace nodes (host, red, blue): each ends done, in
    # order. Steps are published in bursts: one that started and ended within a burst is
    # sent once, ended; one that spans bursts is sent started first.
    assert [step for step in steps if step[1] != "started"] == [
        (1, "done"),
        (2, "done"),
        (3, "done"),
    ]
    assert sorted(steps, key=lambda step: (step[0], step[1] != "started")) == steps
    running = seen[-1]
    assert set(running["namespaces"]) == {"host", "red", "blue"}

    await client.send_json_to({"action": "deploy"})
    refused = await receive_until(client, lambda message: message["type"] == "error")
    assert "already running" in refused[-1]["message"]
    await client.disconnect()

    again = browser(design.pk)
    first = await opened(again)
    assert first["state"] == "running"
    assert first["tag"] == running["tag"]
    # The steps come back as the database recorded them: each once, as it ended.
    replayed = await again.receive_json_from(timeout=5)
    assert replayed["type"] == "steps"
    assert replayed["deployment"] == running["deployment"]
    assert [(m["type"], m["index"], m["outcome"]) for m in replayed["steps"]] == [
        ("step", 1, "done"),
        ("step", 2, "done"),
        ("step", 3, "done"),
    ]

    await again.send_json_to({"action": "destroy"})
    seen = await receive_until(again, is_state("stopped"))
    states = [message["state"] for message in seen if message["type"] == "deployment"]
    assert states[0] == "destroying"
    assert states[-1] == "stopped"
    await again.disconnect()


async def test_probes_need_a_running_deployment(design: Any, browser: Any, worker: Any) -> None:
    client = browser(design.pk)
    await opened(client)
    await client.send_json_to({"action": "ping", "source": "red", "target": "blue"})
    answer = await client.receive_json_from(timeout=5)
    assert answer == {
        "type": "error",
        "message": "live is not deployed",
        "action": "ping",
        "node": "red",
    }
    await client.disconnect()


async def test_destroy_without_deployment_is_refused(design: Any, browser: Any) -> None:
    client = browser(design.pk)
    await opened(client)
    await client.send_json_to({"action": "destroy"})
    answer = await client.receive_json_from(timeout=5)
    assert answer["type"] == "error"
    assert "not deployed" in answer["message"]
    await client.disconnect()


async def test_lab_events_reach_the_page_as_json_text_and_as_an_older_workers_dicts(
    design: Any, browser: Any, owner: Any
) -> None:
    """A lab event travels the channel layer as its JSON text, sent to the page as it is;
    an event of a worker of an older netlab (a dict under ``event``) still reaches it."""
    client = browser(design.pk)
    await opened(client)
    layer = get_channel_layer()
    group = lab_group(design.pk, owner.pk)
    event = events.ErrorEvent(message='quote " and <tag> and é', action="ping", node="red")
    message = envelope(event)
    assert set(message) == {"type", "text"}
    assert event_of(message) == event.as_message()
    await layer.group_send(group, message)
    assert await client.receive_json_from(timeout=5) == event.as_message()
    older = {"type": "lab.event", "event": event.as_message()}
    assert event_of(older) == event.as_message()
    await layer.group_send(group, older)
    assert await client.receive_json_from(timeout=5) == event.as_message()
    await client.disconnect()
