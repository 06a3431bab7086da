"""Deployments: every state change of a lab goes through these functions.

A deployment is a row that moves through its states (queued, deploying, running, failed,
destroying, stopped). Asking (``request_*``) only writes the row; running (``run_*``)
claims it atomically, so that whoever claims first (the worker, or the command line)
does the work once, drives the engine and records each step. The database is the record;
``on_step`` and ``on_state`` only let a caller show progress.
"""

from __future__ import annotations

import importlib
import logging
import os
import queue
import re
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from editor.models import Collaborator, Deployment, DeploymentStep, Design
from netlab.core import names, validation
from netlab.core.document import Design as Document

logger = logging.getLogger("netlab.deployments")

State = Deployment.State
StateCallback = Callable[[Deployment], None]
StepCallback = Callable[[DeploymentStep], None]


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


def engine() -> ModuleType:
    """Return the engine module (``settings.NETLAB_ENGINE``): the real kernel one by default.

    Tests above the kernel layer may name an in-memory engine with the same functions.
    """
    return importlib.import_module(settings.NETLAB_ENGINE)


def document_of(deployment: Deployment) -> Document:
    return Document.model_validate(deployment.revision.document)


def request_deploy(
    design: Design, *, actor: AbstractBaseUser, host_mode: bool = False
) -> Deployment:
    """Queue a deployment of ``design``'s current revision for ``actor``.

    ``host_mode`` maps the design's host node onto this machine's root namespace; it is
    refused unless the server allows it (``NETLAB_HOST_MODE``). Raises
    :class:`DeploymentRefused` for that, and if ``actor`` already has a live deployment of
    ``design``.
    """
    if design.current is None:
        raise DeploymentRefused(f"{design.name} has no saved revision to deploy")
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
    try:
        with transaction.atomic():
            return Deployment.objects.create(
                design=design,
                revision=design.current,
                owner=actor,
                tag=names.new_tag(),
                prefix=settings.NETLAB_NETNS_PREFIX,
                host_mode=host_mode,
            )
    except IntegrityError:
        live = Deployment.objects.filter(
            design=design, owner=actor, state__in=Deployment.ACTIVE_STATES
        ).first()
        state = live.state if live else "running"
        raise DeploymentRefused(
            f"{design.name} is already {state}; destroy it before deploying again"
        ) from None


def _check_quotas(design: Design, actor: AbstractBaseUser) -> None:
    """Refuse a deployment that would pass the user's or the machine's limits."""
    live = Deployment.objects.filter(state__in=Deployment.ACTIVE_STATES)
    running = live.filter(owner=actor).count()
    if running >= settings.NETLAB_MAX_RUNNING_PER_USER:
        raise DeploymentRefused(
            f"you already run {running} labs, the most this server allows per user; "
            "destroy one first"
        )
    wanted = namespace_count(Document.model_validate(design.document))
    in_use = sum(namespace_count(document_of(other)) for other in live.select_related("revision"))
    if in_use + wanted > settings.NETLAB_MAX_NAMESPACES:
        raise DeploymentRefused(
            f"this lab needs {wanted} namespaces and the machine has "
            f"{max(settings.NETLAB_MAX_NAMESPACES - in_use, 0)} left; try again later"
        )


def namespace_count(document: Document) -> int:
    """Return how many namespaces a deployment of ``document`` creates (bridges need none)."""
    return sum(1 for node in document.nodes if node.kind != "bridge")


def request_destroy(deployment: Deployment, *, actor: AbstractBaseUser) -> Deployment:
    """Ask for ``deployment`` to be destroyed. A queued one is simply cancelled."""
    # ``updated`` is set by hand: update() skips auto_now, and pages order the state
    # messages they receive by it.
    cancelled = Deployment.objects.filter(pk=deployment.pk, state=State.QUEUED).update(
        state=State.STOPPED, error="cancelled before it started", updated=timezone.now()
    )
    if not cancelled:
        Deployment.objects.filter(pk=deployment.pk, state__in=[State.RUNNING, State.FAILED]).update(
            state=State.DESTROYING, worker="", updated=timezone.now()
        )
    deployment.refresh_from_db()
    return deployment


def claim(deployment: Deployment, *, worker: str) -> str | None:
    """Atomically take ``deployment``'s pending work for ``worker``.

    Returns "deploy" or "destroy" when this call won the work, None when there is none or
    another worker already has it.
    """
    deploys = Deployment.objects.filter(pk=deployment.pk, state=State.QUEUED, worker="")
    if deploys.update(state=State.DEPLOYING, worker=worker, updated=timezone.now()):
        deployment.refresh_from_db()
        return "deploy"
    destroys = Deployment.objects.filter(pk=deployment.pk, state=State.DESTROYING, worker="")
    if destroys.update(worker=worker):
        deployment.refresh_from_db()
        return "destroy"
    return None


