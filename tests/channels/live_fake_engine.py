"""An in-memory engine for the live-lab tests above the kernel layer.

It has the functions and signatures of ``netlab.kernel.engine`` that ``editor`` calls and
touches nothing: deploying reports one step per namespace node and "records" namespaces
named from the prefix and tag. ``deployed`` holds the tags it believes are running.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from netlab.core.document import Design

deployed: set[str] = set()


class PrivilegeError(PermissionError):
    pass


@dataclass(frozen=True)
class StepEvent:
    index: int
    total: int
    action: str
    description: str
    shell: tuple[str, ...]
    phase: Literal["start", "end"]
    duration: float | None = None
    error: str | None = None


@dataclass(frozen=True)
class DeploymentRecord:
    tag: str
    design: str
    prefix: str
    host_mode: bool
    namespaces: dict[str, str | None]
    state_dir: str
    responder: dict[str, int] | None = None
    seconds: float = 0.0
    step_seconds: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeploymentRecord:
        return cls(**{key: value for key, value in data.items() if key in cls.__dataclass_fields__})


def require_privileges() -> None:
    """Always allowed: nothing here needs root."""


def _namespaces(design: Design, tag: str, prefix: str) -> dict[str, str | None]:
    # Named like the real engine's (names.namespace_name): the worker checks a row's names.
    nodes = [node for node in design.nodes if node.kind in ("namespace", "host")]
    return {node.id: f"{prefix}{tag}-{index}" for index, node in enumerate(nodes)}


def plan(design: Design, *, tag: str, prefix: str = "netlab-", host_mode: bool = False) -> Any:
    return list(_namespaces(design, tag, prefix).values())


def deploy(
    design: Design,
    *,
    tag: str | None = None,
    prefix: str = "netlab-",
    host_mode: bool = False,
    state_dir: Any = "",
    on_step: Callable[[StepEvent], None] | None = None,
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
            on_step(StepEvent(index, total, "deploy", description, shell, "start"))
        error = "injected failure" if fail_after is not None and index > fail_after else None
        if on_step is not None:
            on_step(StepEvent(index, total, "deploy", description, shell, "end", 0.001, error))
        if error:
            raise RuntimeError(error)
    deployed.add(tag)
    return DeploymentRecord(tag, design.name, prefix, host_mode, namespaces, str(state_dir))


def destroy(
    tag: str, *, state_dir: Any = "", namespaces: list[str] | None = None, wait: bool = True
) -> None:
    deployed.discard(tag)


def cleanup(live_tags: Any, *, state_dir: Any = "") -> list[str]:
    return []


def check(design: Design, record: DeploymentRecord) -> list[Any]:
    return []


def status(record: DeploymentRecord) -> dict[str, dict[str, Any]]:
    return {node: {"netns": netns, "exists": True} for node, netns in record.namespaces.items()}
