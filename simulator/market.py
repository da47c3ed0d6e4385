"""Deterministic synthetic market makers (sans-I/O: randomness is a seeded `random.Random`).

Each `MarketMaker.step()` performs one market event on its symbol's book through the exchange core:
requote a level near the top, improve the spread, remove the best level, or send a synthetic taker
order that walks the book (and fills resting sandbox-account orders it trades through). A "fair
price" random walk biases the flow so the book drifts like a real one. Given the seed and the same
sequence of calls, the output is identical.
"""

from __future__ import annotations

import random
from typing import Protocol

from simulator.book import Side, SimBook


class TakerSink(Protocol):
    """What a market maker needs from the exchange core to print trades."""

    def synthetic_take(self, symbol: str, side: Side, lots: int, now_ms: int) -> None: ...


def seed_book(book: SimBook, rng: random.Random, mid_tick: int, levels: int, lots: int) -> None:
    """Fill `levels` price levels per side around `mid_tick` (cheap: one dict write per level)."""
    spread = rng.randint(1, 3)
    best_bid = mid_tick - (spread // 2) - 1
    best_ask = best_bid + spread
    t = best_bid
    made = 0
    while made < levels and t > 0:
        if made < 5 or rng.random() < 0.85:
            book.set_synth(Side.BID, t, _size(rng, lots))
            made += 1
        t -= 1
    t = best_ask
    made = 0
    while made < levels:
        if made < 5 or rng.random() < 0.85:
            book.set_synth(Side.ASK, t, _size(rng, lots))
            made += 1
        t += 1
    book.commit()


def _size(rng: random.Random, lots: int) -> int:
    return max(1, int(rng.expovariate(1.0) * lots))


class MarketMaker:
    """The synthetic liquidity and order flow of one symbol."""

    def __init__(
        self,
        symbol: str,
        book: SimBook,
        rng: random.Random,
        lots: int,
        levels: int,
        fair_tick: int,
        activity: float = 1.0,
    ) -> None:
        self.symbol = symbol
        self.activity = activity
        self.book = book
        self.rng = rng
        self.lots = lots
        self.levels = levels
        self.fair = fair_tick

    def step(self, sink: TakerSink, now_ms: int) -> None:
        """One market event; commits its book changes as one update id.

        A quiet market (``activity`` < 1) acts on that share of the steps, each time with a
        synthetic trade; ``activity`` 0 (a symbol in BREAK) never moves.
        """
        rng = self.rng
        if self.activity < 1.0:
            if self.activity <= 0.0 or rng.random() >= self.activity:
                return
            self._take(sink, now_ms)
            self._keep_depth()
            self.book.commit()
            return
        if rng.random() < 0.3:
            self.fair += rng.choice((-1, 1))
        r = rng.random()
        if r < 0.35:
            self._requote()
        elif r < 0.55:
            self._improve()
        elif r < 0.62:
            self._pull_best()
        else:
            self._take(sink, now_ms)
        bid, ask = self.book.bids.best(), self.book.asks.best()
        if bid is not None and ask is not None and ask - bid > 4:
            self._improve()  # market makers compete for a wide spread
        self._keep_depth()
        self.book.commit()

    def _pick_side(self) -> Side:
        return Side.BID if self.rng.random() < 0.5 else Side.ASK

    def _requote(self) -> None:
        side = self._pick_side()
        levels = self.book.side(side)
        best = levels.best()
        if best is None:
            return
        k = min(int(self.rng.expovariate(0.25)), 60)
        tick = best - k if side is Side.BID else best + k
        if tick <= 0:
            return
        size = 0 if self.rng.random() < 0.2 and k > 0 else _size(self.rng, self.lots)
        self.book.set_synth(side, tick, size)

    def _improve(self) -> None:
        bid, ask = self.book.bids.best(), self.book.asks.best()
        if bid is None or ask is None:
            return
        if ask - bid <= 1:
            self._requote()
            return
        side = Side.BID if self.fair >= (bid + ask) / 2 else Side.ASK
        if self.rng.random() < 0.3:
            side = side.opposite
        tick = bid + 1 if side is Side.BID else ask - 1
        self.book.set_synth(side, tick, _size(self.rng, self.lots))

    def _pull_best(self) -> None:
        side = self._pick_side()
        levels = self.book.side(side)
        best = levels.best()
        if best is None or len(levels.ticks) < 10 or levels.synth.get(best, 0) == 0:
            return
        self.book.set_synth(side, best, 0)

    def _take(self, sink: TakerSink, now_ms: int) -> None:
        bid, ask = self.book.bids.best(), self.book.asks.best()
        if bid is None or ask is None:
            return
        mid = (bid + ask) / 2
        p_buy = 0.65 if self.fair > mid else 0.35 if self.fair < mid else 0.5
        side = Side.BID if self.rng.random() < p_buy else Side.ASK
        lots = max(1, int(self.rng.expovariate(1.0) * self.lots * 0.6))
        sink.synthetic_take(self.symbol, side, lots, now_ms)

    def _keep_depth(self) -> None:
        for side in (Side.BID, Side.ASK):
            levels = self.book.side(side)
            n = len(levels.ticks)
            if n < self.levels:
                worst = levels.worst()
                best = levels.best()
                if worst is None or best is None:
                    anchor = self.fair - 1 if side is Side.BID else self.fair + 1
                    self.book.set_synth(side, max(1, anchor), _size(self.rng, self.lots))
                    continue
                tick = worst - self.rng.randint(1, 2) if side is Side.BID else (
                    worst + self.rng.randint(1, 2))
                if tick > 0:
                    self.book.set_synth(side, tick, _size(self.rng, self.lots))
            elif n > self.levels + self.levels // 5:
                worst = levels.worst()
                if worst is not None and levels.user.get(worst, 0) == 0:
                    self.book.set_synth(side, worst, 0)
