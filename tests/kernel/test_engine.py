"""The engine against the real kernel: deploy, traffic, check, destroy, rollback, cleanup."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from enginekit import Kit, requires_root, star, tutorial

from netlab.core import names
from netlab.core.plan import Naming, compile_plan
from netlab.kernel import engine, journal, namespaces, nftables, observe, probes
from netlab.kernel.apply import ApplyError, StepReport
from netlab.kernel.rtnl import RouteSocket

pytestmark = [pytest.mark.kernel, requires_root]
ROOT = Path(__file__).resolve().parents[2]


def kernel_state(kit: Kit) -> dict[str, object]:
    """What the kernel holds of this test: its namespaces, and the root's links and tables."""
    with RouteSocket() as sock:
        links = sorted(sock.link(index=m["index"]).get_attr("IFLA_IFNAME") for m in sock.links())
    ruleset = subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True).stdout
    return {"namespaces": kit.namespaces(), "root links": links, "root nftables": ruleset}


@pytest.mark.parametrize("number", [1, 2, 3, 4])
def test_tutorial_deploys_matches_its_plan_and_is_destroyed(kit: Kit, number: int) -> None:
    events: list[StepReport] = []
    record = kit.deploy(tutorial(number), on_step=events.append)
    assert set(record.namespaces.values()) == set(kit.namespaces())
    assert all(netns.startswith(kit.prefix + record.tag) for netns in record.namespaces.values())
    assert engine.check(tutorial(number), record) == []
    # Every step reported its start, then its end with a duration and no error.
    assert [event.phase for event in events] == ["start", "end"] * (len(events) // 2)
    assert all(e.error is None and e.duration is not None for e in events if e.phase == "end")
    assert events[-1].index == events[-1].total
    status = engine.status(record)
    assert {node: value["netns"] for node, value in status.items()} == record.namespaces
    assert journal.read(kit.state_dir, record.tag) is not None
    report = kit.destroy(record)
    assert report.settled
    assert kit.namespaces() == []
    assert journal.read(kit.state_dir, record.tag) is None


def test_red_and_blue_ping_each_other_over_a_veth_and_learn_each_others_mac(kit: Kit) -> None:
    record = kit.deploy(tutorial(1))
    red, blue = record.namespaces["red"], record.namespaces["blue"]
    assert red is not None
    assert blue is not None
    assert probes.ping(red, "192.168.15.2", count=1).received == 1
    assert probes.ping(blue, "192.168.15.1", count=1).received == 1
    status = engine.status(record)
    blue_mac = status["blue"]["interfaces"][0]["mac"]
    red_mac = status["red"]["interfaces"][0]["mac"]
    assert ("192.168.15.2", blue_mac) in {(n.address, n.mac) for n in observe.neighbours(red)}
    assert ("192.168.15.1", red_mac) in {(n.address, n.mac) for n in observe.neighbours(blue)}


def test_namespaces_on_a_bridge_reach_each_other_and_the_bridge_address(kit: Kit) -> None:
    record = kit.deploy(tutorial(2))
    red, blue, host = (record.namespaces[node] for node in ("red", "blue", "host"))
    assert red is not None
    assert blue is not None
    assert host is not None
    assert probes.ping(red, "192.168.15.2", count=1).received == 1
    assert probes.ping(host, "192.168.15.1", count=1).received == 1
    assert probes.ping(blue, "192.168.15.5", count=1).received == 1
    assert "192.168.15.1" in {n.address for n in observe.neighbours(host)}


def test_nat_and_port_forward_are_one_table_in_the_host(kit: Kit) -> None:
    record = kit.deploy(tutorial(4))
    host, lan = record.namespaces["host"], record.namespaces["lan"]
    assert host is not None
    assert lan is not None
    table = namespaces.run_inside(
        host, lambda: nftables.list_table(names.nftables_table(record.tag))
    )
    assert table is not None
    expressions = [item["rule"]["expr"] for item in table if "rule" in item]
    assert any("masquerade" in expression[-1] for expression in expressions)
    assert any(
        expression[-1].get("dnat", {}).get("addr") == "192.168.15.2" for expression in expressions
    )
    # Traffic: the LAN machine reaches blue's web responder through the host's port 80.
    answer = probes.http_probe(lan, "192.168.1.2", 80, timeout=2.0)
    assert answer.connected, answer.error
    assert answer.node == "blue"
    # Out through NAT: red reaches the LAN machine (which has no route back to 192.168.15/24).
    assert probes.ping(record.namespaces["red"] or "", "192.168.1.3", count=1).received == 1


def test_failure_after_each_step_leaves_the_kernel_as_before(kit: Kit) -> None:
    the_design = tutorial(4)
    total = len(compile_plan(the_design, Naming("aaaaaa")).steps)
    before = kernel_state(kit)
    for done in range(total):
        with pytest.raises(ApplyError, match=rf"step {done + 1}/{total} failed") as caught:
            kit.deploy(the_design, fail_after=done)
        assert caught.value.rolled_back
        assert kernel_state(kit) == before, f"after a failure at step {done + 1}"
        assert journal.tags(kit.state_dir) == []


def test_a_kernel_error_names_the_step_and_spares_the_namespace_in_the_way(kit: Kit) -> None:
    """A foreign namespace already holds a planned name: the deploy fails at that step,
    unwinds what it made, and leaves the foreign namespace alone."""
    tag = names.new_tag()
    foreign = names.namespace_name(tag, 1, kit.prefix)
    namespaces.create(foreign)
    with pytest.raises(ApplyError, match=r"step 2/\d+ failed \(create namespace .*: File exists"):
        kit.deploy(tutorial(1), tag=tag)
    assert kit.namespaces() == [foreign]


def test_destroy_twice_and_after_a_namespace_was_deleted_by_hand(kit: Kit) -> None:
    record = kit.deploy(tutorial(3))
    red = record.namespaces["red"]
    assert red is not None
    subprocess.run(["ip", "netns", "delete", red], check=True)
    first = kit.destroy(record)
    assert first.settled
    assert red not in first.removed_namespaces
    assert kit.namespaces() == []
    second = kit.destroy(record)
    assert second.removed_namespaces == []
    assert second.settled


def test_destroy_without_journal_uses_the_record(kit: Kit) -> None:
    record = kit.deploy(tutorial(1))
    journal.remove(kit.state_dir, record.tag)
    names_of = [netns for netns in record.namespaces.values() if netns]
    engine.destroy(record.tag, state_dir=kit.state_dir, namespaces=names_of)
    assert kit.namespaces() == []


def test_cleanup_after_the_deploying_process_was_killed(kit: Kit) -> None:
    """SIGKILL in the middle of a deploy: cleanup finds the orphans from the journal."""
    script = (
        "import sys, time\n"
        "from enginekit import star\n"
        "from netlab.kernel import engine\n"
        "def step(event):\n"
        "    print(event.index, flush=True)\n"
        "    if event.index > 30: time.sleep(0.05)\n"
        f"engine.deploy(star(40), prefix={kit.prefix!r}, state_dir={kit.state_dir!r},\n"
        "              on_step=step)\n"
    )
    environment = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{Path(__file__).parent}"}
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=environment
    )
    try:
        assert child.stdout is not None
        for line in child.stdout:
            if int(line) >= 45:  # namespaces made, veths half made
                break
        child.kill()  # our own child, by its pid
    finally:
        child.wait()
    assert child.returncode == -9
    assert len(kit.namespaces()) == 41
    assert len(journal.tags(kit.state_dir)) == 1
    removed = engine.cleanup(set(), state_dir=kit.state_dir)
    assert len(removed) == 41
    assert kit.namespaces() == []
    assert journal.tags(kit.state_dir) == []


