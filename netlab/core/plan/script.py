"""A plan as a bash script: the same operations netlab performs, one command each."""

from __future__ import annotations

from netlab.core.plan.steps import Plan
from netlab.core.shell import command, comment


def render_script(plan: Plan) -> str:
    """Return a bash script that, run as root on a clean machine, builds the same lab.

    Text from the design (its title, names in step descriptions) reaches the script only
    through ``shell.comment`` and ``shell.quote``: no line starts with it.
    """
    title = plan.title or plan.design_name
    namespaces = plan.created_namespaces()
    lines = [
        "#!/usr/bin/env bash",
        comment(f"netlab: {title}"),
        comment(f"design {plan.design_name}, deployment tag {plan.tag}"),
        "# Builds the lab with the same operations netlab performs, one command each.",
        "# Run as root. Remove it again with:",
        *(comment("  " + command("ip", "netns", "del", netns)) for netns in namespaces),
        *(comment("  " + command("ip", "link", "del", name)) for name in plan.root_links()),
        "set -euo pipefail",
    ]
    total = len(plan.steps)
    for index, step in enumerate(plan.steps, start=1):
        lines += ["", comment(f"[{index}/{total}] {step.description}"), *step.shell]
    return "\n".join(lines) + "\n"
