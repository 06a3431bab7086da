"""An in-memory engine for the live-lab tests above the kernel layer.

It implements the engine protocol (``netlab.core.engine.Engine``) with its types, and
touches nothing: deploying reports one step per namespace node and "records" namespaces
named from the prefix and tag. ``deployed`` holds the tags it believes are running.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from netlab.core.document import Document
from netlab.core.engine import DeploymentRecord, StepCallback, StepReport
from netlab.core.plan import ChangePlan, Naming, plan_change
from netlab.core.sites import Part

deployed: set[str] = set()


def require_privileges() -> None:
    """Always allowed: nothing here needs root."""


def _namespaces(design: Document, tag: str, prefix: str) -> dict[str, str | None]:
    # Named like the real engine's (names.namespace_name): the worker checks a row's names.
    nodes = [node for node in design.nodes if node.kind in ("namespace", "host")]
    return {node.id: f"{prefix}{tag}-{index}" for index, node in enumerate(nodes)}


def deploy(
    design: Document,
    *,
    tag: str | None = None,
    prefix: str = "netlab-",
    host_mode: bool = False,
    state_dir: Any = "",
    on_step: StepCallback | None = None,
    fail_after: int | None = None,
    part: Part | None = None,
) -> DeploymentRecord:
    """Report one step per namespace node (``part``'s only); fail at ``fail_after`` like the
    real engine."""
    assert tag is not None
    namespaces = _namespaces(design, tag, prefix)
    if part is not None:
        namespaces = {node: netns for node, netns in namespaces.items() if node in part.nodes}
    total = len(namespaces)
    for index, name in enumerate(namespaces.values(), start=1):
        description = f"create namespace {name}"
        shell = (f"ip netns add {name}",)
        if on_step is not None:
            on_step(StepReport(index, total, "deploy", description, shell, "start"))
        error = "injected failure" if fail_after is not None and index > fail_after else None
        if on_step is not None:
            on_step(StepReport(index, total, "deploy", description, shell, "end", 0.001, error))
        if error:
            raise RuntimeError(error)
    deployed.add(tag)
    return DeploymentRecord(tag, design.name, prefix, host_mode, namespaces, str(state_dir))


def destroy(
    tag: str, *, state_dir: Any = "", namespaces: list[str] | None = None, wait: bool = True
) -> None:
    deployed.discard(tag)


def cleanup(live_tags: Iterable[str], *, state_dir: Any = "") -> list[str]:
    return []


def check(design: Document, record: DeploymentRecord) -> list[Any]:
    return []


def status(record: DeploymentRecord) -> dict[str, dict[str, Any]]:
    return {node: {"netns": netns, "exists": True} for node, netns in record.namespaces.items()}


def change_plan(running: Document, wanted: Document, record: DeploymentRecord) -> ChangePlan:
    naming = Naming(record.tag, record.prefix, record.host_mode).following(record.namespaces)
    return plan_change(running, wanted, naming)


def change(
    running: Document,
    wanted: Document,
    record: DeploymentRecord,
    *,
    state_dir: Any = "",
    on_step: StepCallback | None = None,
) -> DeploymentRecord:
    """Report the change plan's steps as done; a wanted design titled "fail" fails its last."""
    steps = change_plan(running, wanted, record).steps
    for index, step in enumerate(steps, start=1):
        error = "injected failure" if wanted.title == "fail" and index == len(steps) else None
        if on_step is not None:
            report = (index, len(steps), step.action, step.description, step.shell)
            on_step(StepReport(*report, "start"))
            on_step(StepReport(*report, "end", 0.001, error))
        if error:
            raise RuntimeError(f"step {index}/{len(steps)} failed: {error}; changed back")
    namespaces = change_plan(running, wanted, record).namespaces
    return DeploymentRecord(record.tag, wanted.name, record.prefix, record.host_mode, namespaces,
                            str(state_dir))  # fmt: skip


def revert(
    running: Document, wanted: Document, record: DeploymentRecord, *, state_dir: Any = ""
) -> DeploymentRecord:
    return record


def repair(design: Document, record: DeploymentRecord, *, state_dir: Any = "") -> DeploymentRecord:
    return record
