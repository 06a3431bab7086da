"""Cases computed by the server's own code, for the browser's copies of its rules.

``static/netlab/editor/model.js`` checks node ids in the browser, as ``netlab/core/names.py``
does on the server. This script writes what the Python answers for a set of ids into
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

from netlab.core import names  # noqa: E402 - after the path is set

FIXTURE = Path(__file__).with_name("server-cases.json")


NODE_IDS = [
    "red", "ns1", "v-net-0", "R2_d2.x", "0day", "a" * 32, "a" * 33, "", "-red", ".red",
    "_red", "red blue", "réd", "red/blue", "host:1",
]  # fmt: skip


def cases() -> dict[str, Any]:
    node_ids = [{"id": node_id, "problem": names.node_id_problem(node_id)} for node_id in NODE_IDS]
    return {"node_ids": node_ids}


def render() -> str:
    return json.dumps(cases(), indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    FIXTURE.write_text(render(), encoding="utf-8")
