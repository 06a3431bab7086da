"""Observers of one namespace: links, neighbours, routes, counters, and the event monitor."""

from __future__ import annotations

import asyncio
import subprocess
import time

import pytest
from enginekit import Kit, tutorial
from labkit import Lab, lab_fixture, pair_fixture, requires_root  # noqa: F401 (fixtures)
from pyroute2 import IPRoute

from netlab.kernel import namespaces, observe, probes

pytestmark = [pytest.mark.kernel, requires_root]


def _mac_of(netns: str, ifname: str) -> str:
    (link,) = [link for link in observe.links(netns) if link.name == ifname]
    assert link.mac is not None
    return link.mac


def test_links_show_state_mtu_and_addresses(pair: tuple[Lab, str, str]) -> None:
    _, a, _ = pair
    # The kernel sets a new veth's operstate a moment after it is up (its link watch).
    deadline = time.monotonic() + 5
    while {link.name: link.operstate for link in observe.links(a)}["veth-a"] != "UP":
        assert time.monotonic() < deadline, "veth-a never became operationally up"
        time.sleep(0.02)
    by_name = {link.name: link for link in observe.links(a)}
    assert set(by_name) == {"lo", "veth-a"}
    veth = by_name["veth-a"]
    assert veth.state == "up"
    assert veth.operstate == "UP"
    assert veth.kind == "veth"
    assert veth.mtu == 1500
    assert veth.master is None
    assert "10.213.1.1/24" in veth.addresses
    assert by_name["lo"].addresses[0] == "127.0.0.1/8"
    assert veth.as_dict()["addresses"] == list(veth.addresses)


def test_links_name_the_master_of_a_bridge_port(lab: Lab) -> None:
    a = lab.namespace("a")

    def build() -> None:
        with IPRoute() as ipr:
            ipr.link("add", ifname="br0", kind="bridge")
            (bridge,) = ipr.link_lookup(ifname="br0")
            ipr.link("add", ifname="port0", kind="veth", peer={"ifname": "port1"})
            (port,) = ipr.link_lookup(ifname="port0")
            ipr.link("set", index=port, master=bridge)

    namespaces.run_inside(a, build)
    by_name = {link.name: link for link in observe.links(a)}
    assert by_name["port0"].master == "br0"
    assert by_name["br0"].kind == "bridge"
    assert by_name["port0"].state == "down"


def test_neighbours_show_the_peer_mac_after_a_ping(pair: tuple[Lab, str, str]) -> None:
    _, a, b = pair
    assert [n for n in observe.neighbours(a) if n.address == "10.213.1.2"] == []
    # The first ping also waits for ARP: allow it time on a loaded machine.
    assert probes.ping(a, "10.213.1.2", count=1, timeout=5.0).received == 1
    (entry,) = [n for n in observe.neighbours(a) if n.address == "10.213.1.2"]
    assert entry.mac == _mac_of(b, "veth-b")
    assert entry.interface == "veth-a"
    assert entry.state in ("REACHABLE", "STALE", "DELAY")
    assert entry.as_dict()["mac"] == entry.mac


def test_routes_of_the_main_table(pair: tuple[Lab, str, str]) -> None:
    _, a, _ = pair

    def add_default() -> None:
        with IPRoute() as ipr:
            ipr.route("add", dst="0.0.0.0/0", gateway="10.213.1.2")

    namespaces.run_inside(a, add_default)
    inet = [route for route in observe.routes(a) if route.family == "inet"]
    by_destination = {route.to: route for route in inet}
    assert by_destination["default"].via == "10.213.1.2"
    assert by_destination["default"].dev == "veth-a"
    assert by_destination["default"].protocol == "static"  # pyroute2 adds routes as static
    connected = by_destination["10.213.1.0/24"]
    assert connected.dev == "veth-a"
    assert connected.via is None
    assert connected.scope == "link"
    assert connected.protocol == "kernel"
    assert connected.source == "10.213.1.1"


def test_counters_count_a_ping(pair: tuple[Lab, str, str]) -> None:
    _, a, b = pair
    before = observe.counters(b)["veth-b"]
    assert set(before) == {"rx_bytes", "tx_bytes", "rx_packets", "tx_packets"}
    probes.ping(a, "10.213.1.2", count=5, interval=0.01)
    after = observe.counters(b)["veth-b"]
    assert after["rx_packets"] - before["rx_packets"] >= 5
    assert after["tx_packets"] - before["tx_packets"] >= 5
    assert after["rx_bytes"] - before["rx_bytes"] >= 5 * 98  # 84-byte IP packet + Ethernet


