"""Order tools, with the rails real money needs (``rails.py``).

`place_order`, in order, each step refusing with an explanation before anything is sent:
1. trading enabled in configuration (and, on mainnet, explicitly confirmed) and a clean API key -
   dry runs excepted;
2. the type's required and forbidden parameters (`provider/trading/plan.py`);
3. the operator's allowed symbols and order types;
4. the symbol's filters, exactly, with Decimal, against the reference each filter uses now (the
   symbol's reference price, else the VWAP over the filter's own avgPriceMins, else the last price),
   each failure with the nearest valid value (TRAILING_DELTA, ICEBERG_PARTS, MAX_NUM_* included);
5. the operator's cap on the order's worst case, in one asset (`BINANCE_CAP_ASSET`);
6. when the operator wants it (`BINANCE_CONFIRM_ORDERS`), a person's approval through the client
   (`confirm.py`): not approved, nothing is sent and the outcome is NOT_PLACED.
Then, under the client order id's lock (`provider/trading/ledger.py`): an id that already has an
order is never placed again; the order is sent once; a lost answer is settled by the placement
state machine (`provider/trading/placement.py`): looked up by client order id until found, or until
the exchange can no longer execute the request (then "absent" is final), or until the call's budget
ends (then UNKNOWN, with the time it will be known). The client order id is in every answer, error
and audit line. Nothing mutating is retried blindly. Order lists, cancel-replace, cancel-all and
amendments are in `order_lists.py` and `order_changes.py`, on the same rails.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import structlog

from contracts.binance.v1 import common_pb2, trading_pb2
from provider.account.state import OPEN_STATUSES
from provider.binance.client import new_client_order_id
from provider.binance.rules import SymbolRules
from provider.binance.windows import check_window
from provider.catalog.descriptors import enum_wire
from provider.catalog.jsonmap import to_json
from provider.errors import AlreadyClosed, CancelRejected, ExecutionUnknown, NotFound, ProviderError
from provider.services import confirm
from provider.services.account import stream_freshness
from provider.services.fields import optional, order_ref
from provider.services.freshness import freshness
from provider.services.orders import SIDES, TIFS, TYPES, order_from_json
from provider.services.rails import (
    CANCEL_LOOKUP_WAIT_S,
    PLACE_BUDGET_S,
    SEND_RESERVE_S,
    NotSentTooSlow,
    check_allowed,
    check_cap,
    check_filters,
    check_peg_allowed,
    ensure_trading,
    expiry_note,
    find_order,
    fmt_cap,
    iso,
    lookup_quietly,
    new_placement,
    settle,
    with_id,
)
from provider.services.registry import tool
from provider.trading import plan
from provider.trading.ledger import LockTimeout
from provider.trading.placement import Placement, State, Trigger

if TYPE_CHECKING:
    from provider.app import App

log = structlog.get_logger("provider.trading")

RESP = enum_wire(common_pb2.OrderResponseType.DESCRIPTOR)
STP = enum_wire(trading_pb2.SelfTradePreventionMode.DESCRIPTOR)
PEG = enum_wire(trading_pb2.PegPriceType.DESCRIPTOR)
_POLL_S = 0.5

__all__ = ["PLACE_BUDGET_S", "intent_from", "place_order"]


def intent_from(
    req: trading_pb2.PlaceOrderRequest | trading_pb2.CancelReplaceOrderRequest,
    symbol: str,
    *,
    default_response: str | None = None,
) -> plan.OrderIntent:
    """The new order of a place or cancel-replace request as an :class:`~provider.trading.plan.OrderIntent`
    (a client order id generated when absent; peg fields only where the request has them)."""

    def given(name: str) -> bool:
        return name in req.DESCRIPTOR.fields_by_name and req.HasField(name)

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
        response_type=RESP.by_number[req.response_type] if req.HasField("response_type") else default_response,
        trailing_delta=optional(req, "trailing_delta"),
        iceberg_qty=optional(req, "iceberg_qty"),
        stp_mode=STP.by_number[req.self_trade_prevention_mode]
        if req.HasField("self_trade_prevention_mode") else None,
        strategy_id=optional(req, "strategy_id"),
        strategy_type=optional(req, "strategy_type"),
        peg_price_type=PEG.by_number[req.peg_price_type] if given("peg_price_type") else None,
        peg_offset_value=req.peg_offset_value if given("peg_offset_value") else None,
    )


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
            resp.worst_case_notional = fmt_cap(self.worst)
            resp.worst_case_asset = self.app.settings.trading.cap_asset
        return resp


@tool("binance.place_order")
async def place_order(app: App, req: trading_pb2.PlaceOrderRequest) -> trading_pb2.PlaceOrderResponse:
    deadline = time.monotonic() + PLACE_BUDGET_S
    rules = await app.client.rules(req.symbol)
    confirm.pin_ids(req)
    intent = intent_from(req, rules.symbol)
    try:
        await ensure_trading(app, dry_run=req.validate_only)
        plan.check_shape(intent)
        check_allowed(app, rules.symbol, [intent.order_type])
        check_peg_allowed(rules, intent)
        await check_filters(app, rules, intent)
        answer = _Answer(app, intent, await check_cap(app, rules, intent))
        if req.validate_only:
            return await _validate(app, intent, answer, to_json(req))
        asking = time.monotonic()
        refused = await confirm.gate(
            app, rules, tool="binance.place_order", legs=[("", intent)],
            worst=None if answer.worst is None else [answer.worst], params=intent.params(),
            ids={"client_order_id": intent.client_order_id},
        )
        if refused is not None:
            return answer(trading_pb2.PLACE_OUTCOME_NOT_PLACED, note=refused.note)
        deadline += time.monotonic() - asking  # the person's time does not count against the placement
        return await app.ledger.run_to_end(_place_under_lock(app, rules, intent, answer, to_json(req), deadline))
    except ProviderError as err:
        raise with_id(err, intent.client_order_id) from None


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
        f"{cid} and is not there yet, but the exchange may still execute it until {iso(placement.known_at_ms)}. "
        "Do not place it again before then. After that time look it up by client_order_id, or call place_order "
        "again with the same client_order_id: it looks the order up first and places it only if it is then "
        "definitely absent.",
    )


async def _send(
    app: App, symbol: str, intent: plan.OrderIntent, answer: _Answer, asked: dict[str, Any], deadline: float
) -> trading_pb2.PlaceOrderResponse:
    cid, params = intent.client_order_id, intent.params()
    placement = new_placement(app, cid)
    await app.audit.record(
        "place_order.send", client_order_id=cid, asked=asked, sent=params, approval=confirm.approval()
    )
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
                f"{cid} after {iso(placement.known_at_ms)}, when the exchange could no longer execute the request, "
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


def _ref(req: trading_pb2.CancelOrderRequest | trading_pb2.GetOrderRequest) -> dict[str, Any]:
    return order_ref(optional(req, "order_id"), optional(req, "client_order_id"), "give order_id or client_order_id")


@tool("binance.cancel_order")
async def cancel_order(app: App, req: trading_pb2.CancelOrderRequest) -> trading_pb2.CancelOrderResponse:
    await ensure_trading(app)
    rules = await app.client.rules(req.symbol)
    limits = app.settings.trading
    check_allowed(app, rules.symbol, [])
    ref = _ref(req)
    if limits.allowed_order_types:  # the order's own type must be one the agent may trade
        order_type = (await app.client.get_order(rules.symbol, **ref)).data.get("type")
        check_allowed(app, rules.symbol, [order_type])
    canceled = await app.ledger.run_to_end(_send_cancel(app, rules.symbol, ref, to_json(req)))
    order = order_from_json({**canceled, "clientOrderId": canceled.get("origClientOrderId", "")})
    return trading_pb2.CancelOrderResponse(order=order, freshness=freshness(app, canceled.get("transactTime")))


async def _send_cancel(app: App, symbol: str, ref: dict[str, Any], asked: dict[str, Any]) -> dict[str, Any]:
    sent = {"symbol": symbol, **ref}  # on every line: concurrent cancels' lines interleave
    await app.audit.record("cancel_order.send", asked=asked, sent=sent)
    try:
        canceled: dict[str, Any] = (await app.client.cancel_order(symbol, **ref)).data
    except ProviderError as err:
        if not _unknown_order(err):
            await app.audit.record("cancel_order.failed", sent=sent, error=err.to_details(), message=err.message)
            raise
        found = await _look_up(app, symbol, ref)
        await app.audit.record(
            "cancel_order.failed", sent=sent, error=err.to_details(), message=err.message, found=found
        )
        if found is not None and found.get("status") in OPEN_STATUSES:
            raise _order_still_open(found, err) from err
        if found is None or found.get("status") not in FINAL_STATUSES:  # a shape that shows nothing
            cid = ref.get("orig_client_order_id")
            if cid:
                with_id(err, cid)  # the id the caller named, as in the already-closed answer
            raise
        raise _order_already_closed(found, err) from err
    await app.audit.record("cancel_order.done", received=canceled)
    if app.account is not None:
        app.account.note_write(canceled)
    return canceled


#: the statuses of an order the exchange will never change again: only these are answered AlreadyClosed
FINAL_STATUSES = frozenset({"CANCELED", "FILLED", "EXPIRED", "EXPIRED_IN_MATCH", "REJECTED"})


def _unknown_order(err: ProviderError) -> bool:
    """-2011 "Unknown order sent.": unknown, or already closed (Binance does not tell them apart)."""
    return isinstance(err, NotFound) and err.binance_code == -2011


async def _look_up(app: App, symbol: str, ref: dict[str, Any]) -> dict[str, Any] | None:
    """The order ``ref`` names, None when it is unknown or the lookup fails (the cancel's own answer
    then stands, as it does when the order is still open)."""

    async def lookup() -> dict[str, Any] | None:
        found = (await app.client.get_order(symbol, **ref)).data
        return found if isinstance(found, dict) else None

    return await lookup_quietly(lookup, CANCEL_LOOKUP_WAIT_S)


def _order_already_closed(order: dict[str, Any], err: ProviderError) -> AlreadyClosed:
    """The answer to cancelling ``order``, found closed after the cancel's -2011 (``err``)."""
    status, cid = str(order.get("status", "?")), str(order.get("clientOrderId", ""))
    closed = AlreadyClosed(
        f"order {order.get('orderId')} on {order.get('symbol')} is already {status} (executed "
        f"{order.get('executedQty', '?')} of {order.get('origQty', '?')}); this call cancelled nothing, and "
        "retrying will not change it",
        facts={
            "order_status": status, "order_id": order.get("orderId"), "client_order_id": cid,
            "executed_qty": order.get("executedQty"), "orig_qty": order.get("origQty"),
        },
        binance_code=err.binance_code,
        binance_msg=err.binance_msg,
    )
    with_id(closed, cid)
    return closed


