"""Symbol trading rules from exchangeInfo, and exact order validation against them; pure.

Spec §4 (filters). Every comparison is exact ``Decimal`` arithmetic on the strings Binance sends.
A rule whose bound is ``0`` is disabled (PRICE_FILTER says so; we treat LOT_SIZE,
MARKET_LOT_SIZE and NOTIONAL zeros the same way, as Binance ships ``"0.00000000"`` steps).
Since 2022-02-24 the tick rule is ``price % tickSize == 0`` and the step rule is
``quantity % stepSize == 0`` (not relative to the minimum).

:meth:`SymbolRules.validate_order` returns :class:`Violation` s that say which filter failed, why,
and propose the nearest valid values, e.g.
``price 123.456 is not a multiple of tickSize 0.01; nearest valid: 123.45 or 123.46``.
Property (tested): every proposed value passes the filter that proposed it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from typing import Any

from provider.errors import TradingDisabled, UnknownSymbol

__all__ = [
    "ABOVE_DELTA",
    "ExchangeRules",
    "LotSize",
    "MaxNumOrders",
    "Notional",
    "PercentPriceBySide",
    "PriceFilter",
    "SymbolRules",
    "TrailingDelta",
    "Violation",
    "ceil_to_step",
    "floor_to_step",
    "fmt_decimal",
    "is_multiple",
    "refuse_closed_market",
]

_PREC = 80  # enough for 20 integer + 20 fraction digits multiplied together, with margin
STOP_TYPES = frozenset({"STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"})
PRICED_TYPES = frozenset({"LIMIT", "LIMIT_MAKER", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"})
ABOVE_DELTA = frozenset({("STOP_LOSS", "BUY"), ("STOP_LOSS_LIMIT", "BUY"), ("TAKE_PROFIT", "SELL"),
                         ("TAKE_PROFIT_LIMIT", "SELL")})
"""Trailing stops bounded by TRAILING_DELTA's *Above* limits; the others use the *Below* ones."""


# --- decimal helpers ----------------------------------------------------------------------


