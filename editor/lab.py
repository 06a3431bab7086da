"""Lab operations for the command line: deploy and destroy in this process, waiting and
printing each step; status, check, ping and cleanup.

Acts as the design's owner (the command line is the machine's administrator). Errors are
raised as ``CommandError`` with a sentence for the user.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import CommandError

from editor import deployments
from editor.deployments import sites
from editor.models import Deployment, DeploymentStep, Design
from netlab.core.document import Document
from netlab.core.engine import DeploymentRecord
from netlab.core.plan import Naming, compile_plan, render_script

Output = Callable[[str], Any]
POLL_SECONDS = 0.2


def shell_script(document: Document) -> str:
    """Return the bash script that builds ``document`` on a clean machine.

    The deployment tag is derived from the design's name so that the same design always
    exports the same script. The core compiles it: the web process never loads the engine.
    """
    tag = hashlib.sha256(document.name.encode()).hexdigest()[:6]
    return render_script(compile_plan(document, Naming(tag, settings.NETLAB_NETNS_PREFIX)))


def _print_steps(out: Output) -> deployments.DeploymentStepsCallback:
    def show(steps: Sequence[deployments.Step]) -> None:
        # One write a burst: a chain of 500 is 9,000 lines, and a write each cost 0.1 s of
        # the interpreter the engine's thread shares.
        lines = []
        for step in steps:
            if step.outcome == DeploymentStep.Outcome.STARTED:
                continue
            mark = "ok" if step.outcome == DeploymentStep.Outcome.DONE else "FAILED"
            took = f"{step.duration_ms:.1f} ms"
            lines.append(f"[{step.index}/{step.total}] {step.description}: {mark} ({took})")
            lines += [f"    {line}" for line in step.shell.splitlines()]
            if step.error:
                lines.append(f"    error: {step.error}")
        if lines:
            out("\n".join(lines))

    return show


def _require_privileges() -> None:
    try:
        deployments.load_engine().require_privileges()
    except PermissionError as error:
        raise CommandError(str(error)) from None


def _finished_steps(deployment: Deployment) -> Any:
    return deployment.steps.exclude(outcome=DeploymentStep.Outcome.STARTED)


def _wait(deployment: Deployment, out: Output, until: set[str], *, shown: int = 0) -> Deployment:
    """Follow a deployment another worker is running, printing its steps after the first
    ``shown``, until a state."""
    show = _print_steps(out)
    while True:
        deployment.refresh_from_db()
        steps = list(_finished_steps(deployment).order_by("pk")[shown:])
        show(steps)
        shown += len(steps)
        if deployment.state in until:
            return deployment
        time.sleep(POLL_SECONDS)


def _claim_here(deployment: Deployment) -> str | None:
    """Claim ``deployment``'s work for this process if its lab is on this machine (not
    placed, or placed on the site named after this host); a lab of another site is left to
    that site's worker, and followed."""
    if deployment.site is not None and deployment.site != sites.here():
        return None
    return deployments.claim(deployment, worker=deployments.worker_id())


def deploy(design: Design, *, out: Output, host_mode: bool = False) -> Deployment:
    """Deploy ``design`` (on this machine) and wait until it runs; raise ``CommandError`` if
    it fails."""
    _require_privileges()
    try:
        deployment = deployments.request_deploy(
            design, actor=design.owner, host_mode=host_mode, site=sites.here()
        )
    except deployments.DeploymentRefused as error:
        raise CommandError(str(error)) from None
    out(f"deploying {design.name} as {deployment.tag}")
    started = time.perf_counter()
    work = _claim_here(deployment)
    if work is not None:
        deployments.run_claimed(deployment, work, on_steps=_print_steps(out))
    else:  # a running worker took it first: follow it
        _wait(deployment, out, {Deployment.State.RUNNING, Deployment.State.FAILED})
    if deployment.state != Deployment.State.RUNNING:
        raise CommandError(f"deploy failed: {deployment.error}")
    out(f"{design.name} is running ({time.perf_counter() - started:.2f} s)")
    for node, netns in deployment.namespaces.items():
        out(f"  {node}: {netns or '(root namespace)'}")
    return deployment


