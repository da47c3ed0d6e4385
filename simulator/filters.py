"""Symbol filter rules (spec §4, `filters.md`), pure. Each failure raises `-1013 "Filter failure: <NAME>"`.

Checked in exchangeInfo order: PRICE_FILTER (price, stopPrice), LOT_SIZE (quantity, icebergQty),
ICEBERG_PARTS, MARKET_LOT_SIZE, TRAILING_DELTA, PERCENT_PRICE_BY_SIDE, NOTIONAL, MAX_NUM_ORDERS,
MAX_NUM_ALGO_ORDERS, MAX_NUM_ICEBERG_ORDERS. MAX_NUM_ORDER_LISTS is a list's own check
(`check_list_count`); MAX_NUM_ORDER_AMENDS is the amendment's (`-2038`, see the engine).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from simulator import errors
from simulator.symbols import SymbolSpec

STOP_TYPES = ("STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT")
MARKET_LIKE = ("MARKET", "STOP_LOSS", "TAKE_PROFIT")


@dataclass(frozen=True)
class OrderShape:
    """The numbers of a new order that filters look at."""

    side: str
    type: str
    quantity: Decimal | None
    quote_order_qty: Decimal | None
    price: Decimal | None
    stop_price: Decimal | None
    iceberg_qty: Decimal | None = None
    trailing_delta: int | None = None


def _price_ok(spec: SymbolSpec, price: Decimal) -> bool:
    return (
        price >= spec.tick_size
        and price <= spec.max_price
        and price % spec.tick_size == 0
    )


def _lot_ok(qty: Decimal, min_qty: Decimal, max_qty: Decimal, step: Decimal) -> bool:
    if min_qty and qty < min_qty:
        return False
    if max_qty and qty > max_qty:
        return False
    return not (step and qty % step != 0)


RefPrice = Callable[[int], Decimal]
"""`refPrice` for a filter's `avgPriceMins` (spec §4): the symbol's reference price when it has
one, else the VWAP over that many minutes, else (0 minutes) the last price."""


def check_filters(
    spec: SymbolSpec,
    order: OrderShape,
    ref_price: RefPrice,
    open_orders: int,
    open_algo_orders: int,
    open_iceberg_orders: int = 0,
) -> None:
    """Validate `order` against the symbol's filters in exchangeInfo order."""
    for p in (order.price, order.stop_price):
        if p is not None and not _price_ok(spec, p):
            raise errors.filter_failure("PRICE_FILTER")
    for q in (order.quantity, order.iceberg_qty):
        if q is not None and not _lot_ok(q, spec.min_qty, spec.max_qty, spec.step_size):
            raise errors.filter_failure("LOT_SIZE")
    if order.iceberg_qty is not None and order.quantity is not None:
        parts = (order.quantity / order.iceberg_qty).to_integral_value(rounding=ROUND_CEILING)
        if parts > spec.iceberg_parts:
            raise errors.filter_failure("ICEBERG_PARTS")
    if order.quantity is not None and order.type in MARKET_LIKE and not _lot_ok(
        order.quantity, Decimal(0), spec.market_max_qty, Decimal(0)
    ):
        raise errors.filter_failure("MARKET_LOT_SIZE")
    # The sandbox uses one range for the filter's Above and Below bounds (BUY stop-loss and SELL
    # take-profit orders use Above, the others Below).
    if order.trailing_delta is not None and not (
        spec.min_trailing_delta <= order.trailing_delta <= spec.max_trailing_delta
    ):
        raise errors.filter_failure("TRAILING_DELTA")
    if order.price is not None and not _percent_price_ok(spec, order.side, order.price,
                                                         ref_price(spec.percent_price_mins)):
        raise errors.filter_failure("PERCENT_PRICE_BY_SIDE")
    notional = _notional(order, ref_price(spec.notional_mins))
    if notional is not None:
        market = order.type in MARKET_LIKE
        if notional < spec.min_notional:
            raise errors.filter_failure("NOTIONAL")
        if not market and notional > spec.max_notional:
            raise errors.filter_failure("NOTIONAL")
    if open_orders >= spec.max_num_orders:
        raise errors.filter_failure("MAX_NUM_ORDERS")
    if order.type in STOP_TYPES and open_algo_orders >= spec.max_num_algo_orders:
        raise errors.filter_failure("MAX_NUM_ALGO_ORDERS")
    if order.iceberg_qty is not None and open_iceberg_orders >= spec.max_num_iceberg_orders:
        raise errors.filter_failure("MAX_NUM_ICEBERG_ORDERS")


def check_list_count(spec: SymbolSpec, open_lists: int) -> None:
    """MAX_NUM_ORDER_LISTS: open order lists on the symbol (enforced since 2025-08-27)."""
    if open_lists >= spec.max_num_order_lists:
        raise errors.filter_failure("MAX_NUM_ORDER_LISTS")


def _percent_price_ok(spec: SymbolSpec, side: str, price: Decimal, ref: Decimal) -> bool:
    """PERCENT_PRICE_BY_SIDE: BUY within ref*[bidDown, bidUp], SELL within ref*[askDown, askUp]."""
    if ref <= 0:
        return True
    if side == "BUY":
        return ref * spec.bid_multiplier_down <= price <= ref * spec.bid_multiplier_up
    return ref * spec.ask_multiplier_down <= price <= ref * spec.ask_multiplier_up


def _notional(order: OrderShape, ref_price: Decimal) -> Decimal | None:
    if order.type in MARKET_LIKE:
        if order.quote_order_qty is not None:
            return order.quote_order_qty
        if order.quantity is None:
            return None
        return order.quantity * ref_price
    if order.price is None or order.quantity is None:
        return None
    return order.price * order.quantity
