"""Live changes: a running lab follows its design's latest saved revision in place.

Asking (:func:`request_apply`) moves a running deployment to ``applying`` with the revision
to apply; whoever claims it (the worker, or the command line) runs it
(:func:`editor.deployments.runs.run_apply`) after the worker's own checks of the row
(:func:`check_apply`). :func:`preview` answers the steps without running anything.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone

from editor.deployments.requests import (
    DeploymentRefused,
    draft_refusal,
    latest,
    quota_problem,
    valid_document,
)
from editor.deployments.trust import Untrusted, check_row
from editor.models import Deployment, Design, Revision
from netlab.core import validation
from netlab.core.document import NAMESPACE_KINDS, Document
from netlab.core.engine import DeploymentRecord
from netlab.core.plan import ChangePlan, Naming, plan_change

State = Deployment.State


def request_apply(design: Design, *, actor: User) -> Deployment:
    """Ask for ``actor``'s running lab of ``design`` to follow its latest saved revision.

    Raises :class:`DeploymentRefused`: no running lab (or one busy with other work), host
    mode, a revision that is not valid, or one that needs more namespaces than are left.
    """
    deployment = latest(design, actor)
    if deployment is None or deployment.state != State.RUNNING:
        state = deployment.state if deployment is not None else "not deployed"
        raise DeploymentRefused(f"{design.name} is {state}; only a running lab takes changes")
    if deployment.parts.exists():
        raise DeploymentRefused(
            "a lab across sites cannot change in place: destroy it and deploy the new revision"
        )
    if deployment.host_mode:
        raise DeploymentRefused(
            "a lab in host mode cannot change in place: destroy it and deploy the new revision"
        )
    wanted = design.current
    if wanted is None:
        raise DeploymentRefused(f"{design.name} has no saved revision")
    if wanted.draft:
        raise DeploymentRefused(draft_refusal(wanted, "applied"))
    valid_document(wanted)
    problem = quota_problem(design, actor, replacing=deployment)
    if problem:
        raise DeploymentRefused(problem)
    changed = Deployment.objects.filter(pk=deployment.pk, state=State.RUNNING).update(
        state=State.APPLYING,
        applying_revision=wanted,
        worker="",
        error="",
        updated=timezone.now(),
    )
    if not changed:
        raise DeploymentRefused(f"{design.name} changed state meanwhile; try again")
    deployment.refresh_from_db()
    return deployment


def preview(design: Design, *, actor: User) -> tuple[Revision, ChangePlan]:
    """Return the latest saved revision of ``design`` and the steps that would change
    ``actor``'s running lab to it (nothing runs). Raises :class:`DeploymentRefused`."""
    deployment = latest(design, actor)
    if deployment is None or deployment.state not in (State.RUNNING, State.APPLYING):
        state = deployment.state if deployment is not None else "not deployed"
        raise DeploymentRefused(f"{design.name} is {state}; only a running lab takes changes")
    wanted = design.current
    if wanted is None:
        raise DeploymentRefused(f"{design.name} has no saved revision")
    naming = Naming(deployment.tag, deployment.prefix, deployment.host_mode)
    running = validation.load(deployment.revision.document)
    change = plan_change(
        running, valid_document(wanted), naming.following(dict(deployment.namespaces))
    )
    return wanted, change


def doomed_namespaces(deployment: Deployment) -> list[str]:
    """The namespaces an ``applying`` deployment's change removes: its nodes that are no
    longer namespaces (or the host) in the revision it is being changed to."""
    wanted = deployment.applying_revision
    if wanted is None:
        return []
    try:
        staying = {node.id for node in validation.load(wanted.document).nodes
                   if node.kind in NAMESPACE_KINDS}  # fmt: skip
    except validation.InvalidDesign:
        return []  # refused by the worker's checks: nothing is removed
    return [netns for node, netns in deployment.namespaces.items() if netns and node not in staying]


def check_apply(deployment: Deployment) -> tuple[Document, Document, DeploymentRecord]:
    """The worker's own checks of an ``applying`` row: its names, host mode, both revisions
    valid. Returns (running revision, wanted revision, the lab's record); raises
    :class:`Untrusted`."""
    check_row(deployment)
    if deployment.host_mode:
        raise Untrusted("a lab in host mode cannot change in place")
    wanted = deployment.applying_revision
    if wanted is None or wanted.design_id != deployment.design_id:
        raise Untrusted("the row names no revision of its design to apply")
    try:
        running = validation.load(deployment.revision.document)
        target = validation.load(wanted.document)
    except validation.InvalidDesign as error:
        raise Untrusted(f"a revision is not a valid design: {error}") from None
    record = DeploymentRecord(
        tag=deployment.tag,
        design=running.name,
        prefix=deployment.prefix,
        host_mode=False,
        namespaces=dict(deployment.namespaces),
        state_dir=str(settings.NETLAB_STATE_DIR),
    )
    return running, target, record
