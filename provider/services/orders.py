"""Binance order JSON -> typed `Order`, for every response shape (ACK, RESULT, FULL, query, cancel),
and order list JSON -> typed `OrderList`."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from contracts.binance.v1 import common_pb2, trading_pb2
from provider.binance.rules import fmt_decimal
from provider.catalog.descriptors import enum_wire

SIDES = enum_wire(common_pb2.Side.DESCRIPTOR)
TYPES = enum_wire(common_pb2.OrderType.DESCRIPTOR)
TIFS = enum_wire(common_pb2.TimeInForce.DESCRIPTOR)


def order_from_json(o: dict[str, Any]) -> trading_pb2.Order:
    executed = Decimal(o.get("executedQty", "0") or "0")
    quote = Decimal(o.get("cummulativeQuoteQty", "0") or "0")
    order = trading_pb2.Order(
        symbol=o["symbol"],
        order_id=o["orderId"],
        client_order_id=o.get("clientOrderId", ""),
        side=SIDES.by_name.get(o.get("side", ""), 0),  # type: ignore[arg-type]
        type=TYPES.by_name.get(o.get("type", ""), 0),  # type: ignore[arg-type]
        time_in_force=TIFS.by_name.get(o.get("timeInForce", ""), 0),  # type: ignore[arg-type]
        status=o.get("status", ""),
        price=o.get("price", ""),
        stop_price=o.get("stopPrice", "") if Decimal(o.get("stopPrice", "0") or "0") else "",
        orig_qty=o.get("origQty", ""),
        executed_qty=o.get("executedQty", ""),
        cumulative_quote_qty=o.get("cummulativeQuoteQty", ""),
        orig_quote_order_qty=o.get("origQuoteOrderQty", ""),
        avg_fill_price=fmt_decimal(quote / executed) if executed > 0 and quote >= 0 else "",
        time_ms=o.get("time", o.get("transactTime", 0)),
        update_time_ms=o.get("updateTime", o.get("transactTime", 0)),
        expiry_reason=o.get("expiryReason", "") if o.get("expiryReason") not in (None, "NONE") else "",
        fills=[
            trading_pb2.Fill(
                price=f["price"],
                qty=f["qty"],
                commission=f["commission"],
                commission_asset=f["commissionAsset"],
                trade_id=f.get("tradeId", 0),
            )
            for f in o.get("fills", [])
        ],
        order_list_id=int(o.get("orderListId", -1)),
        iceberg_qty=o.get("icebergQty", "") if Decimal(o.get("icebergQty", "0") or "0") else "",
        trailing_delta=int(o.get("trailingDelta", 0) or 0),
        trailing_time_ms=int(o.get("trailingTime", 0) or 0),
        strategy_id=int(o.get("strategyId", 0) or 0),
        strategy_type=int(o.get("strategyType", 0) or 0),
        self_trade_prevention_mode=o.get("selfTradePreventionMode", ""),
        working_time_ms=int(o.get("workingTime", 0) or 0),
        prevented_quantity=o.get("preventedQuantity", "") if Decimal(o.get("preventedQuantity", "0") or "0") else "",
    )
    return order


def order_list_from_json(raw: dict[str, Any], orders: dict[int, dict[str, Any]] | None = None) -> trading_pb2.OrderList:
    """A list answer (placement, cancel, query) -> typed `OrderList`; each order from `orderReports`
    or `orders` (full states by order id) when known, else the `orders` stubs (symbol, ids) as far
    as the exchange sent them (a stub without a usable id is shown with order id 0, not dropped)."""
    states = {i: r for r in list_field(raw, "orderReports")
              if isinstance(r, dict) and (i := int64_or_none(r.get("orderId"))) is not None}
    states.update(orders or {})
    typed = []
    for stub in list_field(raw, "orders"):
        if not isinstance(stub, dict):
            continue
        order_id = int64_or_none(stub.get("orderId"))
        full = states.get(order_id) if order_id is not None else None
        if full is not None:
            if "origClientOrderId" in full:  # a cancel report: its clientOrderId is the cancel's own
                full = {**full, "clientOrderId": full["origClientOrderId"]}
            typed.append(order_from_json(full))
        else:
            typed.append(trading_pb2.Order(symbol=str(stub.get("symbol", "")), order_id=order_id or 0,
                                           client_order_id=str(stub.get("clientOrderId", "")),
                                           order_list_id=int(raw.get("orderListId", -1))))
    return trading_pb2.OrderList(
        order_list_id=int(raw.get("orderListId", -1)),
        contingency_type=raw.get("contingencyType", ""),
        list_status_type=raw.get("listStatusType", ""),
        list_order_status=raw.get("listOrderStatus", ""),
        list_client_order_id=raw.get("listClientOrderId", ""),
        transaction_time_ms=int(raw.get("transactionTime", 0) or 0),
        symbol=raw.get("symbol", ""),
        orders=typed,
    )


def int64_or_none(value: Any) -> int | None:
    """An id as the exchange sent it, when it is one (an int, or ASCII digits: "²" is a digit to
    isdigit, not to int; at most 19 of them) that the proto's int64 holds."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        value = int(value)
    return value if isinstance(value, int) and -(2**63) <= value < 2**63 else None


def list_field(raw: Mapping[str, Any], key: str) -> list[Any]:
    """``raw[key]`` when the exchange sent a list there; else nothing (null, a number: nothing to show)."""
    value = raw.get(key)
    return value if isinstance(value, list) else []
