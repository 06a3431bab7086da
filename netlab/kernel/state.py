"""Reading what the kernel holds for a deployment, and comparing it with the plan (drift).

Each namespace is read from one throw-away thread that enters it (opened without O_CREAT,
so a missing namespace is reported, never made): links, addresses, routes and, where the
plan has one, netlab's nftables table and its bridges' VLAN tables.
"""

from __future__ import annotations

import ipaddress
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from netlab.core import addressing, names
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
    SetVlanFiltering,
)
from netlab.kernel import namespaces, nftables, qdisc
from netlab.kernel.rtnl import (
    BRIDGE_VLAN_INFO_PVID,
    BRIDGE_VLAN_INFO_UNTAGGED,
    IFF_UP,
    TC_H_ROOT,
    RouteSocket,
    attr,
)

RT_TABLE_MAIN = 254
ACCESS = BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED  # an access port's VLAN


@dataclass(frozen=True)
class LinkState:
    index: int
    name: str
    mac: str | None
    up: bool
    state: str  # the kernel's operstate: UP, DOWN, LOWERLAYERDOWN, UNKNOWN...
    master: int | None
    alias: str | None
    addresses: tuple[str, ...]
    mtu: int | None = None
    vlan_filtering: bool | None = None  # a bridge's; None for other links
    tunnel: tuple[int, str, str] | None = None  # a VXLAN device's VNI, local and remote


@dataclass
class NamespaceState:
    """One namespace as the kernel holds it (``exists`` False: nothing else is filled)."""

    netns: str | None
    exists: bool = True
    links: dict[str, LinkState] = field(default_factory=dict)
    routes: set[tuple[str, str | None, str | None]] = field(default_factory=set)
    nft: list[dict[str, Any]] | None = None
    root_qdiscs: dict[str, Any] = field(default_factory=dict)  # link name: decoded tcmsg
    # Bridge ports' VLANs, {port name: {VLAN: untagged (and pvid)}}, read where asked.
    port_vlans: dict[str, dict[int, bool]] = field(default_factory=dict)


@dataclass(frozen=True)
class Drift:
    """One difference between the plan and the kernel."""

    node: str
    netns: str | None
    kind: str  # namespace-missing, link-missing, link-down, link-up, mtu-changed,
    #            qdisc-missing, qdisc-changed, qdisc-unexpected, vlan-filtering-off,
    #            vlan-missing, vlan-changed, vlan-unexpected, address-missing,
    #            address-changed, route-missing, nftables-table-missing, nftables-rule-missing
    subject: str
    message: str

    def as_dict(self) -> dict[str, str | None]:
        return {
            "node": self.node,
            "netns": self.netns,
            "kind": self.kind,
            "subject": self.subject,
            "message": self.message,
        }


