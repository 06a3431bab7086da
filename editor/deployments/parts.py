"""Labs across sites: one job per site's part, under the lab's own row.

The split, chosen as the smallest change to the claim model that stays correct: the lab's
row (its :class:`Deployment`) is claimed and driven by the worker of the lab's site, as any
lab; when its nodes run on several sites, the request also writes a :class:`SitePart` per
site (:func:`plan_parts`), the lab's own site's included. Each site's worker claims its own
parts (:func:`claim_parts`: only once the lab's row is claimed, so a lab cancelled while
queued builds nothing) and builds or removes them with its engine (:func:`run_part`). The
lab's worker waits for the parts (:func:`build_parts`, :func:`remove_parts`): the lab runs
when every part runs; when one fails, every part is removed and the lab fails with the
reasons; destroy asks every part to go and ends when each is gone. A part whose site is
down is not waited for (the lab fails, saying so). Each site's worker checks its part
against its own settings before any kernel call: its site, its underlay address as every
tunnel's local end, netlab's names.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from editor.deployments.requests import DeploymentRefused, document_of
from editor.deployments.steplog import DeploymentStepsCallback, StepLog, drive
from editor.deployments.trust import Untrusted, check_names, check_row
from editor.models import Deployment, Site, SitePart
from netlab.core import sites as core_sites
from netlab.core import validation
from netlab.core.document import Document
from netlab.core.engine import Engine
from netlab.core.sites import Part, PartError

logger = logging.getLogger("netlab.deployments")

State = Deployment.State
WAIT_SECONDS = 0.2  # how often the lab's worker looks at its parts


def main_site(document: Document) -> Site | None:
    """The site of a lab whose every host and namespace node is pinned: the first one's
    (its other nodes are unpinned, and go where the lab is placed: None)."""
    pins = [node.site for node in document.nodes if node.kind in ("host", "namespace")]
    if pins and all(pins):
        return Site.objects.filter(name=pins[0]).first()
    return None


def check_pins(document: Document) -> None:
    """Refuse a lab pinned to a site that does not exist, is draining or is down."""
    from editor.deployments.sites import is_up  # sites imports runs, which imports this

    for name in core_sites.pinned(document):
        site = Site.objects.filter(name=name).first()
        pinned = [node.id for node in document.nodes if node.site == name]
        who = f"{', '.join(pinned)} {'is' if len(pinned) == 1 else 'are'} pinned to site {name!r}"
        if site is None:
            raise DeploymentRefused(f"{who}, and there is no such site")
        if site.draining:
            raise DeploymentRefused(f"{who}, which is draining (it takes no new labs)")
        if not is_up(site):
            raise DeploymentRefused(f"{who}, which is down; try again when its worker is back")


def plan_parts(deployment: Deployment, document: Document) -> list[SitePart]:
    """Write a part per site of ``deployment`` (none when every node runs on its site).

    Called in the request's transaction, once the row (and its number) exists. Raises
    :class:`DeploymentRefused` (host mode, a site without its underlay, too many tunnels).
    """
    site = deployment.site
    if site is None:
        return []
    where = core_sites.node_sites(document, site.name)
    if set(where.values()) <= {site.name}:
        return []
    if deployment.host_mode:
        raise DeploymentRefused("a lab across sites cannot run in host mode")
    known = {each.name: each for each in Site.objects.filter(name__in=set(where.values()))}
    underlays = {name: each.underlay for name, each in known.items()}
    try:
        parts = core_sites.parts(document, site.name, underlays, deployment.pk)
    except PartError as error:
        raise DeploymentRefused(str(error)) from None
    return [
        SitePart.objects.create(deployment=deployment, site=known[part.site], part=part.as_dict())
        for part in parts
    ]


# -- a site's worker: its own parts ---------------------------------------------------------


def claim_parts(*, worker: str, site: Site) -> list[tuple[SitePart, str]]:
    """Claim ``site``'s parts waiting for work ("deploy" or "destroy") for ``worker``.

    A part held by a worker of this host that died is taken back first: a half-built one
    fails (the lab's worker then asks for its removal, which the journal finishes), an
    interrupted removal runs again.
    """
    from editor.deployments.runs import worker_gone  # runs imports this module

    held = SitePart.objects.filter(site=site, state__in=[State.DEPLOYING, State.DESTROYING])
    for part in held.exclude(worker=""):
        if worker_gone(part.worker):
            stopped = "the worker stopped in the middle of building it"
            fields = (
                {"error": stopped, "state": State.FAILED} if part.state == State.DEPLOYING else {}
            )
            SitePart.objects.filter(pk=part.pk, worker=part.worker).update(worker="", **fields)
    waiting = SitePart.objects.filter(
        site=site, worker="", state__in=[State.QUEUED, State.DESTROYING]
    )
    if not waiting.exists():
        return []
    claimed = []
    with transaction.atomic():
        for part in waiting.select_related("deployment", "site").order_by("pk"):
            if part.state == State.QUEUED:
                won = SitePart.objects.filter(
                    pk=part.pk, state=State.QUEUED, worker="", deployment__state=State.DEPLOYING
                ).update(state=State.DEPLOYING, worker=worker, updated=timezone.now())
                work = "deploy"
            else:
                won = SitePart.objects.filter(pk=part.pk, state=State.DESTROYING, worker="").update(
                    worker=worker, updated=timezone.now()
                )
                work = "destroy"
            if won:
                # With its lab and revision: the worker reads them from its event loop.
                related = ("deployment__revision", "deployment__site", "site")
                claimed.append((SitePart.objects.select_related(*related).get(pk=part.pk), work))
    return claimed


def trusted_part(part: SitePart, underlay: str) -> tuple[Document, Part]:
    """The document and part to build, once the row passes this worker's checks: netlab's
    names and prefix, a valid document, a well-formed part of this site whose tunnels all
    start at this worker's ``underlay``. Raises :class:`Untrusted`."""
    deployment = part.deployment
    check_row(deployment)
    if deployment.host_mode:
        raise Untrusted("a lab across sites never runs in host mode")
    try:
        document = validation.load(deployment.revision.document)
        wanted = Part.from_dict(part.part, document)
    except (validation.InvalidDesign, PartError) as error:
        raise Untrusted(f"the part to build is not valid: {error}") from None
    if wanted.site != part.site.name:
        raise Untrusted(f"the part is site {wanted.site!r}'s, not {part.site.name!r}'s")
    for tunnel in wanted.tunnels:
        if tunnel.local != underlay:
            raise Untrusted(f"a tunnel starts at {tunnel.local}, not at this site's {underlay}")
    return document, wanted


PART_STEPS = 1000  # the n-th site's part numbers its steps from n * 1000 + 1


def run_part(
    part: SitePart,
    work: str,
    *,
    underlay: str,
    engine: Engine,
    on_steps: DeploymentStepsCallback | None = None,
) -> SitePart:
    """Build (``work`` "deploy") or remove ("destroy") a claimed part with ``engine``; it
    ends running, stopped or failed, with the reason.

    A build's steps go to the lab's step log: the lab's own site's as a lab's, another
    site's numbered after its own thousand and told by its name ("site b: ...")."""
    deployment = part.deployment
    if work == "destroy":
        try:
            check_row(deployment)
            names = check_names(deployment, part.record.get("namespaces", {}))
            engine.destroy(deployment.tag, state_dir=settings.NETLAB_STATE_DIR, namespaces=names)
        except Exception as error:  # said on the part, and by the lab's worker
            return _part_state(part, State.FAILED, error=f"destroy failed: {error}")
        return _part_state(part, State.STOPPED)
    try:
        document, wanted = trusted_part(part, underlay)
        order = list(
            SitePart.objects.filter(deployment=deployment)
            .order_by("pk")
            .values_list("site_id", flat=True)
        )
        own = part.site_id == deployment.site_id
        log = StepLog(
            deployment,
            on_steps,
            offset=0 if own else PART_STEPS * order.index(part.site_id),
            label="" if own else f"site {part.site}: ",
        )
        record = drive(
            lambda report: engine.deploy(
                document,
                tag=deployment.tag,
                prefix=deployment.prefix,
                state_dir=settings.NETLAB_STATE_DIR,
                on_step=report,
                part=wanted,
            ),
            log,
        )
    except Exception as error:  # the engine unwound what it made
        logger.info("part %s of %s failed: %s", part.site, deployment.tag, error)
        return _part_state(part, State.FAILED, error=str(error))
    return _part_state(part, State.RUNNING, record=record.as_dict())


def _part_state(part: SitePart, state: str, **fields: object) -> SitePart:
    part.state, part.worker = state, ""
    for name, value in fields.items():
        setattr(part, name, value)
    part.save(update_fields=["state", "worker", "updated", *fields])
    return part


# -- the lab's worker: waiting for the parts --------------------------------------------------


def has_parts(deployment: Deployment) -> bool:
    return SitePart.objects.filter(deployment=deployment).exists()


def _settle(deployment: Deployment, done: Iterable[str]) -> tuple[list[SitePart], list[str]]:
    """Wait until every part of ``deployment`` is in a state of ``done``, or its site is
    down; return the parts, and the sentences for those whose site went down."""
    from editor.deployments.sites import is_up  # as above

    done = set(done)
    while True:
        parts = list(SitePart.objects.filter(deployment=deployment).select_related("site"))
        lost = [part for part in parts if part.state not in done and not is_up(part.site)]
        if all(part.state in done or part in lost for part in parts):
            return parts, [f"site {part.site} is down (its part is {part.state})" for part in lost]
        time.sleep(WAIT_SECONDS)


def build_parts(deployment: Deployment) -> tuple[dict[str, object] | None, str]:
    """Wait for every part of a claimed lab: return its own site's record when every part
    runs, else (None, why) after removing every part."""
    parts, lost = _settle(deployment, {State.RUNNING, State.FAILED, State.STOPPED})
    failed = lost + [
        f"site {part.site}: {part.error or 'its part was stopped'}"
        for part in parts
        if part.state in (State.FAILED, State.STOPPED)
    ]
    if not failed:
        own = next(part for part in parts if part.site_id == deployment.site_id)
        return own.record, ""
    problems = remove_parts(deployment)
    return None, "; ".join(failed + problems)


def remove_parts(deployment: Deployment) -> list[str]:
    """Ask every part of ``deployment`` to go and wait until each has; return the problems
    (a site that could not remove its part, or is down)."""
    SitePart.objects.filter(deployment=deployment, state=State.QUEUED, worker="").update(
        state=State.STOPPED, updated=timezone.now()
    )
    _, lost = _settle(deployment, {State.RUNNING, State.FAILED, State.STOPPED})
    SitePart.objects.filter(
        deployment=deployment, state__in=[State.RUNNING, State.FAILED], worker=""
    ).update(state=State.DESTROYING, updated=timezone.now())
    parts, lost = _settle(deployment, {State.STOPPED, State.FAILED})
    return lost + [
        f"site {part.site} could not remove its part: {part.error}"
        for part in parts
        if part.state == State.FAILED
    ]


def node_sites(deployment: Deployment) -> dict[str, str | None]:
    """Each node's site in ``deployment``: its part's, else the lab's."""
    own = deployment.site.name if deployment.site is not None else None
    nodes = [node.id for node in document_of(deployment).nodes]
    found: dict[str, str | None] = dict.fromkeys(nodes, own)
    for part in SitePart.objects.filter(deployment=deployment).select_related("site"):
        found.update(dict.fromkeys(part.part.get("nodes", []), part.site.name))
    return found
