"""Probes against real namespaces: ping, TCP connect and the all-pairs ping matrix."""

from __future__ import annotations

import threading
import time

import pytest
from labkit import Lab, lab_fixture, pair_fixture, requires_root  # noqa: F401 (fixtures)

from netlab.kernel import probes, responder

pytestmark = [pytest.mark.kernel, requires_root]


def test_ping_streams_each_reply_as_it_arrives(pair: tuple[Lab, str, str]) -> None:
    """Each reply reaches on_reply before the next request leaves, with its RTT and TTL."""
    _, a, _ = pair
    seen: list[tuple[float, probes.PingReply]] = []
    started = time.monotonic()
    result = probes.ping(
        a,
        "10.213.1.2",
        count=4,
        interval=0.2,
        on_reply=lambda reply: seen.append((time.monotonic() - started, reply)),
    )
    assert [reply.seq for _, reply in seen] == [1, 2, 3, 4]
    assert all(reply.ok and reply.from_address == "10.213.1.2" for _, reply in seen)
    assert all(reply.ttl == 64 and reply.rtt_ms is not None for _, reply in seen)
    # Streamed, not batched: the replies reach on_reply one interval apart, not all at the
    # end (requests leave every 0.2 s, so the last reply comes at least 0.6 s after the first).
    offsets = [offset for offset, _ in seen]
    assert offsets[3] - offsets[0] > 0.5
    assert result.sent == 4
    assert result.received == 4
    assert result.loss == 0.0
    assert result.rtt_min_ms is not None
    assert result.rtt_max_ms is not None
    assert 0 < result.rtt_min_ms <= result.rtt_max_ms
    assert result.as_dict()["replies"][0]["seq"] == 1


def test_ping_to_an_unused_address_times_out_with_full_loss(pair: tuple[Lab, str, str]) -> None:
    """An address of the lab's subnet that nobody holds: every request times out."""
    _, a, _ = pair
    seen: list[probes.PingReply] = []
    started = time.monotonic()
    result = probes.ping(a, "10.213.1.99", count=2, interval=0.1, timeout=0.5, on_reply=seen.append)
    elapsed = time.monotonic() - started
    assert [reply.error for reply in seen] == ["timeout", "timeout"]
    assert result.received == 0
    assert result.loss == 100.0
    assert result.rtt_avg_ms is None
    assert elapsed >= 0.5  # each request waited for its whole timeout


def test_ping_reports_host_unreachable_once_arp_gives_up(pair: tuple[Lab, str, str]) -> None:
    """With a long timeout, the kernel's own ICMP host unreachable (ARP failed, ~3 s) wins."""
    _, a, _ = pair
    result = probes.ping(a, "10.213.1.99", count=1, timeout=5.0)
    (reply,) = result.replies
    assert reply.error == "host unreachable"
    assert reply.from_address == "10.213.1.1"
    assert result.loss == 100.0


def test_ping_without_a_route_reports_an_error_per_request(pair: tuple[Lab, str, str]) -> None:
    """No route to the target: each request fails at once with the kernel's reason."""
    _, a, _ = pair
    result = probes.ping(a, "10.213.77.1", count=2, interval=0.01, timeout=0.5)
    assert result.received == 0
    assert result.loss == 100.0
    assert [reply.error for reply in result.replies] == ["Network is unreachable"] * 2


