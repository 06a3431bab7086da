"""Cases computed by the server's own code, for the browser's copies of its rules.

``static/netlab/editor/model.js`` lays out nodes without a position and checks node ids
in the browser, as ``netlab/core/layout.py`` and ``netlab/core/names.py`` do on the server.
This script writes what the Python answers for a set of documents and ids into
``server-cases.json``; ``server-cases.test.mjs`` (``node --test tests/js/``) checks that
model.js answers the same, and ``test_server_cases.py`` (pytest) that the file is what the
Python answers today. A change to either side fails one of them.

Regenerate after changing the Python rules: ``.venv/bin/python tests/js/server_cases.py``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from netlab.core import layout, names, validation  # noqa: E402 - after the path is set

FIXTURE = Path(__file__).with_name("server-cases.json")


def _node(node_id: str, kind: str = "namespace", **fields: Any) -> dict[str, Any]:
    return {"id": node_id, "kind": kind, **fields}


def _link(a: str, b: str, number: int) -> dict[str, Any]:
    return {
        "endpoints": [
            {"node": a, "interface": f"e{number}a"},
            {"node": b, "interface": f"e{number}b"},
        ]
    }


def _design(name: str, nodes: list[dict[str, Any]], links: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "format": "netlab/v1",
        "name": name,
        "nodes": nodes,
        "links": [_link(a, b, number) for number, (a, b) in enumerate(links)],
    }


def documents() -> list[dict[str, Any]]:
    """Documents whose layout exercises every rule: rows by distance from the host (bridges
    one row below their holder), sorted neighbours, unconnected nodes last, rows centred,
    and new nodes placed below those that keep their position."""
    at = {"position": {"x": 500, "y": 420}}
    return [
        _design("host-only", [_node("host", "host")], []),
        _design(
            "bridge",
            [_node("host", "host"), _node("v-net-0", "bridge"), _node("red"), _node("blue")],
            [("red", "v-net-0"), ("blue", "v-net-0")],
        ),
        _design(
            "chain-and-strays",
            [_node("host", "host"), _node("c"), _node("b"), _node("a"), _node("lone"), _node("z")],
            [("host", "c"), ("c", "b"), ("host", "a"), ("lone", "z")],
        ),
        _design(
            "bridge-in-a-namespace",
            [
                _node("host", "host"),
                _node("router"),
                _node("br0", "bridge", **{"in": "router"}),
                _node("x"),
                _node("y"),
                _node("w"),
            ],
            [("host", "router"), ("x", "br0"), ("y", "br0"), ("w", "br0")],
        ),
        _design(
            "some-placed",
            [_node("host", "host", position={"x": 10, "y": 60}), _node("red", **at), _node("blue")],
            [("host", "red"), ("red", "blue")],
        ),
        _design("no-host", [_node("b"), _node("a")], [("a", "b")]),
    ]


NODE_IDS = [
    "red", "ns1", "v-net-0", "R2_d2.x", "0day", "a" * 32, "a" * 33, "", "-red", ".red",
    "_red", "red blue", "réd", "red/blue", "host:1",
]  # fmt: skip


def cases() -> dict[str, Any]:
    layouts = []
    for data in documents():
        design = validation.parse(data)
        placed = layout.auto_layout(design).to_data()
        layouts.append(
            {
                "document": data,
                "layers": layout.layers(design),
                "positions": {node["id"]: node["position"] for node in placed["nodes"]},
            }
        )
    node_ids = [{"id": node_id, "problem": names.node_id_problem(node_id)} for node_id in NODE_IDS]
    return {"layouts": layouts, "node_ids": node_ids}


def render() -> str:
    return json.dumps(cases(), indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    FIXTURE.write_text(render(), encoding="utf-8")
