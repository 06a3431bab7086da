"""The live lab websocket, ``/ws/designs/<id>/`` (protocol: docs/protocol.md).

Thin by design: ``connect`` authorises and joins the design's group; each message is
parsed into an :mod:`editor.events` request and delegated (deployments to
``editor.deployments`` and the worker, probes to the worker); group events are forwarded
as they are. Nothing here touches the kernel or writes a model directly.
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
from django.contrib.auth.models import AbstractBaseUser
from django.http.request import validate_host

from editor import deployments, events, worker
from editor.models import Deployment, Design
from editor.permissions import (
    DesignNotFound,
    access_design,
    access_design_for_destroy,
    access_design_for_edit,
)

# Close codes of a refused handshake. A design the user may not see closes exactly like a
# missing one, so ids reveal nothing.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403
CLOSE_NOT_FOUND = 4404
RECENT_STEPS = 200


def origin_allowed(origin: str) -> bool:
    """Whether a browser page at ``origin`` may open a session-authenticated socket.

    Its host must be one this site answers to (``ALLOWED_HOSTS``), or the origin one of
    ``CSRF_TRUSTED_ORIGINS``: the same rule Django applies to unsafe HTTP requests.
    """
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    hosts = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not hosts:
        hosts = [".localhost", "127.0.0.1", "[::1]"]
    return validate_host(parts.hostname, hosts)


def _connect_state(design: Design, user: AbstractBaseUser) -> tuple[Deployment | None, list[Any]]:
    deployment = deployments.latest(design, user)
    steps = list(deployment.steps.order_by("-pk")[:RECENT_STEPS]) if deployment else []
    return deployment, steps[::-1]


class LabConsumer(AsyncWebsocketConsumer):
    """One open lab page. ``scope["user"]`` is set by :class:`editor.routing.TokenAuthMiddleware`
    (bearer token) or Django's session; ``scope["bearer"]`` says which."""

    design_id: int
    group: str

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not self.scope.get("bearer"):
            # Cookies go with every request a browser makes, whatever page asks: only pages
            # of this site may use the session. Scripts (bearer) send no cookie to abuse.
            origin = dict(self.scope["headers"]).get(b"origin", b"").decode("latin-1")
            if not origin_allowed(origin):
                await self.close(code=CLOSE_FORBIDDEN_ORIGIN)
                return
        self.design_id = int(self.scope["url_route"]["kwargs"]["design_id"])
        try:
            design = await database_sync_to_async(access_design)(user, self.design_id)
        except DesignNotFound:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.group = worker.group_name(self.design_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.tell_worker("worker.watch")
        deployment, steps = await database_sync_to_async(_connect_state)(design, user)
        await self.send_event(events.deployment_event(deployment))
        for step in steps:
            await self.send_event(events.step_event(step))
        if deployment is not None and deployment.state == Deployment.State.RUNNING:
            # The worker holds the kernel: it publishes the tables to the group.
            await self.channel_layer.send(
                worker.WORKER_CHANNEL, {"type": "worker.refresh", "deployment": deployment.pk}
            )

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)
            await self.tell_worker("worker.unwatch")

    async def tell_worker(self, kind: str) -> None:
        """Tell the worker this page watches (or stopped watching) the design: counters
        are read only while someone looks. Best effort, like a nudge."""
        with contextlib.suppress(ChannelFull):
            await self.channel_layer.send(
                worker.WORKER_CHANNEL,
                {"type": kind, "design": self.design_id, "channel": self.channel_name},
            )

    async def lab_rewatch(self, message: dict[str, Any]) -> None:
        """A restarted worker asks the open pages to say they watch."""
        await self.tell_worker("worker.watch")

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            request = events.parse_request(text_data if text_data is not None else "")
        except events.BadRequest as error:
            await self.send_event(events.ErrorEvent(message=str(error)))
            return
        if isinstance(request, events.DeployRequest | events.DestroyRequest):
            await self.change_deployment(request)
        else:
            await self.channel_layer.send(
                worker.WORKER_CHANNEL,
                {
                    "type": "worker.probe",
                    "user": self.scope["user"].pk,
                    "design": self.design_id,
                    "reply": self.channel_name,
                    "request": request.as_message(),
                },
            )

    async def change_deployment(
        self, request: events.DeployRequest | events.DestroyRequest
    ) -> None:
        """Queue a deploy or destroy, tell the page's group, and nudge the worker."""
        try:
            deployment = await database_sync_to_async(_request_change)(
                self.scope["user"], self.design_id, request.action
            )
        except (deployments.DeploymentRefused, DesignNotFound) as error:
            text = "no such design" if isinstance(error, DesignNotFound) else str(error)
            await self.send_event(events.ErrorEvent(message=text, action=request.action))
            return
        await worker.publish(
            self.channel_layer, self.design_id, events.deployment_event(deployment)
        )
        await worker.nudge(self.channel_layer)

    async def lab_event(self, message: dict[str, Any]) -> None:
        """Forward an event from the group (or the worker) to the page as it is."""
        await self.send_json(message["event"])

    async def send_event(self, event: events.Message) -> None:
        await self.send_json(event.as_message())

    async def send_json(self, data: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(data))


def _request_change(user: AbstractBaseUser, design_id: int, action: str) -> Deployment:
    """Request a deploy or destroy of ``design_id`` for ``user``; return the deployment.

    Raises DesignNotFound (not the user's to change) or DeploymentRefused.
    """
    if action == "deploy":
        return deployments.request_deploy(access_design_for_edit(user, design_id), actor=user)
    design = access_design_for_destroy(user, design_id)  # one's own lab: always destroyable
    deployment = deployments.latest(design, user)
    if deployment is None or deployment.state not in (
        Deployment.State.RUNNING,
        Deployment.State.FAILED,
        Deployment.State.QUEUED,
    ):
        state = deployment.state if deployment else "not deployed"
        raise deployments.DeploymentRefused(f"{design.name} is {state}; nothing to destroy")
    return deployments.request_destroy(deployment, actor=user)
