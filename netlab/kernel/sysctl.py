"""sysctls of the calling thread's namespace, as files under /proc/sys.

pyroute2 has no sysctl API. ``/proc/sys/net`` shows the namespace of the thread that opens
the file, so these work from a thread moved into a namespace (``namespaces.run_inside`` or
the driver's worker thread). Per namespace and starting at 0: ``net.ipv4.ip_forward``.
"""

from __future__ import annotations

import os


def _checked(path: str) -> str:
    if not path.startswith("/proc/sys/net/") or ".." in path:
        raise ValueError(f"not a network sysctl: {path!r}")
    return path


def read(path: str) -> str:
    """Return the value of sysctl file ``path`` (e.g. /proc/sys/net/ipv4/ip_forward)."""
    with open(_checked(path)) as file:
        return file.read().strip()


def write(path: str, value: str) -> None:
    """Write ``value`` to sysctl file ``path``."""
    fd = os.open(_checked(path), os.O_WRONLY)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)
