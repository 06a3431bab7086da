"""Named network namespaces without forking: create, enter, remove.

``ip netns add`` and pyroute2's ``netns.create`` fork a helper per namespace (6-17 ms each,
and risky in a threaded process). Here each operation runs in a short-lived thread of our
own, because ``unshare`` and ``setns`` change only the calling thread's namespace: the thread
does its work (or opens sockets, which stay in the namespace they were made in) and exits,
so no thread of a pool ever wanders off in a foreign namespace.

Names reaching this module must come from ``netlab.core.names``: a ``/`` would make a path.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import threading
from collections.abc import Callable
from typing import TypeVar

NETNS_DIR = "/run/netns"
CLONE_NEWNET = 0x40000000
MS_BIND = 0x1000
MS_REC = 0x4000
MS_SHARED = 1 << 20
MNT_DETACH = 0x2
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

_libc = ctypes.CDLL(None, use_errno=True)
_shared_mount_lock = threading.Lock()
_shared_mount_done = False

T = TypeVar("T")


class NamespaceError(OSError):
    """A namespace could not be created, entered or removed."""


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise NamespaceError(code, f"{what}: {os.strerror(code)}")


def path_of(name: str) -> str:
    """Return the bind-mount path of namespace ``name``, refusing names that are not ours."""
    if not _SAFE_NAME.match(name) or ".." in name:
        raise ValueError(f"refusing namespace name {name!r}")
    return os.path.join(NETNS_DIR, name)


def exists(name: str) -> bool:
    return os.path.exists(path_of(name))


def list_names() -> list[str]:
    """Return the names under /run/netns (every tool's namespaces, not only ours)."""
    try:
        return sorted(os.listdir(NETNS_DIR))
    except FileNotFoundError:
        return []


def _ensure_shared_mount() -> None:
    """Make /run/netns a shared mount point, as iproute2 does, once per process.

    Without it, a namespace bind-mounted from one mount namespace is invisible (or cannot be
    unmounted) from another.
    """
    global _shared_mount_done
    with _shared_mount_lock:
        if _shared_mount_done:
            return
        os.makedirs(NETNS_DIR, mode=0o755, exist_ok=True)
        directory = NETNS_DIR.encode()
        if _libc.mount(b"", directory, b"none", MS_SHARED | MS_REC, None) != 0:
            code = ctypes.get_errno()
            if code != errno.EINVAL:
                raise NamespaceError(code, f"mount --make-rshared {NETNS_DIR}: {os.strerror(code)}")
            # EINVAL: not a mount point yet. Bind it onto itself, then share it.
            _check(
                _libc.mount(directory, directory, b"none", MS_BIND | MS_REC, None),
                f"mount --bind {NETNS_DIR}",
            )
            _check(
                _libc.mount(b"", directory, b"none", MS_SHARED | MS_REC, None),
                f"mount --make-rshared {NETNS_DIR}",
            )
        _shared_mount_done = True


def _in_thread(work: Callable[[], T]) -> T:
    """Run ``work`` in a fresh thread and return its result (or raise its exception)."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            outcome.append(work())
        except BaseException as error:  # handed to the caller below
            failure.append(error)

    thread = threading.Thread(target=target, name="netlab-netns", daemon=True)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return outcome[0]


def create(name: str, inside: Callable[[], T] | None = None) -> T | None:
    """Create namespace ``name``; run ``inside`` in it before returning, if given.

    Raises ``FileExistsError`` if the name is taken: netlab never adopts a namespace it did
    not create.
    """

    def work() -> T | None:
        create_here(name)
        return inside() if inside is not None else None

    return in_thread(work)


def run_inside(name: str | None, work: Callable[[], T]) -> T:
    """Run ``work`` inside namespace ``name`` (None: this process's own) and return its result.

    Opens the namespace with no creation flag: a missing namespace raises
    ``FileNotFoundError`` instead of being silently made.
    """
    if name is None:
        return _in_thread(work)
    path = path_of(name)

    def enter_and_work() -> T:
        fd = os.open(path, os.O_RDONLY)
        try:
            _check(_libc.setns(fd, CLONE_NEWNET), f"setns({path})")
        finally:
            os.close(fd)
        return work()

    return _in_thread(enter_and_work)


def open_fd(name: str) -> int:
    """Return an open file descriptor of namespace ``name``; the caller closes it."""
    return os.open(path_of(name), os.O_RDONLY)


def remove(name: str) -> bool:
    """Remove namespace ``name``; return False if it was already gone.

    The kernel frees the namespace (and deletes its interfaces) once nothing holds it: this
    returns before that happens.
    """
    path = path_of(name)
    if not os.path.exists(path):
        return False
    if _libc.umount2(path.encode(), MNT_DETACH) != 0:
        code = ctypes.get_errno()
        if code not in (errno.EINVAL, errno.ENOENT):  # not mounted: a half-created entry
            raise NamespaceError(code, f"umount {path}: {os.strerror(code)}")
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True


# Primitives for one throw-away worker thread that visits many namespaces in turn (the
# driver builds a whole lab from one such thread: a thread per namespace costs ~0.3 ms more
# each). They change the *calling* thread's namespace, so call them only from a thread
# started by ``in_thread``, never from a pool thread or the main thread.


def in_thread(work: Callable[[], T]) -> T:
    """Run ``work`` in a fresh thread (which it may move between namespaces); return its result."""
    _ensure_shared_mount()
    return _in_thread(work)


def create_here(name: str, prepare: Callable[[], object] | None = None) -> None:
    """Create namespace ``name`` and move the calling worker thread into it.

    ``prepare`` runs inside the new namespace *before* it gets its name under /run/netns, so
    whatever it does (netlab marks the loopback) is already true when anyone can see the
    namespace. Raises ``FileExistsError`` if the name is taken; on any failure nothing named
    ``name`` is left behind.
    """
    path = path_of(name)
    fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0o444)
    os.close(fd)
    try:
        unshare_here()
        if prepare is not None:
            prepare()
        # thread-self, not self: unshare changed only this thread's namespace.
        _check(
            _libc.mount(b"/proc/thread-self/ns/net", path.encode(), b"none", MS_BIND, None),
            f"mount --bind {path}",
        )
    except BaseException:
        os.unlink(path)
        raise


def unshare_here() -> None:
    """Move the calling worker thread into a new, unnamed namespace (it dies with its users)."""
    _check(_libc.unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)")


def enter_here(fd: int) -> None:
    """Move the calling worker thread into the namespace open as ``fd``."""
    _check(_libc.setns(fd, CLONE_NEWNET), "setns")


def current_fd() -> int:
    """Return a new file descriptor of the calling thread's namespace; the caller closes it."""
    return os.open("/proc/thread-self/ns/net", os.O_RDONLY)


def is_mounted(name: str) -> bool:
    """Tell whether ``name`` under /run/netns is a namespace (not a file left half-made)."""
    path = path_of(name)
    try:
        return os.stat(path).st_dev != os.stat(NETNS_DIR).st_dev
    except FileNotFoundError:
        return False
