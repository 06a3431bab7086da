"""Read one namespace's links, neighbours, routes and counters, and watch them change.

The readers (``links``, ``neighbours``, ``routes``, ``counters``, ``snapshot``) open an
``IPRoute`` inside the namespace from a throw-away thread (``namespaces.run_inside``) and
dump there: no fork (``IPRoute(netns=...)`` forks a helper), no thread of the caller ever
changes namespace, and they work from inside a running asyncio loop too (a sync
``IPRoute`` in the loop's own thread raises "This event loop is already running"). They
are blocking: call them through ``asyncio.to_thread`` from async code.

``Monitor`` is the asyncio side: a netlink socket made inside the namespace, bound to the
link, neighbour, address and route groups and read by the loop, yielding one ``Event`` per
change as the kernel reports it; its ``snapshot`` and ``counters`` read through a second
socket it keeps there. Both are parsed with ``struct`` (:mod:`.raw`: what a worker watching
1000 namespaces reads again and again).

Modules: :mod:`.records` (what is read: links, addresses, neighbours, routes, snapshots,
events), :mod:`.decode` (pyroute2's messages, and :mod:`.raw`'s dicts keyed the same way,
into records), :mod:`.readers` (the readers), :mod:`.raw` and :mod:`.monitor` (the
``Monitor``). Every public name is re-exported here.
"""

from netlab.kernel.observe.monitor import GROUPS, Monitor, MonitorClosed, MonitorError
from netlab.kernel.observe.readers import counters, links, neighbours, routes, snapshot
from netlab.kernel.observe.records import (
    Address,
    Event,
    EventKind,
    Link,
    Neighbour,
    Route,
    Snapshot,
)

__all__ = [
    "GROUPS",
    "Address",
    "Event",
    "EventKind",
    "Link",
    "Monitor",
    "MonitorClosed",
    "MonitorError",
    "Neighbour",
    "Route",
    "Snapshot",
    "counters",
    "links",
    "neighbours",
    "routes",
    "snapshot",
]
