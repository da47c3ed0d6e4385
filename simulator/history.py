"""Synthetic price history before the sandbox started (pure, deterministic per seed).

The path is a sum of seeded sine waves of several periods, anchored so that it ends exactly at
the symbol's start price when the sandbox starts; it is continuous in time, so any interval's
kline (1s .. 1M) can be computed by sampling without storing anything. Volumes come from a hash of
(seed, interval start) so the same request always returns the same candle.
"""

from __future__ import annotations

import hashlib
import math
import random
from decimal import Decimal

PERIODS_MS = (
    7 * 60_000,
    53 * 60_000,
    6 * 3_600_000,
    3 * 86_400_000,
    29 * 86_400_000,
    365 * 86_400_000,
)


class PricePath:
    """Deterministic price as a function of time, equal to `anchor_price` at `anchor_ms`."""

    def __init__(self, anchor_price: Decimal, seed: int, anchor_ms: int) -> None:
        rng = random.Random(seed)
        self.anchor_price = float(anchor_price)
        self.anchor_ms = anchor_ms
        self.seed = seed
        amps = (0.002, 0.004, 0.01, 0.03, 0.06, 0.15)
        self.waves = [
            (amp * rng.uniform(0.5, 1.0), 2 * math.pi / period, rng.uniform(0, 2 * math.pi))
            for amp, period in zip(amps, PERIODS_MS, strict=True)
        ]
        self._offset = self._raw(anchor_ms)

    def _raw(self, ms: int) -> float:
        return sum(a * math.sin(w * ms + ph) for a, w, ph in self.waves)

    def price(self, ms: int) -> float:
        """Price at `ms` (as a float; callers round to the symbol's tick)."""
        return self.anchor_price * math.exp(self._raw(ms) - self._offset)

    def volume_noise(self, key: int) -> float:
        """A stable pseudo-random number in [0, 1) for `key` (e.g. a kline open time)."""
        digest = hashlib.blake2b(f"{self.seed}:{key}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64
