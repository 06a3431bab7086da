"""Captures from a page, with the probes double (``live_fake_probes``: a flood of ARP
requests): started, packets in tcpdump's words, done; only to the asking page; stopped by
``capture.stop`` and by the page going; capped per second (the rest counted), counted
against the user's probes, and refused for an interface the node does not have or a filter
libpcap refuses."""

from __future__ import annotations

import asyncio
from typing import Any

import live_fake_probes
import pytest
from livekit import receive_until
from test_pingall_progress import open_page, probing_worker  # noqa: F401 - a fixture
from test_probe_pool import deployed

from editor.events import EVENT

pytestmark = pytest.mark.django_db(transaction=True)


def capture(seconds: float = 0.5, **fields: Any) -> dict[str, Any]:
    return {"action": "capture", "node": "red", "interface": "veth-red", "seconds": seconds,
            **fields}  # fmt: skip


def ended(message: dict[str, Any]) -> bool:
    return message["type"] in ("capture.done", "error")


@pytest.mark.usefixtures("probing_worker")
async def test_a_capture_streams_its_packets_to_the_asking_page_only(
    make_design: Any,
    owner: Any,
    browser: Any,
) -> None:
    running = await deployed(make_design, owner, "capture")
    asking = await open_page(browser, running.design_id)
    other = await open_page(browser, running.design_id)
    await asking.send_json_to(capture())
    seen = await receive_until(asking, ended)
    for message in seen:
        EVENT.validate_python(message)
    started = next(m for m in seen if m["type"] == "capture.started")
    packets = [m for m in seen if m["type"] == "packet"]
    done = seen[-1]
    assert done["type"] == "capture.done"
    assert done["capture"] == started["capture"]
    assert packets
    assert packets[0]["summary"] == "ARP, Request who-has 192.168.15.2 tell 192.168.15.1"
    assert packets[0]["protocol"] == "arp"
    assert done["packets"] == len(packets) + done["not_shown"]
    heard = []
    while not await other.receive_nothing(timeout=0.2):
        heard.append((await other.receive_json_from())["type"])
    assert not [kind for kind in heard if kind == "packet" or kind.startswith("capture.")], heard
    assert live_fake_probes.open_captures == 0


@pytest.mark.usefixtures("probing_worker")
async def test_a_capture_stops_when_asked_or_when_its_page_goes(
    make_design: Any,
    owner: Any,
    browser: Any,
) -> None:
    running = await deployed(make_design, owner, "stopping")
    page = await open_page(browser, running.design_id)
    await page.send_json_to(capture(seconds=60))
    (started,) = [
        m
        for m in await receive_until(page, lambda m: m["type"] == "capture.started")
        if m["type"] == "capture.started"
    ]
    await page.send_json_to({"action": "capture.stop", "capture": started["capture"]})
    assert (await receive_until(page, ended, timeout=3))[-1]["type"] == "capture.done"

    await page.send_json_to(capture(seconds=60))
    await receive_until(page, lambda m: m["type"] == "capture.started")
    await page.disconnect()
    for _ in range(300):
        if live_fake_probes.open_captures == 0:
            break
        await asyncio.sleep(0.01)
    assert live_fake_probes.open_captures == 0


@pytest.mark.usefixtures("probing_worker")
async def test_a_page_gets_at_most_the_rate_and_hears_of_the_rest(
    make_design: Any,
    owner: Any,
    browser: Any,
    settings: Any,
) -> None:
    settings.NETLAB_CAPTURE_PACKETS_PER_SECOND = 5
    running = await deployed(make_design, owner, "rate")
    page = await open_page(browser, running.design_id)
    await page.send_json_to(capture(seconds=0.5))
    seen = await receive_until(page, ended)
    packets = [m for m in seen if m["type"] == "packet"]
    assert 1 <= len(packets) <= 10  # at most 5 in each second the half second touched
    assert seen[-1]["not_shown"] > 0


@pytest.mark.usefixtures("probing_worker")
async def test_captures_are_refused_past_the_quota_and_for_bad_requests(
    make_design: Any,
    owner: Any,
    browser: Any,
    settings: Any,
) -> None:
    settings.NETLAB_MAX_PROBES_PER_USER = 1
    running = await deployed(make_design, owner, "quota")
    page = await open_page(browser, running.design_id)
    await page.send_json_to(capture(seconds=60))
    await receive_until(page, lambda m: m["type"] == "capture.started")
    await page.send_json_to(capture())
    refused = await receive_until(page, lambda m: m["type"] == "error")
    assert "probes running" in refused[-1]["message"]
    await page.disconnect()

    settings.NETLAB_MAX_PROBES_PER_USER = 4
    page = await open_page(browser, running.design_id)
    for request, words in (
        (capture(interface="eth9"), "has no interface 'eth9'"),
        (capture(filter="refused"), "not a capture filter"),
        (capture(node="nobody"), "no node 'nobody'"),
    ):
        await page.send_json_to(request)
        error = (await receive_until(page, lambda m: m["type"] == "error"))[-1]
        assert words in error["message"], error
        assert (error["action"], error["node"]) == ("capture", request["node"])
    await page.disconnect()
