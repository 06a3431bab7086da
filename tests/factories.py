"""Design *data* (plain dicts, as JSON or YAML gives them) for tests.

Every factory has defaults for what a test does not care about and keyword overrides for
what it does. ``changed`` edits a copy of a document at a path written the way validation
reports problems (``links[2].endpoints[0].addresses[0]``), so a table row can set a bad
value and expect a problem at the same path.
"""

from __future__ import annotations

import copy
import random
import re
from pathlib import Path
from typing import Any

import yaml

FORMAT = "netlab/v1"
EXAMPLES = Path(__file__).resolve().parent.parent / "netlab" / "examples"
TUTORIALS = {int(path.name.split("-")[0]): path for path in sorted(EXAMPLES.glob("*.yaml"))}

# A containerlab topology of two linux nodes joined by one link, addressed by exec lines.
PAIR_TOPOLOGY = """\
name: pair
topology:
  nodes:
    a: {kind: linux, image: alpine:3, exec: ["ip addr add 10.0.0.1/24 dev eth1"]}
    b: {kind: linux, image: alpine:3, exec: ["ip addr add 10.0.0.2/24 dev eth1"]}
  links:
    - endpoints: ["a:eth1", "b:eth1"]
"""

DELETE = object()
"""A value for :func:`changed`: remove the key instead of setting it."""

_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def design_data(**overrides: Any) -> dict[str, Any]:
    """Return a small valid design: the host, and red and blue joined by a veth pair."""
    data: dict[str, Any] = {
        "format": FORMAT,
        "name": "test-design",
        "nodes": [node("host", "host"), node("red"), node("blue")],
        "links": [
            link(
                endpoint("red", "veth-red", "192.168.15.1/24"),
                endpoint("blue", "veth-blue", "192.168.15.2/24"),
            )
        ],
    }
    data.update(overrides)
    return data


def vlan_design_data(**overrides: Any) -> dict[str, Any]:
    """Return a router on a stick: red (VLAN 10) and blue (VLAN 20) are access ports of the
    VLAN-filtering bridge br0; router's eth0 is a trunk of both, with a sub-interface per VLAN
    (eth0.10: 10.0.10.1/24, eth0.20: 10.0.20.1/24) and forwarding."""
    data: dict[str, Any] = {
        "format": FORMAT,
        "name": "vlan-design",
        "nodes": [
            node("host", "host"),
            bridge("br0", vlan_filtering=True),
            node("red", routes=[route("default", "10.0.10.1")]),
            node("blue", routes=[route("default", "10.0.20.1")]),
            node(
                "router",
                forwarding=True,
                subinterfaces=[
                    {"parent": "eth0", "vlan": 10, "addresses": ["10.0.10.1/24"]},
                    {"parent": "eth0", "vlan": 20, "addresses": ["10.0.20.1/24"]},
                ],
            ),
        ],
        "links": [
            link(endpoint("red", "eth0", "10.0.10.2/24"), endpoint("br0", "p-red") | {"vlan": 10}),
            link(
                endpoint("blue", "eth0", "10.0.20.2/24"), endpoint("br0", "p-blue") | {"vlan": 20}
            ),
            link(endpoint("router", "eth0"), endpoint("br0", "p-router") | {"trunk": [10, 20]}),
        ],
    }
    data.update(overrides)
    return data


def node(id: str = "red", kind: str = "namespace", **fields: Any) -> dict[str, Any]:
    """Return a node; ``in_`` is written ``in``, ``position`` may be an (x, y) pair."""
    data: dict[str, Any] = {"id": id, "kind": kind}
    for key, value in fields.items():
        if key == "position" and isinstance(value, tuple):
            value = {"x": value[0], "y": value[1]}
        data[key.rstrip("_")] = value
    return data


def host(id: str = "host", **fields: Any) -> dict[str, Any]:
    """Return the host node."""
    return node(id, "host", **fields)


def bridge(id: str = "br0", **fields: Any) -> dict[str, Any]:
    """Return a bridge node (held by the host unless ``in_`` says otherwise)."""
    return node(id, "bridge", **fields)


def endpoint(node: str = "red", interface: str = "eth0", *addresses: str) -> dict[str, Any]:
    """Return a link endpoint; ``addresses`` is left out when none are given."""
    data: dict[str, Any] = {"node": node, "interface": interface}
    if addresses:
        data["addresses"] = list(addresses)
    return data


def link(*endpoints: dict[str, Any]) -> dict[str, Any]:
    """Return a link between ``endpoints`` (two, unless a test wants a wrong count)."""
    if not endpoints:
        endpoints = (endpoint("red", "veth-red"), endpoint("blue", "veth-blue"))
    return {"endpoints": list(endpoints)}


def route(to: str = "default", via: str | None = None, dev: str | None = None) -> dict[str, Any]:
    """Return a route; ``via`` and ``dev`` are left out when None."""
    data: dict[str, Any] = {"to": to}
    if via is not None:
        data["via"] = via
    if dev is not None:
        data["dev"] = dev
    return data


def nat(source: str = "192.168.15.0/24", out: str | None = None) -> dict[str, Any]:
    """Return a NAT (masquerade) rule."""
    return {"source": source} | ({"out": out} if out is not None else {})


def port_forward(
    port: Any = 80, to: str = "192.168.15.2:80", in_: str | None = None, **fields: Any
) -> dict[str, Any]:
    """Return a port forward; ``in_`` is written ``in``."""
    data: dict[str, Any] = {"port": port, "to": to, **fields}
    if in_ is not None:
        data["in"] = in_
    return data