def read(
    netns: str | None,
    *,
    nft_table: str | None = None,
    bridge_vlans: bool = False,
    links_only: bool = False,
) -> NamespaceState:
    """Return what namespace ``netns`` (None: the caller's own) holds now; with
    ``bridge_vlans``, its bridge ports' VLANs too; with ``links_only``, only its links and
    their addresses (two dumps of five: ``netlab status`` of a running lab of 200 read
    every table of each namespace, 0.7 s)."""
    fd: int | None = None
    if netns is not None:
        try:
            fd = os.open(namespaces.path_of(netns), os.O_RDONLY)
        except FileNotFoundError:
            return NamespaceState(netns, exists=False)

    def work() -> NamespaceState:
        if fd is not None:
            namespaces.enter_here(fd)
        snapshot = NamespaceState(netns)
        with RouteSocket() as sock:
            by_index: dict[int, list[str]] = {}
            for message in sock.addresses():
                text = f"{attr(message, 'IFA_ADDRESS')}/{message['prefixlen']}"
                local = attr(message, "IFA_LOCAL")
                if local is not None:
                    text = f"{local}/{message['prefixlen']}"
                by_index.setdefault(message["index"], []).append(text)
            for message in sock.links():
                index = message["index"]
                name = attr(message, "IFLA_IFNAME")
                snapshot.links[name] = LinkState(
                    index=index,
                    name=name,
                    mac=attr(message, "IFLA_ADDRESS"),
                    up=bool(message["flags"] & IFF_UP),
                    state=attr(message, "IFLA_OPERSTATE") or "UNKNOWN",
                    master=attr(message, "IFLA_MASTER"),
                    alias=attr(message, "IFLA_IFALIAS"),
                    addresses=tuple(by_index.get(index, ())),
                    mtu=attr(message, "IFLA_MTU"),
                    vlan_filtering=_vlan_filtering(message),
                    tunnel=_tunnel(message),
                )
            if links_only:
                return snapshot
            names_by_index = {link.index: link.name for link in snapshot.links.values()}
            if bridge_vlans:
                for index, vlans in sock.bridge_vlans().items():
                    if index in names_by_index:
                        snapshot.port_vlans[names_by_index[index]] = {
                            vid: flags & ACCESS == ACCESS for vid, flags in vlans.items()
                        }
            for message in sock.qdiscs():
                name = names_by_index.get(message["index"])
                if message["parent"] == TC_H_ROOT and name is not None:
                    snapshot.root_qdiscs[name] = message
            for version in (4, 6):
                for message in sock.routes(version):
                    if attr(message, "RTA_TABLE") not in (None, RT_TABLE_MAIN):
                        continue
                    length = message["dst_len"]
                    zero = "0.0.0.0" if version == 4 else "::"  # noqa: S104 - a route, not a bind
                    destination = f"{attr(message, 'RTA_DST') or zero}/{length}"
                    oif = attr(message, "RTA_OIF")
                    snapshot.routes.add(
                        (destination, attr(message, "RTA_GATEWAY"), names_by_index.get(oif))
                    )
        if nft_table is not None:
            snapshot.nft = nftables.list_table(nft_table)
        return snapshot

    try:
        return namespaces.in_thread(work)
    finally:
        if fd is not None:
            os.close(fd)


def check(plan: Plan) -> list[Drift]:
    """Return every difference between ``plan`` and the kernel; empty when they agree."""
    tables = {step.netns: step.table for step in plan.steps if isinstance(step, ApplyNftables)}
    vlans = {s.netns for s in plan.steps if isinstance(s, AddBridgeVlan | DeleteBridgeVlan)}
    snapshots = {
        netns: read(netns, nft_table=tables.get(netns), bridge_vlans=netns in vlans)
        for netns in plan.namespaces.values()
    }
    node_of = {netns: node for node, netns in plan.namespaces.items()}
    drifts: list[Drift] = []

    def add(netns: str | None, kind: str, subject: str, message: str) -> None:
        drifts.append(Drift(node_of.get(netns, "?"), netns, kind, subject, message))

    for step in plan.steps:
        if isinstance(step, AddNamespace) and not snapshots[step.netns].exists:
            add(
                step.netns,
                "namespace-missing",
                step.netns,
                f"namespace {step.netns} of {step.node} is gone",
            )
    present = {netns for netns, snapshot in snapshots.items() if snapshot.exists}
    down = {(s.netns, s.name) for s in plan.steps if isinstance(s, SetLinkState) and not s.up}
    # The 8021q module takes a parent's VLAN sub-interfaces down with it.
    down |= {
        (s.netns, s.name)
        for s in plan.steps
        if isinstance(s, AddVlanLink) and (s.netns, s.parent) in down
    }
    for netns, name in _links(plan):
        if netns not in present:
            continue
        link = snapshots[netns].links.get(name)
        if link is None:
            add(netns, "link-missing", name, f"link {name} is missing")
        elif (netns, name) in down:
            if link.up:
                add(netns, "link-up", name, f"link {name} is up; the design has it down")
        elif not link.up:
            add(netns, "link-down", name, f"link {name} is down")
    _check_link_settings(plan, snapshots, present, add)
    _check_vlans(plan, snapshots, present, add)
    _check_tunnels(plan, snapshots, present, add)
    for step in plan.steps:
        if isinstance(step, AddAddress) and step.netns in present:
            _check_address(step, snapshots[step.netns], add)
        elif isinstance(step, AddRoute) and step.netns in present:
            if _route_key(step) not in snapshots[step.netns].routes:
                add(
                    step.netns,
                    "route-missing",
                    step.to,
                    f"route {step.to}{' via ' + step.via if step.via else ''} is missing",
                )
        elif isinstance(step, ApplyNftables) and step.netns in present:
            _check_nft(step, snapshots[step.netns], add)
    return drifts


