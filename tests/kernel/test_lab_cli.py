"""The lab command line on the real kernel: deploy, status, ping, check, destroy, cleanup.

Each test deploys under its own namespace prefix and state directory, and its teardown
destroys whatever deployment it made, pass or fail.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import string
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from editor.models import Deployment
from netlab.kernel import engine, namespaces

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.django_db,
    pytest.mark.skipif(os.geteuid() != 0, reason="kernel tests need root (they create namespaces)"),
]

EXAMPLES = Path(__file__).resolve().parents[2] / "netlab" / "examples"


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("netlab", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def lab_settings(settings: Any, tmp_path: Path) -> Iterator[Any]:
    """A private namespace prefix and state directory; destroys what the test deployed."""
    settings.NETLAB_NETNS_PREFIX = (
        "nlc" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(5)) + "-"
    )
    settings.NETLAB_STATE_DIR = str(tmp_path / "state")
    yield settings
    for deployment in Deployment.objects.all():
        engine.destroy(
            deployment.tag,
            state_dir=settings.NETLAB_STATE_DIR,
            namespaces=[name for name in deployment.namespaces.values() if name],
        )
    leftovers = [
        name for name in namespaces.list_names() if name.startswith(settings.NETLAB_NETNS_PREFIX)
    ]
    assert leftovers == []


@pytest.fixture
def imported(admin_user: Any) -> str:
    """The tutorial's whole network (example 4), imported; returns its design id."""
    last = run("import", str(EXAMPLES / "4-port-forward.yaml")).splitlines()[-1]
    return last.split()[0]


def test_deploy_ping_check_destroy(lab_settings: Any, imported: str) -> None:
    """A design deploys, reports its namespaces, answers pings, matches itself, and goes away."""
    output = run("deploy", imported)
    assert "is running" in output
    assert "ip netns add" in output

    report = json.loads(run("status", imported, "--json"))
    assert report["state"] == "running"
    assert set(report["nodes"]) == {"host", "red", "blue", "lan"}
    blue = report["nodes"]["blue"]
    assert blue["netns"].startswith(lab_settings.NETLAB_NETNS_PREFIX)
    veth_blue = next(item for item in blue["interfaces"] if item["name"] == "veth-blue")
    assert "192.168.15.2/24" in veth_blue["addresses"]

    # blue reaches the LAN machine through the gateway (forwarding and NAT).
    assert "0% loss" in run("ping", imported, "blue", "lan", "--count", "2")
    assert "the kernel matches the design" in run("check", imported)

    assert "destroyed" in run("destroy", imported)
    assert json.loads(run("status", imported, "--json"))["state"] == "stopped"
    assert not any(namespaces.exists(report["nodes"][node]["netns"]) for node in report["nodes"])


def test_second_deploy_is_refused(lab_settings: Any, imported: str) -> None:
    """Deploying a design that is already running is refused, not run twice."""
    run("deploy", imported)
    with pytest.raises(CommandError, match="already running"):
        run("deploy", imported)
    assert Deployment.objects.count() == 1


def test_check_reports_drift(lab_settings: Any, imported: str) -> None:
    """A namespace deleted by hand shows as drift, and destroy still finishes."""
    run("deploy", imported)
    red = Deployment.objects.get().namespaces["red"]
    namespaces.remove(red)
    with pytest.raises(CommandError, match="differences"):
        run("check", imported)
    assert "destroyed" in run("destroy", imported)


def test_ping_unknown_node_fails_cleanly(lab_settings: Any, imported: str) -> None:
    """Pinging from a node that is not in the design is a one-line error."""
    run("deploy", imported)
    with pytest.raises(CommandError, match="no node 'green'"):
        run("ping", imported, "green", "lan")
    with pytest.raises(CommandError, match="is a bridge"):
        run("ping", imported, "v-net-0", "lan")


def test_cleanup_spares_live_deployments(lab_settings: Any, imported: str) -> None:
    """cleanup removes nothing that a live deployment owns."""
    run("deploy", imported)
    netns = Deployment.objects.get().namespaces.values()
    assert "0 orphans removed" in run("cleanup")
    assert all(namespaces.exists(name) for name in netns)


def test_host_mode_is_refused_unless_allowed(lab_settings: Any, imported: str) -> None:
    """Asking for host mode on a server that does not allow it changes nothing."""
    lab_settings.NETLAB_HOST_MODE = False
    with pytest.raises(CommandError, match="host mode is off"):
        call_command("netlab", "deploy", imported, "--host-mode", stdout=io.StringIO())
    assert Deployment.objects.count() == 0


