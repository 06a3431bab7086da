"""Interface counters of a namespace through a netlink socket kept open in it.

A page watching a running lab gets its counters about once a second. Reading them with a
link dump means entering the namespace in a thread, opening a socket and decoding every
link attribute: for 200 namespaces a second that was a third of a core. A ``StatsSocket``
is made in the namespace once and asks for ``RTM_GETSTATS`` with only the 64-bit link
counters: no thread, no namespace switch, and a reply of fixed structs parsed here with
``struct`` (pyroute2's decoder is the expensive part of a dump).
"""

from __future__ import annotations

import itertools
import socket
import struct

from netlab.kernel import namespaces

NETLINK_ROUTE = 0
RTM_NEWSTATS = 92
RTM_GETSTATS = 94
NLM_F_REQUEST = 0x1
NLM_F_DUMP = 0x300
NLMSG_ERROR = 2
NLMSG_DONE = 3
IFLA_STATS_LINK_64 = 1

_HEADER = struct.Struct("=IHHII")  # nlmsghdr: length, type, flags, sequence, port
_STATS_MESSAGE = struct.Struct("=BBHII")  # if_stats_msg: family, pads, ifindex, filter
_ATTRIBUTE = struct.Struct("=HH")  # rtattr: length, type
_LINK_STATS = struct.Struct("=4Q")  # rtnl_link_stats64 begins rx/tx packets, rx/tx bytes
_FILTER = 1 << (IFLA_STATS_LINK_64 - 1)
RECEIVE_BYTES = 1 << 16


def _align(length: int) -> int:
    return (length + 3) & ~3


class StatsSocket:
    """A netlink socket in namespace ``netns`` (made there, then used from any thread) that
    reads every interface's counters by index. It keeps the namespace alive: close it."""

    def __init__(self, netns: str) -> None:
        def make() -> socket.socket:
            sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
            try:
                sock.bind((0, 0))
            except BaseException:
                sock.close()
                raise
            return sock

        self.socket = namespaces.run_inside(netns, make)
        # A dump is answered as it is asked; the timeout only guards a kernel that would not.
        self.socket.settimeout(1.0)
        self._sequence = itertools.count(1)

    def close(self) -> None:
        self.socket.close()

    def read(self) -> dict[int, dict[str, int]]:
        """Return ``{ifindex: {rx_bytes, tx_bytes, rx_packets, tx_packets}}``."""
        sequence = next(self._sequence)
        body = _STATS_MESSAGE.pack(socket.AF_UNSPEC, 0, 0, 0, _FILTER)
        header = _HEADER.pack(
            _HEADER.size + len(body), RTM_GETSTATS, NLM_F_REQUEST | NLM_F_DUMP, sequence, 0
        )
        self.socket.send(header + body)
        found: dict[int, dict[str, int]] = {}
        while True:
            data = self.socket.recv(RECEIVE_BYTES)
            offset = 0
            while offset + _HEADER.size <= len(data):
                length, kind, _, answered, _ = _HEADER.unpack_from(data, offset)
                if length < _HEADER.size:
                    raise OSError("a malformed netlink reply")
                if answered == sequence:
                    if kind == NLMSG_DONE:
                        return found
                    if kind == NLMSG_ERROR:
                        (error,) = struct.unpack_from("=i", data, offset + _HEADER.size)
                        raise OSError(-error, "the kernel refused RTM_GETSTATS")
                    if kind == RTM_NEWSTATS:
                        self._parse(data, offset + _HEADER.size, offset + length, found)
                offset += _align(length)

    @staticmethod
    def _parse(data: bytes, start: int, end: int, found: dict[int, dict[str, int]]) -> None:
        _, _, _, index, _ = _STATS_MESSAGE.unpack_from(data, start)
        offset = start + _STATS_MESSAGE.size
        while offset + _ATTRIBUTE.size <= end:
            length, kind = _ATTRIBUTE.unpack_from(data, offset)
            if length < _ATTRIBUTE.size:
                return
            if kind == IFLA_STATS_LINK_64 and length >= _ATTRIBUTE.size + _LINK_STATS.size:
                rx_packets, tx_packets, rx_bytes, tx_bytes = _LINK_STATS.unpack_from(
                    data, offset + _ATTRIBUTE.size
                )
                found[index] = {
                    "rx_bytes": rx_bytes,
                    "tx_bytes": tx_bytes,
                    "rx_packets": rx_packets,
                    "tx_packets": tx_packets,
                }
            offset += _align(length)
