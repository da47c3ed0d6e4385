"""Signed endpoints for order lists, cancel-replace, amendments and the key's permissions.

`POST /api/v3/orderList/{oco,oto,otoco}`, `DELETE/GET /api/v3/orderList`, `GET /api/v3/allOrderList`,
`GET /api/v3/openOrderList`, `POST /api/v3/order/cancelReplace`,
`PUT /api/v3/order/amend/keepPriority`, `GET /api/v3/order/amendments` (`rest-api.md`), and
`GET /sapi/v1/account/apiRestrictions` (wallet API; answers set with the `api_restrictions` fault).

Rules of this file:
1. A list is parsed leg by leg with the same checks as `POST /api/v3/order` (`rest_trade.parse_order`
   under the leg's prefix), then placed by the engine in one piece. It counts one unfilled order per
   leg (OCO 2, OTO 2, OTOCO 3), all given back when the list is refused.
2. Cancel-replace: the new order's filters and the unfilled order count are checked before anything
   happens (plain -1013 / -1015); then the cancel, then (unless STOP_ON_FAILURE and the cancel
   failed) the new order. One failure of two is HTTP 409 `-2021` "Order cancel-replace partially
   failed."; both, or the cancel with STOP_ON_FAILURE, HTTP 400 `-2022` "Order cancel-replace
   failed."; each with `data` = `{cancelResult, newOrderResult, cancelResponse, newOrderResponse}`.
   With `orderRateLimitExceededMode=CANCEL_ONLY` an exceeded count still cancels: HTTP 429 with the
   -1015 as `newOrderResponse`. The new order counts even when it was not attempted.
3. Errors the docs leave open are the sandbox's choice, from what clients observed: an unknown list
   to query is -2018 "Order list does not exist.", to cancel -2011 "Unknown order list sent."
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from simulator import errors, orderlists
from simulator.decimals import fmt8
from simulator.engine import NewOrder, Order, OrderList, new_client_order_id
from simulator.errors import ApiError
from simulator.params import Params
from simulator.rest_public import limit_param, symbol_state
from simulator.rest_trade import (
    Names,
    _client_id,
    _ids,
    _precise,
    _select,
    _window,
    cancel_restriction,
    parse_new_order,
    parse_order,
    parse_resp_type,
    parse_side,
    parse_stp,
    render_cancel,
    render_new,
)
from simulator.state import Sim
from simulator.symbols import ORDER_TYPES
from simulator.weights import Reservation

UNKNOWN_LIST = "Unknown order list sent."
LEG_FIELDS = ("type", "side", "clientOrderId", "price", "stopPrice", "trailingDelta", "quantity",
              "icebergQty", "timeInForce", "strategyId", "strategyType", "pegPriceType",
              "pegOffsetType", "pegOffsetValue")
LIST_COMMON = ("symbol", "listClientOrderId", "newOrderRespType", "selfTradePreventionMode")


def leg_params(*prefixes: str, without: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The parameter names a list endpoint reads for legs with these prefixes (strict mode)."""
    return tuple(Names(p)(f) for p in prefixes for f in LEG_FIELDS if f not in without)


OCO_PARAMS = (*LIST_COMMON, "side", "quantity", *leg_params("above", "below", without=("side", "quantity")))
OTO_PARAMS = (*LIST_COMMON, *leg_params("working", "pending", without=("stopPrice", "trailingDelta")),
              "pendingStopPrice", "pendingTrailingDelta")
OTOCO_PARAMS = (*LIST_COMMON, *leg_params("working", without=("stopPrice", "trailingDelta")),
                "pendingSide", "pendingQuantity",
                *leg_params("pendingAbove", "pendingBelow", without=("side", "quantity")))


# ------------------------------------------------------------------ rendering


