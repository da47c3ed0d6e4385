"""The sandbox venue's market state: books, makers and the public trade tape (sans-I/O).

Time always comes in as `now_ms`; randomness comes from per-symbol `random.Random` instances
derived from the seed, so a given seed and call sequence produces the same market.
"""

from __future__ import annotations

import random
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from simulator.book import SimBook
from simulator.history import PricePath
from simulator.klines import Series, SeriesSpec
from simulator.market import MarketMaker, seed_book
from simulator.symbols import SymbolSpec

TRADE_TAPE = 20_000


@dataclass(frozen=True)
class PublicTrade:
    """One print on the public tape (`GET /api/v3/trades`, `@trade`)."""

    id: int
    price: Decimal
    qty: Decimal
    time: int
    buyer_is_maker: bool
    agg_id: int

    @property
    def quote_qty(self) -> Decimal:
        return self.price * self.qty


TradeListener = Callable[[str, list[PublicTrade]], None]


@dataclass
class SymbolState:
    """Everything the venue keeps per symbol."""

    spec: SymbolSpec
    book: SimBook
    maker: MarketMaker
    path: PricePath
    series: Series
    trades: deque[PublicTrade] = field(default_factory=lambda: deque(maxlen=TRADE_TAPE))
    next_trade_id: int = 1
    next_agg_id: int = 1
    last_price: Decimal = Decimal(0)
    last_qty: Decimal = Decimal(0)
    last_trade_time: int = 0
    reference_price: Decimal | None = None
    """Binance's per-symbol reference price (`GET /api/v3/referencePrice`); None = none."""

    def price(self, tick: int) -> Decimal:
        return self.spec.tick_size * tick

    def qty(self, lots: int) -> Decimal:
        return self.spec.step_size * lots


class Market:
    """Books, synthetic makers and trade tapes of every symbol."""

    def __init__(self, specs: dict[str, SymbolSpec], seed: int, start_ms: int) -> None:
        self.specs = specs
        self.seed = seed
        self.start_ms = start_ms
        self.symbols: dict[str, SymbolState] = {}
        self.trade_listeners: list[TradeListener] = []
        for name, spec in sorted(specs.items()):
            rng = random.Random(f"{seed}:{name}")
            path = PricePath(spec.start_price, seed * 100_003 + zlib.crc32(name.encode()), start_ms)
            mid = int(spec.start_price / spec.tick_size)
            book = SimBook(update_id=rng.randint(1_000_000, 9_000_000))
            seed_book(book, rng, mid, spec.depth_levels, spec.typical_lots)
            maker = MarketMaker(name, book, rng, spec.typical_lots, spec.depth_levels, mid,
                                spec.activity)
            series = Series(
                path,
                SeriesSpec(spec.tick_size, spec.step_size, spec.step_size * spec.typical_lots * 2),
                start_ms,
                spec.start_price,
            )
            state = SymbolState(spec, book, maker, path, series)
            state.next_trade_id = rng.randint(100_000, 900_000)
            state.next_agg_id = state.next_trade_id // 2
            state.last_price = spec.start_price
            state.last_qty = spec.step_size * spec.typical_lots
            state.last_trade_time = start_ms
            self.symbols[name] = state

    def record_trades(self, symbol: str, fills: list[tuple[int, int]], taker_buys: bool,
                      now_ms: int) -> list[PublicTrade]:
        """Print `(tick, lots)` fills of one taker order on the tape (one aggTrade per price)."""
        state = self.symbols[symbol]
        out: list[PublicTrade] = []
        last_tick: int | None = None
        for tick, lots in fills:
            if tick != last_tick:
                state.next_agg_id += 1
                last_tick = tick
            trade = PublicTrade(
                id=state.next_trade_id,
                price=state.price(tick),
                qty=state.qty(lots),
                time=now_ms,
                buyer_is_maker=not taker_buys,
                agg_id=state.next_agg_id,
            )
            state.next_trade_id += 1
            state.trades.append(trade)
            state.series.tape.add(now_ms, trade.price, trade.qty, taker_buys, trade.id)
            out.append(trade)
        if out:
            state.last_price = out[-1].price
            state.last_qty = out[-1].qty
            state.last_trade_time = now_ms
            for listener in list(self.trade_listeners):
                listener(symbol, out)
        return out
