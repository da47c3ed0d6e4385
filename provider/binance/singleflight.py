"""Single-flight: concurrent identical calls share one in-flight execution.

Used for public reads (N agents asking for the same depth at once cost one request's weight)
and for clock / exchangeInfo refreshes. A waiter that is cancelled does not cancel the shared
call for the others (``asyncio.shield``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["SingleFlight"]

T = TypeVar("T")


class SingleFlight(Generic[T]):
    """Deduplicates concurrent calls by key; the result (or error) is shared by all waiters."""

    def __init__(self) -> None:
        self._calls: dict[Hashable, asyncio.Task[T]] = {}

    def in_flight(self) -> int:
        """Number of distinct calls running now."""
        return len(self._calls)

    async def do(self, key: Hashable, fn: Callable[[], Awaitable[T]]) -> tuple[T, bool]:
        """Run ``fn`` unless a call with ``key`` is already running; return (result, joined)."""
        task = self._calls.get(key)
        if task is not None:
            return await asyncio.shield(task), True
        task = asyncio.ensure_future(fn())
        self._calls[key] = task
        task.add_done_callback(lambda t: self._done(key, t))
        return await asyncio.shield(task), False

    def _done(self, key: Hashable, task: asyncio.Task[T]) -> None:
        if self._calls.get(key) is task:
            del self._calls[key]
        if not task.cancelled():
            task.exception()  # mark retrieved: every waiter may have been cancelled
