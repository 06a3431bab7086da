"""The live lab websocket, ``/ws/designs/<id>/`` (protocol: docs/protocol.md).

Thin by design: ``connect`` authorises and joins two groups, the design's (news for every
reader: access changed) and the user's lab of the design (their deployment's events); each
message is parsed into an :mod:`editor.events` request and delegated (deployments to
``editor.deployments`` and the worker, probes to the worker); lab events are forwarded as
they are. When who may read the design changes (``lab.access``), the page checks its
user's access again and closes with 4404 if it was lost. Nothing here touches the kernel
or writes a model directly.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any
from urllib.parse import urlsplit

from channels.db import database_sync_to_async
from channels.exceptions import ChannelFull
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.auth.models import User
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

from editor import deployments, events
from editor.models import Deployment, Design
from editor.permissions import (
    DesignNotFound,
    access_design,
    access_design_for_destroy,
    access_design_for_edit,
)
from editor.worker import channel

# Close codes of a refused handshake, and of a page whose access was revoked. A design the
# user may not see closes exactly like a missing one, so ids reveal nothing.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403
CLOSE_NOT_FOUND = 4404
# A page gets at most this many recorded steps as it connects (a lab of 2000 nodes has
# about 8000), in messages of events.MAX_STEPS_PER_MESSAGE.
RECENT_STEPS = 10_000
DEFAULT_PORTS = {"http": 80, "https": 443}


def _site(origin: str) -> tuple[str, str, int] | None:
    """Return (scheme, host, port) of a web origin (``https://host[:port]``), else None."""
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:  # a port out of range, a bracket left open
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    if parts.username is not None or parts.path or parts.query or parts.fragment:
        return None  # an Origin header is never more than scheme, host and port
    return scheme, parts.hostname, port or DEFAULT_PORTS[scheme]


def _trusted(origin: str, site: tuple[str, str, int]) -> bool:
    """Whether ``origin`` is one of ``CSRF_TRUSTED_ORIGINS`` (``*.`` wildcards as Django)."""
    for trusted in settings.CSRF_TRUSTED_ORIGINS:
        if "*" in trusted:
            parts = urlsplit(trusted)
            if parts.scheme == site[0] and is_same_domain(
                urlsplit(origin).netloc.lower(), parts.netloc.lstrip("*").lower()
            ):
                return True
        elif _site(trusted) == site:
            return True
    return False


def origin_allowed(origin: str, *, host: str, secure: bool) -> bool:
    """Whether a browser page at ``origin`` may open a session-authenticated socket.

    ``host`` is the handshake's ``Host`` header and ``secure`` whether the socket is
    ``wss`` (https). The page must be this site's own, with the same scheme (http for ws,
    https for wss), host and port as the socket, its host one this site answers to
    (``ALLOWED_HOSTS``); or the origin must be one of ``CSRF_TRUSTED_ORIGINS``: the rule
    Django applies to unsafe HTTP requests. Another port or scheme of the same host is
    another site.
    """
    site = _site(origin)
    if site is None:
        return False
    if _trusted(origin, site):
        return True
    domain, _ = split_domain_port(host)
    hosts = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not hosts:
        hosts = [".localhost", "127.0.0.1", "[::1]"]
    if not domain or not validate_host(domain, hosts):
        return False
    return _site(f"{'https' if secure else 'http'}://{host}") == site


def _secure(scope: dict[str, Any]) -> bool:
    """Whether the handshake came over TLS: ``wss``, or https as a trusted proxy says
    (``SECURE_PROXY_SSL_HEADER``, as Django's ``request.is_secure()``)."""
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy:
        header, value = proxy
        name = header.removeprefix("HTTP_").replace("_", "-").lower().encode("latin-1")
        said = dict(scope.get("headers", [])).get(name)
        if said is not None:
            return bool(said.decode("latin-1").split(",", 1)[0].strip() == value)
    return scope.get("scheme", "ws") in ("wss", "https")


def _connect_state(
    design: Design, user: User
) -> tuple[Deployment | None, events.DeploymentEvent, list[Any]]:
    deployment = deployments.latest(design, user)
    steps = list(deployment.steps.order_by("-pk")[:RECENT_STEPS]) if deployment else []
    return deployment, events.deployment_event(deployment), steps[::-1]


class LabConsumer(AsyncWebsocketConsumer):
    """One open lab page. ``scope["user"]`` is set by :class:`editor.routing.TokenAuthMiddleware`
    (bearer token) or Django's session; ``scope["bearer"]`` says which."""

    design_id: int
    lab: str = ""  # the group of the user's lab of the design, once joined
    shown: str | None = None  # the node whose tables the page shows (None: every node)
    joined: tuple[str, ...] = ()
    watching: frozenset[str] = frozenset()  # the workers' channels told this page watches
    closed = False

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not self.scope.get("bearer"):
            # Cookies go with every request a browser makes, whatever page asks: only pages
            # of this site may use the session. Scripts (bearer) send no cookie to abuse.
            headers = dict(self.scope["headers"])
            origin = headers.get(b"origin", b"").decode("latin-1")
            host = headers.get(b"host", b"").decode("latin-1")
            if not origin_allowed(origin, host=host, secure=_secure(self.scope)):
                await self.close(code=CLOSE_FORBIDDEN_ORIGIN)
                return
        self.design_id = int(self.scope["url_route"]["kwargs"]["design_id"])
        # Join the design's group before checking access: a revocation committed after the
        # check is then heard (lab.access), one committed before fails the check.
        design_group = channel.group_name(self.design_id)
        await self.channel_layer.group_add(design_group, self.channel_name)
        self.joined = (design_group,)
        try:
            design = await database_sync_to_async(access_design)(user, self.design_id)
        except DesignNotFound:
            await self.leave()
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.lab = channel.lab_group(self.design_id, user.pk)
        await self.channel_layer.group_add(self.lab, self.channel_name)
        self.joined = (design_group, self.lab)
        await self.accept()
        await self.tell_worker("worker.watch")
        deployment, state, steps = await database_sync_to_async(_connect_state)(design, user)
        await self.send_event(state)
        for burst in events.steps_events(steps):
            await self.send_event(burst)
        if deployment is not None and deployment.state == Deployment.State.RUNNING:
            # The worker holds the kernel: it publishes the tables to the group.
            await self.channel_layer.send(
                await self.lab_worker(), {"type": "worker.refresh", "deployment": deployment.pk}
            )

    async def disconnect(self, code: int) -> None:
        await self.leave()

    async def leave(self) -> None:
        """Leave every group, and tell the worker this page stopped watching (which also
        cancels its probes). Safe to call twice."""
        joined, self.joined = self.joined, ()
        for group in joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        if self.lab and joined:
            await self.tell_worker("worker.unwatch")

    async def lab_worker(self) -> str:
        """The channel of the worker of this page's lab (its site's)."""
        user_id = self.scope["user"].pk
        worker: str = await database_sync_to_async(channel.lab_channel)(self.design_id, user_id)
        return worker

    async def tell_worker(self, kind: str) -> None:
        """Tell the worker this page watches (or stopped watching) its lab, and which node it
        shows: counters are read only while someone looks, and only of the nodes shown.
        A watch goes to the lab's site's worker, an unwatch to every worker told of a watch
        (the lab may have moved since). Best effort, like a nudge."""
        message = {
            "type": kind,
            "design": self.design_id,
            "group": self.lab,
            "channel": self.channel_name,
            "node": self.shown,
        }
        if kind == "worker.watch":
            told = await self.lab_worker()
            self.watching |= {told}
            targets = [told]
        else:
            targets, self.watching = sorted(self.watching), frozenset()
        for target in targets:
            with contextlib.suppress(ChannelFull):
                await self.channel_layer.send(target, message)

    async def lab_rewatch(self, message: dict[str, Any]) -> None:
        """A restarted worker asks the open pages to say they watch."""
        if not self.closed:
            await self.tell_worker("worker.watch")

    async def lab_access(self, message: dict[str, Any]) -> None:
        """Who may read the design changed: close (4404, as a design never seen) if this
        page's user may no longer read it (made private, collaborator removed, deleted)."""
        if self.closed:
            return
        try:
            await database_sync_to_async(access_design)(self.scope["user"], self.design_id)
        except DesignNotFound:
            self.closed = True
            await self.leave()
            await self.close(code=CLOSE_NOT_FOUND)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closed:
            return
        if text_data is None:
            text = "messages must be JSON text, not binary frames"
            await self.send_event(events.ErrorEvent(message=text))
            return
        try:
            request = events.parse_request(text_data)
        except events.BadRequest as error:
            await self.send_event(events.ErrorEvent(message=str(error)))
            return
        if isinstance(request, events.ApplyRequest) and request.dry_run:
            await self.preview_change()
            return
        if isinstance(request, events.DeployRequest | events.DestroyRequest | events.ApplyRequest):
            await self.change_deployment(request)
            return
        if isinstance(request, events.ShowRequest):
            self.shown = request.node
            await self.tell_worker("worker.watch")
            return
        if isinstance(request, events.PingAllStopRequest):
            message = {"type": "worker.pingall.stop", "channel": self.channel_name}
        elif isinstance(request, events.ConsoleStopRequest | events.CaptureStopRequest):
            message = {
                "type": "worker.probe.stop",
                "channel": self.channel_name,
                "probe": events.stop_name(request),
            }
        else:
            message = {
                "type": "worker.probe",
                "user": self.scope["user"].pk,
                "design": self.design_id,
                "reply": self.channel_name,
                "request": request.as_message(),
            }
        try:
            await self.channel_layer.send(await self.lab_worker(), message)
        except ChannelFull:  # a flood of requests: refuse this one, keep the page
            text = "the worker is busy; try again in a moment"
            node = events.node_of(request)
            await self.send_event(events.ErrorEvent(message=text, action=request.action, node=node))

    async def change_deployment(
        self, request: events.DeployRequest | events.DestroyRequest | events.ApplyRequest
    ) -> None:
        """Queue a deploy, a live change or a destroy, tell the page's group, and nudge the
        worker."""
        try:
            state, site = await database_sync_to_async(_change_at_site)(
                self.scope["user"],
                self.design_id,
                request.action,
                request.site if isinstance(request, events.DeployRequest) else None,
            )
        except (deployments.DeploymentRefused, DesignNotFound) as error:
            text = "no such design" if isinstance(error, DesignNotFound) else str(error)
            await self.send_event(events.ErrorEvent(message=text, action=request.action))
            return
        await channel.publish(self.channel_layer, self.design_id, self.scope["user"].pk, state)
        await channel.nudge(self.channel_layer, site)
        if channel.worker_channel(site) not in self.watching:  # a new lab, on another site
            await self.tell_worker("worker.watch")

    async def preview_change(self) -> None:
        """Answer this page alone with the steps a live change would run."""
        try:
            plan = await database_sync_to_async(_preview_change)(self.scope["user"], self.design_id)
        except (deployments.DeploymentRefused, DesignNotFound) as error:
            text = "no such design" if isinstance(error, DesignNotFound) else str(error)
            await self.send_event(events.ErrorEvent(message=text, action="apply"))
            return
        await self.send_event(plan)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels closes stale database connections before every handler, in the one
        # thread all database work shares: a hop per message that, while a deploy streams
        # 800 steps, delayed the page's "running" by 4 s. Forwarding an event reads nothing.
        if message["type"] == "lab.event":
            await self.lab_event(message)
            return
        await super().dispatch(message)

    async def lab_event(self, message: dict[str, Any]) -> None:
        """Forward an event from the lab's group (or the worker) to the page as it is."""
        if self.closed:
            return
        text = message.get("text")
        if text is not None:
            await self.send(text_data=text)
        else:  # from a worker of an older netlab: the event as a dict
            await self.send_json(message["event"])

    async def send_event(self, event: events.Message) -> None:
        await self.send_json(event.as_message())

    async def send_json(self, data: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(data))


def _request_change(user: User, design_id: int, action: str) -> events.DeploymentEvent:
    """Request a deploy, live change or destroy of ``design_id`` for ``user``; return the
    deployment's new state.

    Raises DesignNotFound (not the user's to change) or DeploymentRefused.
    """
    return _change_at_site(user, design_id, action)[0]


def _change_at_site(
    user: User, design_id: int, action: str, chosen: str | None = None
) -> tuple[events.DeploymentEvent, str | None]:
    """:func:`_request_change` (a deploy on site ``chosen``, if given), and the name of the
    site whose worker is to do it."""
    if action == "deploy":
        design = access_design_for_edit(user, design_id)
        deployment = deployments.request_deploy(
            design, actor=user, site=chosen or deployments.PLACE
        )
    elif action == "apply":
        design = access_design_for_edit(user, design_id)
        deployment = deployments.request_apply(design, actor=user)
    else:
        deployment = _request_destroy(user, design_id)
    site = deployment.site.name if deployment.site is not None else None
    return events.deployment_event(deployment), site


def _preview_change(user: User, design_id: int) -> events.PlanEvent:
    design = access_design_for_edit(user, design_id)
    revision, change = deployments.preview(design, actor=user)
    return events.PlanEvent(
        revision=revision.number,
        steps=[
            events.PlannedStep(description=step.description, shell=list(step.shell))
            for step in change.steps
        ],
        recreated=[str(item) for item in change.recreated],
    )


def _request_destroy(user: User, design_id: int) -> Deployment:
    design = access_design_for_destroy(user, design_id)  # one's own lab, whatever one's role
    deployment = deployments.latest(design, user)
    if deployment is None or not deployments.destroyable(deployment):
        state = deployment.state if deployment else "not deployed"
        raise deployments.DeploymentRefused(f"{design.name} is {state}; nothing to destroy")
    return deployments.request_destroy(deployment, actor=user)