async def test_a_monitor_reads_the_same_counters_through_its_kept_socket(
    pair: tuple[Lab, str, str],
) -> None:
    """``Monitor.counters`` (RTM_GETSTATS on a socket kept in the namespace, parsed by hand)
    reads what the link dump reads, by interface name, and follows traffic."""
    _, a, b = pair
    async with observe.Monitor(b) as monitor:
        kept = await monitor.counters()
        dumped = observe.counters(b)
        assert set(kept) == set(dumped) == {"lo", "veth-b"}
        for name, values in dumped.items():
            assert set(kept[name]) == set(values)
            # Counters only grow; nothing runs between the two reads but IPv6 chatter.
            assert all(0 <= values[key] - kept[name][key] <= 2000 for key in values)
        await asyncio.to_thread(probes.ping, a, "10.213.1.2", count=5, interval=0.01)
        after = await monitor.counters()
        assert after["veth-b"]["rx_packets"] - kept["veth-b"]["rx_packets"] >= 5
        assert after["veth-b"]["rx_bytes"] - kept["veth-b"]["rx_bytes"] >= 5 * 98
    with pytest.raises(observe.MonitorClosed, match="not open"):
        await monitor.counters()


async def test_a_monitor_snapshot_reads_what_the_reader_reads(pair: tuple[Lab, str, str]) -> None:
    """The monitor's snapshot, dumped on its own socket while it also hears events, is the
    thread-and-socket reader's (counters aside: they move)."""
    _, a, _ = pair
    async with observe.Monitor(a) as monitor:
        await asyncio.to_thread(probes.ping, a, "10.213.1.2", count=1, interval=0.01)
        kept, read = await monitor.snapshot(), observe.snapshot(a)
        assert kept.netns == read.netns == a
        assert kept.links == read.links
        assert kept.routes == read.routes
        assert {n.address for n in kept.neighbours} == {n.address for n in read.neighbours}
        assert "10.213.1.2" in {n.address for n in kept.neighbours}
        assert set(kept.counters) == set(read.counters)
        # Events still come, apart from the dumps on the same socket.
        while await monitor.next_event(timeout=0.2) is not None:
            pass  # what the pings stirred up
        subprocess.run(["ip", "-n", a, "address", "add", "10.99.0.1/32", "dev", "lo"], check=True)
        await monitor.snapshot()
        event = await monitor.next_event(timeout=2)
        assert event is not None
        assert event.kind == "address"
    with pytest.raises(observe.MonitorClosed, match="not open"):
        await monitor.snapshot()


def test_snapshot_reads_everything_at_once(pair: tuple[Lab, str, str]) -> None:
    _, a, _ = pair
    probes.ping(a, "10.213.1.2", count=1)
    taken = observe.snapshot(a)
    assert {link.name for link in taken.links} == {"lo", "veth-a"}
    assert any(n.address == "10.213.1.2" for n in taken.neighbours)
    assert any(route.to == "10.213.1.0/24" for route in taken.routes)
    assert "veth-a" in taken.counters
    assert taken.as_dict()["netns"] == a


def test_readers_refuse_a_missing_namespace(lab: Lab) -> None:
    with pytest.raises(FileNotFoundError):
        observe.links(f"{lab.prefix}-none")


async def test_monitor_yields_a_neighbour_event_after_a_ping(pair: tuple[Lab, str, str]) -> None:
    _, a, b = pair
    peer_mac = _mac_of(b, "veth-b")
    async with observe.Monitor(a) as monitor:
        result = await asyncio.to_thread(probes.ping, a, "10.213.1.2", count=1)
        assert result.received == 1
        while True:
            event = await monitor.next_event(timeout=2.0)
            assert event is not None, "no neighbour event within 2 s"
            if event.kind == "neighbour" and event.action == "new":
                break
        assert isinstance(event.data, observe.Neighbour)
        assert event.data.address == "10.213.1.2"
        assert event.data.mac == peer_mac
        assert event.data.interface == "veth-a"
        assert event.data.state == "REACHABLE"
        assert event.as_dict()["kind"] == "neighbour"


