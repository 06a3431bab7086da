"""Monitors and counters: the tables of every running deployment's namespaces, pushed to
the lab's pages.

- Every namespace of a running deployment has a monitor (netlink events, no polling) of
  its links, addresses, routes and neighbours; changes publish the namespace's whole
  ``links``, ``routes`` or ``neighbours`` table at once, then coalesced (at most one of
  each per :data:`COALESCE` seconds). The neighbour table is kept in memory from the
  events (:class:`NeighbourTable`), so its changes need no kernel dump. A restarted
  worker restarts the monitors of every running deployment.
- Open pages tell the worker they watch their lab (``worker.watch`` and ``worker.unwatch``
  with the consumer's channel, lab group and the node the page shows); while a lab has
  one, the counters of the nodes shown are read about once a second, through the socket
  the node's monitor keeps in its namespace, and those that changed are published. A restarted
  worker asks the running deployments' pages to say so again (``lab.rewatch``). Viewers
  are counted by the worker that receives the messages: one worker per channel layer.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import math
from collections.abc import Iterable
from types import ModuleType
from typing import Any

from channels.layers import BaseChannelLayer

from editor import events
from editor.models import Deployment
from editor.worker.channel import envelope, lab_group
from editor.worker.threads import in_thread

logger = logging.getLogger("netlab.worker")

COALESCE = 0.075  # seconds: a namespace publishes each table at most this often
# ... and, when reading its tables takes long (a hub of 1000 ports: ~50 ms), spends at most
# about a tenth of the time reading them: its events (1000 ports' IPv6 addresses settling)
# made it republish 300 KiB a dozen times a second, and starve the other monitors' start.
READING_SHARE = 0.1
BATCH = 0.05  # seconds: a lab's pages get at most one message of tables this often
STARTING_AT_ONCE = 8  # monitors opening and reading their first tables at the same time
# The tables a change of each kind of netlink event may alter. IPv4 routes through a link
# that goes down vanish without a route event, and its neighbours are flushed.
TABLES = ("links", "routes", "neighbours")
TABLES_OF = {
    "link": ("links", "routes", "neighbours"),
    "address": ("links", "routes"),
    "route": ("routes",),
    "neighbour": ("neighbours",),
}


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
            changed: bool = self.entries.get(key) != neighbour
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


class TableBatches:
    """The tables monitors publish, to each lab group a burst at a time.

    A table published after a quiet spell goes at once, as its own message; those that
    follow within :data:`BATCH` seconds go together in ``tables`` messages. A lab of 1000
    namespaces publishes ~4000 tables as its monitors start or a page connects: one message
    each was a storm of up to 2,400 messages a second to every page.
    """

    def __init__(self, layer: BaseChannelLayer) -> None:
        self.layer = layer
        self._pending: dict[str, list[events.Message]] = {}
        self._sent_at: dict[str, float] = {}  # the loop's time of a group's last message
        self._flushing: dict[str, asyncio.Task[None]] = {}

    async def send(self, group: str, event: events.Message) -> None:
        now = asyncio.get_running_loop().time()
        if group not in self._pending and now - self._sent_at.get(group, -math.inf) >= BATCH:
            self._sent_at[group] = now
            await self.layer.group_send(group, envelope(event))
            return
        self._pending.setdefault(group, []).append(event)
        if group not in self._flushing:
            self._flushing[group] = asyncio.create_task(
                self._flush(group), name=f"netlab-tables-{group}"
            )

    async def _flush(self, group: str) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending.get(group):
                wait = self._sent_at.get(group, -math.inf) + BATCH - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                batch = self._pending.pop(group, [])
                self._sent_at[group] = loop.time()
                for start in range(0, len(batch), events.MAX_TABLES_PER_MESSAGE):
                    tables = batch[start : start + events.MAX_TABLES_PER_MESSAGE]
                    message = tables[0] if len(tables) == 1 else events.TablesEvent(tables=tables)
                    await self.layer.group_send(group, envelope(message))
        finally:
            self._flushing.pop(group, None)

    def drop(self, group: str) -> None:
        """Forget what group ``group`` has yet to get (its lab is going)."""
        self._pending.pop(group, None)
        self._sent_at.pop(group, None)
        flushing = self._flushing.pop(group, None)
        if flushing is not None:
            flushing.cancel()

    def drop_all(self) -> None:
        for group in {*self._pending, *self._flushing}:
            self.drop(group)


class Monitors:
    """The monitors and counters of the running deployments one worker knows, and the pages
    that watch each lab.

    ``observer`` is the module that reads and watches namespaces (``netlab.kernel.observe``
    by default, loaded on first use); tests above the kernel pass a double with the same
    functions. ``counter_interval`` is the period of the counters' polling, in seconds.
    """

    def __init__(
        self,
        layer: BaseChannelLayer,
        *,
        observer: ModuleType | None = None,
        counter_interval: float = 1.0,
        name: str = "",
    ) -> None:
        self.layer = layer
        self._observer = observer
        self.counter_interval = counter_interval
        self.name = name  # the worker's, for its log
        self.running: dict[int, Deployment] = {}  # deployment id: the running deployment
        # Lab group: its open pages' channels, each with the node it shows (None: all).
        self.viewers: dict[str, dict[str, str | None]] = {}
        self._open: dict[str, Any] = {}  # netns: its open monitor (counters read through it)
        self._counters: dict[str, dict[str, dict[str, int]]] = {}  # netns: last published
        # Deployment id: its monitors, by namespace.
        self.tasks: dict[int, dict[str, asyncio.Task[None]]] = {}
        self._neighbours: dict[str, NeighbourTable] = {}  # netns: kept from its events
        self._batches = TableBatches(layer)
        self._reading: dict[str, float] = {}  # netns: how long its last snapshot took
        # A lab of 1000 namespaces starts 1000 monitors: a few at a time, or their start
        # fills the loop and the threads, and a page's destroy waited 5 s to be heard.
        self._starting = asyncio.Semaphore(STARTING_AT_ONCE)

    @property
    def observer(self) -> ModuleType:
        """The module that reads and watches namespaces (``netlab.kernel.observe``)."""
        if self._observer is None:  # the driver: loaded only where the kernel is used
            self._observer = importlib.import_module("netlab.kernel.observe")
        return self._observer

    def start(self, deployment: Deployment) -> None:
        """Start the monitors of a running deployment's namespaces (once)."""
        if deployment.pk in self.tasks:
            return
        self.running[deployment.pk] = deployment
        self.tasks[deployment.pk] = {}
        self._start_missing(deployment)

    def _start_missing(self, deployment: Deployment) -> None:
        group = lab_group(deployment.design_id, deployment.owner_id)
        tasks = self.tasks[deployment.pk]
        for node, netns in deployment.namespaces.items():
            if netns and netns not in tasks:
                tasks[netns] = asyncio.create_task(
                    self._watch(group, node, netns), name=f"netlab-monitor-{netns}"
                )

    async def follow(self, deployment: Deployment) -> None:
        """Start the monitors of a running deployment, or after a live change: monitors for
        the namespaces it made, none for those it removed; the others keep watching."""
        if deployment.pk not in self.tasks:
            self.start(deployment)
            return
        self.running[deployment.pk] = deployment
        kept = {netns for netns in deployment.namespaces.values() if netns}
        await self.stop_namespaces(deployment.pk, set(self.tasks[deployment.pk]) - kept)
        self._start_missing(deployment)

    async def stop_namespaces(self, deployment_id: int, doomed: Iterable[str]) -> None:
        """Stop the monitors of some namespaces of a deployment (a live change removes them)."""
        tasks = self.tasks.get(deployment_id, {})
        gone = [tasks.pop(netns) for netns in doomed if netns in tasks]
        for task in gone:
            task.cancel()
        await asyncio.gather(*gone, return_exceptions=True)

    async def stop(self, deployment_id: int) -> None:
        """Stop the monitors of a deployment and forget its counters."""
        tasks = list(self.tasks.pop(deployment_id, {}).values())
        stopped = self.running.pop(deployment_id, None)
        if stopped is not None:
            self._batches.drop(lab_group(stopped.design_id, stopped.owner_id))
        for netns in stopped.namespaces.values() if stopped else ():
            self._counters.pop(netns, None)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def stop_all(self) -> None:
        """Stop every monitor."""
        tasks = [task for group in self.tasks.values() for task in group.values()]
        self.tasks.clear()
        self.running.clear()
        self._batches.drop_all()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _watch(self, group: str, node: str, netns: str) -> None:
        """Publish ``netns``'s links, routes and neighbours to the lab's ``group`` now and
        after their changes.

        The neighbour table is kept in memory from the monitor's events (a
        :class:`NeighbourTable`, reset by every snapshot); other events only mark which
        tables changed, read again from a snapshot. A publisher sends each changed kind's
        whole table at once, then at most once per :data:`COALESCE` seconds (longer where
        reading the tables takes long: :data:`READING_SHARE`), so a single
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
                    await self._batches.send(
                        group, events.neighbours_event(node, netns, table.rows())
                    )
                # Changes arriving now wait for the next round: the rate limit of a burst.
                reading = self._reading.get(netns, 0.0)
                await asyncio.sleep(max(COALESCE, reading / READING_SHARE))

        publishing = asyncio.create_task(publisher(), name=f"netlab-publish-{netns}")
        try:
            while True:
                try:
                    async with contextlib.AsyncExitStack() as stack:
                        async with self._starting:
                            monitor = await stack.enter_async_context(observe.Monitor(netns))
                            self._open[netns] = monitor
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
            self._open.pop(netns, None)
            self._reading.pop(netns, None)

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
        monitor = self._open.get(netns)
        loop = asyncio.get_running_loop()
        began = loop.time()
        try:
            if monitor is not None:  # its socket, in the loop: no thread, no namespace switch
                snapshot = await monitor.snapshot()
            else:
                snapshot = await asyncio.to_thread(self.observer.snapshot, netns)
            self._reading[netns] = loop.time() - began
        except BaseException as error:
            if table is not None:
                table.end()
            # The namespace went away, or its monitor closed: that monitor ends too.
            if isinstance(error, OSError | self.observer.MonitorClosed):
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
            await self._batches.send(group, event)

    async def refresh(self, deployment_id: int) -> None:
        """Publish every table and the counters of a running deployment (a page connected)."""
        deployment = await in_thread(Deployment.objects.filter(pk=deployment_id).first)
        if deployment is None or deployment.state != Deployment.State.RUNNING:
            return
        group = lab_group(deployment.design_id, deployment.owner_id)
        for node, netns in deployment.namespaces.items():
            if netns:
                await self._publish_state(group, node, netns, set(TABLES), counters=True)

    def viewing(self, group: str, channel: str, watching: bool, node: str | None = None) -> None:
        """Count page ``channel`` of lab ``group`` in (``worker.watch``, showing ``node``, or
        every node when None) or out (``worker.unwatch``)."""
        pages = self.viewers.setdefault(group, {})
        if watching:
            pages[channel] = node
            return
        pages.pop(channel, None)
        if not pages:
            del self.viewers[group]

    async def poll_counters(self) -> None:
        """About once a second, publish the counters that changed of the nodes open pages
        show (every node for a page that never said which). Nobody watching: nothing is
        read."""
        while True:
            await asyncio.sleep(self.counter_interval)
            try:
                await self._publish_counters()
            except Exception:  # a bad read must not end the polling
                logger.exception("worker %s: reading counters failed", self.name)

    async def _publish_counters(self) -> None:
        for deployment in list(self.running.values()):
            group = lab_group(deployment.design_id, deployment.owner_id)
            pages = self.viewers.get(group)
            if not pages:
                continue
            shown = None if None in pages.values() else set(pages.values())
            for node, netns in deployment.namespaces.items():
                monitor = self._open.get(netns or "")
                if monitor is None or (shown is not None and node not in shown):
                    continue  # not shown, or its monitor starts (the next round reads it)
                try:
                    found = await monitor.counters()
                except (OSError, self.observer.MonitorClosed):  # gone, or its monitor closed
                    continue
                before = self._counters.get(netns)
                if found != before and deployment.pk in self.running:
                    self._counters[netns] = found
                    event = events.counters_event(node, netns, found, before)
                    await self._batches.send(group, event)

    async def rewatch(self) -> None:
        """Ask the open pages of every running deployment to say so again (a restarted
        worker has forgotten who watches)."""
        for group in {
            lab_group(deployment.design_id, deployment.owner_id)
            for deployment in self.running.values()
        }:
            await self.layer.group_send(group, {"type": "lab.rewatch"})