def worker_id(pid: int | None = None) -> str:
    """The claim mark of process ``pid`` (this one by default): ``host:pid:start``.

    ``start`` is the process's start time (in clock ticks since boot, from
    ``/proc/<pid>/stat``), so a process that later gets the same pid is a different worker.
    """
    pid = os.getpid() if pid is None else pid
    return f"{os.uname().nodename}:{pid}:{_start_time(pid)}"


def _start_time(pid: int) -> str | None:
    """Return field 22 of ``/proc/<pid>/stat`` (start time), or None if there is no such
    process."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            text = stat.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (field 2) is in parentheses and may hold spaces or ")": split
    # after its last ")". What follows starts at field 3, so field 22 is item 19.
    return text.rpartition(")")[2].split()[19]


def worker_gone(worker: str) -> bool:
    """Whether claim mark ``worker`` names a process of this host that no longer runs.

    False for a live worker, for a worker of another host (this one cannot tell), and for
    a mark that is not a ``host:pid:start`` worker id (a name given by hand).
    """
    host, _, rest = worker.partition(":")
    pid, _, start = rest.partition(":")
    if host != os.uname().nodename or not pid.isdigit() or not start:
        return False
    return _start_time(int(pid)) != start


def recover_abandoned(
    *,
    worker: str | None = None,
    on_state: StateCallback | None = None,
) -> list[Deployment]:
    """Take back the work of this host's workers that died holding it; return those rows.

    A worker killed mid-work (SIGKILL, a crash, a power cut) leaves its row claimed.
    For each row claimed by a :func:`worker_gone` worker:

    - ``deploying``: the half-built lab is destroyed (the engine's destroy is idempotent
      and finishes a half-deployed one) and the row ends ``failed``, saying so;
    - ``destroying``: the claim is released, so the destroy is claimed and run again.

    Each row is first re-claimed atomically for ``worker`` (this process by default), so
    two workers recovering at once do it once. Rows claimed by workers of other hosts are
    left alone: only their own host can tell whether they still run, and should recover
    them. Blocking (the engine); ``on_state`` is called after each state change.
    """
    worker = worker or worker_id()
    recovered = []
    claimed = Deployment.objects.filter(state__in=[State.DEPLOYING, State.DESTROYING]).exclude(
        worker=""
    )
    for deployment in claimed:
        dead = deployment.worker
        if not worker_gone(dead):
            continue
        if deployment.state == State.DESTROYING:
            if Deployment.objects.filter(pk=deployment.pk, worker=dead).update(worker=""):
                logger.warning("destroy of %s resumes: worker %s stopped", deployment.tag, dead)
                deployment.refresh_from_db()
                recovered.append(deployment)
            continue
        if not Deployment.objects.filter(
            pk=deployment.pk, state=State.DEPLOYING, worker=dead
        ).update(worker=worker):
            continue
        deployment.refresh_from_db()
        logger.warning("deployment %s rolls back: worker %s stopped", deployment.tag, dead)
        error = "the worker stopped in the middle of the deployment; the lab was rolled back"
        try:
            engine().destroy(
                deployment.tag,
                state_dir=settings.NETLAB_STATE_DIR,
                namespaces=recorded_namespaces(deployment),
            )
        except Exception as failure:  # still failed: a destroy request finishes the job
            error = (
                "the worker stopped in the middle of the deployment, and rolling it back "
                f"failed: {failure}; destroy it to try again"
            )
        _set_state(deployment, State.FAILED, on_state, error=error, worker="")
        recovered.append(deployment)
    return recovered


# -- the worker's own checks --------------------------------------------------------------
# The row is written by the web process, which runs unprivileged and may be compromised:
# before any kernel call the worker checks every privileged choice in it against its own
# settings and netlab's own name rules, and fails the deployment if one does not hold.


class Untrusted(Exception):
    """A deployment row asks for something this worker does not allow; nothing was touched."""


def _check_names(deployment: Deployment) -> None:
    """Check the row's tag, prefix and recorded namespace names against netlab's own rules."""
    if not names.TAG.fullmatch(deployment.tag):
        raise Untrusted(f"{deployment.tag!r} is not a deployment tag")
    if not names.PREFIX.fullmatch(deployment.prefix.rstrip("-") or "-"):
        raise Untrusted(f"{deployment.prefix!r} is not a namespace prefix")
    if not isinstance(deployment.namespaces, dict):
        raise Untrusted("the recorded namespaces are not a mapping")
    own = re.compile(re.escape(deployment.prefix) + re.escape(deployment.tag) + r"-[0-9]{1,6}")
    for node, netns in deployment.namespaces.items():
        if netns is not None and not (isinstance(netns, str) and own.fullmatch(netns)):
            raise Untrusted(f"{node}'s namespace {netns!r} is not one this deployment names")


def check_deploy(deployment: Deployment) -> Document:
    """Return the document to deploy once the row passes this worker's own checks.

    Raises :class:`Untrusted`: host mode this worker's settings do not allow, another prefix
    than this worker's, a tag, prefix or namespace name outside netlab's rules, or a document
    that does not validate.
    """
    if deployment.host_mode and not settings.NETLAB_HOST_MODE:
        raise Untrusted(
            "host mode is off on this worker (NETLAB_HOST_MODE): it deploys no lab into the "
            "machine's root namespace"
        )
    _check_names(deployment)
    if deployment.prefix != settings.NETLAB_NETNS_PREFIX:
        raise Untrusted(
            f"the namespace prefix {deployment.prefix!r} is not this worker's "
            f"({settings.NETLAB_NETNS_PREFIX!r})"
        )
    if deployment.namespaces:
        raise Untrusted("a deployment yet to run has no namespaces")
    try:
        document = validation.load(deployment.revision.document)
    except validation.InvalidDesign as error:
        raise Untrusted(f"the revision to deploy is not a valid design: {error}") from None
    _check_machine_limits(deployment, document)
    return document


def _check_machine_limits(deployment: Deployment, document: Document) -> None:
    """Check the machine-wide limits again, against the labs this side of a claim.

    The web process checked them when the deploy was requested, but two requests can pass
    together, and a row it writes is not to be believed: a queued row is counted when it is
    claimed.
    """
    claimed = Deployment.objects.filter(
        state__in=(State.DEPLOYING, State.RUNNING, State.DESTROYING)
    ).exclude(pk=deployment.pk)
    if len(document.nodes) > settings.NETLAB_MAX_NODES:
        raise Untrusted(
            f"the design has {len(document.nodes)} nodes, more than this machine allows "
            f"({settings.NETLAB_MAX_NODES})"
        )
    if deployment.host_mode and claimed.filter(host_mode=True).exists():
        raise Untrusted("host mode allows one deployment at a time on this machine")
    wanted = namespace_count(document)
    in_use = sum(
        namespace_count(document_of(other)) for other in claimed.select_related("revision")
    )
    if in_use + wanted > settings.NETLAB_MAX_NAMESPACES:
        raise Untrusted(
            f"this lab needs {wanted} namespaces and the machine has "
            f"{max(settings.NETLAB_MAX_NAMESPACES - in_use, 0)} left; try again later"
        )


def recorded_namespaces(deployment: Deployment) -> list[str]:
    """Return the row's namespace names, once they pass netlab's name rules (for destroy).

    The prefix may be an older setting of this server's: destroy still finds those labs; the
    engine removes only namespaces that carry the deployment's own mark. Raises
    :class:`Untrusted`.
    """
    _check_names(deployment)
    return [name for name in deployment.namespaces.values() if name]


def _step_recorder(
    deployment: Deployment, action: str, on_step: StepCallback | None
) -> Callable[[Any], None]:
    started: dict[int, DeploymentStep] = {}

    def record(event: Any) -> None:
        if event.phase == "start":
            step = DeploymentStep.objects.create(
                deployment=deployment,
                action=action,
                index=event.index,
                total=event.total,
                description=event.description[:300],
                shell="\n".join(event.shell),
            )
            started[event.index] = step
        else:
            step = started.pop(event.index)
            step.outcome = (
                DeploymentStep.Outcome.FAILED if event.error else DeploymentStep.Outcome.DONE
            )
            step.duration_ms = round((event.duration or 0.0) * 1000, 3)
            step.error = event.error or ""
            step.save(update_fields=["outcome", "duration_ms", "error"])
        if on_step is not None:
            on_step(step)

    return record


def _set_state(
    deployment: Deployment, state: str, on_state: StateCallback | None, **fields: Any
) -> None:
    deployment.state = state
    for name, value in fields.items():
        setattr(deployment, name, value)
    deployment.save(update_fields=["state", "updated", *fields])
    if on_state is not None:
        on_state(deployment)


def _drive(work: Callable[[Callable[[Any], None]], Any], record: Callable[[Any], None]) -> Any:
    """Run engine call ``work(on_step)`` in a thread; apply ``record`` to its step events here.

    The engine reports steps from a thread of its own; the database is written only from
    this (the caller's) thread, whose connection Django manages.
    """
    events: queue.Queue[Any] = queue.Queue()
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["result"] = work(events.put)
        except BaseException as error:  # re-raised in the caller's thread below
            outcome["error"] = error
        finally:
            events.put(_DONE)

    thread = threading.Thread(target=target, name="netlab-engine", daemon=True)
    thread.start()
    while (event := events.get()) is not _DONE:
        record(event)
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


_DONE = object()


def run_deploy(
    deployment: Deployment,
    *,
    on_step: StepCallback | None = None,
    on_state: StateCallback | None = None,
) -> Deployment:
    """Build a claimed deployment in the kernel; it ends running, or failed and rolled back."""
    if on_state is not None:
        on_state(deployment)
    try:
        document = check_deploy(deployment)
    except Untrusted as error:
        logger.warning("deployment %s refused by the worker: %s", deployment.pk, error)
        _set_state(deployment, State.FAILED, on_state, error=f"refused: {error}", worker="")
        return deployment
    kernel = engine()
    try:
        record = _drive(
            lambda report: kernel.deploy(
                document,
                tag=deployment.tag,
                prefix=deployment.prefix,
                host_mode=deployment.host_mode,
                state_dir=settings.NETLAB_STATE_DIR,
                on_step=report,
            ),
            _step_recorder(deployment, "deploy", on_step),
        )
    except Exception as error:  # every failure ends the deployment, with its reason
        logger.info("deployment %s failed: %s", deployment.tag, error)
        _set_state(deployment, State.FAILED, on_state, error=str(error), worker="")
        return deployment
    _set_state(
        deployment,
        State.RUNNING,
        on_state,
        namespaces=record.namespaces,
        record=record.as_dict(),
        worker="",
    )
    if not may_keep(deployment):
        # Its user lost their role on the design while it deployed (a destroy request then
        # had nothing to act on): it goes now, like the labs of a removed collaborator.
        request_destroy(deployment, actor=deployment.owner)
        if on_state is not None:
            on_state(deployment)
    return deployment


def run_destroy(
    deployment: Deployment,
    *,
    on_step: StepCallback | None = None,
    on_state: StateCallback | None = None,
) -> Deployment:
    """Remove a claimed deployment from the kernel; it ends stopped (idempotent)."""
    if on_state is not None:
        on_state(deployment)
    try:
        namespaces = recorded_namespaces(deployment)
    except Untrusted as error:
        logger.warning("destroy of %s refused by the worker: %s", deployment.pk, error)
        _set_state(deployment, State.FAILED, on_state, error=f"refused: {error}", worker="")
        return deployment
    try:
        engine().destroy(deployment.tag, state_dir=settings.NETLAB_STATE_DIR, namespaces=namespaces)
    except Exception as error:
        logger.warning("destroying %s failed: %s", deployment.tag, error)
        _set_state(deployment, State.FAILED, on_state, error=f"destroy failed: {error}", worker="")
        return deployment
    _set_state(deployment, State.STOPPED, on_state, worker="")
    return deployment


def run_claimed(
    deployment: Deployment,
    work: str,
    *,
    on_step: StepCallback | None = None,
    on_state: StateCallback | None = None,
) -> Deployment:
    """Carry out the ``work`` (from :func:`claim`) on ``deployment``."""
    run = run_deploy if work == "deploy" else run_destroy
    return run(deployment, on_step=on_step, on_state=on_state)


def live_tags() -> set[str]:
    """Tags of the deployments whose kernel objects must be kept (cleanup spares them)."""
    return set(
        Deployment.objects.filter(state__in=Deployment.ACTIVE_STATES).values_list("tag", flat=True)
    )


def latest(design: Design, user: AbstractBaseUser) -> Deployment | None:
    """The user's live deployment of ``design``, else their most recent one, else None."""
    deployments = Deployment.objects.filter(design=design, owner=user)
    return deployments.filter(state__in=Deployment.ACTIVE_STATES).first() or deployments.first()


def node_addresses(document: Document, node_id: str) -> list[str]:
    """Return the addresses (without prefix) of ``node_id``'s interfaces, in document order.

    For a bridge, the bridge's own addresses; for the host and namespaces, those of their
    link ends.
    """
    texts: list[str] = []
    node = document.node(node_id)
    if node is not None and node.kind == "bridge":
        texts += node.addresses
    for link in document.links:
        for endpoint in link.endpoints:
            if endpoint.node == node_id:
                texts += endpoint.addresses
    return [text.split("/")[0] for text in texts]


def resolve_target(document: Document, target: str) -> str:
    """Return ``target`` as an address: itself if it is one, else a node's first address.

    Raises :class:`DeploymentRefused` for a node without addresses or an unknown name.
    """
    if document.node(target) is None:
        return target
    addresses = node_addresses(document, target)
    if not addresses:
        raise DeploymentRefused(f"{target} has no address to reach")
    return addresses[0]


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
