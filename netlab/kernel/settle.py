"""Wait, after a build, until the kernel will speak IPv6 on the interfaces just addressed.

Measured here: a veth's carrier reaches the rest of the kernel through linkwatch, which runs
at most once a second; until then IPv6 has not joined the solicited-node group of the
interface's addresses (nor made its link-local one), so neighbour solicitations go
unanswered and the first IPv6 ping after a deploy took 1 s per segment (2 s across one
router; IPv4's ARP answered at once). ``nodad`` on the addresses is not enough. So a build
that added IPv6 addresses waits, at most :data:`TIMEOUT` seconds, until each of their
interfaces that is administratively up is operationally up (linkwatch has run for it);
the lab works either way, only later.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable

from netlab.core.plan import AddAddress, Step

TIMEOUT = 3.0
INTERVAL = 0.02


def ipv6_interfaces(steps: Iterable[Step]) -> dict[str, set[str]]:
    """Return ``{namespace: interfaces}`` that ``steps`` give an IPv6 address (in the lab's
    namespaces: host mode's own namespace is not waited for)."""
    found: dict[str, set[str]] = defaultdict(set)
    for step in steps:
        if isinstance(step, AddAddress) and step.netns is not None and ":" in step.address:
            found[step.netns].add(step.dev)
    return dict(found)


def wait_for_ipv6(steps: Iterable[Step], timeout: float = TIMEOUT) -> float:
    """Wait until the interfaces ``steps`` addressed with IPv6 are operationally up (those
    set down excepted); return the seconds waited. Gives up quietly after ``timeout``."""
    pending = ipv6_interfaces(steps)
    started = time.monotonic()
    if not pending:
        return 0.0
    from netlab.kernel import observe  # pyroute2's weight, only for a lab with IPv6

    while pending and time.monotonic() - started < timeout:
        for netns in list(pending):
            try:
                links = observe.links(netns)
            except FileNotFoundError:  # gone meanwhile: nothing to wait for
                links = []
            ready = {link.name for link in links if link.state == "down" or link.operstate == "UP"}
            known = {link.name for link in links}
            pending[netns] -= ready | (pending[netns] - known)
            if not pending[netns]:
                del pending[netns]
        if pending:
            time.sleep(INTERVAL)
    return time.monotonic() - started