def apply(design: Design, *, out: Output, dry_run: bool = False) -> Deployment | None:
    """Change the owner's running lab of ``design`` in place to its latest saved revision,
    printing each step; with ``dry_run``, print the plan and change nothing. Raises
    ``CommandError`` when nothing can run, or the change failed (the lab was put back)."""
    try:
        if dry_run:
            revision, change = deployments.preview(design, actor=design.owner)
            out(f"{design.name}: {len(change.steps)} steps to revision {revision.number}")
            for index, step in enumerate(change.steps, start=1):
                out(f"[{index}/{len(change.steps)}] {step.description}")
                for line in step.shell:
                    out(f"    {line}")
            for item in change.recreated:
                out(f"  {item}")
            return None
        _require_privileges()
        deployment = deployments.request_apply(design, actor=design.owner)
    except deployments.DeploymentRefused as error:
        raise CommandError(str(error)) from None
    wanted = deployment.applying_revision
    out(f"applying revision {wanted.number if wanted else '?'} to {design.name} ({deployment.tag})")
    work = _claim_here(deployment)
    if work is not None:
        deployments.run_claimed(deployment, work, on_steps=_print_steps(out))
    else:  # a running worker took it first: follow it
        _wait(deployment, out, {Deployment.State.RUNNING, Deployment.State.FAILED})
    if deployment.error or deployment.state != Deployment.State.RUNNING:
        raise CommandError(f"apply failed: {deployment.error}")
    out(f"{design.name} runs revision {deployment.revision.number}")
    return deployment


def capture(
    design: Design,
    node: str,
    interface: str,
    *,
    seconds: float,
    count: int | None,
    bpf: str | None,
    write: str | None,
    out: Output,
) -> None:
    """Print one line per packet on ``node``'s ``interface`` of the owner's running lab
    (tcpdump's words); with ``write``, also save them as a pcap file."""
    from netlab.core.packets import decode
    from netlab.kernel import capture as capturing  # the driver: loaded only to capture

    deployment = _active(design)
    try:
        netns = deployments.namespace_of(deployment, node)
    except deployments.DeploymentRefused as error:
        raise CommandError(str(error)) from None

    def show(packet: capturing.Packet) -> None:
        moment = time.strftime("%H:%M:%S", time.localtime(packet.time))
        fraction = f"{packet.time % 1:.6f}"[1:]
        out(f"{moment}{fraction} {packet.direction:3} {decode(packet.data).summary}")

    out(f"capturing on {node}'s {interface} ({netns}) for {seconds:g} s")
    try:
        packets = capturing.capture(
            netns, interface, seconds=seconds, count=count, bpf=bpf, on_packet=show
        )
    except capturing.CaptureError as error:
        raise CommandError(str(error)) from None
    out(f"{len(packets)} packets captured")
    if write:
        with open(write, "wb") as file:
            capturing.write_pcap(file, packets)
        out(f"written to {write} (pcap)")


def _active(design: Design) -> Deployment:
    deployment = deployments.latest(design, design.owner)
    if deployment is None or not deployment.is_active:
        raise CommandError(f"{design.name} is not deployed")
    return deployment


def destroy(design: Design, *, out: Output, user: User | None = None) -> None:
    """Destroy ``user``'s (by default the owner's) live deployment of ``design``, waiting
    until the kernel holds nothing of it.

    Raises ``CommandError`` when the destroy fails, when the lab is still deploying, or when
    ``user`` has no lab of the design but others do (named, with how to destroy them: a
    design with active labs cannot be deleted).
    """
    user = design.owner if user is None else user
    deployment = deployments.latest(design, user)
    if deployment is None or deployment.state == Deployment.State.STOPPED:
        others = Deployment.objects.filter(design=design, state__in=Deployment.ACTIVE_STATES)
        if others.exists():
            named = "; ".join(
                f"{deployments.describe(lab)} (destroy DESIGN --user {lab.owner})"
                for lab in others.select_related("design", "owner")
            )
            raise CommandError(f"{user} has no lab of {design.name} to destroy; others do: {named}")
        out(f"{design.name} is not deployed; nothing to destroy")
        return
    if not deployments.destroyable(deployment) and deployment.state != Deployment.State.DESTROYING:
        # Deploying: the worker building it would never let it stop. A destroy under way is
        # resumed (or followed) below.
        raise CommandError(f"{design.name} is {deployment.state}; destroy it once that ends")
    _require_privileges()
    deployments.request_destroy(deployment, actor=user)
    work = _claim_here(deployment)
    if work is not None:
        deployments.run_claimed(deployment, work, on_steps=_print_steps(out))
    else:
        # The deploy's steps were printed by the deploy: a destroy follows only its own.
        deployment = _wait(
            deployment,
            out,
            {Deployment.State.STOPPED, Deployment.State.FAILED},
            shown=_finished_steps(deployment).count(),
        )
    if deployment.state != Deployment.State.STOPPED:
        raise CommandError(f"destroy failed: {deployment.error}")
    out(f"{design.name} destroyed ({deployment.tag})")