def render_list(lst: OrderList, reports: list[dict[str, Any]] | None = None,
                transaction_time: int | None = None) -> dict[str, Any]:
    """An order list as its endpoints show it (`orderReports` on placement and cancel only)."""
    body: dict[str, Any] = {
        "orderListId": lst.order_list_id,
        "contingencyType": lst.contingency_type,
        "listStatusType": lst.status_type,
        "listOrderStatus": lst.order_status,
        "listClientOrderId": lst.list_client_order_id,
        "transactionTime": lst.transaction_time if transaction_time is None else transaction_time,
        "symbol": lst.symbol,
        "orders": [{"symbol": o.symbol, "orderId": o.order_id, "clientOrderId": o.client_order_id}
                   for o in lst.orders],
    }
    if reports is not None:
        body["orderReports"] = reports
    return body


# ------------------------------------------------------------------ placing lists


def reserve_orders(sim: Sim, n: int, now_ms: int) -> list[Reservation]:
    """Count `n` new orders against the unfilled order count, all or none (429 -1015)."""
    got: list[Reservation] = []
    try:
        for _ in range(n):
            got.append(sim.orders.reserve(now_ms))
    except ApiError:
        for r in got:
            sim.orders.release(r)
        raise
    return got


def _allowed(sim: Sim, symbol: str, flag: str, what: str) -> None:
    if not sim.market.symbols[symbol].spec.exchange_info()[flag]:
        raise errors.order_rejected(f"{what} orders are not supported for this symbol")


def _quantity(params: Params, name: str) -> Decimal:
    qty = _precise(params, name)
    if qty is None:
        raise errors.mandatory(name)
    return qty


def _list_client_id(params: Params) -> str:
    return _client_id(params, "listClientOrderId", -1118, "New client order ID was empty.") \
        or new_client_order_id()


def _place(sim: Sim, kind: str, legs: list[NewOrder], list_client_id: str, resp: str) -> Any:
    now = sim.clock.now_ms()
    held = reserve_orders(sim, len(legs), now)
    try:
        lst, orders = sim.engine.place_list(kind, legs, list_client_id, now)
    except ApiError:
        for r in held:
            sim.orders.release(r)
        raise
    return render_list(lst, [render_new(o, resp, now) for o in orders])


def new_oco(sim: Sim, params: Params) -> Any:
    """`POST /api/v3/orderList/oco`."""
    symbol = symbol_state(sim, params)
    _allowed(sim, symbol, "ocoAllowed", "OCO")
    side = parse_side(params, "side")
    qty = _quantity(params, "quantity")
    above_type = params.str_req("aboveType").upper()
    below_type = params.str_req("belowType").upper()
    orderlists.check_oco_types(side, above_type, below_type)
    stp, resp = parse_stp(params), parse_resp_type(params, "FULL")
    legs = [parse_order(sim, params, symbol, side, t, qty, None, stp, Names(prefix))
            for prefix, t in (("above", above_type), ("below", below_type))]
    return _place(sim, "OCO", legs, _list_client_id(params), resp)


def _working(sim: Sim, params: Params, symbol: str, stp: str) -> NewOrder:
    working_type = params.str_req("workingType").upper()
    orderlists.check_working_type(working_type)
    side = parse_side(params, "workingSide")
    qty = _quantity(params, "workingQuantity")
    return parse_order(sim, params, symbol, side, working_type, qty, None, stp, Names("working"))


def new_oto(sim: Sim, params: Params) -> Any:
    """`POST /api/v3/orderList/oto`."""
    symbol = symbol_state(sim, params)
    _allowed(sim, symbol, "otoAllowed", "OTO")
    stp, resp = parse_stp(params), parse_resp_type(params, "FULL")
    working = _working(sim, params, symbol, stp)
    pending_type = params.str_req("pendingType").upper()
    if pending_type not in ORDER_TYPES:
        raise errors.ApiError(-1116, "Invalid orderType.")
    side = parse_side(params, "pendingSide")
    qty = _quantity(params, "pendingQuantity")
    pending = parse_order(sim, params, symbol, side, pending_type, qty, None, stp, Names("pending"))
    return _place(sim, "OTO", [working, pending], _list_client_id(params), resp)


