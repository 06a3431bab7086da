"""Removing a deployment's kernel objects, and waiting until the kernel really let them go.

Deleting a namespace (unmounting its name) returns at once; the kernel tears it down later
in a work queue (35-300 ms), and any socket, fd or process inside keeps it alive. To know
when it is really gone, a throw-away *watcher* namespace gives each doomed namespace an id
(RTM_NEWNSID) and listens for RTM_DELNSID, which the kernel sends when it starts cleaning a
namespace up. That event comes before the devices are gone, so a second, empty *sentinel*
namespace is released once every DELNSID has arrived: the kernel's cleanup queue is ordered,
so the sentinel's DELNSID proves the whole earlier batch finished (devices unregistered,
memory freed).

Only marked objects are removed: a namespace whose loopback does not carry the deployment's
mark, or a root link without it, is left alone whatever its name.
"""

from __future__ import annotations

import errno
import functools
import os
import select
import struct
import time
from dataclasses import dataclass, field

from netlab.core import names
from netlab.kernel import namespaces, nftables, responder, sysctl
from netlab.kernel.rtnl import (
    NETLINK_ADD_MEMBERSHIP,
    SOL_NETLINK,
    NetlinkFailure,
    RouteSocket,
    attr,
)

RTNLGRP_NSID = 28
RTM_NEWNSID = 88
RTM_DELNSID = 89
NETNSA_NSID = 1
NETNSA_FD = 3
NLM_F_REQUEST = 1
NLM_F_ACK = 4
SETTLE_TIMEOUT = 5.0


@dataclass
class Report:
    """What a teardown did: removed and refused (unmarked) objects, and whether it settled."""

    removed_namespaces: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    removed_root_links: list[str] = field(default_factory=list)
    settled: bool = True
    lingering: list[str] = field(default_factory=list)


def is_marked(netns: str, tag: str) -> bool:
    """Tell whether namespace ``netns`` exists and its loopback carries ``tag``'s mark."""
    try:
        fd = os.open(namespaces.path_of(netns), os.O_RDONLY)  # no O_CREAT: never make one
    except FileNotFoundError:
        return False

    def read() -> bool:
        namespaces.enter_here(fd)
        with RouteSocket() as sock:
            return sock.alias(1) == names.ownership_mark(tag)

    try:
        return namespaces.in_thread(read)
    except OSError:
        return False  # not a namespace (a plain file with that name)
    finally:
        os.close(fd)


def remove_root_objects(
    tag: str,
    *,
    links: list[str],
    table: str | None,
    sysctls: dict[str, str],
    check_marks: bool,
    report: Report,
) -> None:
    """Undo what a host-mode deployment did in the calling thread's (root) namespace."""
    if table is not None:
        namespaces.run_inside(None, lambda: nftables.delete_table(table))
    for path, value in sysctls.items():
        namespaces.run_inside(None, functools.partial(sysctl.write, path, value))
    mark = names.ownership_mark(tag)
    with RouteSocket() as sock:
        for name in reversed(links):
            link = sock.link(name=name)
            if link is None:
                continue  # gone, or went with its veth peer
            if check_marks and attr(link, "IFLA_IFALIAS") != mark:
                report.refused.append(name)
                continue
            try:
                sock.delete_link(link["index"])
            except NetlinkFailure as error:
                if error.errno != errno.ENODEV:
                    raise
            report.removed_root_links.append(name)


def stop_responder(record: dict[str, int] | None) -> None:
    """Stop the journaled responder (its sockets keep namespaces alive); fine if gone."""
    if record:
        responder.stop(record["pid"], record["started_at"])


