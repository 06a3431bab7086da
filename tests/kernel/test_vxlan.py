"""Labs across two sites in the kernel: each site's engine, run inside the namespace that
plays its machine, builds its part; the link between them is a VXLAN tunnel over the
sites' underlay veth (``sitekit``)."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from enginekit import Kit, design, requires_root
from sitekit import two_sites

from netlab.core import sites
from netlab.kernel import engine, namespaces, state

pytestmark = [pytest.mark.kernel, pytest.mark.sites, requires_root]

LAB: dict[str, Any] = {
    "nodes": [
        {"id": "host", "kind": "host"},
        {"id": "red", "kind": "namespace", "site": "a"},
        {"id": "blue", "kind": "namespace", "site": "b"},
    ],
    "links": [
        {
            "endpoints": [
                {"node": "red", "interface": "eth0", "addresses": ["10.0.0.1/24"]},
                {"node": "blue", "interface": "eth0", "addresses": ["10.0.0.2/24"]},
            ]
        }
    ],
}


def _ping(netns: str, address: str) -> bool:
    ping = ["ip", "netns", "exec", netns, "ping", "-c", "1", "-W", "2", address]
    return subprocess.run(ping, capture_output=True).returncode == 0


def _vxlan(netns: str, name: str) -> dict[str, Any]:
    out = subprocess.run(
        ["ip", "-j", "-d", "-n", netns, "link", "show", name],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return dict(json.loads(out)[0])


def test_a_lab_across_two_sites_pings_over_its_tunnel(kit: Kit) -> None:
    lab = design(LAB)
    with two_sites(kit.prefix) as (a, b):
        underlays = {a.name: a.underlay, b.name: b.underlay}
        part_a, part_b = sites.parts(lab, "a", underlays, 41)

        def deploy(site: Any, part: sites.Part, where: str) -> engine.DeploymentRecord:
            return namespaces.run_inside(
                site.netns,
                lambda: engine.deploy(
                    lab, tag="vxtest", prefix=kit.prefix, state_dir=where, part=part
                ),
            )

        record_a = deploy(a, part_a, kit.state_dir + "-a")
        record_b = deploy(b, part_b, kit.state_dir + "-b")
        assert set(record_a.namespaces) == {"host", "red"}
        assert set(record_b.namespaces) == {"blue"}
        red, blue = record_a.namespaces["red"], record_b.namespaces["blue"]
        assert red
        assert blue
        assert _ping(red, "10.0.0.2")
        tunnel = _vxlan(red, "eth0")
        data = tunnel["linkinfo"]["info_data"]
        assert (data["id"], data["local"], data["remote"], data["port"]) == (
            sites.vni(41, 0), a.underlay, b.underlay, 4789,
        )  # fmt: skip
        assert tunnel["mtu"] == 1450
        assert tunnel["ifalias"] == "netlab:vxtest"
        assert engine.check(lab, record_a) == []
        assert engine.check(lab, record_b) == []
        # The tunnel's end changed (another VNI, made down in blue's namespace: it opens no
        # socket), then gone: check says so.
        vni = str(sites.vni(41, 0) + 1)
        subprocess.run(["ip", "-n", blue, "link", "del", "eth0"], check=True)
        subprocess.run(
            ["ip", "-n", blue, "link", "add", "eth0", "mtu", "1450", "type", "vxlan", "id", vni,
             "local", b.underlay, "remote", a.underlay, "dstport", "4789"],
            check=True,
        )  # fmt: skip
        found = {drift.kind: drift.message for drift in engine.check(lab, record_b)}
        assert set(found) == {"link-down", "address-missing", "tunnel-changed"}
        assert found["tunnel-changed"] == (
            f"eth0 is VXLAN {vni} from {b.underlay} to {a.underlay}, not VXLAN "
            f"{sites.vni(41, 0)} from {b.underlay} to {a.underlay}"
        )
        subprocess.run(["ip", "-n", blue, "link", "del", "eth0"], check=True)
        assert [drift.kind for drift in engine.check(lab, record_b)] == ["link-missing"]
        namespaces.run_inside(
            b.netns, lambda: engine.repair(lab, record_b, state_dir=kit.state_dir + "-b")
        )
        assert engine.check(lab, record_b) == []
        # blue's new end has a new MAC address: red forgets the old one, rather than wait.
        subprocess.run(["ip", "-n", red, "neigh", "flush", "dev", "eth0"], check=True)
        assert _ping(red, "10.0.0.2")
        # Each site destroys its own part only.
        engine.destroy("vxtest", state_dir=kit.state_dir + "-a")
        assert not namespaces.exists(red)
        assert state.read(blue).exists
        engine.destroy("vxtest", state_dir=kit.state_dir + "-b")
        assert sorted(kit.namespaces()) == [a.netns, b.netns]
    assert kit.namespaces() == []
