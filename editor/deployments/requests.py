"""Asking for deployments, and the rules the web process answers by.

``request_*`` only write the row (the worker claims and runs it, :mod:`.runs`); a request
that cannot be carried out raises :class:`DeploymentRefused` with a sentence for the user.
Also the lab lookups every caller shares: the user's latest deployment, a node's namespace
and addresses, and whether a lab may be destroyed (:func:`destroyable`), which the page is
told rather than deciding itself.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from editor.models import Collaborator, Deployment, Design, Revision, Site
from netlab.core import names, targets, validation
from netlab.core.document import Document
from netlab.core.plan import namespace_count

State = Deployment.State
# The states in which a destroy request has something to act on: a queued lab is cancelled,
# a running, failed or unknown one removed (an unknown one by its site's worker, once back).
# A deploying or applying lab is destroyed once it ends; a destroying one is on its way; a
# stopped one has nothing left.
DESTROYABLE_STATES = (State.QUEUED, State.RUNNING, State.FAILED, State.UNKNOWN)
DRAFT_PROBLEMS_NAMED = 3  # a refusal of a draft names its first problems, counts the rest


class DeploymentRefused(Exception):
    """The request cannot be carried out as asked; the message says why, for the user."""


class LabsActive(Exception):
    """Something cannot be deleted while labs of it are active; the message names them.

    Deleting the row of an active lab would leave its namespaces and nftables tables in the
    kernel with nothing left to destroy them (and free its quota): the labs go first.
    """

    def __init__(self, what: str, labs: list[Deployment]) -> None:
        self.labs = labs
        described = "; ".join(describe(lab) for lab in labs)
        count = f"{len(labs)} lab is" if len(labs) == 1 else f"{len(labs)} labs are"
        super().__init__(
            f"{what} cannot be deleted while {count} active ({described}); destroy "
            f"{'it' if len(labs) == 1 else 'them'} first"
        )


def describe(deployment: Deployment) -> str:
    """A lab as a user reads it: whose, which design, its tag and state."""
    return (
        f"{deployment.owner}'s lab {deployment.tag} of {deployment.design.name}, {deployment.state}"
    )


def remove_ended(labs: QuerySet[Deployment], what: str) -> None:
    """Delete the ended rows among ``labs``; raise :class:`LabsActive` if any is active.

    Called inside the caller's transaction, before it deletes what the labs belong to.
    """
    active = list(labs.filter(state__in=Deployment.ACTIVE_STATES).select_related("design", "owner"))
    if active:
        raise LabsActive(what, active)
    labs.delete()


def may_keep(deployment: Deployment) -> bool:
    """Whether ``deployment``'s user still has a role on its design (owner or collaborator).

    A collaborator removed from a design loses their labs of it: the worker destroys them.
    """
    design = deployment.design
    return bool(
        deployment.owner_id == design.owner_id
        or Collaborator.objects.filter(design=design, user_id=deployment.owner_id).exists()
    )


def document_of(deployment: Deployment) -> Document:
    return Document.model_validate(deployment.revision.document)


PLACE = "place"  # request_deploy's site: the least loaded live site (sites.place)


def request_deploy(
    design: Design, *, actor: User, host_mode: bool = False, site: Site | str | None = PLACE
) -> Deployment:
    """Queue a deployment of ``design``'s current revision for ``actor``.

    ``site``: :data:`PLACE` (the least loaded live site, none when no site is registered),
    a site's name (the user's choice), a :class:`Site`, or None (not placed: a worker
    without ``--site`` runs it, as the command line does here). Nodes pinned to sites
    (``site`` in the document) run there: a lab whose every node is pinned goes to the first
    one's site, and a lab across sites gets a part per site (``parts.plan_parts``); a pin to
    a site that does not exist, is draining or is down is refused.

    ``host_mode`` maps the design's host node onto this machine's root namespace; it is
    refused unless the server allows it (``NETLAB_HOST_MODE``). Raises
    :class:`DeploymentRefused` for that, and if ``actor`` already has a live deployment of
    ``design``.
    """
    if design.current is None:
        raise DeploymentRefused(f"{design.name} has no saved revision to deploy")
    if design.current.draft:
        raise DeploymentRefused(draft_refusal(design.current, "deployed"))
    if host_mode and not settings.NETLAB_HOST_MODE:
        raise DeploymentRefused(
            "host mode is off on this server: a lab's host node is a namespace of its own. "
            "An administrator can allow it with NETLAB_HOST_MODE=1"
        )
    if (
        host_mode
        and Deployment.objects.filter(host_mode=True, state__in=Deployment.ACTIVE_STATES).exists()
    ):
        raise DeploymentRefused("host mode allows one deployment at a time on this machine")
    _check_quotas(design, actor)
    document = current_document(design)
    pinned = any(node.site for node in document.nodes)
    if isinstance(site, str) or pinned:
        # sites and parts import this module.
        from editor.deployments.parts import check_pins, main_site, plan_parts
        from editor.deployments.sites import place

        check_pins(document)
        asked, site = site, main_site(document)
        if site is None and isinstance(asked, str):
            site = place(None if asked == PLACE else asked)
        elif site is None:
            site = asked if isinstance(asked, Site) else place()
    assert not isinstance(site, str)  # placed above
    try:
        with transaction.atomic():
            deployment = Deployment.objects.create(
                site=site,
                design=design,
                revision=design.current,
                owner=actor,
                tag=names.new_tag(),
                prefix=settings.NETLAB_NETNS_PREFIX,
                host_mode=host_mode,
            )
            if pinned:
                plan_parts(deployment, document)
            return deployment
    except IntegrityError:
        live = Deployment.objects.filter(
            design=design, owner=actor, state__in=Deployment.ACTIVE_STATES
        ).first()
        state = live.state if live else "running"
        raise DeploymentRefused(
            f"{design.name} is already {state}; destroy it before deploying again"
        ) from None


def current_document(design: Design) -> Document:
    """``design``'s current revision as a valid design (see :func:`valid_document`)."""
    assert design.current is not None  # the callers refuse a design without one
    return valid_document(design.current)


