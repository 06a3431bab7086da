"""The deployment journal: what a deployment may have created, written before it is created.

One JSON file per deployment, ``deployment-TAG.json`` under the state directory (default
/run/netlab: a tmpfs, like the namespaces themselves, so a reboot clears both). The driver
writes the whole intent (every namespace it will create, every object it will make in the
root namespace, the previous values of the root sysctls it will change) before its first
kernel change, and updates the file when it starts the responder. After a crash or a
SIGKILL, ``cleanup`` reads it to find the orphans; it still removes only objects carrying
the deployment's mark.

Files are replaced atomically (write, then rename). No fsync: the files live on tmpfs, and
a killed process loses nothing it has written.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from netlab.core import names

DEFAULT_STATE_DIR = "/run/netlab"
_PREFIX = "deployment-"


@dataclass
class Entry:
    """The journal of one deployment."""

    tag: str
    state: str = "applying"  # applying, applied, destroying
    design: str = ""
    host_mode: bool = False
    namespaces: list[str] = field(default_factory=list)
    root_links: list[str] = field(default_factory=list)
    root_table: str | None = None
    root_sysctls: dict[str, str] = field(default_factory=dict)  # /proc/sys path: old value
    responder: dict[str, int] | None = None  # {"pid": ..., "started_at": ...}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Entry:
        known = {key: value for key, value in data.items() if key in cls.__dataclass_fields__}
        return cls(**known)


def path_of(state_dir: str | os.PathLike[str], tag: str) -> Path:
    if not names.TAG.fullmatch(tag):
        raise ValueError(f"not a deployment tag: {tag!r}")
    return Path(state_dir) / f"{_PREFIX}{tag}.json"


def write(state_dir: str | os.PathLike[str], entry: Entry) -> None:
    """Write ``entry`` (creating the state directory if needed), replacing any older one."""
    path = path_of(state_dir, entry.tag)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(entry), indent=1) + "\n")
    os.replace(temporary, path)


def read(state_dir: str | os.PathLike[str], tag: str) -> Entry | None:
    """Return the journal of deployment ``tag``, or None if there is none (or it is unreadable)."""
    try:
        data = json.loads(path_of(state_dir, tag).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return Entry.from_data(data) if isinstance(data, dict) else None


def remove(state_dir: str | os.PathLike[str], tag: str) -> None:
    """Remove the journal of deployment ``tag``; fine if it is already gone."""
    path_of(state_dir, tag).unlink(missing_ok=True)


def tags(state_dir: str | os.PathLike[str]) -> list[str]:
    """Return the tags of every journaled deployment, sorted."""
    try:
        files = os.listdir(state_dir)
    except FileNotFoundError:
        return []
    found = []
    for name in files:
        if name.startswith(_PREFIX) and name.endswith(".json"):
            tag = name[len(_PREFIX) : -len(".json")]
            if names.TAG.fullmatch(tag):
                found.append(tag)
    return sorted(found)
