"""Order tools, with the rails real money needs.

Order of checks in `place_order`, each refusing with an explanation before anything is sent:
1. trading enabled in configuration (and, on mainnet, explicitly confirmed) - dry runs excepted;
2. the operator's limits: allowed symbols, allowed order types, maximum notional per order;
3. the type's required and forbidden parameters;
4. the symbol's filters, exactly, with Decimal (tick, step, min/max, notional, percent price, max
   orders), each failure with the nearest valid value.
Then idempotency: every order has a client order id (generated when absent). A caller-supplied id
that already exists on the exchange is reported, never placed again. When the exchange's answer is
lost (timeout, 5xx, -1007) the order is looked up by its client order id before anything is
reported, and the result says plainly whether it exists. Nothing mutating is retried blindly.
Every mutating call leaves an audit line: what was asked, what was sent, what came back.
"""

from __future__ import annotations

import asyncio
import secrets
import string
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from contracts.binance.v1 import common_pb2, trading_pb2
from provider.binance.environment import EnvironmentKind
from provider.binance.rules import SymbolRules, fmt_decimal
from provider.catalog.descriptors import enum_wire
from provider.catalog.jsonmap import to_json
from provider.errors import (
    ExecutionUnknown,
    FilterViolation,
    InvalidArgument,
    NotFound,
    ProviderError,
    TradingDisabled,
)
from provider.services.common import check_window, freshness, optional, rules_for
from provider.services.orders import SIDES, TIFS, TYPES, order_from_json
from provider.services.registry import tool

if TYPE_CHECKING:
    from provider.app import App

_RESP = enum_wire(common_pb2.OrderResponseType.DESCRIPTOR)

#: parameters each type needs, and which it may carry (spec §3.1).
REQUIRED = {
    "LIMIT": {"quantity", "price"},
    "MARKET": set(),  # quantity or quote_order_qty, checked apart
    "LIMIT_MAKER": {"quantity", "price"},
    "STOP_LOSS": {"quantity", "stop_price"},
    "STOP_LOSS_LIMIT": {"quantity", "price", "stop_price"},
    "TAKE_PROFIT": {"quantity", "stop_price"},
    "TAKE_PROFIT_LIMIT": {"quantity", "price", "stop_price"},
}
ALLOWED = {
    "LIMIT": {"quantity", "price", "time_in_force"},
    "MARKET": {"quantity", "quote_order_qty"},
    "LIMIT_MAKER": {"quantity", "price"},
    "STOP_LOSS": {"quantity", "stop_price"},
    "STOP_LOSS_LIMIT": {"quantity", "price", "stop_price", "time_in_force"},
    "TAKE_PROFIT": {"quantity", "stop_price"},
    "TAKE_PROFIT_LIMIT": {"quantity", "price", "stop_price", "time_in_force"},
}
RECONCILE_ATTEMPTS = 4
RECONCILE_DELAY_S = 0.5
_ID_ALPHABET = string.ascii_letters + string.digits


def new_client_order_id() -> str:
    return "mcp-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(20))


def require_trading(app: App, *, dry_run: bool = False) -> None:
    limits = app.settings.trading
    if dry_run:
        return
    if not limits.enabled:
        raise TradingDisabled(
            "trading is disabled in this provider's configuration",
            hint="Set BINANCE_TRADING_ENABLED=true in the provider's environment (or .env) and restart it. "
            "validate_only=true dry runs work without it.",
        )
    if app.settings.environment.kind is EnvironmentKind.MAINNET and not limits.mainnet_confirmed:
        raise TradingDisabled(
            "trading on mainnet (real money) needs an explicit confirmation",
            hint="Set BINANCE_MAINNET_TRADING=true as well as BINANCE_TRADING_ENABLED=true, and restart.",
        )


def _given(req: trading_pb2.PlaceOrderRequest) -> set[str]:
    return {f for f in ("quantity", "quote_order_qty", "price", "stop_price", "time_in_force") if req.HasField(f)}


