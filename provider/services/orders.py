"""Binance order JSON -> typed `Order`, for every response shape (ACK, RESULT, FULL, query, cancel)."""

from __future__ import annotations

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
    )
    return order
