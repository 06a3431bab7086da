"""Host mode, run inside a throw-away outer namespace (never the real root namespace).

``test_host_mode`` starts this file under ``unshare --net --mount`` with a tmpfs over
/run/netns; it prints one JSON object of findings for the test to check.
"""

from __future__ import annotations

import json
import subprocess
import sys

from enginekit import tutorial

from netlab.kernel import engine, journal, probes
from netlab.kernel.apply import RefusedError


def links() -> list[str]:
    out = subprocess.run(["ip", "-br", "link"], capture_output=True, text=True, check=True)
    return sorted(line.split()[0].split("@")[0] for line in out.stdout.splitlines())


def forwarding() -> str:
    with open("/proc/sys/net/ipv4/ip_forward") as file:
        return file.read().strip()


def main(state_dir: str) -> None:
    found: dict[str, object] = {}
    # A foreign eth0, as on a real machine: host mode must refuse to touch it.
    subprocess.run(
        ["ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth0-peer"], check=True
    )
    before = links()
    try:
        engine.deploy(tutorial(3), prefix="nlh-", host_mode=True, state_dir=state_dir)
        found["refused"] = None
    except RefusedError as error:
        found["refused"] = str(error)
    found["untouched"] = links() == before and journal.tags(state_dir) == []
    subprocess.run(["ip", "link", "del", "eth0"], check=True)
    # Another foreign link, to survive the whole deployment.
    subprocess.run(
        ["ip", "link", "add", "keep0", "type", "veth", "peer", "name", "keep1"], check=True
    )
    before = links()
    record = engine.deploy(tutorial(3), prefix="nlh-", host_mode=True, state_dir=state_dir)
    found["namespaces"] = record.namespaces
    found["drift"] = [drift.as_dict() for drift in engine.check(tutorial(3), record)]
    found["forwarding"] = forwarding()
    found["status_host"] = sorted(i["name"] for i in engine.status(record)["host"]["interfaces"])
    found["ping_lan"] = probes.ping(record.namespaces["red"] or "", "192.168.1.3").received
    ruleset = subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True).stdout
    found["table"] = f"netlab_{record.tag}" in ruleset
    report = engine.destroy(record.tag, state_dir=state_dir)
    found["removed_root_links"] = sorted(report.removed_root_links)
    found["settled"] = report.settled
    found["links_after"] = links() == before
    found["forwarding_after"] = forwarding()
    found["ruleset_after"] = subprocess.run(
        ["nft", "list", "ruleset"], capture_output=True, text=True
    ).stdout
    found["netns_after"] = subprocess.run(
        ["ip", "netns", "list"], capture_output=True, text=True
    ).stdout
    print(json.dumps(found))


if __name__ == "__main__":
    main(sys.argv[1])
