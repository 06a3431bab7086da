"""The processes of the claim race (``test_claim_race.py``), on the database the
``NETLAB_*`` environment names:

- ``setup JOBS``: JOBS deployments waiting for a worker (deploys, changes and destroys),
  placed in turn on the sites of :data:`SITES`;
- ``worker NAME SITE``: says ``ready``, waits for a line on stdin, then claims rows of site
  SITE one at a time (:func:`editor.deployments.claim_pending`, as the worker does) until
  none is left, and prints the ``[id, work]`` pairs it won as JSON;
- ``rows``: every deployment's ``[id, state, worker, site]``, as JSON.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "netlab.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from editor import deployments  # noqa: E402
from editor.models import Deployment, Design, Revision, Site  # noqa: E402

WAITING = [Deployment.State.QUEUED, Deployment.State.APPLYING, Deployment.State.DESTROYING]
SITES = ["east", "west"]


def setup(jobs: int) -> None:
    owner = get_user_model().objects.create_user(username="racer")
    sites = [
        Site.objects.create(name=name, underlay=f"192.0.2.{number + 1}", last_seen=timezone.now())
        for number, name in enumerate(SITES)
    ]
    designs = Design.objects.bulk_create(
        Design(owner=owner, name=f"lab-{number}") for number in range(jobs)
    )
    revisions = Revision.objects.bulk_create(
        Revision(design=design, number=1, document={}) for design in designs
    )
    Deployment.objects.bulk_create(
        Deployment(
            design=design,
            revision=revision,
            owner=owner,
            tag=f"r{number:05d}",
            prefix="race-",
            state=WAITING[number % len(WAITING)],
            site=sites[number % len(sites)],
        )
        for number, (design, revision) in enumerate(zip(designs, revisions, strict=True))
    )


def worker(name: str, site_name: str) -> None:
    site = Site.objects.get(name=site_name)
    connection.ensure_connection()  # connected before the start, as a running worker is
    print("ready", flush=True)
    sys.stdin.readline()
    won: list[tuple[int, str]] = []
    while batch := deployments.claim_pending(worker=name, site=site, limit=1):
        won += [(deployment.pk, work) for deployment, work in batch]
    print(json.dumps(won), flush=True)


def rows() -> None:
    print(json.dumps(list(Deployment.objects.values_list("pk", "state", "worker", "site__name"))))


if __name__ == "__main__":
    command, *arguments = sys.argv[1:]
    if command == "setup":
        setup(int(arguments[0]))
    elif command == "worker":
        worker(arguments[0], arguments[1])
    else:
        rows()
