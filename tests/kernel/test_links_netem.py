"""Impairments that need netem, on a kernel that has it (marked ``guest_kernel``).

This machine's kernel has no netem: here these tests skip, and ``make test`` runs them in a
guest booted with Debian's stock kernel (tests/kernel/test_guest_kernel.py). On a machine
whose kernel has netem they run directly. The set is small: each boot of the guest costs
about half a minute without KVM.
"""

from __future__ import annotations

import os
import statistics
from typing import Any

import pytest
from enginekit import Kit, requires_root
from factories import changed, design_data, endpoint, link, node

from netlab.core.validation import load
from netlab.kernel import engine, features, probes

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.guest_kernel,
    requires_root,
    pytest.mark.skipif(
        os.geteuid() != 0 or not features.supported()["netem"],
        reason="this kernel has no netem: make test runs these in a guest with Debian's kernel",
    ),
]

PAIR = design_data(
    nodes=[node("host", "host"), node("red"), node("blue")],
    links=[link(endpoint("red", "veth-red", "10.0.0.1/24"),
                endpoint("blue", "veth-blue", "10.0.0.2/24"))],
)  # fmt: skip
DELAY_MS = 50
# A few milliseconds over the delay: the guest's own round trip, emulated without KVM.
SLACK_MS = 10


def with_end(impairment: dict[str, Any] | None, data: dict[str, Any] = PAIR) -> dict[str, Any]:
    """red's end impaired (red's egress: the echo requests, not the replies)."""
    return changed(data, {"links[0].endpoints[0].impairment": impairment})


def ping(record: engine.DeploymentRecord, count: int) -> probes.PingResult:
    red = record.namespaces["red"]
    assert red is not None
    return probes.ping(red, "10.0.0.2", count=count, interval=0.05, timeout=1.0)


def measured(record: engine.DeploymentRecord, count: int = 10) -> probes.PingResult:
    """``count`` pings once red knows blue's MAC: a first ping also waits for ARP (whose request
    is impaired too, or was lost before the change)."""
    ping(record, 1)
    return ping(record, count)


def median_rtt(result: probes.PingResult) -> float:
    """The median RTT: the guest's emulated CPU stalls now and then, which a mean would show."""
    return statistics.median(reply.rtt_ms for reply in result.replies if reply.rtt_ms is not None)


def drift_of(data: dict[str, Any], record: engine.DeploymentRecord) -> list[tuple[str, str]]:
    return [(drift.kind, drift.subject) for drift in engine.check(load(data), record)]


def test_a_delayed_end_adds_its_delay_to_the_round_trip(
    kit: Kit, capsys: pytest.CaptureFixture[str]
) -> None:
    """50 ms on red's egress: every RTT is at least 50 ms, the median within a few ms of it;
    a live change to 20 ms follows; check is clean after both."""
    delayed = with_end({"delay_ms": DELAY_MS})
    record = kit.deploy(load(delayed))
    assert drift_of(delayed, record) == []
    result = measured(record)
    assert result.received == 10
    assert result.rtt_min_ms is not None
    assert result.rtt_avg_ms is not None
    assert result.rtt_min_ms >= DELAY_MS
    assert median_rtt(result) <= DELAY_MS + SLACK_MS
    shorter = with_end({"delay_ms": 20})
    record = engine.change(load(delayed), load(shorter), record, state_dir=kit.state_dir)
    assert drift_of(shorter, record) == []
    after = measured(record)
    assert after.rtt_min_ms is not None
    assert after.rtt_avg_ms is not None
    assert after.rtt_min_ms >= 20
    assert median_rtt(after) <= 20 + SLACK_MS
    with capsys.disabled():
        print(
            f"\nping RTT with {DELAY_MS} ms on one end: min {result.rtt_min_ms:.1f} median "
            f"{median_rtt(result):.1f} avg {result.rtt_avg_ms:.1f} max "
            f"{result.rtt_max_ms:.1f} ms; with 20 ms: min {after.rtt_min_ms:.1f} median "
            f"{median_rtt(after):.1f} ms"
        )
    kit.destroy(record)


def test_loss_of_100_percent_drops_everything_and_0_nothing(kit: Kit) -> None:
    lossy = with_end({"loss_percent": 100})
    record = kit.deploy(load(lossy))
    assert drift_of(lossy, record) == []
    assert ping(record, 20).received == 0
    clean = with_end({"loss_percent": 0})
    record = engine.change(load(lossy), load(clean), record, state_dir=kit.state_dir)
    assert drift_of(clean, record) == []
    assert measured(record, 20).received == 20
    kit.destroy(record)


def test_every_netem_field_deploys_and_checks_clean(kit: Kit) -> None:
    """delay, jitter, loss, corruption, duplication and a rate inside netem, on both ends:
    the kernel holds what the plan says (check compares each field), and a qdisc changed by
    hand is reported."""
    every = changed(
        PAIR,
        {
            "links[0].impairment": {
                "delay_ms": 5,
                "jitter_ms": 1,
                "loss_percent": 0.5,
                "corrupt_percent": 0.1,
                "duplicate_percent": 0.2,
                "rate_kbit": 100_000,
            }
        },
    )
    record = kit.deploy(load(every))
    assert drift_of(every, record) == []
    assert {"netem": True, "tbf": True}.items() <= features.supported().items()
    changed_loss = changed(every, {"links[0].impairment.loss_percent": 2})
    assert drift_of(changed_loss, record) == [
        ("qdisc-changed", "veth-red"),
        ("qdisc-changed", "veth-blue"),
    ]
    kit.destroy(record)
