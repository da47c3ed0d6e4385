"""Signed account and trading endpoints (TRADE / USER_DATA), spec §2-§3.

Handlers validate parameters the way Binance does (-1102 missing, -1106 not required, -1100
illegal characters, -1111 precision, -1115/-1116/-1117 bad enums), then call the engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from simulator import errors
from simulator.decimals import fmt8
from simulator.engine import (
    COMMISSION_BPS,
    COMMISSION_RATE,
    NewOrder,
    Order,
    new_client_order_id,
)
from simulator.filters import STOP_TYPES
from simulator.params import Params
from simulator.rest_public import limit_param, symbol_state
from simulator.state import Sim
from simulator.symbols import ORDER_TYPES, STP_MODES
from simulator.userdata import REST_NAMES, fields_when_set

CLIENT_ID_RE = re.compile(r"^[a-zA-Z0-9-_]{1,36}$")
CLIENT_ID_RANGE = "^[a-zA-Z0-9-_]{1,36}$"
TIF = ("GTC", "IOC", "FOK")
NEEDS_TIF = ("LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT")
NEEDS_PRICE = ("LIMIT", "LIMIT_MAKER", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT")
ICEBERG_TYPES = ("LIMIT", "LIMIT_MAKER", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT")
DAY_MS = 86_400_000
UNKNOWN_ORDER = "Unknown order sent."


def _precise(params: Params, name: str) -> Decimal | None:
    value = params.decimal_opt(name)
    if value is not None and -value.normalize().as_tuple().exponent > 8:  # type: ignore[operator]
        raise errors.bad_precision(name)
    return value


def _client_id(params: Params, name: str, empty_code: int, empty_msg: str) -> str | None:
    if name not in params.values:
        return None
    v = params.values[name]
    if v == "":
        raise errors.ApiError(empty_code, empty_msg)
    if not CLIENT_ID_RE.match(v):
        raise errors.illegal_chars(name, CLIENT_ID_RANGE)
    return v


@dataclass(frozen=True)
class Names:
    """Parameter names of one order: plain for `POST /api/v3/order`, prefixed for a list's leg
    (`abovePrice`, `workingTimeInForce`, `pendingAboveStopPrice`, ...)."""

    prefix: str = ""

    def __call__(self, name: str) -> str:
        return self.prefix + name[0].upper() + name[1:] if self.prefix else name

    @property
    def client_id(self) -> str:
        return self("clientOrderId") if self.prefix else "newClientOrderId"


def parse_new_order(sim: Sim, params: Params) -> tuple[NewOrder, str]:
    """Validate `POST /api/v3/order` parameters -> (request, newOrderRespType)."""
    symbol = symbol_state(sim, params)
    side = parse_side(params, "side")
    type_ = params.str_req("type").upper()
    if type_ not in ORDER_TYPES:
        raise errors.ApiError(-1116, "Invalid orderType.")
    qty = _precise(params, "quantity")
    quote_qty = _precise(params, "quoteOrderQty")
    if type_ == "MARKET":
        if qty is None and quote_qty is None:
            raise errors.mandatory_either("quantity", "quoteOrderQty")
        if qty is not None and quote_qty is not None:
            raise errors.not_required("quoteOrderQty")
    else:
        if quote_qty is not None:
            raise errors.not_required("quoteOrderQty")
        if qty is None:
            raise errors.mandatory("quantity")
    default_resp = "FULL" if type_ in ("MARKET", "LIMIT") else "ACK"
    resp = parse_resp_type(params, default_resp)
    stp = parse_stp(params)
    return parse_order(sim, params, symbol, side, type_, qty, quote_qty, stp, Names()), resp


def parse_side(params: Params, name: str) -> str:
    side = params.str_req(name).upper()
    if side not in ("BUY", "SELL"):
        raise errors.ApiError(-1117, "Invalid side.")
    return side


def parse_resp_type(params: Params, default: str) -> str:
    resp = (params.str_opt("newOrderRespType") or default).upper()
    if resp not in ("ACK", "RESULT", "FULL"):
        raise errors.invalid_param("newOrderRespType")
    return resp


def parse_stp(params: Params) -> str:
    stp = (params.str_opt("selfTradePreventionMode") or "EXPIRE_MAKER").upper()
    if stp not in STP_MODES:
        raise errors.invalid_param("selfTradePreventionMode")
    return stp


def parse_order(sim: Sim, params: Params, symbol: str, side: str, type_: str,
                qty: Decimal | None, quote_qty: Decimal | None, stp: str, n: Names) -> NewOrder:
    """The type-dependent parameters of one order (or list leg), checked as Binance does:
    -1102 missing, -1106 not required, -1115 bad timeInForce, -2010 for what the symbol or the
    type does not support."""
    tif = params.str_opt(n("timeInForce"))
    if type_ in NEEDS_TIF:
        if tif is None:
            raise errors.mandatory(n("timeInForce"))
        if tif not in TIF:
            raise errors.ApiError(-1115, "Invalid timeInForce.")
    elif tif is not None:
        raise errors.not_required(n("timeInForce"))
    price = _precise(params, n("price"))
    stop = _precise(params, n("stopPrice"))
    trailing = params.int_opt(n("trailingDelta"))
    iceberg = _precise(params, n("icebergQty"))
    if type_ in NEEDS_PRICE:
        if price is None:
            raise errors.mandatory(n("price"))
    elif price is not None:
        raise errors.not_required(n("price"))
    if type_ in STOP_TYPES:
        if stop is None and trailing is None:
            raise errors.mandatory_either(n("stopPrice"), n("trailingDelta"))
    elif stop is not None:
        raise errors.not_required(n("stopPrice"))
    elif trailing is not None:
        raise errors.not_required(n("trailingDelta"))
    info = sim.market.symbols[symbol].spec.exchange_info()
    if trailing is not None and not info["allowTrailingStop"]:
        raise errors.order_rejected("Trailing stop orders are not supported for this symbol.")
    if iceberg is not None:
        if not info["icebergAllowed"]:
            raise errors.order_rejected("Iceberg orders are not supported for this symbol.")
        if type_ not in ICEBERG_TYPES or (tif is not None and tif != "GTC"):
            raise errors.order_rejected("Unsupported order combination")
    if any(params.has(n(k)) for k in ("pegPriceType", "pegOffsetValue", "pegOffsetType")):
        raise errors.order_rejected("Pegged orders are not supported for this symbol.")
    client_id = _client_id(params, n.client_id, -1118, "New client order ID was empty.")
    strategy_type = params.int_opt(n("strategyType"))
    if strategy_type is not None and strategy_type < 1_000_000:
        raise errors.ApiError(-1134, "`strategyType` was less than 1000000.")
    return NewOrder(
        symbol=symbol,
        side=side,
        type=type_,
        time_in_force=tif,
        quantity=qty,
        quote_order_qty=quote_qty,
        price=price,
        stop_price=stop,
        client_order_id=client_id or new_client_order_id(),
        stp_mode=stp,
        strategy_id=params.int_opt(n("strategyId")),
        strategy_type=strategy_type,
        iceberg_qty=iceberg,
        trailing_delta=trailing,
    )


def _conditional(order: Order, body: dict[str, Any]) -> dict[str, Any]:
    """Binance's conditional fields of order responses (`rest-api.md`)."""
    if order.type in STOP_TYPES:
        body["stopPrice"] = fmt8(order.stop_price)
    if order.iceberg_qty > 0:
        body["icebergQty"] = fmt8(order.iceberg_qty)
    if order.prevented_qty > 0:
        body["preventedQuantity"] = fmt8(order.prevented_qty)
    body.update(fields_when_set(order, REST_NAMES))
    if order.expiry_reason is not None:
        body["expiryReason"] = order.expiry_reason
    return body


