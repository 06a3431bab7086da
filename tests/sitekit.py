"""Two sites on one machine: two network namespaces the test makes, each a "machine" with
its own underlay address on a veth between them (10.255.N.1 and .2/24, a range only these
namespaces hold). Nothing here touches this machine's own interfaces or addresses.

A site's worker (or engine) runs inside its namespace; the lab namespaces it makes are
named under /run/netns as usual, and a tunnel's UDP socket stays in the site's namespace.
Deleting a site's namespace also removes every VXLAN device whose socket is there.
"""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from netlab.kernel import namespaces


@dataclass(frozen=True)
class Site:
    name: str  # the site's name (a, b)
    netns: str  # the namespace that plays its machine
    underlay: str  # its address on the underlay veth


def _ip(*words: str) -> None:
    subprocess.run(["ip", *words], check=True, capture_output=True)


@contextmanager
def two_sites(prefix: str) -> Iterator[tuple[Site, Site]]:
    """Make sites ``a`` and ``b`` (namespaces ``PREFIX``sa and ``PREFIX``sb), joined; remove
    both at the end, pass or fail."""
    subnet = 1 + secrets.randbelow(250)
    a = Site("a", f"{prefix}sa", f"10.255.{subnet}.1")
    b = Site("b", f"{prefix}sb", f"10.255.{subnet}.2")
    made: list[str] = []
    try:
        for site in (a, b):
            _ip("netns", "add", site.netns)
            made.append(site.netns)
        _ip("-n", a.netns, "link", "add", "underlay", "type", "veth", "peer", "name",
            "underlay", "netns", b.netns)  # fmt: skip
        for site in (a, b):
            _ip("-n", site.netns, "addr", "add", f"{site.underlay}/24", "dev", "underlay")
            _ip("-n", site.netns, "link", "set", "underlay", "up")
            _ip("-n", site.netns, "link", "set", "lo", "up")
        yield a, b
    finally:
        for name in made:
            namespaces.remove(name)
