"""Order tools, with the rails real money needs.

`place_order`, in order, each step refusing with an explanation before anything is sent:
1. trading enabled in configuration (and, on mainnet, explicitly confirmed) - dry runs excepted;
2. the type's required and forbidden parameters (`provider/trading/plan.py`);
3. the operator's allowed symbols and order types;
4. the symbol's filters, exactly, with Decimal, against the reference each filter uses now (the
   symbol's reference price, else the VWAP over the filter's own avgPriceMins, else the last price),
   each failure with the nearest valid value;
5. the operator's cap on the order's worst-case value, in one asset (`BINANCE_CAP_ASSET`).
Then, under the client order id's lock (`provider/trading/ledger.py`): an id that already has an
order is never placed again; the order is sent once; a lost answer is settled by the placement
state machine (`provider/trading/placement.py`): looked up by client order id until found, or until
the exchange can no longer execute the request (then "absent" is final), or until the call's budget
ends (then UNKNOWN, with the time it will be known). The client order id is in every answer, error
and audit line. Nothing mutating is retried blindly.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import structlog

from contracts.binance.v1 import common_pb2, trading_pb2
from provider.account.state import OPEN_STATUSES
from provider.binance.client import new_client_order_id
from provider.binance.environment import EnvironmentKind
from provider.binance.rules import STOP_TYPES, SymbolRules, fmt_decimal
from provider.catalog.descriptors import enum_wire
from provider.catalog.jsonmap import to_json
from provider.errors import (
    ExecutionUnknown,
    FilterViolation,
    InvalidArgument,
    NotFound,
    ProviderError,
    TradingDisabled,
    UnexpectedResponse,
)
from provider.services.account import stream_freshness
from provider.services.common import check_window, freshness, optional, rules_for
from provider.services.orders import SIDES, TIFS, TYPES, order_from_json
from provider.services.registry import tool
from provider.trading import plan
from provider.trading.ledger import LockTimeout
from provider.trading.placement import Placement, State, Trigger

if TYPE_CHECKING:
    from provider.app import App

log = structlog.get_logger("provider.trading")

_RESP = enum_wire(common_pb2.OrderResponseType.DESCRIPTOR)

#: place_order's own budget: under its contract deadline (30 s), so every answer reaches the caller.
PLACE_BUDGET_S = 27.0
#: an order is sent only with this much budget left: the send (10 s transport timeout, 2 s weight
#: wait) and at least one lookup must fit, or the outcome could not be reported.
SEND_RESERVE_S = 14.0
_CLOCK_MARGIN_MS = 1000
_POLL_S = 0.5


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


def intent_from(req: trading_pb2.PlaceOrderRequest, symbol: str) -> plan.OrderIntent:
    """The request as an :class:`~provider.trading.plan.OrderIntent` (a client order id generated when absent)."""
    return plan.OrderIntent(
        symbol=symbol,
        side=SIDES.by_number[req.side],
        order_type=TYPES.by_number[req.type],
        client_order_id=req.client_order_id if req.HasField("client_order_id") else new_client_order_id(),
        quantity=optional(req, "quantity"),
        quote_order_qty=optional(req, "quote_order_qty"),
        price=optional(req, "price"),
        stop_price=optional(req, "stop_price"),
        time_in_force=TIFS.by_number[req.time_in_force] if req.HasField("time_in_force") else None,
        response_type=_RESP.by_number[req.response_type] if req.HasField("response_type") else None,
    )


# -- filters --------------------------------------------------------------------------------


async def reference_price(app: App, symbol: str) -> Decimal | None:
    """The symbol's reference price (``GET /api/v3/referencePrice``), None when it has none.

    An exchange that does not serve the endpoint (HTTP 404) has no reference prices.
    """
    try:
        raw = (await app.client.reference_price(symbol)).data
    except UnexpectedResponse as exc:
        if "HTTP 404" not in exc.message:
            raise
        return None
    value = raw.get("referencePrice") if isinstance(raw, dict) else None
    return Decimal(str(value)) if value not in (None, "") else None


async def window_price(app: App, symbol: str, minutes: int) -> Decimal:
    """The price a filter with ``avgPriceMins = minutes`` uses when there is no reference price:
    the last price for 0, else the volume-weighted average over that many minutes."""
    if minutes == 0:
        return Decimal((await app.client.ticker_price(symbol)).data["price"])
    avg = (await app.client.avg_price(symbol)).data
    if int(avg.get("mins", 0)) == minutes:
        return Decimal(avg["price"])
    candles = (await app.client.klines(symbol, "1m", limit=min(minutes, 1000))).data
    volume = sum((Decimal(c[5]) for c in candles), Decimal(0))
    quote = sum((Decimal(c[7]) for c in candles), Decimal(0))
    return quote / volume if volume > 0 else Decimal(avg["price"])


async def filter_prices(app: App, rules: SymbolRules) -> dict[str, Decimal]:
    """The reference price of each price-dependent filter, as Binance applies them since 2026-05-08."""
    filters = [f for f in (rules.notional, rules.percent_price) if f is not None]
    if not filters:
        return {}
    ref = await reference_price(app, rules.symbol)
    if ref is not None:
        return {f.filter_type: ref for f in filters}
    by_minutes: dict[int, Decimal] = {}
    for f in filters:
        if f.avg_price_mins not in by_minutes:
            by_minutes[f.avg_price_mins] = await window_price(app, rules.symbol, f.avg_price_mins)
    return {f.filter_type: by_minutes[f.avg_price_mins] for f in filters}


async def check_filters(app: App, rules: SymbolRules, intent: plan.OrderIntent) -> None:
    """Runs every filter check the exchange would; raises FilterViolation with the nearest valid values."""
    open_orders = open_algo = None
    position = None
    if rules.max_num_orders or rules.max_num_algo_orders or (rules.max_position and intent.side == "BUY"):
        raw = (await app.client.open_orders(rules.symbol)).data
        open_orders = len(raw)
        open_algo = sum(1 for o in raw if o.get("type") in STOP_TYPES)
        if rules.max_position is not None and intent.side == "BUY":
            position = await _position(app, rules, raw)
    violations = rules.validate_order(
        side=intent.side,
        order_type=intent.order_type,
        quantity=intent.dec("quantity"),
        price=intent.dec("price"),
        stop_price=intent.dec("stop_price"),
        quote_order_qty=intent.dec("quote_order_qty"),
        ref_prices=await filter_prices(app, rules),
        open_orders=open_orders,
        open_algo_orders=open_algo,
        position=position,
    )
    if violations:
        raise FilterViolation(
            "; ".join(v.message for v in violations), violations=tuple(v.to_dict() for v in violations)
        )


async def _position(app: App, rules: SymbolRules, open_orders: list[dict[str, Any]]) -> Decimal:
    """MAX_POSITION's measure: free + locked base asset plus what open BUY orders still buy."""
    balances = (await app.client.account()).data.get("balances", [])
    held = sum(
        (Decimal(b["free"]) + Decimal(b["locked"]) for b in balances if b.get("asset") == rules.base_asset),
        Decimal(0),
    )
    buying = sum(
        (Decimal(o["origQty"]) - Decimal(o["executedQty"]) for o in open_orders if o.get("side") == "BUY"),
        Decimal(0),
    )
    return held + buying


