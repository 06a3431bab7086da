"""The change planner: a running revision and a new one in, the smallest exact steps out.

Each edit of the table is checked two ways: the steps themselves (what is removed, added,
replaced, recreated), and on a small model of the kernel (below) that a lab built from the
old plan and then changed ends equal to one built from the new plan, with no step failing as
the kernel's would (an address or route added twice, a link deleted that is not there). The
real kernel's side of the same claim is tests/kernel's.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from typing import Any

import pytest
from factories import DELETE, changed, endpoint, link, node, route, service, tutorial_data

from netlab.bench import star_data
from netlab.core import names
from netlab.core.plan import (
    AddAddress,
    AddBridge,
    AddNamespace,
    AddRoute,
    AddVeth,
    ApplyNftables,
    ChangePlan,
    DeleteAddress,
    DeleteLink,
    DeleteNamespace,
    DeleteNftables,
    DeleteRoute,
    Naming,
    Plan,
    SetLinkUp,
    SetSysctl,
    StartServices,
    Step,
    StopServices,
    compile_plan,
    plan_change,
)
from netlab.core.validation import load

TAG = "abc123"
NAMING = Naming(TAG, "nl-")


def change(old: dict[str, Any], new: dict[str, Any]) -> ChangePlan:
    running = compile_plan(load(old), NAMING)
    naming = NAMING.following(dict(running.namespaces))
    return plan_change(load(old), load(new), naming)


def kinds(plan: ChangePlan) -> list[str]:
    return [step.action for step in plan.steps]


# -- a small model of the kernel ------------------------------------------------------------------


class KernelError(Exception):
    pass


@dataclass
class Kernel:
    """What a lab's namespaces hold, changed as the kernel changes it."""

    namespaces: set[str] = field(default_factory=set)
    links: dict[tuple[Any, str], dict[str, Any]] = field(default_factory=dict)  # peer, master, up
    addresses: set[tuple[Any, str, str]] = field(default_factory=set)
    routes: dict[tuple[Any, int, str], tuple[Any, Any]] = field(default_factory=dict)
    sysctls: dict[tuple[Any, str], str] = field(default_factory=dict)
    tables: dict[tuple[Any, str], Any] = field(default_factory=dict)
    services: tuple[Any, ...] = ()

    def apply(self, steps: tuple[Step, ...] | list[Step]) -> Kernel:
        for step in steps:
            getattr(self, step.action.replace("-", "_"))(step)
        return self

    def _need_link(self, key: tuple[Any, str]) -> dict[str, Any]:
        if key not in self.links:
            raise KernelError(f"Cannot find device {key}")
        return self.links[key]

    def _need_netns(self, netns: str | None) -> None:
        if netns is not None and netns not in self.namespaces:
            raise KernelError(f"no namespace {netns}")

    def add_namespace(self, step: AddNamespace) -> None:
        if step.netns in self.namespaces:
            raise KernelError(f"namespace {step.netns} exists")
        self.namespaces.add(step.netns)

    def delete_namespace(self, step: DeleteNamespace) -> None:
        self._need_netns(step.netns)
        for key in [key for key in self.links if key[0] == step.netns]:
            if key in self.links:
                self._remove_link(key)
        self.namespaces.discard(step.netns)
        for store in (self.sysctls, self.tables):
            for key in [key for key in store if key[0] == step.netns]:
                del store[key]

    def add_bridge(self, step: AddBridge) -> None:
        self._add_link((step.netns, step.name), None, None, up=True)

    def add_veth(self, step: AddVeth) -> None:
        end, peer = (step.netns, step.name), (step.peer_netns, step.peer_name)
        self._need_netns(step.peer_netns)
        if step.master is not None:
            self._need_link((step.netns, step.master))
        self._add_link(end, peer, step.master, up=True)
        self._add_link(peer, end, None, up=False)

    def _add_link(self, key: tuple[Any, str], peer: Any, master: Any, *, up: bool) -> None:
        self._need_netns(key[0])
        if key in self.links:
            raise KernelError(f"{key}: File exists")
        self.links[key] = {"peer": peer, "master": master, "up": up}

    def set_link_up(self, step: SetLinkUp) -> None:
        link = self._need_link((step.netns, step.name))
        link.update(up=True, master=step.master)
        if step.master is not None:
            self._need_link((step.netns, step.master))

    def delete_link(self, step: DeleteLink) -> None:
        self._need_link((step.netns, step.name))
        self._remove_link((step.netns, step.name))

    def _remove_link(self, key: tuple[Any, str]) -> None:
        removed = [key]
        peer = self.links[key]["peer"]
        if peer is not None:
            removed.append(peer)
        for gone in removed:
            del self.links[gone]
            self.addresses = {a for a in self.addresses if (a[0], a[1]) != gone}
            self.routes = {k: v for k, v in self.routes.items() if (k[0], v[1]) != gone}
            for other in self.links.values():  # a bridge releases its ports
                if other["master"] == gone[1]:
                    other["master"] = None

    def add_address(self, step: AddAddress) -> None:
        self._need_link((step.netns, step.dev))
        if (step.netns, step.dev, step.address) in self.addresses:
            raise KernelError("RTNETLINK answers: File exists")
        self.addresses.add((step.netns, step.dev, step.address))

    def delete_address(self, step: DeleteAddress) -> None:
        key = (step.netns, step.dev, step.address)
        if key not in self.addresses:
            raise KernelError("Cannot assign requested address")
        self.addresses.discard(key)
        # The kernel flushes the gateway routes of the interface (its only address here).
        self.routes = {
            k: v for k, v in self.routes.items() if not (k[0] == step.netns and v[1] == step.dev)
        }

    def set_sysctl(self, step: SetSysctl) -> None:
        self._need_netns(step.netns)
        self.sysctls[step.netns, step.key] = step.value

    def add_route(self, step: AddRoute) -> None:
        key = (step.netns, step.version, step.destination)
        if step.dev is not None:
            self._need_link((step.netns, step.dev))
        if key in self.routes and not step.replace:
            raise KernelError("RTNETLINK answers: File exists")
        self.routes[key] = (step.via, step.dev)

    def delete_route(self, step: DeleteRoute) -> None:
        key = (step.netns, step.route.version, step.route.destination)
        if self.routes.get(key) != (step.route.via, step.route.dev):
            raise KernelError("RTNETLINK answers: No such process")
        del self.routes[key]

    def apply_nftables(self, step: ApplyNftables) -> None:
        self._need_netns(step.netns)
        key = (step.netns, step.table)
        if key in self.tables and not step.replace:
            raise KernelError("table exists")
        self.tables[key] = (step.nat, step.port_forwards)

    def delete_nftables(self, step: DeleteNftables) -> None:
        del self.tables[step.netns, step.table]

    def start_services(self, step: StartServices) -> None:
        if self.services:
            raise KernelError("the responder runs")
        self.services = step.services

    def stop_services(self, step: StopServices) -> None:
        self.services = ()

    def shown(self) -> Kernel:
        """The state with forwarding off left out (a namespace starts with it off)."""
        shown = copy.deepcopy(self)
        shown.sysctls = {key: value for key, value in self.sysctls.items() if value != "0"}
        return shown


