"""The plans PostgreSQL chooses for the worker's and the pages' queries on a database with a
long history: ``python tests/production/explain_queries.py`` (needs Debian's postgresql).

A throw-away cluster (``tests/postgres_cluster.py``) is migrated and filled with 2,000 users,
20,000 designs, 200,000 revisions, 200,000 deployments (2,000 of them live) and 1,000,000
steps; each query is then run under ``EXPLAIN ANALYZE``. A query read whole (``Seq Scan``)
or sorted whole on one of those tables grows with the history: each needs an index.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))
sys.path.insert(0, str(TESTS.parent))

from postgres_cluster import Cluster, bin_directory  # noqa: E402

FILL = """
INSERT INTO auth_user (id, password, is_superuser, username, first_name, last_name, email,
                       is_staff, is_active, date_joined)
SELECT n, '!', false, 'user' || n, '', '', '', false, true, now()
FROM generate_series(1, 2000) n;

INSERT INTO editor_design (id, owner_id, name, title, node_count, link_count, visibility,
                           share_anonymous, created, updated)
SELECT n, 1 + n % 2000, 'lab-' || n, '', 3, 2,
       CASE WHEN n % 10 = 0 THEN 'public' ELSE 'private' END, false,
       now() - n * interval '1 minute', now() - n * interval '1 minute'
FROM generate_series(1, 20000) n;

INSERT INTO editor_revision (id, design_id, number, document, message, draft, created, picture)
SELECT n, 1 + (n - 1) / 10, 1 + (n - 1) % 10, '{"name": "lab", "nodes": []}', '', false, now(), ''
FROM generate_series(1, 200000) n;

UPDATE editor_design SET current_id = id * 10;

INSERT INTO editor_site (id, name, underlay, max_labs, max_namespaces, labs, namespaces,
                         draining, last_seen)
SELECT n, 'site-' || n, ('192.0.2.' || n)::inet, 0, 0, 0, 0, false, now()
FROM generate_series(1, 4) n;

-- Ten runs of each design by its owner: the last one of every tenth design still live,
-- on four sites.
INSERT INTO editor_deployment (id, design_id, revision_id, owner_id, tag, prefix, host_mode,
                               state, namespaces, record, worker, error, created, updated,
                               site_id)
SELECT n, 1 + (n - 1) / 10, n, 1 + (1 + (n - 1) / 10) % 2000, to_hex(n), 'netlab-', false,
       CASE WHEN n % 100 = 0 THEN 'running' WHEN n % 10 = 0 THEN 'failed' ELSE 'stopped' END,
       '{}', '{}', '', '', now() - (200000 - n) * interval '1 minute', now(), 1 + n % 4
FROM generate_series(1, 200000) n;

INSERT INTO editor_deploymentstep (deployment_id, action, index, total, description, shell,
                                   outcome, duration_ms, error, created)
SELECT 1 + (n - 1) / 5, 'deploy', 1 + (n - 1) % 5, 5, 'ip link add', 'ip link add', 'done',
       1.0, '', now()
