"""Probes for the lab's pages: ping, ping-all and TCP probe, with their pool and quota.

Probes arrive on the worker's channel with the asking consumer's channel; their events go
to that channel only, each as it happens. A user may have ``NETLAB_MAX_PROBES_PER_USER``
probes running at once (counted per worker); one more is answered by an ``error`` and runs
nothing. Every request gets an answer: a probe that cannot run (a namespace deleted by
hand, a zone naming no interface, a failure of netlab's own) ends in an ``error``. Probes
run in an executor of their own (``NETLAB_PROBE_THREADS`` threads), so claims,
deployments, destroys and snapshots never wait behind them; a page that goes away
(``worker.unwatch``) cancels its probes.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import importlib
import logging
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from types import ModuleType
from typing import Any

from channels.exceptions import ChannelFull
from channels.layers import BaseChannelLayer
from django.conf import settings
from django.contrib.auth import get_user_model

from editor import deployments, events
from editor.models import Deployment
from editor.permissions import DesignNotFound, access_design
from editor.worker.channel import envelope, nudge
from editor.worker.threads import in_thread
from netlab.core import targets
from netlab.core.packets import decode

logger = logging.getLogger("netlab.worker")

SEND_CHECK = 0.5  # seconds: how often a probe waiting to hand over an event checks its cancel
PROGRESS_EVERY = 0.25  # seconds: a running ping-all says how far it is at most this often
CELLS_EVERY = 0.05  # seconds: a running ping-all sends the cells measured meanwhile this often


class Probes:
    """The probes one worker runs: their executor, each user's count and each page's cancels.

    ``driver`` is the probes module (``netlab.kernel.probes`` by default, loaded when a
    probe runs); tests above the kernel pass a double with the same functions.
    """

    def __init__(
        self,
        layer: BaseChannelLayer,
        *,
        driver: ModuleType | None = None,
        name: str = "",
        site: str | None = None,
    ) -> None:
        self.layer = layer
        self.driver = driver
        self.name = name  # the worker's, for its log
        self.site = site  # the worker's site: a console's change is nudged there
        self.running: Counter[int] = Counter()  # user id: probes running
        self._cancels: dict[str, set[threading.Event]] = {}  # reply channel: its probes
        self._stops: dict[str, set[threading.Event]] = {}  # reply channel: its ping-alls
        # (reply channel, name): the stop of a capture or console line (``events.stop_name``).
        self._named: dict[tuple[str, str], threading.Event] = {}
        self._pool: ThreadPoolExecutor | None = None

    def start(self) -> None:
        """Open the probes' executor (``NETLAB_PROBE_THREADS`` threads)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=settings.NETLAB_PROBE_THREADS, thread_name_prefix="netlab-probe"
            )

    def cancel(self, channel: str) -> None:
        """Cancel the probes the page of consumer ``channel`` asked for (it went away)."""
        for cancel in self._cancels.pop(channel, ()):
            cancel.set()
        self.stop_pingall(channel)

    def stop_pingall(self, channel: str) -> None:
        """Stop the ping-alls the page of consumer ``channel`` runs (``pingall.stop``): no
        more requests leave, and each ends with a ``pingall.done`` saying ``cancelled``."""
        for stop in self._stops.pop(channel, ()):
            stop.set()

    def stop_named(self, channel: str, name: str) -> None:
        """Stop the capture or console line ``name`` of the page of consumer ``channel``
        (``capture.stop``, ``console.stop``); another page's is left alone."""
        stop = self._named.get((channel, name))
        if stop is not None:
            stop.set()

    def stop(self) -> None:
        """Cancel every probe and close the executor."""
        for events_of_page in (*self._cancels.values(), *self._stops.values()):
            for event in events_of_page:
                event.set()
        if self._pool is not None:
            # Probes still running notice their cancel within a fraction of a second.
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    async def run(self, message: dict[str, Any]) -> None:
        """Run a ping, pingall or probe request for a consumer; answer on its channel only.

        Every request gets an answer: its events, or one ``error`` saying why it could not
        run. The probe runs in the worker's probe executor and stops early once its page
        goes (``worker.unwatch``) or stops reading (its channel is full).
        """
        reply_to = str(message["reply"])
        loop = asyncio.get_running_loop()
        cancel = threading.Event()

        def send(event: events.Message) -> None:  # from probe threads
            if cancel.is_set():
                return  # the page is gone: nobody reads its channel
            sent = asyncio.run_coroutine_threadsafe(
                self.layer.send(reply_to, envelope(event)), loop
            )
            while True:
                try:
                    sent.result(timeout=SEND_CHECK)
                    return
                except FutureTimeout:  # a stopped worker's loop may never run it
                    if cancel.is_set():
                        sent.cancel()
                        return
                except ChannelFull:  # the page stopped reading: stop measuring for it
                    cancel.set()
                    return

        request = events.REQUEST.validate_python(message["request"])
        node = events.node_of(request)

        async def refuse(text: str, action: str) -> None:
            with contextlib.suppress(ChannelFull):
                event = events.ErrorEvent(message=text, action=action, node=node)
                await self.layer.send(reply_to, envelope(event))

        user = int(message["user"])
        limit = settings.NETLAB_MAX_PROBES_PER_USER
        # Checked and counted with no await in between: the loop runs one probe task at a
        # time up to here, so two requests cannot both take the last place.
        if self.running[user] >= limit:
            text = (
                f"you already have {self.running[user]} probes running, the most this "
                "server allows at once; wait for one to finish"
            )
            await refuse(text, request.action)
            return
        self.running[user] += 1
        cancels = self._cancels.setdefault(reply_to, set())
        cancels.add(cancel)
        stop = threading.Event() if isinstance(request, events.PingAllRequest) else None
        if stop is not None:
            self._stops.setdefault(reply_to, set()).add(stop)
        capture = secrets.token_hex(4) if isinstance(request, events.CaptureRequest) else None
        named = None
        if isinstance(request, events.CaptureRequest | events.ConsoleRequest):
            named = events.stop_name(request, capture or "")
            stop = self._named[reply_to, named] = threading.Event()
        try:
            await in_thread(
                run_probe,
                request,
                executor=self._pool,
                user_id=user,
                design_id=message["design"],
                send=send,
                driver=self.driver,
                cancel=cancel,
                stop=stop,
                capture=capture,
                download=bool(message.get("download")),
                nudge=lambda: asyncio.run_coroutine_threadsafe(
                    nudge(self.layer, self.site), loop
                ).result(),
            )
        except (deployments.DeploymentRefused, DesignNotFound, ValueError) as error:
            text = "no such design" if isinstance(error, DesignNotFound) else str(error)
            await refuse(text, request.action)
        except OSError as error:  # the kernel refused: a namespace deleted by hand...
            await refuse(error.strerror or str(error), request.action)
        except Exception:
            logger.exception("worker %s: a %s failed", self.name, request.action)
            await refuse(
                f"the {request.action} failed inside netlab (the worker's log says why)",
                request.action,
            )
        finally:
            self._named.pop((reply_to, named or ""), None)
            self.running[user] -= 1
            cancels.discard(cancel)
            if not cancels and self._cancels.get(reply_to) is cancels:
                del self._cancels[reply_to]
            stops = self._stops.get(reply_to)
            if stops is not None and stop is not None:
                stops.discard(stop)
                if not stops:
                    del self._stops[reply_to]


