"""The change planner: the smallest exact steps that turn a running lab into a new revision.

Pure, like the compiler it reads. Both revisions are compiled under the running deployment's
naming (its namespaces kept, :meth:`Naming.following`), so an unchanged object compiles to an
equal step; the change is the difference of the two plans, with what the kernel does by
itself taken into account:

- an object goes with what holds it: a namespace's links, addresses, routes and tables; a
  veth's addresses and state, on both ends; the gateway routes of an interface losing an
  address (the kernel flushes them). What went that way is not undone step by step, and
  whatever of it the new revision still has is made again (**recreated**, with the reason);
- an object that changes where the kernel can change it in place is not removed first: a
  sysctl or an MTU is written again, a route replaced (``ip route replace``), netlab's
  nftables table replaced in one transaction, an impairment's qdisc replaced
  (``tc qdisc replace``), a bridge's VLAN filtering switched; a link taken down is brought up
  again as its undo, a VLAN taken off a bridge port (its default VLAN 1) is put back;
- removals run first, last-built first; then additions, in the new plan's order.

A move of a node (a position, a label) changes no step: the plan is empty.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

from netlab.core.document import Document
from netlab.core.impairments import DEFAULT_MTU
from netlab.core.plan.compiler import compile_plan
from netlab.core.plan.naming import Naming
from netlab.core.plan.steps import (
    AddAddress,
    AddBridge,
    AddBridgeVlan,
    AddNamespace,
    AddRoute,
    AddVeth,
    AddVlanLink,
    AddVxlan,
    ApplyNftables,
    DeleteAddress,
    DeleteBridgeVlan,
    DeleteLink,
    DeleteNamespace,
    DeleteNftables,
    DeleteQdisc,
    DeleteRoute,
    Plan,
    SetLinkState,
    SetLinkUp,
    SetMtu,
    SetQdisc,
    SetSysctl,
    SetVlanFiltering,
    StartServices,
    Step,
    StopServices,
)

# A kernel object a step makes or needs, e.g. ("link", netns, name). A namespace of None is
# the root namespace (host mode), which no plan removes.
Key = tuple[str | int | None, ...]


@dataclass(frozen=True)
class Recreated:
    """An unchanged part of the design that is made again, and why."""

    step: Step
    reason: str

    def __str__(self) -> str:
        return f"{self.step.description}: recreated, {self.reason}"


@dataclass(frozen=True)
class ChangePlan:
    """The steps that take a lab from plan ``old`` to plan ``new``."""

    old: Plan
    new: Plan
    steps: tuple[Step, ...]
    recreated: tuple[Recreated, ...]

    @property
    def empty(self) -> bool:
        return not self.steps

    @property
    def namespaces(self) -> dict[str, str | None]:
        """The lab's ``{node: namespace}`` once the change is applied."""
        return dict(self.new.namespaces)


def plan_change(running: Document, wanted: Document, naming: Naming) -> ChangePlan:
    """Return the change from revision ``running`` (deployed with ``naming``, which keeps its
    recorded namespaces) to revision ``wanted``.

    Raises ``InvalidDesign`` if either revision is not valid.
    """
    return change_between(compile_plan(running, naming), compile_plan(wanted, naming))


def change_between(old: Plan, new: Plan) -> ChangePlan:
    """Return the change from plan ``old`` to plan ``new`` (same naming)."""
    before, after = set(old.steps), set(new.steps)
    # Slots (a sysctl, a route, a table) both revisions set, differently: written over.
    overwritten = (
        {_slot(step) for step in new.steps if step not in before}
        & {_slot(step) for step in old.steps if step not in after}
    ) - {None}
    gone: dict[Key, str] = {}  # what the removals take, the kernel's own included: why
    undone: list[Step] = []  # old steps undone one by one
    lost: dict[Step, str] = {}  # old steps whose objects go with something else: why
    for step in old.steps:  # build order: what a step needs was built before it
        cause = next((gone[key] for key in _needs(step) if key in gone), None)
        if cause is not None:
            lost[step] = cause
        elif step not in after:
            undone.append(step)
        else:
            continue
        for key in _makes(step):
            gone.setdefault(key, cause or _why(step, old, new))
    removals = [
        undo for step in reversed(undone) if _slot(step) not in overwritten for undo in _undo(step)
    ]
    additions: list[Step] = []
    recreated: list[Recreated] = []
    for step in new.steps:
        if step in lost:
            recreated.append(Recreated(step, lost[step]))
        elif step in before:
            continue
        # A slot written over, or a route that may have outlived its interface's address.
        if _slot(step) in overwritten or (isinstance(step, AddRoute) and step in lost):
            step = _replacing(step)
        additions.append(step)
    return ChangePlan(old, new, (*removals, *additions), tuple(recreated))


def _slot(step: Step) -> Key | None:
    """What ``step`` sets where a new value is written over the old one (a sysctl, a route, a
    table), whatever the value; None for objects that are made and removed."""
    match step:
        case SetSysctl():
            return ("sysctl", step.netns, step.key)
        case AddRoute():
            return ("route", step.netns, step.version, step.destination)
        case ApplyNftables():
            return ("nftables", step.netns, step.table)
        case SetMtu():
            return ("mtu", step.netns, step.name)
        case SetQdisc():
            return ("qdisc", step.netns, step.dev)
        case SetLinkState():
            return ("state", step.netns, step.name)
        case SetVlanFiltering():
            return ("vlan_filtering", step.netns, step.name)
    return None


