"""The synchronous readers: one namespace's links, neighbours, routes and counters, read
through an ``IPRoute`` opened inside it by a throw-away thread. Blocking: call them through
``asyncio.to_thread`` from async code."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from pyroute2 import IPRoute

from netlab.kernel import namespaces
from netlab.kernel.observe import decode
from netlab.kernel.observe.decode import MAIN_TABLE
from netlab.kernel.observe.records import Link, Neighbour, Route, Snapshot

T = TypeVar("T")


def _read(netns: str, work: Callable[[IPRoute], T]) -> T:
    """Run ``work`` with an IPRoute opened inside ``netns``; FileNotFoundError if it is gone."""

    def inside() -> T:
        with IPRoute() as ipr:
            return work(ipr)

    return namespaces.run_inside(netns, inside)


def _names(link_messages: Iterable[Any]) -> dict[int, str]:
    return {int(message["index"]): str(message.get("ifname")) for message in link_messages}


def _links(ipr: IPRoute) -> tuple[tuple[Link, ...], dict[int, str], list[Any]]:
    link_messages = list(ipr.get_links())
    names = _names(link_messages)
    by_index: dict[int, list[str]] = {}
    for message in ipr.get_addr():
        by_index.setdefault(int(message["index"]), []).append(
            decode.address(message, names).address
        )
    links = tuple(
        decode.link(message, names, tuple(by_index.get(int(message["index"]), ())))
        for message in link_messages
    )
    return links, names, link_messages


def _neighbours(ipr: IPRoute, names: dict[int, str]) -> tuple[Neighbour, ...]:
    return tuple(
        decode.neighbour(message, names)
        for message in ipr.get_neighbours()
        if decode.shown_neighbour(message)
    )


def _routes(ipr: IPRoute, names: dict[int, str]) -> tuple[Route, ...]:
    return tuple(
        decode.route(message, names)
        for message in ipr.get_routes(table=MAIN_TABLE)
        if decode.route_table(message) == MAIN_TABLE
    )


def links(netns: str) -> list[Link]:
    """Return the links of ``netns`` with their addresses, in index order."""
    return list(_read(netns, lambda ipr: _links(ipr)[0]))


def neighbours(netns: str) -> list[Neighbour]:
    """Return the ARP and NDP tables of ``netns`` as ``ip neigh show`` does (no NOARP)."""
    return list(_read(netns, lambda ipr: _neighbours(ipr, _names(ipr.get_links()))))


def routes(netns: str) -> list[Route]:
    """Return the routes of the main table of ``netns``, IPv4 then IPv6."""
    return list(_read(netns, lambda ipr: _routes(ipr, _names(ipr.get_links()))))


def counters(netns: str) -> dict[str, dict[str, int]]:
    """Return ``{interface: {rx_bytes, tx_bytes, rx_packets, tx_packets}}`` for ``netns``."""
    return _read(
        netns,
        lambda ipr: {
            str(message.get("ifname")): decode.counters(message) for message in ipr.get_links()
        },
    )


def snapshot(netns: str) -> Snapshot:
    """Return links, neighbours, routes and counters of ``netns`` in one visit."""

    def work(ipr: IPRoute) -> Snapshot:
        found, names, link_messages = _links(ipr)
        return Snapshot(
            netns=netns,
            links=found,
            neighbours=_neighbours(ipr, names),
            routes=_routes(ipr, names),
            counters={
                str(message.get("ifname")): decode.counters(message) for message in link_messages
            },
        )

    return _read(netns, work)
