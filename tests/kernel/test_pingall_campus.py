"""The all-pairs ping of a whole campus (``netlab.campus``) on real namespaces: one pinger
per source namespace, silent addresses time out together, and a stop ends it early with
the cells measured until then. Everything deployed is destroyed by the ``kit`` fixture."""

from __future__ import annotations

import threading

import pytest
from enginekit import Kit, requires_root

from netlab.campus import campus_data
from netlab.core import targets
from netlab.core.validation import load
from netlab.kernel import probes

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
