"""Hypothesis strategies and a reference market for the book and sync cores.

The reference market is a naive dict per side that moves one update id at a time; depth events
cover ``[U; u]`` ranges with the final quantities of the levels changed in them (as Binance sends).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from hypothesis import strategies as st

from provider.orderbook.sync import DepthEvent, Snapshot

TICK = Decimal("0.00000001")
BID_TICKS = range(1, 21)  # bids never reach the asks: the reference book is never crossed
ASK_TICKS = range(21, 41)


def price(tick: int) -> str:
    return f"{tick * TICK:f}"


Change = tuple[str, int, str]  # side ("b"/"a"), tick, qty string ("0" removes)

changes = st.lists(
    st.tuples(
        st.sampled_from(["b", "a"]),
        st.integers(1, 20),
        st.sampled_from(["0", "0", "1", "2.5", "0.00000001", "1000"]),
    ).map(lambda c: (c[0], c[1] if c[0] == "b" else c[1] + 20, c[2])),
    min_size=1,
    max_size=4,
)


@dataclass
class ReferenceMarket:
    """The ground truth: the full book after every update id."""

    bids: dict[int, str] = field(default_factory=dict)
    asks: dict[int, str] = field(default_factory=dict)
    update_id: int = 0
    history: dict[int, tuple[dict[int, str], dict[int, str]]] = field(default_factory=dict)

    def apply(self, change_list: list[Change]) -> dict[tuple[str, int], str]:
        """One update id; returns the levels it touched with their new quantity."""
        self.update_id += 1
        touched: dict[tuple[str, int], str] = {}
        for side, tick, qty in change_list:
            book = self.bids if side == "b" else self.asks
            if Decimal(qty) == 0:
                book.pop(tick, None)
            else:
                book[tick] = qty
            touched[(side, tick)] = qty
        self.history[self.update_id] = (dict(self.bids), dict(self.asks))
        return touched

    def event(self, batches: list[list[Change]], event_time_ms: int = 0) -> DepthEvent:
        """Apply several updates and describe them as one depth event."""
        first = self.update_id + 1
        touched: dict[tuple[str, int], str] = {}
        for change_list in batches:
            touched.update(self.apply(change_list))
        b = [[price(t), q] for (s, t), q in touched.items() if s == "b"]
        a = [[price(t), q] for (s, t), q in touched.items() if s == "a"]
        return DepthEvent(first, self.update_id, event_time_ms, b, a)

    def snapshot(self, at: int | None = None) -> Snapshot:
        at = self.update_id if at is None else at
        bids, asks = self.history.get(at, ({}, {}))
        return Snapshot(
            at,
            [[price(t), q] for t, q in sorted(bids.items(), reverse=True)],
            [[price(t), q] for t, q in sorted(asks.items())],
        )

    def truth(self, at: int) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        bids, asks = self.history.get(at, ({}, {}))
        return (
            [(t * TICK, Decimal(q)) for t, q in sorted(bids.items(), reverse=True)],
            [(t * TICK, Decimal(q)) for t, q in sorted(asks.items())],
        )