def _running_deployment(user_id: int, design_id: int) -> Deployment:
    user = get_user_model().objects.get(pk=user_id)
    design = access_design(user, design_id)
    deployment = deployments.latest(design, user)
    if deployment is None:
        raise deployments.DeploymentRefused(f"{design.name} is not deployed")
    return deployment


def run_probe(
    request: events.Request,
    *,
    user_id: int,
    design_id: int,
    send: Callable[[events.Message], None],
    driver: ModuleType | None = None,
    cancel: threading.Event | None = None,
    stop: threading.Event | None = None,
    capture: str | None = None,
    download: bool = False,
    nudge: Callable[[], None] | None = None,
) -> None:
    """Run a ping, pingall, probe or capture ``request`` of user ``user_id`` on design
    ``design_id`` (a capture's id is ``capture``; a ``download`` capture is sent every packet
    whole, up to ``NETLAB_MAX_PCAP_BYTES``, for a pcap file).

    Blocking: each event is passed to ``send`` the moment it is known. Raises
    :class:`DesignNotFound`, :class:`~editor.deployments.DeploymentRefused` (not running, no
    such node, a ping-all of more than ``NETLAB_MAX_PINGALL_CELLS`` cells), ``ValueError``
    (a bad address, zone or port) or ``OSError`` (the source namespace is gone) before
    anything is sent. Setting ``cancel`` ends a ping or ping-all early (its page is gone);
    setting ``stop`` ends a ping-all early too, and it then reports what it measured: a
    last ``pingall.progress`` and a ``pingall.done`` saying ``cancelled``. A ping-all's
    cells come in ``pingall.cells`` batches, with its progress (see
    :func:`_stream_ping_all`). ``driver`` is the probes module, ``netlab.kernel.probes`` by
    default.
    """
    # The driver is loaded only where the kernel is used.
    probes = driver or importlib.import_module("netlab.kernel.probes")

    deployment = _running_deployment(user_id, design_id)
    document = deployments.document_of(deployment)
    if isinstance(request, events.PingRequest):
        netns = deployments.namespace_of(deployment, request.source)
        address = deployments.resolve_target(document, request.target)
        source, target = request.source, request.target

        def reply(answer: Any) -> None:  # a probes.PingReply
            send(events.PingReplyEvent(source=source, target=target, **answer.as_dict()))

        result = probes.ping(netns, address, count=request.count, on_reply=reply, cancel=cancel)
        summary = result.as_dict()
        summary.pop("replies")
        summary.pop("netns")
        summary["target"] = target
        send(events.PingDoneEvent(source=source, **summary))
    elif isinstance(request, events.PingAllRequest):
        if deployment.state != Deployment.State.RUNNING:
            raise deployments.DeploymentRefused(
                f"the deployment is {deployment.state}, not running"
            )
        sources = {node: netns for node, netns in deployment.namespaces.items() if netns}
        addresses = {
            address: node.id
            for node in document.nodes
            for address in targets.node_addresses(document, node.id)
        }
        cells = sum(owner != source for source in sources for owner in addresses.values())
        most = settings.NETLAB_MAX_PINGALL_CELLS
        if cells > most:
            raise deployments.DeploymentRefused(
                f"a ping-all of this lab would ping {cells} pairs, more than this server "
                f"allows at once ({most}); ping the pairs you need one by one"
            )

        halt = stop if stop is not None else cancel
        _stream_ping_all(probes, sources, addresses, cells, send=send, halt=halt)
    elif isinstance(request, events.ProbeRequest):
        netns = deployments.namespace_of(deployment, request.source)
        host, _, port = request.target.rpartition(":")
        address = deployments.resolve_target(document, host.strip("[]"))
        found = probes.tcp_probe(netns, address, int(port))
        send(
            events.ProbeEvent(
                source=request.source,
                address=found.address,
                port=found.port,
                connected=found.connected,
                connect_ms=found.connect_ms,
                first_line=found.first_line,
                node=found.node,
                error=found.error,
            )
        )
    elif isinstance(request, events.ConsoleRequest):
        halts = [event for event in (cancel, stop) if event is not None]
        _console_line(deployment, request, send=send, halts=halts, nudge=nudge)
    elif isinstance(request, events.CaptureRequest):
        netns = deployments.namespace_of(deployment, request.node)
        if request.interface not in targets.interfaces_of(document, request.node):
            raise ValueError(f"{request.node} has no interface {request.interface!r}")
        seconds = min(request.seconds, settings.NETLAB_MAX_CAPTURE_SECONDS)
        halts = [event for event in (cancel, stop) if event is not None]
        _stream_capture(
            probes, netns, request, capture or "", seconds, send=send, halts=halts, whole=download
        )
    else:
        raise ValueError(f"{request.action} is not a probe")


