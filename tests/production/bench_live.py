"""Benchmark of the live lab, in both layouts: how fast kernel events reach a websocket client,
whether a crowd of clients gets every message, and what 200 neighbour monitors cost.

``.venv/bin/python tests/production/bench_live.py [--samples 200] [--pings 100]`` (root;
``make bench-live``). For the embedded layout (``manage.py netlab serve``: daphne and the
worker in one process, the in-memory channel layer) and the production layout (Redis,
daphne and ``manage.py netlab worker`` as separate processes, see ``layoutkit``), each on a
fresh database, Redis and namespace prefix of its own:

- neighbour latency: a permanent neighbour entry is added by netlink in red's namespace of
  the tutorial's bridge lab (the clock read just before the request), until the
  ``neighbours`` message holding it reaches a websocket client; samples are spaced past the
  worker's rate limit of a namespace's tables, so each is an isolated change;
- ping latency: a packet socket on red's interface sees each echo reply come in (as the
  probe does, at the same moment), until its ``ping.reply`` message reaches the client;
- fan-out: 50 clients watch a star of 20 namespaces while one of them runs a ping-all;
  between two marker entries every client must get the same group messages, none dropped;
- monitors: the worker's RSS and CPU, idle, before and with a running lab of 200
  namespaces (one neighbour monitor each).

Medians and 99th percentiles against the targets (5 ms, 50 ms). Writes a markdown table to
artifacts/bench-live.md and prints it. Not part of the test run. Packets only travel
between the namespaces the benchmark's own deployments created.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import platform
import socket
import statistics
import struct
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[2])]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "netlab.settings")

from layoutkit import (  # noqa: E402 - found through the path set just above
    REPOSITORY,
    Client,
    Layout,
    missing_requirements,
    unique_prefix,
    web_user_problem,
)

from netlab.bench import star_data  # noqa: E402 - the repository is on the path set above

EXAMPLE = REPOSITORY / "netlab" / "examples" / "2-bridge.yaml"
ARTIFACT = REPOSITORY / "artifacts" / "bench-live.md"
MEDIAN_TARGET_MS = 5.0
P99_TARGET_MS = 50.0
FAN_OUT_CLIENTS = 50
STAR_SIZE = 20
MONITORED_NAMESPACES = 200
IDLE_SECONDS = 10.0
ETH_P_IP = 0x0800
NUD_PERMANENT = 0x80


# -- designs -----------------------------------------------------------------------------------


def star(count: int) -> dict[str, Any]:
    """``count`` namespaces on a bridge held by the host node, all in 10.88.0.0/16."""
    return star_data(count, "10.88.0.0/16", name=f"bench-star-{count}")


def lonely(count: int) -> dict[str, Any]:
    """``count`` namespaces in all (the host node's included), no links."""
    nodes = [{"id": "host", "kind": "host"}] + [
        {"id": f"n{index}", "kind": "namespace"} for index in range(count - 1)
    ]
    return {"format": "netlab/v1", "name": f"bench-lonely-{count}", "nodes": nodes, "links": []}


# -- the kernel side (root, this process) ------------------------------------------------------


def set_neighbour(netns: str, interface: str, address: str, *, present: bool) -> float:
    """Add (or delete) a permanent neighbour entry in ``netns``; return the clock just before
    the netlink request left. The driver has no such verb (netlab only reads neighbours),
    so the benchmark speaks netlink itself, inside the namespace."""
    from pyroute2 import IPRoute

    from netlab.kernel import namespaces

    def inside() -> float:
        with IPRoute() as ipr:
            (index,) = ipr.link_lookup(ifname=interface)
            octets = ipaddress.IPv4Address(address).packed
            mac = "02:00:" + ":".join(f"{octet:02x}" for octet in octets)
            started = time.perf_counter()
            if present:
                ipr.neigh("replace", dst=address, lladdr=mac, ifindex=index, state=NUD_PERMANENT)
            else:
                ipr.neigh("del", dst=address, ifindex=index)
            return started

    return float(namespaces.run_inside(netns, inside))


class ReplySniffer:
    """Timestamps of the ICMP echo replies from ``source`` arriving on ``interface`` in
    ``netns``, by sequence number, seen by a packet socket as the probe's socket sees them."""

    def __init__(self, netns: str, interface: str, source: str) -> None:
        from netlab.kernel import namespaces

        def inside() -> socket.socket:
            packets = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
            packets.bind((interface, ETH_P_IP))
            return packets

        self.socket = namespaces.run_inside(netns, inside)
        self.socket.settimeout(0.2)
        self.source = ipaddress.IPv4Address(source).packed
        self.seen: dict[int, float] = {}
        self.running = True
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while self.running:
            try:
                packet = self.socket.recv(2048)
            except TimeoutError:
                continue
            at = time.perf_counter()
            header = (packet[0] & 0x0F) * 4
            if packet[9] != 1 or packet[12:16] != self.source or packet[header] != 0:
                continue  # not ICMP, not from the target, or not an echo reply
            (seq,) = struct.unpack("!H", packet[header + 6 : header + 8])
            self.seen.setdefault(seq, at)

    def close(self) -> None:
        self.running = False
        self.thread.join()
        self.socket.close()


# -- the client side ---------------------------------------------------------------------------


class Watcher:
    """A websocket client whose every message is timestamped the moment it arrives."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.messages: list[tuple[float, dict[str, Any]]] = []
        self.arrived = asyncio.Condition()
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for text in self.client.connection:
            at = time.perf_counter()
            async with self.arrived:
                self.messages.append((at, json.loads(text)))
                self.arrived.notify_all()

    async def wait_for(
        self, wanted: Callable[[dict[str, Any]], bool], start: int = 0, timeout: float = 60
    ) -> tuple[int, float, dict[str, Any]]:
        """The first message from index ``start`` on that ``wanted`` accepts: index, time, it."""

        def found() -> tuple[int, float, dict[str, Any]] | None:
            for index in range(start, len(self.messages)):
                at, message = self.messages[index]
                if wanted(message):
                    return index, at, message
            return None

        async with self.arrived:
            await asyncio.wait_for(self.arrived.wait_for(found), timeout)
        result = found()
        assert result is not None
        return result


def is_state(*states: str) -> Callable[[dict[str, Any]], bool]:
    return lambda message: message["type"] == "deployment" and message["state"] in states


def tables_in(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The node tables a message carries: a ``tables`` message's, or the message itself."""
    return list(message["tables"]) if message["type"] == "tables" else [message]


def table_of(node: str, address: str, present: bool = True) -> Callable[[dict[str, Any]], bool]:
    def one(table: dict[str, Any]) -> bool:
        if table["type"] != "neighbours" or table["node"] != node:
            return False
        return any(entry["address"] == address for entry in table["entries"]) == present

    return lambda message: any(one(table) for table in tables_in(message))


async def deploy(watcher: Watcher, timeout: float = 600) -> dict[str, Any]:
    start = len(watcher.messages)
    await watcher.client.send({"action": "deploy"})
    _, _, state = await watcher.wait_for(is_state("running", "failed"), start, timeout)
    if state["state"] != "running":
        raise RuntimeError(f"the deployment failed: {state['error']}")
    return state


async def destroy(watcher: Watcher) -> None:
    start = len(watcher.messages)
    await watcher.client.send({"action": "destroy"})
    await watcher.wait_for(is_state("stopped", "failed"), start, timeout=600)


# -- the measures ------------------------------------------------------------------------------


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"median": statistics.median(ordered), "p99": p99, "count": len(ordered)}


