"""The benchmark's Mininet anchor: build a netlab design with Mininet, tear it down, time both.

Run by ``netlab.bench`` as ``unshare --net --mount -- /usr/bin/python3 netlab/mininet_anchor.py
DESIGN.json RUNS`` (Debian's ``mininet`` package is for the system's Python, not netlab's
virtualenv), so the switches and links Mininet makes in its "root" namespace are made in a
namespace thrown away with the process, and its hosts are namespaces of their own. This
file imports nothing of netlab.

The design's namespaces and host become Mininet hosts, its bridges Linux bridges
(``LinuxBridge``: no Open vSwitch, no controller), its links Mininet links with the design's
interface names (a bridge's ports keep Mininet's), and a bridge's own addresses are left
out (no host holds them); addresses, forwarding and routes are set with the same ``ip`` and
``sysctl`` commands in each host's shell, as a Mininet script would. Prints one JSON line:
the medians of ``deploy`` (build and start to the last command answered) and ``destroy``
(``stop``) in seconds.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from typing import Any

from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.nodelib import LinuxBridge

NAMESPACE_KINDS = ("host", "namespace")


def build(design: dict[str, Any]) -> tuple[Mininet, list[tuple[Any, str]]]:
    """The design as a Mininet network (not started) and the commands each host runs."""
    # Mininet's init raises machine-wide limits (fs.file-max, kernel.pty.max...): not
    # ours to change, and not needed for these labs.
    Mininet.inited = True
    net = Mininet(topo=None, switch=LinuxBridge, controller=None, build=False, waitConnected=False)
    nodes: dict[str, Any] = {}
    commands: list[tuple[Any, str]] = []
    for index, node in enumerate(design["nodes"]):
        if node["kind"] in NAMESPACE_KINDS:
            host = nodes[node["id"]] = net.addHost(f"h{index}", ip=None)
            if node.get("forwarding"):
                commands.append((host, "sysctl -qw net.ipv4.ip_forward=1"))
            for route in node.get("routes", []):
                commands.append((host, f"ip route add {route['to']} via {route['via']}"))
        elif node["kind"] == "bridge":
            nodes[node["id"]] = net.addSwitch(f"s{index}", failMode="standalone")
    for link in design["links"]:
        (a, b) = link["endpoints"]
        # A bridge's ports keep Mininet's names (s1-eth1): LinuxBridge enslaves only the
        # interfaces named after it.
        names = {
            f"intfName{number}": end["interface"]
            for number, end in ((1, a), (2, b))
            if nodes[end["node"]] in net.hosts
        }
        net.addLink(nodes[a["node"]], nodes[b["node"]], **names)
        for end in (a, b):
            for address in end.get("addresses", []):
                owner = nodes[end["node"]]
                if owner in net.hosts:
                    commands.insert(0, (owner, f"ip addr add {address} dev {end['interface']}"))
    return net, commands


def run(design: dict[str, Any]) -> tuple[float, float]:
    started = time.perf_counter()
    net, commands = build(design)
    net.build()
    net.start()
    for host, command in commands:
        host.cmd(command)
    deployed = time.perf_counter() - started
    started = time.perf_counter()
    net.stop()
    return deployed, time.perf_counter() - started


def main() -> None:
    setLogLevel("error")
    with open(sys.argv[1]) as source:
        design = json.load(source)
    times = [run(design) for _ in range(int(sys.argv[2]))]
    print(
        json.dumps(
            {
                "deploy": statistics.median(deploy for deploy, _ in times),
                "destroy": statistics.median(destroy for _, destroy in times),
            }
        )
    )


if __name__ == "__main__":
    main()
