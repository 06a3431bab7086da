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


def _links_of(
    link_messages: list[Any], address_messages: Iterable[Any], names: dict[int, str]
) -> tuple[Link, ...]:
    by_index: dict[int, list[str]] = {}
    for message in address_messages:
        by_index.setdefault(int(message["index"]), []).append(
            decode.address(message, names).address
        )
    return tuple(
        decode.link(message, names, tuple(by_index.get(int(message["index"]), ())))
        for message in link_messages
    )


def _neighbours_of(messages: Iterable[Any], names: dict[int, str]) -> tuple[Neighbour, ...]:
    return tuple(
        decode.neighbour(message, names) for message in messages if decode.shown_neighbour(message)
    )


def _routes_of(messages: Iterable[Any], names: dict[int, str]) -> tuple[Route, ...]:
    return tuple(
        decode.route(message, names)
        for message in messages
        if decode.route_table(message) == MAIN_TABLE
    )


def links(netns: str) -> list[Link]:
    """Return the links of ``netns`` with their addresses, in index order."""

    def work(ipr: IPRoute) -> tuple[Link, ...]:
        link_messages = list(ipr.get_links())
        return _links_of(link_messages, ipr.get_addr(), _names(link_messages))

    return list(_read(netns, work))


def neighbours(netns: str) -> list[Neighbour]:
    """Return the ARP and NDP tables of ``netns`` as ``ip neigh show`` does (no NOARP)."""
    return list(
        _read(netns, lambda ipr: _neighbours_of(ipr.get_neighbours(), _names(ipr.get_links())))
    )


def routes(netns: str) -> list[Route]:
    """Return the routes of the main table of ``netns``, IPv4 then IPv6."""
    return list(
        _read(
            netns, lambda ipr: _routes_of(ipr.get_routes(table=MAIN_TABLE), _names(ipr.get_links()))
        )
    )


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
        return snapshot_of(
            netns,
            list(ipr.get_links()),
            list(ipr.get_addr()),
            list(ipr.get_neighbours()),
            list(ipr.get_routes(table=MAIN_TABLE)),
        )

    return _read(netns, work)


def snapshot_of(
    netns: str,
    link_messages: list[Any],
    address_messages: list[Any],
    neighbour_messages: list[Any],
    route_messages: list[Any],
) -> Snapshot:
    """Decode the four dumps of ``netns`` (read by any socket in it) into a snapshot."""
    names = _names(link_messages)
    return Snapshot(
        netns=netns,
        links=_links_of(link_messages, address_messages, names),
        neighbours=_neighbours_of(neighbour_messages, names),
        routes=_routes_of(route_messages, names),
        counters={
            str(message.get("ifname")): decode.counters(message) for message in link_messages
        },
    )
