"""Link settings on the real kernel: MTU on both ends, a link taken down and up again live,
a rate limit (tbf) measured with a bounded TCP transfer, and ``check`` clean after each, or
naming what was changed by hand.

What needs netem (delay, loss) runs in the guest with Debian's kernel: tests/guest.
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from typing import Any

import pytest
from enginekit import Kit, requires_root
from factories import changed, design_data, endpoint, link, node, route

from netlab.core.validation import load
from netlab.kernel import engine, features, namespaces, probes, state

pytestmark = [pytest.mark.kernel, requires_root]

# red (10.0.0.1) -- blue (10.0.0.2); red reaches 10.9.0.0/16 through blue.
PAIR = design_data(
    nodes=[node("host", "host"), node("red", routes=[route("10.9.0.0/16", via="10.0.0.2")]),
           node("blue")],
    links=[link(endpoint("red", "veth-red", "10.0.0.1/24"),
                endpoint("blue", "veth-blue", "10.0.0.2/24"))],
)  # fmt: skip


def with_link(data: dict[str, Any] = PAIR, **fields: Any) -> dict[str, Any]:
    return changed(data, {f"links[0].{key}": value for key, value in fields.items()})


def links_of(record: engine.DeploymentRecord) -> dict[str, state.LinkState]:
    """Both ends, by interface name."""
    found = {}
    for node_id, name in (("red", "veth-red"), ("blue", "veth-blue")):
        netns = record.namespaces[node_id]
        assert netns is not None
        found[name] = state.read(netns).links[name]
    return found


def drift_of(data: dict[str, Any], record: engine.DeploymentRecord) -> list[tuple[str, str]]:
    return [(drift.kind, drift.subject) for drift in engine.check(load(data), record)]


def reaches(record: engine.DeploymentRecord) -> bool:
    red = record.namespaces["red"]
    assert red is not None
    result = probes.ping(red, "10.0.0.2", count=3, interval=0.05, timeout=0.5)
    return result.received == result.sent


def test_mtu_on_both_ends_deployed_changed_and_removed_live(kit: Kit) -> None:
    """A link's MTU is on both ends; a live edit changes it, its removal gives 1500 back."""
    jumbo = with_link(mtu=9000)
    record = kit.deploy(load(jumbo))
    assert {name: end.mtu for name, end in links_of(record).items()} == {
        "veth-red": 9000,
        "veth-blue": 9000,
    }
    assert drift_of(jumbo, record) == []
    small = with_link(mtu=1400)
    record = engine.change(load(jumbo), load(small), record, state_dir=kit.state_dir)
    assert {end.mtu for end in links_of(record).values()} == {1400}
    assert drift_of(small, record) == []
    blue = record.namespaces["blue"]
    assert blue is not None
    subprocess.run(["ip", "-n", blue, "link", "set", "veth-blue", "mtu", "1500"], check=True)
    assert drift_of(small, record) == [("mtu-changed", "veth-blue")]
    record = engine.change(load(small), load(PAIR), record, state_dir=kit.state_dir)
    assert {end.mtu for end in links_of(record).values()} == {1500}
    assert drift_of(PAIR, record) == []
    kit.destroy(record)


def test_link_down_and_up_again_live(kit: Kit) -> None:
    """Down: both ends down, no ping gets through, the route out of it gone, check clean.
    Up again: ping works, the route is back, check clean."""
    record = kit.deploy(load(PAIR))
    assert reaches(record)
    down = with_link(up=False)
    record = engine.change(load(PAIR), load(down), record, state_dir=kit.state_dir)
    assert {end.up for end in links_of(record).values()} == {False}
    assert not reaches(record)
    assert drift_of(down, record) == []
    red = record.namespaces["red"]
    assert red is not None
    assert ("10.9.0.0/16", "10.0.0.2", "veth-red") not in state.read(red).routes
    record = engine.change(load(down), load(PAIR), record, state_dir=kit.state_dir)
    assert {end.up for end in links_of(record).values()} == {True}
    assert reaches(record)
    assert ("10.9.0.0/16", "10.0.0.2", "veth-red") in state.read(red).routes
    assert drift_of(PAIR, record) == []
    kit.destroy(record)


def test_a_link_deployed_down_and_brought_up_by_hand_is_drift(kit: Kit) -> None:
    down = with_link(up=False)
    record = kit.deploy(load(down))
    assert not reaches(record)
    assert drift_of(down, record) == []
    red = record.namespaces["red"]
    assert red is not None
    subprocess.run(["ip", "-n", red, "link", "set", "veth-red", "up"], check=True)
    assert drift_of(down, record) == [("link-up", "veth-red")]
    kit.destroy(record)


