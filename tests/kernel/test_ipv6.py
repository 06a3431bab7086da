"""IPv6 on this host's kernel, end to end: a dual-stack chain a — r — b deployed, a v6 ping
across the router (its hop limit one less), a TCP probe to b's service over v6, a's NDP entry
for the router in the neighbour table the live lab streams (the reader and a monitor's
snapshot), a's two defaults (one per family), and the explainer's v6 path. Packets travel
only between the namespaces the test deployed."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from enginekit import Kit, requires_root
from factories import service

from netlab.core.explain import explain
from netlab.core.validation import load
from netlab.kernel import engine, observe
from netlab.kernel.probes import ping, tcp_probe

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
import test_explain as designs

pytestmark = [pytest.mark.kernel, requires_root]


def dual_stack_with_echo() -> dict[str, object]:
    data = designs.dual_stack()
    data["nodes"][3]["services"] = [service("tcp", 7)]
    return data


def test_a_dual_stack_chain_over_ipv6(kit: Kit) -> None:
    design = load(dual_stack_with_echo())
    record = kit.deploy(design)
    try:
        a, r = record.namespaces["a"], record.namespaces["r"]
        assert engine.check(design, record) == []

        result = ping(a, "fd00:2::2", count=3, interval=0.05, timeout=2.0)
        assert result.received == 3, result
        assert {reply.ttl for reply in result.replies} == {63}  # b's 64, one router
        probe = tcp_probe(a, "fd00:2::2", 7)
        assert probe.connected, probe.error
        assert probe.node == "b"

        # a resolved its gateway by NDP: the entry is in what the live lab streams.
        router_mac = next(link.mac for link in observe.links(r) if link.name == "r-a")
        entries = {entry.address: entry for entry in observe.neighbours(a)}
        assert entries["fd00:1::2"].mac == router_mac
        assert entries["fd00:1::2"].interface == "a-r"

        async def snapshot() -> observe.Snapshot:
            async with observe.Monitor(a) as monitor:
                return await monitor.snapshot()

        streamed = asyncio.run(snapshot())
        assert "fd00:1::2" in {entry.address for entry in streamed.neighbours}
        defaults = {
            (route.family, route.via) for route in observe.routes(a) if route.to == "default"
        }
        assert defaults == {("inet", "10.0.1.2"), ("inet6", "fd00:1::2")}
    finally:
        kit.destroy(record)

    path = explain(design, "a", "fd00:2::2")
    assert path.outcome == "delivered", path.reason
    assert [hop.node for hop in path.hops] == ["a", "r", "b"]
    assert [hop.node for hop in path.reply] == ["b", "r", "a"]