def valid_document(revision: Revision) -> Document:
    """``revision``'s document, read as a valid design (remembered by its content: a deploy
    request reads it twice, and the worker's check once more).

    Raises :class:`DeploymentRefused` when it does not validate (saved before a rule it
    breaks existed, or written around netlab): the worker would refuse it anyway.
    """
    try:
        return validation.load(revision.document)
    except validation.InvalidDesign as error:
        raise DeploymentRefused(
            f"revision {revision.number} is not a valid design: {error}"
        ) from None


def draft_refusal(revision: Revision, what: str) -> str:
    """Why draft ``revision`` cannot be ``what`` (deployed, exported...): its problems."""
    problems = validation.problems_of(revision.document)
    listed = "; ".join(str(problem) for problem in problems[:DRAFT_PROBLEMS_NAMED])
    more = len(problems) - DRAFT_PROBLEMS_NAMED
    if more > 0:
        listed += f"; and {more} more"
    count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
    return (
        f"revision {revision.number} of {revision.design.name} is a draft and cannot be "
        f"{what} until its problems are fixed and it is saved again ({count}: {listed})"
    )


def _check_quotas(design: Design, actor: User) -> None:
    """Refuse a deployment that would pass the user's or the machine's limits."""
    problem = quota_problem(design, actor)
    if problem:
        raise DeploymentRefused(problem)


