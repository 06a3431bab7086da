"""VLANs in the plan: the steps, their shell text, the script, and live changes.

The change rows run on the change planner's model of the kernel (tests/unit/test_change_plan.py)
taught VLANs here, as the kernel keeps them: a port enslaved to a bridge is born in VLAN 1
(untagged, its pvid), a sub-interface goes with its parent, a port's VLANs with the port.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any

import pytest
from factories import DELETE, changed, vlan_design_data
from test_change_plan import Kernel, KernelError, change

from netlab.core.features import needs, refusal
from netlab.core.plan import (
    AddAddress,
    AddBridgeVlan,
    AddRoute,
    AddVeth,
    AddVlanLink,
    ChangePlan,
    DeleteBridgeVlan,
    Naming,
    Plan,
    SetLinkUp,
    SetVlanFiltering,
    compile_plan,
    render_script,
)
from netlab.core.validation import load

TAG = "abc123"
STICK = vlan_design_data()
HOST, RED, BLUE, ROUTER = "nl-abc123-0", "nl-abc123-1", "nl-abc123-2", "nl-abc123-3"


def plan_of(data: dict[str, Any]) -> Plan:
    return compile_plan(load(data), Naming(TAG, "nl-"))


def shell_of(plan: Plan, *kinds: type) -> list[str]:
    return [line for step in plan.steps if isinstance(step, kinds) for line in step.shell]


def test_the_bridge_filters_before_it_has_ports() -> None:
    plan = plan_of(STICK)
    assert shell_of(plan, SetVlanFiltering) == [
        f"ip -n {HOST} link set br0 type bridge vlan_filtering 1"
    ]
    actions = [step.action for step in plan.steps]
    assert actions.index("set-vlan-filtering") < actions.index("add-veth")


def test_access_ports_and_a_trunk_leave_vlan_1() -> None:
    """An access port: its VLAN untagged (pvid), then VLAN 1 off; a trunk: its VLANs tagged,
    then VLAN 1 off; all after the ports are enslaved and up."""
    plan = plan_of(STICK)
    assert shell_of(plan, AddBridgeVlan, DeleteBridgeVlan) == [
        f"bridge -n {HOST} vlan add dev p-red vid 10 pvid untagged",
        f"bridge -n {HOST} vlan del dev p-red vid 1",
        f"bridge -n {HOST} vlan add dev p-blue vid 20 pvid untagged",
        f"bridge -n {HOST} vlan del dev p-blue vid 1",
        f"bridge -n {HOST} vlan add dev p-router vid 10",
        f"bridge -n {HOST} vlan add dev p-router vid 20",
        f"bridge -n {HOST} vlan del dev p-router vid 1",
    ]
    actions = [step.action for step in plan.steps]
    last_up = max(i for i, a in enumerate(actions) if a in ("add-veth", "set-link-up"))
    assert last_up < actions.index("add-bridge-vlan")


@pytest.mark.parametrize(
    ("end", "lines"),
    [
        pytest.param({"vlan": 1}, ["vlan add dev p-red vid 1 pvid untagged"], id="access-vlan-1"),
        pytest.param(
            {"vlan": DELETE, "trunk": [1, 30]},
            ["vlan add dev p-red vid 1", "vlan add dev p-red vid 30"],
            id="a-trunk-of-vlan-1-keeps-it-tagged",
        ),
        pytest.param({"vlan": DELETE}, [], id="a-plain-port-stays-in-vlan-1"),
    ],
)
def test_vlan_1(end: dict[str, Any], lines: list[str]) -> None:
    data = changed(STICK, {f"links[0].endpoints[1].{key}": value for key, value in end.items()})
    red_port = [
        step
        for step in plan_of(data).steps
        if isinstance(step, AddBridgeVlan | DeleteBridgeVlan) and step.dev == "p-red"
    ]
    assert [line.split(f"{HOST} ")[1] for s in red_port for line in s.shell] == lines


def test_sub_interfaces_are_made_on_their_parent_then_addressed_and_routed() -> None:
    plan = plan_of(STICK)
    assert shell_of(plan, AddVlanLink) == [
        f"ip -n {ROUTER} link add link eth0 name eth0.10 up type vlan id 10",
        f"ip -n {ROUTER} link set eth0.10 alias netlab:abc123",
        f"ip -n {ROUTER} link add link eth0 name eth0.20 up type vlan id 20",
        f"ip -n {ROUTER} link set eth0.20 alias netlab:abc123",
    ]
    addresses = [s for s in plan.steps if isinstance(s, AddAddress) and s.node == "router"]
    assert [(s.dev, s.address) for s in addresses] == [
        ("eth0.10", "10.0.10.1/24"),
        ("eth0.20", "10.0.20.1/24"),
    ]
    # On an up parent (a VLAN cannot come up on a down one), then its addresses.
    steps = plan.steps
    up = max(i for i, s in enumerate(steps) if isinstance(s, SetLinkUp) and s.node == "router")
    made = steps.index(next(s for s in steps if isinstance(s, AddVlanLink)))
    assert up < made < steps.index(addresses[0])
    routed = changed(STICK, {"nodes[4].routes": [{"to": "10.9.0.0/16", "via": "10.0.20.2"}]})
    (route,) = [s for s in plan_of(routed).steps if isinstance(s, AddRoute) and s.node == "router"]
    assert route.dev == "eth0.20"


def test_a_named_sub_interface() -> None:
    plan = plan_of(changed(STICK, {"nodes[4].subinterfaces[0].name": "to-red"}))
    assert shell_of(plan, AddVlanLink)[0] == (
        f"ip -n {ROUTER} link add link eth0 name to-red up type vlan id 10"
    )


def test_a_sub_interface_of_a_down_link_has_no_routes() -> None:
    data = changed(
        STICK,
        {"links[2].up": False, "nodes[4].routes": [{"to": "10.9.0.0/16", "via": "10.0.20.2"}]},
    )
    assert not [s for s in plan_of(data).steps if isinstance(s, AddRoute) and s.node == "router"]


def test_the_script_has_the_steps_and_is_valid_bash() -> None:
    script = render_script(plan_of(STICK))
    assert f"ip -n {HOST} link set br0 type bridge vlan_filtering 1\n" in script
    assert f"bridge -n {HOST} vlan add dev p-red vid 10 pvid untagged\n" in script
    assert f"bridge -n {HOST} vlan del dev p-router vid 1\n" in script
    assert f"ip -n {ROUTER} link add link eth0 name eth0.20 up type vlan id 20\n" in script
    assert f"ip -n {ROUTER} addr add 10.0.20.1/24 dev eth0.20\n" in script
    bash = shutil.which("bash")
    assert bash is not None
    subprocess.run([bash, "-n"], input=script, text=True, check=True)


def test_host_mode_writes_bridge_without_a_namespace() -> None:
    plan = compile_plan(load(STICK), Naming(TAG, "nl-", host_mode=True))
    assert shell_of(plan, DeleteBridgeVlan)[0] == "bridge vlan del dev p-red vid 1"


# -- live changes, on the model of the kernel ------------------------------------------------------


@dataclass
class VlanKernel(Kernel):
    """The change planner's kernel model, with bridges' filtering, ports' VLANs (``{vid:
    untagged}``) and sub-interfaces."""

    filtering: dict[tuple[Any, str], bool] = field(default_factory=dict)
    port_vlans: dict[tuple[Any, str], dict[int, bool]] = field(default_factory=dict)

    def set_vlan_filtering(self, step: SetVlanFiltering) -> None:
        self._need_link((step.netns, step.name))
        self.filtering[step.netns, step.name] = step.on
        if not step.on:
            del self.filtering[step.netns, step.name]

    def add_veth(self, step: AddVeth) -> None:
        super().add_veth(step)
        if step.master is not None:
            self.port_vlans[step.netns, step.name] = {1: True}

    def set_link_up(self, step: SetLinkUp) -> None:
        super().set_link_up(step)
        if step.master is not None:
            self.port_vlans.setdefault((step.netns, step.name), {1: True})

    def add_vlan_link(self, step: AddVlanLink) -> None:
        self._need_link((step.netns, step.parent))
        self._add_link((step.netns, step.name), None, None, up=True)
        self.links[step.netns, step.name]["parent"] = step.parent

    def add_bridge_vlan(self, step: AddBridgeVlan) -> None:
        vlans = self.port_vlans.get((step.netns, step.dev))
        if vlans is None:
            raise KernelError(f"{step.dev} is no bridge port")
        if step.untagged:  # one pvid per port
            for vid in vlans:
                vlans[vid] = False
        vlans[step.vlan] = step.untagged

    def delete_bridge_vlan(self, step: DeleteBridgeVlan) -> None:
        vlans = self.port_vlans.get((step.netns, step.dev), {})
        if vlans.pop(step.vlan, None) is None:
            raise KernelError("RTNETLINK answers: No such file or directory")

    def _remove_link(self, key: tuple[Any, str]) -> None:
        peer = self.links[key]["peer"]
        children = [
            child
            for child, link in self.links.items()
            for parent in (key, peer)
            if parent is not None and child[0] == parent[0] and link.get("parent") == parent[1]
        ]
        super()._remove_link(key)
        for gone in (key, peer):
            self.port_vlans.pop(gone, None)
            self.filtering.pop(gone, None)
        for child in children:
            if child in self.links:
                self._remove_link(child)


def on_the_model(plan: ChangePlan) -> None:
    after = VlanKernel().apply(plan.old.steps).apply(plan.steps)
    assert after.shown() == VlanKernel().apply(plan.new.steps).shown()


CHANGES = [
    pytest.param(
        STICK,
        changed(STICK, {"links[0].endpoints[1].vlan": 20}),
        ["delete-bridge-vlan", "add-bridge-vlan"],
        id="access-port-moved-to-another-vlan",
    ),
    pytest.param(
        STICK,
        changed(STICK, {"links[2].endpoints[1].trunk[2]": 30}),
        ["add-bridge-vlan"],
        id="a-vlan-added-to-a-trunk",
    ),
    pytest.param(
        STICK,
        changed(STICK, {"links[0].endpoints[1].vlan": DELETE}),
        ["add-bridge-vlan", "delete-bridge-vlan"],
        id="access-port-made-plain-is-back-in-vlan-1",
    ),
    pytest.param(
        changed(STICK, {"links[0].endpoints[1].vlan": DELETE}),
        STICK,
        ["add-bridge-vlan", "delete-bridge-vlan"],
        id="plain-port-made-an-access-port",
    ),
    pytest.param(
        STICK,
        changed(STICK, {"nodes[4].subinterfaces[2]": {"parent": "eth0", "vlan": 30}}),
        ["add-vlan-link"],
        id="a-sub-interface-added",
    ),
    pytest.param(
        STICK,
        changed(STICK, {"nodes[4].subinterfaces[1].addresses[0]": "10.0.21.1/24",
                        "nodes[3].routes[0].via": "10.0.21.1",
                        "links[1].endpoints[0].addresses[0]": "10.0.21.2/24"}),
        None,
        id="a-sub-interface-readdressed",
    ),
    pytest.param(
        STICK,
        changed(STICK, {"nodes[4].subinterfaces[1]": DELETE, "nodes[3].routes": DELETE}),
        ["delete-route", "delete-link"],
        id="a-sub-interface-removed",
    ),
    pytest.param(
        STICK,
        changed(STICK, {"links[2].endpoints[0].interface": "uplink",
                        "nodes[4].subinterfaces[0].parent": "uplink",
                        "nodes[4].subinterfaces[1].parent": "uplink"}),
        None,
        id="a-recreated-parent-recreates-its-sub-interfaces-and-port-vlans",
    ),
    pytest.param(
        changed(
            STICK,
            {
                "nodes[1].vlan_filtering": DELETE,
                "links[0].endpoints[1].vlan": DELETE,
                "links[1].endpoints[1].vlan": DELETE,
                "links[2].endpoints[1].trunk": DELETE,
            },
        ),
        STICK,
        None,
        id="filtering-switched-on",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "actions"), CHANGES)
def test_live_changes(old: dict[str, Any], new: dict[str, Any], actions: list[str] | None) -> None:
    """Each edit is the smallest steps, and on the model ends as the new revision built anew;
    so does the change back."""
    plan = change(old, new)
    if actions is not None:
        assert [step.action for step in plan.steps] == actions
    on_the_model(plan)
    on_the_model(change(new, old))


def test_vlan_filtering_switched_off_is_written_in_place() -> None:
    old = changed(STICK, {"nodes[4].subinterfaces": DELETE, "nodes[2].routes": DELETE,
                          "nodes[3].routes": DELETE})  # fmt: skip
    new = changed(
        old,
        {
            "nodes[1].vlan_filtering": DELETE,
            "links[0].endpoints[1].vlan": DELETE,
            "links[1].endpoints[1].vlan": DELETE,
            "links[2].endpoints[1].trunk": DELETE,
        },
    )
    plan = change(old, new)
    assert shell_of(plan.new, SetVlanFiltering) == []
    lines = [line for step in plan.steps for line in step.shell]
    assert f"ip -n {HOST} link set br0 type bridge vlan_filtering 0" in lines
    assert "delete-link" not in [step.action for step in plan.steps]


# -- what a design needs of the kernel ------------------------------------------------------------


def test_needs_name_the_element_the_feature_and_the_kernel_option() -> None:
    assert [refusal(need) for need in needs(load(STICK))] == [
        "bridge br0: VLAN filtering needs the kernel's bridge VLAN filtering "
        "(CONFIG_BRIDGE_VLAN_FILTERING), which this kernel lacks",
        "namespace router: sub-interface eth0.10 needs the kernel's 802.1Q VLANs "
        "(CONFIG_VLAN_8021Q), which this kernel lacks",
    ]
