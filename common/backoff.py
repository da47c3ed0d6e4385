"""Retry delays, one policy for every retry loop of both processes.

A delay grows exponentially with the attempt number (0-based) up to a cap, ``ceiling = min(cap,
base * 2**attempt)``, and is jittered uniformly in ``[ceiling/2, ceiling]``. Jitter spreads the
retries of many clients that failed together (Binance allows 300 WebSocket connection attempts per
5 minutes per IP; a restarted provider gets its gateways back one by one).

Pure (STYLE.md principles 8 and 12): the caller counts attempts, passes the random source and
performs the sleep.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

__all__ = ["Backoff", "backoff_delay"]

#: beyond this many doublings every sane cap is reached; bounding it keeps the power finite.
_MAX_DOUBLINGS = 30


@dataclass(frozen=True)
class Backoff:
    """A retry policy: ``base_s`` is the first ceiling, ``cap_s`` the largest.

    Raises:
        ValueError: a base that is not positive or a cap below the base.
    """

    base_s: float = 0.5
    cap_s: float = 30.0

    def __post_init__(self) -> None:
        if not self.base_s > 0:
            raise ValueError(f"backoff base must be > 0, got {self.base_s}")
        if not self.cap_s >= self.base_s:
            raise ValueError(f"backoff cap {self.cap_s} is below its base {self.base_s}")

    def ceiling(self, attempt: int) -> float:
        """The longest delay after failure number ``attempt`` (0-based): the un-jittered value."""
        return min(self.cap_s, math.ldexp(self.base_s, min(max(attempt, 0), _MAX_DOUBLINGS)))

    def delay(self, attempt: int, rng: random.Random) -> float:
        """A jittered delay after failure number ``attempt``: uniform in ``[ceiling/2, ceiling]``."""
        ceiling = self.ceiling(attempt)
        return rng.uniform(ceiling / 2, ceiling)


def backoff_delay(
    attempt: int, *, base_s: float = 0.5, cap_s: float = 30.0, rng: random.Random, retry_after_s: float | None = None
) -> float:
    """``Backoff(base_s, cap_s).delay(attempt, rng)``, for loops whose base and cap are settings.

    When the failure said when to try again (``retry_after_s``: a rate limit's window, a ban's end),
    that time plus a jitter of at most ``base_s``: sooner would be refused again, and the grown
    backoff would keep a connection down long after the budget is back.
    """
    if retry_after_s is not None and 0 <= retry_after_s < math.inf:  # not "inf" (forever) nor "nan"
        return retry_after_s + rng.uniform(0, base_s)
    return Backoff(base_s, cap_s).delay(attempt, rng)
