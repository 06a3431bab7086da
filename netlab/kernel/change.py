"""Changing a running lab in place: a change plan's steps, on the namespaces that run.

A change runs like a deploy (one worker thread, one rtnetlink socket per namespace, the
journal written before the first change), except that most of its namespaces exist: each
one the change touches is opened by its recorded name (never created), and changed only once
its loopback shows the deployment's mark; its link indexes are read from the kernel. A link
or namespace is removed only when it carries the mark.

All or nothing: when a step fails (or a test injects a fault), the change back — the change
plan from the new revision to the old — runs over whatever was done, tolerating what was
never done (an object to remove that is not there, one to make that is), and the lab is the
old revision again. The same tolerant run over the whole plan repairs a lab that drifted.
"""

from __future__ import annotations

import dataclasses
import errno
import os

from netlab.core import addressing
from netlab.core.engine import StepCallback
from netlab.core.plan import (
    AddNamespace,
    AddRoute,
    ApplyNftables,
    ChangePlan,
    DeleteAddress,
    DeleteBridgeVlan,
    DeleteLink,
    DeleteNamespace,
    DeleteNftables,
    DeleteQdisc,
    DeleteRoute,
    Plan,
    StartServices,
    Step,
    StopServices,
    change_between,
)
from netlab.kernel import journal, namespaces, nftables, teardown
from netlab.kernel.apply import Applied, ApplyError, RefusedError, _Run, require_privileges
from netlab.kernel.rtnl import RouteSocket, attr

# What a tolerant run (a change back, a repair) takes as "already so".
ALREADY_MADE = {errno.EEXIST}
ALREADY_GONE = {errno.ENOENT, errno.ENODEV, errno.ESRCH, errno.EADDRNOTAVAIL}


def apply_change(
    change: ChangePlan,
    *,
    state_dir: str | os.PathLike[str] = journal.DEFAULT_STATE_DIR,
    on_step: StepCallback | None = None,
    fail_after: int | None = None,
) -> Applied:
    """Apply ``change`` to the running lab of ``change.old``; return what it made.

    Raises :class:`ApplyError` after the change back has restored the old revision
    (``rolled_back`` True, or False when even that failed: the error says so),
    :class:`RefusedError` before any change for a lab in host mode, or whose namespaces do
    not carry its mark.
    """
    require_privileges()
    if change.old.naming.host_mode:
        raise RefusedError(
            "a lab in host mode cannot change in place yet: destroy it and deploy the new "
            "revision; nothing was changed"
        )
    run = _ChangeRun(change.new, change.steps, state_dir, on_step, fail_after, old=change.old)
    run.open_namespaces()  # refuses before any change
    try:
        return run.run()
    except BaseException as error:  # a step failed, or refused: change back, then say why
        try:
            change_back(change, state_dir=state_dir)
        except Exception as failure:
            if isinstance(error, ApplyError):
                error.rolled_back = False
                error.args = (f"{error.args[0]}; changing back failed too: {failure}",)
        else:
            if isinstance(error, ApplyError):
                error.rolled_back = True
        raise


def change_back(
    change: ChangePlan, *, state_dir: str | os.PathLike[str] = journal.DEFAULT_STATE_DIR
) -> Applied:
    """Put the lab of ``change`` back to ``change.old``, however much of it was applied."""
    back = change_between(change.new, change.old)
    return _ChangeRun(change.old, back.steps, state_dir, None, None, tolerant=True).run()


def repair(plan: Plan, *, state_dir: str | os.PathLike[str] = journal.DEFAULT_STATE_DIR) -> Applied:
    """Make again whatever of ``plan`` (a running lab's) is missing from the kernel."""
    require_privileges()
    return _ChangeRun(plan, plan.steps, state_dir, None, None, tolerant=True).run()