def status(design: Design) -> dict[str, Any]:
    """Return the status report of ``netlab status --json`` (DESIGN.md section 5)."""
    deployment = deployments.latest(design, design.owner)
    report: dict[str, Any] = {
        "design": design.pk,
        "name": design.name,
        "deployment": deployment.pk if deployment else None,
        "tag": deployment.tag if deployment else None,
        "state": deployment.state if deployment else "not deployed",
        "error": deployment.error if deployment else "",
        "revision": deployment.revision.number if deployment else None,
        "site": deployment.site.name if deployment and deployment.site else None,
        "nodes": {},
    }
    if deployment is None or deployment.state != Deployment.State.RUNNING:
        return report
    record = DeploymentRecord.from_dict(deployment.record)
    nodes = deployments.load_engine().status(record)
    where = deployments.node_sites(deployment)
    report["nodes"] = {node: {**facts, "site": where.get(node)} for node, facts in nodes.items()}
    # A lab across sites: the nodes of its other sites, whose kernels are theirs to read.
    for part in deployment.parts.exclude(site=deployment.site):
        for node, netns in part.record.get("namespaces", {}).items():
            report["nodes"][node] = {"netns": netns, "site": part.site.name}
    return report


def check(design: Design) -> list[dict[str, Any]]:
    """Return the drift between the kernel and ``design``'s running deployment."""
    deployment = _active(design)
    _require_privileges()
    record = DeploymentRecord.from_dict(deployment.record)
    drift = deployments.load_engine().check(deployments.document_of(deployment), record)
    return [item.as_dict() for item in drift]


def ping(design: Design, source: str, target: str, count: int, *, out: Output) -> None:
    """Ping ``target`` from node ``source``, printing each reply as it comes."""
    from netlab.kernel import probes  # the driver: loaded only when a probe is asked for

    deployment = _active(design)
    try:
        netns = deployments.namespace_of(deployment, source)
        address = deployments.resolve_target(deployments.document_of(deployment), target)
    except deployments.DeploymentRefused as error:
        raise CommandError(str(error)) from None

    def reply(answer: probes.PingReply) -> None:
        if answer.error is None:
            out(
                f"reply from {answer.from_address}: seq={answer.seq} ttl={answer.ttl} "
                f"time={answer.rtt_ms:.3f} ms"
            )
        else:
            out(f"seq={answer.seq}: {answer.error}")

    out(f"PING {address} from {source} ({netns})")
    try:
        result = probes.ping(netns, address, count=count, on_reply=reply)
    except probes.ProbeError as error:  # not an address, a zone naming no interface...
        raise CommandError(f"cannot ping from {source}: {error}") from None
    except OSError as error:  # its namespace was deleted by hand...
        raise CommandError(f"cannot ping from {source}: {error.strerror or error}") from None
    out(f"{result.sent} sent, {result.received} received, {result.loss:.0f}% loss")
    if result.received == 0:
        raise CommandError(f"no reply from {address}")


def cleanup() -> list[str]:
    """Remove every object netlab marked that no live deployment owns."""
    _require_privileges()
    return list(
        deployments.load_engine().cleanup(
            deployments.live_tags(), state_dir=settings.NETLAB_STATE_DIR
        )
    )
