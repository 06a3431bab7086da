"""Explaining paths of a design (``netlab.core.explain``) for the command line and the API:
from the design's latest saved revision, and — when asked to observe — checked against the
user's running lab with a probe."""

from __future__ import annotations

import ipaddress
import json
import subprocess
from typing import Any

from django.contrib.auth.models import User

from editor import deployments
from editor.models import Deployment, Design
from netlab.core import explain as model
from netlab.core.document import Document
from netlab.core.validation import InvalidDesign, load

PROTOCOLS = ("icmp", "tcp")


class CannotExplain(ValueError):
    """The question cannot be answered (not a node, not an address, a draft...): says why."""


def saved_document(design: Design) -> Document:
    if design.current is None:
        raise CannotExplain(f"{design.name} has no saved revision")
    try:
        return load(design.current.document)
    except InvalidDesign as error:
        raise CannotExplain(f"revision {design.current.number} has problems: {error}") from None


def explain(
    design: Design, source: str, target: str, *, protocol: str = "icmp", port: int | None = None
) -> dict[str, Any]:
    """The explanation of one path, as ``netlab explain --json`` prints it."""
    if protocol not in PROTOCOLS:
        raise CannotExplain(f"protocol must be one of {', '.join(PROTOCOLS)}")
    try:
        found = model.explain(saved_document(design), source, target, protocol=protocol, port=port)
    except ValueError as error:
        raise CannotExplain(str(error)) from None
    return found.as_dict()


def matrix(design: Design) -> list[dict[str, Any]]:
    """The predicted ping-all of the design's latest saved revision."""
    return model.matrix(saved_document(design))


def observe(design: Design, user: User, answer: dict[str, Any]) -> dict[str, Any]:
    """Add what ``user``'s running lab of ``design`` does to an explanation: ``observed``
    (a ping, or a TCP connection, from the source) and ``agrees`` (with the prediction).
    Needs root (the probe runs in the lab's namespace)."""
    from netlab.kernel import probes  # the driver: loaded only when a probe is asked for

    deployment = deployments.latest(design, user)
    if deployment is None or deployment.state != Deployment.State.RUNNING:
        raise CannotExplain(f"{design.name} is not running: nothing to observe")
    if deployment.revision_id != (design.current.pk if design.current else None):
        raise CannotExplain("the lab runs an older revision: apply it first, then observe")
    try:
        netns = deployments.namespace_of(deployment, answer["source"])
    except deployments.DeploymentRefused as error:
        raise CannotExplain(str(error)) from None
    if answer["protocol"] == "tcp":
        result = probes.tcp_probe(netns, answer["address"], int(answer["port"]), timeout=1.0)
        reachable, said = result.connected, result.error or "connected"
    else:
        ping = probes.ping(netns, answer["address"], count=2, interval=0.05, timeout=1.0)
        reachable, said = ping.received > 0, f"{ping.received} of {ping.sent} replies"
    predicted = answer["outcome"] == "delivered"
    hops = [_route_get(deployment, hop) for hop in answer["hops"] if hop["out"]]
    observed = {"reachable": reachable, "said": said, "hops": hops}
    agrees = reachable == predicted and all(hop["agrees"] for hop in hops)
    return {**answer, "observed": observed, "agrees": agrees}


def _route_get(deployment: Deployment, hop: dict[str, Any]) -> dict[str, Any]:
    """``ip route get`` in a hop's namespace for the destination it routed: does the kernel
    choose the predicted interface and next hop?"""
    netns = deployment.namespaces.get(hop["node"])
    destination = str(ipaddress.ip_address(hop["destination"]))  # never text from outside
    if not netns:
        return {"node": hop["node"], "dev": None, "via": None, "agrees": False}
    result = subprocess.run(
        ["ip", "-n", str(netns), "-j", "route", "get", destination],
        capture_output=True, text=True, timeout=5, check=False,
    )  # fmt: skip
    found = json.loads(result.stdout or "[]")
    route = found[0] if found else {}
    dev, via = route.get("dev"), route.get("gateway")
    agrees = dev == hop["out"] and (via or destination) == hop["next_hop"]
    return {"node": hop["node"], "dev": dev, "via": via, "agrees": agrees,
            "said": result.stderr.strip() or None}  # fmt: skip
