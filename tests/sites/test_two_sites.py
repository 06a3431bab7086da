"""Two sites, a worker each: a lab with nodes pinned to both runs across a VXLAN tunnel.

Each site is a network namespace this test makes (``sitekit``: underlay 10.255.N.1 and .2
on a veth between them, nothing else). Its worker (``manage.py netlab worker --site NAME
--underlay ADDRESS``) runs inside it, entered with ``nsenter --net`` (only the network
namespace: the lab namespaces it makes are named under this machine's /run/netns, as the
kernel tests' are). Both workers and the command line share one SQLite database file and a
Redis channel layer on a unix socket: no network at all between them (a socket file is
reached from any network namespace). Each worker has its own state directory, as two
machines would.
Everything is stopped by PID and removed at the end, pass or fail.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import string
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sitekit import Site, two_sites

from netlab.kernel import engine, namespaces

pytestmark = [
    pytest.mark.sites,
    pytest.mark.skipif(os.geteuid() != 0, reason="a site's worker needs root"),
    pytest.mark.skipif(shutil.which("nsenter") is None, reason="nsenter (util-linux) is missing"),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is missing"),
]

REPOSITORY = Path(__file__).resolve().parents[2]
PYTHON = str(REPOSITORY / ".venv" / "bin" / "python")
SITE_TIMEOUT = 6  # seconds: a killed site is found down quickly
WAIT = 60.0  # the most any step of the test is waited for (the machine is shared)


def lab(name: str, pins: dict[str, str]) -> dict[str, Any]:
    """host and red, joined to blue; each node pinned as ``pins`` says."""
    return {
        "format": "netlab/v1",
        "name": name,
        "nodes": [
            {"id": node, "kind": "host" if node == "host" else "namespace", "site": site}
            for node, site in pins.items()
        ],
        "links": [
            {
                "endpoints": [
                    {"node": "red", "interface": "eth0", "addresses": ["10.0.0.1/24"]},
                    {"node": "blue", "interface": "eth0", "addresses": ["10.0.0.2/24"]},
                ]
            }
        ],
    }


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {WAIT:.0f} s")
        time.sleep(0.2)


class Machines:
    """The database, the workers of sites a and b, and the command line, for one test."""

    def __init__(self, root: Path, prefix: str) -> None:
        self.root = root
        self.prefix = prefix
        self.workers: dict[str, subprocess.Popen[bytes]] = {}
        self.redis: subprocess.Popen[bytes] | None = None
        self.redis_socket = root / "redis.sock"
        self.env = {
            key: value for key, value in os.environ.items() if not key.startswith("NETLAB_")
        }
        self.env.update(
            DJANGO_SETTINGS_MODULE="netlab.settings",
            PYTHONUNBUFFERED="1",
            NETLAB_DATA_DIR=str(root / "data"),
            NETLAB_STATE_DIR=str(root / "state-cli"),
            NETLAB_NETNS_PREFIX=prefix,
            NETLAB_SITE_TIMEOUT=str(SITE_TIMEOUT),
            NETLAB_REDIS_URL=f"unix://{self.redis_socket}",
        )  # fmt: skip

    def start_redis(self) -> None:
        """Redis on a unix socket only (``--port 0``: no TCP at all), nothing kept on disk."""
        self.redis = subprocess.Popen(
            ["redis-server", "--port", "0", "--unixsocket", str(self.redis_socket),
             "--unixsocketperm", "700", "--dir", str(self.root), "--save", "",
             "--appendonly", "no"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(self.redis_socket.exists, "Redis's socket")

    def manage(self, *arguments: str, check: bool = True) -> str:
        command = " ".join(arguments)
        try:
            result = subprocess.run(
                [PYTHON, "manage.py", *arguments], cwd=REPOSITORY, env=self.env,
                capture_output=True, text=True, timeout=WAIT * 2,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"manage.py {command} timed out\n{self.logs()}") from None
        if check and result.returncode != 0:
            output = result.stdout + result.stderr
            raise RuntimeError(f"manage.py {command}: {output}\n{self.logs()}")
        return result.stdout

    def logs(self) -> str:
        return "\n".join(f"site {site}'s worker:\n{self.log(site)}" for site in ("a", "b"))

    def start_worker(self, site: Site) -> None:
        state = self.root / f"state-{site.name}"
        log = (self.root / f"worker-{site.name}.log").open("wb")
        command = [
            "nsenter", f"--net=/run/netns/{site.netns}", PYTHON, "manage.py", "netlab",
            "worker", "--site", site.name, "--underlay", site.underlay,
        ]  # fmt: skip
        self.workers[site.name] = subprocess.Popen(
            command, cwd=REPOSITORY, env={**self.env, "NETLAB_STATE_DIR": str(state)},
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()
        wait_for(lambda: "started" in self.log(site.name), f"site {site.name}'s worker start")

    def log(self, site: str) -> str:
        path = self.root / f"worker-{site}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def kill(self, site: str) -> None:
        process = self.workers.pop(site)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def status(self, design: str) -> dict[str, Any]:
        return dict(json.loads(self.manage("netlab", "status", design, "--json")))

    def import_lab(self, data: dict[str, Any]) -> str:
        path = self.root / f"{data['name']}.yaml"
        path.write_text(yaml.safe_dump(data))
        self.manage("netlab", "import", str(path))
        return str(data["name"])

    def close(self) -> None:
        """Stop the workers (by PID), then remove what either site's engine journaled."""
        for process in self.workers.values():
            process.terminate()
        for process in self.workers.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if self.redis is not None:
            self.redis.terminate()
            self.redis.wait(timeout=10)
        for state in self.root.glob("state-*"):
            engine.cleanup(set(), state_dir=str(state))