def render_new(order: Order, resp: str, transact: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "symbol": order.symbol,
        "orderId": order.order_id,
        "orderListId": order.order_list_id,
        "clientOrderId": order.client_order_id,
        "transactTime": transact,
    }
    if resp == "ACK":
        return body
    body.update({
        "price": fmt8(order.price),
        "origQty": fmt8(order.orig_qty),
        "executedQty": fmt8(order.executed_qty),
        "origQuoteOrderQty": fmt8(order.orig_quote_order_qty),
        "cummulativeQuoteQty": fmt8(order.cum_quote),
        "status": order.status,
        "timeInForce": order.time_in_force,
        "type": order.type,
        "side": order.side,
        "workingTime": order.working_time,
        "selfTradePreventionMode": order.stp_mode,
    })
    _conditional(order, body)
    if resp == "FULL":
        body["fills"] = [
            {
                "price": fmt8(f.price),
                "qty": fmt8(f.qty),
                "commission": fmt8(f.commission),
                "commissionAsset": f.commission_asset,
                "tradeId": f.trade_id,
            }
            for f in order.fills
        ]
    return body


def render_query(order: Order) -> dict[str, Any]:
    body: dict[str, Any] = {
        "symbol": order.symbol,
        "orderId": order.order_id,
        "orderListId": order.order_list_id,
        "clientOrderId": order.client_order_id,
        "price": fmt8(order.price),
        "origQty": fmt8(order.orig_qty),
        "executedQty": fmt8(order.executed_qty),
        "cummulativeQuoteQty": fmt8(order.cum_quote),
        "status": order.status,
        "timeInForce": order.time_in_force,
        "type": order.type,
        "side": order.side,
        "stopPrice": fmt8(order.stop_price),
        "icebergQty": fmt8(order.iceberg_qty),
        "time": order.time,
        "updateTime": order.update_time,
        "isWorking": order.is_working,
        "workingTime": order.working_time,
        "origQuoteOrderQty": fmt8(order.orig_quote_order_qty),
        "selfTradePreventionMode": order.stp_mode,
    }
    if order.prevented_qty > 0:
        body["preventedQuantity"] = fmt8(order.prevented_qty)
    body.update(fields_when_set(order, REST_NAMES))
    if order.expiry_reason is not None:
        body["expiryReason"] = order.expiry_reason
    return body


