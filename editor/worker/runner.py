"""The worker: claims queued deployments and runs them, and serves the worker's channel.

Deployments are rows (``editor.deployments``): consumers only *request* them and nudge
the worker of the lab's site on its channel (:func:`~editor.worker.channel.worker_channel`).
A worker with a site registers it when it starts and refreshes it every tenth of
``NETLAB_SITE_TIMEOUT`` (at its poll), claims
only its site's work, marks ``unknown`` the labs of sites that went down and checks its
own ``unknown`` labs again (``deployments.sites``). The worker claims queued
work atomically, runs it in a thread and publishes each ``step`` and ``deployment`` event
to the lab's group. It also scans the database every ``poll_interval`` seconds, so a lost
nudge (or one sent while no worker ran) only delays work. Each scan first recovers the
work of this host's workers that died holding it (``deployments.recover_abandoned``): a
half-built lab is rolled back and fails, an interrupted destroy runs again. What else
arrives on the channel goes to the monitors (:mod:`.monitors`) and the probes
(:mod:`.probes`).

Blocking work (the engine, the database, netlink dumps) runs in asyncio's default threads,
probes in their own; events produced there are handed back to the loop with
``run_coroutine_threadsafe``, whose ``result()`` keeps them in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Sequence
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType
from typing import Any

from channels.layers import BaseChannelLayer, get_channel_layer
from django.conf import settings

from editor import deployments, events
from editor.deployments import capabilities, sites
from editor.models import Deployment, Site, SitePart
from editor.worker.channel import publish, worker_channel
from editor.worker.monitors import Monitors
from editor.worker.probes import Probes
from editor.worker.threads import in_thread
from netlab.core.engine import Engine

logger = logging.getLogger("netlab.worker")


class Worker:
    """One worker: ``await Worker().run()`` until cancelled (or ``stop()``).

    ``name`` is the claim mark written on the deployments it takes (``host:pid:start`` by
    default, see ``deployments.worker_id``). ``engine`` builds and removes labs (by default
    the one ``NETLAB_ENGINE`` names, the kernel's, loaded when a deployment runs);
    ``probes`` and ``observer`` are the modules that run probes and read namespaces
    (``netlab.kernel.probes`` and ``observe`` by default); tests above the kernel may pass
    doubles of each. ``counter_interval`` is the period of the counters' polling, in
    seconds. ``site`` (a site's name, with its ``underlay`` address and capacity) makes it
    that site's worker; without one it runs the labs not placed on a site (the embedded
    layout).
    """

    def __init__(
        self,
        layer: BaseChannelLayer | None = None,
        *,
        name: str | None = None,
        poll_interval: float = 2.0,
        engine: Engine | None = None,
        probes: ModuleType | None = None,
        observer: ModuleType | None = None,
        counter_interval: float = 1.0,
        site: str | None = None,
        underlay: str = "",
        max_labs: int = 0,
        max_namespaces: int = 0,
    ) -> None:
        if site is not None:  # refused before anything starts: the caller says why
            sites.check_name(site)
            sites.check_underlay(underlay)
        self.site_name = site
        self.underlay = underlay
        self.capacity = (max_labs, max_namespaces)
        self.site: Site | None = None  # registered when it runs
        self.channel = worker_channel(site)
        self.layer = layer or get_channel_layer()
        self.name = name or deployments.worker_id()
        self.poll_interval = poll_interval
        self._recovered_at = -math.inf  # the loop's time of the last recovery
        self._site_checked_at = -math.inf  # ... and of the last refresh of its site
        self._site_period = max(poll_interval, settings.NETLAB_SITE_TIMEOUT / 10)
        self.engine = engine
        self.counter_interval = counter_interval
        self.monitors = Monitors(
            self.layer, observer=observer, counter_interval=counter_interval, name=self.name
        )
        self.probes = Probes(self.layer, driver=probes, name=self.name, site=site)
        # The tests read these: each lab's watching pages, each user's probes running and
        # each running deployment's monitors (the same objects as the concerns' own).
        self._viewers = self.monitors.viewers
        self._probes_running = self.probes.running
        self._monitors = self.monitors.tasks
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        # Claims and runs get threads of their own: asyncio's default ones are shared with
        # the monitors, and 200 starting monitors kept a destroy waiting 0.5 s for a thread.
        self._jobs = ThreadPoolExecutor(max_workers=4, thread_name_prefix="netlab-job")
        # A lab across sites waits for its parts, built by the jobs (this site's among them):
        # its wait never takes a job's thread, nor the site's refresh.
        self._waits = ThreadPoolExecutor(max_workers=16, thread_name_prefix="netlab-wait")

    async def run(self) -> None:
        """Restart the monitors of running deployments, then serve until cancelled."""
        self.probes.start()
        if self.site_name is not None:
            max_labs, max_namespaces = self.capacity
            self.site = await in_thread(
                sites.register,
                self.site_name,
                self.underlay,
                max_labs=max_labs,
                max_namespaces=max_namespaces,
            )
            # Published for the editor's marks; a worker runs labs without it.
            with contextlib.suppress(Exception):
                await in_thread(capabilities.publish, self.site)
            with contextlib.suppress(Exception):  # the poll tries again
                await self._check_sites(recover=True)
            self._site_checked_at = asyncio.get_running_loop().time()
        running = await in_thread(
            lambda: list(Deployment.objects.filter(state=Deployment.State.RUNNING, site=self.site))
        )
        for deployment in running:
            self.monitors.start(deployment)
        receiver = asyncio.create_task(self._receive(), name="netlab-worker-receive")
        counting = asyncio.create_task(self.monitors.poll_counters(), name="netlab-worker-counters")
        with contextlib.suppress(Exception):  # best effort: pages also say so when they open
            await self.monitors.rewatch()
        try:
            while True:
                try:
                    await self._claim_and_run()
                except Exception:  # a busy database must not end the worker: poll again
                    logger.exception("worker %s: scanning for work failed", self.name)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll_interval):
                        await self._wake.wait()
                self._wake.clear()
        finally:
            receiver.cancel()
            counting.cancel()
            await self.stop()

    async def stop(self) -> None:
        """Stop every monitor, probe and running task (deployments in progress are left
        claimed)."""
        tasks = list(self._tasks)
        self.probes.stop()
        for task in tasks:
            task.cancel()
        await self.monitors.stop_all()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._jobs.shutdown(wait=False)
        self._waits.shutdown(wait=False)

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
            message = await self.layer.receive(self.channel)
            kind = message.get("type")
            if kind == "worker.nudge":
                self._wake.set()
            elif kind == "worker.refresh":
                self._spawn(self.monitors.refresh(int(message["deployment"])), "netlab-refresh")
            elif kind in ("worker.watch", "worker.unwatch"):
                self._viewing(message, kind == "worker.watch")
            elif kind == "worker.probe":
                self._spawn(self.probes.run(message), "netlab-probe")
            elif kind == "worker.pingall.stop":
                self.probes.stop_pingall(str(message["channel"]))
            elif kind == "worker.probe.stop":
                self.probes.stop_named(str(message["channel"]), str(message["probe"]))
            else:
                logger.warning("worker: unknown message %r", kind)

    def _viewing(self, message: dict[str, Any], watching: bool) -> None:
        """Count a page of a lab in (``worker.watch``) or out (``worker.unwatch``); a page
        counted out also cancels the probes it asked for."""
        channel = str(message["channel"])
        node = message.get("node")
        shown = str(node) if node is not None else None
        self.monitors.viewing(str(message["group"]), channel, watching, shown)
        if not watching:
            self.probes.cancel(channel)

    # -- deployments -----------------------------------------------------------------------

    def _publisher(self) -> deployments.StateCallback:
        """An ``on_state`` for a thread: publishes each changed lab's state to its pages."""
        loop = asyncio.get_running_loop()

        def on_state(changed: Deployment) -> None:  # called from a blocking thread
            event = events.deployment_event(changed)
            coroutine = publish(self.layer, changed.design_id, changed.owner_id, event)
            asyncio.run_coroutine_threadsafe(coroutine, loop).result()

        return on_state

    async def _recover(self) -> None:
        """Take back the work of this host's dead workers (see ``recover_abandoned``)."""
        now = asyncio.get_running_loop().time()
        await in_thread(
            deployments.recover_abandoned,
            worker=self.name,
            on_state=self._publisher(),
            engine=self.engine,
            executor=self._jobs,
        )
        # Often enough for NETLAB_SITE_TIMEOUT, rarely enough to cost nothing (SQLite writes).
        if self.site is not None and now - self._site_checked_at >= self._site_period:
            self._site_checked_at = now
            await self._check_sites(recover=False)

    async def _check_sites(self, *, recover: bool) -> None:
        """Say this site is alive, mark the labs of sites that went down ``unknown``, and
        check this site's own ``unknown`` labs (at start, or when it was thought down)."""
        site = self.site
        assert site is not None
        on_state = self._publisher()
        was_seen = site.last_seen
        await in_thread(sites.refresh, site, executor=self._jobs)
        await in_thread(sites.mark_lost, on_state, executor=self._jobs)
        if recover or was_seen < await in_thread(sites.deadline):
            back = await in_thread(
                sites.recover_unknown,
                site,
                on_state=on_state,
                engine=self.engine,
                executor=self._jobs,
            )
            for deployment in back:
                if deployment.state == Deployment.State.RUNNING:
                    self.monitors.start(deployment)

    async def _claim_and_run(self) -> None:
        # Taking back a dead worker's work can wait: a nudge (a page asked for a deploy or a
        # destroy) goes straight to the claim, and the recovery, when due, follows it (first,
        # it delayed every request after a quiet spell by its queries, 5-10 ms).
        claimed = await in_thread(
            deployments.claim_pending, worker=self.name, site=self.site, executor=self._jobs
        )
        for deployment, work in claimed:
            self._spawn(self._run(deployment, work), f"netlab-{work}-{deployment.tag}")
        if self.site is not None:
            parts = await in_thread(
                deployments.claim_parts, worker=self.name, site=self.site, executor=self._jobs
            )
            for part, work in parts:
                self._spawn(self._run_part(part, work), f"netlab-part-{work}-{part.pk}")
        now = asyncio.get_running_loop().time()
        if now - self._recovered_at >= self.poll_interval:
            await self._recover()
            self._recovered_at = now

    async def _run_part(self, part: SitePart, work: str) -> None:
        """Build or remove this site's part of a lab across sites (its lab's worker waits)."""

        loop = asyncio.get_running_loop()
        lab = part.deployment

        async def publish_all(messages: list[events.Message]) -> None:
            for message in messages:
                await publish(self.layer, lab.design_id, lab.owner_id, message)

        def on_steps(steps: Sequence[deployments.Step]) -> None:  # from the run's thread
            messages: list[events.Message] = [*events.steps_events(steps)]
            asyncio.run_coroutine_threadsafe(publish_all(messages), loop).result()

        def run() -> SitePart:
            engine = self.engine or deployments.load_engine()
            return deployments.run_part(
                part, work, underlay=self.underlay, engine=engine, on_steps=on_steps
            )

        await in_thread(run, executor=self._jobs)

    async def _run(self, deployment: Deployment, work: str) -> None:
        """Carry out claimed ``work``, publishing every step and state change as it happens."""
        loop = asyncio.get_running_loop()
        design_id, user_id = deployment.design_id, deployment.owner_id

        async def publish_all(messages: list[events.Message]) -> None:
            for message in messages:
                await publish(self.layer, design_id, user_id, message)

        def send(*messages: events.Message) -> None:  # called from the run's thread
            asyncio.run_coroutine_threadsafe(publish_all(list(messages)), loop).result()

        def on_steps(steps: Sequence[deployments.Step]) -> None:
            send(*events.steps_events(steps))

        def on_state(changed: Deployment) -> None:
            send(events.deployment_event(changed))

        if work == "apply":
            doomed = await in_thread(deployments.doomed_namespaces, deployment)
            await self.monitors.stop_namespaces(deployment.pk, doomed)
        across = await in_thread(deployments.has_parts, deployment, executor=self._jobs)
        # The claimed state is told from here, before the run's thread starts: told from
        # the thread, it waited for the loop, busy stopping the lab's monitors (up to 91 ms
        # of a 200-namespace destroy). The claim read the revisions: no query in the loop.
        await publish_all([events.deployment_event(deployment)])
        running = asyncio.ensure_future(
            in_thread(
                deployments.run_claimed,
                deployment,
                work,
                on_steps=on_steps,
                on_state=on_state,
                engine=self.engine,
                announced=True,
                executor=self._waits if across else self._jobs,
            )
        )
        # A monitor's socket holds its namespace, and the kernel keeps the namespace until
        # it closes. A destroy stops the lab's monitors while the engine checks the
        # namespaces' marks (the engine then waits for the kernel to let every namespace
        # go, so for the last socket too): stopping 200 monitors took 13-98 ms, before.
        try:
            if work == "destroy":
                await self.monitors.stop(deployment.pk)
        finally:
            await running
        if deployment.state == Deployment.State.RUNNING:
            await self.monitors.follow(deployment)
