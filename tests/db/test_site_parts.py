"""Labs across sites in the database: pins place a lab, a lab whose nodes run on two sites
gets a part per site (its tunnels' VNIs and underlays), each site's worker claims and builds
only its own part, and only once the lab's worker has claimed the lab.

The engine of a part is a double that records what it was asked: what is tested here is
the rows (tests/kernel/test_vxlan.py builds parts in the kernel, tests/sites/ whole labs
with a worker per site).
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from factories import endpoint, link, node

from editor import deployments
from editor.deployments import parts, sites
from editor.models import Deployment, Site, SitePart
from netlab.core import sites as core_sites
from netlab.core.document import Document
from netlab.core.engine import DeploymentRecord, StepReport
from netlab.core.plan import Naming

pytestmark = pytest.mark.django_db

State = Deployment.State


def across(
    red: str | None = "east", blue: str | None = "west", host: str | None = None
) -> dict[str, Any]:
    """host, red and blue; red - blue is the link that may cross sites."""
    pins = {"host": host, "red": red, "blue": blue}
    nodes = [
        node(name, "host" if name == "host" else "namespace", **({"site": site} if site else {}))
        for name, site in pins.items()
    ]
    red_end, blue_end = (
        endpoint("red", "eth0", "10.0.0.1/24"),
        endpoint("blue", "eth0", "10.0.0.2/24"),
    )
    return {"nodes": nodes, "links": [link(red_end, blue_end)]}


class PartEngine:
    """Builds nothing: returns the record a part's deploy would, and notes each call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []

    def deploy(self, document: Document, *, tag: str, prefix: str, state_dir: Any,
               on_step: Any, part: core_sites.Part) -> DeploymentRecord:  # fmt: skip
        self.calls.append(("deploy", tag, part))
        on_step(StepReport(1, 1, "add-vxlan", "a tunnel", ("ip link add ...",), "start"))
        on_step(StepReport(1, 1, "add-vxlan", "a tunnel", ("ip link add ...",), "end", 0.001))
        naming = Naming(tag, prefix, part=part)
        return DeploymentRecord(
            tag=tag, design=document.name, prefix=prefix, host_mode=False,
            namespaces=naming.namespaces(document), state_dir=str(state_dir),
            part=part.as_dict(),
        )  # fmt: skip

    def destroy(self, tag: str, *, state_dir: Any, namespaces: list[str]) -> None:
        self.calls.append(("destroy", tag, sorted(namespaces)))


@pytest.fixture
def east_west() -> tuple[Site, Site]:
    return sites.register("east", "10.255.0.1"), sites.register("west", "10.255.0.2")


def test_a_lab_pinned_to_one_site_goes_there(owner: Any, make_design: Any, east_west: Any) -> None:
    _, west = east_west
    busy = deployments.request_deploy(make_design("busy"), actor=owner, site="west")
    assert busy.site == west
    lab = deployments.request_deploy(
        make_design("pinned", **across("west", "west", "west")), actor=owner
    )
    assert lab.site == west  # though east runs nothing
    assert not lab.parts.exists()


@pytest.mark.parametrize(
    ("pins", "refusal"),
    [
        pytest.param(
            ("east", "north"),
            "blue is pinned to site 'north', and there is no such site",
            id="missing",
        ),
        pytest.param(
            ("east", "west"), "blue is pinned to site 'west', which is draining", id="draining"
        ),
        pytest.param(("gone", "west"), "red is pinned to site 'gone', which is down", id="down"),
    ],
)
def test_a_pin_to_a_site_that_cannot_take_it_is_refused(
    owner: Any, make_design: Any, east_west: Any, pins: tuple[str, str], refusal: str
) -> None:
    Site.objects.filter(name="west").update(draining=True)
    gone = sites.register("gone", "10.255.0.3")
    Site.objects.filter(pk=gone.pk).update(last_seen=timezone.now() - timedelta(minutes=5))
    if pins[1] == "west":
        Site.objects.filter(name="west").update(draining=pins[0] != "gone")
    design = make_design("pinned", **across(*pins))
    with pytest.raises(deployments.DeploymentRefused, match=refusal):
        deployments.request_deploy(design, actor=owner)
    assert not Deployment.objects.exists()
    assert not SitePart.objects.exists()


def test_a_lab_across_sites_gets_a_part_per_site(
    owner: Any, make_design: Any, east_west: Any
) -> None:
    east, _ = east_west
    lab = deployments.request_deploy(
        make_design("across", **across(None, "west")), actor=owner, site="east"
    )
    assert lab.site == east  # red and the host are unpinned: they go with the lab
    rows = {part.site.name: part for part in lab.parts.all()}
    vni = core_sites.vni(lab.pk, 0)
    assert rows["east"].part == {
        "site": "east", "nodes": ["host", "red"],
        "tunnels": [
            {"link": 0, "endpoint": 0, "vni": vni, "local": "10.255.0.1", "remote": "10.255.0.2",
             "mtu": 1450},
        ],
    }  # fmt: skip
    assert rows["west"].part["nodes"] == ["blue"]
    assert rows["west"].part["tunnels"][0]["local"] == "10.255.0.2"
    assert {part.state for part in rows.values()} == {State.QUEUED}