def fmt_decimal(value: Decimal) -> str:
    """Plain notation without trailing zeros: ``Decimal('0.01000000')`` -> ``'0.01'``."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _round_to_step(value: Decimal, step: Decimal, rounding: str) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = _PREC
        units = (value / step).to_integral_value(rounding=rounding)
        result = units * step
        exponent = step.normalize().as_tuple().exponent
        assert isinstance(exponent, int)
        return result.quantize(Decimal(1).scaleb(min(exponent, 0)))


def floor_to_step(value: Decimal, step: Decimal) -> Decimal:
    """Largest multiple of ``step`` not above ``value`` (``step`` > 0)."""
    return _round_to_step(value, step, ROUND_FLOOR)


def ceil_to_step(value: Decimal, step: Decimal) -> Decimal:
    """Smallest multiple of ``step`` not below ``value`` (``step`` > 0)."""
    return _round_to_step(value, step, ROUND_CEILING)


def is_multiple(value: Decimal, step: Decimal) -> bool:
    """``value % step == 0`` exactly; a zero step disables the rule."""
    if step == 0:
        return True
    with localcontext() as ctx:
        ctx.prec = _PREC
        return value % step == 0


def _dec(raw: Mapping[str, Any], key: str, default: str = "0") -> Decimal:
    return Decimal(str(raw.get(key, default)))


# --- filters ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PriceFilter:
    """PRICE_FILTER: bounds and tick for ``price`` and ``stopPrice``; 0 disables a rule."""

    min_price: Decimal
    max_price: Decimal
    tick_size: Decimal

    def check(self, price: Decimal, what: str = "price") -> list[Violation]:
        out: list[Violation] = []
        lo, hi, tick = self.min_price, self.max_price, self.tick_size
        if lo > 0 and price < lo:
            fix = ceil_to_step(lo, tick) if tick > 0 else lo
            out.append(Violation("PRICE_FILTER", what,
                                 f"{what} {fmt_decimal(price)} is below minPrice "
                                 f"{fmt_decimal(lo)}; nearest valid: {fmt_decimal(fix)}", (fix,)))
        elif hi > 0 and price > hi:
            fix = floor_to_step(hi, tick) if tick > 0 else hi
            out.append(Violation("PRICE_FILTER", what,
                                 f"{what} {fmt_decimal(price)} is above maxPrice "
                                 f"{fmt_decimal(hi)}; nearest valid: {fmt_decimal(fix)}", (fix,)))
        elif not is_multiple(price, tick):
            fixes = tuple(p for p in (floor_to_step(price, tick), ceil_to_step(price, tick))
                          if p > 0 and (lo == 0 or p >= lo) and (hi == 0 or p <= hi))
            out.append(Violation(
                "PRICE_FILTER", what,
                f"{what} {fmt_decimal(price)} is not a multiple of tickSize {fmt_decimal(tick)}; "
                f"nearest valid: {' or '.join(fmt_decimal(p) for p in fixes)}", fixes))
        return out


@dataclass(frozen=True)
class LotSize:
    """LOT_SIZE or MARKET_LOT_SIZE (``filter_type`` says which); 0 disables a rule."""

    filter_type: str
    min_qty: Decimal
    max_qty: Decimal
    step_size: Decimal

    def check(self, qty: Decimal, what: str = "quantity") -> list[Violation]:
        lo, hi, step, name = self.min_qty, self.max_qty, self.step_size, self.filter_type
        if lo > 0 and qty < lo:
            fix = ceil_to_step(lo, step) if step > 0 else lo
            return [Violation(name, what, f"{what} {fmt_decimal(qty)} is below minQty "
                              f"{fmt_decimal(lo)}; nearest valid: {fmt_decimal(fix)}", (fix,))]
        if hi > 0 and qty > hi:
            fix = floor_to_step(hi, step) if step > 0 else hi
            return [Violation(name, what, f"{what} {fmt_decimal(qty)} is above maxQty "
                              f"{fmt_decimal(hi)}; nearest valid: {fmt_decimal(fix)}", (fix,))]
        if not is_multiple(qty, step):
            fixes = tuple(q for q in (floor_to_step(qty, step), ceil_to_step(qty, step))
                          if q > 0 and q >= lo and (hi == 0 or q <= hi))
            return [Violation(
                name, what,
                f"{what} {fmt_decimal(qty)} is not a multiple of stepSize {fmt_decimal(step)}; "
                f"nearest valid: {' or '.join(fmt_decimal(q) for q in fixes)}", fixes)]
        return []


@dataclass(frozen=True)
class Notional:
    """NOTIONAL (or legacy MIN_NOTIONAL, then ``max_notional`` is 0 = unbounded)."""

    filter_type: str
    min_notional: Decimal
    max_notional: Decimal
    apply_min_to_market: bool
    apply_max_to_market: bool
    avg_price_mins: int


@dataclass(frozen=True)
class PercentPriceBySide:
    """PERCENT_PRICE_BY_SIDE, or PERCENT_PRICE (same multipliers for both sides)."""

    filter_type: str
    bid_multiplier_up: Decimal
    bid_multiplier_down: Decimal
    ask_multiplier_up: Decimal
    ask_multiplier_down: Decimal
    avg_price_mins: int

    def bounds(self, side: str, ref_price: Decimal) -> tuple[Decimal, Decimal]:
        """Allowed ``[low, high]`` price for ``side`` given the filter's reference price."""
        with localcontext() as ctx:
            ctx.prec = _PREC
            if side == "BUY":
                return ref_price * self.bid_multiplier_down, ref_price * self.bid_multiplier_up
            return ref_price * self.ask_multiplier_down, ref_price * self.ask_multiplier_up


@dataclass(frozen=True)
class MaxNumOrders:
    """MAX_NUM_ORDERS, MAX_NUM_ALGO_ORDERS, MAX_NUM_ICEBERG_ORDERS, MAX_NUM_ORDER_LISTS (open ones
    on the symbol) or MAX_NUM_ORDER_AMENDS (amendments of one order)."""

    filter_type: str
    limit: int


@dataclass(frozen=True)
class TrailingDelta:
    """TRAILING_DELTA: bounds of ``trailingDelta`` (BIPS), *Above* for BUY stop-losses and SELL
    take-profits, *Below* for the others (`filters.md`)."""

    min_above: int
    max_above: int
    min_below: int
    max_below: int

    def bounds(self, order_type: str, side: str) -> tuple[int, int]:
        if (order_type, side) in ABOVE_DELTA:
            return self.min_above, self.max_above
        return self.min_below, self.max_below

    def check(self, order_type: str, side: str, delta: int) -> list[Violation]:
        lo, hi = self.bounds(order_type, side)
        if lo <= delta <= hi:
            return []
        fix = Decimal(lo if delta < lo else hi)
        return [Violation("TRAILING_DELTA", "trailingDelta",
                          f"TRAILING_DELTA: trailingDelta {delta} is outside {lo}..{hi} BIPS for a {side} "
                          f"{order_type}; nearest valid: {fix}", (fix,))]


