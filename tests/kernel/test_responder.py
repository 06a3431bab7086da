"""The responder process: start, serve from inside namespaces, stop only what it started."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from labkit import Lab, lab_fixture, pair_fixture, requires_root, wait_until  # noqa: F401 (fixtures)
from pyroute2 import IPRoute

from netlab.core import names
from netlab.kernel import namespaces, probes, responder

pytestmark = [pytest.mark.kernel, requires_root]


def _gone(pid: int) -> bool:
    """True once ``pid`` is no running process (a zombie awaiting its reaper counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def test_start_serves_every_node_in_its_own_namespace(lab: Lab, tmp_path: Path) -> None:
    """Two nodes, the same ports in both: each answer names the node that gave it."""
    a = lab.namespace("a")
    b = lab.namespace("b")
    c = lab.namespace("c")
    lab.link(c, "veth-ca", "10.213.6.1/24", a, "veth-a", "10.213.6.2/24")
    lab.link(c, "veth-cb", "10.213.7.1/24", b, "veth-b", "10.213.7.2/24")
    tag = names.new_tag()
    services = {a: ("red", [("http", 80), ("tcp", 7)]), b: ("blue", [("http", 80), ("tcp", 7)])}
    process = responder.start(tag, services, tmp_path)
    try:
        assert responder.running(process.pid, process.started_at)
        assert Path(process.log_path).is_file()
        assert process.as_dict()["pid"] == process.pid
        for address, node in (("10.213.6.2", "red"), ("10.213.7.2", "blue")):
            web = probes.http_probe(c, address, 80)
            assert web.first_line == "HTTP/1.0 200 OK"
            assert web.node == node
            echo = probes.tcp_probe(c, address, 7, send=b"hello\n")
            assert echo.node == node
            assert echo.answer.endswith("hello\n")
    finally:
        assert responder.stop(process.pid, process.started_at)


def test_bind_error_names_the_service_and_leaves_nothing_running(
    pair: tuple[Lab, str, str], tmp_path: Path
) -> None:
    """A port already taken in b: start fails clearly, and the half-started process is gone."""
    _, a, b = pair
    first = responder.start(names.new_tag(), {b: ("blue", [("tcp", 7)])}, tmp_path)
    try:
        tag = names.new_tag()
        with pytest.raises(responder.ResponderError, match=rf"{b} \(node blue\).*tcp port 7"):
            responder.start(tag, {a: ("red", [("tcp", 7)]), b: ("blue", [("tcp", 7)])}, tmp_path)
        log = (tmp_path / f"responder-{tag}.log").read_text()
        assert "Address already in use" in log
        # The failed responder had bound a's port first: that socket must be closed too.
        assert probes.tcp_probe(b, "10.213.1.1", 7).error == "Connection refused"
    finally:
        responder.stop(first.pid, first.started_at)


def test_missing_namespace_is_reported(lab: Lab, tmp_path: Path) -> None:
    with pytest.raises(responder.ResponderError, match="does not exist"):
        responder.start(names.new_tag(), {f"{lab.prefix}-none": ("x", [("tcp", 7)])}, tmp_path)


def test_stop_leaves_no_process_and_lets_the_namespace_go(
    pair: tuple[Lab, str, str], tmp_path: Path
) -> None:
    """After stop the process is gone and nothing holds b: its veth peer in a disappears."""
    _, a, b = pair
    process = responder.start(names.new_tag(), {b: ("blue", [("http", 80)])}, tmp_path)
    assert responder.stop(process.pid, process.started_at)
    assert _gone(process.pid)
    assert not responder.running(process.pid, process.started_at)
    namespaces.remove(b)
    # b's veth end dies with b, and takes its peer in a along: proof b was really freed.
    assert wait_until(lambda: not _has_link(a, "veth-a"), timeout=5.0)


def _has_link(netns: str, ifname: str) -> bool:
    def lookup() -> bool:
        with IPRoute() as ipr:
            return bool(ipr.link_lookup(ifname=ifname))

    return namespaces.run_inside(netns, lookup)


def test_stop_is_idempotent(pair: tuple[Lab, str, str], tmp_path: Path) -> None:
    _, _, b = pair
    process = responder.start(names.new_tag(), {b: ("blue", [("tcp", 7)])}, tmp_path)
    assert responder.stop(process.pid, process.started_at) is True
    assert responder.stop(process.pid, process.started_at) is False


def test_stop_refuses_a_foreign_process(tmp_path: Path) -> None:
    """A process that is not a responder, or a responder identity with another start time."""
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        started_at = responder._read_start_time(stranger.pid)
        assert started_at is not None
        assert responder.stop(stranger.pid, started_at) is False
        assert responder.stop(stranger.pid, started_at + 1) is False
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()


def test_stop_refuses_a_responder_with_another_start_time(
    pair: tuple[Lab, str, str], tmp_path: Path
) -> None:
    """The journaled start time does not match: the PID was reused, leave it alone."""
    _, _, b = pair
    process = responder.start(names.new_tag(), {b: ("blue", [("tcp", 7)])}, tmp_path)
    try:
        assert responder.stop(process.pid, process.started_at - 1) is False
        assert responder.running(process.pid, process.started_at)
    finally:
        assert responder.stop(process.pid, process.started_at)


def test_responder_closes_the_services_of_a_removed_namespace(
    pair: tuple[Lab, str, str], tmp_path: Path
) -> None:
    """Removing its only namespace without stopping it: the responder lets go and exits."""
    _, _, b = pair
    process = responder.start(names.new_tag(), {b: ("blue", [("tcp", 7)])}, tmp_path)
    try:
        namespaces.remove(b)
        assert wait_until(lambda: _gone(process.pid), timeout=3.0)
        assert "is gone" in Path(process.log_path).read_text()
    finally:
        responder.stop(process.pid, process.started_at)


def test_start_returns_once_every_socket_is_bound(
    pair: tuple[Lab, str, str], tmp_path: Path
) -> None:
    """start() returns a running responder whose services already accept connections."""
    _, a, b = pair
    process = responder.start(names.new_tag(), {b: ("blue", [("tcp", 7), ("http", 80)])}, tmp_path)
    try:
        assert responder.running(process.pid, process.started_at)
        assert probes.tcp_probe(a, "10.213.1.2", 7).connected
    finally:
        responder.stop(process.pid, process.started_at)
