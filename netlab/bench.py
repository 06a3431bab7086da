"""Benchmark: netlab's engine against the same labs built by ``ip`` commands.

``python -m netlab.bench [--sizes 10,50,200,500] [--runs 3]`` (root) deploys and destroys
two topologies for each size N, in one run:

- star: N namespaces, each with one veth to a bridge held by the host node;
- chain: N namespaces in a line, forwarding on, two routes each (default to the right,
  the first link's subnet to the left), so the ends reach each other.

Each lab is built four ways: netlab's engine in-process; the rendered ``--format sh`` script
(one ``ip`` command per step, the tutorial's way); ``ip -batch`` (one ``ip`` process per
namespace and phase, derived from the same plan); Mininet (Debian's ``mininet``, when
installed: ``make bench`` installs it) from ``netlab.mininet_anchor``, in a namespace of
its own. The running
lab is also changed live: one more link, planned and applied in place (``engine.change``),
and back. Medians
over ``--runs`` runs. The engine's destroy is timed until the kernel holds nothing (see
``netlab.kernel.teardown``); the others' labs are removed (untimed) the same way. A second
table splits the engine's deploy and destroy into Python (user CPU time), the kernel (system
CPU time) and waiting. Writes both as markdown to artifacts/bench-engine.md and prints them.
Not part of the test run.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import platform
import resource
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from netlab.core import codec, names, validation
from netlab.core.document import Document
from netlab.core.plan import AddNamespace, Naming, Plan, SetSysctl, compile_plan, render_script
from netlab.core.validation import load
from netlab.kernel import engine, namespaces, teardown

PREFIX = "nlbench-"


def star_data(count: int, network: str = "10.0.0.0/8", name: str | None = None) -> dict[str, Any]:
    """``count`` namespaces (``n0``...) on one bridge ``br0`` held by the host, as data.

    Addresses come from ``network``: the namespaces take the first ones, the bridge the last.
    The tests build their star labs with it too, each in a range of its own.
    """
    subnet = ipaddress.ip_network(network)
    nodes: list[dict[str, Any]] = [
        {"id": "host", "kind": "host"},
        {"id": "br0", "kind": "bridge", "addresses": [f"{subnet[-2]}/{subnet.prefixlen}"]},
    ]
    links = []
    for index in range(count):
        nodes.append({"id": f"n{index}", "kind": "namespace"})
        address = f"{subnet[index + 1]}/{subnet.prefixlen}"
        links.append(
            {
                "endpoints": [
                    {"node": f"n{index}", "interface": "eth0", "addresses": [address]},
                    {"node": "br0", "interface": f"p{index}"},
                ]
            }
        )
    return {
        "format": "netlab/v1",
        "name": name or f"star-{count}",
        "nodes": nodes,
        "links": links,
    }


def star(count: int) -> Document:
    """The benchmark's star of ``count`` namespaces (10.0.0.0/8)."""
    return load(star_data(count))


def _link_subnet(index: int) -> tuple[str, str, str]:
    base = f"10.{index >> 6}.{(index & 63) << 2}"
    return f"{base}.1/30", f"{base}.2/30", f"{base}.0/30"


def chain(count: int) -> Document:
    """``count`` namespaces in a line (the host node stands apart), with routes."""
    nodes: list[dict[str, Any]] = [{"id": "host", "kind": "host"}]
    links = []
    for index in range(count):
        routes = []
        if index < count - 1:
            routes.append({"to": "default", "via": _link_subnet(index)[1].split("/")[0]})
        if index > 1:
            routes.append(
                {"to": _link_subnet(0)[2], "via": _link_subnet(index - 1)[0].split("/")[0]}
            )
        nodes.append({"id": f"n{index}", "kind": "namespace", "forwarding": True, "routes": routes})
    for index in range(count - 1):
        left, right, _ = _link_subnet(index)
        links.append(
            {
                "endpoints": [
                    {"node": f"n{index}", "interface": "right", "addresses": [left]},
                    {"node": f"n{index + 1}", "interface": "left", "addresses": [right]},
                ]
            }
        )
    return load({"format": "netlab/v1", "name": f"chain-{count}", "nodes": nodes, "links": links})


