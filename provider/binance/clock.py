"""Server-time offset bookkeeping; pure (every time is an argument).

Spec §1.7: the server accepts a signed request only if
``timestamp < serverTime + 1000`` and ``serverTime - timestamp <= recvWindow``; -1021 otherwise.
We measure ``GET /api/v3/time`` and assume the server read its clock at the midpoint of the
round trip, so ``offset = serverTime - (sent + received) / 2`` with error at most ``rtt / 2``.
The shell (the client) measures at start, re-measures when :meth:`ClockOffset.is_due` says so,
and after any -1021.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ClockOffset", "ClockSample"]


@dataclass(frozen=True)
class ClockSample:
    """One measurement: the offset (server - local, ms) and the round trip it came from."""

    offset_ms: int
    rtt_ms: int
    measured_at_ms: int


class ClockOffset:
    """Holds the best recent estimate of ``server_time - local_time`` in milliseconds.

    Args:
        refresh_interval_ms: how old a measurement may get before :meth:`is_due` asks for a new one.
    """

    def __init__(self, refresh_interval_ms: int = 300_000) -> None:
        self.refresh_interval_ms = refresh_interval_ms
        self._sample: ClockSample | None = None
        self._stale = False

    def update(self, server_ms: int, sent_ms: int, received_ms: int) -> ClockSample:
        """Record a ``/api/v3/time`` answer received between local ``sent_ms`` and ``received_ms``.
        """
        if received_ms < sent_ms:
            raise ValueError("received_ms must not be before sent_ms")
        rtt = received_ms - sent_ms
        offset = server_ms - (sent_ms + received_ms) // 2
        self._sample = ClockSample(offset_ms=offset, rtt_ms=rtt, measured_at_ms=received_ms)
        self._stale = False
        return self._sample

    @property
    def sample(self) -> ClockSample | None:
        """The last measurement, or None before the first."""
        return self._sample

    @property
    def offset_ms(self) -> int:
        """Current offset; 0 until measured (the local clock is then the best guess)."""
        return self._sample.offset_ms if self._sample else 0

    def server_now_ms(self, local_ms: int) -> int:
        """Translate a local wall-clock reading into the server's clock."""
        return local_ms + self.offset_ms

    def is_due(self, local_ms: int) -> bool:
        """True if never measured, or the measurement is older than the refresh interval."""
        if self._sample is None or self._stale:
            return True
        return local_ms - self._sample.measured_at_ms >= self.refresh_interval_ms

    def invalidate(self) -> None:
        """Forget the measurement (after a -1021) so the next signed call re-measures first."""
        self._stale = True
