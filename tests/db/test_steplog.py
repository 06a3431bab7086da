"""The step log records the engine's reports in bursts: a step that started and ended within
one burst is one row with its outcome, a step that spans bursts is created then updated,
every burst is committed before it is shown, and a run's last (failed) step is exact.

The engine here is a function reporting steps from its own thread, as the kernel's does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest

from editor import deployments
from editor.deployments import steplog
from editor.models import DeploymentStep
from netlab.core.engine import StepCallback, StepReport

pytestmark = pytest.mark.django_db(transaction=True)


def start(index: int, total: int = 3) -> StepReport:
    return StepReport(index, total, "deploy", f"step {index}", (f"ip link add s{index}",), "start")


def end(index: int, total: int = 3, error: str | None = None) -> StepReport:
    return StepReport(index, total, "deploy", f"step {index}", (), "end", 0.0015, error)


@pytest.fixture
def deployment(owner: Any, make_design: Any) -> Any:
    return deployments.request_deploy(make_design("steps"), actor=owner)


def rows(deployment: Any) -> list[tuple[int, str, float | None, str]]:
    return [
        (step.index, step.outcome, step.duration_ms, step.error)
        for step in DeploymentStep.objects.filter(deployment=deployment).order_by("pk")
    ]


def test_a_burst_writes_each_step_once_with_its_outcome(deployment: Any) -> None:
    shown: list[list[tuple[int, str]]] = []
    log = steplog.StepLog(
        deployment, lambda steps: shown.append([(step.index, step.outcome) for step in steps])
    )
    log.write([start(1), end(1), start(2)])
    assert rows(deployment) == [(1, "done", 1.5, ""), (2, "started", None, "")]
    log.write([end(2), start(3), end(3, error="File exists")])
    assert rows(deployment) == [
        (1, "done", 1.5, ""),
        (2, "done", 1.5, ""),
        (3, "failed", 1.5, "File exists"),
    ]
    assert shown == [[(1, "done"), (2, "started")], [(2, "done"), (3, "failed")]]
    step = DeploymentStep.objects.get(deployment=deployment, index=1)
    assert (step.total, step.description, step.shell) == (3, "step 1", "ip link add s1")


def test_a_later_change_leaves_the_steps_of_an_earlier_one_as_they_ended(deployment: Any) -> None:
    """Each change of a lab numbers its steps from 1 under ``apply``: a step's end is written
    to the step still running, never to the same step of an earlier change."""
    steplog.StepLog(deployment, action="apply").write([start(1), end(1, error="File exists")])
    later = steplog.StepLog(deployment, action="apply")
    later.write([start(1)])
    later.write([end(1)])
    assert rows(deployment) == [(1, "failed", 1.5, "File exists"), (1, "done", 1.5, "")]


def test_drive_records_bursts_as_the_engine_runs_and_returns_its_result(
    deployment: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Steps 1 and 2 come within one burst; step 3 only after the burst was written, so
    the caller saw step 2 done (committed) while the engine was still running."""
    monkeypatch.setattr(steplog, "FLUSH_SECONDS", 0.05)
    bursts: list[list[tuple[int, str]]] = []
    written = threading.Event()

    def on_steps(steps: Sequence[steplog.Step]) -> None:
        bursts.append([(step.index, step.outcome) for step in steps])
        # Seen from another connection: the burst is committed before it is shown.
        seen = threading.Thread(target=lambda: committed.extend(rows(deployment)))
        seen.start()
        seen.join()
        written.set()

    committed: list[Any] = []

    def work(on_step: StepCallback) -> str:
        for report in (start(1), end(1), start(2), end(2), start(3)):
            on_step(report)
        assert written.wait(5), "the first burst was never written"
        time.sleep(0.01)
        on_step(end(3))
        return "record"

    assert steplog.drive(work, steplog.StepLog(deployment, on_steps)) == "record"
    assert bursts == [[(1, "done"), (2, "done"), (3, "started")], [(3, "done")]]
    assert committed[:3] == [(1, "done", 1.5, ""), (2, "done", 1.5, ""), (3, "started", None, "")]
    assert [row[:2] for row in rows(deployment)] == [(1, "done"), (2, "done"), (3, "done")]


def test_drive_writes_the_failed_step_before_raising_the_engines_error(deployment: Any) -> None:
    def work(on_step: StepCallback) -> None:
        on_step(start(1))
        on_step(end(1))
        on_step(start(2))
        on_step(end(2, error="RTNETLINK answers: File exists"))
        raise RuntimeError("step 2 failed; unwound")

    with pytest.raises(RuntimeError, match="step 2 failed"):
        steplog.drive(work, steplog.StepLog(deployment))
    assert rows(deployment) == [
        (1, "done", 1.5, ""),
        (2, "failed", 1.5, "RTNETLINK answers: File exists"),
    ]
