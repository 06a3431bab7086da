"""Applying a plan to the kernel: fast, journaled, and all-or-nothing.

How it is fast: the whole plan runs in one throw-away worker thread that
creates each namespace with ``unshare`` (no fork) and opens one rtnetlink socket inside it;
every later request to that namespace goes through its socket, from whatever namespace the
thread is in. Veths are created with their peer already in the target namespace (moving a
device costs an RCU grace period, ~20 ms), with master and up in the same request. Indexes
are chosen by the driver in namespaces it created, so no request waits for a lookup.

How it is safe: the journal lists everything the plan may create before the first change;
each namespace's loopback is marked before the namespace gets its name; a failure at any
step (or an injected one, for tests) unwinds everything this run created, in reverse, and
raises :class:`ApplyError` naming the step and the kernel's reason.
"""

from __future__ import annotations

import errno
import functools
import os
import time
from dataclasses import dataclass, field

from netlab.core import addressing, names
from netlab.core.engine import PrivilegeError, StepCallback, StepReport
from netlab.core.plan import (
    AddAddress,
    AddBridge,
    AddBridgeVlan,
    AddNamespace,
    AddRoute,
    AddVeth,
    AddVlanLink,
    AddVxlan,
    ApplyNftables,
    DeleteBridgeVlan,
    Plan,
    SetLinkState,
    SetLinkUp,
    SetMtu,
    SetQdisc,
    SetSysctl,
    SetVlanFiltering,
    StartServices,
    Step,
)
from netlab.core.sites import VXLAN_PORT
from netlab.kernel import journal, namespaces, nftables, qdisc, responder, sysctl, teardown
from netlab.kernel.rtnl import RouteSocket

CAP_NET_ADMIN = 12
CAP_SYS_ADMIN = 21  # mount and setns, for named namespaces


class ApplyError(RuntimeError):
    """A step failed; everything the run had created was removed again (``rolled_back``)."""

    def __init__(self, index: int, total: int, step: Step, reason: str) -> None:
        self.index = index
        self.total = total
        self.step = step
        self.reason = reason
        self.rolled_back = False
        command = step.shell[0].splitlines()[0] if step.shell else ""
        super().__init__(
            f"step {index}/{total} failed ({step.description}): {reason}"
            + (f" [{command}]" if command else "")
        )


class RefusedError(RuntimeError):
    """The plan would touch an object netlab did not create (host mode): nothing was changed."""


@dataclass
class Applied:
    """What a successful apply made: the journal entry and the step timings."""

    entry: journal.Entry
    durations: list[float] = field(default_factory=list)
    seconds: float = 0.0


def require_privileges() -> None:
    """Raise :class:`PrivilegeError` unless the process has CAP_NET_ADMIN and CAP_SYS_ADMIN."""
    try:
        with open("/proc/self/status") as status:
            line = next(line for line in status if line.startswith("CapEff:"))
        effective = int(line.split()[1], 16)
    except (OSError, StopIteration, ValueError):
        effective = 0 if os.geteuid() else -1
    missing = [
        name
        for bit, name in ((CAP_NET_ADMIN, "CAP_NET_ADMIN"), (CAP_SYS_ADMIN, "CAP_SYS_ADMIN"))
        if not effective & (1 << bit)
    ]
    if missing:
        raise PrivilegeError(
            "deploying a lab needs root (missing " + " and ".join(missing) + "): run the "
            "netlab worker as root; nothing was changed"
        )


def apply(
    plan: Plan,
    *,
    state_dir: str | os.PathLike[str] = journal.DEFAULT_STATE_DIR,
    on_step: StepCallback | None = None,
    fail_after: int | None = None,
) -> Applied:
    """Build ``plan`` in the kernel; return what was made, or raise and leave nothing.

    ``on_step`` is called for every step's start and end, from the worker thread; keep it
    cheap and thread-safe. Raises :class:`PrivilegeError` before any change without the
    privileges, :class:`ApplyError` (after unwinding) when a step fails, ``FileExistsError``
    style failures included. ``fail_after`` is for tests only: after that many steps have
    succeeded, fail as if the next step had (0 fails before the first step).
    """
    require_privileges()
    return _Run(plan, state_dir, on_step, fail_after).run()


