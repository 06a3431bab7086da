"""A monitor's reader stops when it is cancelled, even when an event arrives with the
cancellation.

Python 3.11's ``asyncio.wait_for`` returns the awaited result instead of raising when the
result and the cancellation come in the same turn of the loop: a monitor waiting with it
for its next event swallowed the cancel of a destroy, kept its socket and so its namespace,
and the destroy waited for it forever (3 hangs in 6 runs of 150 to 300 deploy/destroy
cycles through a worker; the soak timed out once the same way).
"""

from __future__ import annotations

import asyncio
import time

from labkit import Lab, lab_fixture, requires_root  # noqa: F401 (fixtures)

from netlab.kernel import observe


def an_event(netns: str) -> observe.Event:
    return observe.Event(netns, "address", "new", None, time.monotonic())  # type: ignore[arg-type]


async def test_a_reader_cancelled_as_an_event_arrives_stops(lab: Lab) -> None:
    a = lab.namespace("a")
    async with observe.Monitor(a) as monitor:

        async def read() -> None:
            async for _ in monitor:
                pass

        reader = asyncio.create_task(read())
        await asyncio.sleep(0.05)  # the reader waits for its next event
        monitor._queue.put_nowait(an_event(a))
        reader.cancel()  # in the same turn of the loop as the event
        await asyncio.wait({reader}, timeout=2)
        assert reader.cancelled(), "the reader swallowed its cancellation"


async def test_next_event_cancelled_as_an_event_arrives_stops(lab: Lab) -> None:
    a = lab.namespace("a")
    async with observe.Monitor(a) as monitor:
        waiter = asyncio.create_task(monitor.next_event(timeout=30))
        await asyncio.sleep(0.05)
        monitor._queue.put_nowait(an_event(a))
        waiter.cancel()
        await asyncio.wait({waiter}, timeout=2)
        assert waiter.cancelled(), "next_event swallowed its cancellation"


def netlink_sockets_in(netns: str) -> int:
    """How many netlink sockets live in ``netns`` (only this test's process makes any)."""
    from netlab.kernel import namespaces

    def count() -> int:
        with open("/proc/thread-self/net/netlink") as table:
            return len(table.readlines()) - 1  # the header

    return namespaces.run_inside(netns, count)


async def test_a_monitor_cancelled_while_it_opens_leaves_no_socket(lab: Lab) -> None:
    """Cancelled at any point of ``open`` (making the socket in a thread, binding, the first
    dump), a monitor closes what it made: a socket left open keeps a destroyed lab's
    namespace alive (a destroy sent while a new lab's 200 monitors started waited 5 s for
    132 of them, then gave up)."""
    a = lab.namespace("a")
    baseline = netlink_sockets_in(a)
    for delay in (0, 0.0002, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.02):
        opening = asyncio.create_task(observe.Monitor(a).open())
        await asyncio.sleep(delay)
        opening.cancel()
        await asyncio.wait({opening}, timeout=2)
        if not opening.cancelled() and opening.exception() is None:
            await opening.result().close()  # it had opened before the cancel: closing is ours
        deadline = time.monotonic() + 2
        while netlink_sockets_in(a) > baseline and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert netlink_sockets_in(a) == baseline, (
            f"a socket was left open (cancelled after {delay} s)"
        )
