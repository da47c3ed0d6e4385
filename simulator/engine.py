"""Matching engine and account of the sandbox (sans-I/O: `now_ms` is always an argument).

Rules of this file:
1. Price-time priority. A price level's queue is synthetic liquidity plus account orders; every
   account order remembers how many synthetic lots were ahead of it when it joined (`ahead`),
   which shrinks as synthetic size at the level is traded or pulled.
2. Account taker orders walk the opposite side from the best price (synthetic liquidity first at
   each level, then the account's own orders, subject to the taker's self-trade-prevention mode).
   Synthetic taker orders walk it too and fill resting account orders they reach.
3. Balances (spec §3.1): BUY LIMIT locks price x qty of quote; SELL locks qty of base; MARKET BUY
   pays as it fills. Commission is `COMMISSION_RATE` of the received asset, rounded up to 1e-8.
4. Stop and take-profit orders rest off-book until the last trade price crosses `stopPrice`, then
   become MARKET or LIMIT orders (keeping their id and type).
5. A MARKET order that runs out of liquidity (or, for stops, balance) expires with
   `expiryReason` INSUFFICIENT_LIQUIDITY; IOC/FOK leftovers expire as Binance describes.
6. Every order state change queues one `executionReport` (spec §8.3) in the order the engine makes
   it: NEW on acceptance and again when a stop triggers, one TRADE per fill (taker and maker
   alike), CANCELED, EXPIRED, TRADE_PREVENTION. Each matching event (a placement, a triggered
   stop, a synthetic taker, a cancel, a balance set) then queues one `outboundAccountPosition`
   with the assets whose free/locked changed, after its reports (as in
   `faqs/market_orders_faq.md`). Public operations hand the queue to `event_listeners` when they
   return, so listeners see events in engine order and never mid-operation.
"""

from __future__ import annotations

import secrets
import string
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import Any

from simulator import errors, userdata
from simulator.book import Side
from simulator.decimals import EIGHT, fmt8
from simulator.exchange import Market, PublicTrade, SymbolState
from simulator.filters import STOP_TYPES, OrderShape, check_filters

COMMISSION_RATE = Decimal("0.001")
COMMISSION_BPS = 10
DEFAULT_BALANCES = {
    "USDT": Decimal("100000"),
    "BTC": Decimal("2"),
    "ETH": Decimal("20"),
    "BNB": Decimal("200"),
    "SHIB": Decimal("200000000"),
    "DOGE": Decimal("100000"),
}
ABOVE_TRIGGER = {("STOP_LOSS", "BUY"), ("STOP_LOSS_LIMIT", "BUY"), ("TAKE_PROFIT", "SELL"),
                 ("TAKE_PROFIT_LIMIT", "SELL")}
OPEN_STATUSES = ("NEW", "PARTIALLY_FILLED")
ID_ALPHABET = string.ascii_letters + string.digits
EventListener = Callable[[dict[str, Any]], None]


def new_client_order_id() -> str:
    """22-char base62 id like Binance's auto-generated ones."""
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(22))


@dataclass(frozen=True)
class NewOrder:
    """A validated `POST /api/v3/order` request."""

    symbol: str
    side: str
    type: str
    time_in_force: str | None
    quantity: Decimal | None
    quote_order_qty: Decimal | None
    price: Decimal | None
    stop_price: Decimal | None
    client_order_id: str
    stp_mode: str
    strategy_id: int | None = None
    strategy_type: int | None = None


@dataclass
class Fill:
    """One execution of an account order (the `fills[]` of a FULL response)."""

    price: Decimal
    qty: Decimal
    commission: Decimal
    commission_asset: str
    trade_id: int


@dataclass
class MyTrade:
    """One row of `GET /api/v3/myTrades`."""

    symbol: str
    id: int
    order_id: int
    price: Decimal
    qty: Decimal
    commission: Decimal
    commission_asset: str
    time: int
    is_buyer: bool
    is_maker: bool


