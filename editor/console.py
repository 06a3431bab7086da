"""The console of a lab's node: one line, read by ``netlab.core.commands``, either run in the
node's namespace (a diagnostic, from a fixed list, without a shell) or made an edit of the
design, saved as a revision and applied to the running lab in place.

A diagnostic runs as ``ip netns exec NAMESPACE PROGRAM ARGS...`` from an argument list: the
namespace is netlab's own name for the node, the program and arguments those the parser
checked, a node id as a target is replaced by the node's address. Programs that need no
privilege (ip's show forms, ss, tracepath, bridge, sysctl reads) run as ``nobody``; each is
stopped after :data:`TIME_LIMIT` seconds or :data:`OUTPUT_LIMIT` bytes of output. A line
starting with ``!`` is run by bash as root (the operator's ``NETLAB_ROOT_SHELL``, staff only).
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User

from editor import deployments, services
from editor.models import Deployment, Design
from netlab.core import commands
from netlab.core.validation import InvalidDesign

TIME_LIMIT = 30.0  # seconds a diagnostic may run
OUTPUT_LIMIT = 1_000_000  # bytes of output it may print
UNPRIVILEGED = {"ip", "ss", "tracepath", "bridge", "sysctl"}
NOBODY = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--")
Output = Callable[[str], None]


class ConsoleRefused(ValueError):
    """The line is not run: the sentence says why."""


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    revision: int | None = None  # the revision an edit made


def run_line(
    design: Design,
    node: str,
    line: str,
    *,
    user: User,
    out: Output,
    stop: Callable[[], bool] = lambda: False,
    apply_here: bool = True,
) -> Outcome:
    """Run ``line`` on ``node`` of ``user``'s running lab of ``design``, printing through
    ``out`` as output comes; ``stop`` is asked while a program runs (Ctrl+C). An edit is
    applied here (``apply_here``, the command line) or left queued for the worker, which
    applies and shows it like any change. Raises :class:`ConsoleRefused`."""
    deployment = deployments.latest(design, user)
    if deployment is None or deployment.state != Deployment.State.RUNNING:
        raise ConsoleRefused(f"{design.name} is not running: deploy it first")
    try:
        netns = deployments.namespace_of(deployment, node)
        if line.startswith("!"):
            return Outcome(_root_shell(netns, line[1:], user=user, out=out, stop=stop))
        read = commands.parse(line)
    except (deployments.DeploymentRefused, commands.Refused) as error:
        raise ConsoleRefused(str(error)) from None
    if isinstance(read, commands.Diagnostic):
        argv = _with_addresses(deployment, read.argv)
        return Outcome(_run(netns, argv, out=out, stop=stop))
    return _edit(design, deployment, node, line, read, user=user, out=out, apply_here=apply_here)


def _root_shell(netns: str, line: str, *, user: User, out: Output, stop: Callable[[], bool]) -> int:
    """``!LINE``: bash, as root, in the node's namespace — root on this machine. Only for
    staff, and only where the operator turned it on (``NETLAB_ROOT_SHELL``)."""
    if not settings.NETLAB_ROOT_SHELL:
        raise ConsoleRefused("the root shell (!) is off on this server (NETLAB_ROOT_SHELL)")
    if not user.is_staff:
        raise ConsoleRefused("the root shell (!) is for staff only")
    return _run(netns, ("bash", "-c", line), out=out, stop=stop)


def _with_addresses(deployment: Deployment, argv: tuple[str, ...]) -> tuple[str, ...]:
    """A node id as a ping or tracepath target becomes the node's first address."""
    if argv[0] not in ("ping", "tracepath"):
        return argv
    try:
        address = deployments.resolve_target(deployments.document_of(deployment), argv[-1])
    except deployments.DeploymentRefused as error:
        raise ConsoleRefused(str(error)) from None
    return (*argv[:-1], address)


def _run(netns: str, argv: tuple[str, ...], *, out: Output, stop: Callable[[], bool]) -> int:
    prefix = NOBODY if argv[0] in UNPRIVILEGED else ()
    process = subprocess.Popen(
        ["ip", "netns", "exec", netns, *prefix, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: stopped as a whole
    )
    assert process.stdout is not None
    deadline = time.monotonic() + TIME_LIMIT
    printed = 0
    try:
        while True:
            why = _limit(stop(), deadline, printed)
            if why:
                os.killpg(process.pid, signal.SIGINT)
                out(f"^C ({why})\n")
                break
            ready, _, _ = select.select([process.stdout], [], [], 0.1)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                break
            printed += len(chunk)
            out(chunk.decode("utf-8", "replace"))
    finally:
        try:
            code = process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            code = process.wait()
    return code


def _limit(stopped: bool, deadline: float, printed: int) -> str:
    if stopped:
        return "stopped"
    if time.monotonic() > deadline:
        return "time limit"
    return "output limit" if printed > OUTPUT_LIMIT else ""


def _edit(
    design: Design,
    deployment: Deployment,
    node: str,
    line: str,
    edit: commands.Edit,
    *,
    user: User,
    out: Output,
    apply_here: bool,
) -> Outcome:
    if design.current is None:
        raise ConsoleRefused(f"{design.name} has no saved revision")
    try:
        data = commands.apply_edit(design.current.document, node, edit)
        revision = services.save_revision(
            design, author=user, data=data, message=f"typed in the console on {node}: {line}"
        )
    except commands.Refused as error:
        raise ConsoleRefused(str(error)) from None
    except InvalidDesign as error:
        raise ConsoleRefused(f"the design would not be valid: {error}") from None
    out(f"edit: {edit.words} (revision {revision.number})\n")
    try:
        changing = deployments.request_apply(design, actor=user)
    except deployments.DeploymentRefused as error:
        raise ConsoleRefused(f"saved as revision {revision.number}, not applied: {error}") from None
    work = deployments.claim(changing, worker=deployments.worker_id()) if apply_here else None
    if work is None:  # the worker applies it
        out("applying it through the worker\n")
        return Outcome(0, revision.number)

    def steps(done: Sequence[deployments.Step]) -> None:
        for step in done:
            if step.outcome != "started":
                shell = "".join(f"    {command}\n" for command in step.shell.splitlines())
                out(f"  {step.description}\n{shell}")

    deployments.run_claimed(changing, work, on_steps=steps)
    if changing.error:
        out(f"the change failed and was undone: {changing.error}\n")
        return Outcome(1, revision.number)
    return Outcome(0, revision.number)
