"""The exported script (``netlab export --format sh``) builds the lab the engine builds: run
by bash, the kernel it leaves passes the engine's own check against the design.

The design is the tutorial's bridge, NAT and port forward with what this kernel supports of
the richer links: a link's MTU, a link set down, a rate limit (tbf), IPv6 addresses and a
route. What needs netem or 802.1Q runs in the guest (tests/kernel/test_guest_kernel.py).
"""

from __future__ import annotations

import subprocess

import pytest
from enginekit import Kit, requires_root
from factories import DELETE, changed, tutorial_data

from netlab.core import names
from netlab.core.plan import Naming, compile_plan, render_script
from netlab.core.validation import load
from netlab.kernel import state, teardown

pytestmark = [pytest.mark.kernel, requires_root]

RICH = changed(
    tutorial_data(4),
    {
        "nodes[3].services": DELETE,  # the web responder is netlab's own process
        "nodes[1].addresses": ["192.168.15.5/24", "fd00:15::5/64"],
        "nodes[3].routes[2]": {"to": "fd00:99::/64", "via": "fd00:15::5"},
        "links[0].mtu": 1400,
        "links[1].endpoints[0].addresses": ["192.168.15.2/24", "fd00:15::2/64"],
        "links[1].endpoints[0].impairment": {"rate_kbit": 8000},
        "links[2].up": False,
    },
)


def test_the_exported_script_builds_the_lab_the_engine_checks(kit: Kit) -> None:
    plan = compile_plan(load(RICH), Naming(names.new_tag(), kit.prefix))
    try:
        subprocess.run(
            ["bash"], input=render_script(plan), text=True, check=True, capture_output=True
        )
        assert state.check(plan) == []
    finally:
        report = teardown.Report()
        teardown.remove_namespaces(
            plan.created_namespaces(), plan.tag, check_marks=True, wait=True, report=report
        )
    assert report.settled