def _order_still_open(order: dict[str, Any], err: ProviderError) -> CancelRejected:
    """The answer when the exchange said -2011 "Unknown order sent." yet shows ``order`` still open:
    never NOT_FOUND, which an agent would read as "gone" while the order can still fill."""
    status, cid = str(order.get("status")), str(order.get("clientOrderId", ""))
    still = CancelRejected(
        f"the exchange refused the cancel as an unknown order, but order {order.get('orderId')} on "
        f"{order.get('symbol')} is still {status} (executed {order.get('executedQty', '?')} of "
        f"{order.get('origQty', '?')}): it was NOT cancelled and can still fill",
        binance_code=err.binance_code,
        binance_msg=err.binance_msg,
        hint="Send the cancel again; get_order shows the order's state.",
    )
    with_id(still, cid)
    return still


@tool("binance.get_order")
async def get_order(app: App, req: trading_pb2.GetOrderRequest) -> trading_pb2.GetOrderResponse:
    rules = await app.client.rules(req.symbol)
    ref = _ref(req)
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
    symbol = (await app.client.rules(req.symbol)).symbol if req.HasField("symbol") else None
    if app.account is not None and await app.account.caught_up():
        raw, fresh = app.account.state.open_orders_json(symbol), stream_freshness(app)
    else:
        raw, fresh = (await app.client.open_orders(symbol)).data, freshness(app, None)
    return trading_pb2.GetOpenOrdersResponse(orders=[order_from_json(o) for o in raw], freshness=fresh)


@tool("binance.get_all_orders")
async def get_all_orders(app: App, req: trading_pb2.GetAllOrdersRequest) -> trading_pb2.GetAllOrdersResponse:
    rules = await app.client.rules(req.symbol)
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


# The order-list and order-change tools register themselves on import (registry.handlers imports this module).
from provider.services import order_changes, order_lists  # noqa: E402, F401
