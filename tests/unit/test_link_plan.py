"""Impairments, MTU and link state in the plan: the steps, their shell text, and live changes.

The change rows run on the change planner's model of the kernel (tests/unit/test_change_plan.py)
taught MTUs, qdiscs and link states here, as the kernel keeps them: a link going down flushes
the routes out of it, a route cannot be added out of a down link, a deleted link takes its
qdisc and MTU with it.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any

import pytest
from factories import bridge, changed, design_data, endpoint, host, link, node, route
from test_change_plan import Kernel, KernelError, change

from netlab.core.document import Impairment
from netlab.core.features import needs, refusal
from netlab.core.impairments import impairment_summary, tbf_burst
from netlab.core.plan import (
    AddRoute,
    ChangePlan,
    DeleteQdisc,
    DeleteRoute,
    Naming,
    Plan,
    SetLinkState,
    SetLinkUp,
    SetMtu,
    SetQdisc,
    SetSysctl,
    compile_plan,
    render_script,
)
from netlab.core.validation import load

TAG = "abc123"
SMALL = design_data()  # red veth-red 192.168.15.1/24 -- blue veth-blue 192.168.15.2/24
RED, BLUE = "nl-abc123-1", "nl-abc123-2"


def plan_of(data: dict[str, Any]) -> Plan:
    return compile_plan(load(data), Naming(TAG, "nl-"))


def shell_of(plan: Plan, kind: type) -> list[str]:
    return [line for step in plan.steps if isinstance(step, kind) for line in step.shell]


def with_link(data: dict[str, Any] = SMALL, **fields: Any) -> dict[str, Any]:
    return changed(data, {f"links[0].{key}": value for key, value in fields.items()})


QDISCS = [
    pytest.param(
        {"delay_ms": 30, "jitter_ms": 5, "loss_percent": 1},
        "netem delay 30ms 5ms loss 1%",
        id="delay-jitter-loss",
    ),
    pytest.param(
        {"delay_ms": 0.5, "corrupt_percent": 0.1, "duplicate_percent": 2},
        "netem delay 0.5ms corrupt 0.1% duplicate 2%",
        id="fractions-corrupt-duplicate",
    ),
    pytest.param(
        {"loss_percent": 100, "rate_kbit": 10_000},
        "netem loss 100% rate 10000kbit",
        id="rate-rides-inside-netem",
    ),
    pytest.param(
        {"rate_kbit": 10_000},
        "tbf rate 10000kbit burst 12500 latency 100ms",
        id="rate-alone-is-a-token-bucket",
    ),
    pytest.param(
        {"rate_kbit": 64},
        "tbf rate 64kbit burst 3028 latency 100ms",
        id="slow-rate-bucket-holds-two-frames",
    ),
    pytest.param(
        {"rate_kbit": 10_000_000},
        "tbf rate 10000000kbit burst 12500000 latency 100ms",
        id="fastest-rate-keeps-its-digits",
    ),
]


@pytest.mark.parametrize(("impairment", "words"), QDISCS)
def test_an_impaired_link_sets_a_root_qdisc_on_both_ends(
    impairment: dict[str, Any], words: str
) -> None:
    """A link's impairment is each end's egress: one ``tc qdisc replace`` per end."""
    plan = plan_of(with_link(impairment=impairment))
    assert shell_of(plan, SetQdisc) == [
        f"tc -n {RED} qdisc replace dev veth-red root {words}",
        f"tc -n {BLUE} qdisc replace dev veth-blue root {words}",
    ]


def test_an_end_s_impairment_overrides_the_link_s_per_field() -> None:
    """red says 5 ms over the link's 30 ms and 1% loss; blue keeps the link's."""
    data = changed(
        with_link(impairment={"delay_ms": 30, "loss_percent": 1}),
        {"links[0].endpoints[0].impairment": {"delay_ms": 5}},
    )
    assert shell_of(plan_of(data), SetQdisc) == [
        f"tc -n {RED} qdisc replace dev veth-red root netem delay 5ms loss 1%",
        f"tc -n {BLUE} qdisc replace dev veth-blue root netem delay 30ms loss 1%",
    ]


def test_one_impaired_end_and_an_empty_impairment() -> None:
    """Only the impaired end gets a qdisc; ``{}`` impairs nothing."""
    data = changed(SMALL, {"links[0].endpoints[1].impairment": {"rate_kbit": 800}})
    (step,) = (s for s in plan_of(data).steps if isinstance(s, SetQdisc))
    assert (step.node, step.dev, step.kind) == ("blue", "veth-blue", "tbf")
    assert not [s for s in plan_of(with_link(impairment={})).steps if isinstance(s, SetQdisc)]


def test_the_mtu_is_set_on_both_ends_before_any_address() -> None:
    """``ip link set DEV mtu N`` on both ends, before the addresses (IPv6 needs it first)."""
    plan = plan_of(with_link(mtu=9000))
    assert shell_of(plan, SetMtu) == [
        f"ip -n {RED} link set veth-red mtu 9000",
        f"ip -n {BLUE} link set veth-blue mtu 9000",
    ]
    actions = [step.action for step in plan.steps]
    assert actions.index("set-mtu") < actions.index("add-address")


def test_a_bridge_port_s_mtu_is_set_in_the_bridge_s_namespace() -> None:
    data = design_data(
        nodes=[host(), bridge("br0", addresses=["10.0.0.1/24"]), node("red")],
        links=[
            {**link(endpoint("red", "eth0", "10.0.0.2/24"), endpoint("br0", "p0")), "mtu": 1400}
        ],
    )
    plan = plan_of(data)
    host_netns = plan.namespaces["host"]
    assert shell_of(plan, SetMtu) == [
        f"ip -n {plan.namespaces['red']} link set eth0 mtu 1400",
        f"ip -n {host_netns} link set p0 mtu 1400",
    ]
    # tbf's bucket follows the link's MTU: two frames of 1400 bytes.
    assert tbf_burst(64, 1400) == 2 * 1414


def test_a_down_link_goes_down_after_the_routes_and_routes_out_of_it_are_left_out() -> None:
    """Both ends ``ip link set DEV down`` last; a route out of a down link would be flushed."""
    data = changed(
        with_link(up=False),
        {"nodes[1].routes": [route("10.9.0.0/16", via="192.168.15.2")]},
    )
    plan = plan_of(data)
    assert shell_of(plan, SetLinkState) == [
        f"ip -n {RED} link set veth-red down",
        f"ip -n {BLUE} link set veth-blue down",
    ]
    assert not [step for step in plan.steps if isinstance(step, AddRoute)]
    actions = [step.action for step in plan.steps]
    assert actions.index("set-link-up") < actions.index("set-link-state")
    up = plan_of(changed(data, {"links[0].up": True}))
    assert [step.to for step in up.steps if isinstance(step, AddRoute)] == ["10.9.0.0/16"]


def test_a_down_link_with_ipv6_keeps_its_addresses() -> None:
    """The kernel drops IPv6 addresses of a link going down unless told to keep them."""
    data = changed(
        with_link(up=False),
        {
            "links[0].endpoints[0].addresses[1]": "fd00::1/64",
            "links[0].endpoints[1].addresses[1]": "fd00::2/64",
        },
    )
    keys = [(s.node, s.key) for s in plan_of(data).steps if isinstance(s, SetSysctl)]
    assert keys[2:] == [
        ("red", "net.ipv6.conf.all.keep_addr_on_down"),
        ("blue", "net.ipv6.conf.all.keep_addr_on_down"),
    ]


def test_the_script_has_the_steps_and_is_valid_bash() -> None:
    """The exported script impairs, sets the MTU and takes the link down, as netlab does."""
    data = with_link(
        impairment={"delay_ms": 30, "jitter_ms": 5, "loss_percent": 1, "rate_kbit": 10_000},
        mtu=1400,
        up=False,
    )
    script = render_script(plan_of(data))
    assert (
        f"tc -n {RED} qdisc replace dev veth-red root netem delay 30ms 5ms loss 1% "
        "rate 10000kbit\n" in script
    )
    assert f"ip -n {BLUE} link set veth-blue mtu 1400\n" in script
    assert f"ip -n {BLUE} link set veth-blue down\n" in script
    assert "impair red's veth-red (netem): 30 ms ± 5 ms" in script
    bash = shutil.which("bash")
    assert bash is not None
    subprocess.run([bash, "-n"], input=script, text=True, check=True)


@pytest.mark.parametrize(
    ("impairment", "text"),
    [
        pytest.param(
            {"delay_ms": 30, "loss_percent": 1, "rate_kbit": 10_000},
            "30 ms · 1% loss · 10 Mbit/s",
            id="the-issue-s-label",
        ),
        pytest.param({"delay_ms": 30, "jitter_ms": 5}, "30 ms ± 5 ms", id="jitter"),
        pytest.param({"rate_kbit": 512}, "512 kbit/s", id="kbit"),
        pytest.param({"rate_kbit": 1_500_000}, "1.5 Gbit/s", id="gbit"),
        pytest.param(
            {"corrupt_percent": 0.1, "duplicate_percent": 2},
            "0.1% corrupt · 2% duplicate",
            id="corrupt-duplicate",
        ),
    ],
)
def test_impairment_summary(impairment: dict[str, Any], text: str) -> None:
    assert impairment_summary(Impairment(**impairment)) == text


# -- live changes, on the model of the kernel ------------------------------------------------------


@dataclass
class LinkKernel(Kernel):
    """The change planner's kernel model, with MTUs, root qdiscs and links down."""

    mtus: dict[tuple[Any, str], int] = field(default_factory=dict)
    qdiscs: dict[tuple[Any, str], Impairment] = field(default_factory=dict)
    down: set[tuple[Any, str]] = field(default_factory=set)

    def set_mtu(self, step: SetMtu) -> None:
        key = (step.netns, step.name)
        self._need_link(key)
        self.mtus[key] = step.mtu
        if step.mtu == 1500:
            del self.mtus[key]

    def set_qdisc(self, step: SetQdisc) -> None:
        self._need_link((step.netns, step.dev))
        self.qdiscs[step.netns, step.dev] = step.impairment

    def delete_qdisc(self, step: DeleteQdisc) -> None:
        if self.qdiscs.pop((step.netns, step.dev), None) is None:
            raise KernelError("Error: Cannot delete qdisc with handle of zero.")

    def set_link_state(self, step: SetLinkState) -> None:
        key = (step.netns, step.name)
        self._need_link(key)
        if step.up:
            self.down.discard(key)
            return
        self.down.add(key)
        self.routes = {k: v for k, v in self.routes.items() if (k[0], v[1]) != key}

    def set_link_up(self, step: SetLinkUp) -> None:
        super().set_link_up(step)
        self.down.discard((step.netns, step.name))

    def add_route(self, step: AddRoute) -> None:
        if (step.netns, step.dev) in self.down:
            raise KernelError("Nexthop device is not up")
        super().add_route(step)

    def _remove_link(self, key: tuple[Any, str]) -> None:
        peer = self.links[key]["peer"]
        super()._remove_link(key)
        for gone in (key, peer):
            self.mtus.pop(gone, None)
            self.qdiscs.pop(gone, None)
            self.down.discard(gone)