# -- the cap ------------------------------------------------------------------------------------


async def _market_view(app: App, rules: SymbolRules, needs: plan.Needs) -> plan.MarketView:
    if not (needs.best_bid or needs.asks):
        return plan.MarketView()
    depth = (await app.client.depth(rules.symbol, 100)).data
    bids = depth.get("bids") or []
    asks = [(Decimal(p), Decimal(q)) for p, q in depth.get("asks") or []]
    return plan.MarketView(best_bid=Decimal(bids[0][0]) if bids else None, asks=asks)


async def _conversion_book(app: App, quote_asset: str, cap_asset: str) -> dict[str, tuple[Decimal, Decimal]]:
    """Best (bid, ask) of the markets that convert ``quote_asset`` into ``cap_asset``."""
    if quote_asset == cap_asset:
        return {}
    listed = await app.client.exchange_rules()
    book: dict[str, tuple[Decimal, Decimal]] = {}
    for symbol in (quote_asset + cap_asset, cap_asset + quote_asset):
        if symbol in listed:
            t = (await app.client.book_ticker(symbol)).data
            book[symbol] = (Decimal(t.get("bidPrice") or "0"), Decimal(t.get("askPrice") or "0"))
    return book


async def check_cap(app: App, rules: SymbolRules, intent: plan.OrderIntent) -> Decimal | None:
    """Refuses an order whose worst case exceeds the operator's cap; returns it in the cap asset."""
    limits = app.settings.trading
    if limits.max_order_notional is None:
        return None
    notional = plan.worst_case_notional(intent, await _market_view(app, rules, plan.needs(intent)))
    book = await _conversion_book(app, rules.quote_asset, limits.cap_asset)
    value, rate = plan.to_cap_asset(notional, rules.quote_asset, limits.cap_asset, book)
    how = f"worst case {fmt_decimal(notional)} {rules.quote_asset}"
    if rules.quote_asset != limits.cap_asset:
        how += f" at {rate.source}"
    plan.check_cap(value, limits.max_order_notional, limits.cap_asset, how)
    return value


