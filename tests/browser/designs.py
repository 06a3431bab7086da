"""Designs without positions for the browser tests and benchmarks of the canvas.

``campus`` is the 62-node design of issue 18: a host with a core bridge, four routers
(namespaces that forward) on it, each holding an access bridge with 13 hosts. The JS unit
tests build the same campus (``tests/js/designs.mjs``).
"""

from __future__ import annotations

from typing import Any


def _end(node: str, interface: str, address: str | None = None) -> dict[str, Any]:
    end: dict[str, Any] = {"node": node, "interface": interface}
    if address:
        end["addresses"] = [address]
    return end


def campus(routers: int = 4, hosts_per_bridge: int = 13) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [
        {"id": "host", "kind": "host"},
        {"id": "core", "kind": "bridge", "in": "host", "addresses": ["10.0.0.254/24"]},
    ]
    links: list[dict[str, Any]] = []
    for r in range(1, routers + 1):
        nodes.append(
            {
                "id": f"r{r}",
                "kind": "namespace",
                "forwarding": True,
                "routes": [{"to": "default", "via": "10.0.0.254"}],
            }
        )
        nodes.append(
            {"id": f"access{r}", "kind": "bridge", "in": f"r{r}", "addresses": [f"10.{r}.0.1/24"]}
        )
        links.append(
            {"endpoints": [_end(f"r{r}", "up", f"10.0.0.{r}/24"), _end("core", f"core-r{r}")]}
        )
    for r in range(1, routers + 1):
        for h in range(1, hosts_per_bridge + 1):
            node_id = f"h{r}-{h}"
            nodes.append(
                {
                    "id": node_id,
                    "kind": "namespace",
                    "routes": [{"to": "default", "via": f"10.{r}.0.1"}],
                }
            )
            links.append(
                {
                    "endpoints": [
                        _end(node_id, "eth0", f"10.{r}.0.{h + 1}/24"),
                        _end(f"access{r}", f"p{h}"),
                    ]
                }
            )
    return {
        "format": "netlab/v1",
        "name": "campus",
        "title": "Campus",
        "nodes": nodes,
        "links": links,
    }


def star(count: int) -> dict[str, Any]:
    """A host and one bridge with ``count - 2`` namespaces on it."""
    nodes: list[dict[str, Any]] = [
        {"id": "host", "kind": "host"},
        {"id": "hub", "kind": "bridge", "addresses": ["10.0.0.1/16"]},
    ]
    links: list[dict[str, Any]] = []
    for n in range(1, count - 1):
        nodes.append({"id": f"s{n}", "kind": "namespace"})
        address = f"10.0.{n // 250}.{n % 250 + 2}/16"
        links.append({"endpoints": [_end(f"s{n}", "eth0", address), _end("hub", f"p{n}")]})
    return {"format": "netlab/v1", "name": "star", "nodes": nodes, "links": links}


def chain(count: int) -> dict[str, Any]:
    """The host and ``count - 1`` namespaces in a line."""
    nodes: list[dict[str, Any]] = [{"id": "host", "kind": "host"}]
    links: list[dict[str, Any]] = []
    for n in range(1, count):
        nodes.append({"id": f"c{n}", "kind": "namespace"})
        previous = "host" if n == 1 else f"c{n - 1}"
        links.append({"endpoints": [_end(previous, f"e{n}a"), _end(f"c{n}", f"e{n}b")]})
    return {"format": "netlab/v1", "name": "chain", "nodes": nodes, "links": links}
