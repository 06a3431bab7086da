"""Throw-away labs for the kernel tests of probes, the responder and observers.

Each ``Lab`` names its namespaces with a per-test prefix (``nlp`` and six random
characters) and removes every one of them on teardown, pass or fail. Addresses come from
10.213.0.0/16, a private range no real network of the test machine uses here; packets only
ever travel between the namespaces a test made.
"""

from __future__ import annotations

import os
import secrets
import string
import time
from collections.abc import Iterator

import pytest
from pyroute2 import IPRoute

from netlab.kernel import namespaces

requires_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="kernel tests need root (they create network namespaces)"
)


class Lab:
    """A set of namespaces made for one test, and veth links between them."""

    def __init__(self) -> None:
        alphabet = string.ascii_lowercase + string.digits
        self.prefix = "nlp" + "".join(secrets.choice(alphabet) for _ in range(6))
        self.names: list[str] = []

    def namespace(self, label: str) -> str:
        """Create namespace ``<prefix>-<label>`` with its loopback up; return its name."""
        name = f"{self.prefix}-{label}"
        namespaces.create(name)
        self.names.append(name)
        namespaces.run_inside(name, _loopback_up)
        return name

    def link(
        self, a: str, a_ifname: str, a_address: str, b: str, b_ifname: str, b_address: str
    ) -> None:
        """Create a veth ``a_ifname`` in ``a`` whose peer ``b_ifname`` is born in ``b``.

        Addresses are ``address/prefixlen`` text; both ends end up up.
        """
        fd = namespaces.open_fd(b)
        try:

            def make() -> None:
                with IPRoute() as ipr:
                    # The peer is created straight in b (no create-then-move: ~20 ms each).
                    ipr.link(
                        "add",
                        ifname=a_ifname,
                        kind="veth",
                        peer={"ifname": b_ifname, "net_ns_fd": fd},
                    )
                    _address_up(ipr, a_ifname, a_address)

            namespaces.run_inside(a, make)
        finally:
            os.close(fd)
        namespaces.run_inside(b, lambda: _address_up_new(b_ifname, b_address))

    def remove(self) -> None:
        """Remove every namespace of this lab (those already gone are skipped)."""
        for name in self.names:
            namespaces.remove(name)
        self.names.clear()


def _loopback_up() -> None:
    with IPRoute() as ipr:
        ipr.link("set", index=1, state="up")


def _address_up(ipr: IPRoute, ifname: str, address: str) -> None:
    (index,) = ipr.link_lookup(ifname=ifname)
    text, _, length = address.partition("/")
    ipr.addr("add", index=index, address=text, prefixlen=int(length))
    ipr.link("set", index=index, state="up")


def _address_up_new(ifname: str, address: str) -> None:
    with IPRoute() as ipr:
        _address_up(ipr, ifname, address)


def wait_until(predicate: object, timeout: float = 3.0, step: float = 0.02) -> bool:
    """Poll ``predicate()`` until it is true or ``timeout`` seconds pass; return the outcome."""
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(step)


@pytest.fixture(name="lab")
def lab_fixture() -> Iterator[Lab]:
    """A fresh lab, removed after the test whatever its outcome."""
    made = Lab()
    try:
        yield made
    finally:
        made.remove()


@pytest.fixture(name="pair")
def pair_fixture(lab: Lab) -> tuple[Lab, str, str]:
    """Namespaces ``a`` (10.213.1.1/24 on ``veth-a``) and ``b`` (10.213.1.2 on ``veth-b``)."""
    a = lab.namespace("a")
    b = lab.namespace("b")
    lab.link(a, "veth-a", "10.213.1.1/24", b, "veth-b", "10.213.1.2/24")
    return lab, a, b
