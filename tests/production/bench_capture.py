"""Capture benchmark: what a capture keeps up with, and what it costs.

``.venv/bin/python tests/production/bench_capture.py [--seconds 5] [--rates 1000,10000]``
(root). Deploys the bridge tutorial in-process, floods pings from red to blue at each rate
(pingers of 1,000 requests a second each, in processes of their own), and captures on blue's
interface the way the worker does for a page: every frame read and decoded into its line
and layers, base64 of its bytes made. Reports the echo packets seen, the drops the kernel
counted at the capture socket (its queue full: the reader too slow), and the CPU the reading
thread used (percent of one core). What a page receives is then at most
``NETLAB_CAPTURE_PACKETS_PER_SECOND`` of them a second (the rest counted, not sent).
Writes artifacts/bench-capture.md. Packets only travel between the lab's own namespaces.
"""

from __future__ import annotations

import argparse
import base64
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from layoutkit import write_report

from netlab.core.packets import decode
from netlab.core.validation import load
from netlab.kernel import engine
from netlab.kernel.capture import Capture

REPOSITORY = Path(__file__).resolve().parents[2]
EXAMPLE = REPOSITORY / "netlab" / "examples" / "2-bridge.yaml"


def measure(red: str, blue: str, rate: int, seconds: float) -> dict[str, float]:
    pingers = max(1, rate // 1000)
    stop = threading.Event()
    result: dict[str, float] = {"seen": 0, "drops": 0, "cpu": 0.0}

    def reader(live: Capture) -> None:
        started = time.thread_time()
        while not stop.is_set():
            packet = live.read(0.05)
            if packet is None:
                continue
            decoded = decode(packet.data)
            base64.b64encode(packet.data[:2048])
            if decoded.protocol == "icmp":
                result["seen"] += 1
        result["cpu"] = (time.thread_time() - started) / seconds * 100

    with Capture(blue, "veth-blue", bpf="icmp") as live:
        live.statistics()  # reset the counters
        thread = threading.Thread(target=reader, args=(live,))
        thread.start()
        began = time.perf_counter()
        # The flood comes from processes of its own: in this one, its threads would take
        # the interpreter from the reader and the figure would be the benchmark's.
        code = (
            "import sys; from netlab.kernel import probes; "
            f"probes.ping(sys.argv[1], '192.168.15.2', count={int(1000 * seconds)}, "
            "interval=0.001, timeout=1.0)"
        )
        flood = [
            subprocess.Popen([sys.executable, "-c", code, red], cwd=REPOSITORY)
            for _ in range(pingers)
        ]
        for pinger in flood:
            pinger.wait()
        elapsed = time.perf_counter() - began
        time.sleep(0.3)
        stop.set()
        thread.join()
        packets, drops = live.statistics()
    result["drops"] = drops
    result["offered"] = packets / elapsed
    result["elapsed"] = elapsed
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rates", default="1000,10000")
    parser.add_argument("--output", default="artifacts/bench-capture.md")
    arguments = parser.parse_args()
    if os.geteuid() != 0:
        print("the benchmark creates namespaces: run it as root", file=sys.stderr)
        return 2
    import yaml

    design = load(yaml.safe_load(EXAMPLE.read_text()))
    rows = []
    with tempfile.TemporaryDirectory(prefix="netlab-bench-capture-") as state:
        record = engine.deploy(design, prefix="nlbc-", state_dir=state)
        try:
            red, blue = record.namespaces["red"], record.namespaces["blue"]
            assert red is not None
            assert blue is not None
            for rate in (int(text) for text in arguments.rates.split(",")):
                found = measure(red, blue, rate, arguments.seconds)
                rows.append((rate, found))
                print(f"{rate}/s asked: {found}", file=sys.stderr)
        finally:
            engine.destroy(record.tag, state_dir=state)
    lines = [
        "# netlab capture benchmark",
        "",
        f"{platform.node()}: kernel {platform.release()}, {os.cpu_count()} CPUs; "
        f"{arguments.seconds:g} s per rate, echo requests and replies on blue's interface, "
        "each frame decoded as the worker does for a page.",
        "",
        "| pings asked | frames offered/s (kernel count) | echo frames decoded "
        "| drops at the socket | reader CPU (one core) |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for rate, found in rows:
        lines.append(
            f"| {rate}/s | {found['offered']:.0f} | {found['seen']:.0f} | {found['drops']:.0f} "
            f"| {found['cpu']:.1f}% |"
        )
    text = "\n".join(lines) + "\n"
    write_report(text, arguments.output)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