class _ChangeRun(_Run):
    """A run of ``steps`` that ends in ``plan``, over namespaces that mostly exist."""

    def __init__(
        self,
        plan: Plan,
        steps: tuple[Step, ...],
        state_dir: str | os.PathLike[str],
        on_step: StepCallback | None,
        fail_after: int | None,
        *,
        old: Plan | None = None,
        tolerant: bool = False,
    ) -> None:
        super().__init__(plan, state_dir, on_step, fail_after)
        self.steps = steps
        # Namespaces that ran before this change: their links' indexes are asked for by
        # name when a step needs one (a star's hub has hundreds; a change needs a few).
        self.existing: set[str] = set()
        self.indexes = _Indexes(self.sockets)
        self.tolerant = tolerant
        self.journaled = journal.read(state_dir, plan.tag) or journal.Entry(tag=plan.tag)
        self.responder = self.journaled.responder
        # Until it ends, the journal names every namespace either revision has: a crash in
        # the middle leaves nothing a destroy would not find.
        before = old.created_namespaces() if old is not None else self.journaled.namespaces
        self.entry.namespaces = list(dict.fromkeys([*before, *plan.created_namespaces()]))
        self.entry.responder = self.responder
        self.entry.state = "changing"

    def run(self) -> Applied:
        applied = super().run()
        applied.entry.namespaces = self.plan.created_namespaces()
        journal.write(self.state_dir, applied.entry)
        return applied

    def open_namespaces(self) -> None:
        """Open (and check the mark of) every existing namespace the steps touch."""
        made = {step.netns for step in self.steps if isinstance(step, AddNamespace)}
        try:
            for step in self.steps:
                for netns in self._namespaces_of(step):
                    if netns not in made:
                        self._open(netns)
        except BaseException:
            self._close()
            raise

    def _unwind(self) -> None:
        """A failed change is undone by its change back (the caller's), not by removing
        every namespace this run made; the journal keeps naming them until then."""

    # Namespaces that exist: opened by name, checked, their links learned.

    def _open(self, netns: str | None) -> None:
        if netns is None or netns in self.sockets:
            return
        fd = namespaces.open_fd(netns)  # no O_CREAT: a missing namespace fails, never appears

        def inside() -> RouteSocket:
            namespaces.enter_here(fd)
            return RouteSocket()

        try:
            sock = namespaces.in_thread(inside)
        except BaseException:
            os.close(fd)
            raise
        self.sockets[netns], self.fds[netns] = sock, fd
        loopback = sock.link(index=1)
        if loopback is None or attr(loopback, "IFLA_IFALIAS") != self.mark:
            raise RefusedError(f"namespace {netns} does not carry this lab's mark: not touched")
        self.existing.add(netns)
        self.next_index[netns] = 0  # the kernel chooses indexes here (see _new_index)

    def _new_index(self, netns: str | None) -> int:
        if netns in self.existing:
            return 0  # the kernel's choice: this run does not know every index in use here
        return super()._new_index(netns)

    def _namespaces_of(self, step: Step) -> list[str | None]:
        found = [getattr(step, name, None) for name in ("netns", "peer_netns")]
        if isinstance(step, StopServices):
            found += [service.netns for service in step.services]
        return [netns for netns in found if netns is not None]

    def _do(self, step: Step) -> None:
        if isinstance(step, AddNamespace):
            if self.tolerant and namespaces.is_mounted(step.netns):
                self._open(step.netns)  # checks its mark
                return
            self._add_namespace(step)
            return
        if isinstance(step, DeleteNamespace):
            self._delete_namespace(step)
            return
        for netns in self._namespaces_of(step):
            self._open(netns)
        try:
            if not self._change(step):
                super()._do(step)
        except OSError as failure:
            removing = isinstance(
                step, DeleteLink | DeleteAddress | DeleteRoute | DeleteQdisc | DeleteBridgeVlan
            )
            if not self.tolerant or failure.errno not in (
                ALREADY_GONE if removing else ALREADY_MADE
            ):
                raise

    def _change(self, step: Step) -> bool:
        """Do ``step`` if only a change has it (or a change does it differently); return
        whether it was done here."""
        if isinstance(step, DeleteLink):
            index = self._index(step.netns, step.name)
            link = self.sockets[step.netns].link(index=index)
            if link is None and self.tolerant:
                return True
            if link is None or attr(link, "IFLA_IFALIAS") != self.mark:
                raise RefusedError(f"{step.name} in {step.netns} does not carry this lab's mark")
            self.sockets[step.netns].delete_link(index)
            self.indexes.pop((step.netns, step.name), None)
        elif isinstance(step, DeleteAddress):
            interface = addressing.parse_interface_address(step.address)
            self.sockets[step.netns].delete_address(self._index(step.netns, step.dev), interface)
        elif isinstance(step, AddRoute) and step.replace:
            destination = addressing.parse_route_destination(step.to)
            oif = self._index(step.netns, step.dev) if step.dev else None
            self.sockets[step.netns].add_route(
                step.version, destination, step.via, oif, replace=True
            )
        elif isinstance(step, DeleteRoute):
            route = step.route
            destination = addressing.parse_route_destination(route.to)
            oif = self._index(route.netns, route.dev) if route.dev else None
            self.sockets[route.netns].delete_route(route.version, destination, route.via, oif)
        elif isinstance(step, DeleteNftables):
            namespaces.enter_here(self.fds[step.netns])
            nftables.delete_table(step.table)
        elif isinstance(step, DeleteQdisc):
            self._delete_qdisc(step)
        elif isinstance(step, ApplyNftables) and self.tolerant and not step.replace:
            super()._do(dataclasses.replace(step, replace=True))  # a repair's table is exact
        elif isinstance(step, StopServices):
            self._stop_services()
        elif isinstance(step, StartServices) and self.tolerant and self.responder:
            self._stop_services()  # restarted: one responder per lab
            return False
        else:
            return False
        return True

    def _delete_qdisc(self, step: DeleteQdisc) -> None:
        try:
            self.sockets[step.netns].delete_qdisc(self._index(step.netns, step.dev))
        except OSError as failure:
            # Only the default qdisc is left (handle 0, which the kernel will not delete: ENOENT
            # or EINVAL): the impairment is gone already, as this step wants.
            if failure.errno not in (errno.EINVAL, errno.ENOENT):
                raise

    def _index(self, netns: str | None, name: str) -> int:
        return self.indexes[netns, name]

    def _stop_services(self) -> None:
        teardown.stop_responder(self.responder)
        self.responder = self.entry.responder = None
        journal.write(self.state_dir, self.entry)

    def _delete_namespace(self, step: DeleteNamespace) -> None:
        # Names learned there (and of veth ends whose peers were there) may go stale: a later
        # step that makes one again learns its new index first.
        self._forget(step.netns)
        report = teardown.Report()
        teardown.remove_namespaces(
            [step.netns], self.plan.tag, check_marks=True, wait=True, report=report
        )
        if report.refused:
            raise RefusedError(f"namespace {step.netns} does not carry this lab's mark")


class _Indexes(dict[tuple[str | None, str], int]):
    """Link indexes by (namespace, name): learned as links are made, else asked of the kernel
    (a missing link is ``ENODEV``, as ``ip`` says it)."""

    def __init__(self, sockets: dict[str | None, RouteSocket]) -> None:
        super().__init__()
        self.sockets = sockets

    def __missing__(self, key: tuple[str | None, str]) -> int:
        netns, name = key
        sock = self.sockets.get(netns)
        link = sock.link(name=name) if sock is not None else None
        if link is None:
            raise OSError(errno.ENODEV, f"Cannot find device {name!r} in {netns}")
        index: int = link["index"]
        self[key] = index
        return index