def check_shape(order_type: str, req: trading_pb2.PlaceOrderRequest) -> None:
    given = _given(req)
    missing = REQUIRED[order_type] - given
    if missing:
        raise InvalidArgument(
            f"{order_type} orders need {', '.join(sorted(REQUIRED[order_type]))}; missing {', '.join(sorted(missing))}"
        )
    extra = given - ALLOWED[order_type]
    if extra:
        raise InvalidArgument(
            f"{order_type} orders do not take {', '.join(sorted(extra))}; "
            f"allowed: {', '.join(sorted(ALLOWED[order_type]))}"
        )
    if order_type == "MARKET" and len(given & {"quantity", "quote_order_qty"}) != 1:
        raise InvalidArgument("MARKET orders need exactly one of quantity (base) or quote_order_qty (quote)")
    for name in ("quantity", "quote_order_qty", "price", "stop_price"):
        if name in given and Decimal(getattr(req, name)) <= 0:
            raise InvalidArgument(f"{name} must be greater than zero; got {getattr(req, name)}")


def check_limits(app: App, rules: SymbolRules, order_type: str, notional: Decimal | None) -> None:
    limits = app.settings.trading
    if limits.allowed_symbols and rules.symbol not in limits.allowed_symbols:
        raise TradingDisabled(
            f"{rules.symbol} is not among the symbols this provider may trade: "
            f"{', '.join(sorted(limits.allowed_symbols))}",
            hint="The operator limits tradable symbols with BINANCE_ALLOWED_SYMBOLS.",
        )
    if limits.allowed_order_types and order_type not in limits.allowed_order_types:
        raise TradingDisabled(
            f"{order_type} orders are not allowed here; allowed: {', '.join(sorted(limits.allowed_order_types))}",
            hint="The operator limits order types with BINANCE_ALLOWED_ORDER_TYPES.",
        )
    if limits.max_order_notional is not None and notional is not None and notional > limits.max_order_notional:
        raise TradingDisabled(
            f"order value {fmt_decimal(notional)} {rules.quote_asset} exceeds this provider's maximum of "
            f"{fmt_decimal(limits.max_order_notional)} per order",
            hint="Place a smaller order; the operator sets the cap with BINANCE_MAX_ORDER_NOTIONAL.",
        )


def build_params(
    rules: SymbolRules, side: str, order_type: str, req: trading_pb2.PlaceOrderRequest, client_order_id: str
) -> dict[str, str]:
    params = {"symbol": rules.symbol, "side": side, "type": order_type}
    if "time_in_force" in ALLOWED[order_type]:
        params["timeInForce"] = TIFS.by_number[req.time_in_force] if req.HasField("time_in_force") else "GTC"
    for name, wire in (
        ("quantity", "quantity"),
        ("quote_order_qty", "quoteOrderQty"),
        ("price", "price"),
        ("stop_price", "stopPrice"),
    ):
        if req.HasField(name):
            params[wire] = getattr(req, name)
    params["newClientOrderId"] = client_order_id
    if req.HasField("response_type"):
        params["newOrderRespType"] = _RESP.by_number[req.response_type]
    return params


async def check_filters(
    app: App, rules: SymbolRules, side: str, order_type: str, req: trading_pb2.PlaceOrderRequest
) -> Decimal | None:
    """Runs every filter check; returns the order's estimated notional (for the operator's cap)."""

    def dec(name: str) -> Decimal | None:
        return Decimal(getattr(req, name)) if req.HasField(name) else None

    avg = (await app.client.avg_price(rules.symbol)).data
    ref_price = Decimal(avg["price"])
    open_orders = None
    if rules.max_num_orders is not None:
        open_orders = len((await app.client.open_orders(rules.symbol)).data)
    violations = rules.validate_order(
        side=side,
        order_type=order_type,
        quantity=dec("quantity"),
        price=dec("price"),
        stop_price=dec("stop_price"),
        quote_order_qty=dec("quote_order_qty"),
        ref_price=ref_price,
        open_orders=open_orders,
    )
    if violations:
        raise FilterViolation(
            "; ".join(v.message for v in violations),
            violations=tuple(v.to_dict() for v in violations),
        )
    quantity, price, quote = dec("quantity"), dec("price"), dec("quote_order_qty")
    if quote is not None:
        return quote
    if quantity is not None:
        return quantity * (price if price is not None else ref_price)
    return None


