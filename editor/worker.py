"""The worker: runs deployments, probes and neighbour monitors, and publishes their events.

It is the only part of netlab that touches the kernel on behalf of the web UI. It runs in
the server's process (``manage.py netlab serve``, in-memory channel layer) or on its own
(``manage.py netlab worker``, Redis as the channel layer); the code is the same.

- Deployments are rows (``editor.deployments``): consumers only *request* them and nudge
  the worker on :data:`WORKER_CHANNEL`. The worker claims queued work atomically, runs it
  in a thread and publishes each ``step`` and ``deployment`` event to the design's group.
  It also scans the database every ``poll_interval`` seconds, so a lost nudge (or one sent
  while no worker ran) only delays work. Each scan first recovers the work of this host's
  workers that died holding it (``deployments.recover_abandoned``): a half-built lab is
  rolled back and fails, an interrupted destroy runs again.
- Every namespace of a running deployment has a monitor (netlink events, no polling) of
  its links, addresses, routes and neighbours; changes publish the namespace's whole
  ``links``, ``routes`` or ``neighbours`` table at once, then coalesced (at most one of
  each per :data:`COALESCE` seconds). The neighbour table is kept in memory from the
  events (:class:`NeighbourTable`), so its changes need no kernel dump. A restarted
  worker restarts the monitors of every running deployment.
- Open pages tell the worker they watch a design (``worker.watch`` and ``worker.unwatch``
  with the consumer's channel); while a design has one, its running deployment's interface
  counters are read about once a second and published when they changed. A restarted
  worker asks the running deployments' pages to say so again (``lab.rewatch``). Viewers
  are counted by the worker that receives the messages: one worker per channel layer.
- Probes (ping, pingall, probe) arrive on :data:`WORKER_CHANNEL` with the asking
  consumer's channel; their events go to that channel only, each as it happens. A user
  may have ``NETLAB_MAX_PROBES_PER_USER`` probes running at once (counted per worker);
  one more is answered by an ``error`` and runs nothing.

Blocking work (the engine, the database, probes, netlink dumps) runs in threads; events
produced there are handed back to the loop with ``run_coroutine_threadsafe``, whose
``result()`` keeps them in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import Any, TypeVar

from channels.exceptions import ChannelFull
from channels.layers import BaseChannelLayer, get_channel_layer
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import close_old_connections

from editor import deployments, events
from editor.models import Deployment, DeploymentStep
from editor.permissions import DesignNotFound, access_design

logger = logging.getLogger("netlab.worker")

WORKER_CHANNEL = "netlab.worker"
COALESCE = 0.075  # seconds: a namespace publishes each table at most this often
# The tables a change of each kind of netlink event may alter. IPv4 routes through a link
# that goes down vanish without a route event, and its neighbours are flushed.
TABLES = ("links", "routes", "neighbours")
TABLES_OF = {
    "link": ("links", "routes", "neighbours"),
    "address": ("links", "routes"),
    "route": ("routes",),
    "neighbour": ("neighbours",),
}
T = TypeVar("T")


class NeighbourTable:
    """A namespace's shown neighbour table, kept from the monitor's events.

    It starts from a snapshot and applies each neighbour event (``new`` adds or replaces the
    entry of its interface and address, ``del`` removes it), so a change is published without
    a kernel dump. A snapshot read while events keep coming (a thread dumps, the loop applies
    events) is reconciled by replaying, on top of it, the events applied since it began.
    """

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], Any] = {}
        self._log: list[tuple[str, Any]] = []  # events applied while a snapshot is read
        self._reading = 0

    @staticmethod
    def _key(neighbour: Any) -> tuple[str, str]:
        return (neighbour.interface, neighbour.address)

    def _set(self, action: str, neighbour: Any) -> bool:
        key = self._key(neighbour)
        if action == "new":
            changed = self.entries.get(key) != neighbour
            self.entries[key] = neighbour
            return changed
        return self.entries.pop(key, None) is not None

    def apply(self, action: str, neighbour: Any) -> bool:
        """Apply one event; return whether the table changed."""
        if self._reading:
            self._log.append((action, neighbour))
        return self._set(action, neighbour)

    def begin(self) -> int:
        """Mark the start of a snapshot's read; pass the result to ``reset``."""
        self._reading += 1
        return len(self._log)

    def reset(self, neighbours: Any, mark: int) -> None:
        """Replace the table by a snapshot's (begun at ``mark``), then replay later events."""
        self.entries = {self._key(neighbour): neighbour for neighbour in neighbours}
        for action, neighbour in self._log[mark:]:
            self._set(action, neighbour)
        self.end()

    def end(self) -> None:
        """A snapshot's read is over (``reset`` calls it; call it alone if the read failed)."""
        self._reading -= 1
        if not self._reading:
            self._log.clear()

    def rows(self) -> tuple[Any, ...]:
        return tuple(self.entries.values())