async def neighbour_latency(watcher: Watcher, netns: str, samples: int) -> dict[str, float]:
    """Latency of isolated neighbour changes.

    The worker publishes a change at once, then at most one table per namespace every
    ``editor.worker.COALESCE`` seconds (a burst costs a few messages, not one per event):
    samples are spaced past that window so each measures a change on its own, not the rate
    limit.
    """
    from editor.worker import COALESCE

    latencies = []
    for index in range(samples):
        await asyncio.sleep(COALESCE + 0.025)
        address = str(ipaddress.IPv4Address("10.200.0.1") + index)
        start = len(watcher.messages)
        sent = await asyncio.to_thread(set_neighbour, netns, "veth-red", address, present=True)
        _, arrived, _ = await watcher.wait_for(table_of("red", address), start)
        latencies.append((arrived - sent) * 1000)
        start = len(watcher.messages)
        await asyncio.to_thread(set_neighbour, netns, "veth-red", address, present=False)
        await watcher.wait_for(table_of("red", address, present=False), start)
    return percentiles(latencies)


async def ping_latency(watcher: Watcher, netns: str, count: int) -> dict[str, float]:
    sniffer = await asyncio.to_thread(ReplySniffer, netns, "veth-red", "192.168.15.2")
    try:
        start = len(watcher.messages)
        await watcher.client.send(
            {"action": "ping", "source": "red", "target": "blue", "count": count}
        )
        end, _, _ = await watcher.wait_for(
            lambda m: m["type"] == "ping.done", start, timeout=count * 0.2 + 30
        )
    finally:
        await asyncio.to_thread(sniffer.close)
    latencies = [
        (at - sniffer.seen[message["seq"]]) * 1000
        for at, message in watcher.messages[start:end]
        if message["type"] == "ping.reply"
        and message["error"] is None
        and message["seq"] in sniffer.seen
    ]
    return percentiles(latencies)