def _stream_ping_all(
    probes: ModuleType,
    sources: dict[str, str],
    addresses: dict[str, str],
    cells: int,
    *,
    send: Callable[[events.Message], None],
    halt: threading.Event | None,
) -> None:
    """Run a ping-all of ``cells`` cells and stream it: a ``pingall.progress`` first, the
    cells measured in ``pingall.cells`` messages every :data:`CELLS_EVERY` seconds (a
    flusher thread sends them, so cells that came together travel together: a campus is
    thousands of cells, and a message each flooded the page), a ``pingall.progress`` at
    most every :data:`PROGRESS_EVERY` seconds and after the last cell, then ``pingall.done``.
    """
    measured: list[events.PingAllCellEvent] = []
    lock = threading.Lock()
    tally = {"done": 0, "reachable": 0}
    said = time.monotonic()

    def cell(found: Any) -> None:  # a probes.PingCell, from the probe's threads
        with lock:
            measured.append(events.PingAllCellEvent(**found.as_dict()))

    def flush(*, last: bool = False) -> None:
        nonlocal said
        with lock:
            batch = measured[:]
            measured.clear()
        for start in range(0, len(batch), events.MAX_CELLS_PER_MESSAGE):
            send(
                events.PingAllCellsEvent(cells=batch[start : start + events.MAX_CELLS_PER_MESSAGE])
            )
        tally["done"] += len(batch)
        tally["reachable"] += sum(found.reachable for found in batch)
        if last or (batch and time.monotonic() - said >= PROGRESS_EVERY):
            said = time.monotonic()
            send(events.PingAllProgressEvent(total=cells, **tally))

    finished = threading.Event()

    def flusher() -> None:
        while not finished.wait(CELLS_EVERY):
            flush()

    send(events.PingAllProgressEvent(total=cells, **tally))
    thread = threading.Thread(target=flusher, name="netlab-pingall-cells", daemon=True)
    thread.start()
    try:
        matrix = probes.ping_all(sources, addresses, on_cell=cell, cancel=halt).as_dict()
    finally:
        finished.set()
        thread.join()
    flush(last=True)
    send(
        events.PingAllDoneEvent(
            total=matrix["total"],
            reachable=matrix["reachable"],
            cancelled=halt is not None and halt.is_set() and matrix["total"] < cells,
        )
    )