# -- placing ------------------------------------------------------------------------------------


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


async def settle(app: App, symbol: str, placement: Placement, deadline: float) -> dict[str, Any] | None:
    """Looks a placement whose answer was lost up by client order id until its outcome is final or
    the budget (``deadline``, monotonic) ends; returns the order when found."""
    while True:
        sent_at = app.client.server_now_ms()
        try:
            found = await asyncio.wait_for(
                find_order(app, symbol, placement.client_order_id), max(deadline - time.monotonic(), 0.05)
            )
        except (ProviderError, TimeoutError) as exc:
            log.info("reconcile_lookup_failed", client_order_id=placement.client_order_id, error=str(exc))
            placement.lookup_failed()
        else:
            placement.looked_up(found is not None, sent_at)
            if found is not None:
                return found
        if placement.final:
            return None
        wait_s = placement.next_lookup_in_ms(app.client.server_now_ms()) / 1000
        if time.monotonic() + wait_s >= deadline:
            return None
        streamed = await _stream_finds(app, symbol, placement.client_order_id, wait_s)
        if streamed is not None:  # an executionReport settles it at once; REST stays the fallback
            placement.looked_up(True, app.client.server_now_ms())
            return streamed


async def _stream_finds(app: App, symbol: str, client_order_id: str, wait_s: float) -> dict[str, Any] | None:
    """Waits up to ``wait_s`` for the live account to show the order; None when it does not (or is not live)."""
    stream = app.account
    if stream is None or not stream.state.live:
        await asyncio.sleep(wait_s)
        return None
    seen = await stream.wait_for(lambda st: st.order(symbol, client_order_id=client_order_id) is not None, wait_s)
    return stream.state.order(symbol, client_order_id=client_order_id) if seen else None


def _iso(ms: int | None) -> str:
    if not ms:
        return "an unknown time"
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class NotSentTooSlow(TradingDisabled):
    """Not sent: the call's remaining budget could not cover a send and the lookup after it."""

    retry_safe = True
    hint = "Nothing was sent; place the order again (the exchange is slow right now)."


class _Answer:
    """Builds the PlaceOrderResponse of one intent: the id, what was sent and the worst case, always."""

    def __init__(self, app: App, intent: plan.OrderIntent, worst: Decimal | None) -> None:
        self.app, self.intent, self.worst = app, intent, worst

    def __call__(self, outcome: int, *, order: dict[str, Any] | None = None, note: str = "",
                 sent: Mapping[str, str] | None = None, known_at_ms: int = 0) -> trading_pb2.PlaceOrderResponse:
        typed = order_from_json(order) if order is not None else None
        if typed is not None:
            note = " ".join(x for x in (note, expiry_note(typed)) if x)
        resp = trading_pb2.PlaceOrderResponse(
            outcome=outcome,  # type: ignore[arg-type]
            order_exists=typed is not None,
            client_order_id=self.intent.client_order_id,
            order=typed,
            sent=dict(sent or {}),
            note=note,
            known_at_ms=known_at_ms,
            freshness=freshness(self.app, order.get("transactTime") if order else None),
        )
        if self.worst is not None:
            resp.worst_case_notional = fmt_decimal(self.worst.quantize(Decimal("0.00000001")))
            resp.worst_case_asset = self.app.settings.trading.cap_asset
        return resp