def _check_link_settings(
    plan: Plan, snapshots: dict[str | None, NamespaceState], present: set[str | None], add: Any
) -> None:
    """MTUs, and each link's root qdisc: the impairment's, or none of netlab's kinds."""
    impaired = {(s.netns, s.dev): s for s in plan.steps if isinstance(s, SetQdisc)}
    for step in plan.steps:
        if isinstance(step, SetMtu | AddVxlan) and step.netns in present:
            link = snapshots[step.netns].links.get(step.name)
            if link is not None and link.mtu != step.mtu:
                add(
                    step.netns,
                    "mtu-changed",
                    step.name,
                    f"{step.name} has MTU {link.mtu} instead of {step.mtu}",
                )
    for netns, name in _links(plan):
        if netns not in present or name not in snapshots[netns].links:
            continue
        found = snapshots[netns].root_qdiscs.get(name)
        wanted = impaired.get((netns, name))
        if wanted is not None:
            difference = qdisc.difference(wanted, found)
            if difference is not None:
                held = found.get_attr("TCA_KIND") if found is not None else None
                kind = "qdisc-missing" if held not in ("netem", "tbf") else "qdisc-changed"
                add(netns, kind, name, difference)
        elif found is not None and found.get_attr("TCA_KIND") in ("netem", "tbf"):
            kind = found.get_attr("TCA_KIND")
            add(netns, "qdisc-unexpected", name, f"{name} has a {kind} qdisc the design lacks")


def _check_vlans(
    plan: Plan, snapshots: dict[str | None, NamespaceState], present: set[str | None], add: Any
) -> None:
    """Filtering bridges filter; each port given VLANs has exactly those, its access VLAN
    untagged (pvid), its trunk's tagged."""
    wanted: dict[tuple[str | None, str], dict[int, bool]] = {}
    for step in plan.steps:
        if getattr(step, "netns", None) not in present:
            continue
        if isinstance(step, SetVlanFiltering) and step.on:
            link = snapshots[step.netns].links.get(step.name)
            if link is not None and not link.vlan_filtering:
                add(
                    step.netns,
                    "vlan-filtering-off",
                    step.name,
                    f"bridge {step.name} does not filter VLANs; the design has it filter",
                )
        elif isinstance(step, AddBridgeVlan):
            wanted.setdefault((step.netns, step.dev), {})[step.vlan] = step.untagged
        elif isinstance(step, DeleteBridgeVlan):
            wanted.setdefault((step.netns, step.dev), {})
    for (netns, dev), vlans in wanted.items():
        if dev not in snapshots[netns].links:
            continue  # reported as a missing link
        held = snapshots[netns].port_vlans.get(dev, {})
        for vlan, untagged in sorted(vlans.items()):
            how = "untagged" if untagged else "tagged"
            if vlan not in held:
                add(netns, "vlan-missing", dev, f"{dev} is not in VLAN {vlan} ({how})")
            elif held[vlan] != untagged:
                add(netns, "vlan-changed", dev, f"{dev} is in VLAN {vlan} but not {how}")
        for vlan in sorted(set(held) - set(vlans)):
            add(netns, "vlan-unexpected", dev, f"{dev} is in VLAN {vlan}, which the design lacks")


def _vlan_filtering(message: Any) -> bool | None:
    info = attr(message, "IFLA_LINKINFO")
    if info is None or info.get_attr("IFLA_INFO_KIND") != "bridge":
        return None
    data = info.get_attr("IFLA_INFO_DATA")
    return bool(data.get_attr("IFLA_BR_VLAN_FILTERING")) if data is not None else None


