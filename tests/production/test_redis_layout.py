"""The production layout on the real kernel: Redis as the channel layer, daphne as an
unprivileged process, ``manage.py netlab worker`` as the only privileged one, each a process
of its own, and a websocket client with a bearer token deploying the tutorial's bridge
example, pinging across it and destroying it.

Root only, and skipped without ``redis-server``. The layout lives in a temporary directory
with its own Redis (no persistence), database, journal and namespace prefix (``nlr`` and
five random letters); teardown stops every process it started, by PID, and removes what the
kernel holds of that prefix, pass or fail. Packets only travel between the namespaces the
deployment created.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from layoutkit import (
    WEB_USER,
    Client,
    Layout,
    missing_requirements,
    unique_prefix,
    web_user_problem,
)

from editor.events import EVENT

EXAMPLE = Path(__file__).resolve().parents[2] / "netlab" / "examples" / "2-bridge.yaml"

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.skipif(missing_requirements() is not None, reason=str(missing_requirements())),
]


@pytest.fixture
def layout() -> Iterator[Layout]:
    """Redis, a migrated database, daphne and the worker, all running; stopped at the end.

    Daphne runs as the web user whenever this machine's virtualenv allows it (see
    ``web_user_problem``); otherwise as root, with a warning saying why.
    """
    problem = web_user_problem()
    if problem is not None:
        warnings.warn(problem, stacklevel=1)
    with Layout(unique_prefix("nlr"), unprivileged_web=problem is None) as started:
        started.start()
        started.start_daphne()
        started.start_worker()
        yield started


def is_state(*states: str) -> Any:
    return lambda message: message["type"] == "deployment" and message["state"] in states


async def test_deploy_ping_destroy_through_redis(layout: Layout) -> None:
    import pwd

    from netlab.kernel import namespaces

    web_uid = pwd.getpwnam(WEB_USER).pw_uid if layout.unprivileged_web else 0
    assert layout.uid_of("daphne") == web_uid
    assert layout.uid_of("worker") == 0
    token = layout.create_admin_token()
    design_id = layout.import_design(EXAMPLE)

    async with Client(layout.websocket_url(design_id), token) as client:
        assert (await client.receive())["state"] == "not deployed"

        await client.send({"action": "deploy"})
        seen = await client.receive_until(is_state("running", "failed"), timeout=30)
        for message in seen:
            EVENT.validate_python(message)
        running = seen[-1]
        assert running["state"] == "running", running["error"] + layout.log("worker")
        # In bursts: each step once ended, in order ("started" only for one still running
        # when its burst was written).
        steps = [step for m in seen if m["type"] == "steps" for step in m["steps"]]
        total = steps[0]["total"]
        ended = [(m["index"], m["outcome"]) for m in steps if m["outcome"] != "started"]
        assert ended == [(index, "done") for index in range(1, total + 1)]
        assert all(netns.startswith(layout.prefix) for netns in running["namespaces"].values())

        await client.send({"action": "ping", "source": "red", "target": "blue", "count": 3})
        seen = await client.receive_until(lambda m: m["type"] == "ping.done", timeout=15)
        replies = [m for m in seen if m["type"] == "ping.reply"]
        assert [m["seq"] for m in replies] == [1, 2, 3]
        # A reply lost to a loaded CI machine still streams (as a timeout); most must arrive.
        answered = [m for m in replies if m["error"] is None]
        assert len(answered) >= 2, replies
        assert all(m["from_address"] == "192.168.15.2" for m in answered)
        assert (seen[-1]["sent"], seen[-1]["received"]) == (3, len(answered))

        await client.send({"action": "destroy"})
        seen = await client.receive_until(is_state("stopped", "failed"), timeout=30)
        assert seen[-1]["state"] == "stopped", seen[-1]["error"]

    assert [name for name in namespaces.list_names() if name.startswith(layout.prefix)] == []
    for name in ("daphne", "worker"):
        assert "Traceback" not in layout.log(name), layout.log(name)