def new_otoco(sim: Sim, params: Params) -> Any:
    """`POST /api/v3/orderList/otoco`."""
    symbol = symbol_state(sim, params)
    _allowed(sim, symbol, "otoAllowed", "OTO")
    stp, resp = parse_stp(params), parse_resp_type(params, "FULL")
    working = _working(sim, params, symbol, stp)
    side = parse_side(params, "pendingSide")
    qty = _quantity(params, "pendingQuantity")
    above_type = params.str_req("pendingAboveType").upper()
    below_type = params.str_req("pendingBelowType").upper()
    orderlists.check_oco_types(side, above_type, below_type)
    legs = [parse_order(sim, params, symbol, side, t, qty, None, stp, Names(prefix))
            for prefix, t in (("pendingAbove", above_type), ("pendingBelow", below_type))]
    return _place(sim, "OTOCO", [working, *legs], _list_client_id(params), resp)


# ------------------------------------------------------------------ list queries and cancel


def _list_ref(params: Params, client_name: str) -> tuple[int | None, str | None]:
    list_id = params.int_opt("orderListId")
    client = _client_id(params, client_name, -1119, "Original client order ID was empty.")
    if list_id is None and client is None:
        raise errors.mandatory_either("orderListId", client_name)
    return list_id, client


def _found(sim: Sim, list_id: int | None, client: str | None) -> OrderList | None:
    lst = sim.engine.find_list(list_id, client if list_id is None else None)
    if lst is not None and list_id is not None and client is not None \
            and lst.list_client_order_id != client:
        return None
    return lst


def cancel_order_list(sim: Sim, params: Params) -> Any:
    """`DELETE /api/v3/orderList`: cancels every open order of the list."""
    symbol = symbol_state(sim, params)
    list_id, client = _list_ref(params, "listClientOrderId")
    cancel_id = _client_id(params, "newClientOrderId", -1118, "New client order ID was empty.") \
        or new_client_order_id()
    lst = _found(sim, list_id, client)
    if lst is None or lst.symbol != symbol or not lst.is_open:
        raise errors.ApiError(-2011, UNKNOWN_LIST)
    now = sim.clock.now_ms()
    canceled = sim.engine.cancel_list(lst, now, cancel_id)
    return render_list(lst, [render_cancel(o, cancel_id, now) for o in canceled], now)


def query_order_list(sim: Sim, params: Params) -> Any:
    """`GET /api/v3/orderList` (no symbol: list ids are account-wide)."""
    list_id, client = _list_ref(params, "origClientOrderId")
    lst = _found(sim, list_id, client)
    if lst is None:
        raise errors.ApiError(-2018, "Order list does not exist.")
    return render_list(lst)


def all_order_lists(sim: Sim, params: Params) -> Any:
    """`GET /api/v3/allOrderList`: newest first, as in Binance's example."""
    start, end = _window(params)
    from_id = params.int_opt("fromId")
    if from_id is not None and (start is not None or end is not None):
        raise errors.ApiError(-1128, "Combination of optional parameters invalid.")
    limit = limit_param(params, 500, 1000)
    rows = list(sim.engine.lists.values())
    if from_id is not None:
        picked = [lst for lst in rows if lst.order_list_id >= from_id][:limit]
    else:
        picked = _select(rows, lambda lst: lst.transaction_time, start, end, limit)
    return [render_list(lst) for lst in reversed(picked)]


def open_order_lists(sim: Sim, params: Params) -> Any:
    """`GET /api/v3/openOrderList`: every executing list, all symbols."""
    return [render_list(lst) for lst in sim.engine.open_lists()]


def cancel_open_orders(sim: Sim, params: Params) -> Any:
    """`DELETE /api/v3/openOrders`: every open order of the symbol; an order list's orders are
    canceled with their list and answered as one list entry with its `orderReports`."""
    symbol = symbol_state(sim, params)
    orders = sim.engine.open_orders(symbol)
    if not orders:
        raise errors.ApiError(-2011, "Unknown order sent.")
    cancel_id = new_client_order_id()
    now = sim.clock.now_ms()
    out: list[dict[str, Any]] = []
    for order in orders:
        if not order.is_open:
            continue  # canceled with its list already
        lst = sim.engine.list_of(order)
        if lst is not None:
            canceled = sim.engine.cancel_list(lst, now, cancel_id)
            out.append(render_list(lst, [render_cancel(o, cancel_id, now) for o in canceled], now))
        else:
            sim.engine.cancel(order, now, cancel_id)
            out.append(render_cancel(order, cancel_id, now))
    return out