def service(kind: str = "http", port: Any = 80) -> dict[str, Any]:
    """Return a built-in service."""
    return {"kind": kind, "port": port}


def tutorial_path(number: int) -> Path:
    """Return the file of tutorial example ``number`` (1-4)."""
    return TUTORIALS[number]


def tutorial_data(number: int) -> dict[str, Any]:
    """Return tutorial example ``number`` (1-4) as plain data, read with PyYAML directly."""
    data = yaml.safe_load(tutorial_path(number).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def changed(data: Any, changes: dict[str, Any]) -> Any:
    """Return a deep copy of ``data`` with each path in ``changes`` set to its value.

    A path is written like a problem's path. An index equal to a list's length appends;
    the value :data:`DELETE` removes the key or item. Values are put in as they are (not
    copied), so a deeply nested one costs nothing.
    """
    result = copy.deepcopy(data)
    for path, value in changes.items():
        parts = [int(index) if index else key for key, index in _PATH_PART.findall(path)]
        parent = result
        for part in parts[:-1]:
            parent = parent[part]
        last = parts[-1]
        if value is DELETE:
            del parent[last]
        elif isinstance(parent, list) and last == len(parent):
            parent.append(value)
        else:
            parent[last] = value
    return result


def without_positions(data: dict[str, Any], *node_ids: str) -> dict[str, Any]:
    """Return a copy of ``data`` with the positions of ``node_ids`` (all when none) removed."""
    result = copy.deepcopy(data)
    for item in result["nodes"]:
        if not node_ids or item["id"] in node_ids:
            item.pop("position", None)
    return result


# Text that YAML would read as something else, or that needs quoting or escaping.
AWKWARD_TEXT = (
    "",
    "yes",
    "no",
    "on",
    "null",
    "~",
    "true",
    "1e3",
    "0x10",
    "010",
    "3.14",
    ".inf",
    "2026-11-28",
    "12:30:00",
    "- item",
    "key: value",
    "# not a comment",
    "&anchor",
    "*alias",
    "!tag",
    "|",
    ">",
    "'single'",
    '"double"',
    "back\\slash",
    "two\nlines",
    "trailing newline\n",
    "crlf\r\nline",
    "tab\tinside",
    " leading space",
    "trailing space ",
    "ünïcødé",
    "penguin 🐧",
    "line\u2028separator",
    "next\x85line",
    "{flow: mapping}",
    "[flow, sequence]",
    "%directive",
    "@at",
    "`backtick`",
)


def generated_design_data(seed: int) -> dict[str, Any]:
    """Return a valid random design, the same for the same ``seed``.

    Bridges in the host, namespaces plugged into a bridge or straight into the host,
    default routes, NAT, port forwards and services, positions or none, and labels,
    titles and descriptions drawn from :data:`AWKWARD_TEXT`.
    """
    rng = random.Random(seed)

    def text() -> str:
        return rng.choice(AWKWARD_TEXT) + rng.choice(("", " ", "x", "42"))

    def position() -> dict[str, Any]:
        if rng.random() < 0.5:
            return {"x": rng.randint(-500, 2000), "y": rng.randint(-500, 2000)}
        return {"x": round(rng.uniform(-500, 2000), 3), "y": rng.uniform(0, 1)}

    nodes: list[dict[str, Any]] = [host(forwarding=rng.random() < 0.5)]
    links: list[dict[str, Any]] = []
    bridge_count = rng.randint(0, 3)
    for number in range(bridge_count):
        nodes.append(bridge(f"br{number}", addresses=[f"10.{number}.0.254/24"]))
    for number in range(rng.randint(0, 8)):
        namespace = node(f"ns{number}")
        if bridge_count and rng.random() < 0.6:
            holder = rng.randrange(bridge_count)
            address, gateway = f"10.{holder}.0.{number + 1}/24", f"10.{holder}.0.254"
            links.append(
                link(
                    endpoint(namespace["id"], "eth0", address),
                    endpoint(f"br{holder}", f"p{number}-br{holder}"),
                )
            )
        else:
            address, gateway = f"10.100.{number}.2/30", f"10.100.{number}.1"
            links.append(
                link(
                    endpoint("host", f"vh{number}", f"10.100.{number}.1/30"),
                    endpoint(namespace["id"], "eth0", address, f"2001:db8:{number}::2/64"),
                )
            )
        if rng.random() < 0.7:
            namespace["routes"] = [route("default", via=gateway)]
        if rng.random() < 0.3:
            namespace["services"] = [service(rng.choice(("http", "tcp")), rng.randint(1, 65535))]
            nodes[0].setdefault("port_forwards", []).append(
                port_forward(
                    8000 + number,
                    f"{address.split('/')[0]}:{namespace['services'][0]['port']}",
                    protocol=rng.choice(("tcp", "udp")),
                )
            )
        nodes.append(namespace)
    if bridge_count and rng.random() < 0.5:
        nodes[0]["nat"] = [nat("10.0.0.0/16")]
    for item in nodes:
        if rng.random() < 0.5:
            item["label"] = text()
        if rng.random() < 0.7:
            item["position"] = position()
    rng.shuffle(nodes)
    data = design_data(name=f"generated-{seed}", nodes=nodes, links=links)
    if rng.random() < 0.7:
        data["title"] = text()
    if rng.random() < 0.7:
        data["description"] = "\n".join(text() for _ in range(rng.randint(1, 4)))
    return data


def client_of(user: Any) -> Any:
    """A Django test client logged in as ``user`` (anonymous for None)."""
    from django.test import Client

    client = Client()
    if user is not None:
        client.force_login(user)
    return client
