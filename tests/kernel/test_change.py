"""Live edits on the real kernel: a running lab changed in place ends as a fresh deploy of the
new revision would be, untouched objects stay the same kernel objects, a failure at any step
puts the old revision back, traffic on untouched paths loses nothing, and a lab that drifted
is repaired."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
from typing import Any

import pytest
from enginekit import Kit, requires_root
from factories import DELETE, changed, endpoint, link, node, route, service, tutorial_data

from netlab.core import names
from netlab.core.validation import load
from netlab.kernel import engine, namespaces, probes, state
from netlab.kernel.apply import ApplyError

pytestmark = [pytest.mark.kernel, requires_root]

T2, T3, T4 = tutorial_data(2), tutorial_data(3), tutorial_data(4)
WITH_SWITCH = changed(T2, {"nodes[4]": node("switch")})

# Each edit: (name, old revision, new revision).
EDITS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("add a route", T3, changed(T3, {"nodes[4].routes": [route("default", via="192.168.1.2")]})),
    ("remove a route", T3, changed(T3, {"nodes[3].routes[0]": DELETE})),
    ("change a gateway", T3, changed(T3, {"nodes[2].routes[0].via": "192.168.15.2"})),
    (
        "add a node on the bridge",
        T3,
        changed(
            T3,
            {
                "nodes[5]": node("green", routes=[route("default", via="192.168.15.5")]),
                "links[3]": link(
                    endpoint("green", "veth-green", "192.168.15.3/24"),
                    endpoint("v-net-0", "veth-green-br"),
                ),
            },
        ),
    ),
    ("remove a node", T3, changed(T3, {"links[2]": DELETE, "nodes[4]": DELETE})),
    (
        "change an address",
        T3,
        changed(T3, {"links[0].endpoints[0].addresses": ["192.168.15.7/24"]}),
    ),
    ("forwarding off", T3, changed(T3, {"nodes[0].forwarding": False})),
    ("change NAT", T3, changed(T3, {"nodes[0].nat[0].source": "192.168.0.0/16"})),
    ("remove NAT", T3, changed(T3, {"nodes[0].nat": []})),
    ("change services", T4, changed(T4, {"nodes[3].services": [service("tcp", 7)]})),
    ("rename an interface", T3, changed(T3, {"links[0].endpoints[0].interface": "eth9"})),
    ("move a bridge", WITH_SWITCH, changed(WITH_SWITCH, {"nodes[1].in": "switch"})),
    (
        "add a bridge address",
        T3,
        changed(T3, {"nodes[1].addresses": ["192.168.15.5/24", "10.0.0.1/24"]}),
    ),
    ("tutorial 2 to 3", T2, T3),
    ("tutorial 3 to 2", T3, T2),
    ("tutorial 3 to 4", T3, T4),
    ("tutorial 4 to 3", T4, T3),
]


def view(record: engine.DeploymentRecord) -> dict[str, Any]:
    """What the kernel holds of a lab, by node, without what differs between two deployments
    of one revision (tags, namespace names, indexes, MACs)."""
    table = names.nftables_table(record.tag)
    seen: dict[str, Any] = {}
    for node_id, netns in sorted(record.namespaces.items()):
        snapshot = state.read(netns, nft_table=table)
        by_index = {link.index: link.name for link in snapshot.links.values()}
        links = {
            link.name: (link.up, by_index.get(link.master or 0), own_addresses(link))
            for link in snapshot.links.values()
        }
        nft = json.dumps(snapshot.nft, sort_keys=True).replace(record.tag, "TAG")
        seen[node_id] = {
            "links": links,
            "routes": sorted(snapshot.routes, key=str),
            "forwarding": forwarding(netns),
            "nft": re.sub(r'"handle": \d+', "", nft),
        }
    return seen


def own_addresses(link: state.LinkState) -> list[str]:
    """A link's addresses, without its IPv6 link-local one (made from its random MAC)."""
    return sorted(address for address in link.addresses if not address.startswith("fe80:"))


def forwarding(netns: str | None) -> str:
    def read() -> str:
        with open("/proc/sys/net/ipv4/ip_forward") as value:
            return value.read().strip()

    return namespaces.run_inside(netns, read)


def identities(record: engine.DeploymentRecord) -> dict[str, Any]:
    """Each namespace's inode and each link's index: the same objects keep both."""
    found: dict[str, Any] = {}
    for node_id, netns in record.namespaces.items():
        if netns is None:
            continue
        snapshot = state.read(netns)
        found[node_id] = (
            os.stat(namespaces.path_of(netns)).st_ino,
            {link.name: link.index for link in snapshot.links.values()},
        )
    return found


def fresh(kit: Kit, data: dict[str, Any]) -> dict[str, Any]:
    """The view of a fresh deploy of ``data`` (destroyed again)."""
    record = kit.deploy(load(data))
    try:
        return view(record)
    finally:
        kit.destroy(record)