async def fan_out(layout: Layout, token: str, design_id: int) -> dict[str, Any]:
    url = layout.websocket_url(design_id)
    clients = [await Client(url, token).__aenter__() for _ in range(FAN_OUT_CLIENTS)]
    watchers = [Watcher(client) for client in clients]
    try:
        running = await deploy(watchers[0])
        marker_netns = running["namespaces"]["n0"]

        async def mark(address: str) -> list[int]:
            await asyncio.to_thread(set_neighbour, marker_netns, "eth0", address, present=True)
            found = await asyncio.gather(
                *(watcher.wait_for(table_of("n0", address)) for watcher in watchers)
            )
            return [index for index, _, _ in found]

        starts = await mark("10.254.0.1")
        asker = watchers[0]
        begin = len(asker.messages)
        await asker.client.send({"action": "pingall"})
        _, _, done = await asker.wait_for(
            lambda m: m["type"] in ("pingall.done", "error"), begin, 120
        )
        if done["type"] == "error":
            raise RuntimeError(f"the ping-all was refused: {done['message']}")
        ends = await mark("10.254.0.2")
        groups = [
            [
                json.dumps(table, sort_keys=True)
                for _, message in watcher.messages[start + 1 : end]
                for table in tables_in(message)
                if table["type"] == "neighbours"
            ]
            for watcher, start, end in zip(watchers, starts, ends, strict=True)
        ]
        reference = max(groups, key=len)
        cells = [
            cell
            for _, m in asker.messages[begin:]
            if m["type"] == "pingall.cells"
            for cell in m["cells"]
        ]
        await destroy(watchers[0])
        return {
            "messages": len(reference),
            "complete": sum(group == reference for group in groups),
            "dropped": sum(len(reference) - len(group) for group in groups),
            "cells": len(cells),
            "total": done["total"],
            "reachable": done["reachable"],
        }
    finally:
        for watcher in watchers:
            watcher.task.cancel()
        for client in clients:
            await client.__aexit__(None, None, None)


