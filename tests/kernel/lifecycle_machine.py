"""The deployment state machine against a real worker and the real kernel (hypothesis).

``test_lifecycle_state`` runs ``python lifecycle_machine.py run`` with the ``NETLAB_*``
environment of a fresh SQLite database, state directory and namespace prefix; it runs
random sequences of deploy and destroy (through the websocket's own request function, as a
click does), worker kill (SIGKILL) and restart, design delete, and collaborator revoke and
grant. ``python lifecycle_machine.py worker`` is the worker: the real ``editor.worker.Worker``
(polling often: separate processes on the in-memory layer cannot nudge each other).

After every step nothing is orphaned: every namespace of the prefix belongs to a lab whose
row is deploying, running or destroying. Once the worker has settled (a ``settle`` step and
the end of each sequence) the kernel matches the database exactly: the namespaces, nft
tables and journal entries are those of the running labs, each still its user's to keep.
Each sequence ends by destroying its labs and deleting its design: nothing is left.

Worker PIDs are appended to ``$LIFECYCLE_PIDS`` so the test can stop any this script left.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "netlab.settings")
HERE = Path(__file__).resolve()
SETTLE_TIMEOUT = 30.0


def lab_data(name: str) -> dict[str, Any]:
    """The host and one namespace on a veth (two namespaces), and a NAT rule (an nft table)."""
    return {
        "format": "netlab/v1",
        "name": name,
        "nodes": [
            {"id": "host", "kind": "host", "nat": [{"source": "10.213.77.0/24", "out": "veth-h"}]},
            {"id": "red", "kind": "namespace"},
        ],
        "links": [
            {
                "endpoints": [
                    {"node": "host", "interface": "veth-h", "addresses": ["10.213.77.1/24"]},
                    {"node": "red", "interface": "veth-red", "addresses": ["10.213.77.2/24"]},
                ]
            }
        ],
    }


def run_worker() -> None:
    import django

    django.setup()
    from editor.worker import Worker

    async def serve() -> None:
        task = asyncio.ensure_future(Worker(poll_interval=0.05).run())
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
        print("worker started", flush=True)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(serve())


def run_machine() -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from hypothesis import HealthCheck, settings
    from hypothesis import strategies as st
    from hypothesis.stateful import (
        RuleBasedStateMachine,
        invariant,
        precondition,
        rule,
        run_state_machine_as_test,
    )

    from editor import deployments, services
    from editor.consumers import _request_change
    from editor.models import Deployment, Design
    from editor.permissions import DesignNotFound
    from netlab.kernel import journal, namespaces

    call_command("migrate", verbosity=0)
    users = get_user_model().objects
    owner = users.create_user(username="owner")
    collaborator = users.create_user(username="collaborator")
    prefix = os.environ["NETLAB_NETNS_PREFIX"]
    state_dir = os.environ["NETLAB_STATE_DIR"]
    pid_file = Path(os.environ["LIFECYCLE_PIDS"])
    steady = (Deployment.State.DEPLOYING, Deployment.State.RUNNING, Deployment.State.DESTROYING)
    pending = (Deployment.State.QUEUED, Deployment.State.DEPLOYING, Deployment.State.DESTROYING)
    worker: dict[str, subprocess.Popen[str] | None] = {"process": None}
    count = {"examples": 0, "steps": 0, "kills": 0, "refused_deletes": 0, "settles": 0}
    count.update(deploys=0, destroys=0, deletes=0, revokes=0, revoked_labs=0)

    def alive() -> bool:
        process = worker["process"]
        return process is not None and process.poll() is None

    def start_worker() -> None:
        with open(os.environ["LIFECYCLE_LOG"], "a") as log:  # logs: never a full pipe
            process = subprocess.Popen(
                [sys.executable, str(HERE), "worker"], stdout=subprocess.PIPE, stderr=log, text=True
            )
        with pid_file.open("a") as pids:
            pids.write(f"{process.pid}\n")
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "worker started" in line, line
        worker["process"] = process

    def kill_worker() -> None:
        process = worker["process"]
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait()
        worker["process"] = None

    def lab_namespaces() -> set[str]:
        return {name for name in namespaces.list_names() if name.startswith(prefix)}

    def tag_of(netns: str) -> str:
        return netns[len(prefix) :].rpartition("-")[0]

    def nft_tables(netns: str) -> set[str]:
        listed = subprocess.run(
            ["ip", "netns", "exec", netns, "nft", "list", "tables"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return {line.split()[-1] for line in listed.splitlines() if line.strip()}

    def settle() -> None:
        """Wait until the (running) worker has no pending work left."""
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while Deployment.objects.filter(state__in=pending).exists():
            assert alive(), "the worker died by itself"
            assert time.monotonic() < deadline, list(Deployment.objects.values("tag", "state"))
            time.sleep(0.02)

    def no_orphans() -> None:
        # A lab's namespaces are created after its row says deploying, and its row says
        # stopped only once they are gone: a name present before and after reading the rows
        # existed all along, so its row must have been deploying, running or destroying.
        first = lab_namespaces()
        rows = dict(Deployment.objects.values_list("tag", "state"))
        second = lab_namespaces()
        for netns in first & second:
            assert rows.get(tag_of(netns)) in steady, (
                f"orphan {netns}: row {rows.get(tag_of(netns))}"
            )

    def kernel_matches_database() -> None:
        running = list(Deployment.objects.filter(state=Deployment.State.RUNNING))
        expected = {name for lab in running for name in lab.namespaces.values() if name}
        assert lab_namespaces() == expected, (lab_namespaces(), expected)
        for lab in running:
            assert nft_tables(lab.namespaces["host"]) == {f"netlab_{lab.tag}"}
            assert nft_tables(lab.namespaces["red"]) == set()
            assert deployments.may_keep(lab), f"{lab} runs for a user who lost the design"
        assert set(journal.tags(state_dir)) == {lab.tag for lab in running}
        root = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout
        assert "netlab_" not in root

    class Lifecycle(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            count["examples"] += 1
            if not alive():
                start_worker()
            name = f"lab-{count['examples']}"
            self.design: Design | None = services.create_design(owner=owner, data=lab_data(name))
            services.set_collaborator(self.design, actor=owner, user=collaborator, role="edit")

        def _change(self, user: Any, action: str) -> None:
            assert self.design is not None
            # Refused as a page would be told: the invariants say it changed nothing.
            with contextlib.suppress(DesignNotFound, deployments.DeploymentRefused):
                _request_change(user, self.design.pk, action)

        @precondition(lambda self: self.design is not None)
        @rule(who=st.sampled_from(["owner", "collaborator"]))
        def deploy(self, who: str) -> None:
            count["deploys"] += 1
            self._change(owner if who == "owner" else collaborator, "deploy")

        @precondition(lambda self: self.design is not None)
        @rule(who=st.sampled_from(["owner", "collaborator"]))
        def destroy(self, who: str) -> None:
            count["destroys"] += 1
            self._change(owner if who == "owner" else collaborator, "destroy")

        @rule()
        def kill_and_restart_worker(self) -> None:
            count["kills"] += 1
            kill_worker()
            start_worker()

        @precondition(lambda self: self.design is not None)
        @rule()
        def delete_design(self) -> None:
            assert self.design is not None
            count["deletes"] += 1
            try:
                services.delete_design(self.design, actor=owner)
            except deployments.LabsActive as refused:
                count["refused_deletes"] += 1
                blocking = refused.labs
            else:
                blocking = []
            if blocking:
                assert all(lab.is_active for lab in blocking)
                return
            assert not Deployment.objects.filter(design_id=self.design.pk).exists()
            self.design = None

        @precondition(lambda self: self.design is not None)
        @rule()
        def revoke(self) -> None:
            assert self.design is not None
            count["revokes"] += 1
            active = Deployment.ACTIVE_STATES
            count["revoked_labs"] += Deployment.objects.filter(
                design=self.design, owner=collaborator, state__in=active
            ).count()
            services.remove_collaborator(self.design, actor=owner, user=collaborator)

        @precondition(lambda self: self.design is not None)
        @rule()
        def grant(self) -> None:
            assert self.design is not None
            services.set_collaborator(self.design, actor=owner, user=collaborator, role="edit")

        @rule()
        def settle_and_compare(self) -> None:
            count["settles"] += 1
            settle()
            kernel_matches_database()

        @invariant()
        def nothing_orphaned(self) -> None:
            count["steps"] += 1
            no_orphans()

        def teardown(self) -> None:
            if not alive():
                start_worker()
            settle()
            kernel_matches_database()
            for lab in Deployment.objects.filter(state__in=Deployment.ACTIVE_STATES):
                deployments.request_destroy(lab, actor=lab.owner)
            settle()
            if self.design is not None:
                services.delete_design(self.design, actor=owner)
            kernel_matches_database()
            assert lab_namespaces() == set()
            assert journal.tags(state_dir) == []

    try:
        run_state_machine_as_test(
            Lifecycle,
            settings=settings(
                max_examples=12,
                stateful_step_count=6,
                derandomize=True,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            ),
        )
    finally:
        kill_worker()
    print(f"lifecycle: {count}", flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parents[1]))
    if sys.argv[1] == "worker":
        run_worker()
    else:
        run_machine()
