"""The sandbox's wall clock, with an injectable skew (fault `clock_skew`)."""

from __future__ import annotations

import time


class Clock:
    """Server time in ms = local wall clock + `skew_ms`."""

    def __init__(self, skew_ms: int = 0) -> None:
        self.skew_ms = skew_ms

    def now_ms(self) -> int:
        return int(time.time() * 1000) + self.skew_ms