def render_cancel(order: Order, cancel_id: str, transact: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "symbol": order.symbol,
        "origClientOrderId": order.client_order_id,
        "orderId": order.order_id,
        "orderListId": order.order_list_id,
        "clientOrderId": cancel_id,
        "transactTime": transact,
        "price": fmt8(order.price),
        "origQty": fmt8(order.orig_qty),
        "executedQty": fmt8(order.executed_qty),
        "origQuoteOrderQty": fmt8(order.orig_quote_order_qty),
        "cummulativeQuoteQty": fmt8(order.cum_quote),
        "status": order.status,
        "timeInForce": order.time_in_force,
        "type": order.type,
        "side": order.side,
        "selfTradePreventionMode": order.stp_mode,
    }
    return _conditional(order, body)


# ------------------------------------------------------------------ handlers


def new_order(sim: Sim, params: Params) -> Any:
    req, resp = parse_new_order(sim, params)
    now = sim.clock.now_ms()
    order = sim.engine.place(req, now)
    return render_new(order, resp, now)


def test_order(sim: Sim, params: Params) -> Any:
    req, _ = parse_new_order(sim, params)
    sim.engine.validate(req, sim.clock.now_ms())
    if not params.bool_opt("computeCommissionRates", False):
        return {}
    rate = fmt8(COMMISSION_RATE)
    zero = fmt8(Decimal(0))
    return {
        "standardCommissionForOrder": {"maker": rate, "taker": rate},
        "specialCommissionForOrder": {"maker": zero, "taker": zero},
        "taxCommissionForOrder": {"maker": zero, "taker": zero},
        "discount": {
            "enabledForAccount": False,
            "enabledForSymbol": False,
            "discountAsset": "BNB",
            "discount": "0.25000000",
        },
    }


def test_order_weight(params: Params) -> int:
    return 20 if params.values.get("computeCommissionRates", "").lower() == "true" else 1


def _ids(params: Params) -> tuple[int | None, str | None]:
    order_id = params.int_opt("orderId")
    client = _client_id(params, "origClientOrderId", -1119, "Original client order ID was empty.")
    if order_id is None and client is None:
        raise errors.mandatory_either("orderId", "origClientOrderId")
    return order_id, client


def query_order(sim: Sim, params: Params) -> Any:
    symbol = symbol_state(sim, params)
    order_id, client = _ids(params)
    order = sim.engine.find(symbol, order_id, client if order_id is None else None)
    if order is None:
        raise errors.ApiError(-2013, "Order does not exist.")
    if order_id is not None and client is not None and order.client_order_id != client:
        raise errors.ApiError(-2039, "Client order ID is not correct for this order ID.")
    return render_query(order)


def cancel_restriction(params: Params) -> str | None:
    restriction = params.str_opt("cancelRestrictions")
    if restriction is not None and restriction not in ("ONLY_NEW", "ONLY_PARTIALLY_FILLED"):
        raise errors.ApiError(
            -1145, "`cancelRestrictions` has to be either `ONLY_NEW` or `ONLY_PARTIALLY_FILLED`.")
    return restriction


def cancel_order(sim: Sim, params: Params) -> Any:
    symbol = symbol_state(sim, params)
    order_id, client = _ids(params)
    cancel_id = _client_id(params, "newClientOrderId", -1118, "New client order ID was empty.")
    restriction = cancel_restriction(params)
    order = sim.engine.find(symbol, order_id, client if order_id is None else None)
    if order is None or not order.is_open:
        raise errors.ApiError(-2011, UNKNOWN_ORDER)
    if order_id is not None and client is not None and order.client_order_id != client:
        raise errors.ApiError(-2011, UNKNOWN_ORDER)
    if restriction is not None and (
        (restriction == "ONLY_NEW" and order.status != "NEW")
        or (restriction == "ONLY_PARTIALLY_FILLED" and order.status != "PARTIALLY_FILLED")
    ):
        raise errors.ApiError(-2011, "Order was not canceled due to cancel restrictions.")
    now = sim.clock.now_ms()
    cancel_id = cancel_id or new_client_order_id()
    sim.engine.cancel(order, now, cancel_id)
    return render_cancel(order, cancel_id, now)


