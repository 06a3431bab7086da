"""What every probe shares: its target parsed, its zone resolved, its socket made inside a
namespace (a socket stays in the namespace it was made in; the calling thread never moves)."""

from __future__ import annotations

import errno
import ipaddress
import socket
from collections.abc import Callable
from typing import TypeVar

from netlab.kernel import namespaces

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
T = TypeVar("T")


class ProbeError(ValueError):
    """A probe was asked something it cannot do (bad address, count, interval...)."""


def parse_address(text: str) -> tuple[IPAddress, str | None]:
    """Return the address and its zone (``fe80::1%eth0``) or raise ProbeError."""
    address, _, zone = text.partition("%")
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        raise ProbeError(f"{text!r} is not an IP address (probes never resolve names)") from None
    if zone and parsed.version == 4:
        raise ProbeError(f"{text!r}: a zone applies only to IPv6 addresses")
    return parsed, zone or None


def zone_index(netns: str, zone: str | None) -> int:
    """Return the index of interface ``zone`` (0 for none); call it inside ``netns``."""
    if not zone:
        return 0
    try:
        # Interface names are per namespace: resolve the zone inside it.
        return socket.if_nametoindex(zone)
    except (OSError, ValueError):  # no such interface, or a name with a NUL in it
        raise ProbeError(f"no interface {zone!r} in namespace {netns}") from None


def inside(netns: str, make: Callable[[], T]) -> T:
    """Run ``make`` inside ``netns``; a missing namespace raises a FileNotFoundError naming it."""
    try:
        return namespaces.run_inside(netns, make)
    except FileNotFoundError:
        raise FileNotFoundError(
            errno.ENOENT, f"namespace {netns} does not exist (deleted outside netlab?)"
        ) from None
