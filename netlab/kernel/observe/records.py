"""What the observers read of a namespace, as iproute2 shows it: links, addresses, neighbours,
routes, a snapshot of them all, and the events that change them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

EventKind = Literal["link", "neighbour", "address", "route"]


@dataclass(frozen=True)
class Address:
    """An address of a link, as ``ip address`` shows it: ``10.0.0.1/24``."""

    address: str
    interface: str
    family: str
    scope: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Link:
    """A link (interface) of a namespace. ``state`` is the administrative state (up/down);
    ``operstate`` is the kernel's operational one (UP, DOWN, LOWERLAYERDOWN, UNKNOWN...)."""

    name: str
    index: int
    mac: str | None
    state: Literal["up", "down"]
    operstate: str
    mtu: int | None
    master: str | None
    kind: str | None
    addresses: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["addresses"] = list(self.addresses)
        return data


@dataclass(frozen=True)
class Neighbour:
    """An entry of the ARP (IPv4) or NDP (IPv6) table; ``state`` is REACHABLE, STALE..."""

    address: str
    mac: str | None
    interface: str
    state: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Route:
    """A route of the main table; ``to`` is ``default`` or a prefix."""

    to: str
    via: str | None
    dev: str | None
    family: str
    protocol: str
    scope: str
    type: str
    source: str | None = None
    metric: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Snapshot:
    """Everything the live panel shows of one namespace, read through one netlink socket."""

    netns: str
    links: tuple[Link, ...]
    neighbours: tuple[Neighbour, ...]
    routes: tuple[Route, ...]
    counters: dict[str, dict[str, int]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "netns": self.netns,
            "links": [link.as_dict() for link in self.links],
            "neighbours": [neighbour.as_dict() for neighbour in self.neighbours],
            "routes": [route.as_dict() for route in self.routes],
            "counters": self.counters,
        }


@dataclass(frozen=True)
class Event:
    """One change in a namespace: ``action`` is ``new`` or ``del`` of a link, neighbour,
    address or route. ``at`` is ``time.monotonic()`` when the event was decoded."""

    netns: str
    kind: EventKind
    action: Literal["new", "del"]
    data: Link | Neighbour | Address | Route
    at: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "netns": self.netns,
            "kind": self.kind,
            "action": self.action,
            "data": self.data.as_dict(),
        }
