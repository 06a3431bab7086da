"""Blocking work from the worker's event loop: the engine, the database, netlink dumps."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from django.db import close_old_connections

T = TypeVar("T")


async def in_thread(
    function: Callable[..., T],
    *args: Any,
    executor: ThreadPoolExecutor | None = None,
    **kwargs: Any,
) -> T:
    """Run blocking ``function`` in a thread (of ``executor``, else asyncio's default ones),
    then release that thread's database connection."""

    def run() -> T:
        try:
            return function(*args, **kwargs)
        finally:
            close_old_connections()

    if executor is None:
        return await asyncio.to_thread(run)
    context = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(executor, context.run, run)