def test_each_site_builds_its_own_part_once_the_lab_is_claimed(
    owner: Any, make_design: Any, east_west: Any
) -> None:
    east, west = east_west
    lab = deployments.request_deploy(make_design("across", **across()), actor=owner)
    assert parts.claim_parts(worker="w-west", site=west) == []  # the lab is not claimed yet
    assert deployments.claim_pending(worker="w-east", site=east) == [(lab, "deploy")]
    (claimed,) = parts.claim_parts(worker="w-west", site=west)
    assert (claimed[0].site, claimed[1], claimed[0].state) == (west, "deploy", State.DEPLOYING)
    assert parts.claim_parts(worker="other", site=west) == []
    engine = PartEngine()
    done = parts.run_part(claimed[0], "deploy", underlay="10.255.0.2", engine=engine)  # type: ignore[arg-type]
    assert done.state == State.RUNNING
    assert done.record["namespaces"] == {"blue": f"netlab-{lab.tag}-2"}
    assert [call[2].site for call in engine.calls] == ["west"]
    # The lab's worker finds every part running once east's is: the lab runs with its own.
    (own, _), = parts.claim_parts(worker="w-east", site=east)  # fmt: skip
    parts.run_part(own, "deploy", underlay="10.255.0.1", engine=engine)  # type: ignore[arg-type]
    deployments.run_deploy(lab)
    assert lab.state == State.RUNNING
    steps = lab.steps.order_by("index").values_list("index", "total", "description", "outcome")
    assert list(steps) == [(1, 1, "a tunnel", "done"), (1001, 1001, "site west: a tunnel", "done")]
    assert lab.namespaces == {"host": f"netlab-{lab.tag}-0", "red": f"netlab-{lab.tag}-1"}
    assert deployments.node_sites(lab) == {"host": "east", "red": "east", "blue": "west"}
    with pytest.raises(deployments.DeploymentRefused, match="cannot change in place"):
        deployments.request_apply(lab.design, actor=owner)


def test_a_part_whose_tunnel_is_not_this_sites_is_refused(
    owner: Any, make_design: Any, east_west: Any
) -> None:
    east, west = east_west
    lab = deployments.request_deploy(make_design("across", **across()), actor=owner)
    deployments.claim_pending(worker="w-east", site=east)
    (claimed, _), = parts.claim_parts(worker="w-west", site=west)  # fmt: skip
    engine = PartEngine()
    done = parts.run_part(claimed, "deploy", underlay="10.255.0.9", engine=engine)  # type: ignore[arg-type]
    assert done.state == State.FAILED
    assert "a tunnel starts at 10.255.0.2, not at this site's 10.255.0.9" in done.error
    assert engine.calls == []
    assert lab.pk


def test_a_lab_whose_part_site_is_down_fails_saying_so(
    owner: Any, make_design: Any, east_west: Any
) -> None:
    east, west = east_west
    lab = deployments.request_deploy(make_design("across", **across()), actor=owner)
    Site.objects.filter(pk=west.pk).update(last_seen=timezone.now() - timedelta(minutes=5))
    deployments.claim_pending(worker="w-east", site=east)
    SitePart.objects.filter(deployment=lab, site=east).update(state=State.STOPPED)
    deployments.run_deploy(lab)
    assert lab.state == State.FAILED
    assert "site west is down (its part is queued)" in lab.error


def test_a_cancelled_lab_builds_no_part(owner: Any, make_design: Any, east_west: Any) -> None:
    _, west = east_west
    lab = deployments.request_deploy(make_design("across", **across()), actor=owner)
    deployments.request_destroy(lab, actor=owner)
    assert set(lab.parts.values_list("state", flat=True)) == {State.STOPPED}
    assert parts.claim_parts(worker="w-west", site=west) == []


def test_a_part_left_by_a_dead_worker_is_taken_back(
    owner: Any, make_design: Any, east_west: Any
) -> None:
    east, west = east_west
    lab = deployments.request_deploy(make_design("across", **across()), actor=owner)
    deployments.claim_pending(worker="w-east", site=east)
    dead = f"{os.uname().nodename}:999999999:1"  # no such process on this host
    SitePart.objects.filter(site=west).update(state=State.DEPLOYING, worker=dead)
    SitePart.objects.filter(site=east).update(state=State.DESTROYING, worker=dead)
    assert parts.claim_parts(worker="w-west", site=west) == []
    west_part = SitePart.objects.get(deployment=lab, site=west)
    assert (west_part.state, west_part.worker) == (State.FAILED, "")
    assert "the worker stopped in the middle of building it" in west_part.error
    (claimed, work), = parts.claim_parts(worker="w-east", site=east)  # fmt: skip
    assert (claimed.site, work) == (east, "destroy")
