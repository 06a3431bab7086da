"""netlab's nftables table in one namespace, through the ``nft`` command.

Every function acts on the namespace of the *calling thread*: ``nft`` is a child process,
and a child inherits the namespace of the thread that starts it. Call them from a thread
inside the namespace (``namespaces.run_inside``, or the driver's worker thread).

Why the command and not pyroute2's ``NFTables``: that builds NAT rules only from low-level
expressions and has no namespace argument; ``nft -j -f -`` applies a whole table as one
atomic transaction in about 4 ms (a rejected batch changes nothing).
"""

from __future__ import annotations

import errno
import json
import shutil
import subprocess
from typing import Any

NFT = "nft"
TIMEOUT = 10.0


class NftablesError(OSError):
    """``nft`` refused a ruleset or could not run; the message is nft's own."""


def _run(arguments: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    executable = shutil.which(NFT) or shutil.which(NFT, path="/usr/sbin:/sbin")
    if executable is None:
        raise NftablesError(errno.ENOENT, "the nft command is not installed (Debian: nftables)")
    return subprocess.run(
        [executable, *arguments],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def apply(ruleset: dict[str, Any]) -> None:
    """Apply an nft JSON document atomically; raise :class:`NftablesError` with nft's words."""
    result = _run(["-j", "-f", "-"], json.dumps(ruleset))
    if result.returncode != 0:
        message = " ".join(result.stderr.split()) or f"nft exited with {result.returncode}"
        raise NftablesError(errno.EINVAL, message)


def delete_table(table: str, family: str = "inet") -> bool:
    """Delete ``table``; return False if it did not exist (nft 1.0.6 has no ``destroy``)."""
    result = _run(["delete", "table", family, table])
    if result.returncode == 0:
        return True
    if "No such file or directory" in result.stderr:
        return False
    raise NftablesError(errno.EIO, " ".join(result.stderr.split()))


def list_table(table: str, family: str = "inet") -> list[dict[str, Any]] | None:
    """Return the objects of ``table`` (nft JSON items: table, chains, rules), None if absent."""
    result = _run(["-j", "list", "table", family, table])
    if result.returncode != 0:
        if "No such file or directory" in result.stderr:
            return None
        raise NftablesError(errno.EIO, " ".join(result.stderr.split()))
    items = json.loads(result.stdout).get("nftables", [])
    return [item for item in items if "metainfo" not in item]