# ------------------------------------------------------------------ cancel-replace


class CancelReplaceFailed(ApiError):
    """-2021 / -2022 with the outcome of both halves in `data` (rule 2)."""

    def __init__(self, code: int, status: int, data: dict[str, Any]) -> None:
        msg = ("Order cancel-replace partially failed." if code == -2021
               else "Order cancel-replace failed.")
        super().__init__(code, msg, status)
        self.data = data

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "msg": self.msg, "data": self.data}


def _cancel_target(sim: Sim, symbol: str, params: Params) -> tuple[Order | None, ApiError | None]:
    order_id = params.int_opt("cancelOrderId")
    client = _client_id(params, "cancelOrigClientOrderId", -1119, "Original client order ID was empty.")
    if order_id is None and client is None:
        raise errors.mandatory_either("cancelOrderId", "cancelOrigClientOrderId")
    order = sim.engine.find(symbol, order_id, client if order_id is None else None)
    unknown = errors.ApiError(-2011, "Unknown order sent.")
    if order is None or not order.is_open:
        return None, unknown
    if order_id is not None and client is not None and order.client_order_id != client:
        return None, unknown
    return order, None


def cancel_replace(sim: Sim, params: Params) -> Any:
    """`POST /api/v3/order/cancelReplace` (rule 2)."""
    symbol = symbol_state(sim, params)
    if not sim.market.symbols[symbol].spec.exchange_info()["cancelReplaceAllowed"]:
        raise errors.order_rejected("Order cancel-replace is not supported for this symbol.")
    mode = params.str_req("cancelReplaceMode").upper()
    if mode not in ("STOP_ON_FAILURE", "ALLOW_FAILURE"):
        raise errors.invalid_param("cancelReplaceMode")
    limit_mode = (params.str_opt("orderRateLimitExceededMode") or "DO_NOTHING").upper()
    if limit_mode not in ("DO_NOTHING", "CANCEL_ONLY"):
        raise errors.invalid_param("orderRateLimitExceededMode")
    req, resp = parse_new_order(sim, params)
    restriction = cancel_restriction(params)
    cancel_id = _client_id(params, "cancelNewClientOrderId", -1118, "New client order ID was empty.") \
        or new_client_order_id()
    target, cancel_error = _cancel_target(sim, symbol, params)
    now = sim.clock.now_ms()
    sim.engine.check_order_filters(req, now, [o for o in sim.engine.open_orders(symbol) if o is not target])
    try:
        sim.orders.reserve(now)  # counts even if the new order is never attempted
        exceeded: ApiError | None = None
    except ApiError as err:
        if limit_mode == "DO_NOTHING":
            raise
        exceeded = err
    if target is not None and restriction is not None and (
        (restriction == "ONLY_NEW" and target.status != "NEW")
        or (restriction == "ONLY_PARTIALLY_FILLED" and target.status != "PARTIALLY_FILLED")
    ):
        target, cancel_error = None, errors.ApiError(-2011, "Order was not canceled due to cancel restrictions.")
    canceled = None
    if target is not None:
        sim.engine.cancel(target, now, cancel_id)
        canceled = render_cancel(target, cancel_id, now)
    new_body: dict[str, Any] | None = None
    new_error: ApiError | None = exceeded
    attempted = exceeded is None and not (cancel_error is not None and mode == "STOP_ON_FAILURE")
    if attempted:
        try:
            new_body = render_new(sim.engine.place(req, now), resp, now)
        except ApiError as err:
            new_error = err
    return _outcome(canceled, cancel_error, new_body, new_error, attempted or exceeded is not None,
                    exceeded is not None)