def _with_id(err: ProviderError, client_order_id: str) -> ProviderError:
    """Adds the client order id to an error's message (so it reaches the caller whatever the path)."""
    if client_order_id not in err.message:
        err.message = f"{err.message} [client_order_id={client_order_id}]"
        err.args = (err.message,)
    return err


@tool("binance.place_order")
async def place_order(app: App, req: trading_pb2.PlaceOrderRequest) -> trading_pb2.PlaceOrderResponse:
    deadline = time.monotonic() + PLACE_BUDGET_S
    require_trading(app, dry_run=req.validate_only)
    rules = await rules_for(app, req.symbol)
    intent = intent_from(req, rules.symbol)
    try:
        plan.check_shape(intent)
        limits = app.settings.trading
        plan.check_allowed(rules.symbol, intent.order_type, limits.allowed_symbols, limits.allowed_order_types)
        await check_filters(app, rules, intent)
        answer = _Answer(app, intent, await check_cap(app, rules, intent))
        if req.validate_only:
            return await _validate(app, intent, answer, to_json(req))
        # A task of its own: a caller that gives up cannot cancel a placement halfway (see ledger.py).
        task = app.ledger.detach(_place_under_lock(app, rules, intent, answer, to_json(req), deadline))
        return await asyncio.shield(task)
    except ProviderError as err:
        raise _with_id(err, intent.client_order_id) from None


async def _validate(
    app: App, intent: plan.OrderIntent, answer: _Answer, asked: dict[str, Any]
) -> trading_pb2.PlaceOrderResponse:
    params = intent.params()
    test = (await app.client.test_order(params, compute_commission_rates=True)).data
    rates = test.get("standardCommissionForOrder", {})
    await app.audit.record("place_order.validate", client_order_id=intent.client_order_id, asked=asked,
                           sent=params, received=test)
    resp = answer(
        trading_pb2.PLACE_OUTCOME_VALIDATED,
        sent=params,
        note="Dry run: every filter passed and the exchange's test endpoint accepted the order; nothing was placed.",
    )
    resp.commission_maker, resp.commission_taker = rates.get("maker", ""), rates.get("taker", "")
    return resp


async def _place_under_lock(
    app: App, rules: SymbolRules, intent: plan.OrderIntent, answer: _Answer, asked: dict[str, Any], deadline: float
) -> trading_pb2.PlaceOrderResponse:
    cid = intent.client_order_id
    try:
        async with app.ledger.hold(cid, deadline - time.monotonic() - SEND_RESERVE_S / 2):
            return await _place_locked(app, rules, intent, answer, asked, deadline)
    except LockTimeout:
        await app.audit.record("place_order.busy", client_order_id=cid, asked=asked)
        return answer(
            trading_pb2.PLACE_OUTCOME_UNKNOWN,
            note=f"Another call with client_order_id {cid} is still running, so this one sent nothing; its "
            "outcome is not known yet. Look the order up by client_order_id, or call place_order again with "
            "the same client_order_id: it will not be placed twice.",
        )


