"""Live changes over the websocket, with the in-memory engine: a dry run answers the plan to
the asking page, an apply moves the lab through ``applying`` back to ``running`` on the new
revision with its steps, a failed one leaves the lab on its old revision with the error, and
a change left half done by a dead worker is put back."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from factories import route
from livekit import receive_until, steps_in
from test_live_consumer import opened
from test_live_worker import dead_worker  # noqa: F401 - a fixture

from editor import deployments, services
from editor.events import EVENT
from editor.models import Deployment

pytestmark = pytest.mark.django_db(transaction=True)


def running_on(revision: int) -> Any:
    return lambda message: (
        message["type"] == "deployment"
        and message["state"] == "running"
        and message["revision"] == revision
    )


@pytest.fixture
def design(make_design: Any) -> Any:
    return make_design("changing")


def save_with_route(design: Any, **document: Any) -> None:
    data = {**design.current.document, **document}
    red = next(node for node in data["nodes"] if node["id"] == "red")
    red["routes"] = [route("10.9.0.0/16", via="192.168.15.2")]
    services.save_revision(design, author=design.owner, data=data)


async def deployed(design: Any, browser: Any) -> Any:
    client = browser(design.pk)
    await opened(client)
    await client.send_json_to({"action": "deploy"})
    await receive_until(client, running_on(1))
    return client


async def test_a_dry_run_answers_the_plan_and_an_apply_runs_it(
    design: Any, browser: Any, fake_engine: None, worker: Any
) -> None:
    client = await deployed(design, browser)
    await database_sync_to_async(save_with_route)(design)

    await client.send_json_to({"action": "apply", "dry_run": True})
    (plan,) = await receive_until(client, lambda message: message["type"] == "plan")
    EVENT.validate_python(plan)
    assert plan["revision"] == 2
    (step,) = plan["steps"]
    assert step["description"] == "route 10.9.0.0/16 via 192.168.15.2 in red"
    assert step["shell"][0].endswith("route add 10.9.0.0/16 via 192.168.15.2 dev veth-red")

    await client.send_json_to({"action": "apply"})
    seen = await receive_until(client, running_on(2))
    for message in seen:
        EVENT.validate_python(message)
    states = [(m["state"], m["applying_revision"]) for m in seen if m["type"] == "deployment"]
    assert ("applying", 2) in states
    assert [(step["action"], step["outcome"]) for step in steps_in(seen)][-1] == ("apply", "done")
    assert seen[-1]["error"] == ""
    await client.disconnect()

    again = browser(design.pk)
    first = await opened(again)
    assert (first["state"], first["revision"]) == ("running", 2)
    await again.disconnect()


async def test_a_failed_change_leaves_the_lab_on_its_old_revision(
    design: Any, browser: Any, fake_engine: None, worker: Any
) -> None:
    client = await deployed(design, browser)
    await database_sync_to_async(save_with_route)(design, title="fail")  # the fake fails it
    await client.send_json_to({"action": "apply"})
    seen = await receive_until(
        client, lambda m: m["type"] == "deployment" and m["state"] == "running" and m["error"]
    )
    assert seen[-1]["revision"] == 1
    assert "injected failure" in seen[-1]["error"]
    assert "runs revision 1 as before" in seen[-1]["error"]
    assert steps_in(seen)[-1]["outcome"] == "failed"
    await client.disconnect()


async def test_apply_is_refused_without_a_running_lab(design: Any, browser: Any) -> None:
    client = browser(design.pk)
    await opened(client)
    for request in ({"action": "apply"}, {"action": "apply", "dry_run": True}):
        await client.send_json_to(request)
        (refused,) = await receive_until(client, lambda message: message["type"] == "error")
        assert refused["action"] == "apply"
        assert "only a running lab takes changes" in refused["message"]
    await client.disconnect()


def test_a_change_left_by_a_dead_worker_is_put_back(
    design: Any,
    owner: Any,
    fake_engine: None,
    dead_worker: str,  # noqa: F811
) -> None:
    deployment = deployments.request_deploy(design, actor=owner)
    deployments.run_claimed(deployment, deployments.claim(deployment, worker="w") or "")
    save_with_route(design)
    design.refresh_from_db()
    deployments.request_apply(design, actor=owner)
    Deployment.objects.filter(pk=deployment.pk).update(worker=dead_worker)
    (recovered,) = deployments.recover_abandoned(worker="me")
    assert recovered.state == "running"
    assert recovered.revision.number == 1
    assert recovered.applying_revision is None
    assert "runs revision 1 again" in recovered.error