def built(plan: Plan) -> Kernel:
    return Kernel().apply(plan.steps)


def check_on_the_model(plan: ChangePlan) -> None:
    after = built(plan.old).apply(plan.steps)
    assert after.shown() == built(plan.new).shown()


# -- the table of edits ---------------------------------------------------------------------------

T2, T3, T4 = tutorial_data(2), tutorial_data(3), tutorial_data(4)


def test_moving_and_relabelling_nodes_is_an_empty_plan() -> None:
    new = changed(T3, {"nodes[2].position": {"x": 10, "y": 10}, "nodes[2].label": "the red one"})
    plan = change(T3, new)
    assert plan.empty
    assert plan.recreated == ()


def test_adding_a_route_adds_only_that_route() -> None:
    new = changed(T3, {"nodes[4].routes": [route("default", via="192.168.1.2")]})
    plan = change(T3, new)
    assert plan.steps == (
        AddRoute(node="lan", netns="nl-abc123-3", to="default", via="192.168.1.2", dev="eth0",
                 version=4),
    )  # fmt: skip
    check_on_the_model(plan)


def test_removing_a_route_deletes_it() -> None:
    plan = change(T3, changed(T3, {"nodes[3].routes[0]": DELETE}))
    assert kinds(plan) == ["delete-route"]
    assert plan.steps[0].shell == ("ip -n nl-abc123-2 route del 192.168.1.0/24 via 192.168.15.5 dev veth-blue",)  # fmt: skip  # noqa: E501
    check_on_the_model(plan)


