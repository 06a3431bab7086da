"""Fuzzing the lab websocket: whatever a page sends, the socket answers or closes cleanly,
never with an unhandled exception, and the worker stays up.

Random and malformed frames (text that is not JSON, binary frames, JSON of the wrong
shape, unknown actions, wrong types, values out of range, huge or deeply nested messages,
lone surrogates) go to a page of a running lab (the in-memory engine, and a probes double
that answers at once). Every frame gets exactly one final answer: an ``error`` for a frame
that is not a request, and for a probe its last event (``ping.done``, ``pingall.done``,
``probe``) or an ``error``. A later valid request is still answered by the worker. A flood of
valid requests is answered the same way, one final answer each.

Hypothesis runs derandomized with a fixed number of examples: the same frames every run.
Deploy and destroy requests are left out of the random frames (their effects are tested
elsewhere): everything sent here is answered by the consumer or by the worker's probes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import live_fake_probes
import pytest
from channels.db import database_sync_to_async
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from livekit import ORIGIN, communicator

from editor import deployments, events
from editor.models import Deployment
from editor.worker import Worker

pytestmark = pytest.mark.django_db(transaction=True)

FINAL = {"ping.done", "pingall.done", "probe", "error"}
ANSWER_TIMEOUT = 10.0

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
field_values = st.one_of(
    json_values,
    st.sampled_from(["red", "blue", "host", "192.168.15.2", "fe80::1%eth0", "blue:80", "x:99999"]),
)
requestish = st.fixed_dictionaries(
    {"action": st.sampled_from(["ping", "pingall", "probe", "reboot", "", "PING", "deploy "])},
    optional={
        "source": field_values,
        "target": field_values,
        "count": st.one_of(st.integers(min_value=-5, max_value=200), json_values),
        "extra": json_values,
    },
)
Frame = tuple[str, Any]  # ("text", str) or ("bytes", bytes)
frames = st.one_of(
    st.text(max_size=200).map(lambda text: ("text", text)),
    st.binary(max_size=200).map(lambda data: ("bytes", data)),
    requestish.map(lambda request: ("text", json.dumps(request))),
    json_values.map(lambda value: ("text", json.dumps(value))),
    st.integers(min_value=4000, max_value=200_000).map(
        lambda size: ("text", json.dumps({"action": "ping", "source": "r" * size, "target": "b"}))
    ),
    st.integers(min_value=500, max_value=4000).map(lambda depth: ("text", "[" * depth)),
    st.just(("text", '{"action": "ping", "source": "\\ud800", "target": "blue"}')),
    st.just(("text", '{"action": "probe", "source": "red", "target": "[::1%\\u0000]:80"}')),
)


def is_deploy_or_destroy(frame: Frame) -> bool:
    """Whether ``frame`` would be read as a deploy or destroy (decided without the code under
    test: the strategy must not depend on it)."""
    kind, data = frame
    try:
        found = json.loads(data) if kind == "text" else None
    except (ValueError, RecursionError):
        return False
    return isinstance(found, dict) and found.get("action") in ("deploy", "destroy")


class Lab:
    """A running lab and a worker in an event loop of the test's own (hypothesis drives a
    plain function: each example runs its coroutine in this loop)."""

    def __init__(self, design_id: int, cookie: bytes) -> None:
        self.loop = asyncio.new_event_loop()
        self.design_id = design_id
        self.cookie = cookie
        self.worker = Worker(poll_interval=0.05, probes=live_fake_probes)
        self.task = self.loop.create_task(self.worker.run())

    def run(self, coroutine: Any) -> Any:
        result = self.loop.run_until_complete(coroutine)
        assert not self.task.done(), "the worker ended"
        return result

    def page(self) -> Any:
        return communicator(self.design_id, [(b"cookie", self.cookie), (b"origin", ORIGIN)])

    def close(self) -> None:
        self.task.cancel()
        self.loop.run_until_complete(asyncio.gather(self.task, return_exceptions=True))
        self.loop.close()


@pytest.fixture
def lab(fake_engine: None, make_design: Any, owner: Any) -> Iterator[Lab]:
    live_fake_probes.reset()
    live_fake_probes.release.set()  # pings answer at once
    design = make_design("fuzzed")
    deployment = deployments.request_deploy(design, actor=owner)
    client = Client()
    client.force_login(owner)
    lab = Lab(design.pk, f"sessionid={client.cookies['sessionid'].value}".encode())
    try:

        async def running() -> None:
            for _ in range(500):
                await database_sync_to_async(deployment.refresh_from_db)()
                if deployment.state == Deployment.State.RUNNING:
                    return
                await asyncio.sleep(0.01)
            raise AssertionError(f"the deployment is {deployment.state}")

        lab.run(running())
        yield lab
    finally:
        lab.close()


async def final_answers(client: Any, wanted: int) -> list[dict[str, Any]]:
    """Receive until ``wanted`` final answers came; return them. A close or a crash of the
    application fails the test (``receive_json_from`` raises the application's exception)."""
    answers: list[dict[str, Any]] = []
    while len(answers) < wanted:
        message = await client.receive_json_from(timeout=ANSWER_TIMEOUT)
        events.EVENT.validate_python(message)  # every answer is a protocol event
        if message["type"] in FINAL:
            answers.append(message)
    return answers


async def still_answered(client: Any) -> None:
    """A valid ping gets its ``ping.done`` (retried while the quota is full of earlier ones)."""
    for _ in range(50):
        await client.send_json_to({"action": "ping", "source": "red", "target": "blue"})
        (answer,) = await final_answers(client, 1)
        if answer["type"] == "ping.done":
            return
        assert "probes running" in answer["message"], answer
        await asyncio.sleep(0.05)
    raise AssertionError("the valid ping was never answered")


@settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # one lab for every example, on purpose
        HealthCheck.too_slow,
        HealthCheck.large_base_example,
        HealthCheck.data_too_large,
    ],
)
@given(batch=st.lists(frames.filter(lambda frame: not is_deploy_or_destroy(frame)), max_size=8))
def test_every_frame_gets_one_final_answer_and_the_worker_stays_up(
    lab: Lab, batch: list[Frame]
) -> None:
    async def example() -> None:
        client = lab.page()
        connected, _ = await client.connect()
        assert connected
        try:
            for kind, data in batch:
                # As the server hands frames over, empty ones included.
                await client.send_input({"type": "websocket.receive", kind: data})
            answers = await final_answers(client, len(batch))
            refused = sum(1 for kind, data in batch if kind == "bytes" or not parses(data))
            parse_errors = [m for m in answers if m["type"] == "error" and m["action"] is None]
            assert len(parse_errors) == refused
            await still_answered(client)
            assert await client.receive_nothing(timeout=0.05)  # nothing answered twice
        finally:
            await client.disconnect()

    lab.run(example())


def parses(text: str) -> bool:
    try:
        events.parse_request(text)
    except events.BadRequest:
        return False
    return True


FLOOD = [
    {"action": "ping", "source": "red", "target": "blue", "count": 1},
    {"action": "pingall"},
    {"action": "probe", "source": "red", "target": "blue:80"},
    {"action": "ping", "source": "nowhere", "target": "blue"},
    {"action": "reboot"},
]


def test_a_flood_of_requests_is_answered_one_by_one(lab: Lab) -> None:
    """300 requests sent without waiting: 300 final answers (results, quota refusals,
    errors), then a valid ping still answered, and no exception anywhere."""

    async def flood() -> None:
        client = lab.page()
        assert (await client.connect())[0]
        sent = [FLOOD[index % len(FLOOD)] for index in range(300)]
        for request in sent:
            await client.send_json_to(request)
        answers = await final_answers(client, len(sent))
        kinds = {m["type"] for m in answers}
        assert {"ping.done", "pingall.done", "probe", "error"} <= kinds
        await still_answered(client)
        await client.disconnect()

    lab.run(flood())
