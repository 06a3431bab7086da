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
) -> DeploymentRecord:
    """Report one step per namespace node; fail at ``fail_after`` like the real engine."""
    assert tag is not None
    namespaces = _namespaces(design, tag, prefix)
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
