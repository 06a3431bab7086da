"""Kernel tests: root only, and the real root namespace must come out as it went in."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import string
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from enginekit import Kit

from netlab.kernel import engine, namespaces

VOLATILE = ("valid_life_time", "preferred_life_time", "expires", "used", "updated")


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _strip(item) for key, item in value.items() if key not in VOLATILE}
    if isinstance(value, list):
        return [_strip(item) for item in value]
    return value


def _ip_json(*arguments: str) -> Any:
    result = subprocess.run(["ip", "-j", *arguments], capture_output=True, text=True, check=True)
    return _strip(json.loads(result.stdout or "[]"))


def root_namespace_state() -> dict[str, Any]:
    """Links, addresses, routes, nftables ruleset and forwarding of the real root namespace."""
    nft = shutil.which("nft") or "/usr/sbin/nft"
    ruleset = subprocess.run([nft, "list", "ruleset"], capture_output=True, text=True).stdout
    with open("/proc/sys/net/ipv4/ip_forward") as forward:
        ip_forward = forward.read().strip()
    return {
        "links": _ip_json("link", "show"),
        "addresses": _ip_json("address", "show"),
        "routes": _ip_json("route", "show", "table", "all"),
        "routes6": _ip_json("-6", "route", "show", "table", "all"),
        "rules": _ip_json("rule", "show"),
        "nftables": ruleset,
        "ip_forward": ip_forward,
    }


@pytest.fixture(scope="session", autouse=True)
def root_namespace_untouched() -> Iterator[None]:
    """The real root namespace is identical before and after the whole kernel suite."""
    if os.geteuid() != 0:
        yield
        return
    before = root_namespace_state()
    yield
    after = root_namespace_state()
    changed = [key for key in before if before[key] != after[key]]
    assert not changed, f"the kernel tests changed the root namespace: {changed}"


@pytest.fixture
def kit(tmp_path: Path) -> Iterator[Kit]:
    """A unique prefix and state directory; everything deployed under them goes at the end."""
    alphabet = string.ascii_lowercase + string.digits
    made = Kit(
        prefix="nlt" + "".join(secrets.choice(alphabet) for _ in range(5)) + "-",
        state_dir=str(tmp_path / "state"),
    )
    try:
        yield made
    finally:
        engine.cleanup(set(), state_dir=made.state_dir)
        for name in made.namespaces():  # only this test's prefix: its own objects
            namespaces.remove(name)
