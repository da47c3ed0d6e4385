"""Bookkeeping for which symbols keep a live book: LRU order and a cap.

Pure on purpose (STYLE.md principle 3): these functions decide, the manager performs the I/O
(unsubscribe the evicted streams). Reconnect delays are ``common/backoff.py``.
"""

from __future__ import annotations

from collections import OrderedDict

__all__ = ["SymbolLRU"]


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

