"""Imported labs run: the seed's commands, imported, deploy and pass the tutorial's own pings;
a containerlab topology's lab reaches what its exec lines route to; an export read back
deploys the same lab. Packets go only between the namespaces each test deployed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from enginekit import Kit, requires_root, tutorial

from netlab.core import interop
from netlab.core.commands import Diagnostic, parse
from netlab.core.interop import containerlab, script
from netlab.core.validation import load
from netlab.kernel import engine
from netlab.kernel.probes import ping_all

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from test_import_containerlab import ROUTERS
from test_import_script import SEED

pytestmark = [pytest.mark.kernel, requires_root]


def reached(
    kit: Kit, data: dict[str, object], pings: list[tuple[str, str]]
) -> dict[tuple[str, str], bool]:
    """Deploy ``data``, ping each (node, address), check the kernel against the design."""
    design = load(data)
    record = kit.deploy(design)
    try:
        assert engine.check(design, record) == []
        targets = {node: netns for node, netns in record.namespaces.items() if netns}
        found = {}
        for source, address in pings:
            matrix = ping_all({source: targets[source]}, {address: "?"}, count=2, timeout=1.0)
            found[(source, address)] = matrix.cells[0].reachable
        return found
    finally:
        kit.destroy(record)


def the_seeds_pings() -> list[tuple[str, str]]:
    """The pings the seed writes (``ip netns exec NODE ping ADDRESS``) to its own lab's
    addresses (192.168.1.3 is the reader's LAN, not in the lab)."""
    pings = []
    for _, line in script.lines(SEED):
        words = line.split()
        if words[:3] == ["ip", "netns", "exec"] and words[4:5] == ["ping"]:
            found = parse(" ".join(words[4:]))
            assert isinstance(found, Diagnostic)
            if found.argv[-1].startswith("192.168.15."):
                pings.append((words[3], found.argv[-1]))
    return pings


def test_the_seeds_commands_import_deploy_and_pass_the_tutorials_pings(kit: Kit) -> None:
    translation = interop.read(SEED, "namespace-networking-tutorial.zh.txt")
    pings = the_seeds_pings()
    assert pings == [("red", "192.168.15.2")]
    # and what the tutorial says once the bridge has its address: the host reaches both
    pings += [("host", "192.168.15.1"), ("host", "192.168.15.2"), ("blue", "192.168.15.5")]
    assert reached(kit, translation.data, pings) == dict.fromkeys(pings, True)


def test_a_containerlab_lab_reaches_what_its_exec_lines_route_to(kit: Kit) -> None:
    translation = interop.read(ROUTERS, "two-sites.clab.yml")
    pings = [("h1", "10.1.0.1"), ("h1", "10.0.0.2"), ("r2", "10.1.0.10"), ("h2", "10.0.0.2")]
    # h2's router end has no address in the topology: h2 reaches nothing
    assert reached(kit, translation.data, pings) == {
        ("h1", "10.1.0.1"): True,
        ("h1", "10.0.0.2"): True,
        ("r2", "10.1.0.10"): True,
        ("h2", "10.0.0.2"): False,
    }


def test_an_export_read_back_deploys_the_same_lab(kit: Kit) -> None:
    original = tutorial(2)
    back = interop.read(containerlab.write(original), "tutorial.clab.yml")
    pings = [("red", "192.168.15.2"), ("blue", "192.168.15.5"), ("host", "192.168.15.1")]
    assert reached(kit, back.data, pings) == dict.fromkeys(pings, True)
