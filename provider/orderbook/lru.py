"""Bookkeeping for which symbols keep a live book: LRU order, a cap, and reconnect backoff.

Pure on purpose (STYLE.md principle 3): these functions decide, the manager performs the I/O
(unsubscribe the evicted streams, sleep the backoff).
"""

from __future__ import annotations

import random
from collections import OrderedDict

__all__ = ["SymbolLRU", "backoff_delay"]


class SymbolLRU:
    """Tracked symbols, least recently requested first.

    Args:
        max_symbols: how many books to keep; touching one more evicts the least recently used.
    """

    def __init__(self, max_symbols: int) -> None:
        if max_symbols < 1:
            raise ValueError("max_symbols must be >= 1")
        self.max_symbols = max_symbols
        self._order: OrderedDict[str, float] = OrderedDict()

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._order

    def __len__(self) -> int:
        return len(self._order)

    def symbols(self) -> list[str]:
        """Tracked symbols, least recently used first."""
        return list(self._order)

    def last_used(self, symbol: str) -> float | None:
        """When ``symbol`` was last touched (caller's clock), or None."""
        return self._order.get(symbol)

    def touch(self, symbol: str, now: float) -> list[str]:
        """Mark ``symbol`` used at ``now``; return the symbols to stop (never ``symbol`` itself)."""
        self._order[symbol] = now
        self._order.move_to_end(symbol)
        evicted: list[str] = []
        while len(self._order) > self.max_symbols:
            oldest, _ = self._order.popitem(last=False)
            evicted.append(oldest)
        return evicted

    def discard(self, symbol: str) -> None:
        """Stop tracking ``symbol`` (no-op when absent)."""
        self._order.pop(symbol, None)


def backoff_delay(
    attempt: int, *, base_s: float = 0.5, cap_s: float = 30.0, rng: random.Random
) -> float:
    """Jittered exponential backoff: uniform in ``[c/2, c]``, ``c = min(cap, base * 2**attempt)``.

    Jitter spreads reconnects of many clients (Binance allows 300 connection attempts per 5 min).
    """
    ceiling = min(cap_s, base_s * (2 ** min(attempt, 30)))
    return rng.uniform(ceiling / 2, ceiling)
