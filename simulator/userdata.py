"""User data stream payloads (spec §8.3, `user-data-stream.md`), rendered from engine state (pure).

Rules of this file:
1. Every function returns the `event` object of one frame; the WebSocket API shell wraps it as
   `{"subscriptionId": N, "event": {...}}` (`serverShutdown` is sent without a subscription id).
2. Decimals are 8-decimal strings; `n` is `"0"` and `N` is null on reports that are not trades,
   as in Binance's examples (`faqs/market_orders_faq.md`).
3. Conditional `executionReport` fields appear only when Binance sends them: `W` once the order
   works, `j`/`J` when a strategy was given, `d`/`D` for trailing stops (`D` -1 until tracking
   starts), `eR` when the order expired, the STP fields (`v`, `A`, `B`, `u`, `U`, `Cs`, `pl`,
   `pL`, `pY`) on `TRADE_PREVENTION` reports. `g` is the order list id (-1 outside a list), `F`
   the iceberg quantity.
4. `listStatus` (order lists) carries the list's status after the reports that changed it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from simulator.decimals import fmt8

if TYPE_CHECKING:
    from simulator.engine import Fill, Order
    from simulator.orderlists import OrderList

EXPIRED_STATUSES = ("EXPIRED", "EXPIRED_IN_MATCH")
NO_TRADE_GROUP = -1


@dataclass(frozen=True)
class Prevention:
    """A prevented self-trade (STP) as one order of it saw it (spec §3.4, `faqs/stp_faq.md`)."""

    match_id: int
    counter_order_id: int
    price: Decimal
    qty: Decimal
    """Quantity that would have traded had STP not prevented it."""
    expired_qty: Decimal
    """This order's quantity expired by the event (`B`; equal to `A` for EXPIRE_* modes)."""


def execution_report(
    order: Order,
    exec_type: str,
    now_ms: int,
    exec_id: int,
    *,
    fill: Fill | None = None,
    maker: bool = False,
    on_book: bool = False,
    cancel_id: str | None = None,
    prevention: Prevention | None = None,
) -> dict[str, Any]:
    """One `executionReport` for the order's state right now (spec §8.3).

    `cancel_id` is the cancel request's client order id: it becomes `c`, and the order's own id
    moves to `C` (Binance's rule for cancels).
    """
    body: dict[str, Any] = {
        "e": "executionReport",
        "E": now_ms,
        "s": order.symbol,
        "c": cancel_id if cancel_id is not None else order.client_order_id,
        "S": order.side,
        "o": order.type,
        "f": order.time_in_force,
        "q": fmt8(order.orig_qty),
        "p": fmt8(order.price),
        "P": fmt8(order.stop_price),
        "F": fmt8(order.iceberg_qty),
        "g": order.order_list_id,
        "C": order.client_order_id if cancel_id is not None else "",
        "x": exec_type,
        "X": order.status,
        "r": "NONE",
        "i": order.order_id,
        "l": fmt8(fill.qty) if fill else fmt8(Decimal(0)),
        "z": fmt8(order.executed_qty),
        "L": fmt8(fill.price) if fill else fmt8(Decimal(0)),
        "n": fmt8(fill.commission) if fill else "0",
        "N": fill.commission_asset if fill else None,
        "T": now_ms,
        "t": fill.trade_id if fill else -1,
        "I": exec_id,
        "w": on_book,
        "m": maker if fill else False,
        "M": fill is not None,
        "O": order.time,
        "Z": fmt8(order.cum_quote),
        "Y": fmt8(fill.price * fill.qty) if fill else fmt8(Decimal(0)),
        "Q": fmt8(order.orig_quote_order_qty),
    }
    if order.working_time >= 0:
        body["W"] = order.working_time
    body["V"] = order.stp_mode
    body.update(fields_when_set(order, STREAM_NAMES))
    if prevention is not None:
        body.update(_prevention_fields(order, prevention))
    if order.status in EXPIRED_STATUSES and order.expiry_reason is not None:
        body["eR"] = order.expiry_reason
    return body


@dataclass(frozen=True)
class WhenSetNames:
    """One wire's names for the order fields Binance sends only when they are set: the trailing delta
    and the time tracking started (both with a trailing stop), the strategy id and type."""

    trailing_delta: str
    trailing_time: str
    strategy_id: str
    strategy_type: str


STREAM_NAMES = WhenSetNames("d", "D", "j", "J")
REST_NAMES = WhenSetNames("trailingDelta", "trailingTime", "strategyId", "strategyType")


def fields_when_set(order: Order, names: WhenSetNames) -> dict[str, Any]:
    """The order's trailing-stop and strategy fields that are set, under ``names`` (REST or stream)."""
    out: dict[str, Any] = {}
    if order.trailing_delta is not None:
        out[names.trailing_delta] = order.trailing_delta
        out[names.trailing_time] = order.trailing_time
    if order.strategy_id is not None:
        out[names.strategy_id] = order.strategy_id
    if order.strategy_type is not None:
        out[names.strategy_type] = order.strategy_type
    return out


def _prevention_fields(order: Order, p: Prevention) -> dict[str, Any]:
    return {
        "v": p.match_id,
        "A": fmt8(order.prevented_qty),
        "B": fmt8(p.expired_qty),
        "u": NO_TRADE_GROUP,
        "U": p.counter_order_id,
        "Cs": order.symbol,
        "pl": fmt8(p.qty),
        "pL": fmt8(p.price),
        "pY": fmt8(p.qty * p.price),
    }


def list_status(lst: OrderList, now_ms: int) -> dict[str, Any]:
    """`listStatus`: an order list's status (`l` listStatusType, `L` listOrderStatus) and orders."""
    return {
        "e": "listStatus",
        "E": now_ms,
        "s": lst.symbol,
        "g": lst.order_list_id,
        "c": lst.contingency_type,
        "l": lst.status_type,
        "L": lst.order_status,
        "r": "NONE",
        "C": lst.list_client_order_id,
        "T": now_ms,
        "O": [{"s": o.symbol, "i": o.order_id, "c": o.client_order_id} for o in lst.orders],
    }


def account_position(now_ms: int, update_ms: int,
                     balances: list[tuple[str, Decimal, Decimal]]) -> dict[str, Any]:
    """`outboundAccountPosition` with the (asset, free, locked) rows that changed."""
    return {
        "e": "outboundAccountPosition",
        "E": now_ms,
        "u": update_ms,
        "B": [{"a": a, "f": fmt8(f), "l": fmt8(lk)} for a, f, lk in balances],
    }


def balance_update(now_ms: int, asset: str, delta: Decimal) -> dict[str, Any]:
    """`balanceUpdate`: a deposit or withdrawal of `delta` (here: `POST /sim/balances`)."""
    return {"e": "balanceUpdate", "E": now_ms, "a": asset, "d": fmt8(delta), "T": now_ms}


def event_stream_terminated(now_ms: int) -> dict[str, Any]:
    """The last event of a subscription ended by unsubscribe, logout or the server."""
    return {"e": "eventStreamTerminated", "E": now_ms}


def server_shutdown(now_ms: int) -> dict[str, Any]:
    """Sent to every WebSocket API connection before the server goes away (since 2026-05-08)."""
    return {"e": "serverShutdown", "E": now_ms}


__all__ = [
    "Prevention",
    "account_position",
    "balance_update",
    "event_stream_terminated",
    "execution_report",
    "list_status",
    "server_shutdown",
]