def _makes(step: Step) -> Iterator[Key]:
    """The kernel objects ``step`` creates (what goes when it is undone)."""
    match step:
        case AddNamespace():
            yield ("netns", step.netns)
        case AddBridge():
            yield ("link", step.netns, step.name)
        case AddVeth():
            yield ("link", step.netns, step.name)
            yield ("link", step.peer_netns, step.peer_name)
        case AddAddress():
            yield ("address", step.netns, step.dev, step.address)
            yield ("addressed", step.netns, step.dev)  # its gateway routes need it
        case SetLinkUp():
            yield ("up", step.netns, step.name)
        case AddVlanLink() | AddVxlan():
            yield ("link", step.netns, step.name)
        case AddBridgeVlan():
            yield ("bridge-vlan", step.netns, step.dev, step.vlan)
        case StartServices():
            yield ("services", step.tag)
    slot = _slot(step)
    if slot is not None:
        yield slot


def _needs(step: Step) -> Iterator[Key]:
    """The kernel objects without which what ``step`` made is gone too.

    A bridge's ports are not among a link's needs: deleting a bridge releases its ports,
    and a bridge is only ever recreated in another namespace, where its links are new too.
    """
    netns = getattr(step, "netns", None)
    if netns is not None:
        yield ("netns", netns)
    match step:
        case AddVeth() if step.peer_netns is not None:
            yield ("netns", step.peer_netns)
        case AddAddress():
            yield ("link", step.netns, step.dev)
        case SetLinkUp() | SetMtu() | SetLinkState() | SetVlanFiltering():
            yield ("link", step.netns, step.name)
        case SetQdisc() | AddBridgeVlan() | DeleteBridgeVlan():
            yield ("link", step.netns, step.dev)
        case AddVlanLink():
            yield ("link", step.netns, step.parent)
        case AddRoute() if step.dev is not None:
            yield ("link", step.netns, step.dev)
            yield ("addressed", step.netns, step.dev)  # the kernel flushes its gateway routes
        case StartServices():
            for service in step.services:
                if service.netns is not None:
                    yield ("netns", service.netns)


def _replacing(step: Step) -> Step:
    if isinstance(step, AddRoute | ApplyNftables):
        return dataclasses.replace(step, replace=True)
    return step  # a sysctl is written over as it is


def _undo(step: Step) -> Iterator[Step]:
    """The steps that remove what ``step`` made (none where it goes with its link)."""
    match step:
        case AddNamespace():
            yield DeleteNamespace(node=step.node, netns=step.netns)
        case AddBridge():
            yield DeleteLink(node=step.node, netns=step.netns, name=step.name)
        case AddVeth() | AddVlanLink() | AddVxlan():
            yield DeleteLink(node=step.node, netns=step.netns, name=step.name)
        case AddAddress():
            yield DeleteAddress(
                node=step.node, netns=step.netns, dev=step.dev, address=step.address
            )
        case SetSysctl() if step.optional:
            return  # bridge netfilter off is harmless without a bridge: left as it is
        case SetSysctl():
            yield dataclasses.replace(step, value="0")
        case AddRoute():
            yield DeleteRoute(route=step)
        case ApplyNftables():
            yield DeleteNftables(node=step.node, netns=step.netns, table=step.table)
        case SetMtu():
            yield dataclasses.replace(step, mtu=DEFAULT_MTU)
        case SetQdisc():
            yield DeleteQdisc(node=step.node, netns=step.netns, dev=step.dev)
        case SetLinkState():
            yield dataclasses.replace(step, up=not step.up)
        case SetVlanFiltering():
            yield dataclasses.replace(step, on=not step.on)
        case AddBridgeVlan():
            yield DeleteBridgeVlan(node=step.node, netns=step.netns, dev=step.dev, vlan=step.vlan)
        case DeleteBridgeVlan():  # the VLAN every port is born in, as it was born
            yield AddBridgeVlan(
                node=step.node, netns=step.netns, dev=step.dev, vlan=step.vlan, untagged=True
            )
        case StartServices():
            yield StopServices(tag=step.tag, services=step.services)


def _why(step: Step, old: Plan, new: Plan) -> str:
    """Why what ``step`` made goes: it is not in the new plan."""
    match step:
        case AddNamespace():
            return f"namespace {step.netns} of {step.node} is deleted"
        case AddBridge():
            return _bridge_news(step.node, step.holder, new)
        case AddVeth():
            if step.master is not None:  # its bridge end: the bridge may have moved
                holder = next(
                    s.holder
                    for s in old.steps
                    if isinstance(s, AddBridge) and s.node == step.master
                )
                news = _bridge_news(step.master, holder, new, only_moves=True)
                if news:
                    return news
            ends = {(step.node, step.name), (step.peer_node, step.peer_name)}
            kept = any(
                isinstance(s, AddVeth) and {(s.node, s.name), (s.peer_node, s.peer_name)} == ends
                for s in new.steps
            )
            what = "changes" if kept else "is removed"
            return f"link {step.peer_node}:{step.peer_name} - {step.node}:{step.name} {what}"
        case AddAddress():
            return f"{step.node}'s {step.dev} loses address {step.address}"
    return f"{step.description}: changed"


def _bridge_news(bridge: str, holder: str, new: Plan, *, only_moves: bool = False) -> str:
    """What happens to ``bridge`` (held by ``holder``): it moves, or is removed."""
    for other in new.steps:
        if isinstance(other, AddBridge) and other.node == bridge:
            if other.holder == holder:
                return ""
            return f"bridge {bridge} moves from {holder} to {other.holder}"
    return "" if only_moves else f"bridge {bridge} is removed"
