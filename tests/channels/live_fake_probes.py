"""A probes double for the live-lab tests above the kernel: pings that wait for the test.

It has the ``ping`` of ``netlab.kernel.probes`` and sends nothing: each call counts itself
in ``started``, waits until the test sets ``release`` (so a test can hold probes open),
then reports every echo request answered.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from netlab.kernel.probes import PingReply, PingResult

started = threading.Semaphore(0)
release = threading.Event()
HOLD_LIMIT = 30.0  # seconds: a test that never releases must not hang the run


def ping(
    netns: str,
    target: str,
    *,
    count: int = 3,
    on_reply: Callable[[PingReply], None] | None = None,
    **options: object,
) -> PingResult:
    started.release()
    release.wait(HOLD_LIMIT)
    replies = tuple(PingReply(seq, 0.05, target, 64) for seq in range(1, count + 1))
    for reply in replies:
        if on_reply is not None:
            on_reply(reply)
    return PingResult(netns, target, count, count, 0.0, 0.05, 0.05, 0.05, replies)


def reset() -> None:
    global started
    started = threading.Semaphore(0)
    release.clear()