FROM generate_series(1, 1000000) n;
ANALYZE;
"""


def queries() -> dict[str, Callable[[], Any]]:
    """The queries, as the code makes them (ids of a user with history, and a live lab)."""
    from django.db.models import Count, Exists, OuterRef

    from editor import deployments
    from editor.deployments import sites
    from editor.deployments.steplog import _UPDATE
    from editor.models import Deployment, DeploymentStep, Design, Revision, Site

    state = Deployment.State
    design = Design.objects.get(pk=4321)
    live = Deployment.objects.filter(state=state.RUNNING).order_by("pk")[5]
    site = Site.objects.get(name="site-2")
    waiting = Deployment.objects.filter(state__in=deployments.runs.WAITING, worker="", site=site)
    site_active = Deployment.objects.filter(site=site, state__in=Deployment.ACTIVE_STATES)
    running = Deployment.objects.filter(design=OuterRef("pk"), state=state.RUNNING)
    return {
        "worker: poll for waiting work (exists)": lambda: waiting[:1],
        "worker: claim (FOR UPDATE SKIP LOCKED)": lambda: (
            waiting.select_related("revision")
            .order_by("pk")
            .select_for_update(skip_locked=True, of=("self",))[:1]
        ),
        "worker: its site's counts": lambda: site_active.values_list("namespaces", flat=True),
        "worker: a down site's running labs": lambda: Deployment.objects.filter(
            state=state.RUNNING, site__in=Site.objects.filter(last_seen__lt=sites.deadline())
        ),
        "worker: its site's unknown labs": lambda: Deployment.objects.filter(
            site=site, state=state.UNKNOWN
        ),
        "pages: placement, active labs per site": lambda: (
            Deployment.objects.filter(
                site__in=Site.objects.all(), state__in=Deployment.ACTIVE_STATES
            )
            .values_list("site")
            .annotate(count=Count("id"))
            .values_list("site", "count")
        ),
        "worker: recover abandoned work": lambda: Deployment.objects.filter(
            state__in=[state.DEPLOYING, state.APPLYING, state.DESTROYING]
        ).exclude(worker=""),
        "worker: running labs at start": lambda: Deployment.objects.filter(state=state.RUNNING),
        "worker: running labs counted at claim": lambda: Deployment.objects.filter(
            state__in=(state.DEPLOYING, state.RUNNING, state.DESTROYING)
        ).exclude(pk=live.pk),
        "worker: a step's end written": (
            _UPDATE,
            ["done", 1.0, "", live.pk, "deploy", 3, "started"],
        ),
        "pages: a user's lab of a design (latest)": lambda: Deployment.objects.filter(
            design=design, owner=design.owner
        )[:1],
        "pages: a user's live lab of a design": lambda: Deployment.objects.filter(
            design=design, owner=design.owner, state__in=Deployment.ACTIVE_STATES
        )[:1],
        "pages: running quota of a user": lambda: Deployment.objects.filter(
            owner=design.owner, state__in=Deployment.ACTIVE_STATES
        ),
        "pages: live tags (cleanup)": lambda: Deployment.objects.filter(
            state__in=Deployment.ACTIVE_STATES
        ).values_list("tag", flat=True),
        "pages: dashboard, is a design running": lambda: Design.objects.filter(
            owner=design.owner
        ).annotate(running=Exists(running)),
        "pages: step log of a lab (recent steps)": lambda: DeploymentStep.objects.filter(
            deployment=live
        ).order_by("-pk")[:200],
        "pages: CLI, the finished steps of a lab": lambda: DeploymentStep.objects.filter(
            deployment=live
        ).exclude(outcome="started"),
        "pages: revisions of a design": lambda: design.revisions.select_related("author"),
        "pages: a revision by number": lambda: design.revisions.filter(number=3)[:1],
        "pages: next revision number": lambda: Revision.objects.filter(design=design).order_by(
            "-number"
        )[:1],
    }


def main() -> None:
    bin_dir = bin_directory()
    if bin_dir is None:
        sys.exit("PostgreSQL is not installed (apt-get install postgresql)")
    cluster = Cluster(bin_dir)
    try:
        cluster.start()
        createdb = [str(bin_dir / "createdb"), "-h", str(cluster.folder), "-U", "netlab", "netlab"]
        subprocess.run(createdb, check=True)
        os.environ["NETLAB_DATABASE_URL"] = cluster.url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "netlab.settings")
        import django

        django.setup()
        explain_all()
    finally:
        cluster.stop()


def explain_all() -> None:
    from django.core.management import call_command
    from django.db import connection, transaction

    call_command("migrate", verbosity=0)
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(FILL)
    print(f"filled in {time.monotonic() - started:.1f} s\n")
    for name, query in queries().items():
        with transaction.atomic(), connection.cursor() as cursor:
            if isinstance(query, tuple):  # raw SQL, and its parameters
                cursor.execute(f"EXPLAIN ANALYZE {query[0]}", query[1])
                plan = "\n".join(row[0] for row in cursor.fetchall())
                transaction.set_rollback(True)
            else:
                plan = query().explain(analyze=True)
        print(f"== {name}\n{plan}\n")
    connection.close()


if __name__ == "__main__":
    main()
