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
7. Order lists (`simulator/orderlists.py`): the orders of a list are placed in one request; an
   OCO pair shares one lock, held by the leg that can fill without a trigger. When a pair leg
   starts working (its stop triggers, or a LIMIT_MAKER leg gets its first fill) the lock moves to
   it and the other leg EXPIRES (`eR` OCO_TRIGGER). An OTO's pending orders are PENDING_NEW (no
   lock, off the book) until the working order is FILLED, then placed (an OTOCO's as a pair); a
   working order that expires expires them (OTO_PHASE_ONE_EXPIRED); a pending order that cannot be
   placed expires (REJECTED). Canceling an open order of a list cancels the list. Every list
   status change queues a `listStatus` after the reports that caused it. Work a fill or an end
   causes on other orders of the list runs after the matching event that caused it, never inside.
8. Trailing stops (`faqs/trailing-stop-faq.md`): without `stopPrice` the order tracks from
   placement (the last price); with one, from the first trade that meets the stop condition.
   A SELL triggers when a trade is at or below the highest price since x (1 - delta/10000), a BUY
   at or above the lowest x (1 + delta/10000). Every trade price counts, in tape order.
9. Icebergs show `min(icebergQty, remaining)` in the public book; when that part is filled, the
   next part is shown at the back of the price level's queue (it loses its time priority).
10. Amend keep priority (`faqs/order_amend_keep_priority.md`) only reduces a quantity: the order
   keeps its place in the queue, the freed part of its lock is released, an OCO's pair changes
   together, and an `executionReport` with `x` REPLACED is sent (plus `listStatus` UPDATED when a
   list order's client id changes). A quantity at or below what already executed expires it.
"""

from __future__ import annotations

import copy
import secrets
import string
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import Any

from simulator import errors, orderlists, userdata
from simulator.book import Side
from simulator.decimals import EIGHT, fmt8
from simulator.exchange import Market, PublicTrade, SymbolState
from simulator.filters import STOP_TYPES, OrderShape, check_filters, check_list_count
from simulator.orderlists import OrderList

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
OPEN_STATUSES = ("NEW", "PARTIALLY_FILLED", "PENDING_NEW")
MARKET_STOPS = ("STOP_LOSS", "TAKE_PROFIT")
AMEND_REJECTED = -2038
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
    iceberg_qty: Decimal | None = None
    trailing_delta: int | None = None


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
    order_list_id: int = -1


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
    order_list_id: int = -1
    iceberg_qty: Decimal = Decimal(0)
    shown_lots: int = 0
    """Lots of this order in the public book (its visible part, rule 9)."""
    trailing_delta: int | None = None
    trailing_time: int = -1
    """When a trailing stop started tracking (`D`), -1 before."""
    trail_extreme: Decimal | None = None
    """Highest (SELL) or lowest (BUY) trade price since tracking started (rule 8)."""
    amends: int = 0

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

    @property
    def is_stop(self) -> bool:
        return self.type in STOP_TYPES


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
        self.lists: dict[int, OrderList] = {}
        self.amendments: dict[int, list[dict[str, Any]]] = defaultdict(list)
        """Every amendment of an order (`GET /api/v3/order/amendments`), oldest first."""
        self.next_order_id = 1
        self.next_list_id = 0
        self.on_first_fill: Callable[[int], None] | None = None
        """Called with `now_ms` when an account order trades for the first time."""
        self.event_listeners: list[EventListener] = []
        """Called with each user data event (spec §8.3), in engine order (rule 6)."""
        self.next_exec_id = 1
        self.next_prevented_match: dict[str, int] = defaultdict(int)
        self._pending: list[dict[str, Any]] = []
        self._seen = self._balances()
        self._tape: dict[str, list[Decimal]] = defaultdict(list)
        """Trade prices since the stops were last checked, per symbol (rule 8)."""
        self._list_work: list[tuple[str, Order]] = []
        """What fills and ends of list orders still have to do to the rest of their list (rule 7)."""
        self._hold_lists = False
        for name, state in market.symbols.items():
            state.book.synth_shrunk = self._make_shrink_hook(name)
        market.trade_listeners.append(self._on_trades)

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

    def open_lists(self, symbol: str | None = None) -> list[OrderList]:
        return [lst for lst in self.lists.values()
                if lst.is_open and (symbol is None or lst.symbol == symbol)]

    def find_list(self, list_id: int | None, list_client_id: str | None) -> OrderList | None:
        """By id, else the most recent list with that client id (unique among open lists only)."""
        if list_id is not None:
            return self.lists.get(list_id)
        for lst in reversed(list(self.lists.values())):
            if lst.list_client_order_id == list_client_id:
                return lst
        return None

    def list_of(self, order: Order) -> OrderList | None:
        """The order's list while that list is still executing."""
        lst = self.lists.get(order.order_list_id) if order.order_list_id >= 0 else None
        return lst if lst is not None and lst.is_open else None

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

    def check_order_filters(self, req: NewOrder, now_ms: int, opens: Sequence[Order] | None = None,
                            added: tuple[int, int, int] = (0, 0, 0)) -> None:
        """The symbol's filters (-1013) for `req`, given the open orders (and `added` more open,
        stop and iceberg orders placed with it in the same list)."""
        state = self.market.symbols[req.symbol]
        opens = self.open_orders(req.symbol) if opens is None else opens
        check_filters(
            state.spec,
            OrderShape(req.side, req.type, req.quantity, req.quote_order_qty, req.price,
                       req.stop_price, req.iceberg_qty, req.trailing_delta),
            lambda mins: self.filter_price(req.symbol, mins, now_ms),
            len(opens) + added[0],
            sum(1 for o in opens if o.is_stop) + added[1],
            sum(1 for o in opens if o.iceberg_qty > 0) + added[2],
        )

    def validate(self, req: NewOrder, now_ms: int) -> None:
        """Filters and matching-engine preconditions, without side effects (order/test)."""
        state = self.market.symbols[req.symbol]
        opens = self.open_orders(req.symbol)
        self.check_order_filters(req, now_ms, opens)
        if any(o.client_order_id == req.client_order_id for o in opens):
            # Unique among the symbol's open orders only; a closed order's id may be reused.
            raise errors.order_rejected(errors.DUPLICATE_ORDER)
        self._engine_checks(state, req)
        need_asset, need = self._required(state, req)
        if self.account.free[need_asset] < need:
            raise errors.order_rejected(errors.INSUFFICIENT_BALANCE)

    def _engine_checks(self, state: SymbolState, req: NewOrder) -> None:
        """The matching engine's own refusals of one order (-2010), a closed market first: Binance
        takes new orders only on a TRADING symbol (HALT, BREAK, END_OF_DAY, CANCEL_ONLY: no)."""
        if state.spec.status != "TRADING":
            raise errors.order_rejected(errors.MARKET_CLOSED)
        if req.iceberg_qty is not None and req.quantity is not None and req.iceberg_qty >= req.quantity:
            raise errors.order_rejected("IcebergQty exceeds QTY.")
        if req.type in STOP_TYPES and req.stop_price is not None:
            if self._triggered(req.type, req.side, req.stop_price, state.last_price):
                raise errors.order_rejected(errors.WOULD_TRIGGER)
        if req.type == "LIMIT_MAKER":
            assert req.price is not None
            if self._would_take(state, req.side, req.price):
                raise errors.order_rejected(errors.WOULD_TAKE)

    def place(self, req: NewOrder, now_ms: int) -> Order:
        """Validate, lock funds, match and (maybe) rest a new order."""
        try:
            return self._place(req, now_ms)
        finally:
            self._publish()

    def _place(self, req: NewOrder, now_ms: int) -> Order:
        self.validate(req, now_ms)
        state = self.market.symbols[req.symbol]
        order = self._build(req, self.next_order_id, now_ms)
        self._lock_group(state, [order])  # may still reject: nothing recorded yet
        self._record(order)
        self.account.update_time = now_ms
        self._report(order, "NEW", now_ms, on_book=order.is_working)
        self._start(state, order, now_ms)
        self._position(now_ms)
        if not order.is_stop:
            self._run_stops(req.symbol, now_ms)
        return order

    def _build(self, req: NewOrder, order_id: int, now_ms: int, list_id: int = -1) -> Order:
        is_stop = req.type in STOP_TYPES
        return Order(
            symbol=req.symbol,
            order_id=order_id,
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
            order_list_id=list_id,
            iceberg_qty=req.iceberg_qty or Decimal(0),
            trailing_delta=req.trailing_delta,
        )

    def _record(self, order: Order) -> None:
        self.next_order_id = max(self.next_order_id, order.order_id + 1)
        self.orders[order.order_id] = order
        self.by_symbol[order.symbol].append(order)

    def _start(self, state: SymbolState, order: Order, now_ms: int) -> None:
        """A NEW order goes to work: a stop waits for its trigger, anything else matches now."""
        if order.is_stop:
            if order.trailing_delta is not None and order.stop_price == 0:
                order.trail_extreme, order.trailing_time = state.last_price, now_ms  # rule 8
            self.stops[order.symbol].append(order)
            return
        self._execute(state, order, now_ms)
        state.book.commit()

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
        price = req.price or req.stop_price or state.last_price  # a trailing stop: the last price
        assert req.quantity is not None
        return spec.quote, price * req.quantity

    def _lock_for(self, state: SymbolState, order: Order) -> tuple[str, Decimal]:
        """What `order` locks for its remaining quantity."""
        spec = state.spec
        if not order.buy:
            if order.orig_qty > 0:
                return spec.base, order.remaining
            return spec.base, self._base_for_quote(state, order.orig_quote_order_qty)
        if order.type == "MARKET":
            return spec.quote, Decimal(0)  # pays as it fills, balance checked up front
        price = order.price_for_lock() or state.last_price  # a trailing stop: the last price
        return spec.quote, price * order.remaining

    def _lock_group(self, state: SymbolState, orders: Sequence[Order]) -> None:
        """One lock for orders of which only one can execute (an OCO pair; or one order): the
        largest need, held by the first order that can fill without a trigger (rule 7)."""
        needs = [self._lock_for(state, o) for o in orders]
        asset, total = needs[0][0], max(amount for _, amount in needs)
        if total > 0:
            self.account.lock(asset, total)  # -2010 insufficient balance
        holder = next((o for o in orders if not o.is_stop), orders[0])
        for o in orders:
            o.lock_asset, o.locked = asset, total if o is holder else Decimal(0)

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

    # ----------------------------------------------------------------- order lists

    def validate_list(self, kind: str, legs: Sequence[NewOrder], list_client_id: str,
                      now_ms: int) -> None:
        """Every check of a list before anything is placed: each leg's filters counting the legs
        before it, MAX_NUM_ORDER_LISTS, duplicate ids, OCO prices, LIMIT_MAKERs that would take,
        and the balance the orders that start working need."""
        symbol = legs[0].symbol
        state = self.market.symbols[symbol]
        opens = self.open_orders(symbol)
        added = [0, 0, 0]
        for leg in legs:
            self.check_order_filters(leg, now_ms, opens, (added[0], added[1], added[2]))
            added[0] += 1
            added[1] += leg.type in STOP_TYPES
            added[2] += leg.iceberg_qty is not None
        check_list_count(state.spec, len(self.open_lists(symbol)))
        ids = [leg.client_order_id for leg in legs]
        if len(set(ids)) != len(ids) or any(o.client_order_id in ids for o in opens) or any(
            lst.list_client_order_id == list_client_id for lst in self.open_lists(symbol)
        ):
            raise errors.order_rejected(errors.DUPLICATE_ORDER)
        pair = list(legs) if kind == "OCO" else list(legs[1:]) if kind == "OTOCO" else []
        if pair:
            profit, stop = orderlists.profit_and_stop(pair[0], pair[1])
            orderlists.check_oco_prices(profit.side, profit, stop, state.last_price)
        started = list(legs) if kind == "OCO" else [legs[0]]
        for leg in started:
            self._engine_checks(state, leg)
        for leg in legs[len(started):]:
            if leg.iceberg_qty is not None and leg.quantity is not None and leg.iceberg_qty >= leg.quantity:
                raise errors.order_rejected("IcebergQty exceeds QTY.")
        needs = [self._required(state, leg) for leg in started]
        if self.account.free[needs[0][0]] < max(amount for _, amount in needs):
            raise errors.order_rejected(errors.INSUFFICIENT_BALANCE)

    def place_list(self, kind: str, legs: Sequence[NewOrder], list_client_id: str,
                   now_ms: int) -> tuple[OrderList, list[Order]]:
        """Place an OCO (legs above, below), OTO (working, pending) or OTOCO (working, pending
        above, pending below). Returns the list and its orders as the placement answer shows
        them: right after the working order matched, before pending orders were placed."""
        try:
            return self._place_list(kind, legs, list_client_id, now_ms)
        finally:
            self._hold_lists = False
            self._publish()

    def _place_list(self, kind: str, legs: Sequence[NewOrder], list_client_id: str,
                    now_ms: int) -> tuple[OrderList, list[Order]]:
        self.validate_list(kind, legs, list_client_id, now_ms)
        symbol = legs[0].symbol
        state = self.market.symbols[symbol]
        lst = OrderList(self.next_list_id, kind, list_client_id, symbol, now_ms)
        orders = [self._build(leg, self.next_order_id + i, now_ms, lst.order_list_id)
                  for i, leg in enumerate(legs)]
        started = orders if kind == "OCO" else orders[:1]
        self._lock_group(state, started)
        self.next_list_id += 1
        lst.orders = orders
        self.lists[lst.order_list_id] = lst
        for o in orders:
            self._record(o)
            if o not in started:
                o.status, o.is_working, o.working_time = "PENDING_NEW", False, -1
            self._report(o, "NEW", now_ms, on_book=o.is_working)
        self.account.update_time = now_ms
        self._pending.append(userdata.list_status(lst, now_ms))
        self._hold_lists = True
        for o in started:
            self._start(state, o, now_ms)
        answer = replace(lst, orders=[copy.copy(o) for o in orders])
        self._hold_lists = False
        self._position(now_ms)
        self._run_stops(symbol, now_ms)
        return answer, answer.orders

    def _list_done(self, lst: OrderList, now_ms: int) -> None:
        lst.status_type = lst.order_status = "ALL_DONE"
        self._pending.append(userdata.list_status(lst, now_ms))

    def _pair_started(self, order: Order, now_ms: int) -> None:
        """`order` of an open pair starts working: it takes the pair's lock and the other leg
        expires; the list is done (rule 7)."""
        lst = self.list_of(order)
        if lst is None or order not in lst.pair:
            return
        state = self.market.symbols[order.symbol]
        others = [o for o in lst.pair if o is not order and o.is_open]
        total = order.locked + sum((o.locked for o in others), Decimal(0))
        for o in others:
            o.locked = Decimal(0)
        keep = min(total, self._lock_for(state, order)[1])
        order.locked = keep
        if total > keep:
            self.account.unlock(order.lock_asset, total - keep)
        for o in others:
            self._remove_from_book(state, o)
            self._finish(o, "EXPIRED", now_ms, "OCO_TRIGGER")
            self._report(o, "EXPIRED", now_ms)
        self._list_done(lst, now_ms)

    def _drain_lists(self, now_ms: int) -> None:
        """Do what fills and ends of list orders mean for the rest of their list (rule 7)."""
        if self._hold_lists or not self._list_work:
            return
        while self._list_work:
            what, order = self._list_work.pop(0)
            lst = self.list_of(order)
            if lst is None:
                continue
            if what == "filled":
                self._place_pending(lst, now_ms)
            else:
                self._expire_list(lst, order, now_ms)
        self._position(now_ms)

    def _expire_list(self, lst: OrderList, ended: Order, now_ms: int) -> None:
        state = self.market.symbols[lst.symbol]
        reason = "OTO_PHASE_ONE_EXPIRED" if ended is lst.working else "OCO_TRIGGER"
        for o in lst.orders:
            if o.is_open:
                self._remove_from_book(state, o)
                self._finish(o, "EXPIRED", now_ms, reason)
                self._report(o, "EXPIRED", now_ms)
        state.book.commit()
        self._list_done(lst, now_ms)

    def _place_pending(self, lst: OrderList, now_ms: int) -> None:
        """The working order FILLED: its pending order(s) go on the book, or expire (REJECTED)
        when the engine cannot place them."""
        state = self.market.symbols[lst.symbol]
        pending = [o for o in lst.orders[1:] if o.status == "PENDING_NEW"]
        asset, need = self._lock_for(state, pending[0])
        need = max([need] + [self._lock_for(state, o)[1] for o in pending[1:]])
        if self.account.free[asset] < need:
            for o in pending:
                self._finish(o, "EXPIRED", now_ms, "REJECTED")
                self._report(o, "EXPIRED", now_ms)
            self._list_done(lst, now_ms)
            return
        self._lock_group(state, pending)
        for o in pending:
            o.status = "NEW"
            o.is_working = not o.is_stop
            o.working_time = -1 if o.is_stop else now_ms
            o.update_time = now_ms
            self._report(o, "NEW", now_ms, on_book=o.is_working)
        if lst.kind == "OTO":
            self._list_done(lst, now_ms)
        for o in pending:
            if o.is_open:
                self._start(state, o, now_ms)

    def cancel_list(self, lst: OrderList, now_ms: int, cancel_id: str) -> list[Order]:
        """Cancel every open order of a list (`DELETE /api/v3/orderList`); returns them."""
        targets = [o for o in lst.orders if o.is_open]
        self.cancel(targets[0], now_ms, cancel_id)
        return targets

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
                cap = avail if source is None else source.shown_lots
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
                source.shown_lots -= lots
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
                elif source.shown_lots == 0:
                    self._show_next_part(state, source)

    def _show_next_part(self, state: SymbolState, order: Order) -> None:
        """An iceberg's visible part is filled: show the next at the back of the queue (rule 9)."""
        assert order.tick is not None
        side = Side.BID if order.buy else Side.ASK
        self._dequeue(order)
        order.ahead = state.book.side(side).synth.get(order.tick, 0)
        self.queues[(order.symbol, side, order.tick)].append(order)
        order.shown_lots = self._visible_lots(state, order)
        state.book.add_user(side, order.tick, order.shown_lots)

    def _settle(self, state: SymbolState, order: Order, trade: PublicTrade, maker: bool,
                now_ms: int) -> None:
        spec = state.spec
        acct = self.account
        if order.executed_qty == 0 and order.order_list_id >= 0:
            self._pair_started(order, now_ms)  # a LIMIT_MAKER leg's first fill (rule 7)
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
                    now_ms, order.buy, maker, order.order_list_id)
        )
        if order.executed_qty >= order.orig_qty and order.orig_qty > 0:
            self._finish(order, "FILLED", now_ms, None)
        else:
            order.status = "PARTIALLY_FILLED"
        self._report(order, "TRADE", now_ms, fill=fill, maker=maker, on_book=order.on_book)

    def _visible_lots(self, state: SymbolState, order: Order) -> int:
        lots = int(order.remaining / state.spec.step_size)
        if order.iceberg_qty > 0:
            lots = min(lots, int(order.iceberg_qty / state.spec.step_size))
        return lots

    def _rest(self, state: SymbolState, order: Order, side: Side, tick: int) -> None:
        order.tick = tick
        levels = state.book.side(side)
        order.ahead = levels.synth.get(tick, 0)
        self.queues[(order.symbol, side, tick)].append(order)
        order.shown_lots = self._visible_lots(state, order)
        state.book.add_user(side, tick, order.shown_lots)

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
        state.book.add_user(side, order.tick, -order.shown_lots)
        order.shown_lots = 0
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
        lst = self.list_of(order)
        if lst is not None and status != "CANCELED":  # a cancel handles its whole list itself
            if status != "FILLED":
                self._list_work.append(("ended", order))
            elif order is lst.working:
                self._list_work.append(("filled", order))

    def _expire(self, order: Order, now_ms: int, reason: str) -> None:
        self._finish(order, "EXPIRED", now_ms, reason)
        self._report(order, "EXPIRED", now_ms)

    # ----------------------------------------------------------------- cancel

    def cancel(self, order: Order, now_ms: int, cancel_id: str | None = None) -> None:
        """Cancel an open order (and the rest of its list, if it is in one that still executes);
        `cancel_id` is the cancel request's client order id (`c` of its executionReport;
        generated when not given, as Binance does)."""
        try:
            state = self.market.symbols[order.symbol]
            lst = self.list_of(order)
            cancel_id = cancel_id or new_client_order_id()
            for o in [o for o in lst.orders if o.is_open] if lst is not None else [order]:
                self._remove_from_book(state, o)
                self._finish(o, "CANCELED", now_ms, None)
                self._report(o, "CANCELED", now_ms, cancel_id=cancel_id)
            state.book.commit()
            if lst is not None:
                self._list_done(lst, now_ms)
            self._position(now_ms)
        finally:
            self._publish()

    # ----------------------------------------------------------------- amend

    def amend(self, order: Order, new_qty: Decimal, new_client_id: str, now_ms: int) -> int:
        """Reduce an open order's quantity keeping its queue priority (rule 10); returns the
        execution id of its REPLACED report. The caller checked it (`check_amend`)."""
        try:
            return self._amend(order, new_qty, new_client_id, now_ms)
        finally:
            self._publish()

    def check_amend(self, order: Order, new_qty: Decimal, new_client_id: str) -> None:
        """Binance's refusals of an amendment: -1013 LOT_SIZE, else -2038 with the engine's message."""
        spec = self.market.symbols[order.symbol].spec
        if not order.is_open:
            raise errors.ApiError(AMEND_REJECTED, "Unknown order sent.")
        if new_qty < spec.min_qty or new_qty > spec.max_qty or new_qty % spec.step_size != 0:
            raise errors.filter_failure("LOT_SIZE")
        if new_qty > order.orig_qty:
            raise errors.ApiError(AMEND_REJECTED, "Order amend (quantity increase) is not supported.")
        if new_qty == order.orig_qty:
            raise errors.ApiError(AMEND_REJECTED,
                                  "The requested action would change no state; rejecting")
        if order.amends >= spec.max_num_order_amends:
            raise errors.ApiError(AMEND_REJECTED, "Filter failure: MAX_NUM_ORDER_AMENDS")
        if new_client_id != order.client_order_id and any(
            o.client_order_id == new_client_id for o in self.open_orders(order.symbol)
        ):
            raise errors.ApiError(AMEND_REJECTED, errors.DUPLICATE_ORDER)

    def _amend(self, order: Order, new_qty: Decimal, new_client_id: str, now_ms: int) -> int:
        state = self.market.symbols[order.symbol]
        lst = self.list_of(order)
        renamed = new_client_id != order.client_order_id
        legs = lst.pair if lst is not None and order in lst.pair else [order]
        held = sum((o.locked for o in legs), Decimal(0))
        exec_id = self.next_exec_id
        for leg in legs:
            self.amendments[leg.order_id].append({
                "symbol": leg.symbol, "orderId": leg.order_id, "executionId": self.next_exec_id,
                "origClientOrderId": leg.client_order_id,
                "newClientOrderId": new_client_id if leg is order else leg.client_order_id,
                "origQty": fmt8(leg.orig_qty), "newQty": fmt8(new_qty), "time": now_ms})
            if leg is order:
                exec_id = self.next_exec_id
            self._amend_one(state, leg, new_qty, new_client_id if leg is order else leg.client_order_id,
                            now_ms)
        still = [o for o in legs if o.is_open and o.status != "PENDING_NEW"]
        need = max((self._lock_for(state, o)[1] for o in still), default=Decimal(0))
        holder = next((o for o in legs if o.locked > 0), None)
        if holder is not None and held > need:
            holder.locked -= held - need
            self.account.unlock(holder.lock_asset, held - need)
        state.book.commit()
        if lst is not None and renamed:
            lst.status_type = "UPDATED"
            self._pending.append(userdata.list_status(lst, now_ms))
            lst.status_type = "EXEC_STARTED"
        self._drain_lists(now_ms)
        self._position(now_ms)
        return exec_id

    def _amend_one(self, state: SymbolState, order: Order, new_qty: Decimal, client_id: str,
                   now_ms: int) -> None:
        order.amends += 1
        order.client_order_id = client_id
        order.update_time = now_ms
        if new_qty <= order.executed_qty:  # nothing left to execute: the amendment expires it
            order.orig_qty = order.executed_qty
            self._remove_from_book(state, order)
            self._finish(order, "EXPIRED", now_ms, None)
            self._report(order, "REPLACED", now_ms)
            return
        order.orig_qty = new_qty
        if order.tick is not None and order.is_open:
            shown = self._visible_lots(state, order)
            if shown < order.shown_lots:
                state.book.add_user(Side.BID if order.buy else Side.ASK, order.tick,
                                    shown - order.shown_lots)
                order.shown_lots = shown
        self._report(order, "REPLACED", now_ms, on_book=order.on_book)

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
                mine = min(remaining, o.shown_lots)
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

    def _on_trades(self, symbol: str, trades: list[PublicTrade]) -> None:
        self._tape[symbol].extend(t.price for t in trades)

    def _run_stops(self, symbol: str, now_ms: int) -> None:
        """Do pending list work, then trigger stop orders the trades since the last check (or
        the last price) now trigger (rules 4, 7, 8)."""
        state = self.market.symbols[symbol]
        for _ in range(100):
            self._drain_lists(now_ms)
            prices, self._tape[symbol] = self._tape[symbol], []
            fired = [o for o in list(self.stops.get(symbol, []))
                     if self._fires(state, o, prices, now_ms)]
            if not fired:
                return
            for o in fired:
                if o not in self.stops.get(symbol, []):
                    continue  # expired by an earlier trigger of its pair
                self.stops[symbol].remove(o)
                o.is_working = True
                o.working_time = now_ms
                self._report(o, "NEW", now_ms, on_book=True)
                self._pair_started(o, now_ms)
                if o.type in MARKET_STOPS and o.buy:
                    self.account.unlock(o.lock_asset, o.locked)  # market BUY pays as it fills
                    o.locked = Decimal(0)
                self._execute(state, o, now_ms)
                self._position(now_ms)
            state.book.commit()

    def _fires(self, state: SymbolState, o: Order, prices: list[Decimal], now_ms: int) -> bool:
        if o.trailing_delta is None:
            return self._triggered(o.type, o.side, o.stop_price, state.last_price)
        return any(self._trail(o, p, now_ms) for p in prices)

    def _trail(self, o: Order, price: Decimal, now_ms: int) -> bool:
        """One trade price seen by a trailing stop; True when it triggers (rule 8)."""
        assert o.trailing_delta is not None
        if o.trail_extreme is None:
            if o.stop_price == 0 or self._triggered(o.type, o.side, o.stop_price, price):
                o.trail_extreme, o.trailing_time = price, now_ms
            return False
        delta = Decimal(o.trailing_delta) / 10_000
        if o.buy:
            o.trail_extreme = min(o.trail_extreme, price)
            return price >= o.trail_extreme * (1 + delta)
        o.trail_extreme = max(o.trail_extreme, price)
        return price <= o.trail_extreme * (1 - delta)


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


__all__ = ["Engine", "NewOrder", "Order", "OrderList"]