def batch_script(plan: Plan) -> str:
    """A bash script building ``plan`` with ``ip -batch``: one ``ip`` per namespace and phase.

    Phases: namespaces; links created in each namespace; then per namespace its addresses,
    links up and routes (all local to it); sysctls need ``ip netns exec`` each.
    """
    lines = ["set -euo pipefail", "ip -batch - <<'EOF'"]
    lines += [f"netns add {netns}" for netns in plan.created_namespaces()]
    lines.append("EOF")
    phases: list[dict[str | None, list[str]]] = [{}, {}]
    sysctls = []
    for step in plan.steps:
        if isinstance(step, SetSysctl):
            sysctls.append(step.shell[0])
            continue
        commands = list(step.ip_commands)
        if isinstance(step, AddNamespace):
            commands = [(step.netns, ("link", "set", "lo", "up", "alias", step.mark))]
        creates = step.action in ("add-bridge", "add-veth")
        for netns, arguments in commands:
            phase = phases[0] if creates else phases[1]
            phase.setdefault(netns, []).append(" ".join(shlex.quote(a) for a in arguments))
    for phase in phases:
        for netns, batch in phase.items():
            where = f"-n {netns} " if netns else ""
            lines += [f"ip {where}-batch - <<'EOF'", *batch, "EOF"]
    lines += sysctls
    return "\n".join(lines) + "\n"