async def _place_locked(
    app: App, rules: SymbolRules, intent: plan.OrderIntent, answer: _Answer, asked: dict[str, Any], deadline: float
) -> trading_pb2.PlaceOrderResponse:
    cid, symbol = intent.client_order_id, rules.symbol
    prior = app.ledger.recall(cid, app.client.server_now_ms())
    if prior is not None and prior.state is State.UNKNOWN:
        found = await settle(app, symbol, prior, deadline)
        if found is not None:
            return await _duplicate(app, answer, asked, found)
        if prior.state is State.UNKNOWN:
            return _unknown(answer, prior, "an earlier call's answer was lost")
    elif prior is not None or "client_order_id" in asked:  # a generated id is new; a caller's may be reused
        existing = await find_order(app, symbol, cid)
        if existing is not None:
            return await _duplicate(app, answer, asked, existing)
    if deadline - time.monotonic() < SEND_RESERVE_S:
        raise NotSentTooSlow(
            "not placed: the checks before sending took too long for the outcome to be reported within this "
            "call; nothing was sent"
        )
    return await _send(app, symbol, intent, answer, asked, deadline)


async def _duplicate(
    app: App, answer: _Answer, asked: dict[str, Any], existing: dict[str, Any]
) -> trading_pb2.PlaceOrderResponse:
    cid = answer.intent.client_order_id
    await app.audit.record("place_order.duplicate_refused", client_order_id=cid, asked=asked, existing=existing)
    return answer(
        trading_pb2.PLACE_OUTCOME_RECONCILED_EXISTS,
        order=existing,
        note=f"An order with client_order_id {cid} already exists ({existing.get('status', '?')}); "
        "it was not placed again.",
    )


def _unknown(answer: _Answer, placement: Placement, cause: str) -> trading_pb2.PlaceOrderResponse:
    cid = placement.client_order_id
    return answer(
        trading_pb2.PLACE_OUTCOME_UNKNOWN,
        sent=answer.intent.params(),
        known_at_ms=placement.known_at_ms or 0,
        note=f"Outcome unknown: {cause}. The order was looked up {placement.lookups} times by client_order_id "
        f"{cid} and is not there yet, but the exchange may still execute it until {_iso(placement.known_at_ms)}. "
        "Do not place it again before then. After that time look it up by client_order_id, or call place_order "
        "again with the same client_order_id: it looks the order up first and places it only if it is then "
        "definitely absent.",
    )


async def _send(
    app: App, symbol: str, intent: plan.OrderIntent, answer: _Answer, asked: dict[str, Any], deadline: float
) -> trading_pb2.PlaceOrderResponse:
    cid, params = intent.client_order_id, intent.params()
    placement = Placement(
        cid, recv_window_ms=app.client.config.recv_window_ms, margin_ms=_CLOCK_MARGIN_MS + app.client.clock_error_ms()
    )
    app.ledger.remember(placement, app.client.server_now_ms())
    await app.audit.record("place_order.send", client_order_id=cid, asked=asked, sent=params)
    try:
        placed = (await app.client.new_order(params)).data
    except ExecutionUnknown as lost:
        placement.answer_lost(lost.request_timestamp_ms or app.client.server_now_ms())
        found = await settle(app, symbol, placement, deadline)
        await app.audit.record("place_order.reconciled", client_order_id=cid, cause=lost.message,
                               state=placement.state.value, known_at_ms=placement.known_at_ms, found=found)
        if found is not None:
            return answer(
                trading_pb2.PLACE_OUTCOME_RECONCILED_EXISTS, order=found, sent=params,
                note=f"The exchange's answer was lost ({lost.message}), but the order exists "
                f"({found.get('status', '?')}); do not place it again.",
            )
        if placement.state is State.ABSENT:
            return answer(
                trading_pb2.PLACE_OUTCOME_RECONCILED_ABSENT, sent=params,
                note=f"The exchange's answer was lost ({lost.message}). The order was looked up by client_order_id "
                f"{cid} after {_iso(placement.known_at_ms)}, when the exchange could no longer execute the request, "
                "and it does not exist: it was not placed. Placing it again with the same client_order_id is safe.",
            )
        return _unknown(answer, placement, f"the exchange's answer was lost ({lost.message})")
    except ProviderError as err:
        placement.fire(Trigger.REJECTED)
        await app.audit.record("place_order.rejected", client_order_id=cid, error=err.to_details(),
                               message=err.message)
        raise
    placement.fire(Trigger.ACCEPTED)
    await app.audit.record("place_order.placed", client_order_id=cid, received=placed)
    if "status" not in placed:  # an ACK answer: fetch the order's state so the result is complete
        placed = {**(await app.client.get_order(symbol, orig_client_order_id=cid)).data, **placed}
    if app.account is not None:
        app.account.note_write(placed)
    return answer(trading_pb2.PLACE_OUTCOME_PLACED, order=placed, sent=params)