def on_the_model(plan: ChangePlan) -> None:
    after = LinkKernel().apply(plan.old.steps).apply(plan.steps)
    assert after.shown() == LinkKernel().apply(plan.new.steps).shown()


ROUTED = changed(SMALL, {"nodes[1].routes": [route("10.9.0.0/16", via="192.168.15.2")]})
IMPAIRED = with_link(ROUTED, impairment={"delay_ms": 30})

CHANGES = [
    pytest.param(ROUTED, IMPAIRED, ["set-qdisc", "set-qdisc"], id="impairment-added"),
    pytest.param(
        IMPAIRED,
        with_link(ROUTED, impairment={"delay_ms": 50, "loss_percent": 1}),
        ["set-qdisc", "set-qdisc"],
        id="impairment-changed-is-replaced-in-place",
    ),
    pytest.param(
        IMPAIRED,
        changed(IMPAIRED, {"links[0].endpoints[1].impairment": {"delay_ms": 1}}),
        ["set-qdisc"],
        id="one-end-changed",
    ),
    pytest.param(IMPAIRED, ROUTED, ["delete-qdisc", "delete-qdisc"], id="impairment-removed"),
    pytest.param(ROUTED, with_link(ROUTED, mtu=9000), ["set-mtu", "set-mtu"], id="mtu-set"),
    pytest.param(
        with_link(ROUTED, mtu=9000),
        with_link(ROUTED, mtu=1400),
        ["set-mtu", "set-mtu"],
        id="mtu-changed",
    ),
    pytest.param(with_link(ROUTED, mtu=9000), ROUTED, ["set-mtu", "set-mtu"], id="mtu-removed"),
    pytest.param(
        ROUTED,
        with_link(ROUTED, up=False),
        ["delete-route", "set-link-state", "set-link-state"],
        id="link-down-removes-its-routes-first",
    ),
    pytest.param(
        with_link(ROUTED, up=False),
        ROUTED,
        ["set-link-state", "set-link-state", "add-route"],
        id="link-up-again-then-its-routes",
    ),
    pytest.param(
        with_link(IMPAIRED, up=False, mtu=1400),
        changed(IMPAIRED, {"links[0].endpoints[0].interface": "wan0", "links[0].up": False}),
        None,
        id="a-recreated-link-gets-its-qdisc-and-state-again",
    ),
]