class _Run:
    def __init__(
        self,
        plan: Plan,
        state_dir: str | os.PathLike[str],
        on_step: StepCallback | None,
        fail_after: int | None,
    ) -> None:
        self.plan = plan
        self.steps = plan.steps  # a change runs other steps that end in ``plan``
        self.state_dir = state_dir
        self.on_step = on_step
        self.fail_after = fail_after
        self.mark = names.ownership_mark(plan.tag)
        self.sockets: dict[str | None, RouteSocket] = {}
        # The process's own namespace, the underlay's, where a tunnel's UDP socket lives.
        self.underlay: RouteSocket | None = None
        self.fds: dict[str | None, int] = {}
        self.indexes: dict[tuple[str | None, str], int] = {}
        self.next_index: dict[str | None, int] = {}
        self.first_index = 0
        # What this run made, for the unwinding.
        self.created: list[str] = []
        self.root_links: list[str] = []
        self.root_table: str | None = None
        self.root_sysctls: dict[str, str] = {}
        self.responder: dict[str, int] | None = None
        self.durations: list[float] = []
        self.entry = journal.Entry(
            tag=plan.tag,
            design=plan.design_name,
            host_mode=plan.naming.host_mode,
            namespaces=plan.created_namespaces(),
            root_links=plan.root_links(),
        )

    def run(self) -> Applied:
        started = time.perf_counter()
        host_mode = self.plan.naming.host_mode
        if host_mode:
            self._prepare_root()
        journal.write(self.state_dir, self.entry)
        try:
            namespaces.in_thread(self._execute)
        except BaseException as error:
            self._close()
            self._unwind()
            if isinstance(error, ApplyError):
                error.rolled_back = True
            raise
        self._close()
        self.entry.state = "applied"
        self.entry.responder = self.responder
        journal.write(self.state_dir, self.entry)
        return Applied(self.entry, self.durations, time.perf_counter() - started)

    def _prepare_root(self) -> None:
        """Host mode: refuse interfaces that exist already; journal old sysctl values."""
        sock = RouteSocket()
        self.sockets[None] = sock
        self.fds[None] = namespaces.current_fd()
        taken = [name for name in self.entry.root_links if sock.link(name=name) is not None]
        if taken:
            self._close()
            raise RefusedError(
                "host mode: " + ", ".join(taken) + " already exist(s) in this namespace and "
                "netlab never touches an interface it did not create; nothing was changed"
            )
        for step in self.plan.steps:
            if isinstance(step, SetSysctl) and step.netns is None:
                old = namespaces.run_inside(None, functools.partial(sysctl.read, step.path))
                self.entry.root_sysctls[step.path] = old
            if isinstance(step, ApplyNftables) and step.netns is None:
                self.entry.root_table = step.table

    # The worker thread: every step, in order.

    def _execute(self) -> None:
        total = len(self.steps)
        if any(isinstance(step, AddVxlan) for step in self.steps):
            # Opened first: the steps move this thread into the lab's namespaces.
            self.underlay = RouteSocket()
        for number, step in enumerate(self.steps, start=1):
            if self.fail_after is not None and number > self.fail_after:
                raise ApplyError(number, total, step, "injected fault (test hook)")
            if self.on_step is not None:
                self.on_step(
                    StepReport(number, total, step.action, step.description, step.shell, "start")
                )
            began = time.perf_counter()
            error: str | None = None
            try:
                self._do(step)
            except (OSError, ValueError, RuntimeError) as failure:
                error = _reason(failure)
                raise ApplyError(number, total, step, error) from failure
            finally:
                duration = time.perf_counter() - began
                self.durations.append(duration)
                if self.on_step is not None:
                    self.on_step(
                        StepReport(
                            number,
                            total,
                            step.action,
                            step.description,
                            step.shell,
                            "end",
                            duration,
                            error,
                        )
                    )

    def _do(self, step: Step) -> None:
        if isinstance(step, AddNamespace):
            self._add_namespace(step)
        elif isinstance(step, AddBridge):
            index = self._new_index(step.netns)
            sock = self.sockets[step.netns]
            if step.netns is None:
                self.root_links.append(step.name)
            sock.add_bridge(index, step.name)
            index = self._learn(step.netns, step.name, index)
            sock.set_link(index, alias=self.mark)
        elif isinstance(step, AddVeth):
            self._add_veth(step)
        elif isinstance(step, SetVlanFiltering):
            index = self.indexes[step.netns, step.name]
            self.sockets[step.netns].set_vlan_filtering(index, on=step.on)
        elif isinstance(step, AddVlanLink):
            self._add_vlan_link(step)
        elif isinstance(step, AddVxlan):
            self._add_vxlan(step)
        elif isinstance(step, AddBridgeVlan | DeleteBridgeVlan):
            self.sockets[step.netns].bridge_vlan(
                self.indexes[step.netns, step.dev],
                step.vlan,
                untagged=isinstance(step, AddBridgeVlan) and step.untagged,
                delete=isinstance(step, DeleteBridgeVlan),
            )
        elif isinstance(step, AddAddress):
            interface = addressing.parse_interface_address(step.address)
            self.sockets[step.netns].add_address(self.indexes[step.netns, step.dev], interface)
        elif isinstance(step, SetLinkUp):
            master = self.indexes[step.netns, step.master] if step.master else None
            self.sockets[step.netns].set_link(
                self.indexes[step.netns, step.name], up=True, alias=self.mark, master=master
            )
        elif isinstance(step, SetMtu):
            self.sockets[step.netns].set_link(self.indexes[step.netns, step.name], mtu=step.mtu)
        elif isinstance(step, SetLinkState):
            self.sockets[step.netns].set_state(self.indexes[step.netns, step.name], up=step.up)
        elif isinstance(step, SetQdisc):
            kind, options = qdisc.options(step)
            self.sockets[step.netns].replace_qdisc(
                self.indexes[step.netns, step.dev], kind, options
            )
        elif isinstance(step, SetSysctl):
            namespaces.enter_here(self.fds[step.netns])
            if not step.optional or os.path.exists(step.path):
                sysctl.write(step.path, step.value)
        elif isinstance(step, AddRoute):
            destination = addressing.parse_route_destination(step.to)
            oif = self.indexes[step.netns, step.dev] if step.dev else None
            self.sockets[step.netns].add_route(step.version, destination, step.via, oif)
        elif isinstance(step, ApplyNftables):
            namespaces.enter_here(self.fds[step.netns])
            if step.netns is None:
                self.root_table = step.table
            nftables.apply(step.ruleset())
        elif isinstance(step, StartServices):
            self._start_services(step)
        else:  # pragma: no cover - a step kind the driver does not know
            raise ValueError(f"no driver for step {step.action}")

    def _add_namespace(self, step: AddNamespace) -> None:
        def prepare() -> None:
            # Inside the new namespace, before it has a name: mark it, keep a socket and fd.
            sock = RouteSocket()
            self.sockets[step.netns] = sock
            self.fds[step.netns] = namespaces.current_fd()
            sock.set_link(1, up=True, alias=self.mark)
            if not self.first_index:
                # Indexes the kernel used already in a fresh namespace (lo, and fallback
                # tunnels when their modules are loaded): the same for every namespace.
                self.first_index = max(link["index"] for link in sock.links()) + 1

        try:
            namespaces.create_here(step.netns, prepare)
        except BaseException:
            self._forget(step.netns)
            raise
        self.created.append(step.netns)
        self.next_index[step.netns] = self.first_index

    def _forget(self, netns: str) -> None:
        sock = self.sockets.pop(netns, None)
        if sock is not None:
            sock.close()
        fd = self.fds.pop(netns, None)
        if fd is not None:
            os.close(fd)

    def _new_index(self, netns: str | None) -> int:
        """The index for a new link in ``netns``: chosen here in our namespaces, 0 (the
        kernel's choice) in the root namespace, where other programs create links too."""
        if netns is None:
            return 0
        index = self.next_index[netns]
        self.next_index[netns] = index + 1
        return index

    def _learn(self, netns: str | None, name: str, index: int) -> int:
        if not index:
            link = self.sockets[netns].link(name=name)
            if link is None:
                raise OSError(f"{name} vanished right after it was created")
            index = link["index"]
            if netns is not None:
                # The kernel picked it: never choose it (or anything below it) ourselves.
                self.next_index[netns] = max(self.next_index[netns], index + 1)
        self.indexes[netns, name] = index
        return index

    def _add_veth(self, step: AddVeth) -> None:
        index = self._new_index(step.netns)
        # The kernel honours the peer's index only when the first end's is given too.
        peer_index = self._new_index(step.peer_netns) if index else 0
        master = self.indexes[step.netns, step.master] if step.master else None
        if step.netns is None:
            self.root_links.append(step.name)
        if step.peer_netns is None:
            self.root_links.append(step.peer_name)
        sock = self.sockets[step.netns]
        sock.add_veth(
            index, step.name, master, peer_index, step.peer_name, self.fds[step.peer_netns]
        )
        index = self._learn(step.netns, step.name, index)
        self._learn(step.peer_netns, step.peer_name, peer_index)
        sock.set_link(index, alias=self.mark)

    def _add_vlan_link(self, step: AddVlanLink) -> None:
        index = self._new_index(step.netns)
        parent = self.indexes[step.netns, step.parent]
        if step.netns is None:
            self.root_links.append(step.name)
        sock = self.sockets[step.netns]
        try:
            sock.add_vlan(index, step.name, parent, step.vlan)
        except OSError as failure:
            # A parent the design has down (a live change): made down, the 8021q module
            # brings it up with its parent.
            if failure.errno != errno.ENETDOWN:
                raise
            sock.add_vlan(index, step.name, parent, step.vlan, up=False)
        index = self._learn(step.netns, step.name, index)
        sock.set_link(index, alias=self.mark)

    def _add_vxlan(self, step: AddVxlan) -> None:
        assert self.underlay is not None  # opened by _execute
        # The kernel chooses its index (its namespace's, not the underlay's); learned below.
        self.underlay.add_vxlan(
            0,
            step.name,
            vni=step.vni,
            local=step.local,
            remote=step.remote,
            port=VXLAN_PORT,
            mtu=step.mtu,
            netns_fd=self.fds[step.netns],
        )
        index = self._learn(step.netns, step.name, 0)
        self.sockets[step.netns].set_link(index, alias=self.mark)

    def _start_services(self, step: StartServices) -> None:
        spec: dict[str, tuple[str, list[tuple[str, int]]]] = {}
        for netns, services in step.by_netns().items():
            if netns is None:
                raise ValueError(
                    "host mode: services on the host node are not supported (the responder "
                    "serves lab namespaces only)"
                )
            spec[netns] = (services[0].node, [(s.kind, s.port) for s in services])
        started = responder.start(step.tag, spec, self.state_dir)
        self.responder = {"pid": started.pid, "started_at": started.started_at}
        self.entry.responder = self.responder
        journal.write(self.state_dir, self.entry)

    # Unwinding.

    def _close(self) -> None:
        if self.underlay is not None:
            self.underlay.close()
            self.underlay = None
        for sock in self.sockets.values():
            sock.close()
        for fd in self.fds.values():
            os.close(fd)
        self.sockets.clear()
        self.fds.clear()

    def _unwind(self) -> None:
        """Remove what this run created, newest first; then forget the journal."""
        report = teardown.Report()
        teardown.stop_responder(self.responder)
        if self.plan.naming.host_mode:
            sysctls = {
                path: self.entry.root_sysctls[path]
                for path in self.entry.root_sysctls
                if self._root_sysctl_written(path)
            }
            teardown.remove_root_objects(
                self.plan.tag,
                links=self.root_links,
                table=self.root_table,
                sysctls=sysctls,
                check_marks=False,
                report=report,
            )
        teardown.remove_namespaces(
            list(reversed(self.created)),
            self.plan.tag,
            check_marks=False,
            wait=True,
            report=report,
        )
        journal.remove(self.state_dir, self.plan.tag)

    def _root_sysctl_written(self, path: str) -> bool:
        done = len(self.durations)
        return any(
            isinstance(step, SetSysctl) and step.netns is None and step.path == path
            for step in self.plan.steps[:done]
        )


def _reason(failure: BaseException) -> str:
    if isinstance(failure, OSError) and failure.strerror:
        return failure.strerror
    return str(failure) or type(failure).__name__