def test_apply_changes_the_running_lab_in_place(lab_settings: Any, imported: str) -> None:
    """A saved revision with a new route: ``apply --dry-run`` prints it and changes nothing,
    ``apply`` adds it to the running lab (same namespaces), ``status`` says which revision
    runs, and ``check`` finds the lab equal to the new revision."""
    from editor import services
    from editor.models import Design

    run("deploy", imported)
    before = json.loads(run("status", imported, "--json"))
    assert before["revision"] == 1
    design = Design.objects.get(pk=int(imported))
    data = dict(design.document)
    lan = next(node for node in data["nodes"] if node["id"] == "lan")
    lan["routes"] = [{"to": "default", "via": "192.168.1.2"}]
    services.save_revision(design, author=design.owner, data=data, message="lan's way out")

    preview = run("apply", imported, "--dry-run")
    assert "1 steps to revision 2" in preview
    assert "route add default via 192.168.1.2 dev eth0" in preview
    assert json.loads(run("status", imported, "--json"))["revision"] == 1

    output = run("apply", imported)
    assert "runs revision 2" in output
    after = json.loads(run("status", imported, "--json"))
    assert after["revision"] == 2
    assert after["state"] == "running"
    assert {node: facts["netns"] for node, facts in after["nodes"].items()} == {
        node: facts["netns"] for node, facts in before["nodes"].items()
    }
    assert "the kernel matches the design" in run("check", imported)
    assert "0% loss" in run("ping", imported, "lan", "blue", "--count", "1")


def test_apply_without_a_running_lab_is_refused(lab_settings: Any, imported: str) -> None:
    with pytest.raises(CommandError, match="only a running lab takes changes"):
        run("apply", imported)


def test_apply_of_the_running_revision_repairs_what_drifted(
    lab_settings: Any, imported: str
) -> None:
    """An address removed by hand shows as drift; ``apply`` of the revision the lab already
    runs makes it again, and the lab matches its design."""
    import subprocess

    run("deploy", imported)
    report = json.loads(run("status", imported, "--json"))
    red = report["nodes"]["red"]["netns"]
    subprocess.run(["ip", "-n", red, "-4", "addr", "flush", "dev", "veth-red"], check=True)
    with pytest.raises(CommandError, match="differences"):
        run("check", imported)
    assert "runs revision 1" in run("apply", imported)
    assert "the kernel matches the design" in run("check", imported)


def test_explain_observes_the_running_lab_and_agrees(lab_settings: Any, imported: str) -> None:
    """``explain --observe`` probes the running lab: for a reachable path and a refused
    port alike, what the kernel does agrees with the prediction."""
    run("deploy", imported)
    for args in (("blue", "lan"), ("lan", "192.168.1.2", "--protocol", "tcp", "--port", "80"),
                 ("red", "blue", "--protocol", "tcp", "--port", "81")):  # fmt: skip
        answer = json.loads(run("explain", imported, *args, "--observe", "--json"))
        assert answer["agrees"], answer
        # ``ip route get`` in each hop's namespace chose the predicted interface and next hop.
        assert answer["observed"]["hops"], answer
        assert all(hop["agrees"] for hop in answer["observed"]["hops"])
    assert answer["outcome"] == "port-closed"


def test_capture_prints_the_packets_and_writes_a_pcap(
    lab_settings: Any, imported: str, tmp_path: Path
) -> None:
    """``capture`` on blue's interface while blue is pinged: ARP and the echo in tcpdump's
    words, and the pcap file reads back as those packets."""
    import threading

    import dpkt

    from netlab.kernel import probes

    run("deploy", imported)
    red = json.loads(run("status", imported, "--json"))["nodes"]["red"]["netns"]
    pcap = tmp_path / "blue.pcap"
    pinging = threading.Timer(0.5, lambda: probes.ping(red, "192.168.15.2", count=1))
    pinging.start()
    output = run("capture", imported, "blue", "veth-blue", "--seconds", "1.5", "--filter",
                 "icmp or arp", "--write", str(pcap))  # fmt: skip
    pinging.join()
    assert "ICMP echo request" in output
    assert "ICMP echo reply" in output
    captured = int(output.split(" packets captured")[0].split("\n")[-1])
    with pcap.open("rb") as file:
        assert len(list(dpkt.pcap.Reader(file))) == captured > 0
    with pytest.raises(CommandError, match="not a capture filter"):
        run("capture", imported, "blue", "veth-blue", "--seconds", "0.1", "--filter", "and or")


