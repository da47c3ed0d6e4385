"""Bounded waits for a condition of a live system: polled, never a timing assertion."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable


async def until(pred: Callable[[], bool | Awaitable[bool]], timeout_s: float = 20.0, poll_s: float = 0.02) -> None:
    """Return once ``pred()`` (or what it awaits to) is true; TimeoutError after ``timeout_s``, a
    bound against a hang rather than a speed claim."""
    async with asyncio.timeout(timeout_s):
        while True:
            result = pred()
            if await result if inspect.isawaitable(result) else result:
                return
            await asyncio.sleep(poll_s)
