"""The worker's channel contract: the groups pages join, the worker's own channel, and the
envelope every lab event travels in. Consumers and services import these names; nothing
here runs work.

- Pages join two groups: the design's (:func:`group_name`: news every reader may have,
  such as "access changed") and their user's lab of the design (:func:`lab_group`). A
  deployment's events (its state, steps, tables and counters: tag, namespaces, MACs) go to
  its owner's lab group only, never to other readers of the design.
- Each site's worker listens on its own channel (:func:`worker_channel`:
  ``netlab.worker.SITE``, or :data:`WORKER_CHANNEL` for the worker without a site, the
  embedded layout); everything about a lab goes to its site's (:func:`lab_channel`). It
  listens for ``worker.nudge`` (queued work, see
  :func:`nudge`), ``worker.refresh`` (a page connected to a running lab), ``worker.watch``
  and ``worker.unwatch`` (a page opened or went), ``worker.probe`` (a probe request
  with the asking consumer's channel), ``worker.pingall.stop`` (that page's ping-alls are
  to stop) and ``worker.probe.stop`` (that page's capture or console line ``probe``, named
  by ``events.stop_name``, is to stop).
"""

from __future__ import annotations

import contextlib
import json
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.exceptions import ChannelFull
from channels.layers import BaseChannelLayer, get_channel_layer
from django.db import transaction

from editor import events

logger = logging.getLogger("netlab.worker")

WORKER_CHANNEL = "netlab.worker"


def worker_channel(site: str | None) -> str:
    """The channel of site ``site``'s worker (a slug, so a valid channel name), or of the
    worker without a site."""
    return f"{WORKER_CHANNEL}.{site}" if site else WORKER_CHANNEL


def lab_channel(design_id: int, user_id: int) -> str:
    """The channel of the worker that holds the user's lab of the design (blocking: it
    reads the database)."""
    from editor.deployments.sites import lab_site  # the channel contract imports no models

    return worker_channel(lab_site(design_id, user_id))


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
    """Wrap ``event`` for the channel layer; consumers forward it in ``lab_event``.

    It travels as its JSON text (``text``), made once for every page it reaches: as a dict,
    the in-memory layer copied it item by item for each page (a star of 200's deploy steps,
    14-84 ms of the event loop, beside the engine) and each page encoded it again.
    """
    return {"type": "lab.event", "text": event.model_dump_json()}


def event_of(message: dict[str, Any]) -> dict[str, Any]:
    """The event a ``lab.event`` message carries, as a dict (for readers other than pages):
    its ``text``, or its ``event`` from a worker of an older netlab."""
    text = message.get("text")
    return dict(json.loads(text)) if text is not None else dict(message["event"])


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


async def nudge(layer: BaseChannelLayer, site: str | None = None) -> None:
    """Tell site ``site``'s worker there is queued work. Best effort: the worker also polls."""
    with contextlib.suppress(ChannelFull):
        await layer.send(worker_channel(site), {"type": "worker.nudge"})