@dataclass
class Order:
    """An account order and its engine bookkeeping."""

    symbol: str
    order_id: int
    client_order_id: str
    side: str
    type: str
    time_in_force: str
    price: Decimal
    orig_qty: Decimal
    stop_price: Decimal
    orig_quote_order_qty: Decimal
    stp_mode: str
    time: int
    update_time: int
    working_time: int
    status: str = "NEW"
    executed_qty: Decimal = Decimal(0)
    cum_quote: Decimal = Decimal(0)
    is_working: bool = True
    expiry_reason: str | None = None
    strategy_id: int | None = None
    strategy_type: int | None = None
    tick: int | None = None
    ahead: int = 0
    locked: Decimal = Decimal(0)
    lock_asset: str = ""
    prevented_qty: Decimal = Decimal(0)
    """Quantity expired by self-trade prevention (`A` in the user data stream)."""
    fills: list[Fill] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def remaining(self) -> Decimal:
        return self.orig_qty - self.executed_qty

    @property
    def buy(self) -> bool:
        return self.side == "BUY"

    @property
    def on_book(self) -> bool:
        """Resting on the order book (`w` of an executionReport)."""
        return self.is_open and self.tick is not None

    def price_for_lock(self) -> Decimal:
        return self.price if self.price > 0 else self.stop_price


class Account:
    """Balances of the single sandbox account."""

    def __init__(self) -> None:
        self.free: dict[str, Decimal] = defaultdict(Decimal)
        self.locked: dict[str, Decimal] = defaultdict(Decimal)
        self.update_time = 0
        for asset, amount in DEFAULT_BALANCES.items():
            self.free[asset] = amount

    def lock(self, asset: str, amount: Decimal) -> None:
        if self.free[asset] < amount:
            raise errors.order_rejected(errors.INSUFFICIENT_BALANCE)
        self.free[asset] -= amount
        self.locked[asset] += amount

    def unlock(self, asset: str, amount: Decimal) -> None:
        self.locked[asset] -= amount
        self.free[asset] += amount