def _stream_capture(
    probes: ModuleType,
    netns: str,
    request: events.CaptureRequest,
    capture: str,
    seconds: float,
    *,
    send: Callable[[events.Message], None],
    halts: list[threading.Event],
    whole: bool = False,
) -> None:
    """Capture for ``seconds`` or until a halt is set: ``capture.started``, a ``packet`` per
    packet up to ``NETLAB_CAPTURE_PACKETS_PER_SECOND`` a second (the others counted), then
    ``capture.done``. Raises ``ValueError`` (probes.CaptureError) before anything is sent
    for a filter libpcap refuses or an interface that is not there. A ``whole`` capture (a
    pcap download) is sent every packet and all its bytes, until ``NETLAB_MAX_PCAP_BYTES``."""
    rate = settings.NETLAB_CAPTURE_PACKETS_PER_SECOND
    budget = settings.NETLAB_MAX_PCAP_BYTES
    seen = not_shown = 0
    second, sent_this_second = 0, 0
    with probes.Capture(netns, request.interface, bpf=request.filter) as live:
        send(events.CaptureStartedEvent(capture=capture, node=request.node,
                                        interface=request.interface, seconds=seconds))  # fmt: skip
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not any(halt.is_set() for halt in halts):
            packet = live.read(min(0.2, max(deadline - time.monotonic(), 0.0)))
            if packet is None:
                continue
            seen += 1
            if whole:
                budget -= len(packet.data) + 16
                if budget < 0:
                    break
            now = int(time.monotonic())
            if now != second:
                second, sent_this_second = now, 0
            if sent_this_second >= rate and not whole:
                not_shown += 1
                continue
            sent_this_second += 1
            decoded = decode(packet.data)
            send(events.PacketEvent(
                capture=capture, time=packet.time, length=packet.length,
                interface=packet.interface, direction=packet.direction,
                protocol=decoded.protocol, summary=decoded.summary, layers=decoded.layers,
                data=base64.b64encode(
                    packet.data if whole else packet.data[: events.PACKET_DATA_BYTES]
                ).decode(),
            ))  # fmt: skip
    send(events.CaptureDoneEvent(capture=capture, packets=seen, not_shown=not_shown))


def _console_line(
    deployment: Deployment,
    request: events.ConsoleRequest,
    *,
    send: Callable[[events.Message], None],
    halts: list[threading.Event],
    nudge: Callable[[], None] | None,
) -> None:
    """Run a console line (``editor.console``): its output as ``console.output`` messages as
    it comes, then ``console.done``; an edit is left for the worker to apply, which shows it
    like any change. A refused line raises ``ValueError`` (an ``error`` to the page)."""
    from editor import console  # the console module reads the services: loaded when used

    node = request.node

    def out(text: str) -> None:
        send(events.ConsoleOutputEvent(node=node, output=text))

    try:
        outcome = console.run_line(
            deployment.design, node, request.line, user=deployment.owner, out=out,
            stop=lambda: any(halt.is_set() for halt in halts), apply_here=False,
        )  # fmt: skip
    except console.ConsoleRefused as error:
        raise ValueError(str(error)) from None
    if outcome.revision is not None and nudge is not None:
        nudge()  # the worker claims the change and applies it, as for a page's apply
    send(events.ConsoleDoneEvent(node=node, exit_code=outcome.exit_code, edit=outcome.revision))
