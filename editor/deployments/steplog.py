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

import queue
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.db import transaction

from editor.models import Deployment, DeploymentStep
from netlab.core.engine import StepCallback, StepReport

# How long the step reports of a burst are collected before they are written: at most 20
# transactions (and page updates) a second, each no later than this behind the kernel.
FLUSH_SECONDS = 0.05

# Called after each burst is committed, with its rows in the order the steps started.
DeploymentStepsCallback = Callable[[list[DeploymentStep]], None]
T = TypeVar("T")
_DONE = object()
_ENDED = ["outcome", "duration_ms", "error"]


class StepLog:
    """Records the step reports of one deployment's run, a burst at a time."""

    def __init__(
        self, deployment: Deployment, on_steps: DeploymentStepsCallback | None = None
    ) -> None:
        self.deployment = deployment
        self.on_steps = on_steps
        self.running: dict[int, DeploymentStep] = {}  # started, not ended: by step index

    def write(self, reports: list[StepReport]) -> list[DeploymentStep]:
        """Record ``reports`` in one transaction; return the rows they touched."""
        created: dict[int, DeploymentStep] = {}
        ended: dict[int, DeploymentStep] = {}
        for report in reports:
            if report.phase == "start":
                step = DeploymentStep(
                    deployment=self.deployment,
                    action="deploy",  # a destroy is one kernel batch, without steps
                    index=report.index,
                    total=report.total,
                    description=report.description[:300],
                    shell="\n".join(report.shell),
                )
                created[report.index] = self.running[report.index] = step
                continue
            step = self.running.pop(report.index)
            step.outcome = (
                DeploymentStep.Outcome.FAILED if report.error else DeploymentStep.Outcome.DONE
            )
            step.duration_ms = round((report.duration or 0.0) * 1000, 3)
            step.error = report.error or ""
            if report.index not in created:
                ended[report.index] = step
        with transaction.atomic():
            DeploymentStep.objects.bulk_create(created.values())
            DeploymentStep.objects.bulk_update(ended.values(), _ENDED)
        touched = sorted([*created.values(), *ended.values()], key=lambda step: step.index)
        if self.on_steps is not None and touched:
            self.on_steps(touched)
        return touched


def drive(work: Callable[[StepCallback], T], log: StepLog) -> T:
    """Run engine call ``work(on_step)`` in a thread; record its step reports here, in bursts.

    The database is written only from this (the caller's) thread, whose connection Django
    manages; the engine never waits for it.
    """
    reports: queue.Queue[StepReport | object] = queue.Queue()
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["result"] = work(reports.put)
        except BaseException as error:  # re-raised in the caller's thread below
            outcome["error"] = error
        finally:
            reports.put(_DONE)

    thread = threading.Thread(target=target, name="netlab-engine", daemon=True)
    thread.start()
    finished = False
    while not finished:
        report = reports.get()
        burst: list[StepReport] = []
        deadline = time.monotonic() + FLUSH_SECONDS
        while report is not _DONE:
            burst.append(cast(StepReport, report))
            try:
                report = reports.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
        finished = report is _DONE
        if burst:
            log.write(burst)
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return cast(T, outcome["result"])