def test_cleanup_spares_foreign_objects_with_netlab_names_and_live_deployments(kit: Kit) -> None:
    live = kit.deploy(tutorial(1))
    orphan = kit.deploy(tutorial(1))
    # A foreign namespace takes the place (and name) of one of the orphan's namespaces,
    # with a link named like netlab's inside: not marked, so never netlab's.
    replaced = orphan.namespaces["red"]
    assert replaced is not None
    subprocess.run(["ip", "netns", "delete", replaced], check=True)
    time.sleep(0.05)
    namespaces.create(replaced)
    subprocess.run(
        ["ip", "-n", replaced, "link", "add", "veth-red", "type", "veth", "peer", "name", "x0"],
        check=True,
    )
    removed = engine.cleanup({live.tag}, state_dir=kit.state_dir)
    orphans = {netns for netns in orphan.namespaces.values() if netns} - {replaced}
    assert set(removed) == orphans
    assert set(kit.namespaces()) == {replaced} | set(live.namespaces.values())
    links = subprocess.run(["ip", "-n", replaced, "-br", "link"], capture_output=True, text=True)
    assert "veth-red" in links.stdout
    assert engine.check(tutorial(1), live) == []


def test_two_deployments_of_one_design_run_side_by_side(kit: Kit) -> None:
    first, second = kit.deploy(tutorial(4)), kit.deploy(tutorial(4))
    assert first.tag != second.tag
    for record in (first, second):
        assert engine.check(tutorial(4), record) == []
        red = record.namespaces["red"]
        assert red is not None
        assert probes.ping(red, "192.168.15.2", count=1).received == 1
    kit.destroy(first)
    assert engine.check(tutorial(4), second) == []
    kit.destroy(second)
    assert kit.namespaces() == []


