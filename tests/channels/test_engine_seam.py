"""The engine seam: the web process never loads the kernel driver, the in-memory engine
implements the same protocol, and one rule says whether a lab may be destroyed."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import live_fake_engine
import pytest

from editor import deployments, events
from editor.models import Deployment
from netlab.core.engine import Engine

ROOT = Path(__file__).resolve().parents[2]

# Import every module the web process serves from, export a script, then list what loaded.
WEB_PROCESS = """
import sys, django
django.setup()
import editor.views, editor.api, editor.consumers, editor.routing, editor.lab
from netlab.core import codec
print(len(editor.lab.shell_script(codec.load_text(open(sys.argv[1]).read()))))
driver = ("pyroute2", "netlab.kernel")
print(" ".join(sorted(name for name in sys.modules if name.startswith(driver))))
"""


def test_the_web_process_never_imports_the_kernel_driver() -> None:
    """Importing the views, the API and the consumers, and exporting a shell script, load
    neither pyroute2 nor any module of ``netlab.kernel``."""
    example = ROOT / "netlab" / "examples" / "2-bridge.yaml"
    found = subprocess.run(
        [sys.executable, "-c", WEB_PROCESS, str(example)],
        cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "netlab.settings", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    length, loaded = [*found.stdout.splitlines(), ""][:2]
    assert int(length) > 0
    assert loaded == ""


def _engine_modules() -> list[Any]:
    from netlab.kernel import engine

    return [
        pytest.param(engine, id="kernel"),
        pytest.param(live_fake_engine, id="in-memory"),
    ]


@pytest.mark.parametrize("module", _engine_modules())
def test_both_engines_take_what_the_protocol_passes(module: ModuleType) -> None:
    """Every verb of :class:`Engine` exists in the kernel's and the in-memory engine, with
    each parameter the protocol names, of the same kind (mypy checks the kernel's too)."""
    verbs = [name for name in vars(Engine) if not name.startswith("_")]
    assert {"deploy", "destroy", "check", "status", "cleanup", "require_privileges"} <= set(verbs)
    for verb in verbs:
        wanted = inspect.signature(getattr(Engine, verb)).parameters
        found = inspect.signature(getattr(module, verb)).parameters
        for name, parameter in wanted.items():
            if name != "self":
                assert found[name].kind == parameter.kind, (verb, name)


@pytest.mark.parametrize(
    ("state", "destroyable"),
    [
        pytest.param(Deployment.State.QUEUED, True, id="queued-is-cancelled"),
        pytest.param(Deployment.State.DEPLOYING, False, id="deploying-waits"),
        pytest.param(Deployment.State.RUNNING, True, id="running"),
        pytest.param(Deployment.State.FAILED, True, id="failed"),
        pytest.param(Deployment.State.DESTROYING, False, id="destroying-under-way"),
        pytest.param(Deployment.State.STOPPED, False, id="stopped-has-nothing"),
    ],
)
def test_one_rule_says_whether_a_lab_may_be_destroyed(
    make_design: Any, owner: Any, state: str, destroyable: bool
) -> None:
    """``deployments.destroyable`` is the rule; the page's ``deployment`` event carries it."""
    deployment = deployments.request_deploy(make_design("lab"), actor=owner)
    Deployment.objects.filter(pk=deployment.pk).update(state=state)
    deployment.refresh_from_db()
    assert deployments.destroyable(deployment) is destroyable
    assert events.deployment_event(deployment).destroyable is destroyable


def test_never_deployed_is_not_destroyable() -> None:
    assert deployments.destroyable(None) is False
    assert events.deployment_event(None).destroyable is False