def open_orders(sim: Sim, params: Params) -> Any:
    symbol = symbol_state(sim, params) if params.has("symbol") else None
    return [render_query(o) for o in sim.engine.open_orders(symbol)]


def open_orders_weight(params: Params) -> int:
    return 6 if params.has("symbol") else 80


def _window(params: Params) -> tuple[int | None, int | None]:
    start, end = params.int_opt("startTime"), params.int_opt("endTime")
    if start is not None and end is not None:
        if start > end:
            raise errors.ApiError(-1023, "Start time is greater than end time.")
        if end - start > DAY_MS:
            raise errors.ApiError(-1127, "More than 24 hours between startTime and endTime.")
    return start, end


def _select(rows: list[Any], time_of: Any, start: int | None, end: int | None,
            limit: int) -> list[Any]:
    """Spec §1.3 list semantics over chronological `rows`."""
    if start is not None:
        picked = [r for r in rows if time_of(r) >= start and (end is None or time_of(r) <= end)]
        return picked[:limit]
    if end is not None:
        return [r for r in rows if time_of(r) <= end][-limit:]
    return rows[-limit:]


def all_orders(sim: Sim, params: Params) -> Any:
    symbol = symbol_state(sim, params)
    start, end = _window(params)
    limit = limit_param(params, 500, 1000)
    orders = list(sim.engine.by_symbol.get(symbol, []))
    from_id = params.int_opt("orderId")
    if from_id is not None:
        orders = [o for o in orders if o.order_id >= from_id]
        picked = orders[:limit]
    else:
        picked = _select(orders, lambda o: o.time, start, end, limit)
    return [render_query(o) for o in picked]


def my_trades(sim: Sim, params: Params) -> Any:
    symbol = symbol_state(sim, params)
    start, end = _window(params)
    limit = limit_param(params, 500, 1000)
    order_id = params.int_opt("orderId")
    from_id = params.int_opt("fromId")
    if from_id is not None and (start is not None or end is not None):
        raise errors.ApiError(-1128, "Combination of optional parameters invalid.")
    if order_id is not None and (start is not None or end is not None):
        raise errors.ApiError(-1128, "Combination of optional parameters invalid.")
    rows = list(sim.engine.my_trades.get(symbol, []))
    if order_id is not None:
        rows = [t for t in rows if t.order_id == order_id]
    if from_id is not None:
        picked = [t for t in rows if t.id >= from_id][:limit]
    else:
        picked = _select(rows, lambda t: t.time, start, end, limit)
    return [
        {
            "symbol": t.symbol,
            "id": t.id,
            "orderId": t.order_id,
            "orderListId": t.order_list_id,
            "price": fmt8(t.price),
            "qty": fmt8(t.qty),
            "quoteQty": fmt8(t.price * t.qty),
            "commission": fmt8(t.commission),
            "commissionAsset": t.commission_asset,
            "time": t.time,
            "isBuyer": t.is_buyer,
            "isMaker": t.is_maker,
            "isBestMatch": True,
        }
        for t in picked
    ]


def my_trades_weight(params: Params) -> int:
    return 5 if params.has("orderId") else 20


def account(sim: Sim, params: Params) -> Any:
    omit = params.bool_opt("omitZeroBalances", False)
    acct = sim.engine.account
    assets = set(acct.free) | set(acct.locked)
    for st in sim.market.symbols.values():
        assets.update((st.spec.base, st.spec.quote))
    balances = []
    for asset in sorted(assets):
        free, locked = acct.free.get(asset, Decimal(0)), acct.locked.get(asset, Decimal(0))
        if omit and free == 0 and locked == 0:
            continue
        balances.append({"asset": asset, "free": fmt8(free), "locked": fmt8(locked)})
    rate = fmt8(COMMISSION_RATE)
    zero = fmt8(Decimal(0))
    return {
        "makerCommission": COMMISSION_BPS,
        "takerCommission": COMMISSION_BPS,
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {"maker": rate, "taker": rate, "buyer": zero, "seller": zero},
        "canTrade": True,
        "canWithdraw": False,
        "canDeposit": False,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": acct.update_time,
        "accountType": "SPOT",
        "balances": balances,
        "permissions": ["SPOT"],
        "uid": 100000001,
    }
