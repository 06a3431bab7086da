"""Probes run from inside a lab's namespaces: ICMP echo (ping), TCP connect, all-pairs ping.

Every socket is created inside the source namespace by a throw-away thread
(``namespaces.run_inside``) and then used from the calling thread: a socket stays in the
namespace it was made in, so no thread of the caller ever changes namespace and no ``ping``
binary is forked. Targets are IP addresses, never names: a probe resolves nothing, so it
cannot wander off to a public address by accident.

Every probe blocks its calling thread. From async code run it in an executor of its own
(the worker keeps one for probes, so they never hold the threads deployments need);
``on_reply`` and ``on_cell`` are then called in those threads, so hand their values to the
loop with ``loop.call_soon_threadsafe``. A ``cancel`` event, when given, ends a ping or an
all-pairs ping early (its page went away).

A probe that cannot start says why: a source namespace that does not exist raises
``FileNotFoundError`` whose ``strerror`` names it, a zone naming no interface raises
:class:`ProbeError`.

One module per probe: :mod:`~netlab.kernel.probes.ping` (ICMP echo),
:mod:`~netlab.kernel.probes.tcp` (TCP connect, HTTP GET), :mod:`~netlab.kernel.probes.matrix`
(all-pairs ping, one pinger per source namespace), and :mod:`~netlab.kernel.probes.common`
(what they share: targets, zones, sockets made inside a namespace). Every public name is
re-exported here: ``from netlab.kernel import probes; probes.ping(...)`` is the way to call
them. A capture (:mod:`netlab.kernel.capture`) is re-exported too: the worker runs it as a
probe, with the same quota and cancels.
"""

from netlab.kernel.capture import Capture, CaptureError, Packet
from netlab.kernel.probes.common import IPAddress, ProbeError
from netlab.kernel.probes.matrix import PingCell, PingMatrix, pairs_of, ping_all, ping_source
from netlab.kernel.probes.ping import MAX_COUNT, MIN_INTERVAL, PingReply, PingResult, ping
from netlab.kernel.probes.tcp import MAX_ANSWER, ProbeResult, http_probe, tcp_probe

__all__ = [
    "MAX_ANSWER",
    "MAX_COUNT",
    "MIN_INTERVAL",
    "Capture",
    "CaptureError",
    "IPAddress",
    "Packet",
    "PingCell",
    "PingMatrix",
    "PingReply",
    "PingResult",
    "ProbeError",
    "ProbeResult",
    "http_probe",
    "pairs_of",
    "ping",
    "ping_all",
    "ping_source",
    "tcp_probe",
]
