"""The worker: runs deployments, probes and neighbour monitors, and publishes their events.

It is the only part of netlab that touches the kernel on behalf of the web UI. It runs in
the server's process (``manage.py netlab serve``, in-memory channel layer) or on its own
(``manage.py netlab worker``, Redis as the channel layer); the code is the same. One module
per concern:

- :mod:`.channel`: the contract consumers and services import (the groups pages join, the
  worker's channel, :func:`publish`, :func:`nudge`, :func:`access_changed`);
- :mod:`.runner`: the :class:`Worker`, which claims and runs deployments through the
  engine and serves its channel;
- :mod:`.monitors`: each running namespace's tables and counters, and who watches a lab;
- :mod:`.probes`: ping, ping-all and TCP probes, their executor and per-user quota;
- :mod:`.threads`: blocking work from the event loop.
"""

from typing import Any

from editor.worker.channel import (
    WORKER_CHANNEL,
    access_changed,
    envelope,
    group_name,
    lab_group,
    nudge,
    publish,
)

# The worker itself, its monitors and probes load on first use: the web process and the
# command line import this package for the channel's contract (:func:`nudge`,
# :func:`access_changed`) and never run a worker (PEP 562).
_LAZY = {
    "COALESCE": "editor.worker.monitors",
    "NeighbourTable": "editor.worker.monitors",
    "run_probe": "editor.worker.probes",
    "Worker": "editor.worker.runner",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_LAZY[name]), name)


__all__ = [
    "COALESCE",
    "WORKER_CHANNEL",
    "NeighbourTable",
    "Worker",
    "access_changed",
    "envelope",
    "group_name",
    "lab_group",
    "nudge",
    "publish",
    "run_probe",
]
