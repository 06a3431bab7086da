"""A campus lab for benchmarks and tests: routers, their access bridges and many hosts.

The issue's 62-node design is ``campus_data()``: the host node holding a core bridge, four
routers on it (forwarding, a route to every other router's segment), each router holding
an access bridge with 13 hosts (a default route via their router). Every address answers
every other: a ping-all of it is all green. Addresses come from ``network`` (a /16: the core
is its subnet 0, router ``i``'s segment its subnet ``i``).
"""

from __future__ import annotations

import ipaddress
from typing import Any


def campus_data(
    routers: int = 4,
    hosts_per_router: int = 13,
    network: str = "10.60.0.0/16",
    name: str = "campus",
    forwarding: bool = True,
) -> dict[str, Any]:
    """The campus as document data: 2 + 2 * ``routers`` + ``routers * hosts_per_router`` nodes.

    Without ``forwarding`` the routers forward nothing: a host reaches only its own segment
    and its router, and every other ping of a ping-all goes unanswered (times out).
    """
    if not 1 <= routers <= 250 or not 1 <= hosts_per_router <= 240:
        raise ValueError("a campus has 1-250 routers and 1-240 hosts per router")
    base = ipaddress.IPv4Network(network)
    subnets = list(base.subnets(new_prefix=24))[: routers + 1]
    core = subnets[0]
    nodes: list[dict[str, Any]] = [
        {
            "id": "host",
            "kind": "host",
            "forwarding": True,
            "routes": [
                {"to": str(subnets[index]), "via": str(core[index])}
                for index in range(1, routers + 1)
            ],
        },
        {"id": "core", "kind": "bridge", "addresses": [f"{core[254]}/24"]},
    ]
    links: list[dict[str, Any]] = []
    for index in range(1, routers + 1):
        router, access, segment = f"r{index}", f"access{index}", subnets[index]
        nodes.append(
            {
                "id": router,
                "kind": "namespace",
                "forwarding": forwarding,
                "routes": [
                    {"to": str(subnets[other]), "via": str(core[other])}
                    for other in range(1, routers + 1)
                    if other != index
                ],
            }
        )
        nodes.append(
            {"id": access, "kind": "bridge", "in": router, "addresses": [f"{segment[1]}/24"]}
        )
        links.append(
            {
                "endpoints": [
                    {"node": router, "interface": "eth0", "addresses": [f"{core[index]}/24"]},
                    {"node": "core", "interface": f"core-{router}"},
                ]
            }
        )
        for number in range(1, hosts_per_router + 1):
            host = f"h{index}-{number}"
            gateway, address = segment[1], segment[number + 9]
            nodes.append(
                {
                    "id": host,
                    "kind": "namespace",
                    "routes": [{"to": "default", "via": str(gateway)}],
                }
            )
            links.append(
                {
                    "endpoints": [
                        {"node": host, "interface": "eth0", "addresses": [f"{address}/24"]},
                        {"node": access, "interface": f"p-{host}"},
                    ]
                }
            )
    return {
        "format": "netlab/v1",
        "name": name,
        "title": f"Campus: {routers} routers, {routers * hosts_per_router} hosts",
        "nodes": nodes,
        "links": links,
    }
