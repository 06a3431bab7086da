"""Running deployments: claiming a row, driving the engine, recording each step.

Whoever claims a row first (the worker, or the command line) does its work once
(:func:`claim`, then :func:`run_claimed`); a worker that died holding work is recovered by
the next one on its host (:func:`recover_abandoned`). The engine is an argument
(:class:`netlab.core.engine.Engine`); by default :func:`load_engine` loads the one
``NETLAB_ENGINE`` names (the kernel's), only when a deployment runs.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from editor.deployments import parts
from editor.deployments.changes import check_apply
from editor.deployments.requests import may_keep, request_destroy
from editor.deployments.steplog import DeploymentStepsCallback, StepLog, drive
from editor.deployments.trust import Untrusted, check_deploy, recorded_namespaces
from editor.models import Deployment, Site
from netlab.core.engine import Engine

if TYPE_CHECKING:  # the kernel's engine module is checked against the protocol, never loaded
    from netlab.kernel import engine as _kernel_engine

    _KERNEL: Engine = _kernel_engine

logger = logging.getLogger("netlab.deployments")

State = Deployment.State
StateCallback = Callable[[Deployment], None]


def load_engine() -> Engine:
    """Return the engine ``settings.NETLAB_ENGINE`` names (``netlab.kernel.engine`` by
    default), importing it now: the web process never needs it.

    Tests above the kernel layer name an in-memory engine with the same protocol.
    """
    return cast(Engine, importlib.import_module(settings.NETLAB_ENGINE))


def claim(deployment: Deployment, *, worker: str) -> str | None:
    """Atomically take ``deployment``'s pending work for ``worker``.

    Returns "deploy", "apply" or "destroy" when this call won the work, None when there is none or
    another worker already has it.
    """
    # The state the row was read in is tried first: one conditional update, not three,
    # for a fresh row; a stale one still finds its work among the others.
    for state in sorted(CLAIMS, key=lambda state: state != deployment.state):
        work, changes = CLAIMS[state]
        won = Deployment.objects.filter(pk=deployment.pk, state=state, worker="")
        if won.update(worker=worker, **changes()):
            # A fresh row reloads only what the claim wrote (the related rows read with it
            # stay cached); a stale one, everything.
            fresh = state == deployment.state
            deployment.refresh_from_db(fields=["state", "worker", "updated"] if fresh else None)
            return work
    return None


CLAIMS: dict[str, tuple[str, Callable[[], dict[str, Any]]]] = {
    State.QUEUED: ("deploy", lambda: {"state": State.DEPLOYING, "updated": timezone.now()}),
    State.APPLYING: ("apply", dict),
    State.DESTROYING: ("destroy", dict),
}


WAITING = (State.QUEUED, State.APPLYING, State.DESTROYING)
UNREAD_AT_CLAIM = [
    f"{revision}__{field}"
    for revision in ("revision", "applying_revision")
    for field in ("document", "picture")
]


def claim_pending(
    *, worker: str, site: Site | None = None, limit: int | None = None
) -> list[tuple[Deployment, str]]:
    """Claim the waiting work of ``site`` (oldest first, at most ``limit`` rows) for
    ``worker``; return each row won with its work, as :func:`claim` names it. A worker
    without a site (None) claims the labs that were not placed on one.

    Any number of workers may call this at once, each row going to one of them. On
    PostgreSQL the rows are locked while they are claimed (``SELECT ... FOR UPDATE SKIP
    LOCKED``): another worker passes over them to the next ones instead of waiting for them.
    SQLite has no row locks (Django leaves the clause out): its transaction takes the whole
    database (``transaction_mode`` IMMEDIATE), and :func:`claim`'s conditional update keeps
    a row to one worker on both. An idle poll only reads, and locks nothing.
    """
    pending = Deployment.objects.filter(state__in=WAITING, worker="", site=site)
    if not pending.exists():
        return []
    claimed = []
    with transaction.atomic():
        # The revisions' numbers are read with the rows (the worker's first event tells
        # them); their documents when a deploy or a change needs them: a destroy never does.
        rows = pending.select_related("revision", "applying_revision").order_by("pk")
        rows = rows.defer(*UNREAD_AT_CLAIM)
        rows = rows.select_for_update(skip_locked=True, of=("self",))
        for deployment in rows[:limit]:
            work = claim(deployment, worker=worker)
            if work is not None:
                claimed.append((deployment, work))
    return claimed


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
    engine: Engine | None = None,
) -> list[Deployment]:
    """Take back the work of this host's workers that died holding it; return those rows.

    A worker killed mid-work (SIGKILL, a crash, a power cut) leaves its row claimed.
    For each row claimed by a :func:`worker_gone` worker:

    - ``deploying``: the half-built lab is destroyed (the engine's destroy is idempotent
      and finishes a half-deployed one) and the row ends ``failed``, saying so;
    - ``applying``: what the change did is undone (the engine's :meth:`revert`), and the
      lab runs its old revision again, saying so (``failed`` if even that did not work);
    - ``destroying``: the claim is released, so the destroy is claimed and run again.

    Each row is first re-claimed atomically for ``worker`` (this process by default), so
    two workers recovering at once do it once. Rows claimed by workers of other hosts are
    left alone: only their own host can tell whether they still run, and should recover
    them. Blocking (``engine``, :func:`load_engine`'s by default); ``on_state`` is called
    after each state change.
    """
    worker = worker or worker_id()
    recovered = []
    claimed = Deployment.objects.filter(
        state__in=[State.DEPLOYING, State.APPLYING, State.DESTROYING]
    ).exclude(worker="")
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
            pk=deployment.pk, state=deployment.state, worker=dead
        ).update(worker=worker):
            continue
        if deployment.state == State.APPLYING:
            deployment.refresh_from_db()
            _put_back(deployment, engine or load_engine(), on_state, dead)
            recovered.append(deployment)
            continue
        deployment.refresh_from_db()
        logger.warning("deployment %s rolls back: worker %s stopped", deployment.tag, dead)
        error = "the worker stopped in the middle of the deployment; the lab was rolled back"
        try:
            (engine or load_engine()).destroy(
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


def _put_back(
    deployment: Deployment, engine: Engine, on_state: StateCallback | None, dead: str
) -> None:
    """Undo the change a stopped worker left half done: the lab runs its old revision."""
    logger.warning("change of %s is undone: worker %s stopped", deployment.tag, dead)
    number = deployment.revision.number
    try:
        running, wanted, record = check_apply(deployment)
        engine.revert(running, wanted, record, state_dir=settings.NETLAB_STATE_DIR)
    except Exception as failure:
        error = (
            "the worker stopped in the middle of a change, and putting the lab back to "
            f"revision {number} failed: {failure}; destroy it"
        )
        _set_state(deployment, State.FAILED, on_state, error=error, applying_revision=None,
                   worker="")  # fmt: skip
        return
    error = f"the worker stopped in the middle of a change; the lab runs revision {number} again"
    _set_state(deployment, State.RUNNING, on_state, error=error, applying_revision=None, worker="")


def _set_state(
    deployment: Deployment, state: str, on_state: StateCallback | None, **fields: Any
) -> None:
    deployment.state = state
    for name, value in fields.items():
        setattr(deployment, name, value)
    deployment.save(update_fields=["state", "updated", *fields])
    if on_state is not None:
        on_state(deployment)


def run_deploy(
    deployment: Deployment,
    *,
    on_steps: DeploymentStepsCallback | None = None,
    on_state: StateCallback | None = None,
    engine: Engine | None = None,
) -> Deployment:
    """Build a claimed deployment with ``engine`` (:func:`load_engine`'s by default); it
    ends running, or failed and rolled back. ``on_state`` hears each state after the claimed
    one (:func:`run_claimed` tells that), as do :func:`run_apply`'s and :func:`run_destroy`'s."""
    try:
        document = check_deploy(deployment)
    except Untrusted as error:
        logger.warning("deployment %s refused by the worker: %s", deployment.pk, error)
        _set_state(deployment, State.FAILED, on_state, error=f"refused: {error}", worker="")
        return deployment
    if parts.has_parts(deployment):
        built, why = parts.build_parts(deployment)
        if built is None:
            _set_state(deployment, State.FAILED, on_state, error=why, worker="")
            return deployment
        namespaces = built.get("namespaces")
        _set_state(
            deployment, State.RUNNING, on_state, namespaces=namespaces, record=built, worker=""
        )
        return _keep_or_destroy(deployment, on_state)
    kernel = engine or load_engine()
    try:
        record = drive(
            lambda report: kernel.deploy(
                document,
                tag=deployment.tag,
                prefix=deployment.prefix,
                host_mode=deployment.host_mode,
                state_dir=settings.NETLAB_STATE_DIR,
                on_step=report,
            ),
            StepLog(deployment, on_steps),
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
    return _keep_or_destroy(deployment, on_state)


def _keep_or_destroy(deployment: Deployment, on_state: StateCallback | None) -> Deployment:
    if not may_keep(deployment):
        # Its user lost their role on the design while it deployed (a destroy request then
        # had nothing to act on): it goes now, like the labs of a removed collaborator.
        request_destroy(deployment, actor=deployment.owner)
        if on_state is not None:
            on_state(deployment)
    return deployment


def run_apply(
    deployment: Deployment,
    *,
    on_steps: DeploymentStepsCallback | None = None,
    on_state: StateCallback | None = None,
    engine: Engine | None = None,
) -> Deployment:
    """Change a claimed ``applying`` deployment to its ``applying_revision`` in place.

    Its steps are recorded like a deploy's (``action`` "apply"). It ends ``running`` either
    way: on the new revision, or, when a step failed, on its old one (the engine put it
    back), with the error shown; ``failed`` only if even that did not work. Applying the
    revision the lab runs repairs it (what drifted is made again).
    """
    try:
        running, wanted, record = check_apply(deployment)
    except Untrusted as error:
        logger.warning("change of %s refused by the worker: %s", deployment.pk, error)
        _applied(deployment, on_state, error=f"refused: {error}")
        return deployment
    kernel = engine or load_engine()
    same = running == wanted
    try:
        if same:
            changed = kernel.repair(wanted, record, state_dir=settings.NETLAB_STATE_DIR)
        else:
            changed = drive(
                lambda report: kernel.change(
                    running, wanted, record, state_dir=settings.NETLAB_STATE_DIR, on_step=report
                ),
                StepLog(deployment, on_steps, action="apply"),
            )
    except Exception as error:  # the engine put the old revision back, or says it could not
        rolled_back = getattr(error, "rolled_back", True)
        logger.info("change of %s failed: %s", deployment.tag, error)
        if not rolled_back:
            _set_state(
                deployment,
                State.FAILED,
                on_state,
                error=f"the change failed and the lab could not be put back: {error}",
                applying_revision=None,
                worker="",
            )
            return deployment
        number = deployment.revision.number
        _applied(deployment, on_state, error=f"{error} (the lab runs revision {number} as before)")
        return deployment
    revision = deployment.applying_revision
    assert revision is not None  # checked above
    _applied(
        deployment,
        on_state,
        revision=revision,
        namespaces=changed.namespaces,
        record={
            **deployment.record,
            "namespaces": changed.namespaces,
            "responder": changed.responder,
        },
    )
    return deployment


def _applied(deployment: Deployment, on_state: StateCallback | None, **fields: object) -> None:
    _set_state(
        deployment,
        State.RUNNING,
        on_state,
        applying_revision=None,
        worker="",
        **{"error": "", **fields},
    )


def run_destroy(
    deployment: Deployment,
    *,
    on_steps: DeploymentStepsCallback | None = None,
    on_state: StateCallback | None = None,
    engine: Engine | None = None,
) -> Deployment:
    """Remove a claimed deployment with ``engine`` (:func:`load_engine`'s by default); it
    ends stopped (idempotent)."""
    try:
        namespaces = recorded_namespaces(deployment)
    except Untrusted as error:
        logger.warning("destroy of %s refused by the worker: %s", deployment.pk, error)
        _set_state(deployment, State.FAILED, on_state, error=f"refused: {error}", worker="")
        return deployment
    if parts.has_parts(deployment):
        problems = parts.remove_parts(deployment)
        if problems:
            why = f"destroy failed: {'; '.join(problems)}"
            _set_state(deployment, State.FAILED, on_state, error=why, worker="")
        else:
            _set_state(deployment, State.STOPPED, on_state, worker="")
        return deployment
    try:
        (engine or load_engine()).destroy(
            deployment.tag, state_dir=settings.NETLAB_STATE_DIR, namespaces=namespaces
        )
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
    on_steps: DeploymentStepsCallback | None = None,
    on_state: StateCallback | None = None,
    engine: Engine | None = None,
    announced: bool = False,
) -> Deployment:
    """Carry out the ``work`` (from :func:`claim`) on ``deployment`` with ``engine``.

    ``on_state`` is first told the claimed state, unless the caller ``announced`` it.
    """
    run = {"deploy": run_deploy, "apply": run_apply, "destroy": run_destroy}[work]
    if on_state is not None and not announced:
        on_state(deployment)
    return run(deployment, on_steps=on_steps, on_state=on_state, engine=engine)