RATE_KBIT = 10_000
TRANSFER_BYTES = 4_000_000  # 3.2 s at 10 Mbit/s


def transfer(record: engine.DeploymentRecord) -> float:
    """Send TRANSFER_BYTES over TCP from blue to red; return the receiver's kbit/s."""
    red, blue = record.namespaces["red"], record.namespaces["blue"]
    assert red is not None
    assert blue is not None
    server = namespaces.run_inside(red, lambda: socket.create_server(("10.0.0.1", 0)))
    port = server.getsockname()[1]
    client = namespaces.run_inside(blue, lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM))
    server.settimeout(10)
    received = 0
    times: list[float] = []

    def receive() -> None:
        nonlocal received
        connection, _ = server.accept()
        with connection:
            connection.settimeout(30)
            while chunk := connection.recv(1 << 16):
                if not received:
                    times.append(time.perf_counter())
                received += len(chunk)
        times.append(time.perf_counter())

    receiver = threading.Thread(target=receive)
    receiver.start()
    try:
        with client:
            client.connect(("10.0.0.1", port))
            client.sendall(bytes(TRANSFER_BYTES))
    finally:
        receiver.join(timeout=60)
        server.close()
    assert received == TRANSFER_BYTES
    first, last = times
    return received * 8 / 1000 / (last - first)


def test_a_rate_limit_bounds_tcp_throughput(kit: Kit, capsys: pytest.CaptureFixture[str]) -> None:
    """tbf at 10 Mbit/s: a 4 MB transfer runs within 15% of the rate, and check is clean;
    after a live change to 5 Mbit/s the qdisc is replaced and check is clean again; a qdisc
    removed by hand is drift."""
    limited = with_link(impairment={"rate_kbit": RATE_KBIT})
    free = kit.deploy(load(PAIR))
    unlimited = transfer(free)
    kit.destroy(free)
    record = kit.deploy(load(limited))
    assert drift_of(limited, record) == []
    measured = transfer(record)
    with capsys.disabled():
        print(f"\nTCP over the veth: {unlimited / 1000:.0f} Mbit/s unlimited, "
              f"{measured / 1000:.2f} Mbit/s at tbf rate {RATE_KBIT / 1000:g} Mbit/s")  # fmt: skip
    assert abs(measured - RATE_KBIT) <= 0.15 * RATE_KBIT
    slower = with_link(impairment={"rate_kbit": RATE_KBIT / 2})
    record = engine.change(load(limited), load(slower), record, state_dir=kit.state_dir)
    assert drift_of(slower, record) == []
    assert drift_of(limited, record) == [
        ("qdisc-changed", "veth-red"),
        ("qdisc-changed", "veth-blue"),
    ]
    red = record.namespaces["red"]
    assert red is not None
    subprocess.run(["tc", "-n", red, "qdisc", "del", "dev", "veth-red", "root"], check=True)
    assert drift_of(slower, record) == [("qdisc-missing", "veth-red")]
    record = engine.change(load(slower), load(PAIR), record, state_dir=kit.state_dir)
    assert drift_of(PAIR, record) == []
    kit.destroy(record)


def test_a_design_needing_what_this_kernel_lacks_is_refused_before_anything_is_built(
    kit: Kit,
) -> None:
    """This machine's kernel has no netem: a delayed link is refused with a sentence naming
    the link, the feature and the kernel option, at deploy and as a live change; nothing is
    built, and the running lab is untouched."""
    if features.supported()["netem"]:
        pytest.skip("this kernel has netem: its refusal cannot be seen here (tests/guest runs it)")
    assert features.supported()["tbf"]
    delayed = with_link(impairment={"delay_ms": 30})
    sentence = (
        "link red — blue: delay needs the kernel's netem qdisc (CONFIG_NET_SCH_NETEM), which "
        "this kernel lacks; nothing was changed"
    )
    with pytest.raises(features.UnsupportedError) as refused:
        kit.deploy(load(delayed))
    assert str(refused.value) == sentence
    assert kit.namespaces() == []
    record = kit.deploy(load(PAIR))
    with pytest.raises(features.UnsupportedError):
        engine.change(load(PAIR), load(delayed), record, state_dir=kit.state_dir)
    assert drift_of(PAIR, record) == []
    assert links_of(record)["veth-red"].up
    kit.destroy(record)
