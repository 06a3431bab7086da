"""The engine's contract: the verbs the rest of netlab calls, and the types they hand back.

Framework-free and kernel-free (no Django, no pyroute2): the Django side types against
:class:`Engine` and imports these types without loading the driver. The real engine is the
module ``netlab.kernel.engine``; tests above the kernel layer pass an in-memory one
(``tests/channels/live_fake_engine.py``). Modules satisfy the protocol as they are.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

from netlab.core.document import Document
from netlab.core.plan import ChangePlan
from netlab.core.sites import Part

StateDir = str | os.PathLike[str]


@dataclass(frozen=True)
class StepReport:
    """Progress of one step: sent at its start, and at its end with duration and error."""

    index: int  # 1-based
    total: int
    action: str
    description: str
    shell: tuple[str, ...]
    phase: Literal["start", "end"]
    duration: float | None = None  # seconds
    error: str | None = None


StepCallback = Callable[[StepReport], None]


class PrivilegeError(PermissionError):
    """The process may not create namespaces: nothing was changed."""


@dataclass(frozen=True)
class DeploymentRecord:
    """What the caller stores about a running deployment (JSON-compatible via ``as_dict``)."""

    tag: str
    design: str
    prefix: str
    host_mode: bool
    namespaces: dict[str, str | None]  # node id: namespace name (None: the root namespace)
    state_dir: str
    responder: dict[str, int] | None = None
    seconds: float = 0.0
    # A lab across sites: this site's part (``netlab.core.sites.Part.as_dict``), else None.
    part: dict[str, Any] | None = None
    step_seconds: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeploymentRecord:
        known = {key: value for key, value in data.items() if key in cls.__dataclass_fields__}
        return cls(**known)


class Finding(Protocol):
    """One difference :meth:`Engine.check` found between the kernel and a deployment."""

    def as_dict(self) -> dict[str, Any]: ...


class Engine(Protocol):
    """What netlab asks of an engine; ``netlab.kernel.engine`` is the real one.

    Synchronous and blocking: call it from a plain thread. Every verb but :meth:`status`
    may raise :class:`PrivilegeError` when the process lacks the kernel privileges.
    """

    def require_privileges(self) -> None:
        """Raise :class:`PrivilegeError` unless this process may build labs."""

    def deploy(
        self,
        design: Document,
        *,
        tag: str | None = ...,
        prefix: str = ...,
        host_mode: bool = ...,
        state_dir: StateDir = ...,
        on_step: StepCallback | None = ...,
        part: Part | None = ...,
    ) -> DeploymentRecord:
        """Build ``design`` (only ``part`` of it, for a lab across sites) as deployment
        ``tag``, reporting each step; return its record once every step succeeded, or raise
        after unwinding what the run created."""

    def destroy(
        self, tag: str, *, state_dir: StateDir = ..., namespaces: list[str] | None = ...
    ) -> object:
        """Remove deployment ``tag`` (idempotent); ``namespaces`` from its stored record."""

    def cleanup(self, live_tags: Iterable[str], *, state_dir: StateDir = ...) -> list[str]:
        """Remove every marked object no tag of ``live_tags`` owns; return what went."""

    def check(self, design: Document, record: DeploymentRecord) -> Sequence[Finding]:
        """Compare the kernel with ``record``; empty when they agree."""

    def status(self, record: DeploymentRecord) -> dict[str, dict[str, Any]]:
        """Return each host and namespace node's interfaces as the kernel has them."""

    def change_plan(
        self, running: Document, wanted: Document, record: DeploymentRecord
    ) -> ChangePlan:
        """Return the steps that change deployment ``record`` from revision ``running`` to
        ``wanted`` in place (pure: no kernel, no privileges)."""

    def change(
        self,
        running: Document,
        wanted: Document,
        record: DeploymentRecord,
        *,
        state_dir: StateDir = ...,
        on_step: StepCallback | None = ...,
    ) -> DeploymentRecord:
        """Change deployment ``record`` from ``running`` to ``wanted`` in place, reporting each
        step; return its new record, or raise after putting ``running`` back."""

    def revert(
        self,
        running: Document,
        wanted: Document,
        record: DeploymentRecord,
        *,
        state_dir: StateDir = ...,
    ) -> DeploymentRecord:
        """Put deployment ``record`` back to ``running`` after a change to ``wanted`` was cut
        short."""

    def repair(
        self, design: Document, record: DeploymentRecord, *, state_dir: StateDir = ...
    ) -> DeploymentRecord:
        """Make again what the kernel lost of deployment ``record`` of ``design``."""
