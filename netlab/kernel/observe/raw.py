"""A namespace's tables and counters through a plain netlink socket kept open in it, parsed
with ``struct``.

A page watching a running lab wants its tables again after every burst of changes, and its
counters about once a second. pyroute2 decodes every attribute of every message into
objects: for a lab of 1000 namespaces that decoding was most of the worker's CPU. This
module asks the kernel for the same dumps (links, addresses, neighbours, routes; or only
the 64-bit link counters, ``RTM_GETSTATS``) and parses just the fields netlab shows into
plain dicts keyed as pyroute2's messages are (``ifname``, ``("linkinfo", "kind")``,
``dst``...), so :mod:`.decode` reads both. ``tests/kernel/test_observe.py`` checks the two
agree on real namespaces.
"""

from __future__ import annotations

import itertools
import socket
import struct
from collections.abc import Callable, Iterator
from typing import Any

NETLINK_ROUTE = 0
NLM_F_REQUEST = 0x1
NLM_F_DUMP = 0x300
NLMSG_ERROR = 2
NLMSG_DONE = 3
RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK = 16, 17, 18
RTM_NEWADDR, RTM_DELADDR, RTM_GETADDR = 20, 21, 22
RTM_NEWROUTE, RTM_DELROUTE, RTM_GETROUTE = 24, 25, 26
RTM_NEWNEIGH, RTM_DELNEIGH, RTM_GETNEIGH = 28, 29, 30
RTM_NEWSTATS, RTM_GETSTATS = 92, 94
IFLA_STATS_LINK_64 = 1
OPERSTATES = ("UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP")
RECEIVE_BYTES = 1 << 16

_HEADER = struct.Struct("=IHHII")  # nlmsghdr: length, type, flags, sequence, port
_ATTRIBUTE = struct.Struct("=HH")  # rtattr: length, type
_IFINFO = struct.Struct("=BxHiII")  # family, type, index, flags, change
_IFADDR = struct.Struct("=BBBBI")  # family, prefixlen, flags, scope, index
_ND = struct.Struct("=BxxxiHBB")  # family, ifindex, state, flags, type
_RT = struct.Struct("=BBBBBBBBI")  # family, dst_len, src_len, tos, table, proto, scope, type
_NEXTHOP = struct.Struct("=HBBi")  # rtnexthop: length, flags, hops, ifindex
_STATS_MESSAGE = struct.Struct("=BBHII")  # if_stats_msg: family, pads, ifindex, filter
_FOUR_COUNTERS = struct.Struct("=4Q")  # rtnl_link_stats64 begins rx/tx packets, rx/tx bytes
_U32 = struct.Struct("=I")
_STATS_FILTER = 1 << (IFLA_STATS_LINK_64 - 1)


def _align(length: int) -> int:
    return (length + 3) & ~3


def _attributes(data: bytes, start: int, end: int) -> Iterator[tuple[int, bytes]]:
    """``(type, payload)`` of each attribute in ``data[start:end]`` (nested flag cleared)."""
    while start + _ATTRIBUTE.size <= end:
        length, kind = _ATTRIBUTE.unpack_from(data, start)
        if length < _ATTRIBUTE.size:
            return
        yield kind & 0x3FFF, data[start + _ATTRIBUTE.size : start + length]
        start += _align(length)


def _text(payload: bytes) -> str:
    return payload.split(b"\0", 1)[0].decode(errors="replace")


def _mac(payload: bytes) -> str:
    return ":".join(f"{byte:02x}" for byte in payload)


def _ip(family: int, payload: bytes) -> str:
    return socket.inet_ntop(family, payload)


def _counters(payload: bytes) -> dict[str, int]:
    rx_packets, tx_packets, rx_bytes, tx_bytes = _FOUR_COUNTERS.unpack_from(payload)
    return {
        "rx_packets": rx_packets,
        "tx_packets": tx_packets,
        "rx_bytes": rx_bytes,
        "tx_bytes": tx_bytes,
    }


