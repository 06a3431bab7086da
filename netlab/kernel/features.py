"""Preflight: what the running kernel supports, probed once, and the refusal of a design
that needs more.

The probe is honest rather than read from /proc/config.gz (absent on many machines, and a
module may be missing from /lib/modules): a throw-away thread moves into a new namespace of
its own, unnamed, and asks for each qdisc on its loopback, for a VLAN-filtering bridge, and for
a VLAN sub-interface (of a bridge: a loopback takes no VLAN). The namespace has no name and
dies with the thread and its socket: nothing is left to clean up, whatever happens.
"""

from __future__ import annotations

import errno
import threading

from netlab.core.document import Document, Impairment
from netlab.core.features import BRIDGE_VLAN_FILTERING, CAPABILITIES, VLAN_8021Q, needs, refusal
from netlab.core.plan import SetQdisc
from netlab.kernel import namespaces, qdisc
from netlab.kernel.apply import RefusedError
from netlab.kernel.rtnl import RouteSocket

LOOPBACK = 1
# The smallest impairment that makes each qdisc (made when probed: building the model's
# validator at import cost every command line destroy 14 ms).
_SAMPLES = {"netem": {"delay_ms": 1}, "tbf": {"rate_kbit": 1000}}

_lock = threading.Lock()
_supported: dict[str, bool] | None = None


class UnsupportedError(RefusedError):
    """The design needs what this kernel lacks: nothing was changed."""


def supported() -> dict[str, bool]:
    """Return ``{capability name: whether this kernel has it}``, probed on the first call."""
    global _supported
    with _lock:
        if _supported is None:
            _supported = namespaces.in_thread(_probe)
        return dict(_supported)


def _probe() -> dict[str, bool]:
    namespaces.unshare_here()
    found: dict[str, bool] = {}
    with RouteSocket() as sock:
        for capability in CAPABILITIES:
            try:
                _ask(sock, capability.name)
            except OSError as failure:
                # ENOENT: "Specified qdisc kind is unknown" (not built, no module to load);
                # EOPNOTSUPP: "Unknown device type", or a bridge built without VLAN filtering.
                if failure.errno not in (errno.ENOENT, errno.EOPNOTSUPP):
                    raise
                found[capability.name] = False
            else:
                found[capability.name] = True
    return found


def _ask(sock: RouteSocket, name: str) -> None:
    if name in _SAMPLES:
        step = SetQdisc(node="probe", netns=None, dev="lo", impairment=Impairment(**_SAMPLES[name]))
        kind, options = qdisc.options(step)
        sock.replace_qdisc(LOOPBACK, kind, options)
        return
    bridge = f"probe-{name}"[:15]
    sock.add_bridge(0, bridge)
    link = sock.link(name=bridge)
    if link is None:
        raise OSError(f"{bridge} vanished right after it was created")
    if name == BRIDGE_VLAN_FILTERING.name:
        sock.set_vlan_filtering(link["index"], on=True)
    elif name == VLAN_8021Q.name:
        sock.add_vlan(0, "probe.1", link["index"], 1)


def missing(design: Document) -> list[str]:
    """Return a sentence for each thing ``design`` needs and this kernel lacks."""
    wanted = needs(design)
    if not wanted:
        return []  # no probe for a design that needs nothing
    have = supported()
    return [refusal(need) for need in wanted if not have.get(need.capability.name, False)]


def require(design: Document) -> None:
    """Raise :class:`UnsupportedError` naming every element ``design`` cannot have here."""
    sentences = missing(design)
    if sentences:
        raise UnsupportedError("; ".join(sentences) + "; nothing was changed")