def test_concurrent_pings_in_one_namespace_keep_their_own_replies(lab: Lab) -> None:
    """Two pings from one namespace at once, to two peers: neither sees the other's replies."""
    a = lab.namespace("a")
    b = lab.namespace("b")
    c = lab.namespace("c")
    lab.link(a, "veth-ab", "10.213.2.1/24", b, "veth-ba", "10.213.2.2/24")
    lab.link(a, "veth-ac", "10.213.3.1/24", c, "veth-ca", "10.213.3.2/24")
    results: dict[str, probes.PingResult] = {}
    replies: dict[str, list[probes.PingReply]] = {"10.213.2.2": [], "10.213.3.2": []}

    def run(target: str) -> None:
        results[target] = probes.ping(
            a, target, count=20, interval=0.01, on_reply=replies[target].append
        )

    threads = [threading.Thread(target=run, args=(target,)) for target in replies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for target, result in results.items():
        assert result.received == 20, result
        assert [reply.seq for reply in replies[target]] == list(range(1, 21))
        assert {reply.from_address for reply in replies[target]} == {target}


def test_concurrent_pings_to_the_same_target_each_get_every_reply(
    pair: tuple[Lab, str, str],
) -> None:
    """Same namespace, same target, same sequence numbers: only identifiers tell them apart."""
    _, a, _ = pair
    results: list[probes.PingResult] = []
    lock = threading.Lock()

    def run() -> None:
        # A generous timeout: under load a reply may be late, and lateness is not what this
        # test is about (the identifiers are).
        result = probes.ping(a, "10.213.1.2", count=10, interval=0.01, timeout=5.0)
        with lock:
            results.append(result)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [result.received for result in results] == [10, 10, 10]
    assert all(len(result.replies) == 10 for result in results)


def test_ping_refuses_names_and_bad_counts(pair: tuple[Lab, str, str]) -> None:
    _, a, _ = pair
    with pytest.raises(probes.ProbeError, match="not an IP address"):
        probes.ping(a, "example.org")
    with pytest.raises(probes.ProbeError, match="count"):
        probes.ping(a, "10.213.1.2", count=0)


def test_ping_from_a_missing_namespace_raises(lab: Lab) -> None:
    with pytest.raises(FileNotFoundError):
        probes.ping(f"{lab.prefix}-none", "10.213.1.2")


def test_ipv6_ping(pair: tuple[Lab, str, str]) -> None:
    """ICMPv6 echo to a global address; the hop limit comes from ancillary data."""
    _, a, b = pair
    from pyroute2 import IPRoute

    from netlab.kernel import namespaces

    def add(ifname: str, address: str) -> None:
        with IPRoute() as ipr:
            (index,) = ipr.link_lookup(ifname=ifname)
            ipr.addr("add", index=index, address=address, prefixlen=64, flags=0x02)  # nodad

    namespaces.run_inside(a, lambda: add("veth-a", "fd13:213::1"))
    namespaces.run_inside(b, lambda: add("veth-b", "fd13:213::2"))
    result = probes.ping(a, "fd13:213::2", count=2, interval=0.05)
    assert result.received == 2
    assert result.replies[0].ttl == 64
    assert result.replies[0].from_address == "fd13:213::2"


def test_tcp_probe_names_the_node_behind_each_service(
    pair: tuple[Lab, str, str], tmp_path: object
) -> None:
    """A responder in b: its tcp greeting and its HTTP answer both name node b."""
    _, a, b = pair
    process = responder.start(
        "t0prob", {b: ("node-b", [("tcp", 7007), ("http", 8080)])}, str(tmp_path)
    )
    try:
        greeting = probes.tcp_probe(a, "10.213.1.2", 7007)
        assert greeting.connected
        assert greeting.error is None
        assert greeting.first_line is not None
        assert greeting.first_line.startswith("netlab ")
        assert greeting.node == "node-b"
        assert greeting.connect_ms is not None

        web = probes.http_probe(a, "10.213.1.2", 8080)
        assert web.first_line == "HTTP/1.0 200 OK"
        assert web.node == "node-b"
        assert f'"netns": "{b}"' in web.answer
    finally:
        responder.stop(process.pid, process.started_at)


def test_tcp_probe_to_a_closed_port_is_refused(pair: tuple[Lab, str, str]) -> None:
    """A closed port answers with a reset: the probe reports it instead of timing out."""
    _, a, _ = pair
    started = time.monotonic()
    result = probes.tcp_probe(a, "10.213.1.2", 9, timeout=10.0)
    assert time.monotonic() - started < 10.0
    assert not result.connected
    assert result.error == "Connection refused"
    assert result.as_dict()["connected"] is False


def test_tcp_probe_to_a_silent_address_times_out(pair: tuple[Lab, str, str]) -> None:
    _, a, _ = pair
    result = probes.tcp_probe(a, "10.213.1.99", 80, timeout=0.3)
    assert not result.connected
    assert result.error is not None
    assert "0.3 s" in result.error


def test_ping_all_matrix_matches_the_topology(lab: Lab) -> None:
    """a-b share a segment; c sits alone on its own: only a<->b cells are reachable."""
    a = lab.namespace("a")
    b = lab.namespace("b")
    c = lab.namespace("c")
    d = lab.namespace("d")
    lab.link(a, "veth-a", "10.213.4.1/24", b, "veth-b", "10.213.4.2/24")
    lab.link(c, "veth-c", "10.213.5.1/24", d, "veth-d", "10.213.5.2/24")
    targets = {"a": a, "b": b, "c": c}
    addresses = {"10.213.4.1": "a", "10.213.4.2": "b", "10.213.5.1": "c"}
    streamed: list[probes.PingCell] = []
    matrix = probes.ping_all(targets, addresses, timeout=0.4, on_cell=streamed.append)
    expected = {
        "a": {"10.213.4.2": True, "10.213.5.1": False},
        "b": {"10.213.4.1": True, "10.213.5.1": False},
        "c": {"10.213.4.1": False, "10.213.4.2": False},
    }
    assert matrix.reachability() == expected
    assert len(streamed) == 6
    assert set(streamed) == set(matrix.cells)
    for cell in matrix.cells:
        if cell.reachable:
            assert cell.loss == 0.0
            assert cell.rtt_ms is not None
        else:
            assert cell.loss == 100.0
            assert cell.rtt_ms is None
    assert matrix.as_dict()["reachable"] == 2
