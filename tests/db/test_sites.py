"""Sites: a worker registers its machine, a new lab is placed on the least loaded live site
that is not draining, and the labs of a site that went down become ``unknown`` until its
worker, back, checks them against their design.

The engine of the recovery is a double whose ``check`` returns the differences a test
chooses: what is tested is what the rows become, not the kernel's comparison (tested in
tests/kernel).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from editor import deployments
from editor.deployments import sites
from editor.models import Deployment, Site

pytestmark = pytest.mark.django_db

State = Deployment.State


def test_a_worker_registers_its_site_and_refreshes_its_counts(owner: Any, make_design: Any) -> None:
    site = sites.register("east", "192.0.2.1", max_labs=5)
    assert (site.name, site.underlay, site.max_labs, site.labs) == ("east", "192.0.2.1", 5, 0)
    assert sites.is_up(site)
    lab = deployments.request_deploy(make_design("one"), actor=owner)
    assert lab.site == site
    Deployment.objects.filter(pk=lab.pk).update(
        state=State.RUNNING, namespaces={"red": "netlab-x-red", "blue": "netlab-x-blue"}
    )
    Site.objects.filter(pk=site.pk).update(draining=True)
    again = sites.register("east", "2001:db8::1")  # a restart keeps the draining flag
    assert (again.pk, again.underlay, again.draining) == (site.pk, "2001:db8::1", True)
    assert (again.labs, again.namespaces) == (1, 2)


@pytest.mark.parametrize(
    ("name", "underlay", "reason"),
    [
        ("east side", "192.0.2.1", "not a slug"),
        ("east.example", "192.0.2.1", "not a slug"),
        ("x" * 51, "192.0.2.1", "longer than 50"),
        ("east", "east.example", "not an IP address"),
        ("east", "192.0.2.300", "not an IP address"),
    ],
)
def test_a_bad_site_name_or_underlay_is_refused_with_its_reason(
    name: str, underlay: str, reason: str
) -> None:
    with pytest.raises(sites.BadSite, match=reason):
        sites.register(name, underlay)
    assert not Site.objects.exists()


def test_without_sites_a_lab_is_not_placed(owner: Any, make_design: Any) -> None:
    """The embedded layout: a worker without a site claims it, as before sites."""
    lab = deployments.request_deploy(make_design("one"), actor=owner)
    assert lab.site is None
    assert deployments.claim_pending(worker="here") == [(lab, "deploy")]


def test_a_lab_goes_to_the_least_loaded_live_site_that_is_not_draining(
    owner: Any, make_design: Any
) -> None:
    east = sites.register("east", "192.0.2.1")
    west = sites.register("west", "192.0.2.2")
    south = sites.register("south", "192.0.2.3")
    Site.objects.filter(pk=south.pk).update(last_seen=timezone.now() - timedelta(minutes=5))
    users = [get_user_model().objects.create_user(f"user{n}") for n in range(4)]
    placed = [
        deployments.request_deploy(make_design(f"lab{n}", owner=user), actor=user).site
        for n, user in enumerate(users)
    ]
    # Ties go by name: east, then west, then each again; never south, which is down.
    assert placed == [east, west, east, west]
    Site.objects.filter(pk=east.pk).update(draining=True)
    other = get_user_model().objects.create_user("late")
    assert deployments.request_deploy(make_design("late", owner=other), actor=other).site == west


def test_a_chosen_site_is_used_and_a_full_draining_or_down_one_refused(
    owner: Any, make_design: Any
) -> None:
    sites.register("east", "192.0.2.1")
    west = sites.register("west", "192.0.2.2", max_labs=1)
    first = deployments.request_deploy(make_design("one"), actor=owner, site="west")
    assert first.site == west
    two = make_design("two")
    with pytest.raises(deployments.DeploymentRefused, match="west runs its 1 labs"):
        deployments.request_deploy(two, actor=owner, site="west")
    with pytest.raises(deployments.DeploymentRefused, match="there is no site 'north'"):
        deployments.request_deploy(two, actor=owner, site="north")
    Site.objects.update(draining=True)
    with pytest.raises(deployments.DeploymentRefused, match="east is draining"):
        deployments.request_deploy(two, actor=owner)
    assert Deployment.objects.count() == 1


class CheckingEngine:
    """The recovery's engine: ``check`` finds ``drift`` (messages) in every lab."""

    def __init__(self, *drift: str) -> None:
        self.drift = drift

    def check(self, design: Any, record: Any) -> list[Any]:
        return [Finding(message) for message in self.drift]