def test_exec_runs_diagnostics_in_the_node_and_turns_changes_into_revisions(
    lab_settings: Any, imported: str
) -> None:
    """``exec`` on red: ``ip -br a`` sees red's own interface, ``ping blue`` answers by name,
    a typed route becomes a revision applied to the running lab (``check`` clean), and a
    shell escape is refused."""
    run("deploy", imported)
    assert "veth-red" in run("exec", imported, "red", "--", "ip", "-br", "a")
    assert "veth-blue" not in run("exec", imported, "red", "--", "ip", "-br", "a")
    assert " 0% packet loss" in run("exec", imported, "red", "--", "ping", "-c", "1", "blue")
    output = run("exec", imported, "red", "--", "ip", "route", "add", "10.9.0.0/16",
                 "via", "192.168.15.2")  # fmt: skip
    assert "edit: add route 10.9.0.0/16 via 192.168.15.2 (revision 2)" in output
    assert "route add 10.9.0.0/16 via 192.168.15.2 dev veth-red" in output
    assert json.loads(run("status", imported, "--json"))["revision"] == 2
    assert "the kernel matches the design" in run("check", imported)
    assert "10.9.0.0/16" in run("exec", imported, "red", "--", "ip", "r")
    with pytest.raises(CommandError, match="never a shell"):
        run("exec", imported, "red", "--", "ip a; id")
    with pytest.raises(CommandError, match="not understood"):
        run("exec", imported, "red", "--", "bash")


def test_exec_stops_a_command_at_its_time_limit(
    lab_settings: Any, imported: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from editor import console

    monkeypatch.setattr(console, "TIME_LIMIT", 1.0)
    run("deploy", imported)
    started = time.monotonic()
    out = io.StringIO()
    with contextlib.suppress(CommandError):
        call_command(
            "netlab", "exec", imported, "red", "--", "ping", "-c", "50", "blue", stdout=out
        )
    assert time.monotonic() - started < 5
    assert "^C (time limit)" in out.getvalue()


def test_exec_draws_a_typed_veth_and_keeps_the_root_shell_for_staff_when_on(
    lab_settings: Any, imported: str
) -> None:
    """A typed ``ip link add ... type veth peer`` becomes a link of the design and of the
    kernel; ``!`` (bash, as root) is refused unless the operator turned it on, and then only
    for staff."""
    from editor.models import Design

    run("deploy", imported)
    output = run("exec", imported, "host", "--", "ip", "link", "add", "veth-x", "type", "veth",
                 "peer", "name", "veth-y")  # fmt: skip
    assert "edit: add veth veth-x - veth-y" in output
    design = Design.objects.get(pk=int(imported))
    ends = [end for link in design.document["links"] for end in link["endpoints"]]
    assert {"node": "host", "interface": "veth-x"} in ends
    assert "veth-x" in run("exec", imported, "host", "--", "ip", "-br", "link")
    assert "the kernel matches the design" in run("check", imported)

    with pytest.raises(CommandError, match="root shell"):
        run("exec", imported, "red", "--", "!echo $((6*7))")
    lab_settings.NETLAB_ROOT_SHELL = True
    assert "42" in run("exec", imported, "red", "--", "!echo $((6*7))")
    owner = design.owner
    owner.is_staff = False
    owner.save()
    with pytest.raises(CommandError, match="for staff only"):
        run("exec", imported, "red", "--", "!id")


def test_exec_takes_a_link_down_and_up_live(lab_settings: Any, imported: str) -> None:
    """A typed ``ip link set veth-red down`` is the link's state in a new revision, applied
    in place (red no longer reaches blue, ``check`` clean); ``up`` brings it back."""
    run("deploy", imported)
    output = run("exec", imported, "red", "--", "ip", "link", "set", "veth-red", "down")
    assert "edit: take veth-red down (revision 2)" in output
    assert "the kernel matches the design" in run("check", imported)
    with pytest.raises(CommandError):
        run("exec", imported, "red", "--", "ping", "-c", "1", "-W", "1", "blue")
    run("exec", imported, "red", "--", "ip", "link", "set", "veth-red", "up")
    assert "the kernel matches the design" in run("check", imported)
    assert " 0% packet loss" in run("exec", imported, "red", "--", "ping", "-c", "1", "blue")
