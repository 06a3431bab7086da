"""A script for the worker crash test: it acts on the test's own SQLite database (named by
the ``NETLAB_*`` environment, as the worker under test sees it) through ``editor``'s
services, and prints JSON.

    python crashkit.py queue DESIGN.json  # a user, the design, a queued deploy
    python crashkit.py show ID            # the deployment's state, error, claim, steps...
    python crashkit.py destroy ID         # request the destroy (a worker carries it out)
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "netlab.settings")


def main(command: str, argument: str) -> dict[str, object]:
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from editor import deployments, services
    from editor.models import Deployment

    if command == "queue":
        user = get_user_model().objects.create_user(username="crash")
        data = json.loads(Path(argument).read_text())
        design = services.create_design(owner=user, data=data)
        return {"deployment": deployments.request_deploy(design, actor=user).pk}
    deployment = Deployment.objects.get(pk=int(argument))
    if command == "destroy":
        deployment = deployments.request_destroy(deployment, actor=deployment.owner)
    return {
        "state": deployment.state,
        "error": deployment.error,
        "worker": deployment.worker,
        "tag": deployment.tag,
        "namespaces": deployment.namespaces,
        "steps": deployment.steps.count(),
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