def _tunnel(message: Any) -> tuple[int, str, str] | None:
    info = attr(message, "IFLA_LINKINFO")
    if info is None or info.get_attr("IFLA_INFO_KIND") != "vxlan":
        return None
    data = info.get_attr("IFLA_INFO_DATA")
    if data is None:
        return None
    local = data.get_attr("IFLA_VXLAN_LOCAL") or data.get_attr("IFLA_VXLAN_LOCAL6")
    remote = data.get_attr("IFLA_VXLAN_GROUP") or data.get_attr("IFLA_VXLAN_GROUP6")
    return (data.get_attr("IFLA_VXLAN_ID"), str(local), str(remote))


def _check_tunnels(
    plan: Plan, snapshots: dict[str | None, NamespaceState], present: set[str | None], add: Any
) -> None:
    """A tunnel's end: still a VXLAN device with the VNI and the underlay addresses it had."""
    for step in plan.steps:
        if not isinstance(step, AddVxlan) or step.netns not in present:
            continue
        link = snapshots[step.netns].links.get(step.name)
        wanted = (step.vni, step.local, step.remote)
        if link is not None and link.tunnel != wanted:
            found = "not a VXLAN device" if link.tunnel is None else (
                f"VXLAN {link.tunnel[0]} from {link.tunnel[1]} to {link.tunnel[2]}"
            )  # fmt: skip
            add(
                step.netns,
                "tunnel-changed",
                step.name,
                f"{step.name} is {found}, not VXLAN {step.vni} from {step.local} to {step.remote}",
            )


def _links(plan: Plan) -> list[tuple[str | None, str]]:
    found: list[tuple[str | None, str]] = []
    for step in plan.steps:
        if isinstance(step, AddBridge | AddVeth | SetLinkUp | AddVlanLink | AddVxlan):
            found.append((step.netns, step.name))
    return list(dict.fromkeys(found))  # a tunnel's end is made, then brought up


def _check_address(step: AddAddress, snapshot: NamespaceState, add: Any) -> None:
    link = snapshot.links.get(step.dev)
    if link is None:
        return  # reported as a missing link
    wanted = addressing.parse_interface_address(step.address)
    held = [ipaddress.ip_interface(text) for text in link.addresses]
    if wanted in held:
        return
    same_ip = [text for text in held if text.ip == wanted.ip]
    if same_ip:
        add(
            snapshot.netns,
            "address-changed",
            step.address,
            f"{step.dev} has {same_ip[0]} instead of {step.address}",
        )
    else:
        add(
            snapshot.netns,
            "address-missing",
            step.address,
            f"address {step.address} is missing on {step.dev}",
        )


def _route_key(step: AddRoute) -> tuple[str, str | None, str | None]:
    destination = addressing.parse_route_destination(step.to)
    if destination is None:
        destination = ipaddress.ip_network("0.0.0.0/0" if step.version == 4 else "::/0")
    return (f"{destination.network_address}/{destination.prefixlen}", step.via, step.dev)


def _check_nft(step: ApplyNftables, snapshot: NamespaceState, add: Any) -> None:
    if snapshot.nft is None:
        add(
            snapshot.netns,
            "nftables-table-missing",
            step.table,
            f"nftables table inet {step.table} is missing",
        )
        return
    expected: Counter[str] = Counter()
    for command in step.ruleset()["nftables"]:
        rule = command["add"].get("rule")
        if rule is not None:
            expected[rule["chain"]] += 1
    found: Counter[str] = Counter(item["rule"]["chain"] for item in snapshot.nft if "rule" in item)
    for chain, count in sorted(expected.items()):
        if found[chain] < count:
            add(
                snapshot.netns,
                "nftables-rule-missing",
                f"{step.table}/{chain}",
                f"chain {chain} of table {step.table} has {found[chain]} of its {count} rules",
            )


def marked(snapshot: NamespaceState, tag: str) -> list[LinkState]:
    """Return the links of ``snapshot`` carrying ``tag``'s mark, loopback excepted."""
    mark = names.ownership_mark(tag)
    return [link for link in snapshot.links.values() if link.alias == mark and link.name != "lo"]