def link(data: bytes, start: int, end: int) -> dict[Any, Any]:
    """An ``RTM_NEWLINK`` body as the link fields :func:`.decode.link` reads."""
    _, _, index, flags, _ = _IFINFO.unpack_from(data, start)
    message: dict[Any, Any] = {"index": index, "flags": flags}
    for kind, payload in _attributes(data, start + _IFINFO.size, end):
        if kind == 1:  # IFLA_ADDRESS
            message["address"] = _mac(payload)
        elif kind == 3:  # IFLA_IFNAME
            message["ifname"] = _text(payload)
        elif kind == 4:  # IFLA_MTU
            message["mtu"] = _U32.unpack_from(payload)[0]
        elif kind == 10:  # IFLA_MASTER
            message["master"] = _U32.unpack_from(payload)[0]
        elif kind == 16:  # IFLA_OPERSTATE
            message["operstate"] = OPERSTATES[payload[0]] if payload[0] < 7 else str(payload[0])
        elif kind == 18:  # IFLA_LINKINFO
            for info, value in _attributes(payload, 0, len(payload)):
                if info == 1:  # IFLA_INFO_KIND
                    message[("linkinfo", "kind")] = _text(value)
        elif kind == 23:  # IFLA_STATS64
            message["stats64"] = _counters(payload)
    return message


def address(data: bytes, start: int, end: int) -> dict[str, Any]:
    """An ``RTM_NEWADDR`` body as the fields :func:`.decode.address` reads."""
    family, prefixlen, _, scope, index = _IFADDR.unpack_from(data, start)
    message: dict[str, Any] = {
        "family": family,
        "prefixlen": prefixlen,
        "scope": scope,
        "index": index,
    }
    for kind, payload in _attributes(data, start + _IFADDR.size, end):
        if kind == 1:  # IFA_ADDRESS
            message["address"] = _ip(family, payload)
    return message


def neighbour(data: bytes, start: int, end: int) -> dict[str, Any]:
    """An ``RTM_NEWNEIGH`` body as the fields :func:`.decode.neighbour` reads."""
    family, ifindex, state, _, _ = _ND.unpack_from(data, start)
    message: dict[str, Any] = {"family": family, "ifindex": ifindex, "state": state}
    for kind, payload in _attributes(data, start + _ND.size, end):
        if kind == 1 and family in (socket.AF_INET, socket.AF_INET6):  # NDA_DST
            message["dst"] = _ip(family, payload)
        elif kind == 2:  # NDA_LLADDR
            message["lladdr"] = _mac(payload)
    return message


def route(data: bytes, start: int, end: int) -> dict[str, Any]:
    """An ``RTM_NEWROUTE`` body as the fields :func:`.decode.route` reads (``table`` is the
    RTA_TABLE attribute when there is one, as pyroute2's ``get`` answers)."""
    family, dst_len, _, _, table, proto, scope, kind_, _ = _RT.unpack_from(data, start)
    message: dict[str, Any] = {
        "family": family,
        "dst_len": dst_len,
        "table": table,
        "proto": proto,
        "scope": scope,
        "type": kind_,
    }
    for kind, payload in _attributes(data, start + _RT.size, end):
        if kind == 1:  # RTA_DST
            message["dst"] = _ip(family, payload)
        elif kind == 4:  # RTA_OIF
            message["oif"] = _U32.unpack_from(payload)[0]
        elif kind == 5:  # RTA_GATEWAY
            message["gateway"] = _ip(family, payload)
        elif kind == 6:  # RTA_PRIORITY
            message["priority"] = _U32.unpack_from(payload)[0]
        elif kind == 7:  # RTA_PREFSRC
            message["prefsrc"] = _ip(family, payload)
        elif kind == 15:  # RTA_TABLE
            message["table"] = _U32.unpack_from(payload)[0]
        elif kind == 9:  # RTA_MULTIPATH
            message["multipath"] = list(_next_hops(family, payload))
    return message


def _next_hops(family: int, payload: bytes) -> Iterator[dict[str, Any]]:
    offset = 0
    while offset + _NEXTHOP.size <= len(payload):
        length, _, _, ifindex = _NEXTHOP.unpack_from(payload, offset)
        if length < _NEXTHOP.size:
            return
        hop: dict[str, Any] = {"oif": ifindex}
        for kind, value in _attributes(payload, offset + _NEXTHOP.size, offset + length):
            if kind == 5:  # RTA_GATEWAY
                hop["gateway"] = _ip(family, value)
        yield hop
        offset += _align(length)


