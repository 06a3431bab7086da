"""The plan: the ordered kernel operations that build one deployment of a design.

Pure: no I/O, no clock, no pyroute2. The stages, each in its own module:

- :mod:`~netlab.core.plan.naming`: how a deployment names its namespaces;
- :mod:`~netlab.core.plan.steps`: the step types (one kernel operation each, with the shell
  command a learner would type) and :class:`Plan`, their ordered list;
- :mod:`~netlab.core.plan.compiler`: a valid document in, the plan that builds it out;
- :mod:`~netlab.core.plan.nft`: a node's NAT and port forwards as one nftables table;
- :mod:`~netlab.core.plan.change`: two revisions in, the steps that change a running lab
  from one to the other out;
- :mod:`~netlab.core.plan.script`: a plan as a bash script.

The driver (``netlab.kernel``) applies the steps. Every public name is re-exported here:
``from netlab.core.plan import X`` is the import to use.
"""

from netlab.core.plan.change import ChangePlan, Recreated, change_between, plan_change
from netlab.core.plan.compiler import compile_plan
from netlab.core.plan.naming import Naming, namespace_count
from netlab.core.plan.nft import iptables_lines, nft_json, nft_ruleset, nft_text
from netlab.core.plan.script import render_script
from netlab.core.plan.steps import (
    SCRIPT_NETNS,
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
    ServiceToStart,
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

__all__ = [
    "SCRIPT_NETNS",
    "AddAddress",
    "AddBridge",
    "AddBridgeVlan",
    "AddNamespace",
    "AddRoute",
    "AddVeth",
    "AddVlanLink",
    "AddVxlan",
    "ApplyNftables",
    "ChangePlan",
    "DeleteAddress",
    "DeleteBridgeVlan",
    "DeleteLink",
    "DeleteNamespace",
    "DeleteNftables",
    "DeleteQdisc",
    "DeleteRoute",
    "Naming",
    "Plan",
    "Recreated",
    "ServiceToStart",
    "SetLinkState",
    "SetLinkUp",
    "SetMtu",
    "SetQdisc",
    "SetSysctl",
    "SetVlanFiltering",
    "StartServices",
    "Step",
    "StopServices",
    "change_between",
    "compile_plan",
    "iptables_lines",
    "namespace_count",
    "nft_json",
    "nft_ruleset",
    "nft_text",
    "plan_change",
    "render_script",
]