def process_usage(pid: int, seconds: float) -> dict[str, float]:
    """RSS (MiB) at the end, and CPU (% of one core) over ``seconds`` of ``pid``'s life."""

    def cpu_ticks() -> int:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return int(fields[11]) + int(fields[12])  # utime, stime

    before, started = cpu_ticks(), time.monotonic()
    time.sleep(seconds)
    ticks, elapsed = cpu_ticks() - before, time.monotonic() - started
    status = Path(f"/proc/{pid}/status").read_text()
    (rss,) = [int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")]
    return {
        "rss_mib": rss / 1024,
        "cpu_percent": 100 * ticks / os.sysconf("SC_CLK_TCK") / elapsed,
    }


async def monitors(layout: Layout, token: str, design_id: int, pid: int) -> dict[str, Any]:
    idle = await asyncio.to_thread(process_usage, pid, IDLE_SECONDS)
    async with Client(layout.websocket_url(design_id), token) as client:
        watcher = Watcher(client)
        try:
            started = time.perf_counter()
            await deploy(watcher)
            deployed = time.perf_counter() - started
            # Let the first tables of every monitor go out before measuring the idle cost.
            await asyncio.sleep(2)
            loaded = await asyncio.to_thread(process_usage, pid, IDLE_SECONDS)
            await destroy(watcher)
        finally:
            watcher.task.cancel()
    return {"idle": idle, "loaded": loaded, "deploy_s": deployed}


async def run_layout(embedded: bool, samples: int, pings: int) -> dict[str, Any]:
    problem = None if embedded else web_user_problem()
    prefix = unique_prefix("nlb")
    with Layout(prefix, embedded=embedded, unprivileged_web=problem is None) as layout:
        layout.start()
        if embedded:
            layout.start_serve()
            worker_pid = layout.processes["serve"].pid
        else:
            layout.start_daphne()
            layout.start_worker()
            worker_pid = layout.processes["worker"].pid
        token = layout.create_admin_token()
        files = layout.root / "designs"
        files.mkdir()
        (files / "star.json").write_text(json.dumps(star(STAR_SIZE)))
        (files / "lonely.json").write_text(json.dumps(lonely(MONITORED_NAMESPACES)))
        bridge = layout.import_design(EXAMPLE)
        star_id = layout.import_design(files / "star.json")
        lonely_id = layout.import_design(files / "lonely.json")

        result: dict[str, Any] = {"web_as_root": problem is not None}
        async with Client(layout.websocket_url(bridge), token) as client:
            watcher = Watcher(client)
            try:
                running = await deploy(watcher)
                red = running["namespaces"]["red"]
                # The first tables and ARP of the deployment settle before measuring.
                await asyncio.sleep(1)
                result["neighbour"] = await neighbour_latency(watcher, red, samples)
                result["ping"] = await ping_latency(watcher, red, pings)
                await destroy(watcher)
            finally:
                watcher.task.cancel()
        result["fan_out"] = await fan_out(layout, token, star_id)
        result["monitors"] = await monitors(layout, token, lonely_id, worker_pid)
    return result


# -- the report --------------------------------------------------------------------------------


def verdict(value: float, target: float) -> str:
    return f"{value:.2f} {'✓' if value < target else '✗'}"


def report(results: dict[str, dict[str, Any]]) -> str:
    layouts = list(results)
    lines = [
        "# Live lab benchmark",
        "",
        f"{platform.node()}, Linux {platform.release()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}; `tests/production/bench_live.py`. "
        "embedded: `manage.py netlab serve` (in-memory channel layer, worker in process); "
        "redis: daphne + `manage.py netlab worker` + Redis, separate processes.",
        "",
        "| measure | " + " | ".join(layouts) + " | target |",
        "| --- | " + " | ".join("---:" for _ in layouts) + " | --- |",
    ]

    def row(name: str, cell: Callable[[dict[str, Any]], str], target: str = "") -> None:
        lines.append(
            f"| {name} | " + " | ".join(cell(results[k]) for k in layouts) + f" | {target} |"
        )

    for kind, title in (("neighbour", "neighbour event → client"), ("ping", "ping reply → client")):
        row(
            f"{title}, median (ms)",
            lambda r, k=kind: verdict(r[k]["median"], MEDIAN_TARGET_MS),
            "< 5",
        )
        row(f"{title}, p99 (ms)", lambda r, k=kind: verdict(r[k]["p99"], P99_TARGET_MS), "< 50")
        row(f"{title}, samples", lambda r, k=kind: str(r[k]["count"]))
    row(
        f"fan-out: clients with every message (of {FAN_OUT_CLIENTS})",
        lambda r: str(r["fan_out"]["complete"]),
        str(FAN_OUT_CLIENTS),
    )
    row("fan-out: group messages per client", lambda r: str(r["fan_out"]["messages"]))
    row("fan-out: messages dropped", lambda r: str(r["fan_out"]["dropped"]), "0")
    row(
        "fan-out: ping-all cells received / total (reachable)",
        lambda r: f"{r['fan_out']['cells']}/{r['fan_out']['total']} ({r['fan_out']['reachable']})",
    )
    row("worker RSS, idle, no lab (MiB)", lambda r: f"{r['monitors']['idle']['rss_mib']:.1f}")
    row(
        f"worker RSS, {MONITORED_NAMESPACES} monitors (MiB)",
        lambda r: f"{r['monitors']['loaded']['rss_mib']:.1f}",
    )
    row(
        "worker CPU, idle, no lab (% of a core)",
        lambda r: f"{r['monitors']['idle']['cpu_percent']:.2f}",
    )
    row(
        f"worker CPU, idle, {MONITORED_NAMESPACES} monitors (% of a core)",
        lambda r: f"{r['monitors']['loaded']['cpu_percent']:.2f}",
    )
    row(
        f"deploy of {MONITORED_NAMESPACES} namespaces over the websocket (s)",
        lambda r: f"{r['monitors']['deploy_s']:.1f}",
    )
    lines += [
        "",
        "Neighbour latency: from just before the netlink request adding a permanent entry to "
        "the arrival of the `neighbours` message holding it; samples 0.1 s apart, past the "
        "worker's 75 ms rate limit of one namespace's tables (a change is published at once, "
        "then a burst at most once per 75 ms). Ping latency: from the echo "
        "reply's arrival on red's interface (a packet socket beside the probe's) to its "
        "`ping.reply` message. CPU and RSS: the worker's process (for embedded, the one "
        f"process) over {IDLE_SECONDS:.0f} s idle.",
    ]
    if any(r["web_as_root"] for r in results.values()):
        lines.append(f"In this run daphne ran as root: {web_user_problem()}.")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=200, help="neighbour entries per layout")
    parser.add_argument("--pings", type=int, default=100, help="echo requests per layout (≤100)")
    parser.add_argument("--layouts", default="embedded,redis")
    options = parser.parse_args()
    problem = missing_requirements()
    if problem:
        sys.exit(f"bench_live: {problem}")
    import django

    django.setup()
    results = {
        name: asyncio.run(run_layout(name == "embedded", options.samples, options.pings))
        for name in options.layouts.split(",")
    }
    table = report(results)
    ARTIFACT.parent.mkdir(exist_ok=True)
    ARTIFACT.write_text(table)
    print(table)


if __name__ == "__main__":
    main()
