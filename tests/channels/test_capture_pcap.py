"""A capture downloaded as pcap over HTTP (``/designs/<id>/capture.pcap``), run by the
worker like a page's, with the capture double: a pcap dpkt reads, every packet whole (no
per-second cap), and the same refusals as a page's."""

from __future__ import annotations

import io
from typing import Any

import dpkt
import pytest
from asgiref.testing import ApplicationCommunicator
from test_pingall_progress import probing_worker  # noqa: F401 - a fixture
from test_probe_pool import deployed

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("probing_worker")]


async def download(cookie: bytes, design_id: int, query: str) -> dict[str, Any]:
    """GET the pcap through the ASGI application; answers status, headers and the whole body
    (a streamed response comes in chunks)."""
    from netlab.asgi import application

    communicator = ApplicationCommunicator(application, {
        "type": "http", "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": f"/designs/{design_id}/capture.pcap", "query_string": query.encode(),
        "headers": [(b"cookie", cookie), (b"host", b"127.0.0.1:8000")],
        "client": ("127.0.0.1", 12345), "server": ("127.0.0.1", 8000),
    })  # fmt: skip
    await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
    start = await communicator.receive_output(timeout=20)
    body = b""
    while True:
        chunk = await communicator.receive_output(timeout=20)
        body += chunk.get("body", b"")
        if not chunk.get("more_body"):
            break
    return {"status": start["status"], "headers": start["headers"], "body": body}


async def test_a_pcap_download_holds_every_packet(
    make_design: Any, owner: Any, session_cookie: bytes, settings: Any
) -> None:
    settings.NETLAB_CAPTURE_PACKETS_PER_SECOND = 5  # a page's cap: not a download's
    running = await deployed(make_design, owner, "pcap")
    response = await download(
        session_cookie, running.design_id, "node=red&interface=veth-red&seconds=0.4"
    )
    assert response["status"] == 200
    headers = dict(response["headers"])
    assert headers[b"Content-Type"] == b"application/vnd.tcpdump.pcap"
    assert b'filename="red-veth-red.pcap"' in headers[b"Content-Disposition"]
    frames = list(dpkt.pcap.Reader(io.BytesIO(response["body"])))
    assert len(frames) > 5  # more than a page's cap for the time it ran
    arp = dpkt.ethernet.Ethernet(frames[0][1]).data
    assert isinstance(arp, dpkt.arp.ARP)


async def test_a_pcap_download_is_refused_like_a_page_capture(
    make_design: Any, owner: Any, stranger: Any, session_cookie: bytes
) -> None:
    running = await deployed(make_design, owner, "refused")
    response = await download(session_cookie, running.design_id, "node=red&interface=eth9")
    assert response["status"] == 409
    assert b"has no interface 'eth9'" in response["body"]
    response = await download(
        session_cookie, running.design_id, "node=red&interface=veth-red&seconds=x"
    )
    assert response["status"] == 400
    from channels.db import database_sync_to_async

    theirs = await database_sync_to_async(make_design)("theirs", owner=stranger)
    response = await download(session_cookie, theirs.pk, "node=red&interface=veth-red")
    assert response["status"] == 404