async def test_monitor_yields_link_address_and_route_events(pair: tuple[Lab, str, str]) -> None:
    _, a, _ = pair

    def change() -> float:
        with IPRoute() as ipr:
            (index,) = ipr.link_lookup(ifname="veth-a")
            started = time.monotonic()
            ipr.addr("add", index=index, address="10.213.9.1", prefixlen=24)
            ipr.link("set", index=index, state="down")
            return started

    async with observe.Monitor(a) as monitor:
        started = await asyncio.to_thread(namespaces.run_inside, a, change)
        seen: list[observe.Event] = []
        while True:
            event = await monitor.next_event(timeout=1.0)
            if event is None:
                break
            seen.append(event)
    kinds = {(event.kind, event.action) for event in seen}
    assert ("address", "new") in kinds
    assert ("route", "new") in kinds
    assert ("route", "del") in kinds  # a link going down takes its connected routes along
    assert ("link", "new") in kinds
    address = next(event for event in seen if event.kind == "address")
    assert isinstance(address.data, observe.Address)
    assert address.data.address == "10.213.9.1/24"
    assert address.data.interface == "veth-a"
    # The last link event: earlier ones may be the pair still coming up.
    link = [event for event in seen if event.kind == "link"][-1]
    assert isinstance(link.data, observe.Link)
    assert link.data.state == "down"
    assert address.at >= started


async def test_monitor_ends_when_its_namespace_is_removed(lab: Lab) -> None:
    a = lab.namespace("a")
    monitor = observe.Monitor(a, watch_interval=0.05)
    await monitor.open()
    namespaces.remove(a)
    events = [event async for event in monitor]
    assert events == []
    await monitor.close()  # idempotent


async def test_monitor_of_a_missing_namespace_raises(lab: Lab) -> None:
    with pytest.raises(FileNotFoundError):
        await observe.Monitor(f"{lab.prefix}-none").open()


async def test_monitor_reports_an_entry_leaving_the_shown_table_as_its_removal(
    pair: tuple[Lab, str, str],
) -> None:
    _, a, _ = pair
    address = "10.213.1.77"

    def set_state(state: int) -> None:
        with IPRoute() as ipr:
            (index,) = ipr.link_lookup(ifname="veth-a")
            ipr.neigh(
                "replace", dst=address, lladdr="02:00:00:00:00:77", ifindex=index, state=state
            )

    async def next_neighbour(monitor: observe.Monitor) -> observe.Event:
        while True:
            event = await monitor.next_event(timeout=5.0)
            assert event is not None, "no neighbour event within 5 s"
            if event.kind == "neighbour" and getattr(event.data, "address", None) == address:
                return event

    async with observe.Monitor(a) as monitor:
        await asyncio.to_thread(namespaces.run_inside, a, lambda: set_state(0x04))  # STALE
        event = await next_neighbour(monitor)
        assert (event.action, event.data.as_dict()["state"]) == ("new", "STALE")
        # FAILED is shown (as `ip neigh show` does): a change like any other.
        await asyncio.to_thread(namespaces.run_inside, a, lambda: set_state(0x20))  # FAILED
        event = await next_neighbour(monitor)
        assert (event.action, event.data.as_dict()["state"]) == ("new", "FAILED")
        # NOARP is hidden: the entry leaves the table.
        await asyncio.to_thread(namespaces.run_inside, a, lambda: set_state(0x40))  # NOARP
        event = await next_neighbour(monitor)
        assert (event.action, event.data.as_dict()["state"]) == ("del", "NOARP")
    assert all(n.address != address for n in observe.neighbours(a))


@pytest.mark.parametrize("number", [2, 3, 4])
async def test_struct_parsing_reads_every_namespace_of_a_tutorial_as_pyroute2_does(
    kit: Kit, number: int
) -> None:
    """The monitor's snapshot (its own plain socket, parsed with ``struct``) against the
    pyroute2 reader's, in every namespace of a deployed tutorial: bridges and their ports
    (``master``, ``kind``), gateways, default routes, IPv6 link-local addresses and
    routes, neighbours once red has pinged."""
    record = kit.deploy(tutorial(number))
    red = record.namespaces["red"]
    await asyncio.to_thread(probes.ping, red, "192.168.15.2", count=1, interval=0.01)
    for netns in (name for name in record.namespaces.values() if name):
        async with observe.Monitor(netns) as monitor:
            # The lab is still settling (operstates, IPv6 link-local addresses): compare two
            # reads of one moment, taken again while the kernel changed between them.
            for _ in range(50):
                kept, read = await monitor.snapshot(), observe.snapshot(netns)
                if (kept.links, kept.routes) == (read.links, read.routes):
                    break
                await asyncio.sleep(0.1)
        assert kept.links == read.links, netns
        assert kept.routes == read.routes, netns
        assert set(kept.neighbours) <= set(read.neighbours) | set(observe.neighbours(netns))
        assert {n.address for n in kept.neighbours} == {n.address for n in read.neighbours}
        assert set(kept.counters) == set(read.counters)
