"""The step log of a deployment: the engine's step reports, recorded as ``DeploymentStep`` rows
in bursts.

A star of 200 namespaces is 800 steps, each reported as it starts and as it ends: a row
written per report (1,600 autocommits) took four times as long as the kernel work. The
engine runs in a thread of its own; the caller's thread collects what it reported over
:data:`FLUSH_SECONDS` and writes it in one transaction, a step that started and ended in
the same burst as one row with its outcome. Each burst is committed before it is shown, and
the one that ends a run (its failed step last) is written in full before the run returns.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast

from django.db import connection, transaction
from django.utils import timezone

from editor.models import Deployment, DeploymentStep
from netlab.core.engine import StepCallback, StepReport

# How long the step reports of a burst are collected before they are written: at most 20
# transactions (and page updates) a second, each no later than this behind the kernel.
FLUSH_SECONDS = 0.05


class Step(Protocol):
    """What is shown of a step: a :class:`StepRecord` of a burst, or a ``DeploymentStep`` row."""

    @property
    def deployment_id(self) -> int: ...
    @property
    def action(self) -> str: ...
    @property
    def index(self) -> int: ...
    @property
    def total(self) -> int: ...
    @property
    def description(self) -> str: ...
    @property
    def shell(self) -> str: ...
    @property
    def outcome(self) -> str: ...
    @property
    def duration_ms(self) -> float | None: ...
    @property
    def error(self) -> str: ...


# Called after each burst is committed, with its steps in the order they started.
DeploymentStepsCallback = Callable[[Sequence[Step]], None]
T = TypeVar("T")


@dataclass(slots=True)
class StepRecord:
    """A step as this burst wrote it: the fields of its ``DeploymentStep`` row that the
    pages and the command line show (``editor.events.step_event`` reads either)."""

    deployment_id: int
    index: int
    total: int
    description: str
    shell: str
    action: str = "deploy"
    outcome: str = DeploymentStep.Outcome.STARTED
    duration_ms: float | None = None
    error: str = ""


class StepLog:
    """Records the step reports of one deployment's run, a burst at a time.

    Rows are written with one ``executemany`` per burst rather than model instances: at 800
    steps the ORM's per-row work took a fifth of the kernel's time, and it ran beside the
    engine's thread, competing for the interpreter.
    """

    def __init__(
        self,
        deployment: Deployment,
        on_steps: DeploymentStepsCallback | None = None,
        *,
        action: str = "deploy",
        offset: int = 0,
        label: str = "",
    ) -> None:
        self.deployment = deployment
        self.on_steps = on_steps
        self.action = action  # "deploy" or "apply"; a destroy is one kernel batch, no steps
        # A site's part of a lab across sites: its steps numbered after ``offset``, each
        # description after ``label`` ("site b: "), beside the lab's own site's.
        self.offset = offset
        self.label = label
        self.running: dict[int, StepRecord] = {}  # started, not ended: by step index

    def write(self, reports: list[StepReport]) -> list[StepRecord]:
        """Record ``reports`` in one transaction; return the steps they touched."""
        created: dict[int, StepRecord] = {}
        ended: dict[int, StepRecord] = {}
        for report in reports:
            if report.phase == "start":
                step = StepRecord(
                    deployment_id=self.deployment.pk,
                    action=self.action,
                    index=self.offset + report.index,
                    total=self.offset + report.total,
                    description=(self.label + report.description)[:300],
                    shell="\n".join(report.shell),
                )
                created[step.index] = self.running[step.index] = step
                continue
            step = self.running.pop(self.offset + report.index)
            step.outcome = (
                DeploymentStep.Outcome.FAILED if report.error else DeploymentStep.Outcome.DONE
            )
            step.duration_ms = round((report.duration or 0.0) * 1000, 3)
            step.error = report.error or ""
            if step.index not in created:
                ended[step.index] = step
        with transaction.atomic(), connection.cursor() as cursor:
            if created:
                now = _CREATED.get_db_prep_value(timezone.now(), connection)
                cursor.executemany(
                    _INSERT,
                    [
                        (
                            step.deployment_id,
                            step.action,
                            step.index,
                            step.total,
                            step.description,
                            step.shell,
                            step.outcome,
                            step.duration_ms,
                            step.error,
                            now,
                        )
                        for step in created.values()
                    ],
                )
            if ended:
                cursor.executemany(
                    _UPDATE,
                    [
                        (
                            step.outcome,
                            step.duration_ms,
                            step.error,
                            step.deployment_id,
                            step.action,
                            step.index,
                            DeploymentStep.Outcome.STARTED,
                        )
                        for step in ended.values()
                    ],
                )
        touched = sorted([*created.values(), *ended.values()], key=lambda step: step.index)
        if self.on_steps is not None and touched:
            self.on_steps(touched)
        return touched


def _statements() -> tuple[str, str]:
    """The INSERT and UPDATE of a burst, in the model's own table and column names.

    Only the model's names are formatted in (quoted); every value is a parameter.
    """
    meta = DeploymentStep._meta
    table = connection.ops.quote_name(meta.db_table)
    inserted, updated, where = _INSERTED, ["outcome", "duration_ms", "error"], _STEP_KEY

    quote = connection.ops.quote_name
    column = {field.name: quote(field.column) for field in meta.concrete_fields if field.column}

    def columns(names: list[str], joiner: str, suffix: str = "") -> str:
        return joiner.join(f"{column[name]}{suffix}" for name in names)

    values = ", ".join(["%s"] * len(inserted))
    insert = f"INSERT INTO {table} ({columns(inserted, ', ')}) VALUES ({values})"  # noqa: S608
    update = f"UPDATE {table} SET {columns(updated, ', ', ' = %s')} WHERE {columns(where, ' AND ', ' = %s')}"  # noqa: S608, E501
    return insert, update


_INSERTED = ["deployment", "action", "index", "total", "description", "shell", "outcome",
             "duration_ms", "error", "created"]  # fmt: skip
# A running step, by its key: a lab's every change numbers its steps from 1 again, and an
# earlier change's steps, ended, are history (the step_key index finds them all).
_STEP_KEY = ["deployment", "action", "index", "outcome"]
_INSERT, _UPDATE = _statements()
_CREATED = DeploymentStep._meta.get_field("created")


def drive(work: Callable[[StepCallback], T], log: StepLog) -> T:
    """Run engine call ``work(on_step)`` in a thread; record its step reports here, in bursts.

    The database is written only from this (the caller's) thread, whose connection Django
    manages; the engine never waits for it. The engine's thread only appends its reports:
    this one wakes once per burst, not per report (a ``queue.Queue`` woke it for each of a
    chain's 3,200 reports, and each wake took the interpreter from the engine).
    """
    reports: deque[StepReport] = deque()
    arrived = threading.Event()  # a report came since this thread last took them
    ended = threading.Event()
    outcome: dict[str, Any] = {}

    def on_step(report: StepReport) -> None:
        reports.append(report)
        if not arrived.is_set():
            arrived.set()

    def target() -> None:
        try:
            outcome["result"] = work(on_step)
        except BaseException as error:  # re-raised in the caller's thread below
            outcome["error"] = error
        finally:
            ended.set()
            arrived.set()

    thread = threading.Thread(target=target, name="netlab-engine", daemon=True)
    thread.start()
    while True:
        arrived.wait()
        ended.wait(FLUSH_SECONDS)  # the rest of the burst, unless the run ends sooner
        done = ended.is_set()
        # Cleared before taking: a report appended from now on sets it again.
        arrived.clear()
        burst = [reports.popleft() for _ in range(len(reports))]
        if burst:
            log.write(burst)
        if done and not reports:
            break
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return cast(T, outcome["result"])
