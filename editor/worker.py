"""The worker: runs deployments, probes and neighbour monitors, and publishes their events.

It is the only part of netlab that touches the kernel on behalf of the web UI. It runs in
the server's process (``manage.py netlab serve``, in-memory channel layer) or on its own
(``manage.py netlab worker``, Redis as the channel layer); the code is the same.

- Pages join two groups: the design's (:func:`group_name`: news every reader may have,
  such as "access changed") and their user's lab of the design (:func:`lab_group`). A
  deployment's events (its state, steps, tables and counters: tag, namespaces, MACs) go to
  its owner's lab group only, never to other readers of the design.
- Deployments are rows (``editor.deployments``): consumers only *request* them and nudge
  the worker on :data:`WORKER_CHANNEL`. The worker claims queued work atomically, runs it
  in a thread and publishes each ``step`` and ``deployment`` event to the lab's group.
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
- Open pages tell the worker they watch their lab (``worker.watch`` and ``worker.unwatch``
  with the consumer's channel and lab group); while a lab has one, its running
  deployment's interface counters are read about once a second and published when they
  changed. A restarted worker asks the running deployments' pages to say so again
  (``lab.rewatch``). Viewers are counted by the worker that receives the messages: one
  worker per channel layer.
- Probes (ping, pingall, probe) arrive on :data:`WORKER_CHANNEL` with the asking
  consumer's channel; their events go to that channel only, each as it happens. A user
  may have ``NETLAB_MAX_PROBES_PER_USER`` probes running at once (counted per worker);
  one more is answered by an ``error`` and runs nothing. Every request gets an answer: a
  probe that cannot run (a namespace deleted by hand, a zone naming no interface, a
  failure of netlab's own) ends in an ``error``. Probes run in an executor of their own
  (``NETLAB_PROBE_THREADS`` threads), so claims, deployments, destroys and snapshots
  never wait behind them; a page that goes away (``worker.unwatch``) cancels its probes.

Blocking work (the engine, the database, netlink dumps) runs in asyncio's default threads,
probes in their own; events produced there are handed back to the loop with
``run_coroutine_threadsafe``, whose ``result()`` keeps them in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import importlib
import logging
import threading
from collections import Counter
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from types import ModuleType
from typing import Any, TypeVar

from asgiref.sync import async_to_sync
from channels.exceptions import ChannelFull
from channels.layers import BaseChannelLayer, get_channel_layer
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import close_old_connections, transaction

from editor import deployments, events
from editor.models import Deployment, DeploymentStep
from editor.permissions import DesignNotFound, access_design

logger = logging.getLogger("netlab.worker")

WORKER_CHANNEL = "netlab.worker"
COALESCE = 0.075  # seconds: a namespace publishes each table at most this often
SEND_CHECK = 0.5  # seconds: how often a probe waiting to hand over an event checks its cancel
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
    """The channel layer group of every open lab page of a design, whoever reads it.

    Only news every reader may have goes there (``lab.access``, ``lab.rewatch``): never a
    deployment's events, which are their owner's (:func:`lab_group`).
    """
    return f"design-{design_id}"


def lab_group(design_id: int, user_id: int) -> str:
    """The channel layer group of one user's open pages of a design: their lab's events."""
    return f"design-{design_id}-user-{user_id}"


def envelope(event: events.Message) -> dict[str, Any]:
    """Wrap ``event`` for the channel layer; consumers forward it in ``lab_event``."""
    return {"type": "lab.event", "event": event.as_message()}


async def publish(
    layer: BaseChannelLayer, design_id: int, user_id: int, event: events.Message
) -> None:
    """Send ``event`` to the open pages of user ``user_id`` on design ``design_id``."""
    await layer.group_send(lab_group(design_id, user_id), envelope(event))


def access_changed(design_id: int) -> None:
    """Once the current transaction commits, tell every open page of ``design_id`` that who
    may read it changed: each re-checks its user's access and closes if it was lost.

    Call it from the services that change access (visibility, collaborators, deletion).
    Best effort: the change is committed whatever happens to the message.
    """
    transaction.on_commit(lambda: _announce_access_change(design_id))


def _announce_access_change(design_id: int) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(group_name(design_id), {"type": "lab.access"})
    except Exception:  # the change stands; a page left open only keeps reading
        logger.exception("could not tell the pages of design %s that access changed", design_id)


async def nudge(layer: BaseChannelLayer) -> None:
    """Tell a worker there is queued work. Best effort: the worker also polls."""
    with contextlib.suppress(ChannelFull):
        await layer.send(WORKER_CHANNEL, {"type": "worker.nudge"})


async def _in_thread(
    function: Callable[..., T],
    *args: Any,
    executor: ThreadPoolExecutor | None = None,
    **kwargs: Any,
) -> T:
    """Run blocking ``function`` in a thread (of ``executor``, else asyncio's default ones),
    then release that thread's database connection."""

    def run() -> T:
        try:
            return function(*args, **kwargs)
        finally:
            close_old_connections()

    if executor is None:
        return await asyncio.to_thread(run)
    context = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(executor, context.run, run)


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
        self._viewers: dict[str, set[str]] = {}  # lab group: channels of its open pages
        self._counters: dict[str, dict[str, dict[str, int]]] = {}  # netns: last published
        self._probes_running: Counter[int] = Counter()  # user id: probes running
        self._probe_cancels: dict[str, set[threading.Event]] = {}  # reply channel: its probes
        self._probe_pool: ThreadPoolExecutor | None = None
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
        if self._probe_pool is None:
            self._probe_pool = ThreadPoolExecutor(
                max_workers=settings.NETLAB_PROBE_THREADS, thread_name_prefix="netlab-probe"
            )
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
        for cancels in self._probe_cancels.values():
            for cancel in cancels:
                cancel.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._probe_pool is not None:
            # Probes still running notice their cancel within a fraction of a second.
            self._probe_pool.shutdown(wait=False, cancel_futures=True)
            self._probe_pool = None

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
            coroutine = publish(self.layer, changed.design_id, changed.owner_id, event)
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
        design_id, user_id = deployment.design_id, deployment.owner_id

        def send(event: events.Message) -> None:  # called from the engine's thread
            coroutine = publish(self.layer, design_id, user_id, event)
            asyncio.run_coroutine_threadsafe(coroutine, loop).result()

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
        group = lab_group(deployment.design_id, deployment.owner_id)
        self._monitors[deployment.pk] = [
            asyncio.create_task(self._watch(group, node, netns), name=f"netlab-monitor-{netns}")
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

    async def _watch(self, group: str, node: str, netns: str) -> None:
        """Publish ``netns``'s links, routes and neighbours to the lab's ``group`` now and
        after their changes.

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
                    await self._publish_state(group, node, netns, kinds)
                else:
                    await self.layer.group_send(
                        group, envelope(events.neighbours_event(node, netns, table.rows()))
                    )
                # Changes arriving now wait for the next round: the rate limit of a burst.
                await asyncio.sleep(COALESCE)

        publishing = asyncio.create_task(publisher(), name=f"netlab-publish-{netns}")
        try:
            while True:
                try:
                    async with observe.Monitor(netns) as monitor:
                        # Read after subscribing: a change between the two is never lost.
                        await self._publish_state(group, node, netns, set(TABLES))
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
        self, group: str, node: str, netns: str, kinds: set[str], *, counters: bool = False
    ) -> None:
        """Publish the ``kinds`` tables of ``netns`` (and its counters) from one snapshot to
        the lab's ``group``.

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
        found: list[events.Message] = []
        if "links" in kinds:
            found.append(events.links_event(node, netns, snapshot.links))
        if "routes" in kinds:
            found.append(events.routes_event(node, netns, snapshot.routes))
        if "neighbours" in kinds:
            found.append(events.neighbours_event(node, netns, neighbours))
        if counters:
            self._counters[netns] = snapshot.counters
            found.append(events.counters_event(node, netns, snapshot.counters))
        for event in found:
            await self.layer.group_send(group, envelope(event))

    async def _refresh(self, deployment_id: int) -> None:
        """Publish every table and the counters of a running deployment (a page connected)."""
        deployment = await _in_thread(Deployment.objects.filter(pk=deployment_id).first)
        if deployment is None or deployment.state != Deployment.State.RUNNING:
            return
        group = lab_group(deployment.design_id, deployment.owner_id)
        for node, netns in deployment.namespaces.items():
            if netns:
                await self._publish_state(group, node, netns, set(TABLES), counters=True)

    def _viewing(self, message: dict[str, Any], watching: bool) -> None:
        """Count a page of a lab in (``worker.watch``) or out (``worker.unwatch``); a page
        counted out also cancels the probes it asked for."""
        group, channel = str(message["group"]), str(message["channel"])
        pages = self._viewers.setdefault(group, set())
        if watching:
            pages.add(channel)
            return
        pages.discard(channel)
        if not pages:
            del self._viewers[group]
        for cancel in self._probe_cancels.pop(channel, ()):
            cancel.set()

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
            group = lab_group(deployment.design_id, deployment.owner_id)
            if not self._viewers.get(group):
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
                    await self.layer.group_send(
                        group, envelope(events.counters_event(node, netns, found))
                    )

    async def _rewatch(self) -> None:
        """Ask the open pages of every running deployment to say so again (a restarted
        worker has forgotten who watches)."""
        for group in {
            lab_group(deployment.design_id, deployment.owner_id)
            for deployment in self._running.values()
        }:
            await self.layer.group_send(group, {"type": "lab.rewatch"})

    # -- probes ----------------------------------------------------------------------------

    async def _probe(self, message: dict[str, Any]) -> None:
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

        async def refuse(text: str, action: str) -> None:
            with contextlib.suppress(ChannelFull):
                event = events.ErrorEvent(message=text, action=action)
                await self.layer.send(reply_to, envelope(event))

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
            await refuse(text, request.action)
            return
        self._probes_running[user] += 1
        cancels = self._probe_cancels.setdefault(reply_to, set())
        cancels.add(cancel)
        try:
            await _in_thread(
                run_probe,
                request,
                executor=self._probe_pool,
                user_id=user,
                design_id=message["design"],
                send=send,
                driver=self.probes,
                cancel=cancel,
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
            self._probes_running[user] -= 1
            cancels.discard(cancel)
            if not cancels and self._probe_cancels.get(reply_to) is cancels:
                del self._probe_cancels[reply_to]


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
) -> None:
    """Run a ping, pingall or probe ``request`` of user ``user_id`` on design ``design_id``.

    Blocking: each event is passed to ``send`` the moment it is known. Raises
    :class:`DesignNotFound`, :class:`~editor.deployments.DeploymentRefused` (not running, no
    such node, a ping-all of more than ``NETLAB_MAX_PINGALL_CELLS`` cells), ``ValueError``
    (a bad address, zone or port) or ``OSError`` (the source namespace is gone) before
    anything is sent. Setting ``cancel`` ends a ping or ping-all early.
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
            for address in deployments.node_addresses(document, node.id)
        }
        cells = sum(owner != source for source in sources for owner in addresses.values())
        most = settings.NETLAB_MAX_PINGALL_CELLS
        if cells > most:
            raise deployments.DeploymentRefused(
                f"a ping-all of this lab would ping {cells} pairs, more than this server "
                f"allows at once ({most}); ping the pairs you need one by one"
            )

        def cell(found: Any) -> None:  # a probes.PingCell
            send(events.PingAllCellEvent(**found.as_dict()))

        matrix = probes.ping_all(sources, addresses, on_cell=cell, cancel=cancel).as_dict()
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