def quota_problem(
    design: Design, actor: User, *, replacing: Deployment | None = None
) -> str | None:
    """Why a lab of ``design``'s current revision for ``actor`` would pass the user's or
    the machine's limits, or None. ``replacing``: the running lab it would become (a live
    change), not counted."""
    live = Deployment.objects.filter(state__in=Deployment.ACTIVE_STATES)
    if replacing is not None:
        live = live.exclude(pk=replacing.pk)
    running = live.filter(owner=actor).count()
    if replacing is None and running >= settings.NETLAB_MAX_RUNNING_PER_USER:
        return (
            f"you already run {running} labs, the most this server allows per user; "
            "destroy one first"
        )
    wanted = namespace_count(current_document(design))
    in_use = sum(namespace_count(document_of(other)) for other in live.select_related("revision"))
    if in_use + wanted > settings.NETLAB_MAX_NAMESPACES:
        return (
            f"this lab needs {wanted} namespaces and the machine has "
            f"{max(settings.NETLAB_MAX_NAMESPACES - in_use, 0)} left; try again later"
        )
    return None


def request_destroy(deployment: Deployment, *, actor: User) -> Deployment:
    """Ask for ``deployment`` to be destroyed. A queued one is simply cancelled."""
    # ``updated`` is set by hand: update() skips auto_now, and pages order the state
    # messages they receive by it.
    # A running lab (the usual case) is one conditional update: a row is made queued and
    # never goes back to it, so only one read queued may still be.
    cancelled = deployment.state == State.QUEUED and bool(
        Deployment.objects.filter(pk=deployment.pk, state=State.QUEUED).update(
            state=State.STOPPED, error="cancelled before it started", updated=timezone.now()
        )
    )
    if cancelled:
        deployment.parts.filter(state=State.QUEUED).update(state=State.STOPPED)
    else:
        removable = [State.RUNNING, State.FAILED, State.UNKNOWN]
        changes = {"state": State.DESTROYING, "worker": "", "updated": timezone.now()}
        if Deployment.objects.filter(pk=deployment.pk, state__in=removable).update(**changes):
            # The row is what was read, with the update's changes: no reload.
            for field, value in changes.items():
                setattr(deployment, field, value)
            return deployment
    deployment.refresh_from_db()
    return deployment


def destroyable(deployment: Deployment | None) -> bool:
    """Whether a destroy of ``deployment`` has something to act on now (its state is one of
    :data:`DESTROYABLE_STATES`); None (never deployed) is not destroyable."""
    return deployment is not None and deployment.state in DESTROYABLE_STATES


def live_tags() -> set[str]:
    """Tags of the deployments whose kernel objects must be kept (cleanup spares them)."""
    return set(
        Deployment.objects.filter(state__in=Deployment.ACTIVE_STATES).values_list("tag", flat=True)
    )


def latest(design: Design, user: User) -> Deployment | None:
    """The user's live deployment of ``design``, else their most recent one, else None."""
    deployments = Deployment.objects.filter(design=design, owner=user)
    return deployments.filter(state__in=Deployment.ACTIVE_STATES).first() or deployments.first()


def resolve_target(document: Document, target: str) -> str:
    """Return ``target`` as an address: itself if it names no node, else the node's first
    address (``netlab.core.targets``).

    Raises :class:`DeploymentRefused` for a node without addresses.
    """
    try:
        return targets.resolve_target(document, target)
    except targets.NoAddress as error:
        raise DeploymentRefused(str(error)) from None


def namespace_of(deployment: Deployment, node_id: str) -> str:
    """Return the kernel namespace of ``node_id`` in a running deployment.

    Raises :class:`DeploymentRefused` when the node has no namespace of its own (a bridge,
    or the host in host mode) or the deployment is not running.
    """
    if deployment.state != State.RUNNING:
        raise DeploymentRefused(f"the deployment is {deployment.state}, not running")
    netns = deployment.namespaces.get(node_id)
    if not netns:
        document = document_of(deployment)
        node = document.node(node_id)
        if node is None:
            raise DeploymentRefused(f"no node {node_id!r} in this design")
        raise DeploymentRefused(f"{node_id} is a {node.kind}; probes start from a namespace")
    return str(netns)
