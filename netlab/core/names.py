"""Every rule about names, and every kernel name netlab computes, in one place.

User-chosen names (node ids, design names) are display text: they never become a path on
disk or a namespace name. Interface names are the exception the kernel forces on us: a
design's ``veth-red`` is the interface's real name, so its rules are the kernel's, tightened.
"""

from __future__ import annotations

import re
import secrets

IFNAMSIZ = 16  # the kernel's buffer, terminating NUL included: names hold 15 bytes
# Always used with fullmatch(): with match(), '$' also accepts a trailing newline.
INTERFACE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
# Names the kernel already uses in every namespace, or as sysctl directories
# (net/ipv4/conf/all, .../default): an interface cannot take them.
RESERVED_INTERFACE_NAMES = frozenset({"lo", "all", "default"})

NODE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
DESIGN_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# A site's name: a slug (it names a channel, netlab.worker.SITE), as the worker's --site.
SITE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,50}$")

NAMESPACE_PREFIX = "netlab-"
TAG_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
TAG = re.compile(r"^[a-z0-9]{6}$")
PREFIX = re.compile(r"^[a-z][a-z0-9-]{0,15}$")


def interface_name_problem(name: str) -> str | None:
    """Return why ``name`` cannot name an interface, or None when it can."""
    size = len(name.encode())
    if size == 0:
        return "interface name is empty"
    if size >= IFNAMSIZ:
        return f"interface name {name!r} is {size} bytes long; the kernel allows 15"
    if not INTERFACE_NAME.fullmatch(name):
        return (
            f"interface name {name!r} may only hold letters, digits and '_', '.', '-' "
            "(no '/', spaces or shell characters)"
        )
    if name.startswith("-"):
        # ``ip link add -x`` and ``iptables -i -x``: a command reads it as an option.
        return f"interface name {name!r} may not start with '-'"
    if ".." in name or name == ".":
        return f"interface name {name!r} may not be '.' or contain '..'"
    if name in RESERVED_INTERFACE_NAMES:
        return f"interface name {name!r} is reserved by the kernel"
    return None


def node_id_problem(node_id: str) -> str | None:
    """Return why ``node_id`` cannot name a node, or None when it can."""
    if not NODE_ID.fullmatch(node_id):
        return (
            f"node id {node_id!r} must be 1-32 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    return None


def design_name_problem(name: str) -> str | None:
    """Return why ``name`` cannot name a design, or None when it can."""
    if not DESIGN_NAME.fullmatch(name):
        return (
            f"design name {name!r} must be a slug: 1-64 lowercase letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    return None


def site_name_problem(name: str) -> str | None:
    """Return why ``name`` cannot name a site, or None when it can."""
    if not SITE_NAME.fullmatch(name):
        return f"site name {name!r} must be 1-50 letters, digits, '-' or '_'"
    return None


def new_tag() -> str:
    """Return a fresh random deployment tag: six lowercase letters and digits."""
    return "".join(secrets.choice(TAG_ALPHABET) for _ in range(6))


def namespace_name(tag: str, index: int, prefix: str = NAMESPACE_PREFIX) -> str:
    """Return the kernel name of node number ``index`` of the deployment tagged ``tag``.

    Built only from netlab's own parts (prefix, random tag, a number), so no user text can
    reach ``/run/netns``.
    """
    if not TAG.fullmatch(tag):
        raise ValueError(f"not a deployment tag: {tag!r}")
    if not PREFIX.fullmatch(prefix.rstrip("-") or "-"):
        raise ValueError(f"not a namespace prefix: {prefix!r}")
    return f"{prefix}{tag}-{index}"


def namespace_index(name: str, tag: str, prefix: str = NAMESPACE_PREFIX) -> int | None:
    """Return the node number of :func:`namespace_name`'s ``name`` in deployment ``tag``, or
    None when ``name`` is not one of that deployment's names."""
    number = name.removeprefix(f"{prefix}{tag}-")
    if number == name or not number.isdigit() or not number.isascii():
        return None
    return int(number)


def nftables_table(tag: str) -> str:
    """Return the name of the nftables table netlab owns in a namespace of deployment ``tag``."""
    if not TAG.fullmatch(tag):
        raise ValueError(f"not a deployment tag: {tag!r}")
    return f"netlab_{tag}"


def ownership_mark(tag: str) -> str:
    """Return the alias netlab writes on the interfaces (and loopbacks) it creates."""
    return f"netlab:{tag}"
