"""Property test of the book core (book.py Rules 4, 6-8) against a naive dict of Decimals.

Events are recorded and settled at arbitrary times (a read, an explicit settle, the overlay's own
bound); prices and quantities arrive with any number of decimals up to 12, so the book rescales
while it runs; crossing diffs are refused and leave the last settled book. Whatever the order,
every read equals the model at the book's own update id.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from provider.orderbook.book import DiffOutcome, OrderBook

Model = tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]


def spelled(value: Decimal, decimals: int) -> str:
    return f"{value:.{decimals}f}"


prices = st.tuples(st.integers(1, 40), st.integers(0, 12))  # (tick of 0.01, decimals >= 2)
quantities = st.one_of(st.just(Decimal(0)), st.decimals(min_value=Decimal("0.000000000001"),
                                                       max_value=Decimal(1000), places=12))


class BookAgainstModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.book = OrderBook(max_levels=None)
        self.settled: Model = ({}, {})
        self.pending: Model = ({}, {})
        self.spellings: dict[Decimal, str] = {}  # one spelling per price per window (Rule 9)
        self.update_id = 10

    def spell(self, price: Decimal, decimals: int) -> str:
        return self.spellings.setdefault(price, spelled(price, max(decimals, 2)))

    @initialize(bids=st.lists(st.tuples(st.integers(1, 20), quantities), max_size=10),
                asks=st.lists(st.tuples(st.integers(21, 40), quantities), max_size=10))
    def snapshot(self, bids: list[tuple[int, Decimal]], asks: list[tuple[int, Decimal]]) -> None:
        raw_bids = [[spelled(Decimal(t) / 100, 2), spelled(q, 12)] for t, q in bids if q]
        raw_asks = [[spelled(Decimal(t) / 100, 2), spelled(q, 12)] for t, q in asks if q]
        self.book.apply_snapshot(self.update_id, raw_bids, raw_asks)
        self.settled = ({Decimal(p): Decimal(q) for p, q in raw_bids},
                        {Decimal(p): Decimal(q) for p, q in raw_asks})
        self.pending = (dict(self.settled[0]), dict(self.settled[1]))

    @rule(bids=st.lists(st.tuples(prices, quantities), max_size=4),
          asks=st.lists(st.tuples(prices, quantities), max_size=4),
          qty_decimals=st.integers(0, 12))
    def diff(self, bids: list[tuple[tuple[int, int], Decimal]],
             asks: list[tuple[tuple[int, int], Decimal]], qty_decimals: int) -> None:
        raw: list[list[list[str]]] = [[], []]
        for side, levels in enumerate((bids, asks)):
            for (tick, decimals), qty in levels:
                price = Decimal(tick) / 100 + (Decimal(tick) / 10 ** (decimals + 2)
                                               if decimals > 2 else 0)
                price = price.quantize(Decimal(1).scaleb(-max(decimals, 2)))
                if (side == 0) != (price < Decimal("0.205")):
                    continue  # bids below 0.205, asks above: the model never crosses
                qty_text = spelled(qty, max(qty_decimals, 12 if qty != qty.quantize(
                    Decimal(1).scaleb(-qty_decimals)) else qty_decimals))
                raw[side].append([self.spell(price, decimals), qty_text])
                book = self.pending[side]
                if Decimal(qty_text) == 0:
                    book.pop(price, None)
                else:
                    book[price] = Decimal(qty_text)
        self.update_id += 1
        outcome = self.book.apply_diff(self.update_id, self.update_id, raw[0], raw[1])
        if outcome is DiffOutcome.APPLIED and self.book.pending == 0:
            self._settled()  # the overlay settled by itself (Rule 7)
        assert outcome is DiffOutcome.APPLIED

    def _settled(self) -> None:
        self.settled = (dict(self.pending[0]), dict(self.pending[1]))
        self.spellings.clear()

    @rule()
    def settle(self) -> None:
        assert self.book.settle() is DiffOutcome.APPLIED
        self._settled()

    @rule(tick=st.integers(21, 40))
    def crossing_bid(self, tick: int) -> None:
        """A bid at or above the best ask: refused when settled, back to the settled book."""
        asks = self.pending[1]
        if not asks:
            return
        price = min(asks)
        self.update_id += 1
        self.book.apply_diff(self.update_id, self.update_id, [[self.spell(price, 2), "1"]], [])
        assert self.book.settle() is DiffOutcome.CROSSED
        assert self.book.take_failure() is DiffOutcome.CROSSED
        self.pending = (dict(self.settled[0]), dict(self.settled[1]))
        self.spellings.clear()
        self.update_id = self.book.last_update_id or 0

    @rule(n=st.integers(1, 12))
    def shallow_read(self, n: int) -> None:
        """A shallow read materialises the top n levels, which later settles patch (Rule 8)."""
        bids, asks = self.book.levels(n)
        assert bids == sorted(self.pending[0].items(), reverse=True)[:n]
        assert asks == sorted(self.pending[1].items())[:n]
        self._settled()

    @invariant()
    def reads_equal_the_model(self) -> None:
        if self.book.last_update_id is None:
            return
        bids, asks = self.book.levels(1000)
        assert bids == sorted(self.pending[0].items(), reverse=True)
        assert asks == sorted(self.pending[1].items())
        self._settled()
        assert not self.book.is_crossed()


BookAgainstModel.TestCase.settings = settings(
    max_examples=150, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestBookAgainstModel = BookAgainstModel.TestCase
