"""The previous provider book (before issue 18), kept as the in-run reference of the benchmark.

Each side was a dict ``Decimal price -> Decimal qty`` plus an ascending list of the same prices
kept with :mod:`bisect`; every price and quantity was parsed into a Decimal on the ingest path.
Only what the benchmark measures is kept (snapshot, diff, top-N read).
"""

from __future__ import annotations

import bisect
from decimal import Decimal
from typing import Any

Level = tuple[Decimal, Decimal]


class _Side:
    def __init__(self, desc: bool) -> None:
        self.desc = desc
        self.keys: list[Decimal] = []
        self.qty: dict[Decimal, Decimal] = {}

    def set(self, price: Decimal, qty: Decimal) -> None:
        old = self.qty.get(price)
        if qty == 0:
            if old is not None:
                del self.qty[price]
                del self.keys[bisect.bisect_left(self.keys, price)]
            return
        if old is None:
            bisect.insort(self.keys, price)
        self.qty[price] = qty

    def top(self, n: int) -> list[Level]:
        keys = self.keys[: -n - 1: -1] if self.desc else self.keys[:n]
        return [(p, self.qty[p]) for p in keys]


class DecimalBook:
    """Snapshot, diffs (Decimal parsing on the hot path) and top-N reads, as before."""

    def __init__(self) -> None:
        self.bids, self.asks = _Side(True), _Side(False)
        self.last_update_id = 0

    def apply_snapshot(self, last_update_id: int, bids: Any, asks: Any) -> None:
        for side, levels in ((self.bids, bids), (self.asks, asks)):
            for p, q in levels:
                side.set(Decimal(p), Decimal(q))
        self.last_update_id = last_update_id

    def apply_diff(self, first: int, final: int, bids: Any, asks: Any) -> None:
        if final <= self.last_update_id or first > self.last_update_id + 1:
            return
        for side, levels in ((self.bids, bids), (self.asks, asks)):
            for p, q in levels:
                side.set(Decimal(p), Decimal(q))
        self.last_update_id = final

    def levels(self, n: int) -> tuple[list[Level], list[Level]]:
        return self.bids.top(n), self.asks.top(n)