class Finding:
    def __init__(self, message: str) -> None:
        self.message = message

    def as_dict(self) -> dict[str, Any]:
        return {"node": "red", "message": self.message}


def running_on(site: Site, name: str, owner: Any, make_design: Any) -> Deployment:
    lab = deployments.request_deploy(make_design(name), actor=owner, site=site.name)
    record = {"tag": lab.tag, "design": name, "prefix": lab.prefix, "host_mode": False,
              "namespaces": {}, "state_dir": "/run/netlab"}  # fmt: skip
    Deployment.objects.filter(pk=lab.pk).update(state=State.RUNNING, record=record)
    lab.refresh_from_db()
    return lab


def test_a_down_sites_labs_become_unknown_and_its_worker_recovers_them(
    settings: Any, owner: Any, make_design: Any
) -> None:
    settings.NETLAB_SITE_TIMEOUT = 30
    east = sites.register("east", "192.0.2.1")
    west = sites.register("west", "192.0.2.2")
    kept = running_on(east, "kept", owner, make_design)
    drifted = running_on(east, "drifted", owner, make_design)
    elsewhere = running_on(west, "elsewhere", owner, make_design)
    Site.objects.filter(pk=east.pk).update(last_seen=timezone.now() - timedelta(seconds=31))
    announced: list[tuple[str, str]] = []
    lost = sites.mark_lost(lambda lab: announced.append((lab.tag, lab.state)))
    assert {lab.pk for lab in lost} == {kept.pk, drifted.pk}
    assert sorted(announced) == sorted([(kept.tag, "unknown"), (drifted.tag, "unknown")])
    elsewhere.refresh_from_db()
    assert elsewhere.state == State.RUNNING
    assert sites.mark_lost() == []  # once

    # An unknown lab is still active (its namespaces may exist), and may be destroyed.
    assert Deployment.objects.filter(state__in=Deployment.ACTIVE_STATES).count() == 3
    assert deployments.destroyable(Deployment.objects.get(pk=kept.pk))

    east.refresh_from_db()
    sites.refresh(east)
    back = sites.recover_unknown(east, engine=CheckingEngine())  # type: ignore[arg-type]
    assert {lab.pk: lab.state for lab in back} == {kept.pk: "running", drifted.pk: "running"}

    Site.objects.filter(pk=east.pk).update(last_seen=timezone.now() - timedelta(seconds=31))
    sites.mark_lost()
    engine = CheckingEngine("veth red-eth0 is missing")
    back = sites.recover_unknown(east, engine=engine)  # type: ignore[arg-type]
    assert {lab.state for lab in back} == {"failed"}
    drifted.refresh_from_db()
    assert "site east was down" in drifted.error
    assert "veth red-eth0 is missing" in drifted.error


def test_a_worker_claims_only_its_own_sites_work(owner: Any, make_design: Any) -> None:
    east = sites.register("east", "192.0.2.1")
    west = sites.register("west", "192.0.2.2")
    on_east = deployments.request_deploy(make_design("one"), actor=owner, site="east")
    on_west = deployments.request_deploy(make_design("two"), actor=owner, site="west")
    assert deployments.claim_pending(worker="w", site=west) == [(on_west, "deploy")]
    assert deployments.claim_pending(worker="w") == []  # no site: only labs not placed
    assert deployments.claim_pending(worker="e", site=east) == [(on_east, "deploy")]


