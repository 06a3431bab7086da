"""Rows forged by a compromised web process, handed to the worker's own code path, inside a
throw-away outer namespace (never the real root namespace: were a check missing, the forged
host-mode lab would land in the sandbox, not on the machine).

``test_worker_trust`` starts this file under ``unshare --net --mount`` with a tmpfs over
/run/netns, and the ``NETLAB_*`` environment of a fresh SQLite database; it prints one JSON
object of findings for the test to check.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "netlab.settings")


def links() -> list[str]:
    out = subprocess.run(["ip", "-br", "link"], capture_output=True, text=True, check=True)
    return sorted(line.split()[0].split("@")[0] for line in out.stdout.splitlines())


def kernel_view() -> dict[str, Any]:
    """What a lab could have changed in the sandbox: its links, namespaces and ruleset."""
    ruleset = subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True).stdout
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    with open("/proc/sys/net/ipv4/ip_forward") as forward:
        return {
            "links": links(),
            "netns": sorted(line.split()[0] for line in netns.splitlines() if line.strip()),
            "ruleset": ruleset,
            "ip_forward": forward.read().strip(),
        }


def main() -> dict[str, Any]:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from factories import design_data

    from editor import deployments, services
    from editor.models import Deployment, Revision
    from netlab.kernel import journal

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user(username="forger")
    state_dir = os.environ["NETLAB_STATE_DIR"]

    def run_as_worker(deployment: Deployment) -> Deployment:
        work = deployments.claim(deployment, worker=deployments.worker_id())
        assert work is not None, "the forged row was not claimable"
        return deployments.run_claimed(deployment, work)

    def forged_deploy(name: str, **row: Any) -> dict[str, Any]:
        """Queue a legitimate deployment, rewrite its row, run it as the worker does."""
        design = services.create_design(owner=user, data=design_data(name=name))
        deployment = deployments.request_deploy(design, actor=user)
        document = row.pop("document", None)
        if document is not None:
            Revision.objects.filter(pk=deployment.revision_id).update(document=document)
        Deployment.objects.filter(pk=deployment.pk).update(**row)
        deployment.refresh_from_db()
        before = kernel_view()
        run_as_worker(deployment)
        return {
            "state": deployment.state,
            "error": deployment.error,
            "steps": deployment.steps.count(),
            "untouched": kernel_view() == before,
            "journal": journal.tags(state_dir),
        }

    found: dict[str, Any] = {}
    found["host_mode"] = forged_deploy("forged-host", host_mode=True)
    found["prefix"] = forged_deploy("forged-prefix", prefix="victim-")
    found["tag"] = forged_deploy("forged-tag", tag="../../")
    found["namespaces"] = forged_deploy("forged-names", namespaces={"red": "victim-1"})
    bad = design_data(name="forged-document")
    bad["links"][0]["endpoints"][0]["interface"] = "eth0;reboot"
    found["document"] = forged_deploy("forged-document", document=bad)

    # A real lab, then a forged destroy that names the real lab's namespaces as its own.
    design = services.create_design(owner=user, data=design_data(name="real"))
    real = run_as_worker(deployments.request_deploy(design, actor=user))
    found["real"] = {"state": real.state, "error": real.error}
    other = services.create_design(owner=user, data=design_data(name="forged-destroy"))
    forged = deployments.request_deploy(other, actor=user)
    Deployment.objects.filter(pk=forged.pk).update(
        state=Deployment.State.DESTROYING, namespaces=real.namespaces
    )
    forged.refresh_from_db()
    before = kernel_view()
    run_as_worker(forged)
    found["destroy"] = {
        "state": forged.state,
        "error": forged.error,
        "untouched": kernel_view() == before,
    }
    deployments.request_destroy(real, actor=user)
    real.refresh_from_db()
    run_as_worker(real)
    found["real_after"] = real.state
    found["after"] = kernel_view()
    return found


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: factories
    print(json.dumps(main()))