def _outcome(canceled: dict[str, Any] | None, cancel_error: ApiError | None,
             new_body: dict[str, Any] | None, new_error: ApiError | None, attempted: bool,
             exceeded: bool) -> Any:
    data = {
        "cancelResult": "SUCCESS" if cancel_error is None else "FAILURE",
        "newOrderResult": "SUCCESS" if new_body is not None else
        "FAILURE" if attempted else "NOT_ATTEMPTED",
        "cancelResponse": canceled if cancel_error is None else cancel_error.body(),
        "newOrderResponse": new_body if new_body is not None else
        new_error.body() if new_error is not None else None,
    }
    failures = (cancel_error is not None) + (new_body is None)
    if failures == 0:
        return data
    code = -2021 if failures == 1 else -2022
    status = 429 if exceeded else 409 if failures == 1 else 400
    raise CancelReplaceFailed(code, status, data)


# ------------------------------------------------------------------ amend keep priority


def amend_keep_priority(sim: Sim, params: Params) -> Any:
    """`PUT /api/v3/order/amend/keepPriority`: reduce an open order's quantity in place."""
    symbol = symbol_state(sim, params)
    if not sim.market.symbols[symbol].spec.exchange_info()["amendAllowed"]:
        raise errors.ApiError(-2038, "Order amend is not supported for this symbol.")
    order_id, client = _ids(params)
    new_client = _client_id(params, "newClientOrderId", -1118, "New client order ID was empty.")
    new_qty = _quantity(params, "newQty")
    order = sim.engine.find(symbol, order_id, client if order_id is None else None)
    if order is None or (order_id is not None and client is not None
                         and order.client_order_id != client):
        raise errors.ApiError(-2038, "Unknown order sent.")
    new_client = new_client or new_client_order_id()
    sim.engine.check_amend(order, new_qty, new_client)
    before = order.client_order_id
    now = sim.clock.now_ms()
    exec_id = sim.engine.amend(order, new_qty, new_client, now)
    body: dict[str, Any] = {"transactTime": now, "executionId": exec_id,
                            "amendedOrder": _amended(order, before)}
    lst = sim.engine.lists.get(order.order_list_id) if order.order_list_id >= 0 else None
    if lst is not None:
        shown = render_list(lst)
        body["listStatus"] = {k: shown[k] for k in ("orderListId", "contingencyType", "listOrderStatus",
                                                    "listClientOrderId", "symbol", "orders")}
    return body


def _amended(order: Order, before: str) -> dict[str, Any]:
    """`amendedOrder`: the order after the amendment (its own field names: `qty`, `preventedQty`,
    `quoteOrderQty`, `cumulativeQuoteQty`)."""
    r = render_new(order, "RESULT", 0)
    out: dict[str, Any] = {
        "symbol": order.symbol, "orderId": order.order_id, "orderListId": order.order_list_id,
        "origClientOrderId": before, "clientOrderId": order.client_order_id,
        "price": r["price"], "qty": r["origQty"], "executedQty": r["executedQty"],
        "preventedQty": fmt8(order.prevented_qty), "quoteOrderQty": r["origQuoteOrderQty"],
        "cumulativeQuoteQty": r["cummulativeQuoteQty"], "status": order.status,
        "timeInForce": order.time_in_force, "type": order.type, "side": order.side,
    }
    if order.working_time >= 0:
        out["workingTime"] = order.working_time
    out["selfTradePreventionMode"] = order.stp_mode
    for key in ("stopPrice", "icebergQty", "trailingDelta", "trailingTime", "strategyId",
                "strategyType", "expiryReason"):
        if key in r:
            out[key] = r[key]
    return out


def order_amendments(sim: Sim, params: Params) -> Any:
    """`GET /api/v3/order/amendments`: every amendment of one order, oldest first."""
    symbol = symbol_state(sim, params)
    order_id = params.int_req("orderId")
    order = sim.engine.find(symbol, order_id, None)
    if order is None:
        raise errors.ApiError(-2013, "Order does not exist.")
    from_exec = params.int_opt("fromExecutionId")
    rows = [a for a in sim.engine.amendments.get(order_id, [])
            if from_exec is None or a["executionId"] >= from_exec]
    return rows[:limit_param(params, 500, 1000)]


# ------------------------------------------------------------------ the key's permissions


def api_restrictions(sim: Sim, params: Params) -> Any:
    """`GET /sapi/v1/account/apiRestrictions`: what the sandbox says the key may do."""
    return dict(sim.api_restrictions)
