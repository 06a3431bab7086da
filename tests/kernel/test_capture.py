"""Capturing packets in a lab's namespaces: what a ping looks like on blue's interface (ARP
first, then the echo and its reply, with the right addresses and MACs), a filter keeping
only what it matches, the pcap written reading back as the same packets, and a port forward
seen on both sides of the host. Packets only travel between the namespaces deployed here."""

from __future__ import annotations

import io
import threading
from typing import Any

import dpkt
import pytest
from enginekit import Kit, requires_root, tutorial

from netlab.core.packets import decode
from netlab.kernel import observe, probes
from netlab.kernel.capture import Capture, CaptureError, capture, compile_filter, write_pcap

pytestmark = [pytest.mark.kernel, requires_root]


def mac_of(netns: str, interface: str) -> str:
    (link,) = [link for link in observe.links(netns) if link.name == interface]
    assert link.mac is not None
    return link.mac


def summaries(frames: list[Any]) -> list[str]:
    return [decode(frame.data).summary for frame in frames]


def captured_while(netns: str, interface: str, act: Any, **options: Any) -> list[Any]:
    """The frames on ``interface`` while ``act()`` runs (started once the capture listens)."""
    listening = threading.Event()
    found: list[Any] = []
    worker = threading.Thread(
        target=lambda: found.extend(
            capture(
                netns,
                interface,
                seconds=options.pop("seconds", 2.0),
                ready=listening.set,
                **options,
            )
        )
    )
    worker.start()
    assert listening.wait(5)
    act()
    worker.join(10)
    return found


def test_a_ping_on_blues_interface_is_arp_then_echo_and_reply(kit: Kit) -> None:
    record = kit.deploy(tutorial(2))
    red, blue = record.namespaces["red"], record.namespaces["blue"]
    assert red is not None
    assert blue is not None
    red_mac, blue_mac = mac_of(red, "veth-red"), mac_of(blue, "veth-blue")
    frames = captured_while(
        blue, "veth-blue", lambda: probes.ping(red, "192.168.15.2", count=1, interval=0.01),
        seconds=1.5,
    )  # fmt: skip
    lines = [decode(frame.data).summary for frame in frames]
    wanted = [
        "ARP, Request who-has 192.168.15.2 tell 192.168.15.1",
        f"ARP, Reply 192.168.15.2 is-at {blue_mac}",
        "IP 192.168.15.1 > 192.168.15.2: ICMP echo request",
        "IP 192.168.15.2 > 192.168.15.1: ICMP echo reply",
    ]
    found = [
        next(index for index, line in enumerate(lines) if line.startswith(want)) for want in wanted
    ]
    assert found == sorted(found), lines
    request = next(frame for frame in frames if "echo request" in decode(frame.data).summary)
    ethernet = decode(request.data).layers[0]
    assert (ethernet["source"], ethernet["destination"]) == (red_mac, blue_mac)
    assert request.direction == "in"
    reply = next(frame for frame in frames if "echo reply" in decode(frame.data).summary)
    assert reply.direction == "out"

    pcap = io.BytesIO()
    write_pcap(pcap, frames)
    pcap.seek(0)
    read = [bytes(data) for _, data in dpkt.pcap.Reader(pcap)]
    assert read == [frame.data for frame in frames]
    kit.destroy(record)


def test_a_filter_keeps_only_what_it_matches(kit: Kit) -> None:
    record = kit.deploy(tutorial(2))
    red, blue = record.namespaces["red"], record.namespaces["blue"]
    assert red is not None
    assert blue is not None
    frames = captured_while(
        blue, "veth-blue", lambda: probes.ping(red, "192.168.15.2", count=2, interval=0.05),
        bpf="icmp", seconds=1.5,
    )  # fmt: skip
    protocols = {decode(frame.data).protocol for frame in frames}
    assert protocols == {"icmp"}
    assert len(frames) == 4
    kit.destroy(record)


def test_a_port_forward_is_seen_rewritten_on_the_hosts_two_sides(kit: Kit) -> None:
    record = kit.deploy(tutorial(4))
    host, lan = record.namespaces["host"], record.namespaces["lan"]
    assert host is not None
    assert lan is not None
    inside: list[Any] = []

    def probe() -> None:
        probes.tcp_probe(lan, "192.168.1.2", 80, timeout=1.0)

    def both() -> None:
        inside.extend(captured_while(host, "v-net-0", probe, bpf="tcp port 80", seconds=1.5))

    outside = captured_while(host, "eth0", both, bpf="tcp port 80", seconds=3.0)
    syn_out = next(summary for summary in summaries(outside) if "Flags [S]" in summary)
    syn_in = next(summary for summary in summaries(inside) if "Flags [S]" in summary)
    assert "> 192.168.1.2.80: Flags [S]" in syn_out
    assert "> 192.168.15.2.80: Flags [S]" in syn_in
    kit.destroy(record)


def test_bad_filters_and_interfaces_are_refused(kit: Kit) -> None:
    with pytest.raises(CaptureError, match="not a capture filter"):
        compile_filter("icmp and and")
    with pytest.raises(CaptureError, match="not a capture filter"):
        compile_filter("-w /tmp/netlab-should-not-exist")
    with pytest.raises(CaptureError, match="printable"):
        compile_filter("icmp\nor arp")
    record = kit.deploy(tutorial(2))
    blue = record.namespaces["blue"]
    assert blue is not None
    with pytest.raises(CaptureError, match="cannot capture on eth9"), Capture(blue, "eth9"):
        pass
    kit.destroy(record)