def _run_bash(script: str) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as file:
        file.write(script)
    try:
        started = time.perf_counter()
        subprocess.run(["bash", file.name], check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - started
    finally:
        os.unlink(file.name)


def _remove(plan: Plan) -> float:
    report = teardown.Report()
    started = time.perf_counter()
    teardown.remove_namespaces(
        plan.created_namespaces(), plan.tag, check_marks=False, wait=True, report=report
    )
    return time.perf_counter() - started


def measure(design: Document, runs: int, state_dir: str) -> dict[str, Any]:
    """Return the median times (s) of every method for ``design``, and the engine's memory."""
    results: dict[str, list[float]] = {
        "compile": [],
        "engine": [],
        "destroy": [],
        "script": [],
        "batch": [],
    }
    for _ in range(runs):
        started = time.perf_counter()
        compile_plan(design, Naming(names.new_tag(), PREFIX))
        results["compile"].append(time.perf_counter() - started)
        before = resource.getrusage(resource.RUSAGE_SELF)
        record = engine.deploy(design, prefix=PREFIX, state_dir=state_dir)
        _split(results, "engine", before, record.seconds)
        before, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        report = engine.destroy(record.tag, state_dir=state_dir)
        _split(results, "destroy", before, time.perf_counter() - started)
        if not report.settled:
            raise RuntimeError(f"the kernel did not let go of {report.lingering}")
        for method, render in (("script", render_script), ("batch", batch_script)):
            plan = compile_plan(design, Naming(names.new_tag(), PREFIX))
            try:
                results[method].append(_run_bash(render(plan)))
            finally:
                _remove(plan)
    results["change"], steps = _change_times(design, runs, state_dir)
    tracemalloc.start()
    record = engine.deploy(design, prefix=PREFIX, state_dir=state_dir)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    engine.destroy(record.tag, state_dir=state_dir)
    medians: dict[str, Any] = {
        method: statistics.median(times) for method, times in results.items()
    }
    medians["change_steps"] = steps
    medians["python_peak_mib"] = peak / 2**20
    medians["maxrss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    medians["mininet"] = _mininet(design, runs)
    return medians


def _split(results: dict[str, list[float]], method: str, before: Any, seconds: float) -> None:
    """Record ``seconds`` of ``method``, and how they split (this process's CPU times since
    ``before``, every thread's): user time is Python's (and its libraries'), system time
    the kernel's work on netlab's behalf, the rest waiting (for the kernel's deferred work,
    such as a namespace's cleanup, or for another process)."""
    after = resource.getrusage(resource.RUSAGE_SELF)
    user, system = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
    results[method].append(seconds)
    for part, value in (("user", user), ("system", system), ("waiting", seconds - user - system)):
        results.setdefault(f"{method}_{part}", []).append(value)


def with_one_more_link(design: Document) -> Document:
    """``design`` with its last link doubled (new interface names, no addresses)."""
    data = json.loads(codec.dump(design, "json"))
    extra = json.loads(json.dumps(data["links"][-1]))
    for end in extra["endpoints"]:
        end["interface"] = end["interface"][:14] + "x"
        end["addresses"] = []
    data["links"].append(extra)
    return validation.load(data)


def _change_times(design: Document, runs: int, state_dir: str) -> tuple[list[float], int]:
    """Times (s) of a one-link live change of a running ``design``, planning included, and
    the number of its steps."""
    wanted = with_one_more_link(design)
    record = engine.deploy(design, prefix=PREFIX, state_dir=state_dir)
    times = []
    try:
        for _ in range(runs):
            started = time.perf_counter()
            record = engine.change(design, wanted, record, state_dir=state_dir)
            times.append(time.perf_counter() - started)
            record = engine.change(wanted, design, record, state_dir=state_dir)
    finally:
        engine.destroy(record.tag, state_dir=state_dir)
    return times, len(engine.change_plan(design, wanted, record).steps)


MININET_PYTHON = "/usr/bin/python3"  # Debian's mininet package is for the system's Python


def _mininet(design: Document, runs: int) -> dict[str, float] | None:
    """Median deploy and destroy times (s) of ``design`` built by Mininet, or None when
    Debian's ``mininet`` is not installed (``make bench`` installs it).

    Mininet makes its switches and their links in the namespace it runs in: it runs in a
    namespace of its own (``unshare --net --mount``), gone with it, as host mode is tested.
    """
    found = subprocess.run(
        [MININET_PYTHON, "-c", "import mininet.net"], capture_output=True, check=False
    )
    if found.returncode != 0:
        return None
    anchor = Path(__file__).with_name("mininet_anchor.py")
    with tempfile.NamedTemporaryFile("w", suffix=".json") as data:
        data.write(codec.dump(design, "json"))
        data.flush()
        command = ["unshare", "--net", "--mount", "--", MININET_PYTHON, str(anchor)]
        process = subprocess.Popen(
            [*command, data.name, str(runs)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its hosts' shells die with the group if it hangs
        )
        try:
            out, err = process.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise RuntimeError(f"Mininet did not build {design.name} in 600 s") from None
    if process.returncode != 0:
        raise RuntimeError(f"Mininet failed on {design.name}: {err.strip()[-500:]}")
    times: dict[str, float] = json.loads(out.splitlines()[-1])
    return times


def table(rows: list[tuple[str, int, dict[str, Any]]]) -> str:
    header = (
        "| lab | N | validate + compile | engine deploy | engine destroy | script (1 ip/step) "
        "| ip -batch | script / engine | batch / engine | Mininet deploy / destroy "
        "| one-link live change "
        "| engine Python peak | process max RSS |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: |\n"
    )
    body = ""
    for lab, size, m in rows:
        mininet = (
            f"{m['mininet']['deploy']:.3f} s / {m['mininet']['destroy']:.3f} s"
            if m["mininet"] is not None
            else "not installed"
        )
        body += (
            f"| {lab} | {size} | {m['compile']:.3f} s | {m['engine']:.3f} s | "
            f"{m['destroy']:.3f} s | "
            f"{m['script']:.3f} s | {m['batch']:.3f} s | {m['script'] / m['engine']:.1f}x | "
            f"{m['batch'] / m['engine']:.1f}x | {mininet} | "
            f"{m['change'] * 1000:.1f} ms ({m['change_steps']} steps) | "
            f"{m['python_peak_mib']:.1f} MiB | "
            f"{m['maxrss_mib']:.0f} MiB |\n"
        )
    return header + body


def split_table(rows: list[tuple[str, int, dict[str, Any]]]) -> str:
    """Where the engine's time goes: Python, the kernel, or waiting (see :func:`_split`)."""
    text = (
        "| lab | N | engine deploy | Python (user) | kernel (system) | waiting "
        "| engine destroy | Python (user) | kernel (system) | waiting |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
    )
    for lab, size, m in rows:
        cells = [
            f"{m[f'{method}{part}']:.3f} s"
            for method in ("engine", "destroy")
            for part in ("", "_user", "_system", "_waiting")
        ]
        text += f"| {lab} | {size} | " + " | ".join(cells) + " |\n"
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m netlab.bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--sizes", default="10,50,200,500", help="comma-separated N values")
    parser.add_argument("--runs", type=int, default=3, help="runs per method (median)")
    parser.add_argument("--labs", default="star,chain", help="star, chain or both")
    parser.add_argument("--output", default="artifacts/bench-engine.md")
    arguments = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("the benchmark creates namespaces: run it as root", file=sys.stderr)
        return 2
    sizes = [int(size) for size in arguments.sizes.split(",")]
    builders: dict[str, Callable[[int], Document]] = {"star": star, "chain": chain}
    rows = []
    with tempfile.TemporaryDirectory(prefix="netlab-bench-") as state_dir:
        for lab in arguments.labs.split(","):
            for size in sizes:
                medians = measure(builders[lab](size), arguments.runs, state_dir)
                rows.append((lab, size, medians))
                print(f"{lab}-{size}: engine {medians['engine']:.3f} s", file=sys.stderr)
    leftovers = [name for name in namespaces.list_names() if name.startswith(PREFIX)]
    text = (
        "# netlab engine benchmark\n\n"
        f"{platform.node()}: kernel {platform.release()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs; medians of {arguments.runs} runs. Engine times are in-process "
        "(Python start and imports, about 0.2 s, excluded) and do not include validating and "
        "compiling the design (its own column); destroy is timed until the kernel has "
        "finished tearing every namespace down.\n\n" + table(rows) + "\n"
        "Where the engine's time goes: this process's CPU time during the call, every "
        "thread's, split into user (Python and its libraries) and system (the kernel's work "
        "for netlab); the rest is waiting (for the kernel's deferred work, such as a "
        "namespace's cleanup).\n\n" + split_table(rows)
    )
    output = Path(arguments.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    print(text)
    if leftovers:
        print(f"left behind: {leftovers}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