def test_check_reports_each_kind_of_drift(kit: Kit) -> None:
    record = kit.deploy(tutorial(4))
    host, red, blue, lan = (record.namespaces[n] for n in ("host", "red", "blue", "lan"))
    table = names.nftables_table(record.tag)
    for command in (
        ["ip", "-n", red, "route", "del", "default"],
        ["ip", "-n", blue, "addr", "del", "192.168.15.2/24", "dev", "veth-blue"],
        ["ip", "-n", blue, "addr", "add", "192.168.15.2/25", "dev", "veth-blue"],
        ["ip", "-n", host, "link", "set", "veth-red-br", "down"],
        ["ip", "netns", "exec", host, "nft", "flush", "chain", "inet", table, "postrouting"],
        ["ip", "netns", "delete", lan],
    ):
        subprocess.run([str(part) for part in command], check=True)
    # Deleting a namespace returns at once; its veths vanish from the peer side later.
    deadline = time.monotonic() + 3
    while "eth0" in str(engine.status(record)["host"]) and time.monotonic() < deadline:
        time.sleep(0.02)
    drifts = {
        (drift.node, drift.kind, drift.subject) for drift in engine.check(tutorial(4), record)
    }
    assert drifts == {
        ("red", "route-missing", "default"),
        ("blue", "address-changed", "192.168.15.2/24"),
        # The kernel drops routes through a gateway that left the (changed) subnet.
        ("blue", "route-missing", "192.168.1.0/24"),
        ("blue", "route-missing", "default"),
        ("host", "link-down", "veth-red-br"),
        ("host", "nftables-rule-missing", f"{table}/postrouting"),
        ("lan", "namespace-missing", lan),
        # A veth goes with its peer's namespace.
        ("host", "link-missing", "eth0"),
    }
    subprocess.run(
        ["ip", "netns", "exec", host, "nft", "delete", "table", "inet", table], check=True
    )
    kinds = {drift.kind for drift in engine.check(tutorial(4), record)}
    assert "nftables-table-missing" in kinds


def test_deploy_without_privileges_fails_at_once_and_changes_nothing(kit: Kit) -> None:
    script = (
        "from enginekit import tutorial\n"
        "from netlab.kernel import engine\n"
        "try:\n"
        f"    engine.deploy(tutorial(1), prefix={kit.prefix!r}, state_dir={kit.state_dir!r})\n"
        "except engine.PrivilegeError as error:\n"
        "    print(error)\n"
    )
    environment = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{Path(__file__).parent}"}
    # Root's uid, but no capabilities at all.
    result = subprocess.run(
        ["setpriv", "--bounding-set=-all", "--inh-caps=-all", sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=environment,
        check=True,
    )
    assert "needs root" in result.stdout
    assert kit.namespaces() == []
    assert not Path(kit.state_dir).exists()


def test_a_star_of_one_hundred_deploys_and_is_gone(kit: Kit) -> None:
    """A star of 100 namespaces deploys without drift, answers, and settles when destroyed.

    How fast is the benchmark's business (``python -m netlab.bench``), not a test's.
    """
    record = kit.deploy(star(100))
    assert engine.check(star(100), record) == []
    assert probes.ping(record.namespaces["n99"] or "", "10.77.0.1", count=1).received == 1
    report = kit.destroy(record)
    assert report.settled
    assert kit.namespaces() == []


def test_host_mode_in_a_sandbox_touches_only_its_own_objects(tmp_path: Path) -> None:
    """Host mode maps the host node to the caller's namespace: run it in a throw-away one."""
    here = Path(__file__).parent
    environment = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{here}"}
    command = (
        "mount -t tmpfs none /run/netns && ip link set lo up && "
        f"exec {sys.executable} {here / 'hostmode_sandbox.py'} {tmp_path / 'state'}"
    )
    result = subprocess.run(
        ["unshare", "--net", "--mount", "sh", "-c", command],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.splitlines()[-1])
    assert "eth0 already exist" in found["refused"]
    assert found["untouched"]
    assert found["namespaces"]["host"] is None
    assert found["drift"] == []
    assert found["forwarding"] == "1"
    assert found["status_host"] == ["eth0", "v-net-0", "veth-blue-br", "veth-red-br"]
    assert found["ping_lan"] == 3
    assert found["table"]
    assert found["removed_root_links"] == ["eth0", "v-net-0", "veth-blue-br", "veth-red-br"]
    assert found["settled"]
    assert found["links_after"]
    assert found["forwarding_after"] == "0"
    assert found["ruleset_after"] == ""
    assert found["netns_after"] == ""
