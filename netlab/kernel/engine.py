"""The engine: the few verbs the rest of netlab (the Django worker, the CLI) calls.

This module is the real :class:`netlab.core.engine.Engine`; the types it hands back
(:class:`DeploymentRecord`, :class:`StepReport`) live there, free of pyroute2. Framework-free
and synchronous; call it from a plain thread (never from inside a running asyncio loop's
thread, which must not block). Every verb but :func:`plan` and
:func:`status` needs root. Kernel names come from ``netlab.core.names`` only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from netlab.core import names
from netlab.core.document import Document
from netlab.core.engine import (
    DeploymentRecord,
    PrivilegeError,
    StateDir,
    StepCallback,
    StepReport,
)
from netlab.core.plan import ChangePlan, Naming, Plan, compile_plan, plan_change
from netlab.core.sites import Part
from netlab.kernel import change as changes
from netlab.kernel import features, journal, settle, state, teardown
from netlab.kernel.apply import (
    Applied,
    ApplyError,
    RefusedError,
    apply,
    require_privileges,
)
from netlab.kernel.state import Drift

__all__ = [
    "ApplyError",
    "DeploymentRecord",
    "Drift",
    "PrivilegeError",
    "RefusedError",
    "StepCallback",
    "StepReport",
    "change",
    "change_plan",
    "check",
    "cleanup",
    "deploy",
    "destroy",
    "plan",
    "repair",
    "require_privileges",
    "revert",
    "status",
]


def plan(
    design: Document,
    *,
    tag: str,
    prefix: str = names.NAMESPACE_PREFIX,
    host_mode: bool = False,
    part: Part | None = None,
) -> Plan:
    """Return the plan that deploys ``design`` (``part`` of it, for a lab across sites) as
    deployment ``tag`` (pure, no kernel)."""
    return compile_plan(design, Naming(tag, prefix, host_mode, part=part))


def _naming(record: DeploymentRecord, design: Document) -> Naming:
    """The naming of a running deployment: its recorded namespaces (and part) kept."""
    part = Part.from_dict(record.part, design) if record.part is not None else None
    naming = Naming(record.tag, record.prefix, record.host_mode, part=part)
    return naming.following(record.namespaces)


def change_plan(running: Document, wanted: Document, record: DeploymentRecord) -> ChangePlan:
    """Return the steps that change deployment ``record`` of revision ``running`` into
    revision ``wanted`` (pure, no kernel; an empty plan when nothing the kernel holds
    changes)."""
    if record.part is not None:
        raise RefusedError(
            "a lab across sites cannot be changed in place: destroy it and deploy the new revision"
        )
    return plan_change(running, wanted, _naming(record, running))


def change(
    running: Document,
    wanted: Document,
    record: DeploymentRecord,
    *,
    state_dir: StateDir = journal.DEFAULT_STATE_DIR,
    on_step: StepCallback | None = None,
    fail_after: int | None = None,
) -> DeploymentRecord:
    """Change running deployment ``record`` from revision ``running`` to ``wanted`` in place;
    return its new record.

    Only what differs is touched (:func:`change_plan`). Raises :class:`ApplyError` after
    restoring revision ``running`` (``rolled_back``), :class:`RefusedError` before any change
    (host mode; namespaces without the lab's mark; ``wanted`` needs what this kernel lacks).
    ``fail_after`` is a test hook.
    """
    features.require(wanted)
    the_change = change_plan(running, wanted, record)
    applied = changes.apply_change(
        the_change, state_dir=state_dir, on_step=on_step, fail_after=fail_after
    )
    settle.wait_for_ipv6(the_change.steps)
    return _record(the_change.new, applied, state_dir)


def revert(
    running: Document,
    wanted: Document,
    record: DeploymentRecord,
    *,
    state_dir: StateDir = journal.DEFAULT_STATE_DIR,
) -> DeploymentRecord:
    """Put deployment ``record`` back to revision ``running`` after a change to ``wanted``
    was cut short (its worker stopped): whatever of it was done is undone."""
    the_change = change_plan(running, wanted, record)
    applied = changes.change_back(the_change, state_dir=state_dir)
    return _record(the_change.old, applied, state_dir)


def repair(
    design: Document, record: DeploymentRecord, *, state_dir: StateDir = journal.DEFAULT_STATE_DIR
) -> DeploymentRecord:
    """Make again whatever of deployment ``record`` of ``design`` the kernel lost (what
    :func:`check` reports missing); return its record."""
    the_plan = compile_plan(design, _naming(record, design))
    features.require(design)
    return _record(the_plan, changes.repair(the_plan, state_dir=state_dir), state_dir)


def deploy(
    design: Document,
    *,
    tag: str | None = None,
    prefix: str = names.NAMESPACE_PREFIX,
    host_mode: bool = False,
    state_dir: StateDir = journal.DEFAULT_STATE_DIR,
    on_step: StepCallback | None = None,
    fail_after: int | None = None,
    part: Part | None = None,
) -> DeploymentRecord:
    """Deploy ``design`` (only ``part`` of it: a lab across sites); return its record once
    every step succeeded.

    ``host_mode`` maps the host node to the caller's own namespace; the caller decides
    whether that is allowed (a server setting). Raises :class:`PrivilegeError` (not root),
    :class:`RefusedError` (host mode would touch a foreign interface; ``UnsupportedError``,
    the design needs what this kernel lacks, such as netem) before any change,
    :class:`ApplyError` after unwinding everything a failed step's run had created, and
    ``InvalidDesign`` for a design that does not validate. ``fail_after`` is a test hook.
    """
    require_privileges()
    the_plan = plan(
        design, tag=tag or names.new_tag(), prefix=prefix, host_mode=host_mode, part=part
    )
    features.require(design)
    applied = apply(the_plan, state_dir=state_dir, on_step=on_step, fail_after=fail_after)
    settle.wait_for_ipv6(the_plan.steps)
    return _record(the_plan, applied, state_dir)


def _record(the_plan: Plan, applied: Applied, state_dir: StateDir) -> DeploymentRecord:
    naming = the_plan.naming
    return DeploymentRecord(
        tag=the_plan.tag,
        design=the_plan.design_name,
        prefix=naming.prefix,
        host_mode=naming.host_mode,
        namespaces=dict(the_plan.namespaces),
        state_dir=str(state_dir),
        responder=applied.entry.responder,
        seconds=applied.seconds,
        step_seconds=applied.durations,
        part=naming.part.as_dict() if naming.part is not None else None,
    )


def destroy(
    tag: str,
    *,
    state_dir: StateDir = journal.DEFAULT_STATE_DIR,
    namespaces: list[str] | None = None,
    wait: bool = True,
) -> teardown.Report:
    """Remove deployment ``tag`` and (``wait``) return once the kernel holds nothing of it.

    Idempotent: succeeds when everything is already gone, and finishes a half-deleted or
    half-deployed deployment. Reads the journal; ``namespaces`` (from a stored record) is
    used too, for a deployment whose journal is lost. Only objects carrying the tag's mark
    are removed. ``report.settled`` is False if something (a process, an open socket) still
    holds a namespace after the timeout.
    """
    require_privileges()
    entry = journal.read(state_dir, tag) or journal.Entry(tag=tag, state="destroying")
    if journal.read(state_dir, tag) is not None:
        entry.state = "destroying"
        journal.write(state_dir, entry)
    report = teardown.Report()
    teardown.stop_responder(entry.responder)
    if entry.host_mode:
        teardown.remove_root_objects(
            tag,
            links=entry.root_links,
            table=entry.root_table,
            sysctls=entry.root_sysctls,
            check_marks=True,
            report=report,
        )
    doomed = list(dict.fromkeys([*entry.namespaces, *(namespaces or [])]))
    teardown.remove_namespaces(
        list(reversed(doomed)), tag, check_marks=True, wait=wait, report=report
    )
    journal.remove(state_dir, tag)
    return report


def cleanup(
    live_tags: Iterable[str], *, state_dir: StateDir = journal.DEFAULT_STATE_DIR
) -> list[str]:
    """Remove every journaled deployment not in ``live_tags``; return what was removed.

    Only objects carrying their deployment's mark go: a foreign namespace or link with a
    netlab-looking name survives. Returns the names of removed namespaces and root links.
    """
    require_privileges()
    live = set(live_tags)
    removed: list[str] = []
    for tag in journal.tags(state_dir):
        if tag in live:
            continue
        report = destroy(tag, state_dir=state_dir)
        removed += report.removed_namespaces + report.removed_root_links
    return removed


def check(design: Document, record: DeploymentRecord) -> list[Drift]:
    """Compare the kernel with what ``design`` deployed as ``record``; empty when they agree."""
    return state.check(compile_plan(design, _naming(record, design)))


def status(record: DeploymentRecord) -> dict[str, dict[str, Any]]:
    """Return ``{node id: {"netns", "exists", "interfaces": [{name, mac, state, up, mtu,
    addresses}]}}`` for the host and namespace nodes of ``record``.

    In the root namespace (host mode) only the interfaces netlab marked are listed.
    """
    nodes: dict[str, dict[str, Any]] = {}
    for node, netns in record.namespaces.items():
        snapshot = state.read(netns, links_only=True)
        links = list(snapshot.links.values())
        if netns is None:
            links = state.marked(snapshot, record.tag)
        nodes[node] = {
            "netns": netns,
            "exists": snapshot.exists,
            "interfaces": [
                {
                    "name": link.name,
                    "mac": link.mac,
                    "state": link.state,
                    "up": link.up,
                    "mtu": link.mtu,
                    "addresses": list(link.addresses),
                }
                for link in links
                if link.name != "lo"
            ],
        }
    return nodes