def group_name(design_id: int) -> str:
    """The channel layer group of a design's open lab pages."""
    return f"design-{design_id}"


def envelope(event: events.Message) -> dict[str, Any]:
    """Wrap ``event`` for the channel layer; consumers forward it in ``lab_event``."""
    return {"type": "lab.event", "event": event.as_message()}


async def publish(layer: BaseChannelLayer, design_id: int, event: events.Message) -> None:
    """Send ``event`` to every open page of design ``design_id``."""
    await layer.group_send(group_name(design_id), envelope(event))


async def nudge(layer: BaseChannelLayer) -> None:
    """Tell a worker there is queued work. Best effort: the worker also polls."""
    with contextlib.suppress(ChannelFull):
        await layer.send(WORKER_CHANNEL, {"type": "worker.nudge"})


async def _in_thread(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking ``function`` in a thread, then release that thread's database connection."""

    def run() -> T:
        try:
            return function(*args, **kwargs)
        finally:
            close_old_connections()

    return await asyncio.to_thread(run)


class Worker:
    """One worker: ``await Worker().run()`` until cancelled (or ``stop()``).

    ``name`` is the claim mark written on the deployments it takes (``host:pid:start`` by
    default, see ``deployments.worker_id``). ``probes`` and ``observer`` are the modules
    that run probes and read namespaces (``netlab.kernel.probes`` and ``observe`` by
    default); tests above the kernel may pass doubles with the same functions.
    ``counter_interval`` is the period of the counters' polling, in seconds.
    """

    def __init__(
        self,
        layer: BaseChannelLayer | None = None,
        *,
        name: str | None = None,
        poll_interval: float = 2.0,
        probes: ModuleType | None = None,
        observer: ModuleType | None = None,
        counter_interval: float = 1.0,
    ) -> None:
        self.layer = layer or get_channel_layer()
        self.probes = probes
        self._observer = observer
        self.counter_interval = counter_interval
        self._running: dict[int, Deployment] = {}  # deployment id: the running deployment
        self._viewers: dict[int, set[str]] = {}  # design id: channels of its open pages
        self._counters: dict[str, dict[str, dict[str, int]]] = {}  # netns: last published
        self._probes_running: Counter[int] = Counter()  # user id: probes running
        self.name = name or deployments.worker_id()
        self.poll_interval = poll_interval
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._monitors: dict[int, list[asyncio.Task[None]]] = {}  # deployment id: tasks
        self._neighbours: dict[str, NeighbourTable] = {}  # netns: kept from its events
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- running ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Restart the monitors of running deployments, then serve until cancelled."""
        self._loop = asyncio.get_running_loop()
        running = await _in_thread(
            lambda: list(Deployment.objects.filter(state=Deployment.State.RUNNING))
        )
        for deployment in running:
            self._start_monitors(deployment)
        receiver = asyncio.create_task(self._receive(), name="netlab-worker-receive")
        counting = asyncio.create_task(self._poll_counters(), name="netlab-worker-counters")
        with contextlib.suppress(Exception):  # best effort: pages also say so when they open
            await self._rewatch()
        try:
            while True:
                try:
                    await self._claim_and_run()
                except Exception:  # a busy database must not end the worker: poll again
                    logger.exception("worker %s: scanning for work failed", self.name)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_interval)
                self._wake.clear()
        finally:
            receiver.cancel()
            counting.cancel()
            await self.stop()

    async def stop(self) -> None:
        """Stop every monitor and running task (deployments in progress are left claimed)."""
        tasks = list(self._tasks) + [task for group in self._monitors.values() for task in group]
        self._monitors.clear()
        self._running.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _spawn(self, work: Awaitable[Any], name: str) -> None:
        task = asyncio.ensure_future(work)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("worker task %s failed", task.get_name(), exc_info=task.exception())

    async def _receive(self) -> None:
        while True:
            message = await self.layer.receive(WORKER_CHANNEL)
            kind = message.get("type")
            if kind == "worker.nudge":
                self._wake.set()
            elif kind == "worker.refresh":
                self._spawn(self._refresh(int(message["deployment"])), "netlab-refresh")
            elif kind in ("worker.watch", "worker.unwatch"):
                self._viewing(message, kind == "worker.watch")
            elif kind == "worker.probe":
                self._spawn(self._probe(message), "netlab-probe")
            else:
                logger.warning("worker: unknown message %r", kind)

    # -- deployments -----------------------------------------------------------------------

    async def _recover(self) -> None:
        """Take back the work of this host's dead workers (see ``recover_abandoned``)."""
        loop = asyncio.get_running_loop()

        def on_state(changed: Deployment) -> None:  # called from the recovery's thread
            event = events.deployment_event(changed)
            coroutine = publish(self.layer, changed.design_id, event)
            asyncio.run_coroutine_threadsafe(coroutine, loop).result()

        await _in_thread(deployments.recover_abandoned, worker=self.name, on_state=on_state)

    async def _claim_and_run(self) -> None:
        await self._recover()

        def claim_pending() -> list[tuple[Deployment, str]]:
            pending = Deployment.objects.filter(
                state__in=[Deployment.State.QUEUED, Deployment.State.DESTROYING], worker=""
            ).select_related("revision")
            claimed = []
            for deployment in pending:
                work = deployments.claim(deployment, worker=self.name)
                if work is not None:
                    claimed.append((deployment, work))
            return claimed

        for deployment, work in await _in_thread(claim_pending):
            self._spawn(self._run(deployment, work), f"netlab-{work}-{deployment.tag}")

    async def _run(self, deployment: Deployment, work: str) -> None:
        """Carry out claimed ``work``, publishing every step and state change as it happens."""
        loop = asyncio.get_running_loop()
        design_id = deployment.design_id

        def send(event: events.Message) -> None:  # called from the engine's thread
            asyncio.run_coroutine_threadsafe(publish(self.layer, design_id, event), loop).result()

        def on_step(step: DeploymentStep) -> None:
            send(events.step_event(step))

        def on_state(changed: Deployment) -> None:
            send(events.deployment_event(changed))

        if work == "destroy":
            # A monitor's socket holds its namespace: close it first, or the kernel would
            # keep the namespace and destroy would wait for it in vain.
            await self._stop_monitors(deployment.pk)
        await _in_thread(
            deployments.run_claimed, deployment, work, on_step=on_step, on_state=on_state
        )
        if deployment.state == Deployment.State.RUNNING:
            self._start_monitors(deployment)

    # -- monitors: links, addresses, routes, neighbours; counters -----------------------------

    @property
    def observer(self) -> ModuleType:
        """The module that reads and watches namespaces (``netlab.kernel.observe``)."""
        if self._observer is None:  # the driver: loaded only where the kernel is used
            self._observer = importlib.import_module("netlab.kernel.observe")
        return self._observer

    def _start_monitors(self, deployment: Deployment) -> None:
        if deployment.pk in self._monitors:
            return
        self._running[deployment.pk] = deployment
        self._monitors[deployment.pk] = [
            asyncio.create_task(
                self._watch(deployment.design_id, node, netns), name=f"netlab-monitor-{netns}"
            )
            for node, netns in deployment.namespaces.items()
            if netns
        ]

    async def _stop_monitors(self, deployment_id: int) -> None:
        tasks = self._monitors.pop(deployment_id, [])
        stopped = self._running.pop(deployment_id, None)
        for netns in stopped.namespaces.values() if stopped else ():
            self._counters.pop(netns, None)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _watch(self, design_id: int, node: str, netns: str) -> None:
        """Publish ``netns``'s links, routes and neighbours now and after their changes.

        The neighbour table is kept in memory from the monitor's events (a
        :class:`NeighbourTable`, reset by every snapshot); other events only mark which
        tables changed, read again from a snapshot. A publisher sends each changed kind's
        whole table at once, then at most once per :data:`COALESCE` seconds, so a single
        change reaches pages without delay and a burst (a lab being built, a link flapping)
        costs a few messages, not one per event. A neighbour change alone needs no kernel
        dump: its table is published from memory.
        """
        observe = self.observer
        pending: set[str] = set()
        changed = asyncio.Event()
        table = self._neighbours[netns] = NeighbourTable()

        async def publisher() -> None:
            while True:
                await changed.wait()
                changed.clear()
                kinds = set(pending)
                pending.clear()
                if kinds - {"neighbours"}:
                    await self._publish_state(design_id, node, netns, kinds)
                else:
                    await publish(
                        self.layer, design_id, events.neighbours_event(node, netns, table.rows())
                    )
                # Changes arriving now wait for the next round: the rate limit of a burst.
                await asyncio.sleep(COALESCE)

        publishing = asyncio.create_task(publisher(), name=f"netlab-publish-{netns}")
        try:
            while True:
                try:
                    async with observe.Monitor(netns) as monitor:
                        # Read after subscribing: a change between the two is never lost.
                        await self._publish_state(design_id, node, netns, set(TABLES))
                        async for event in monitor:
                            unchanged = event.kind == "neighbour" and not table.apply(
                                event.action, event.data
                            )
                            if unchanged:  # a confirmation, or a hidden entry's removal
                                continue
                            pending.update(TABLES_OF[event.kind])
                            changed.set()
                    return  # the namespace is gone
                except OSError as error:  # gone already, or this process may not enter it
                    logger.info("no monitor for %s: %s", netns, error)
                    return
                except observe.MonitorError as error:
                    logger.warning("monitor of %s restarts: %s", netns, error)
        finally:
            publishing.cancel()
            await asyncio.gather(publishing, return_exceptions=True)
            if self._neighbours.get(netns) is table:
                del self._neighbours[netns]

    async def _publish_state(
        self, design_id: int, node: str, netns: str, kinds: set[str], *, counters: bool = False
    ) -> None:
        """Publish the ``kinds`` tables of ``netns`` (and its counters) from one snapshot.

        The snapshot also resets the namespace's in-memory neighbour table, if it has one;
        its ``neighbours`` are published from that table.
        """
        table = self._neighbours.get(netns)
        mark = table.begin() if table is not None else 0
        try:
            snapshot = await asyncio.to_thread(self.observer.snapshot, netns)
        except BaseException as error:
            if table is not None:
                table.end()
            if isinstance(error, OSError):  # the namespace went away: its monitor ends too
                return
            raise
        neighbours = snapshot.neighbours
        if table is not None:
            table.reset(neighbours, mark)
            neighbours = table.rows()
        if "links" in kinds:
            await publish(self.layer, design_id, events.links_event(node, netns, snapshot.links))
        if "routes" in kinds:
            await publish(self.layer, design_id, events.routes_event(node, netns, snapshot.routes))
        if "neighbours" in kinds:
            await publish(self.layer, design_id, events.neighbours_event(node, netns, neighbours))
        if counters:
            self._counters[netns] = snapshot.counters
            await publish(
                self.layer, design_id, events.counters_event(node, netns, snapshot.counters)
            )

    async def _refresh(self, deployment_id: int) -> None:
        """Publish every table and the counters of a running deployment (a page connected)."""
        deployment = await _in_thread(Deployment.objects.filter(pk=deployment_id).first)
        if deployment is None or deployment.state != Deployment.State.RUNNING:
            return
        for node, netns in deployment.namespaces.items():
            if netns:
                await self._publish_state(
                    deployment.design_id, node, netns, set(TABLES), counters=True
                )

    def _viewing(self, message: dict[str, Any], watching: bool) -> None:
        """Count a page of a design in (``worker.watch``) or out (``worker.unwatch``)."""
        design_id, channel = int(message["design"]), str(message["channel"])
        pages = self._viewers.setdefault(design_id, set())
        if watching:
            pages.add(channel)
        else:
            pages.discard(channel)
            if not pages:
                del self._viewers[design_id]

    async def _poll_counters(self) -> None:
        """About once a second, publish the counters that changed of every deployment that
        an open page watches. Nobody watching: nothing is read."""
        while True:
            await asyncio.sleep(self.counter_interval)
            try:
                await self._publish_counters()
            except Exception:  # a bad read must not end the polling
                logger.exception("worker %s: reading counters failed", self.name)

    async def _publish_counters(self) -> None:
        for deployment in list(self._running.values()):
            if not self._viewers.get(deployment.design_id):
                continue
            for node, netns in deployment.namespaces.items():
                if not netns:
                    continue
                try:
                    found = await asyncio.to_thread(self.observer.counters, netns)
                except OSError:
                    continue
                if found != self._counters.get(netns) and deployment.pk in self._running:
                    self._counters[netns] = found
                    await publish(
                        self.layer,
                        deployment.design_id,
                        events.counters_event(node, netns, found),
                    )

    async def _rewatch(self) -> None:
        """Ask the open pages of every running deployment to say so again (a restarted
        worker has forgotten who watches)."""
        for design_id in {deployment.design_id for deployment in self._running.values()}:
            await self.layer.group_send(group_name(design_id), {"type": "lab.rewatch"})

    # -- probes ----------------------------------------------------------------------------

    async def _probe(self, message: dict[str, Any]) -> None:
        """Run a ping, pingall or probe request for a consumer; answer on its channel only."""
        reply_to = str(message["reply"])
        loop = asyncio.get_running_loop()

        def send(event: events.Message) -> None:  # from probe threads
            coroutine = self.layer.send(reply_to, envelope(event))
            asyncio.run_coroutine_threadsafe(coroutine, loop).result()

        request = events.REQUEST.validate_python(message["request"])
        user = int(message["user"])
        limit = settings.NETLAB_MAX_PROBES_PER_USER
        # Checked and counted with no await in between: the loop runs one probe task at a
        # time up to here, so two requests cannot both take the last place.
        if self._probes_running[user] >= limit:
            text = (
                f"you already have {self._probes_running[user]} probes running, the most this "
                "server allows at once; wait for one to finish"
            )
            await self.layer.send(
                reply_to, envelope(events.ErrorEvent(message=text, action=request.action))
            )
            return
        self._probes_running[user] += 1
        try:
            await _in_thread(
                run_probe,
                request,
                user_id=user,
                design_id=message["design"],
                send=send,
                driver=self.probes,
            )
        except (deployments.DeploymentRefused, DesignNotFound, ValueError) as error:
            text = "no such design" if isinstance(error, DesignNotFound) else str(error)
            await self.layer.send(
                reply_to, envelope(events.ErrorEvent(message=text, action=request.action))
            )
        finally:
            self._probes_running[user] -= 1


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
) -> None:
    """Run a ping, pingall or probe ``request`` of user ``user_id`` on design ``design_id``.

    Blocking: each event is passed to ``send`` the moment it is known. Raises
    :class:`DesignNotFound`, :class:`~editor.deployments.DeploymentRefused` (not running, no
    such node) or ``ValueError`` (a bad address or port) before anything is sent.
    ``driver`` is the probes module, ``netlab.kernel.probes`` by default.
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

        result = probes.ping(netns, address, count=request.count, on_reply=reply)
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
            for address in deployments.node_addresses(document, node.id)
        }

        def cell(found: Any) -> None:  # a probes.PingCell
            send(events.PingAllCellEvent(**found.as_dict()))

        matrix = probes.ping_all(sources, addresses, on_cell=cell).as_dict()
        send(events.PingAllDoneEvent(total=matrix["total"], reachable=matrix["reachable"]))
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
    else:
        raise ValueError(f"{request.action} is not a probe")