@pytest.mark.parametrize(("old", "new"), [edit[1:] for edit in EDITS], ids=[e[0] for e in EDITS])
def test_a_running_lab_changed_in_place_is_the_new_revision(
    kit: Kit, old: dict[str, Any], new: dict[str, Any]
) -> None:
    expected = fresh(kit, new)
    record = kit.deploy(load(old))
    before = identities(record)
    plan = engine.change_plan(load(old), load(new), record)
    made = {  # links the change makes (again): every other link keeps its index
        (getattr(step, netns, None), getattr(step, name, None))
        for step in plan.steps
        for netns, name in (("netns", "name"), ("peer_netns", "peer_name"))
    }
    changed_record = engine.change(load(old), load(new), record, state_dir=kit.state_dir)
    assert engine.check(load(new), changed_record) == []
    assert view(changed_record) == expected
    after = identities(changed_record)
    for node_id, (inode, links) in before.items():
        if node_id not in after:
            continue  # removed
        assert after[node_id][0] == inode, f"{node_id}'s namespace was recreated"
        netns = record.namespaces[node_id]
        for name, index in links.items():
            if name in after[node_id][1] and (netns, name) not in made:
                assert after[node_id][1][name] == index, f"{node_id}'s {name} was recreated"
    kit.destroy(changed_record)
    assert kit.namespaces() == []


FAULTY = {name: (old, new) for name, old, new in EDITS if name in {
    "add a node on the bridge", "remove a node", "rename an interface", "move a bridge",
    "change services", "change an address",
}}  # fmt: skip


@pytest.mark.parametrize("name", sorted(FAULTY))
def test_a_failure_at_any_step_puts_the_old_revision_back(kit: Kit, name: str) -> None:
    old, new = FAULTY[name]
    record = kit.deploy(load(old))
    expected = view(record)
    count = len(engine.change_plan(load(old), load(new), record).steps)
    assert count > 0
    for fail_after in range(count):
        with pytest.raises(ApplyError, match="injected fault") as failure:
            engine.change(
                load(old), load(new), record, state_dir=kit.state_dir, fail_after=fail_after
            )
        assert failure.value.rolled_back, failure.value
        assert engine.check(load(old), record) == [], f"after {fail_after} steps"
        assert view(record) == expected, f"after {fail_after} steps"
    assert sorted(kit.namespaces()) == sorted(n for n in record.namespaces.values() if n)
    kit.destroy(record)
    assert kit.namespaces() == []


def test_traffic_on_an_untouched_path_loses_nothing(kit: Kit) -> None:
    """red pings blue across the bridge every 10 ms while the host's NAT and lan's routes
    change: not one echo is lost."""
    new = changed(T3, {"nodes[4].routes": [route("default", via="192.168.1.2")],
                       "nodes[0].nat[0].source": "192.168.0.0/16"})  # fmt: skip
    record = kit.deploy(load(T3))
    red = record.namespaces["red"]
    assert red is not None
    result: list[probes.PingResult] = []
    pinging = threading.Thread(
        target=lambda: result.append(probes.ping(red, "192.168.15.2", count=150, interval=0.01))
    )
    pinging.start()
    try:
        time.sleep(0.3)
        record = engine.change(load(T3), load(new), record, state_dir=kit.state_dir)
    finally:
        pinging.join(timeout=30)
    (summary,) = result
    assert (summary.sent, summary.received) == (150, 150)
    kit.destroy(record)


def test_repair_puts_back_what_a_hand_made_change_removed(kit: Kit) -> None:
    record = kit.deploy(load(T3))
    expected = view(record)
    red, host = record.namespaces["red"], record.namespaces["host"]
    assert red is not None
    assert host is not None
    subprocess.run(["ip", "-n", red, "-4", "addr", "flush", "dev", "veth-red"], check=True)
    subprocess.run(["ip", "netns", "exec", host, "nft", "flush", "ruleset"], check=True)
    subprocess.run(
        ["ip", "netns", "exec", host, "sysctl", "-qw", "net.ipv4.ip_forward=0"], check=True
    )
    assert engine.check(load(T3), record) != []
    repaired = engine.repair(load(T3), record, state_dir=kit.state_dir)
    assert engine.check(load(T3), repaired) == []
    assert view(repaired) == expected
    kit.destroy(repaired)


def test_a_change_refuses_a_namespace_without_the_labs_mark(kit: Kit) -> None:
    record = kit.deploy(load(T3))
    red = record.namespaces["red"]
    assert red is not None
    subprocess.run(["ip", "-n", red, "link", "set", "lo", "alias", "someone-else"], check=True)
    new = changed(T3, {"nodes[2].routes[0].via": "192.168.15.2"})
    with pytest.raises(engine.RefusedError, match="mark"):
        engine.change(load(T3), load(new), record, state_dir=kit.state_dir)
    routes = state.read(red).routes
    assert ("0.0.0.0/0", "192.168.15.5", "veth-red") in routes  # untouched
    subprocess.run(
        ["ip", "-n", red, "link", "set", "lo", "alias", names.ownership_mark(record.tag)],
        check=True,
    )
    kit.destroy(record)