@pytest.fixture
def machines() -> Iterator[tuple[Machines, Site, Site]]:
    prefix = "nls" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(5)) + "-"
    root = Path(tempfile.mkdtemp(prefix="netlab-sites-"))
    made = Machines(root, prefix)
    try:
        with two_sites(prefix) as (a, b):
            try:
                made.start_redis()
                made.manage("migrate", "--verbosity", "0")
                made.manage("netlab", "ensure-admin")
                made.start_worker(a)
                made.start_worker(b)
                yield made, a, b
            finally:
                made.close()
    finally:
        for name in namespaces.list_names():  # the last resort: only this test's prefix
            if name.startswith(prefix):
                namespaces.remove(name)
        shutil.rmtree(root, ignore_errors=True)


def _ping(netns: str, address: str) -> bool:
    command = ["ip", "netns", "exec", netns, "ping", "-c", "3", "-W", "2", address]
    return subprocess.run(command, capture_output=True).returncode == 0


def _ours(prefix: str, sites: tuple[Site, Site]) -> list[str]:
    """This test's lab namespaces (its two site namespaces left out)."""
    own = {site.netns for site in sites}
    return [name for name in namespaces.list_names() if name.startswith(prefix) and name not in own]


def test_a_lab_across_two_sites(machines: tuple[Machines, Site, Site]) -> None:
    made, a, b = machines
    for site in ("a", "b"):  # both reach the channel layer
        assert "NETLAB_REDIS_URL is not set" not in made.log(site)
    across = made.import_lab(lab("across", {"host": "a", "red": "a", "blue": "b"}))
    made.manage("netlab", "deploy", across)
    status = made.status(across)
    assert (status["state"], status["site"]) == ("running", "a")
    nodes = status["nodes"]
    assert {node: facts["site"] for node, facts in nodes.items()} == {
        "host": "a", "red": "a", "blue": "b",
    }  # fmt: skip
    red, blue = nodes["red"]["netns"], nodes["blue"]["netns"]
    tunnel = subprocess.run(
        ["ip", "-d", "-n", red, "link", "show", "eth0"], capture_output=True, text=True, check=True
    ).stdout
    assert "vxlan id" in tunnel
    assert f"remote {b.underlay} local {a.underlay}" in tunnel
    assert "dstport 4789" in tunnel
    assert "mtu 1450" in tunnel
    assert _ping(red, "10.0.0.2")
    assert _ping(blue, "10.0.0.1")
    # The lab's check compares its own site's part (the tunnel's end included) with the design.
    assert made.manage("netlab", "check", across).strip() == "the kernel matches the design"
    made.manage("netlab", "destroy", across)
    assert made.status(across)["state"] == "stopped"
    assert _ours(made.prefix, (a, b)) == []
    for site in (a, b):  # no tunnel left in either site's underlay
        links = subprocess.run(
            ["ip", "-n", site.netns, "-d", "link"], capture_output=True, text=True
        )
        assert "vxlan" not in links.stdout
    assert "Traceback" not in made.logs()


def test_a_site_whose_worker_dies_leaves_the_other_sites_labs_running(
    machines: tuple[Machines, Site, Site],
) -> None:
    made = machines[0]
    across = made.import_lab(lab("across", {"host": "a", "red": "a", "blue": "b"}))
    alone = made.import_lab(lab("alone", {"host": "b", "red": "b", "blue": "b"}))
    made.manage("netlab", "deploy", across)
    made.manage("netlab", "deploy", alone)
    blue = made.status(across)["nodes"]["blue"]["netns"]
    alone_red = made.status(alone)["nodes"]["red"]["netns"]
    made.kill("a")
    # Site a is found down by b's worker: its lab is unknown, b's are left running.
    wait_for(lambda: made.status(across)["state"] == "unknown", "site a's lab unknown")
    assert made.status(alone)["state"] == "running"
    assert _ping(alone_red, "10.0.0.2")
    assert namespaces.exists(blue)
