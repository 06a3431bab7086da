"""The root worker trusts its own settings and netlab's name rules, not the database.

A row written by a compromised web process (host mode the server does not allow, another
namespace prefix, a tag or namespace names outside netlab's rules, a document that does not
validate, a destroy naming another lab's namespaces) ends failed, saying why, with nothing
in the kernel touched. Run inside ``unshare --net --mount`` (see ``trust_sandbox.py``): were
a check missing, the damage would stay in the sandbox.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.skipif(os.geteuid() != 0, reason="kernel tests need root"),
]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def found(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    directory = tmp_path_factory.mktemp("trust")
    here = Path(__file__).parent
    environment = {key: value for key, value in os.environ.items() if not key.startswith("NETLAB_")}
    environment.update(
        PYTHONPATH=f"{ROOT}{os.pathsep}{here}",
        DJANGO_SETTINGS_MODULE="netlab.settings",
        NETLAB_DATA_DIR=str(directory),
        NETLAB_DATABASE=str(directory / "netlab.sqlite3"),
        NETLAB_STATE_DIR=str(directory / "state"),
        NETLAB_NETNS_PREFIX="nltrust-",
        NETLAB_HOST_MODE="0",
        NETLAB_ENGINE="netlab.kernel.engine",
    )
    command = (
        "mount -t tmpfs none /run/netns && ip link set lo up && "
        f"exec {sys.executable} {here / 'trust_sandbox.py'}"
    )
    result = subprocess.run(
        ["unshare", "--net", "--mount", "sh", "-c", command],
        capture_output=True,
        text=True,
        env=environment,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, object] = json.loads(result.stdout.splitlines()[-1])
    return answer


@pytest.mark.parametrize(
    ("forgery", "reason"),
    [
        ("host_mode", "host mode is off on this worker"),
        ("prefix", "'victim-' is not this worker's"),
        ("tag", "is not a deployment tag"),
        ("namespaces", "is not one this deployment names"),
        ("document", "not a valid design"),
    ],
)
def test_a_forged_deploy_fails_with_nothing_touched(found, forgery, reason):
    """The worker refuses before its first kernel call: no step, no journal, no object."""
    outcome = found[forgery]
    assert outcome["state"] == "failed"
    assert outcome["error"].startswith("refused: ")
    assert reason in outcome["error"]
    assert outcome["steps"] == 0
    assert outcome["untouched"]
    assert outcome["journal"] == []


def test_a_forged_destroy_of_another_labs_namespaces_touches_nothing(found):
    """Namespace names that are not the row's own (prefix and tag) are refused."""
    assert found["real"] == {"state": "running", "error": ""}
    assert found["destroy"]["state"] == "failed"
    assert "is not one this deployment names" in found["destroy"]["error"]
    assert found["destroy"]["untouched"]


def test_the_real_lab_then_goes_completely(found):
    """The legitimate lab beside the forgeries deploys and destroys as ever, leaving nothing."""
    assert found["real_after"] == "stopped"
    after = found["after"]
    assert after["netns"] == []
    assert after["ruleset"] == ""
    assert after["ip_forward"] == "0"
    assert after["links"] == ["lo"]
