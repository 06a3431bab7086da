"""An impairment as the kernel's qdisc options, and a qdisc read back compared with it.

The options are encoded by hand rather than by pyroute2's netem plugin: that plugin turns
microseconds into scheduler ticks as a float (``/proc/net/psched`` gives 15.625 ticks per
microsecond here), which does not pack into netem's 32-bit fields.
"""

from __future__ import annotations

from typing import Any

from netlab.core.impairments import TBF_LATENCY_MS
from netlab.core.plan import SetQdisc

# Scheduler ticks are 64 ns (PSCHED_SHIFT 6): netem's latency and jitter are in those.
TICKS_PER_MICROSECOND = 1000 / 64
U32_MAX = 2**32 - 1
NETEM_LIMIT = 1000  # packets, netem's and tc's default queue


def _ticks(milliseconds: float | None) -> int:
    return round((milliseconds or 0) * 1000 * TICKS_PER_MICROSECOND)


def _probability(percent: float | None) -> int:
    return int(U32_MAX * (percent or 0) / 100)


def _bytes_per_second(rate_kbit: float) -> int:
    return int(rate_kbit * 1000 / 8)


def options(step: SetQdisc) -> tuple[str, dict[str, Any]]:
    """Return (kind, TCA_OPTIONS) for ``step``'s root qdisc."""
    impairment = step.impairment
    if step.kind == "tbf":
        from pyroute2.netlink.rtnl.tcmsg import plugins  # see netlab.kernel.rtnl: on use

        parameters = plugins["tbf"].get_parameters(
            {
                "rate": _bytes_per_second(impairment.rate_kbit or 0),
                "burst": step.burst,
                "latency": TBF_LATENCY_MS * 1000,  # microseconds
            }
        )
        return "tbf", parameters
    attrs: list[Any] = []
    if impairment.corrupt_percent is not None:
        attrs.append(
            (
                "TCA_NETEM_CORRUPT",
                {"prob_corrupt": _probability(impairment.corrupt_percent), "corr_corrupt": 0},
            )
        )
    if impairment.rate_kbit is not None:
        rate = {"rate": _bytes_per_second(impairment.rate_kbit)}
        attrs.append(
            ("TCA_NETEM_RATE", {**rate, "packet_overhead": 0, "cell_size": 0, "cell_overhead": 0})
        )
    return "netem", {
        "delay": _ticks(impairment.delay_ms),
        "limit": NETEM_LIMIT,
        "loss": _probability(impairment.loss_percent),
        "gap": 0,
        "duplicate": _probability(impairment.duplicate_percent),
        "jitter": _ticks(impairment.jitter_ms),
        "attrs": attrs,
    }


def difference(step: SetQdisc, found: Any) -> str | None:
    """Say how root qdisc ``found`` (a decoded tcmsg, or None) differs from ``step``'s; None
    when it is the one the step sets."""
    dev = step.dev
    if found is None or found.get_attr("TCA_KIND") not in ("netem", "tbf"):
        return f"{dev} has no {step.kind} qdisc"
    kind = found.get_attr("TCA_KIND")
    if kind != step.kind:
        return f"{dev} has a {kind} qdisc instead of {step.kind}"
    wanted_kind, wanted = options(step)
    held = found.get_attr("TCA_OPTIONS")
    if wanted_kind == "tbf":
        rate = wanted["attrs"][0][1]["rate"]
        parms = held.get_attr("TCA_TBF_PARMS") if held is not None else None
        if parms is None or parms["rate"] != rate:
            return f"{dev}'s tbf rate is not {step.impairment.rate_kbit} kbit/s"
        return None
    for field in ("delay", "jitter", "loss", "duplicate"):
        if held is None or abs(held[field] - wanted[field]) > 1:
            return f"{dev}'s netem {field} differs from the design's"
    held_rate = held.get_attr("TCA_NETEM_RATE")
    rate = _bytes_per_second(step.impairment.rate_kbit) if step.impairment.rate_kbit else 0
    if (held_rate["rate"] if held_rate is not None else 0) != rate:
        return f"{dev}'s netem rate differs from the design's"
    return None
