"""A log-line budget: one line per key and interval, with the count of what it stood for.

Abuse (thousands of refused connections or malformed messages) must not turn into thousands of
log lines. `LogThrottle` is pure bookkeeping with the clock passed in: `note(key, now)` says
whether to log now, and how many events of that key were suppressed since the last line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["LogThrottle"]


@dataclass
class LogThrottle:
    """At most one line per key every `interval_s` seconds."""

    interval_s: float = 10.0
    _last: dict[str, float] = field(default_factory=dict)
    _suppressed: dict[str, int] = field(default_factory=dict)

    def note(self, key: str, now: float) -> int | None:
        """Count one event; the number of events suppressed before it when it should be logged, else None."""
        last = self._last.get(key)
        if last is not None and now - last < self.interval_s:
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return None
        self._last[key] = now
        return self._suppressed.pop(key, 0)