def make_socket(groups: int = 0, receive_buffer: int = 0) -> socket.socket:
    """A NETLINK_ROUTE socket in the calling thread's namespace, bound to multicast
    ``groups`` (none: for requests only)."""
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
    try:
        if receive_buffer:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.bind((0, groups))
    except BaseException:
        sock.close()
        raise
    return sock


def messages(data: bytes) -> Iterator[tuple[int, int, int, int]]:
    """``(type, sequence, body start, end)`` of each netlink message in a datagram."""
    offset = 0
    while offset + _HEADER.size <= len(data):
        length, kind, _, sequence, _ = _HEADER.unpack_from(data, offset)
        if length < _HEADER.size:
            raise OSError("a malformed netlink message")
        yield kind, sequence, offset + _HEADER.size, offset + length
        offset += _align(length)


class RawSocket:
    """A netlink socket made in a namespace (:func:`make_socket`, in a thread there) and
    used from any thread or the loop: a dump is answered as it is asked. It keeps the
    namespace alive: close it."""

    def __init__(self, sock: socket.socket) -> None:
        self.socket = sock
        self.socket.settimeout(1.0)  # only guards a kernel that would not answer
        self._sequence = itertools.count(1)

    def close(self) -> None:
        self.socket.close()

    def _dump(
        self, request: int, body: bytes, answer: int, parse: Callable[[bytes, int, int], Any]
    ) -> list[Any]:
        sequence = next(self._sequence)
        header = _HEADER.pack(
            _HEADER.size + len(body), request, NLM_F_REQUEST | NLM_F_DUMP, sequence, 0
        )
        self.socket.send(header + body)
        found: list[Any] = []
        while True:
            data = self.socket.recv(RECEIVE_BYTES)
            for kind, answered, start, end in messages(data):
                if answered != sequence:
                    continue
                if kind == NLMSG_DONE:
                    return found
                if kind == NLMSG_ERROR:
                    (error,) = struct.unpack_from("=i", data, start)
                    if error:
                        raise OSError(-error, f"the kernel refused netlink request {request}")
                elif kind == answer:
                    found.append(parse(data, start, end))

    def links(self) -> list[dict[Any, Any]]:
        return self._dump(RTM_GETLINK, _IFINFO.pack(0, 0, 0, 0, 0), RTM_NEWLINK, link)

    def addresses(self) -> list[dict[str, Any]]:
        return self._dump(RTM_GETADDR, _IFADDR.pack(0, 0, 0, 0, 0), RTM_NEWADDR, address)

    def neighbours(self) -> list[dict[str, Any]]:
        return self._dump(RTM_GETNEIGH, _ND.pack(0, 0, 0, 0, 0), RTM_NEWNEIGH, neighbour)

    def routes(self) -> list[dict[str, Any]]:
        return self._dump(RTM_GETROUTE, _RT.pack(0, 0, 0, 0, 0, 0, 0, 0, 0), RTM_NEWROUTE, route)

    def counters(self) -> dict[int, dict[str, int]]:
        """``{ifindex: {rx_bytes, tx_bytes, rx_packets, tx_packets}}`` (``RTM_GETSTATS``)."""
        body = _STATS_MESSAGE.pack(socket.AF_UNSPEC, 0, 0, 0, _STATS_FILTER)
        return dict(self._dump(RTM_GETSTATS, body, RTM_NEWSTATS, _link_counters))


def _link_counters(data: bytes, start: int, end: int) -> tuple[int, dict[str, int]]:
    _, _, _, index, _ = _STATS_MESSAGE.unpack_from(data, start)
    for kind, payload in _attributes(data, start + _STATS_MESSAGE.size, end):
        if kind == IFLA_STATS_LINK_64:
            return index, _counters(payload)
    return index, _counters(bytes(_FOUR_COUNTERS.size))
