"""The all-pairs ping on real namespaces: a whole campus (``netlab.campus``) with one pinger
per source namespace, silent addresses timing out together, a stop ending it early with the
cells measured until then; and one pinger's IPv4, IPv6, zones and rounds. Everything
deployed is destroyed by the ``kit`` and ``lab`` fixtures."""

from __future__ import annotations

import threading

import pytest
from enginekit import Kit, requires_root
from labkit import Lab, lab_fixture, pair_fixture  # noqa: F401 (fixtures)
from pyroute2 import IPRoute

from netlab.campus import campus_data
from netlab.core import targets
from netlab.core.validation import load
from netlab.kernel import namespaces, probes

pytestmark = [requires_root, pytest.mark.kernel]


def sweep_of(kit: Kit, **options: object) -> tuple[dict[str, str], dict[str, str], object]:
    document = load(campus_data(routers=2, hosts_per_router=3, network="10.213.0.0/16", **options))
    record = kit.deploy(document)
    sources = {node: netns for node, netns in record.namespaces.items() if netns}
    addresses = {
        address: node.id
        for node in document.nodes
        for address in targets.node_addresses(document, node.id)
    }
    return sources, addresses, record


def test_a_routed_campus_answers_every_cell(kit: Kit) -> None:
    sources, addresses, _ = sweep_of(kit)
    streamed: list[probes.PingCell] = []
    matrix = probes.ping_all(sources, addresses, timeout=2.0, on_cell=streamed.append)
    expected = len(probes.pairs_of(sources, addresses))
    assert len(matrix.cells) == expected == len(streamed)
    assert [cell for cell in matrix.cells if not cell.reachable] == []
    assert {cell.source for cell in matrix.cells} == set(sources)


def test_without_forwarding_only_each_segment_answers(kit: Kit) -> None:
    """Routers that forward nothing: a host reaches its own segment and its router (whose
    addresses are its own), never the other segment; silent cells say "timeout"."""
    sources, addresses, _ = sweep_of(kit, forwarding=False)
    matrix = probes.ping_all(sources, addresses, timeout=0.3)
    table = matrix.reachability()
    assert table["h1-1"]["10.213.1.11"] is True  # h1-2, same segment
    assert table["h1-1"]["10.213.0.1"] is True  # r1's address on the core: r1 owns it
    assert table["h1-1"]["10.213.2.10"] is False  # h2-1, behind r2
    silent = [cell for cell in matrix.cells if not cell.reachable]
    assert silent
    assert all(cell.error for cell in silent)
    assert {cell.error for cell in silent} <= {"timeout", "host unreachable"}


def test_a_stopped_ping_all_keeps_the_cells_measured_until_then(kit: Kit) -> None:
    sources, addresses, _ = sweep_of(kit, forwarding=False)
    stop = threading.Event()
    streamed: list[probes.PingCell] = []

    def cell(found: probes.PingCell) -> None:
        streamed.append(found)
        if len(streamed) == 3:
            stop.set()

    matrix = probes.ping_all(
        sources, addresses, timeout=5.0, concurrency=1, on_cell=cell, cancel=stop
    )
    assert len(streamed) == len(matrix.cells) == 3
    assert len(matrix.cells) < len(probes.pairs_of(sources, addresses))


def test_one_pinger_pings_both_families_over_rounds(pair: tuple[Lab, str, str]) -> None:
    """From a: b's IPv4 and IPv6 addresses, b's link-local one through a zone, a silent
    address, and a zone naming no interface; two rounds each."""
    _, a, b = pair

    def add(ifname: str, address: str) -> None:
        with IPRoute() as ipr:
            (index,) = ipr.link_lookup(ifname=ifname)
            ipr.addr("add", index=index, address=address, prefixlen=64, flags=0x02)  # nodad

    namespaces.run_inside(a, lambda: add("veth-a", "fd13:214::1"))
    namespaces.run_inside(b, lambda: add("veth-b", "fd13:214::2"))
    namespaces.run_inside(b, lambda: add("veth-b", "fe80::b"))
    wanted = [
        ("10.213.1.2", "b"),
        ("fd13:214::2", "b"),
        ("fe80::b%veth-a", "b"),
        ("10.213.1.99", "nobody"),
        ("fe80::b%nosuchif", "b"),
    ]
    cells: list[probes.PingCell] = []
    probes.ping_source("a", a, wanted, count=2, interval=0.05, timeout=0.5, on_cell=cells.append)
    found = {cell.address: cell for cell in cells}
    assert set(found) == {address for address, _ in wanted}
    for address in ("10.213.1.2", "fd13:214::2", "fe80::b%veth-a"):
        assert (found[address].sent, found[address].received) == (2, 2), found[address]
        assert found[address].rtt_ms is not None
    assert (found["10.213.1.99"].received, found["10.213.1.99"].loss) == (0, 100.0)
    assert found["10.213.1.99"].error in {"timeout", "host unreachable"}
    assert found["fe80::b%nosuchif"].error == f"no interface 'nosuchif' in namespace {a}"