@dataclass(frozen=True)
class Violation:
    """One broken rule: which filter, which field, why (a sentence), and valid values nearby."""

    filter: str
    field: str
    message: str
    suggestions: tuple[Decimal, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (decimals as strings)."""
        return {"filter": self.filter, "field": self.field, "message": self.message,
                "suggestions": [fmt_decimal(s) for s in self.suggestions]}


# --- symbol rules -------------------------------------------------------------------------


@dataclass(frozen=True)
class SymbolRules:
    """What exchangeInfo says about one symbol, parsed once into typed filters."""

    symbol: str
    status: str
    base_asset: str
    base_asset_precision: int
    quote_asset: str
    quote_asset_precision: int
    order_types: frozenset[str]
    iceberg_allowed: bool
    quote_order_qty_market_allowed: bool
    is_spot_trading_allowed: bool
    price_filter: PriceFilter | None = None
    lot_size: LotSize | None = None
    market_lot_size: LotSize | None = None
    notional: Notional | None = None
    percent_price: PercentPriceBySide | None = None
    max_num_orders: MaxNumOrders | None = None
    max_num_algo_orders: MaxNumOrders | None = None
    max_num_iceberg_orders: MaxNumOrders | None = None
    max_num_order_lists: MaxNumOrders | None = None
    max_num_order_amends: MaxNumOrders | None = None
    trailing_delta: TrailingDelta | None = None
    iceberg_parts: int | None = None
    max_position: Decimal | None = None
    oco_allowed: bool = False
    oto_allowed: bool = False
    cancel_replace_allowed: bool = False
    amend_allowed: bool = False
    allow_trailing_stop: bool = False
    peg_allowed: bool = False
    stp_modes: frozenset[str] = frozenset()
    """``allowedSelfTradePreventionModes`` (empty: exchangeInfo did not say)."""
    default_stp_mode: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_exchange_info(cls, sym: Mapping[str, Any]) -> SymbolRules:
        """Parse one ``symbols[]`` entry of ``GET /api/v3/exchangeInfo``.

        Raises:
            ValueError: if a mandatory field is missing or a number is malformed.
        """
        try:
            filters = _parse_filters(sym.get("filters", ()))
            return cls(
                symbol=str(sym["symbol"]),
                status=str(sym["status"]),
                base_asset=str(sym["baseAsset"]),
                base_asset_precision=int(sym.get("baseAssetPrecision", 8)),
                quote_asset=str(sym["quoteAsset"]),
                quote_asset_precision=int(
                    sym.get("quoteAssetPrecision", sym.get("quotePrecision", 8))),
                order_types=frozenset(str(t) for t in sym.get("orderTypes", ())),
                iceberg_allowed=bool(sym.get("icebergAllowed", False)),
                quote_order_qty_market_allowed=bool(sym.get("quoteOrderQtyMarketAllowed", False)),
                is_spot_trading_allowed=bool(sym.get("isSpotTradingAllowed", True)),
                oco_allowed=bool(sym.get("ocoAllowed", False)),
                oto_allowed=bool(sym.get("otoAllowed", False)),
                cancel_replace_allowed=bool(sym.get("cancelReplaceAllowed", False)),
                amend_allowed=bool(sym.get("amendAllowed", False)),
                allow_trailing_stop=bool(sym.get("allowTrailingStop", False)),
                peg_allowed=bool(sym.get("pegInstructionsAllowed", False)),
                stp_modes=frozenset(str(m) for m in sym.get("allowedSelfTradePreventionModes", ())),
                default_stp_mode=str(sym.get("defaultSelfTradePreventionMode", "")),
                raw=sym,
                **filters,
            )
        except (KeyError, ArithmeticError, TypeError) as exc:
            raise ValueError(f"malformed exchangeInfo symbol entry: {exc!r}") from exc

    @property
    def is_trading(self) -> bool:
        """True when new orders are accepted (status TRADING)."""
        return self.status == "TRADING"

    def round_price(self, price: Decimal, *, up: bool = False) -> Decimal:
        """Round ``price`` down (or up) to the tick size; unchanged if there is no tick."""
        if self.price_filter is None or self.price_filter.tick_size == 0:
            return price
        step = self.price_filter.tick_size
        return ceil_to_step(price, step) if up else floor_to_step(price, step)

    def round_quantity(self, qty: Decimal, *, market: bool = False, up: bool = False) -> Decimal:
        """Round ``qty`` down (or up) to the step size (MARKET_LOT_SIZE's for market orders)."""
        step = Decimal(0)
        for lot in (self.lot_size, self.market_lot_size if market else None):
            if lot is not None and lot.step_size > step:
                step = lot.step_size
        if step == 0:
            return qty
        return ceil_to_step(qty, step) if up else floor_to_step(qty, step)

    def validate_order(
        self,
        *,
        side: str,
        order_type: str,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
        stop_price: Decimal | None = None,
        quote_order_qty: Decimal | None = None,
        iceberg_qty: Decimal | None = None,
        trailing_delta: int | None = None,
        stp_mode: str | None = None,
        ref_price: Decimal | None = None,
        ref_prices: Mapping[str, Decimal] | None = None,
        open_orders: int | None = None,
        open_algo_orders: int | None = None,
        open_iceberg_orders: int | None = None,
        position: Decimal | None = None,
    ) -> list[Violation]:
        """Check a prospective order against the symbol's status, order types and filters.

        Args:
            ref_price: the reference price used by PERCENT_PRICE* and by notional checks on MARKET
                orders; those checks are skipped without it.
            ref_prices: a reference price per filter type (``"NOTIONAL"``, ``"PERCENT_PRICE_BY_SIDE"``,
                ...), taking precedence over ``ref_price``: since 2026-05 each filter uses the symbol's
                reference price, else the VWAP over its own ``avgPriceMins`` (last price when 0).
            trailing_delta: BIPS of a trailing stop (TRAILING_DELTA, ``allowTrailingStop``).
            stp_mode: self-trade prevention mode (``allowedSelfTradePreventionModes``).
            open_orders / open_algo_orders / open_iceberg_orders: current open orders on the symbol
                (counting the orders of the same list placed before this one), for MAX_NUM_*.
            position: free + locked base asset plus the quantity of open BUY orders, for MAX_POSITION.

        Returns:
            Every violation found (empty list = passes these checks).
        """
        with localcontext() as ctx:
            ctx.prec = _PREC
            out = self._check_shape(side, order_type, quantity, price, stop_price,
                                    quote_order_qty, trailing_ok=trailing_delta is not None)
            out += self._check_price_qty(order_type, quantity, price, stop_price, iceberg_qty)
            out += self._check_features(side, order_type, iceberg_qty, trailing_delta, stp_mode)
            by_filter = ref_prices or {}
            notional_ref = by_filter.get(self.notional.filter_type, ref_price) if self.notional else None
            percent_ref = by_filter.get(self.percent_price.filter_type, ref_price) if self.percent_price else None
            out += self._check_notional(order_type, quantity, price, quote_order_qty, notional_ref)
            out += self._check_percent_price(side, order_type, price, percent_ref)
            out += self._check_counts(order_type, open_orders, open_algo_orders)
            if iceberg_qty is not None:
                out += self._count(self.max_num_iceberg_orders, open_iceberg_orders, "iceberg orders")
            out += self._check_position(side, quantity, position)
            return out

    def validate_list(self, kind: str, open_order_lists: int | None) -> list[Violation]:
        """An order list of ``kind`` (OCO, OTO, OTOCO): allowed on the symbol, and under
        MAX_NUM_ORDER_LISTS given the open lists (the legs are checked with :meth:`validate_order`)."""
        allowed = self.oco_allowed if kind == "OCO" else self.oto_allowed
        flag = "ocoAllowed" if kind == "OCO" else "otoAllowed"
        out = [] if allowed else [Violation("ORDER_LISTS", "type",
                                             f"{kind} order lists are not allowed on {self.symbol} ({flag} false)")]
        return out + self._count(self.max_num_order_lists, open_order_lists, "order lists")

    def validate_amend(self, new_qty: Decimal, current_qty: Decimal, amendments: int | None) -> list[Violation]:
        """An amend keep priority: allowed on the symbol, a reduction, LOT_SIZE, MAX_NUM_ORDER_AMENDS."""
        with localcontext() as ctx:
            ctx.prec = _PREC
            out: list[Violation] = []
            if not self.amend_allowed:
                out.append(Violation("AMEND", "newQty", f"amending orders is not allowed on {self.symbol} "
                                     "(amendAllowed false)"))
            if new_qty >= current_qty:
                below = floor_to_step(current_qty - self._qty_step(False), self._qty_step(False)) \
                    if self._qty_step(False) > 0 else None
                out.append(Violation("AMEND", "newQty", f"new quantity {fmt_decimal(new_qty)} must be below the "
                                     f"order's quantity {fmt_decimal(current_qty)}",
                                     (below,) if below is not None and below > 0 else ()))
            if new_qty > 0 and self.lot_size is not None:
                out += self.lot_size.check(new_qty, "newQty")
            f = self.max_num_order_amends
            if f is not None and amendments is not None and amendments >= f.limit:
                out.append(Violation(f.filter_type, "newQty", f"the order was amended {amendments} times already; "
                                     f"{f.filter_type} allows {f.limit} per order: cancel and place it anew"))
            return out

    def _check_features(self, side: str, order_type: str, iceberg_qty: Decimal | None,
                        trailing_delta: int | None, stp_mode: str | None) -> list[Violation]:
        out: list[Violation] = []
        if trailing_delta is not None:
            if order_type not in STOP_TYPES:
                out.append(Violation("PARAMETERS", "trailingDelta",
                                     f"trailingDelta is for stop and take-profit orders, not {order_type}"))
            elif not self.allow_trailing_stop:
                out.append(Violation("TRAILING_STOP", "trailingDelta",
                                     f"trailing stops are not allowed on {self.symbol} (allowTrailingStop false)"))
            elif self.trailing_delta is not None:
                out += self.trailing_delta.check(order_type, side, trailing_delta)
        if iceberg_qty is not None and not self.iceberg_allowed:
            out.append(Violation("ICEBERG", "icebergQty",
                                 f"iceberg orders are not allowed on {self.symbol} (icebergAllowed false)"))
        if stp_mode is not None and self.stp_modes and stp_mode not in self.stp_modes:
            out.append(Violation("SELF_TRADE_PREVENTION", "selfTradePreventionMode",
                                 f"self-trade prevention mode {stp_mode} is not allowed on {self.symbol}; "
                                 f"allowed: {', '.join(sorted(self.stp_modes))}"))
        return out

    def _count(self, f: MaxNumOrders | None, count: int | None, what: str) -> list[Violation]:
        if f is None or count is None or count + 1 <= f.limit:
            return []
        return [Violation(f.filter_type, "openOrders",
                          f"{count} open {what} already; {f.filter_type} allows {f.limit} on {self.symbol}: "
                          "cancel one first")]

    def _check_position(self, side: str, quantity: Decimal | None, position: Decimal | None) -> list[Violation]:
        if self.max_position is None or side != "BUY" or quantity is None or position is None:
            return []
        if position + quantity <= self.max_position:
            return []
        room = max(self.max_position - position, Decimal(0))
        fix = floor_to_step(room, self._qty_step(False)) if self._qty_step(False) > 0 else room
        return [Violation("MAX_POSITION", "quantity",
                          f"holding {fmt_decimal(position)} (balance and open BUY orders) plus "
                          f"{fmt_decimal(quantity)} exceeds maxPosition {fmt_decimal(self.max_position)}; "
                          f"largest valid quantity: {fmt_decimal(fix)}", (fix,) if fix > 0 else ())]

    # -- the checks, one group each ------------------------------------------------------
    def _check_shape(self, side: str, order_type: str, quantity: Decimal | None,
                     price: Decimal | None, stop_price: Decimal | None,
                     quote_order_qty: Decimal | None, *, trailing_ok: bool) -> list[Violation]:
        out: list[Violation] = []
        if not self.is_trading:
            out.append(Violation("SYMBOL_STATUS", "symbol",
                                 f"{self.symbol} is {self.status}, not TRADING: no new orders"))
        if side not in ("BUY", "SELL"):
            out.append(Violation("SIDE", "side", f"side {side!r} must be BUY or SELL"))
        if order_type not in self.order_types:
            allowed = ", ".join(sorted(self.order_types))
            out.append(Violation("ORDER_TYPES", "type",
                                 f"order type {order_type!r} is not allowed on {self.symbol}; "
                                 f"allowed: {allowed}"))
            return out
        for name, value in (("quantity", quantity), ("price", price), ("stopPrice", stop_price),
                            ("quoteOrderQty", quote_order_qty)):
            if value is not None and value <= 0:
                out.append(Violation("POSITIVE", name, f"{name} must be > 0, got {value}"))
        if order_type == "MARKET":
            if (quantity is None) == (quote_order_qty is None):
                out.append(Violation("PARAMETERS", "quantity",
                                     "a MARKET order needs exactly one of quantity or "
                                     "quoteOrderQty"))
            if quote_order_qty is not None and not self.quote_order_qty_market_allowed:
                out.append(Violation("PARAMETERS", "quoteOrderQty",
                                     f"quoteOrderQty MARKET orders are not allowed on "
                                     f"{self.symbol}"))
        elif quantity is None:
            out.append(Violation("PARAMETERS", "quantity", f"{order_type} needs a quantity"))
        if order_type in PRICED_TYPES and price is None:
            out.append(Violation("PARAMETERS", "price", f"{order_type} needs a price"))
        if order_type in STOP_TYPES and stop_price is None and not trailing_ok:
            out.append(Violation("PARAMETERS", "stopPrice", f"{order_type} needs a stopPrice"))
        return out

    def _check_price_qty(self, order_type: str, quantity: Decimal | None, price: Decimal | None,
                         stop_price: Decimal | None,
                         iceberg_qty: Decimal | None) -> list[Violation]:
        out: list[Violation] = []
        if self.price_filter is not None:
            if price is not None and price > 0:
                out += self.price_filter.check(price, "price")
            if stop_price is not None and stop_price > 0:
                out += self.price_filter.check(stop_price, "stopPrice")
        if quantity is not None and quantity > 0:
            if self.lot_size is not None:
                out += self.lot_size.check(quantity)
            if order_type == "MARKET" and self.market_lot_size is not None:
                out += self.market_lot_size.check(quantity)
        if iceberg_qty is not None and iceberg_qty > 0:
            if self.lot_size is not None:
                out += self.lot_size.check(iceberg_qty, "icebergQty")
            if self.iceberg_parts is not None and quantity is not None and quantity > 0:
                parts = (quantity / iceberg_qty).to_integral_value(rounding=ROUND_CEILING)
                if parts > self.iceberg_parts:
                    least = quantity / self.iceberg_parts
                    step = self._qty_step(False)
                    fix = ceil_to_step(least, step) if step > 0 else least
                    out.append(Violation("ICEBERG_PARTS", "icebergQty",
                                         f"ICEBERG_PARTS: icebergQty {fmt_decimal(iceberg_qty)} splits the quantity "
                                         f"into {fmt_decimal(parts)} parts, over the limit {self.iceberg_parts}; "
                                         f"nearest valid: {fmt_decimal(fix)}", (fix,)))
                if iceberg_qty >= quantity:
                    out.append(Violation("ICEBERG", "icebergQty",
                                         f"icebergQty {fmt_decimal(iceberg_qty)} must be below the quantity "
                                         f"{fmt_decimal(quantity)}"))
        return out

    def _check_notional(self, order_type: str, quantity: Decimal | None, price: Decimal | None,
                        quote_order_qty: Decimal | None,
                        ref_price: Decimal | None) -> list[Violation]:
        f = self.notional
        if f is None:
            return []
        market = order_type in ("MARKET", "STOP_LOSS", "TAKE_PROFIT")
        check_min = f.min_notional > 0 and (not market or f.apply_min_to_market)
        check_max = f.max_notional > 0 and (not market or f.apply_max_to_market)
        unit_price = ref_price if market else price
        if market and quote_order_qty is not None:
            notional, unit_price = quote_order_qty, None
        elif quantity is None or unit_price is None or quantity <= 0 or unit_price <= 0:
            return []
        else:
            notional = quantity * unit_price
        step = self._qty_step(market)
        out: list[Violation] = []
        if check_min and notional < f.min_notional:
            fixes = ((ceil_to_step(f.min_notional / unit_price, step) if step > 0
                      else f.min_notional / unit_price),) if unit_price else ()
            tail = f"; nearest valid quantity: {fmt_decimal(fixes[0])}" if fixes else ""
            out.append(Violation(f.filter_type, "notional",
                                 f"notional {fmt_decimal(notional)} is below minNotional "
                                 f"{fmt_decimal(f.min_notional)}{tail}", fixes))
        if check_max and notional > f.max_notional:
            fixes = ((floor_to_step(f.max_notional / unit_price, step) if step > 0
                      else f.max_notional / unit_price),) if unit_price else ()
            tail = f"; nearest valid quantity: {fmt_decimal(fixes[0])}" if fixes else ""
            out.append(Violation(f.filter_type, "notional",
                                 f"notional {fmt_decimal(notional)} is above maxNotional "
                                 f"{fmt_decimal(f.max_notional)}{tail}", fixes))
        return out

    def _qty_step(self, market: bool) -> Decimal:
        steps = [lot.step_size for lot in (self.lot_size, self.market_lot_size if market else None)
                 if lot is not None]
        return max(steps, default=Decimal(0))

    def _check_percent_price(self, side: str, order_type: str, price: Decimal | None,
                             ref_price: Decimal | None) -> list[Violation]:
        f = self.percent_price
        if f is None or price is None or ref_price is None or order_type not in PRICED_TYPES:
            return []
        if price <= 0 or ref_price <= 0:
            return []
        low, high = f.bounds(side, ref_price)
        tick = self.price_filter.tick_size if self.price_filter else Decimal(0)
        if price < low:
            fix = ceil_to_step(low, tick) if tick > 0 else low
            return [Violation(f.filter_type, "price",
                              f"{side} price {fmt_decimal(price)} is below {fmt_decimal(low)} "
                              f"(reference price {fmt_decimal(ref_price)} x down multiplier); "
                              f"nearest valid: {fmt_decimal(fix)}", (fix,))]
        if price > high:
            fix = floor_to_step(high, tick) if tick > 0 else high
            return [Violation(f.filter_type, "price",
                              f"{side} price {fmt_decimal(price)} is above {fmt_decimal(high)} "
                              f"(reference price {fmt_decimal(ref_price)} x up multiplier); "
                              f"nearest valid: {fmt_decimal(fix)}", (fix,))]
        return []

    def _check_counts(self, order_type: str, open_orders: int | None,
                      open_algo_orders: int | None) -> list[Violation]:
        out: list[Violation] = []
        for f, count in ((self.max_num_orders, open_orders),
                         (self.max_num_algo_orders if order_type in STOP_TYPES else None,
                          open_algo_orders)):
            if f is not None and count is not None and count + 1 > f.limit:
                out.append(Violation(f.filter_type, "openOrders",
                                     f"{count} open orders already; {f.filter_type} allows "
                                     f"{f.limit} on {self.symbol}: cancel one first"))
        return out


def refuse_closed_market(rules: SymbolRules) -> None:
    """Refuse a new order on a symbol that is not TRADING, before anything is sent.

    Binance answers -2010 "Market is closed." for it (HALT, BREAK, END_OF_DAY, CANCEL_ONLY); saying
    so here names the status and keeps the order, and its weight, off the wire.

    Raises:
        TradingDisabled: the symbol's status is not TRADING.
    """
    if rules.is_trading:
        return
    raise TradingDisabled(
        f"{rules.symbol} is in status {rules.status}, not TRADING: the exchange takes no new orders on it "
        "(it would answer -2010 'Market is closed.'); nothing was sent",
        hint=f"Wait until binance_get_exchange_info shows {rules.symbol} TRADING again"
        + ("; cancels are still accepted." if rules.status == "CANCEL_ONLY" else "."),
    )


def _parse_filters(raw_filters: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in raw_filters:
        kind = f.get("filterType")
        if kind == "PRICE_FILTER":
            out["price_filter"] = PriceFilter(_dec(f, "minPrice"), _dec(f, "maxPrice"),
                                              _dec(f, "tickSize"))
        elif kind in ("LOT_SIZE", "MARKET_LOT_SIZE"):
            key = "lot_size" if kind == "LOT_SIZE" else "market_lot_size"
            out[key] = LotSize(kind, _dec(f, "minQty"), _dec(f, "maxQty"), _dec(f, "stepSize"))
        elif kind == "NOTIONAL":
            out["notional"] = Notional(kind, _dec(f, "minNotional"), _dec(f, "maxNotional"),
                                       bool(f.get("applyMinToMarket", False)),
                                       bool(f.get("applyMaxToMarket", False)),
                                       int(f.get("avgPriceMins", 5)))
        elif kind == "MIN_NOTIONAL" and "notional" not in out:
            apply = bool(f.get("applyToMarket", False))
            out["notional"] = Notional(kind, _dec(f, "minNotional"), Decimal(0), apply, False,
                                       int(f.get("avgPriceMins", 5)))
        elif kind == "PERCENT_PRICE_BY_SIDE":
            out["percent_price"] = PercentPriceBySide(
                kind, _dec(f, "bidMultiplierUp"), _dec(f, "bidMultiplierDown"),
                _dec(f, "askMultiplierUp"), _dec(f, "askMultiplierDown"),
                int(f.get("avgPriceMins", 1)))
        elif kind == "PERCENT_PRICE" and "percent_price" not in out:
            up, down = _dec(f, "multiplierUp"), _dec(f, "multiplierDown")
            out["percent_price"] = PercentPriceBySide(kind, up, down, up, down,
                                                      int(f.get("avgPriceMins", 5)))
        elif kind == "MAX_NUM_ORDERS":
            out["max_num_orders"] = MaxNumOrders(kind, int(f["maxNumOrders"]))
        elif kind == "MAX_NUM_ALGO_ORDERS":
            out["max_num_algo_orders"] = MaxNumOrders(kind, int(f["maxNumAlgoOrders"]))
        elif kind == "MAX_NUM_ICEBERG_ORDERS":
            out["max_num_iceberg_orders"] = MaxNumOrders(kind, int(f["maxNumIcebergOrders"]))
        elif kind == "MAX_NUM_ORDER_LISTS":
            out["max_num_order_lists"] = MaxNumOrders(kind, int(f["maxNumOrderLists"]))
        elif kind == "MAX_NUM_ORDER_AMENDS":
            out["max_num_order_amends"] = MaxNumOrders(kind, int(f["maxNumOrderAmends"]))
        elif kind == "TRAILING_DELTA":
            out["trailing_delta"] = TrailingDelta(
                int(f["minTrailingAboveDelta"]), int(f["maxTrailingAboveDelta"]),
                int(f["minTrailingBelowDelta"]), int(f["maxTrailingBelowDelta"]))
        elif kind == "MAX_POSITION":
            out["max_position"] = _dec(f, "maxPosition")
        elif kind == "ICEBERG_PARTS":
            out["iceberg_parts"] = int(f["limit"])
    return out


# --- the whole exchange -------------------------------------------------------------------


class ExchangeRules:
    """All symbols of one exchangeInfo answer, with case-insensitive lookup and near-miss hints."""

    def __init__(self, symbols: Mapping[str, SymbolRules],
                 rate_limits: Sequence[Mapping[str, Any]] = (), server_time_ms: int | None = None,
                 environment: str = "") -> None:
        self.symbols = dict(symbols)
        self.rate_limits = tuple(rate_limits)
        self.server_time_ms = server_time_ms
        self.environment = environment

    @classmethod
    def from_exchange_info(cls, info: Mapping[str, Any], environment: str = "") -> ExchangeRules:
        """Parse a full ``GET /api/v3/exchangeInfo`` answer."""
        symbols = {}
        for raw in info.get("symbols", ()):
            rules = SymbolRules.from_exchange_info(raw)
            symbols[rules.symbol] = rules
        server_time = info.get("serverTime")
        return cls(symbols, info.get("rateLimits", ()),
                   int(server_time) if server_time is not None else None, environment)

    def request_weight_limit(self) -> tuple[int, int] | None:
        """``(limit, interval_s)`` of the REQUEST_WEIGHT rate limit, if exchangeInfo gave one."""
        seconds = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400}
        for rl in self.rate_limits:
            if rl.get("rateLimitType") == "REQUEST_WEIGHT":
                unit = seconds.get(str(rl.get("interval")), 60)
                return int(rl["limit"]), unit * int(rl.get("intervalNum", 1))
        return None

    def normalize(self, symbol: str) -> str:
        """Canonical spelling (upper case, trimmed) used as the lookup key."""
        return symbol.strip().upper()

    def suggest(self, symbol: str, n: int = 3) -> tuple[str, ...]:
        """Known symbols that look like ``symbol`` (difflib ratio >= 0.6)."""
        key = self.normalize(symbol)
        near = difflib.get_close_matches(key, self.symbols.keys(), n=n, cutoff=0.6)
        if not near:  # also try "BTC-USDT" / "btc/usdt" style spellings
            squashed = "".join(ch for ch in key if ch.isalnum())
            near = difflib.get_close_matches(squashed, self.symbols.keys(), n=n, cutoff=0.6)
        return tuple(near)

    def get(self, symbol: str) -> SymbolRules:
        """Rules of ``symbol`` in any case.

        Raises:
            UnknownSymbol: not listed; the message and ``suggestions`` name near misses.
        """
        rules = self.symbols.get(self.normalize(symbol))
        if rules is not None:
            return rules
        suggestions = self.suggest(symbol)
        where = f" on {self.environment}" if self.environment else ""
        tail = f"; did you mean {' or '.join(suggestions)}?" if suggestions else ""
        raise UnknownSymbol(f"unknown symbol {symbol!r}{where}{tail}", suggestions=suggestions)

    def __contains__(self, symbol: object) -> bool:
        return isinstance(symbol, str) and self.normalize(symbol) in self.symbols

    def __len__(self) -> int:
        return len(self.symbols)
