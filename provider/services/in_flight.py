"""Counting the calls being served, so a graceful shutdown waits for them and not for open streams.

The error boundary (``services/errors.py``) enters and exits the count around each unary call and
each tool-call stream (a request-streaming call); ``server.py`` waits for it to reach zero.
"""

from __future__ import annotations

import asyncio

__all__ = ["IN_FLIGHT", "InFlight"]


class InFlight:
    """Counts calls being served; ``wait_idle`` returns once there are none."""

    def __init__(self) -> None:
        self.count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def enter(self) -> None:
        self.count += 1
        self._idle.clear()

    def exit(self) -> None:
        self.count -= 1
        if self.count == 0:
            self._idle.set()

    async def wait_idle(self, timeout_s: float) -> bool:
        """True when every call finished within the timeout."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout_s)
        except TimeoutError:
            return False
        return True


#: the process's calls in flight (one provider server per process).
IN_FLIGHT = InFlight()