def test_staff_see_sites_in_the_admin_and_drain_and_undrain_them(admin_client: Any) -> None:
    sites.register("east", "192.0.2.1", max_labs=7)
    west = sites.register("west", "192.0.2.2")
    Site.objects.filter(pk=west.pk).update(last_seen=timezone.now() - timedelta(minutes=5))
    html = admin_client.get("/admin/editor/site/").content.decode()
    assert "east" in html
    assert "192.0.2.1" in html
    assert "west" in html
    assert html.count('alt="True"') == 1  # east is up, west down (draining: both False)
    assert html.count('alt="False"') == 3
    for action, draining in (("drain", True), ("undrain", False)):
        response = admin_client.post(
            "/admin/editor/site/",
            {"action": action, "_selected_action": [west.pk]},
            follow=True,
        )
        assert response.status_code == 200
        west.refresh_from_db()
        assert west.draining is draining
    assert not Site.objects.get(name="east").draining
    assert admin_client.get("/admin/editor/site/add/").status_code == 403  # workers register


def test_status_names_the_labs_site(owner: Any, make_design: Any) -> None:
    from editor import lab

    sites.register("east", "192.0.2.1")
    design = make_design("one")
    assert lab.status(design)["site"] is None  # not deployed
    deployments.request_deploy(design, actor=owner)
    assert lab.status(design)["site"] == "east"


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        (["--site", "east side", "--underlay", "192.0.2.1"], "not a slug"),
        (["--site", "east", "--underlay", "east.example"], "not an IP address"),
        (["--site", "east"], "--underlay ADDRESS is needed"),
        (["--underlay", "192.0.2.1", "--max-labs", "-1"], "are counts"),
    ],
)
def test_the_worker_command_refuses_a_bad_site_before_it_starts(
    arguments: list[str], reason: str
) -> None:
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match=reason):
        call_command("netlab", "worker", *arguments)
    assert not Site.objects.exists()


def test_the_command_line_leaves_another_sites_lab_to_that_sites_worker(
    owner: Any, make_design: Any
) -> None:
    from editor import lab

    sites.register(f"{sites.default_name()[:40]}-other", "192.0.2.9")  # not this host's
    deployment = deployments.request_deploy(make_design("one"), actor=owner)
    assert deployment.site is not None
    assert lab._claim_here(deployment) is None
    deployment.refresh_from_db()
    assert (deployment.state, deployment.worker) == (State.QUEUED, "")
    here = sites.register(sites.default_name(), "192.0.2.1")
    mine = deployments.request_deploy(make_design("two"), actor=owner, site=here.name)
    assert lab._claim_here(mine) == "deploy"


@pytest.mark.django_db(transaction=True)
def test_the_command_line_follows_another_sites_destroy_without_the_deploys_steps(
    owner: Any, make_design: Any, monkeypatch: Any
) -> None:
    """The deploy's steps were printed by the deploy: following a destroy that another
    site's worker runs prints only what comes after the request."""
    import threading

    from django.db import connection

    from editor import lab
    from editor.models import DeploymentStep

    other = sites.register(f"{sites.default_name()[:40]}-other", "192.0.2.9")
    running = running_on(other, "far", owner, make_design)
    DeploymentStep.objects.create(  # noqa: S604 - a step's shell text, nothing runs it
        deployment=running,
        index=1,
        total=1,
        description="made long ago",
        shell="ip netns add x",
        outcome=DeploymentStep.Outcome.DONE,
        duration_ms=1.0,
    )
    monkeypatch.setattr(lab, "_require_privileges", lambda: None)
    monkeypatch.setattr(lab, "POLL_SECONDS", 0.01)

    def other_sites_worker() -> None:  # the request is written: stop the lab
        try:
            for _ in range(500):
                if Deployment.objects.filter(pk=running.pk, state=State.DESTROYING).exists():
                    Deployment.objects.filter(pk=running.pk).update(state=State.STOPPED)
                    return
                threading.Event().wait(0.01)
        finally:
            connection.close()  # this thread's own

    worker = threading.Thread(target=other_sites_worker)
    worker.start()
    printed: list[str] = []
    lab.destroy(running.design, out=printed.append)
    worker.join()
    assert printed == [f"far destroyed ({running.tag})"]