def test_a_changed_gateway_replaces_the_route_in_place() -> None:
    plan = change(T3, changed(T3, {"nodes[2].routes[0].via": "192.168.15.2"}))
    assert kinds(plan) == ["add-route"]
    assert plan.steps[0].shell == ("ip -n nl-abc123-1 route replace default via 192.168.15.2 dev veth-red",)  # fmt: skip  # noqa: E501
    check_on_the_model(plan)


def test_a_new_node_gets_a_new_namespace_and_nothing_else_moves() -> None:
    new = changed(
        T3,
        {
            "nodes[0]": node("green"),  # first in document order: numbering must not shift
            "nodes[5]": T3["nodes"][0],
            "links[3]": link(endpoint("green", "veth-green", "192.168.15.3/24"),
                             endpoint("v-net-0", "veth-green-br")),
        },
    )  # fmt: skip
    new["nodes"] = [new["nodes"][0], *T3["nodes"]]
    plan = change(T3, new)
    assert kinds(plan) == ["add-namespace", "add-veth", "add-address", "set-link-up"]
    assert plan.namespaces["green"] == "nl-abc123-4"  # after every running name
    assert {node: plan.namespaces[node] for node in ("host", "red", "blue", "lan")} == {
        "host": "nl-abc123-0", "red": "nl-abc123-1", "blue": "nl-abc123-2", "lan": "nl-abc123-3",
    }  # fmt: skip
    check_on_the_model(plan)


def test_removing_a_node_deletes_its_namespace_with_its_links() -> None:
    new = changed(T3, {"links[2]": DELETE, "nodes[4]": DELETE})
    plan = change(T3, new)
    assert plan.steps == (DeleteNamespace(node="lan", netns="nl-abc123-3"),)
    check_on_the_model(plan)


def test_a_removed_namespace_number_is_never_given_to_a_new_node() -> None:
    without_lan = changed(T3, {"links[2]": DELETE, "nodes[4]": DELETE})
    running = compile_plan(load(T3), NAMING)
    naming = NAMING.following(dict(running.namespaces))  # lan's nl-abc123-3 recorded
    with_green = changed(without_lan, {"nodes[4]": node("green")})
    assert naming.namespaces(load(with_green))["green"] == "nl-abc123-4"


def test_a_changed_address_is_swapped_and_the_routes_it_carried_come_back() -> None:
    plan = change(T3, changed(T3, {"links[0].endpoints[0].addresses": ["192.168.15.7/24"]}))
    assert kinds(plan) == ["delete-address", "add-address", "add-route"]
    route_back = plan.steps[2]
    assert isinstance(route_back, AddRoute)
    assert route_back.replace
    assert [str(item) for item in plan.recreated] == [
        "route default via 192.168.15.5 in red: recreated, red's veth-red loses address "
        "192.168.15.1/24"
    ]
    check_on_the_model(plan)


def test_forwarding_turned_off_writes_zero() -> None:
    plan = change(T3, changed(T3, {"nodes[0].forwarding": False}))
    assert plan.steps == (
        SetSysctl(node="host", netns="nl-abc123-0", key="net.ipv4.ip_forward", value="0"),
    )
    check_on_the_model(plan)


def test_changed_nat_replaces_the_table_in_one_transaction() -> None:
    plan = change(T3, changed(T3, {"nodes[0].nat[0].source": "192.168.0.0/16"}))
    assert kinds(plan) == ["apply-nftables"]
    step = plan.steps[0]
    assert isinstance(step, ApplyNftables)
    assert step.replace
    commands = step.ruleset()["nftables"]
    assert commands[:3] == [
        {"add": {"table": {"family": "inet", "name": "netlab_abc123"}}},
        {"delete": {"table": {"family": "inet", "name": "netlab_abc123"}}},
        {"add": {"table": {"family": "inet", "name": "netlab_abc123"}}},
    ]
    assert step.ruleset_text().startswith(
        "table inet netlab_abc123\ndelete table inet netlab_abc123\ntable inet netlab_abc123 {"
    )
    check_on_the_model(plan)