class Engine:
    """Account orders matched against the synthetic market."""

    def __init__(self, market: Market) -> None:
        self.market = market
        self.account = Account()
        self.orders: dict[int, Order] = {}
        self.by_symbol: dict[str, list[Order]] = defaultdict(list)
        self.queues: dict[tuple[str, Side, int], list[Order]] = defaultdict(list)
        self.stops: dict[str, list[Order]] = defaultdict(list)
        self.my_trades: dict[str, list[MyTrade]] = defaultdict(list)
        self.next_order_id = 1
        self.on_first_fill: Callable[[int], None] | None = None
        """Called with `now_ms` when an account order trades for the first time."""
        self.event_listeners: list[EventListener] = []
        """Called with each user data event (spec §8.3), in engine order (rule 6)."""
        self.next_exec_id = 1
        self.next_prevented_match: dict[str, int] = defaultdict(int)
        self._pending: list[dict[str, Any]] = []
        self._seen = self._balances()
        for name, state in market.symbols.items():
            state.book.synth_shrunk = self._make_shrink_hook(name)

    # ----------------------------------------------------------------- queries

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        names = [symbol] if symbol else sorted(self.by_symbol)
        return [o for n in names for o in self.by_symbol.get(n, []) if o.is_open]

    def find(self, symbol: str, order_id: int | None, client_id: str | None) -> Order | None:
        if order_id is not None:
            o = self.orders.get(order_id)
            return o if o is not None and o.symbol == symbol else None
        # Ids are unique among open orders only (spec §3.2): the most recent one with the id wins.
        # An open one is always the most recent, since no order can reuse its id while it is open.
        for o in reversed(self.by_symbol.get(symbol, [])):
            if o.client_order_id == client_id:
                return o
        return None

    def avg_price(self, symbol: str, now_ms: int) -> Decimal:
        """Volume-weighted average over the last 5 minutes (`GET /api/v3/avgPrice`)."""
        return self.vwap(symbol, 5, now_ms)

    def vwap(self, symbol: str, mins: int, now_ms: int) -> Decimal:
        """Volume-weighted average trade price over the last `mins` minutes (last price if none)."""
        state = self.market.symbols[symbol]
        s = state.series.span(now_ms - mins * 60_000, now_ms + 1)
        if s.volume == 0:
            return state.last_price
        return (s.quote_volume / s.volume).quantize(EIGHT, rounding=ROUND_DOWN)

    def filter_price(self, symbol: str, mins: int, now_ms: int) -> Decimal:
        """`refPrice` of a filter with `avgPriceMins = mins` (spec §4, since 2026-05-08): the
        symbol's reference price when set, else the VWAP over `mins` minutes, else (0) the last
        trade price."""
        state = self.market.symbols[symbol]
        if state.reference_price is not None:
            return state.reference_price
        if mins == 0:
            return state.last_price
        return self.vwap(symbol, mins, now_ms)

    # ----------------------------------------------------------------- placing

    def validate(self, req: NewOrder, now_ms: int) -> None:
        """Filters and matching-engine preconditions, without side effects (order/test)."""
        state = self.market.symbols[req.symbol]
        opens = self.open_orders(req.symbol)
        check_filters(
            state.spec,
            OrderShape(req.side, req.type, req.quantity, req.quote_order_qty, req.price,
                       req.stop_price),
            lambda mins: self.filter_price(req.symbol, mins, now_ms),
            len(opens),
            sum(1 for o in opens if o.type in STOP_TYPES),
        )
        if any(o.client_order_id == req.client_order_id for o in opens):
            # Unique among the symbol's open orders only; a closed order's id may be reused.
            raise errors.order_rejected(errors.DUPLICATE_ORDER)
        if req.type in STOP_TYPES:
            assert req.stop_price is not None
            if self._triggered(req.type, req.side, req.stop_price, state.last_price):
                raise errors.order_rejected(errors.WOULD_TRIGGER)
        if req.type == "LIMIT_MAKER":
            assert req.price is not None
            if self._would_take(state, req.side, req.price):
                raise errors.order_rejected(errors.WOULD_TAKE)
        need_asset, need = self._required(state, req)
        if self.account.free[need_asset] < need:
            raise errors.order_rejected(errors.INSUFFICIENT_BALANCE)

    def place(self, req: NewOrder, now_ms: int) -> Order:
        """Validate, lock funds, match and (maybe) rest a new order."""
        try:
            return self._place(req, now_ms)
        finally:
            self._publish()

    def _place(self, req: NewOrder, now_ms: int) -> Order:
        self.validate(req, now_ms)
        state = self.market.symbols[req.symbol]
        is_stop = req.type in STOP_TYPES
        order = Order(
            symbol=req.symbol,
            order_id=self.next_order_id,
            client_order_id=req.client_order_id,
            side=req.side,
            type=req.type,
            time_in_force=req.time_in_force or "GTC",
            price=req.price or Decimal(0),
            orig_qty=req.quantity or Decimal(0),
            stop_price=req.stop_price or Decimal(0),
            orig_quote_order_qty=req.quote_order_qty or Decimal(0),
            stp_mode=req.stp_mode,
            time=now_ms,
            update_time=now_ms,
            working_time=-1 if is_stop else now_ms,
            is_working=not is_stop,
            strategy_id=req.strategy_id,
            strategy_type=req.strategy_type,
        )
        lock_asset, lock_amount = self._lock_for(state, order)
        if lock_amount > 0:
            self.account.lock(lock_asset, lock_amount)  # may still reject: nothing recorded yet
        order.lock_asset, order.locked = lock_asset, lock_amount
        self.next_order_id += 1
        self.orders[order.order_id] = order
        self.by_symbol[req.symbol].append(order)
        self.account.update_time = now_ms
        self._report(order, "NEW", now_ms, on_book=order.is_working)
        if is_stop:
            self.stops[req.symbol].append(order)
            self._position(now_ms)
        else:
            self._execute(state, order, now_ms)
            state.book.commit()
            self._position(now_ms)
            self._run_stops(req.symbol, now_ms)
        return order

    def _required(self, state: SymbolState, req: NewOrder) -> tuple[str, Decimal]:
        spec = state.spec
        if req.side == "SELL":
            if req.quantity is not None:
                return spec.base, req.quantity
            # quoteOrderQty SELL: the base it takes to raise that much at the current book
            assert req.quote_order_qty is not None
            return spec.base, self._base_for_quote(state, req.quote_order_qty)
        if req.type in ("MARKET",):
            if req.quote_order_qty is not None:
                return spec.quote, req.quote_order_qty
            assert req.quantity is not None
            return spec.quote, self._cost_to_buy(state, req.quantity)
        price = req.price if req.price is not None else req.stop_price
        assert price is not None and req.quantity is not None
        return spec.quote, price * req.quantity

    def _lock_for(self, state: SymbolState, order: Order) -> tuple[str, Decimal]:
        spec = state.spec
        if not order.buy:
            if order.orig_qty > 0:
                return spec.base, order.orig_qty
            return spec.base, self._base_for_quote(state, order.orig_quote_order_qty)
        if order.type == "MARKET":
            return spec.quote, Decimal(0)  # pays as it fills, balance checked up front
        price = order.price if order.price > 0 else order.stop_price
        return spec.quote, price * order.orig_qty

    def _cost_to_buy(self, state: SymbolState, qty: Decimal) -> Decimal:
        lots = int(qty / state.spec.step_size)
        cost = Decimal(0)
        for tick in state.book.asks.iter_best():
            take = min(lots, state.book.asks.total(tick))
            cost += state.price(tick) * state.qty(take)
            lots -= take
            if lots == 0:
                break
        return cost

    def _base_for_quote(self, state: SymbolState, quote: Decimal) -> Decimal:
        total = Decimal(0)
        for tick in state.book.bids.iter_best():
            level_q = state.price(tick) * state.qty(state.book.bids.total(tick))
            if level_q >= quote:
                lots = int(quote / state.price(tick) / state.spec.step_size)
                return total + state.qty(lots)
            quote -= level_q
            total += state.qty(state.book.bids.total(tick))
        return total

    @staticmethod
    def _triggered(type_: str, side: str, stop: Decimal, last: Decimal) -> bool:
        if (type_, side) in ABOVE_TRIGGER:
            return last >= stop
        return last <= stop

    def _would_take(self, state: SymbolState, side: str, price: Decimal) -> bool:
        tick = int(price / state.spec.tick_size)
        if side == "BUY":
            best = state.book.asks.best()
            return best is not None and best <= tick
        best = state.book.bids.best()
        return best is not None and best >= tick

    # ----------------------------------------------------------------- matching

    def _execute(self, state: SymbolState, order: Order, now_ms: int) -> None:
        """Match a working order as taker; then rest, expire or finish it."""
        spec = state.spec
        taker_side = Side.BID if order.buy else Side.ASK
        limit_tick = None
        if order.type in ("LIMIT", "LIMIT_MAKER", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"):
            limit_tick = int(order.price / spec.tick_size)
        if order.type == "LIMIT_MAKER" and self._would_take(state, order.side, order.price):
            self._expire(order, now_ms, "REJECTED")
            return
        market = limit_tick is None
        if order.time_in_force == "FOK" and not market:
            if self._fillable_lots(state, taker_side, limit_tick) < int(order.remaining / spec.step_size):
                self._expire(order, now_ms, "UNFILLED_FOK_ORDER_EXPIRED")
                return
        prevented = self._take(state, order, taker_side, limit_tick, now_ms)
        if order.orig_qty == 0 and order.orig_quote_order_qty > 0:
            order.orig_qty = order.executed_qty  # quoteOrderQty: the quantity actually bought/sold
            if order.status == "FILLED":
                self._amend_last_report(order)
        if order.status == "FILLED":
            return
        if prevented is not None:
            expired = order.remaining
            self._finish(order, "EXPIRED_IN_MATCH", now_ms, None)
            order.prevented_qty += expired
            self._report(order, "TRADE_PREVENTION", now_ms,
                         prevention=replace(prevented, expired_qty=expired))
        elif market:
            self._expire(order, now_ms, "INSUFFICIENT_LIQUIDITY")
        elif order.time_in_force == "IOC":
            self._expire(order, now_ms, "UNFILLED_IOC_QUANTITY_EXPIRED")
        elif order.time_in_force == "FOK":
            self._expire(order, now_ms, "UNFILLED_FOK_ORDER_EXPIRED")
        else:
            assert limit_tick is not None
            self._rest(state, order, taker_side, limit_tick)

    def _fillable_lots(self, state: SymbolState, taker_side: Side, limit_tick: int | None) -> int:
        levels = state.book.side(taker_side.opposite)
        total = 0
        for tick in levels.iter_best():
            if limit_tick is not None and not _within(taker_side, tick, limit_tick):
                break
            total += levels.synth.get(tick, 0)
        return total

    def _take(self, state: SymbolState, order: Order, taker_side: Side, limit_tick: int | None,
              now_ms: int) -> userdata.Prevention | None:
        """Walk the opposite side; returns the prevented match when STP expires the taker."""
        spec = state.spec
        maker_side = taker_side.opposite
        levels = state.book.side(maker_side)
        quote_mode = order.orig_qty == 0 and order.orig_quote_order_qty > 0
        pieces: list[tuple[int, int, Order | None]] = []
        want_lots = 0 if quote_mode else int(order.remaining / spec.step_size)
        quote_left = order.orig_quote_order_qty
        budget = self._budget(state, order)
        prevented: userdata.Prevention | None = None
        for tick in levels.iter_best():
            if limit_tick is not None and not _within(taker_side, tick, limit_tick):
                break
            price = state.price(tick)
            own = [o for o in self.queues.get((order.symbol, maker_side, tick), []) if o.is_open]
            if own and order.stp_mode != "NONE":
                left = state.qty(int(quote_left / price / spec.step_size) if quote_mode else want_lots)
                prevented = self._prevent(state, order, own, price, left, now_ms)
                if prevented is not None:
                    break
                own = []
            avail = levels.synth.get(tick, 0)
            for source in [None, *own]:
                cap = avail if source is None else int(source.remaining / spec.step_size)
                if quote_mode:
                    lots = min(cap, int(quote_left / price / spec.step_size))
                else:
                    lots = min(cap, want_lots)
                if budget is not None:
                    lots = min(lots, int(budget / price / spec.step_size))
                if lots <= 0:
                    continue
                pieces.append((tick, lots, source))
                qty = state.qty(lots)
                if quote_mode:
                    quote_left -= price * qty
                else:
                    want_lots -= lots
                if budget is not None:
                    budget -= price * qty
                if source is None:
                    avail -= lots
            if not quote_mode and want_lots == 0:
                break
            if quote_mode and quote_left < price * spec.step_size:
                break
            if budget is not None and budget < price * spec.step_size:
                break
        self._apply_pieces(state, order, taker_side, pieces, now_ms)
        if quote_mode and order.status != "FILLED" and prevented is None and order.executed_qty > 0:
            # quoteOrderQty spent as far as the lot size allows counts as filled.
            if quote_left < self._best_price(state, maker_side) * spec.step_size:
                self._finish(order, "FILLED", now_ms, None)
        return prevented

    def _prevent(self, state: SymbolState, taker: Order, own: list[Order], price: Decimal,
                 taker_left: Decimal, now_ms: int) -> userdata.Prevention | None:
        """Self-trade prevention at one level (spec §3.4): expire the makers the taker's mode
        says; return the prevented match when the taker expires too."""
        match_id = self.next_prevented_match[taker.symbol]
        self.next_prevented_match[taker.symbol] += 1
        if taker.stp_mode in ("EXPIRE_MAKER", "EXPIRE_BOTH"):
            for o in own:
                expired = o.remaining
                self._remove_from_book(state, o)
                self._finish(o, "EXPIRED_IN_MATCH", now_ms, None)
                o.prevented_qty += expired
                self._report(o, "TRADE_PREVENTION", now_ms, prevention=userdata.Prevention(
                    match_id, taker.order_id, price, min(taker_left, expired), expired))
        if taker.stp_mode in ("EXPIRE_TAKER", "EXPIRE_BOTH"):
            counter = own[0]
            return userdata.Prevention(match_id, counter.order_id, price,
                                       min(taker_left, counter.remaining), Decimal(0))
        return None

    def _budget(self, state: SymbolState, order: Order) -> Decimal | None:
        """Quote an unlocked MARKET BUY may still spend (None when funds are locked instead)."""
        if order.buy and order.locked == 0:
            return self.account.free[state.spec.quote]
        return None

    @staticmethod
    def _best_price(state: SymbolState, side: Side) -> Decimal:
        best = state.book.side(side).best()
        return state.price(best) if best is not None else Decimal(0)

    def _apply_pieces(self, state: SymbolState, taker: Order | None, taker_side: Side,
                      pieces: list[tuple[int, int, Order | None]], now_ms: int) -> None:
        """Print the trades and settle every account order involved."""
        if not pieces:
            return
        maker_side = taker_side.opposite
        levels = state.book.side(maker_side)
        for tick, lots, source in pieces:
            if source is None:
                state.book.set_synth(maker_side, tick, levels.synth.get(tick, 0) - lots)
            else:
                state.book.add_user(maker_side, tick, -lots)
        trades = self.market.record_trades(
            state.spec.symbol, [(t, lots) for t, lots, _ in pieces], taker_side is Side.BID, now_ms
        )
        for (_tick, _lots, source), trade in zip(pieces, trades, strict=True):
            if taker is not None:
                self._settle(state, taker, trade, False, now_ms)
            if source is not None:
                self._settle(state, source, trade, True, now_ms)
                if not source.is_open:
                    self._dequeue(source)

    def _settle(self, state: SymbolState, order: Order, trade: PublicTrade, maker: bool,
                now_ms: int) -> None:
        spec = state.spec
        acct = self.account
        qty, price = trade.qty, trade.price
        quote = price * qty
        if order.buy:
            if order.locked > 0:
                release = min(order.locked, order.price_for_lock() * qty)
                order.locked -= release
                acct.locked[spec.quote] -= release
                acct.free[spec.quote] += release - quote
            else:
                acct.free[spec.quote] -= quote
            commission = (qty * COMMISSION_RATE).quantize(EIGHT, rounding=ROUND_UP)
            acct.free[spec.base] += qty - commission
            asset = spec.base
        else:
            release = min(order.locked, qty)
            order.locked -= release
            acct.locked[spec.base] -= release
            acct.free[spec.base] -= qty - release
            commission = (quote * COMMISSION_RATE).quantize(EIGHT, rounding=ROUND_UP)
            acct.free[spec.quote] += quote - commission
            asset = spec.quote
        acct.update_time = now_ms
        if order.executed_qty == 0 and self.on_first_fill is not None:
            self.on_first_fill(now_ms)
        order.executed_qty += qty
        order.cum_quote += quote
        order.update_time = now_ms
        fill = Fill(price, qty, commission, asset, trade.id)
        order.fills.append(fill)
        self.my_trades[order.symbol].append(
            MyTrade(order.symbol, trade.id, order.order_id, price, qty, commission, asset,
                    now_ms, order.buy, maker)
        )
        if order.executed_qty >= order.orig_qty and order.orig_qty > 0:
            self._finish(order, "FILLED", now_ms, None)
        else:
            order.status = "PARTIALLY_FILLED"
        self._report(order, "TRADE", now_ms, fill=fill, maker=maker, on_book=order.on_book)

    def _rest(self, state: SymbolState, order: Order, side: Side, tick: int) -> None:
        order.tick = tick
        levels = state.book.side(side)
        order.ahead = levels.synth.get(tick, 0)
        self.queues[(order.symbol, side, tick)].append(order)
        state.book.add_user(side, tick, int(order.remaining / state.spec.step_size))

    def _dequeue(self, order: Order) -> None:
        if order.tick is None:
            return
        side = Side.BID if order.buy else Side.ASK
        q = self.queues.get((order.symbol, side, order.tick))
        if q and order in q:
            q.remove(order)
            if not q:
                del self.queues[(order.symbol, side, order.tick)]

    def _remove_from_book(self, state: SymbolState, order: Order) -> None:
        if order.tick is None:
            return
        side = Side.BID if order.buy else Side.ASK
        state.book.add_user(side, order.tick, -int(order.remaining / state.spec.step_size))
        self._dequeue(order)

    def _finish(self, order: Order, status: str, now_ms: int, reason: str | None) -> None:
        order.status = status
        order.update_time = now_ms
        if status in ("EXPIRED", "EXPIRED_IN_MATCH") and reason is not None:
            order.expiry_reason = reason
        if order.locked > 0:
            self.account.unlock(order.lock_asset, order.locked)
            order.locked = Decimal(0)
        if order in self.stops.get(order.symbol, []):
            self.stops[order.symbol].remove(order)

    def _expire(self, order: Order, now_ms: int, reason: str) -> None:
        self._finish(order, "EXPIRED", now_ms, reason)
        self._report(order, "EXPIRED", now_ms)

    # ----------------------------------------------------------------- cancel

    def cancel(self, order: Order, now_ms: int, cancel_id: str | None = None) -> None:
        """Cancel an open order; `cancel_id` is the cancel request's client order id (`c` of
        its executionReport; generated when not given, as Binance does)."""
        try:
            state = self.market.symbols[order.symbol]
            self._remove_from_book(state, order)
            self._finish(order, "CANCELED", now_ms, None)
            state.book.commit()
            self._report(order, "CANCELED", now_ms, cancel_id=cancel_id or new_client_order_id())
            self._position(now_ms)
        finally:
            self._publish()

    # ----------------------------------------------------------------- balances

    def set_balance(self, asset: str, free: Decimal | None, locked: Decimal | None,
                    now_ms: int) -> None:
        """Set a balance from outside trading (`POST /sim/balances`): a change of `free` is a
        deposit or withdrawal, reported as `balanceUpdate` (spec §8.3)."""
        try:
            acct = self.account
            before = acct.free[asset]
            if free is not None:
                acct.free[asset] = free
            if locked is not None:
                acct.locked[asset] = locked
            if acct.free[asset] != before:
                self._pending.append(userdata.balance_update(now_ms, asset, acct.free[asset] - before))
            self._position(now_ms)
        finally:
            self._publish()

    # ----------------------------------------------------------------- user data events

    def _report(self, order: Order, exec_type: str, now_ms: int, **fields: Any) -> None:
        self._pending.append(
            userdata.execution_report(order, exec_type, now_ms, self.next_exec_id, **fields))
        self.next_exec_id += 1

    def _amend_last_report(self, order: Order) -> None:
        """A quoteOrderQty order found FILLED after its last trade: that trade's report says so."""
        for event in reversed(self._pending):
            if event["e"] == "executionReport" and event["i"] == order.order_id:
                event.update(X=order.status, q=fmt8(order.orig_qty), w=False)
                return

    def _balances(self) -> dict[str, tuple[Decimal, Decimal]]:
        acct = self.account
        return {a: (acct.free[a], acct.locked[a]) for a in sorted(set(acct.free) | set(acct.locked))}

    def _position(self, now_ms: int) -> None:
        """Queue an `outboundAccountPosition` for the assets changed since the last one."""
        current = self._balances()
        zero = (Decimal(0), Decimal(0))
        changed = [(a, f, lk) for a, (f, lk) in current.items() if self._seen.get(a, zero) != (f, lk)]
        self._seen = current
        if changed:
            self.account.update_time = now_ms
            self._pending.append(userdata.account_position(now_ms, now_ms, changed))

    def _publish(self) -> None:
        events, self._pending = self._pending, []
        for event in events:
            for listener in list(self.event_listeners):
                listener(event)

    # ----------------------------------------------------------------- synthetic flow

    def synthetic_take(self, symbol: str, side: Side, lots: int, now_ms: int) -> None:
        """A synthetic taker walking up to 3 levels; fills account orders by queue position."""
        state = self.market.symbols[symbol]
        maker_side = side.opposite
        levels = state.book.side(maker_side)
        pieces: list[tuple[int, int, Order | None]] = []
        remaining = lots
        for tick in levels.iter_best()[:3]:
            synth = levels.synth.get(tick, 0)
            used_synth = 0
            for o in list(self.queues.get((symbol, maker_side, tick), [])):
                take = min(remaining, max(0, o.ahead - used_synth), synth - used_synth)
                if take > 0:
                    pieces.append((tick, take, None))
                    used_synth += take
                    remaining -= take
                if remaining == 0:
                    break
                mine = min(remaining, int(o.remaining / state.spec.step_size))
                if mine > 0:
                    pieces.append((tick, mine, o))
                    remaining -= mine
                if remaining == 0:
                    break
            take = min(remaining, synth - used_synth)
            if take > 0:
                pieces.append((tick, take, None))
                used_synth += take
                remaining -= take
            for o in self.queues.get((symbol, maker_side, tick), []):
                o.ahead = max(0, o.ahead - used_synth)
            if remaining == 0:
                break
        try:
            self._apply_pieces(state, None, side, _merge(pieces), now_ms)
            self._position(now_ms)
            self._run_stops(symbol, now_ms)
        finally:
            self._publish()

    def _make_shrink_hook(self, symbol: str) -> Callable[[Side, int, int], None]:
        def hook(side: Side, tick: int, lots: int) -> None:
            for o in self.queues.get((symbol, side, tick), []):
                o.ahead = min(o.ahead, lots)

        return hook

    def _run_stops(self, symbol: str, now_ms: int) -> None:
        """Trigger stop orders whose condition the last price now meets (rule 4)."""
        state = self.market.symbols[symbol]
        for _ in range(100):
            fired = [o for o in self.stops.get(symbol, [])
                     if self._triggered(o.type, o.side, o.stop_price, state.last_price)]
            if not fired:
                return
            for o in fired:
                self.stops[symbol].remove(o)
                o.is_working = True
                o.working_time = now_ms
                if o.type in ("STOP_LOSS", "TAKE_PROFIT") and o.buy:
                    self.account.unlock(o.lock_asset, o.locked)  # market BUY pays as it fills
                    o.locked = Decimal(0)
                self._report(o, "NEW", now_ms, on_book=True)
                self._execute(state, o, now_ms)
                self._position(now_ms)
            state.book.commit()


def _within(taker_side: Side, tick: int, limit_tick: int) -> bool:
    return tick <= limit_tick if taker_side is Side.BID else tick >= limit_tick


def _merge(pieces: list[tuple[int, int, Order | None]]) -> list[tuple[int, int, Order | None]]:
    """Join adjacent synthetic pieces at the same price into one print."""
    out: list[tuple[int, int, Order | None]] = []
    for tick, lots, src in pieces:
        if out and src is None and out[-1][2] is None and out[-1][0] == tick:
            out[-1] = (tick, out[-1][1] + lots, None)
        else:
            out.append((tick, lots, src))
    return out


__all__ = ["Engine", "NewOrder", "Order"]
