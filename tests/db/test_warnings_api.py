"""Warnings through the API and the CLI: MTUs that disagree, and what the kernel of the site a
lab would run on lacks (its worker publishes its capabilities on the site's row). Warnings
never make a document invalid, and a problem's JSON keeps its four fields."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from django.core.management import call_command
from factories import changed, design_data, vlan_design_data

from editor import deployments
from editor.deployments import capabilities, sites
from editor.models import Site
from netlab.core import features

pytestmark = pytest.mark.django_db

DELAYED = changed(design_data(), {"links[0].impairment": {"delay_ms": 30}})
LACKS_NETEM = (
    "delay needs the kernel's netem qdisc (CONFIG_NET_SCH_NETEM), which site {}'s kernel lacks"
)


def validate(client: Any, data: Any, query: str = "") -> Any:
    response = client.post(
        f"/api/validate{query}", json.dumps(data), content_type="application/json"
    )
    assert response.status_code == 200
    return response.json()


def site(name: str, underlay: str, **have: bool) -> Site:
    found = sites.register(name, underlay)
    Site.objects.filter(pk=found.pk).update(capabilities=have)
    found.refresh_from_db()
    return found


def test_mtu_warnings_leave_a_design_valid(token_client: Any) -> None:
    """A bridge's ports with different MTUs: valid, no problem, a warning at the larger port's
    MTU naming its link, severity "warning"."""
    data = changed(vlan_design_data(), {"links[0].mtu": 9000})
    body = validate(token_client, data)
    assert (body["valid"], body["problems"]) == (True, [])
    warned = {warning["path"]: warning for warning in body["warnings"]}
    assert set(warned) == {"links[0].mtu", "nodes[4].subinterfaces[0]"}
    assert warned["links[0].mtu"]["element"] == "red — br0"
    assert warned["links[0].mtu"]["sentence"].startswith("red — br0: p-red is a port of bridge")
    assert {warning["severity"] for warning in body["warnings"]} == {"warning"}


def test_problems_and_warnings_together(token_client: Any) -> None:
    """Problems keep their four fields; warnings come beside them."""
    data = changed(vlan_design_data(), {"links[0].mtu": 9000, "links[1].endpoints[1].vlan": 0})
    body = validate(token_client, data)
    assert body["valid"] is False
    assert [problem["path"] for problem in body["problems"]] == ["links[1].endpoints[1].vlan"]
    assert all(
        set(problem) == {"path", "message", "element", "sentence"} for problem in body["problems"]
    )
    assert body["warnings"]


def test_no_site_or_nothing_published_no_kernel_marks(token_client: Any) -> None:
    """Without sites, or with a site whose worker published nothing, no kernel warnings."""
    assert validate(token_client, DELAYED)["warnings"] == []
    site("east", "192.0.2.1")
    assert validate(token_client, DELAYED)["warnings"] == []


def test_the_default_sites_kernel_marks_what_it_lacks(token_client: Any) -> None:
    """A new lab would go to east, whose kernel has no netem: the delayed link is marked."""
    site("east", "192.0.2.1", netem=False, tbf=True)
    assert validate(token_client, DELAYED)["warnings"] == [
        {
            "path": "links[0]",
            "message": LACKS_NETEM.format("east"),
            "element": "red — blue",
            "sentence": "red — blue: " + LACKS_NETEM.format("east"),
            "severity": "warning",
        }
    ]
    Site.objects.filter(name="east").update(capabilities={"netem": True})
    assert validate(token_client, DELAYED)["warnings"] == []


def test_a_designs_lab_is_judged_by_its_own_site(
    token_client: Any, owner: Any, make_design: Any
) -> None:
    """With ?design=ID, the site of the user's lab of that design counts, not the default."""
    site("east", "192.0.2.1", netem=True)
    site("west", "192.0.2.2", netem=False)
    design = make_design("placed")
    deployments.request_deploy(design, actor=owner, site="west")
    warned = validate(token_client, DELAYED, f"?design={design.pk}")["warnings"]
    assert [warning["message"] for warning in warned] == [LACKS_NETEM.format("west")]
    # Not the user's lab: the default site (east, fewest labs) answers.
    assert validate(token_client, DELAYED, "?design=999999")["warnings"] == []


@pytest.mark.skipif(os.geteuid() != 0, reason="probing the kernel needs root")
def test_a_worker_publishes_what_its_kernel_has() -> None:
    """Every capability is named, as the driver's own preflight found it."""
    from netlab.kernel import features as kernel_features

    east = sites.register("east", "192.0.2.1")
    found = capabilities.publish(east)
    assert set(found) == {capability.name for capability in features.CAPABILITIES}
    assert found == kernel_features.supported()
    east.refresh_from_db()
    assert east.capabilities == found


def test_the_cli_validate_prints_warnings(tmp_path: Any, capsys: Any) -> None:
    """`netlab validate` says valid, then each warning; exit status 0."""
    path = tmp_path / "lab.json"
    path.write_text(json.dumps(changed(vlan_design_data(), {"links[0].mtu": 9000})))
    call_command("netlab", "validate", str(path))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{path}: valid (5 nodes, 3 links)"
    assert lines[1].startswith(f"{path}: warning: nodes[4].subinterfaces[0]: eth0.10 takes")
    assert lines[2].startswith(f"{path}: warning: links[0].mtu: p-red is a port of bridge br0")
    assert len(lines) == 3