def expiry_note(order: trading_pb2.Order) -> str:
    if order.status == "EXPIRED" and order.expiry_reason == "INSUFFICIENT_LIQUIDITY":
        return (
            "The order expired: the book did not hold enough liquidity to fill it; the filled part "
            f"({order.executed_qty}) stands. Use a LIMIT order or a smaller size."
        )
    if order.status == "EXPIRED":
        kind = (
            "IOC/FOK"
            if order.time_in_force in (common_pb2.TIME_IN_FORCE_IOC, common_pb2.TIME_IN_FORCE_FOK)
            else "MARKET"
        )
        return (
            f"The order expired ({order.expiry_reason or 'no reason given'}): a {kind} order's unfilled part "
            f"is not kept; executed {order.executed_qty} of {order.orig_qty}."
        )
    return ""


async def find_order(app: App, symbol: str, client_order_id: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = (await app.client.get_order(symbol, orig_client_order_id=client_order_id)).data
    except NotFound:
        return None
    return found


async def reconcile(app: App, symbol: str, client_order_id: str, cause: ProviderError) -> dict[str, Any] | None:
    """After a lost answer: looks the order up by client order id a few times before concluding."""
    for attempt in range(RECONCILE_ATTEMPTS):
        try:
            found = await find_order(app, symbol, client_order_id)
        except ProviderError as err:
            if attempt == RECONCILE_ATTEMPTS - 1:
                raise ExecutionUnknown(
                    f"the order's outcome is unknown ({cause.message}) and looking it up failed ({err.message}); "
                    f"client_order_id={client_order_id}",
                    hint=f"Query it with binance.get_order(symbol={symbol}, client_order_id={client_order_id}) "
                    "before placing anything again.",
                ) from err
            found = None
        if found is not None:
            return found
        await asyncio.sleep(RECONCILE_DELAY_S * (attempt + 1))
    return None


@tool("binance.place_order")
async def place_order(app: App, req: trading_pb2.PlaceOrderRequest) -> trading_pb2.PlaceOrderResponse:
    require_trading(app, dry_run=req.validate_only)
    side, order_type = SIDES.by_number[req.side], TYPES.by_number[req.type]
    rules = await rules_for(app, req.symbol)
    check_shape(order_type, req)
    check_limits(app, rules, order_type, None)
    notional = await check_filters(app, rules, side, order_type, req)
    check_limits(app, rules, order_type, notional)
    client_order_id = req.client_order_id if req.HasField("client_order_id") else new_client_order_id()
    params = build_params(rules, side, order_type, req, client_order_id)
    asked = to_json(req)

    if req.validate_only:
        test = (await app.client.test_order(params, compute_commission_rates=True)).data
        rates = test.get("standardCommissionForOrder", {})
        await app.audit.record("place_order.validate", asked=asked, sent=params, received=test)
        return trading_pb2.PlaceOrderResponse(
            outcome=trading_pb2.PLACE_OUTCOME_VALIDATED,
            order_exists=False,
            client_order_id=client_order_id,
            sent=params,
            commission_maker=rates.get("maker", ""),
            commission_taker=rates.get("taker", ""),
            note="Dry run: every filter passed and the exchange's test endpoint accepted the order; "
            "nothing was placed.",
            freshness=freshness(app, None),
        )

    if req.HasField("client_order_id"):
        existing = await find_order(app, rules.symbol, client_order_id)
        if existing is not None:
            order = order_from_json(existing)
            await app.audit.record("place_order.duplicate_refused", asked=asked, existing=existing)
            return trading_pb2.PlaceOrderResponse(
                outcome=trading_pb2.PLACE_OUTCOME_RECONCILED_EXISTS,
                order_exists=True,
                client_order_id=client_order_id,
                order=order,
                sent={},
                note=f"An order with client_order_id {client_order_id} already exists ({order.status}); "
                "it was not placed again.",
                freshness=freshness(app, None),
            )

    await app.audit.record("place_order.send", asked=asked, sent=params)
    try:
        placed = (await app.client.new_order(params)).data
    except ExecutionUnknown as lost:
        found = await reconcile(app, rules.symbol, client_order_id, lost)
        await app.audit.record(
            "place_order.reconciled", client_order_id=client_order_id, cause=lost.message, found=found
        )
        if found is None:
            return trading_pb2.PlaceOrderResponse(
                outcome=trading_pb2.PLACE_OUTCOME_RECONCILED_ABSENT,
                order_exists=False,
                client_order_id=client_order_id,
                sent=params,
                note=f"The exchange's answer was lost ({lost.message}); the order was looked up "
                f"{RECONCILE_ATTEMPTS} times by client_order_id {client_order_id} and does not exist. "
                "Placing it again with the same client_order_id is safe.",
                freshness=freshness(app, None),
            )
        order = order_from_json(found)
        return trading_pb2.PlaceOrderResponse(
            outcome=trading_pb2.PLACE_OUTCOME_RECONCILED_EXISTS,
            order_exists=True,
            client_order_id=client_order_id,
            order=order,
            sent=params,
            note=f"The exchange's answer was lost ({lost.message}), but the order exists ({order.status}); "
            "do not place it again. " + expiry_note(order),
            freshness=freshness(app, None),
        )
    except ProviderError as err:
        await app.audit.record(
            "place_order.rejected", client_order_id=client_order_id, error=err.to_details(), message=err.message
        )
        raise
    await app.audit.record("place_order.placed", client_order_id=client_order_id, received=placed)
    if "status" not in placed:  # an ACK answer: fetch the order's state so the result is complete
        placed = {**(await app.client.get_order(rules.symbol, orig_client_order_id=client_order_id)).data, **placed}
    order = order_from_json(placed)
    return trading_pb2.PlaceOrderResponse(
        outcome=trading_pb2.PLACE_OUTCOME_PLACED,
        order_exists=True,
        client_order_id=client_order_id,
        order=order,
        sent=params,
        note=expiry_note(order),
        freshness=freshness(app, placed.get("transactTime")),
    )


def order_ref(req: trading_pb2.CancelOrderRequest | trading_pb2.GetOrderRequest) -> dict[str, Any]:
    if req.HasField("order_id"):
        return {"order_id": req.order_id, "orig_client_order_id": req.client_order_id or None}
    if req.HasField("client_order_id"):
        return {"orig_client_order_id": req.client_order_id}
    raise InvalidArgument("give order_id or client_order_id")


@tool("binance.cancel_order")
async def cancel_order(app: App, req: trading_pb2.CancelOrderRequest) -> trading_pb2.CancelOrderResponse:
    require_trading(app)
    rules = await rules_for(app, req.symbol)
    ref = order_ref(req)
    await app.audit.record("cancel_order.send", asked=to_json(req), sent={"symbol": rules.symbol, **ref})
    try:
        canceled = (await app.client.cancel_order(rules.symbol, **ref)).data
    except ProviderError as err:
        await app.audit.record("cancel_order.failed", error=err.to_details(), message=err.message)
        raise
    await app.audit.record("cancel_order.done", received=canceled)
    order = order_from_json({**canceled, "clientOrderId": canceled.get("origClientOrderId", "")})
    return trading_pb2.CancelOrderResponse(order=order, freshness=freshness(app, canceled.get("transactTime")))


@tool("binance.get_order")
async def get_order(app: App, req: trading_pb2.GetOrderRequest) -> trading_pb2.GetOrderResponse:
    rules = await rules_for(app, req.symbol)
    found = (await app.client.get_order(rules.symbol, **order_ref(req))).data
    return trading_pb2.GetOrderResponse(order=order_from_json(found), freshness=freshness(app, None))


@tool("binance.get_open_orders")
async def get_open_orders(app: App, req: trading_pb2.GetOpenOrdersRequest) -> trading_pb2.GetOpenOrdersResponse:
    symbol = (await rules_for(app, req.symbol)).symbol if req.HasField("symbol") else None
    raw = (await app.client.open_orders(symbol)).data
    return trading_pb2.GetOpenOrdersResponse(orders=[order_from_json(o) for o in raw], freshness=freshness(app, None))


@tool("binance.get_all_orders")
async def get_all_orders(app: App, req: trading_pb2.GetAllOrdersRequest) -> trading_pb2.GetAllOrdersResponse:
    rules = await rules_for(app, req.symbol)
    start, end = optional(req, "start_time_ms"), optional(req, "end_time_ms")
    check_window(start, end)
    raw = (
        await app.client.all_orders(
            rules.symbol,
            order_id=optional(req, "order_id"),
            start_time=start,
            end_time=end,
            limit=req.limit,
        )
    ).data
    return trading_pb2.GetAllOrdersResponse(orders=[order_from_json(o) for o in raw], freshness=freshness(app, None))
