"""Probes that cannot run say why, and probes stop when cancelled: real namespaces.

A zone naming no interface of the source namespace is a ProbeError; a source namespace that
does not exist is a FileNotFoundError whose ``strerror`` names it; a ``cancel`` event ends
a ping or an all-pairs ping early. The command line turns each into a one-line error.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from labkit import Lab, lab_fixture, pair_fixture, requires_root  # noqa: F401 (fixtures)

from netlab.kernel import probes

pytestmark = [pytest.mark.kernel, requires_root]


@pytest.mark.parametrize(
    "probe",
    [
        pytest.param(lambda netns: probes.ping(netns, "fe80::1%nosuchif", count=1), id="ping"),
        pytest.param(lambda netns: probes.tcp_probe(netns, "fe80::1%nosuchif", 80), id="tcp"),
    ],
)
def test_a_zone_naming_no_interface_is_refused(pair: tuple[Lab, str, str], probe: Any) -> None:
    _, a, _ = pair
    with pytest.raises(probes.ProbeError, match=f"no interface 'nosuchif' in namespace {a}"):
        probe(a)


@pytest.mark.parametrize(
    "probe",
    [
        pytest.param(lambda netns: probes.ping(netns, "10.213.1.2", count=1), id="ping"),
        pytest.param(lambda netns: probes.tcp_probe(netns, "10.213.1.2", 80), id="tcp"),
    ],
)
def test_a_missing_namespace_is_named(lab: Lab, probe: Any) -> None:
    missing = f"{lab.prefix}-none"
    with pytest.raises(FileNotFoundError) as error:
        probe(missing)
    assert error.value.strerror == f"namespace {missing} does not exist (deleted outside netlab?)"


def test_a_cancelled_ping_stops_sending(pair: tuple[Lab, str, str]) -> None:
    """Cancelled after its second reply, a ping of 100 sends no more than a few requests."""
    _, a, _ = pair
    cancel = threading.Event()
    seen: list[probes.PingReply] = []

    def reply(answer: probes.PingReply) -> None:
        seen.append(answer)
        if len(seen) == 2:
            cancel.set()

    result = probes.ping(a, "10.213.1.2", count=100, interval=0.05, on_reply=reply, cancel=cancel)
    assert 2 <= result.sent < 100
    assert result.received == len([answer for answer in seen if answer.ok])


def test_a_cancelled_ping_all_reports_no_more_cells(pair: tuple[Lab, str, str]) -> None:
    _, a, _ = pair
    cancel = threading.Event()
    cells: list[probes.PingCell] = []

    def cell(found: probes.PingCell) -> None:
        cells.append(found)
        cancel.set()

    addresses = {f"10.213.1.{host}": "b" for host in range(2, 40)}
    matrix = probes.ping_all(
        {"a": a}, addresses, timeout=0.2, concurrency=1, on_cell=cell, cancel=cancel
    )
    assert len(cells) == len(matrix.cells) == 1


# -- the command line ---------------------------------------------------------------------

EXAMPLES = Path(__file__).resolve().parents[2] / "netlab" / "examples"


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("netlab", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def deployed(settings: Any, tmp_path: Path, admin_user: Any) -> Any:
    """The bridge example deployed under a private prefix; destroyed whatever happens."""
    from editor.models import Deployment
    from netlab.kernel import engine, namespaces

    prefix = "nle" + Lab().prefix[3:] + "-"
    settings.NETLAB_NETNS_PREFIX = prefix
    settings.NETLAB_STATE_DIR = str(tmp_path / "state")
    design = run("import", str(EXAMPLES / "2-bridge.yaml")).splitlines()[-1].split()[0]
    run("deploy", design)
    try:
        yield design, Deployment.objects.get()
    finally:
        for deployment in Deployment.objects.all():
            engine.destroy(
                deployment.tag,
                state_dir=settings.NETLAB_STATE_DIR,
                namespaces=[name for name in deployment.namespaces.values() if name],
            )
        for name in namespaces.list_names():
            if name.startswith(prefix):
                namespaces.remove(name)
        assert [name for name in namespaces.list_names() if name.startswith(prefix)] == []


@pytest.mark.django_db
def test_the_command_line_answers_a_ping_that_cannot_run_in_one_line(deployed: Any) -> None:
    from netlab.kernel import namespaces

    design, deployment = deployed
    with pytest.raises(CommandError) as error:
        run("ping", design, "red", "fe80::1%nosuchif", "--count", "1")
    assert str(error.value) == (
        f"cannot ping from red: no interface 'nosuchif' in namespace {deployment.namespaces['red']}"
    )

    namespaces.remove(deployment.namespaces["red"])  # by hand, behind netlab's back
    with pytest.raises(CommandError) as error:
        run("ping", design, "red", "blue", "--count", "1")
    assert str(error.value) == (
        f"cannot ping from red: namespace {deployment.namespaces['red']} does not exist "
        "(deleted outside netlab?)"
    )
    assert "\n" not in str(error.value)
