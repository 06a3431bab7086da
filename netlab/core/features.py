"""What a design asks of the running kernel beyond veths and bridges, element by element.

Pure: the kernel driver probes what the kernel has (``netlab.kernel.features``) and refuses a
design that needs more, with :func:`refusal`'s sentence, before anything is built.
"""

from __future__ import annotations

from dataclasses import dataclass

from netlab.core.document import Document
from netlab.core.impairments import qdisc_kind
from netlab.core.problems import LINK_SEPARATOR, Problem


@dataclass(frozen=True)
class Capability:
    """A part of the kernel that a stock kernel has and a trimmed one may lack."""

    name: str  # the probe's word: a qdisc kind, or a link's
    what: str  # as a person reads it
    option: str  # the kernel's build option


NETEM = Capability("netem", "the kernel's netem qdisc", "CONFIG_NET_SCH_NETEM")
TBF = Capability("tbf", "the kernel's tbf qdisc", "CONFIG_NET_SCH_TBF")
BRIDGE_VLAN_FILTERING = Capability(
    "bridge-vlan-filtering", "the kernel's bridge VLAN filtering", "CONFIG_BRIDGE_VLAN_FILTERING"
)
VLAN_8021Q = Capability("vlan", "the kernel's 802.1Q VLANs", "CONFIG_VLAN_8021Q")
CAPABILITIES: tuple[Capability, ...] = (NETEM, TBF, BRIDGE_VLAN_FILTERING, VLAN_8021Q)

# An impairment's fields as a sentence names them, in the order they are looked at.
FEATURES: tuple[tuple[str, str], ...] = (
    ("delay_ms", "delay"),
    ("jitter_ms", "jitter"),
    ("loss_percent", "loss"),
    ("corrupt_percent", "corruption"),
    ("duplicate_percent", "duplication"),
    ("rate_kbit", "a rate limit"),
)


@dataclass(frozen=True)
class Need:
    """``element`` uses ``feature``, which needs ``capability``."""

    element: str  # "link red — v-net-0"
    feature: str  # "delay"
    capability: Capability
    path: str = ""  # where in the document: "links[0]", "nodes[2].vlan_filtering"


def needs(design: Document) -> list[Need]:
    """Return what ``design`` needs of the kernel: one need per link and capability, naming the
    first feature (of either end) that needs it; then a filtering bridge's, and one per node
    with VLAN sub-interfaces, naming its first."""
    found: list[Need] = []
    for link_index, link in enumerate(design.links):
        element = "link " + LINK_SEPARATOR.join(end.node for end in link.endpoints)
        seen: set[str] = set()
        for index in range(len(link.endpoints)):
            impairment = link.impairment_of(index)
            if impairment is None:
                continue
            capability = NETEM if qdisc_kind(impairment) == "netem" else TBF
            if capability.name in seen:
                continue
            seen.add(capability.name)
            feature = next(
                word for field, word in FEATURES if getattr(impairment, field) is not None
            )
            found.append(Need(element, feature, capability, f"links[{link_index}]"))
    for index, node in enumerate(design.nodes):
        if node.vlan_filtering:
            path = f"nodes[{index}].vlan_filtering"
            found.append(Need(f"bridge {node.id}", "VLAN filtering", BRIDGE_VLAN_FILTERING, path))
        if node.subinterfaces:
            feature = f"sub-interface {node.subinterfaces[0].interface}"
            path = f"nodes[{index}].subinterfaces[0]"
            found.append(Need(f"{node.kind} {node.id}", feature, VLAN_8021Q, path))
    return found


def lack(need: Need, kernel: str = "this kernel") -> str:
    """``delay needs the kernel's netem qdisc (CONFIG_NET_SCH_NETEM), which this kernel
    lacks`` (``kernel`` names whose: "site lab-2's kernel")."""
    capability = need.capability
    return f"{need.feature} needs {capability.what} ({capability.option}), which {kernel} lacks"


def refusal(need: Need) -> str:
    """``link red — v-net-0: delay needs the kernel's netem qdisc (CONFIG_NET_SCH_NETEM),
    which this kernel lacks``."""
    return f"{need.element}: {lack(need)}"


def warnings(design: Document, have: dict[str, bool], kernel: str) -> list[Problem]:
    """Return a warning at each element of ``design`` needing what ``have`` (a kernel's
    capabilities, as its worker published them) says that ``kernel`` lacks: the editor's
    marks before a deploy. A capability ``have`` does not name is not warned about."""
    return [
        Problem(need.path, lack(need, kernel), severity="warning")
        for need in needs(design)
        if have.get(need.capability.name) is False
    ]