def test_removed_nat_deletes_the_table() -> None:
    plan = change(T3, changed(T3, {"nodes[0].nat": []}))
    assert kinds(plan) == ["delete-nftables"]
    assert plan.steps[0].shell == ("ip netns exec nl-abc123-0 nft delete table inet netlab_abc123",)  # fmt: skip  # noqa: E501
    check_on_the_model(plan)


def test_changed_services_restart_the_responder() -> None:
    plan = change(T4, changed(T4, {"nodes[3].services": [service("tcp", 7)]}))
    assert kinds(plan) == ["stop-services", "start-services"]
    check_on_the_model(plan)
    added = change(T3, changed(T3, {"nodes[2].services": [service("http", 80)]}))
    assert kinds(added) == ["start-services"]
    check_on_the_model(added)


def test_a_renamed_interface_recreates_its_link_and_what_was_on_it() -> None:
    plan = change(T3, changed(T3, {"links[0].endpoints[0].interface": "eth9"}))
    assert kinds(plan) == ["delete-link", "add-veth", "add-address", "set-link-up", "add-route"]
    assert isinstance(plan.steps[0], DeleteLink)
    assert plan.steps[0].name == "veth-red-br"
    check_on_the_model(plan)


def test_a_bridge_moved_to_another_namespace_says_what_is_recreated_and_why() -> None:
    old = changed(T2, {"nodes[4]": node("switch")})
    plan = change(old, changed(old, {"nodes[1].in": "switch"}))
    assert kinds(plan) == [
        *["delete-link"] * 3,  # the two links' bridge ends, then the bridge
        "add-bridge", "add-veth", "add-veth", "add-address", "add-address", "add-address",
        "set-link-up", "set-link-up",
        *["set-sysctl"] * 2,  # bridge netfilter off in switch, now a bridge's namespace
    ]  # fmt: skip
    assert {item.reason for item in plan.recreated} == {"bridge v-net-0 moves from host to switch"}
    assert {item.step.action for item in plan.recreated} == {"add-address", "set-link-up"}
    check_on_the_model(plan)


def test_a_bridge_address_change_touches_only_the_bridge() -> None:
    plan = change(T3, changed(T3, {"nodes[1].addresses": ["192.168.15.5/24", "10.0.0.1/24"]}))
    assert plan.steps == (
        AddAddress(node="v-net-0", netns="nl-abc123-0", dev="v-net-0", address="10.0.0.1/24"),
    )
    check_on_the_model(plan)


def test_each_tutorial_turns_into_the_next_and_back() -> None:
    tutorials = [tutorial_data(number) for number in (1, 2, 3, 4)]
    for old, new in itertools.pairwise(tutorials):
        check_on_the_model(change(old, new))
        check_on_the_model(change(new, old))


def test_the_change_is_the_size_of_the_edit_not_of_the_lab() -> None:
    star = star_data(200)
    extra = copy.deepcopy(star["links"][-1])
    for end in extra["endpoints"]:
        end["interface"] = end["interface"] + "x"
        end["addresses"] = []
    plan = change(star, {**star, "links": [*star["links"], extra]})
    assert kinds(plan) == ["add-veth", "set-link-up"]
    check_on_the_model(plan)


@pytest.mark.parametrize("number", [1, 2, 3, 4])
def test_an_unchanged_revision_is_an_empty_plan(number: int) -> None:
    data = tutorial_data(number)
    assert change(data, data).empty


def test_namespace_index_reads_only_this_deployments_names() -> None:
    assert names.namespace_index("nl-abc123-12", TAG, "nl-") == 12
    for other in ("nl-abc124-1", "nl-abc123-", "nl-abc123-1a", "x-abc123-1", "nl-abc123-\u0661"):
        assert names.namespace_index(other, TAG, "nl-") is None
