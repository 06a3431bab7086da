"""A capture as a pcap download: ``GET /designs/<id>/capture.pcap?node=&interface=&seconds=
&filter=``, streamed as the packets pass.

The capture runs where every capture runs, in the worker (it may enter the lab's
namespaces; the web process may not): this view asks it on a channel of its own, as a page
does over its websocket, and writes each ``packet`` it gets back as a pcap record. The
worker sends such a capture every packet (no per-second cap) up to
``NETLAB_MAX_PCAP_BYTES``; the user's probe quota and the longest capture apply as for a
page, and a download that is cancelled stops its capture.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import struct
from collections.abc import AsyncIterator
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from pydantic import ValidationError

from editor import events
from editor.permissions import DesignNotFound, access_design
from editor.worker.channel import event_of, lab_channel

PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262_144, 1)  # Ethernet
START_TIMEOUT = 15.0  # seconds for the worker to start the capture (or say why not)


@login_required
async def capture_pcap(
    request: HttpRequest, design_id: int
) -> HttpResponse | StreamingHttpResponse:
    user = await request.auser()
    query = request.GET
    try:
        wanted = events.CaptureRequest(
            action="capture",
            node=query.get("node", ""),
            interface=query.get("interface", ""),
            filter=query.get("filter") or None,
            seconds=float(query.get("seconds", "10")),
        )
        await database_sync_to_async(access_design)(user, design_id)
    except (ValidationError, ValueError) as error:
        return HttpResponse(f"not a capture: {error}", status=400, content_type="text/plain")
    except DesignNotFound:
        return HttpResponse("no such design", status=404, content_type="text/plain")
    layer = get_channel_layer()
    assert layer is not None
    reply = await layer.new_channel()
    worker = await database_sync_to_async(lab_channel)(design_id, user.pk)
    await layer.send(worker, {
        "type": "worker.probe", "user": user.pk, "design": design_id, "reply": reply,
        "request": wanted.as_message(), "download": True,
    })  # fmt: skip
    try:
        async with asyncio.timeout(START_TIMEOUT):
            first = event_of(await layer.receive(reply))
    except TimeoutError:
        return HttpResponse("the worker did not answer", status=503, content_type="text/plain")
    if first["type"] != "capture.started":
        return HttpResponse(
            first.get("message", "no capture"), status=409, content_type="text/plain"
        )
    name = f"{wanted.node}-{wanted.interface}.pcap"
    response = StreamingHttpResponse(
        _records(layer, worker, reply, first["capture"], wanted.seconds),
        content_type="application/vnd.tcpdump.pcap",
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


async def _records(
    layer: Any, worker: str, reply: str, capture: str, seconds: float
) -> AsyncIterator[bytes]:
    yield PCAP_HEADER
    finished = False
    try:
        async with asyncio.timeout(min(seconds, settings.NETLAB_MAX_CAPTURE_SECONDS) + 15):
            while True:
                event = event_of(await layer.receive(reply))
                if event["type"] == "packet":
                    frame = base64.b64decode(event["data"])
                    moment = event["time"]
                    whole = int(moment)
                    yield (
                        struct.pack(
                            "<IIII", whole, int((moment - whole) * 1e6), len(frame), event["length"]
                        )
                        + frame
                    )
                elif event["type"] in ("capture.done", "error"):
                    finished = True
                    return
    finally:
        if not finished:  # the download was cancelled (or timed out): stop the capture
            with contextlib.suppress(Exception):
                stopping = {"type": "worker.probe.stop", "channel": reply, "probe": capture}
                await layer.send(worker, stopping)