# -- other order tools ----------------------------------------------------------------------


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
    limits = app.settings.trading
    plan.check_allowed(rules.symbol, None, limits.allowed_symbols, frozenset())
    ref = order_ref(req)
    if limits.allowed_order_types:  # the order's own type must be one the agent may trade
        order_type = (await app.client.get_order(rules.symbol, **ref)).data.get("type")
        plan.check_allowed(rules.symbol, order_type, frozenset(), limits.allowed_order_types)
    await app.audit.record("cancel_order.send", asked=to_json(req), sent={"symbol": rules.symbol, **ref})
    try:
        canceled = (await app.client.cancel_order(rules.symbol, **ref)).data
    except ProviderError as err:
        await app.audit.record("cancel_order.failed", error=err.to_details(), message=err.message)
        raise
    await app.audit.record("cancel_order.done", received=canceled)
    if app.account is not None:
        app.account.note_write(canceled)
    order = order_from_json({**canceled, "clientOrderId": canceled.get("origClientOrderId", "")})
    return trading_pb2.CancelOrderResponse(order=order, freshness=freshness(app, canceled.get("transactTime")))


@tool("binance.get_order")
async def get_order(app: App, req: trading_pb2.GetOrderRequest) -> trading_pb2.GetOrderResponse:
    rules = await rules_for(app, req.symbol)
    ref = order_ref(req)
    found = (await app.client.get_order(rules.symbol, **ref)).data
    waited = ""
    if req.wait_ms:
        if found.get("status") not in OPEN_STATUSES:
            waited = "ALREADY_ENDED"
        else:
            waited = await wait_for_change(app, rules.symbol, found, req.wait_ms / 1000)
            if waited != "TIMEOUT":
                found = (await app.client.get_order(rules.symbol, **ref)).data
    return trading_pb2.GetOrderResponse(order=order_from_json(found), freshness=freshness(app, None), waited=waited)


async def wait_for_change(app: App, symbol: str, order: dict[str, Any], wait_s: float) -> str:
    """Waits until ``order`` ends (ENDED) or gets a fill (FILLED_MORE), at most ``wait_s``: from the
    live account when there is one, else by polling REST twice a second."""
    order_id, executed = int(order["orderId"]), Decimal(order.get("executedQty", "0"))

    def verdict(now: dict[str, Any] | None) -> str | None:
        if now is None:
            return None
        if now.get("status") not in OPEN_STATUSES:
            return "ENDED"
        return "FILLED_MORE" if Decimal(now.get("executedQty", "0")) > executed else None

    deadline = time.monotonic() + wait_s
    stream = app.account
    while (left := deadline - time.monotonic()) > 0:
        if stream is not None and stream.state.live:
            await stream.wait_for(lambda st: verdict(st.order(symbol, order_id=order_id)) is not None, left)
            seen = verdict(stream.state.order(symbol, order_id=order_id))
            if seen is not None:
                return seen
            continue
        await asyncio.sleep(min(_POLL_S, left))
        seen = verdict((await app.client.get_order(symbol, order_id=order_id)).data)
        if seen is not None:
            return seen
    return "TIMEOUT"


@tool("binance.get_open_orders")
async def get_open_orders(app: App, req: trading_pb2.GetOpenOrdersRequest) -> trading_pb2.GetOpenOrdersResponse:
    symbol = (await rules_for(app, req.symbol)).symbol if req.HasField("symbol") else None
    if app.account is not None and await app.account.caught_up():
        raw, fresh = app.account.state.open_orders_json(symbol), stream_freshness(app)
    else:
        raw, fresh = (await app.client.open_orders(symbol)).data, freshness(app, None)
    return trading_pb2.GetOpenOrdersResponse(orders=[order_from_json(o) for o in raw], freshness=fresh)


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