def remove_namespaces(
    netns_names: list[str],
    tag: str,
    *,
    check_marks: bool,
    wait: bool,
    report: Report,
    timeout: float = SETTLE_TIMEOUT,
) -> None:
    """Remove the given namespaces (only marked ones if ``check_marks``) and, if ``wait``,
    return once the kernel has finished tearing them down (or ``timeout`` passed: then
    ``report.settled`` is False and ``report.lingering`` names those still held alive)."""
    mark = names.ownership_mark(tag)

    def work() -> None:
        # The sentinel is made first, while the kernel is not yet cleaning up this batch:
        # made after, its creation waited for that cleanup (up to 50 ms for 200 namespaces).
        # What proves the batch gone is when it is released, not when it was made.
        sentinel_fd: int | None = None
        if wait:
            namespaces.unshare_here()
            sentinel_fd = namespaces.current_fd()
        namespaces.unshare_here()  # the watcher: unnamed, gone when this thread and its socket are
        watcher_fd = namespaces.current_fd()
        watcher = _Watcher() if wait else None
        try:
            ids: dict[int, str] = {}
            doomed = []
            for name in netns_names:
                if not namespaces.exists(name):
                    continue
                if not namespaces.is_mounted(name):
                    namespaces.remove(name)  # a name left half-made by a killed deploy
                    continue
                fd = os.open(namespaces.path_of(name), os.O_RDONLY)
                try:
                    if check_marks:
                        namespaces.enter_here(fd)
                        with RouteSocket() as sock:
                            loopback_mark = sock.alias(1)
                        if loopback_mark != mark:
                            report.refused.append(name)
                            continue
                    if watcher is not None:
                        ids[watcher.assign(fd)] = name
                    doomed.append(name)
                finally:
                    os.close(fd)
            # Leave the last namespace visited: this thread would keep it alive.
            namespaces.enter_here(watcher_fd)
            for name in doomed:
                namespaces.remove(name)
                report.removed_namespaces.append(name)
            if watcher is None:
                return
            deadline = time.monotonic() + timeout
            watcher.wait_deleted(set(ids), deadline)
            if watcher.pending:
                report.settled = False
                report.lingering = sorted(ids[i] for i in watcher.pending)
                return
            if ids and sentinel_fd is not None:
                sentinel = watcher.assign(sentinel_fd)
                os.close(sentinel_fd)
                sentinel_fd = None
                watcher.wait_deleted({sentinel}, deadline)
                report.settled = not watcher.pending
        finally:
            if watcher is not None:
                watcher.close()
            os.close(watcher_fd)
            if sentinel_fd is not None:
                os.close(sentinel_fd)

    namespaces.in_thread(work)


class _Watcher:
    """A socket in the watcher namespace, listening for namespace ids being deleted."""

    def __init__(self) -> None:
        self.route = RouteSocket()
        self.route.enlarge()
        self.route.sock.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, RTNLGRP_NSID)
        self.deleted: set[int] = set()
        self.pending: set[int] = set()
        self.sequence = 0

    def close(self) -> None:
        self.route.close()

    def assign(self, fd: int) -> int:
        """Give the namespace open as ``fd`` an id in the watcher namespace; return it."""
        self.sequence += 1
        attributes = struct.pack("=HHi", 8, NETNSA_NSID, -1) + struct.pack("=HHI", 8, NETNSA_FD, fd)
        body = struct.pack("=Bxxx", 0) + attributes
        header = struct.pack(
            "=IHHII", 16 + len(body), RTM_NEWNSID, NLM_F_REQUEST | NLM_F_ACK, self.sequence, 0
        )
        self.route.sock.send(header + body)
        assigned: int | None = None
        while True:
            for kind, sequence, payload in self._messages(self.route.sock.recv(65536)):
                if kind == RTM_NEWNSID and sequence == self.sequence:
                    assigned = _nsid(payload)
                elif kind == RTM_DELNSID:
                    self.deleted.add(_nsid(payload))
                elif kind == 2 and sequence == self.sequence:  # NLMSG_ERROR: the ack
                    (code,) = struct.unpack_from("=i", payload)
                    if code:
                        raise NetlinkFailure(-code, f"RTM_NEWNSID: {os.strerror(-code)}")
                    if assigned is None:
                        raise NetlinkFailure(errno.EPROTO, "RTM_NEWNSID: no id announced")
                    return assigned

    def wait_deleted(self, ids: set[int], deadline: float) -> None:
        """Wait until every id in ``ids`` was deleted or ``deadline`` passed."""
        self.pending = ids - self.deleted
        while self.pending:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.route.sock], [], [], left)[0]:
                return
            for kind, _sequence, payload in self._messages(self.route.sock.recv(65536)):
                if kind == RTM_DELNSID:
                    self.deleted.add(_nsid(payload))
            self.pending = ids - self.deleted

    @staticmethod
    def _messages(data: bytes) -> list[tuple[int, int, bytes]]:
        found = []
        offset = 0
        while offset + 16 <= len(data):
            length, kind, _flags, sequence, _port = struct.unpack_from("=IHHII", data, offset)
            if length < 16:
                break
            found.append((kind, sequence, data[offset + 16 : offset + length]))
            offset += (length + 3) & ~3
        return found


def _nsid(payload: bytes) -> int:
    """The NETNSA_NSID attribute of an nsid message (after its 4-byte rtgenmsg)."""
    offset = 4
    while offset + 4 <= len(payload):
        size, kind = struct.unpack_from("=HH", payload, offset)
        if size < 4:
            break
        if kind == NETNSA_NSID:
            (value,) = struct.unpack_from("=i", payload, offset + 4)
            return int(value)
        offset += (size + 3) & ~3
    return -1
