"""Every probe request gets an answer on the real kernel, even one that cannot run: a zone
naming no interface, a source whose namespace was deleted by hand. The worker stays up and
answers the next request.

Root only. The lab is the tutorial's bridge example under the test's own namespace prefix
(the ``kernel_lab`` fixture removes all of it, pass or fail); the only namespace deleted by
hand is one this test deployed. Packets only travel between this test's namespaces.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
from livekit import receive_until

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(os.geteuid() != 0, reason="kernel tests need root"),
]


def answered(action: str) -> Any:
    """Whether a message ends a request of ``action``: its last event, or an error."""
    last = {"ping": "ping.done", "pingall": "pingall.done", "probe": "probe"}[action]
    return lambda m: m["type"] == last or (m["type"] == "error" and m["action"] == action)


async def test_probes_that_cannot_run_are_answered_with_an_error(
    kernel_lab: str, bridge_design: Any, worker: Any, browser: Any
) -> None:
    from netlab.kernel import namespaces

    client = browser(bridge_design.pk)
    assert (await client.connect())[0]
    await receive_until(client, lambda m: m["type"] == "deployment")
    await client.send_json_to({"action": "deploy"})
    seen = await receive_until(
        client,
        lambda m: m["type"] == "deployment" and m["state"] in ("running", "failed"),
        timeout=30,
    )
    assert seen[-1]["state"] == "running", seen[-1]["error"]
    red = seen[-1]["namespaces"]["red"]
    assert red.startswith(kernel_lab)

    # A zone naming no interface of red's namespace: for a ping and for a TCP probe.
    for request in (
        {"action": "ping", "source": "red", "target": "fe80::1%nosuchif", "count": 1},
        {"action": "probe", "source": "red", "target": "[fe80::1%nosuchif]:80"},
    ):
        await client.send_json_to(request)
        seen = await receive_until(client, answered(request["action"]), timeout=10)
        assert seen[-1]["type"] == "error", seen[-1]
        assert "no interface 'nosuchif'" in seen[-1]["message"]

    # red's namespace deleted by hand, behind netlab's back.
    await asyncio.to_thread(namespaces.remove, red)
    for request in (
        {"action": "ping", "source": "red", "target": "blue", "count": 1},
        {"action": "probe", "source": "red", "target": "blue:80"},
    ):
        await client.send_json_to(request)
        seen = await receive_until(client, answered(request["action"]), timeout=10)
        assert seen[-1]["type"] == "error", seen[-1]
        assert f"namespace {red} does not exist" in seen[-1]["message"]
    # A ping-all still measures what it can: red's cells carry the reason.
    await client.send_json_to({"action": "pingall"})
    seen = await receive_until(client, answered("pingall"), timeout=20)
    assert seen[-1]["type"] == "pingall.done"
    cells = [cell for m in seen if m["type"] == "pingall.cells" for cell in m["cells"]]
    from_red = [cell for cell in cells if cell["source"] == "red"]
    assert from_red
    assert all("does not exist" in cell["error"] for cell in from_red)

    # The worker is still up: a probe that can run gets its answer.
    await client.send_json_to({"action": "ping", "source": "blue", "target": "v-net-0", "count": 1})
    seen = await receive_until(client, answered("ping"), timeout=10)
    assert seen[-1]["type"] == "ping.done"

    await client.send_json_to({"action": "destroy"})
    seen = await receive_until(
        client,
        lambda m: m["type"] == "deployment" and m["state"] in ("stopped", "failed"),
        timeout=30,
    )
    assert seen[-1]["state"] == "stopped", seen[-1]["error"]
    assert [name for name in namespaces.list_names() if name.startswith(kernel_lab)] == []
    await client.disconnect()