@pytest.mark.parametrize(("old", "new", "actions"), CHANGES)
def test_live_changes(old: dict[str, Any], new: dict[str, Any], actions: list[str] | None) -> None:
    """Each edit is the smallest steps, and on the model ends as the new revision built anew;
    so does the change back."""
    plan = change(old, new)
    if actions is not None:
        assert [step.action for step in plan.steps] == actions
    on_the_model(plan)
    on_the_model(change(new, old))


def test_a_removed_impairment_gives_the_default_qdisc_back() -> None:
    plan = change(IMPAIRED, ROUTED)
    assert [line for step in plan.steps for line in step.shell] == [
        f"tc -n {BLUE} qdisc del dev veth-blue root",
        f"tc -n {RED} qdisc del dev veth-red root",
    ]
    assert not [s for s in plan.steps if isinstance(s, DeleteRoute)]


def test_the_link_s_own_fields_keep_reading_old_documents() -> None:
    """A link without the new fields is up, with the kernel's MTU and no qdisc."""
    plan = plan_of(SMALL)
    assert not [s for s in plan.steps if isinstance(s, SetMtu | SetQdisc | SetLinkState)]


# -- what a design needs of the kernel ------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "sentences"),
    [
        pytest.param(SMALL, [], id="nothing"),
        pytest.param(with_link(mtu=9000, up=False), [], id="mtu-and-state-need-nothing-more"),
        pytest.param(
            with_link(impairment={"rate_kbit": 1000}),
            ["link red — blue: a rate limit needs the kernel's tbf qdisc (CONFIG_NET_SCH_TBF), "
             "which this kernel lacks"],
            id="rate-alone-needs-tbf",
        ),
        pytest.param(
            with_link(impairment={"delay_ms": 30, "loss_percent": 1}),
            ["link red — blue: delay needs the kernel's netem qdisc (CONFIG_NET_SCH_NETEM), "
             "which this kernel lacks"],
            id="delay-needs-netem-once-per-link",
        ),
        pytest.param(
            changed(
                with_link(impairment={"rate_kbit": 1000}),
                {"links[0].endpoints[1].impairment": {"loss_percent": 5}},
            ),
            ["link red — blue: a rate limit needs the kernel's tbf qdisc (CONFIG_NET_SCH_TBF), "
             "which this kernel lacks",
             "link red — blue: loss needs the kernel's netem qdisc (CONFIG_NET_SCH_NETEM), "
             "which this kernel lacks"],
            id="one-end-tbf-the-other-netem",
        ),
    ],
)  # fmt: skip
def test_needs_name_the_element_the_feature_and_the_kernel_option(
    data: dict[str, Any], sentences: list[str]
) -> None:
    assert [refusal(need) for need in needs(load(data))] == sentences
