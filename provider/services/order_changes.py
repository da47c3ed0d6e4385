"""Order-change tools: cancel-replace, cancel every open order of a symbol, amend keep priority.

Each on the rails of ``place_order`` (``rails.py``): trading enabled and a clean key (dry runs
excepted), the operator's allowed symbols and the type of every order it touches, exact filters
(the new order's, counting the open orders without the one it replaces; an amendment's LOT_SIZE and
MAX_NUM_ORDER_AMENDS), the cap on the new order's worst case (an amendment only lowers it), and an
audit line per step. The new order of a cancel-replace and an amended order carry a client order id
(generated when absent) that is locked while the call runs and by which a lost answer is settled
under the placement state machine; what was canceled and what was placed is answered plainly.
Under ``BINANCE_CONFIRM_ORDERS`` a person approves a cancel-replace's new order before anything is
sent (``confirm.py``); not approved, nothing is canceled or placed. An amendment is never asked:
it can only lower a resting order's quantity (less at risk), and cancelling needs no approval.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from contracts.binance.v1 import trading_pb2
from provider.account.state import OPEN_STATUSES
from provider.binance import order_calls
from provider.binance.client import new_client_order_id
from provider.binance.rules import SymbolRules
from provider.catalog.descriptors import enum_wire
from provider.catalog.jsonmap import to_json
from provider.errors import (
    ExecutionUnknown,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    OrderRejected,
    ProviderError,
)
from provider.services import confirm, rails
from provider.services.fields import optional, order_ref
from provider.services.freshness import freshness
from provider.services.order_lists import note_reports
from provider.services.orders import order_from_json, order_list_from_json
from provider.services.registry import tool
from provider.services.trading import intent_from
from provider.trading import plan
from provider.trading.ledger import LockTimeout
from provider.trading.placement import Placement, State, Trigger

if TYPE_CHECKING:
    from provider.app import App

MODES = enum_wire(trading_pb2.CancelReplaceMode.DESCRIPTOR)
RESTRICTIONS = enum_wire(trading_pb2.CancelRestrictions.DESCRIPTOR)


def _error_text(body: Any) -> str:
    if isinstance(body, dict) and "code" in body:
        return f"Binance {body['code']}: {body.get('msg', '')}"
    return ""


def _canceled(raw: dict[str, Any]) -> trading_pb2.Order:
    """A cancel answer as the order it canceled (its clientOrderId is the cancel's own id)."""
    return order_from_json({**raw, "clientOrderId": raw.get("origClientOrderId", raw.get("clientOrderId", ""))})


# -- cancel-replace ---------------------------------------------------------------------------------


def _cancel_ref(req: trading_pb2.CancelReplaceOrderRequest) -> dict[str, Any]:
    return order_ref(
        optional(req, "cancel_order_id"),
        optional(req, "cancel_client_order_id"),
        "give cancel_order_id or cancel_client_order_id (the order to cancel)",
    )


def _replace_params(req: trading_pb2.CancelReplaceOrderRequest, intent: plan.OrderIntent) -> dict[str, str]:
    params = intent.params()
    params["cancelReplaceMode"] = MODES.by_number[req.mode]
    if req.HasField("cancel_order_id"):
        params["cancelOrderId"] = str(req.cancel_order_id)
    if req.HasField("cancel_client_order_id"):
        params["cancelOrigClientOrderId"] = req.cancel_client_order_id
    if req.HasField("cancel_restrictions"):
        params["cancelRestrictions"] = RESTRICTIONS.by_number[req.cancel_restrictions]
    return params


async def _lookup(app: App, symbol: str, ref: dict[str, Any]) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = (await app.client.get_order(symbol, **ref)).data
    except NotFound:
        return None
    return found


class _Replace:
    """The CancelReplaceOrderResponse of one call: ids, what was sent, the worst case, always."""

    def __init__(self, app: App, intent: plan.OrderIntent, worst: Decimal | None, target: dict[str, Any] | None):
        self.app, self.intent, self.worst, self.target = app, intent, worst, target

    def __call__(
        self,
        cancel_result: str,
        new_result: str,
        *,
        canceled: dict[str, Any] | None = None,
        cancel_error: str = "",
        new_order: dict[str, Any] | None = None,
        new_error: str = "",
        outcome: int = 0,
        note: str = "",
        sent: dict[str, str] | None = None,
        known_at_ms: int = 0,
    ) -> trading_pb2.CancelReplaceOrderResponse:
        shown = (
            _canceled(canceled)
            if canceled is not None
            else (order_from_json(self.target) if self.target is not None else None)
        )
        resp = trading_pb2.CancelReplaceOrderResponse(
            cancel_result=cancel_result,
            new_order_result=new_result,
            canceled_order=shown,
            cancel_error=cancel_error,
            new_order=order_from_json(new_order) if new_order is not None else None,
            new_order_error=new_error,
            outcome=outcome,  # type: ignore[arg-type]
            client_order_id=self.intent.client_order_id,
            note=note
            or summary(cancel_result, new_result, canceled or self.target, new_order, cancel_error, new_error),
            sent=sent or {},
            known_at_ms=known_at_ms,
            freshness=freshness(self.app, (new_order or canceled or {}).get("transactTime")),
        )
        if self.worst is not None:
            resp.worst_case_notional = rails.fmt_cap(self.worst)
            resp.worst_case_asset = self.app.settings.trading.cap_asset
        return resp


def summary(
    cancel_result: str,
    new_result: str,
    canceled: dict[str, Any] | None,
    new_order: dict[str, Any] | None,
    cancel_error: str,
    new_error: str,
) -> str:
    """What happened, in plain words: what was canceled, what was placed, what failed and why."""
    old = f"order {canceled.get('orderId')}" if canceled else "the order"
    parts = {
        "SUCCESS": f"Canceled {old}.",
        "FAILURE": f"{old.capitalize()} was NOT canceled ({cancel_error or 'no reason given'}).",
        "UNKNOWN": f"Whether {old} was canceled is not known.",
    }
    text = [parts.get(cancel_result, "")]
    if new_result == "SUCCESS" and new_order is not None:
        text.append(f"Placed the new order {new_order.get('orderId')} ({new_order.get('status', 'accepted')}).")
    elif new_result == "FAILURE":
        text.append(f"The new order was NOT placed ({new_error or 'no reason given'}).")
    elif new_result == "NOT_ATTEMPTED":
        text.append("The new order was not attempted (STOP_ON_FAILURE).")
    elif new_result == "UNKNOWN":
        text.append("Whether the new order was placed is not known yet.")
    if cancel_result == "FAILURE" and new_result == "SUCCESS":
        text.append("Both orders may now be open: cancel the old one if it should not stay.")
    if cancel_result == "SUCCESS" and new_result != "SUCCESS":
        text.append("Nothing replaces the canceled order: place a new one if needed.")
    return " ".join(t for t in text if t)


@tool("binance.cancel_replace_order")
async def cancel_replace_order(
    app: App, req: trading_pb2.CancelReplaceOrderRequest
) -> trading_pb2.CancelReplaceOrderResponse:
    deadline = time.monotonic() + rails.PLACE_BUDGET_S
    rules = await app.client.rules(req.symbol)
    confirm.pin_ids(req)
    intent = intent_from(req, rules.symbol, default_response="FULL")
    try:
        await rails.ensure_trading(app, dry_run=req.validate_only)
        ref = _cancel_ref(req)
        if not rules.cancel_replace_allowed:
            raise FailedPrecondition(f"cancel-replace is not allowed on {rules.symbol} (cancelReplaceAllowed false)")
        plan.check_shape(intent)
        rails.check_peg_allowed(rules, intent)
        target = await _lookup(app, rules.symbol, ref)
        target_open = target is not None and target.get("status") in OPEN_STATUSES
        if not target_open and req.mode == trading_pb2.CANCEL_REPLACE_MODE_STOP_ON_FAILURE:
            state = "does not exist" if target is None else f"is {target.get('status')}"
            raise NotFound(f"the order to cancel {state}, so STOP_ON_FAILURE would change nothing; nothing was sent")
        rails.check_allowed(app, rules.symbol, [intent.order_type, (target or {}).get("type")])
        state_now = await rails.open_state(app, rules, buying=intent.side == "BUY")
        if target_open:
            state_now.orders = [o for o in state_now.orders if o.get("orderId") != target.get("orderId")]  # type: ignore[union-attr]
        rails.raise_violations(rails.violations_of(rules, intent, await rails.filter_prices(app, rules), state_now))
        answer = _Replace(app, intent, await rails.check_cap(app, rules, intent), target)
        params = _replace_params(req, intent)
        if req.validate_only:
            return await _validate(app, intent, answer, params, to_json(req))
        asking = time.monotonic()
        refused = await confirm.gate(
            app, rules, tool="binance.cancel_replace_order", legs=[("new order", intent)],
            worst=None if answer.worst is None else [answer.worst], params=params,
            ids={"client_order_id": intent.client_order_id}, replaces=_replaced(target, ref),
        )
        if refused is not None:
            return answer(
                "NOT_ATTEMPTED", "NOT_ATTEMPTED", outcome=trading_pb2.PLACE_OUTCOME_NOT_PLACED,
                note=refused.note + " The order to cancel was not canceled.",
            )
        deadline += time.monotonic() - asking  # the person's time does not count against the placement
        return await app.ledger.run_to_end(_replace_under_lock(app, rules, ref, params, answer, to_json(req), deadline))
    except ProviderError as err:
        raise rails.with_id(err, intent.client_order_id) from None


def _replaced(target: dict[str, Any] | None, ref: dict[str, Any]) -> str:
    """The order a cancel-replace would cancel, for the person approving it."""
    if target is None:
        return f"order {ref} (not found now)"
    return (
        f"order {target.get('orderId')} ({target.get('side')} {target.get('origQty')} {target.get('type')} "
        f"at {target.get('price')}, {target.get('status')})"
    )


async def _validate(
    app: App, intent: plan.OrderIntent, answer: _Replace, params: dict[str, str], asked: dict[str, Any]
) -> trading_pb2.CancelReplaceOrderResponse:
    test = (await app.client.test_order(intent.params())).data
    await app.audit.record(
        "cancel_replace.validate", client_order_id=intent.client_order_id, asked=asked, sent=params, received=test
    )
    open_now = answer.target is not None and answer.target.get("status") in OPEN_STATUSES
    return answer(
        "SUCCESS" if open_now else "FAILURE",
        "NOT_ATTEMPTED",
        outcome=trading_pb2.PLACE_OUTCOME_VALIDATED,
        sent=params,
        note=(
            "Dry run: "
            + ("the order to cancel is open" if open_now else "the order to cancel is not open")
            + "; the new order passed every local check and the exchange's test endpoint. Nothing was "
            "canceled or placed."
        ),
    )


async def _replace_under_lock(
    app: App,
    rules: SymbolRules,
    ref: dict[str, Any],
    params: dict[str, str],
    answer: _Replace,
    asked: dict[str, Any],
    deadline: float,
) -> trading_pb2.CancelReplaceOrderResponse:
    cid = answer.intent.client_order_id
    try:
        async with app.ledger.hold(cid, deadline - time.monotonic() - rails.SEND_RESERVE_S / 2):
            prior = app.ledger.recall(cid, app.client.server_now_ms())
            existing = (
                await rails.find_order(app, rules.symbol, cid)
                if prior is not None or "client_order_id" in asked
                else None
            )
            if existing is not None:
                await app.audit.record("cancel_replace.duplicate_refused", client_order_id=cid, existing=existing)
                return await _settled(
                    app,
                    rules,
                    ref,
                    answer,
                    existing,
                    params,
                    f"An order with client_order_id {cid} already exists; nothing was sent again.",
                )
            if deadline - time.monotonic() < rails.SEND_RESERVE_S:
                raise rails.NotSentTooSlow(
                    "not sent: the checks took too long for the outcome to be reported "
                    "within this call; nothing was canceled or placed"
                )
            return await _send_replace(app, rules, ref, params, answer, asked, deadline)
    except LockTimeout:
        return answer(
            "UNKNOWN",
            "UNKNOWN",
            note=(
                f"Another call with client_order_id {cid} is still running, so this one sent nothing. Look both orders "
                "up; calling again with the same client_order_id will not place the new order twice."
            ),
        )


async def _settled(
    app: App,
    rules: SymbolRules,
    ref: dict[str, Any],
    answer: _Replace,
    new_order: dict[str, Any] | None,
    params: dict[str, str],
    note: str,
    placement: Placement | None = None,
) -> trading_pb2.CancelReplaceOrderResponse:
    """After a lost answer (or a retry): what the exchange shows now for both orders."""
    target = await rails.lookup_quietly(lambda: _lookup(app, rules.symbol, ref))
    status = (target or {}).get("status")
    cancel = "SUCCESS" if status == "CANCELED" else "FAILURE" if status in OPEN_STATUSES else "UNKNOWN"
    if new_order is not None:
        return answer(
            cancel,
            "SUCCESS",
            canceled=None,
            new_order=new_order,
            sent=params,
            outcome=trading_pb2.PLACE_OUTCOME_RECONCILED_EXISTS,
            note=note + " " + summary(cancel, "SUCCESS", target, new_order, "", ""),
        )
    assert placement is not None
    if placement.state is State.ABSENT:
        return answer(
            cancel,
            "FAILURE",
            sent=params,
            outcome=trading_pb2.PLACE_OUTCOME_RECONCILED_ABSENT,
            new_error="not placed (looked up after the exchange could no longer execute the request)",
            note=note + " " + summary(cancel, "FAILURE", target, None, "", "not placed"),
        )
    return answer(
        cancel,
        "UNKNOWN",
        sent=params,
        outcome=trading_pb2.PLACE_OUTCOME_UNKNOWN,
        known_at_ms=placement.known_at_ms or 0,
        note=note
        + " "
        + summary(cancel, "UNKNOWN", target, None, "", "")
        + f" Do not send it again before {rails.iso(placement.known_at_ms)}; then look the new order up by "
        "client_order_id.",
    )


async def _send_replace(
    app: App,
    rules: SymbolRules,
    ref: dict[str, Any],
    params: dict[str, str],
    answer: _Replace,
    asked: dict[str, Any],
    deadline: float,
) -> trading_pb2.CancelReplaceOrderResponse:
    cid = answer.intent.client_order_id
    placement = rails.new_placement(app, cid)
    await app.audit.record(
        "cancel_replace.send", client_order_id=cid, asked=asked, sent=params, approval=confirm.approval()
    )
    try:
        result = (await order_calls.cancel_replace(app.client, params)).data
    except ExecutionUnknown as lost:
        placement.answer_lost(lost.request_timestamp_ms or app.client.server_now_ms())
        found = await rails.settle(app, rules.symbol, placement, deadline)
        await app.audit.record(
            "cancel_replace.reconciled",
            client_order_id=cid,
            cause=lost.message,
            state=placement.state.value,
            found=found,
        )
        return await _settled(
            app, rules, ref, answer, found, params, f"The exchange's answer was lost ({lost.message}).", placement
        )
    except ProviderError as err:
        placement.fire(Trigger.REJECTED)
        await app.audit.record(
            "cancel_replace.rejected", client_order_id=cid, error=err.to_details(), message=err.message
        )
        raise
    return await _answered(app, rules, placement, answer, result, params)


async def _answered(
    app: App, rules: SymbolRules, placement: Placement, answer: _Replace, result: dict[str, Any], params: dict[str, str]
) -> trading_pb2.CancelReplaceOrderResponse:
    cid = answer.intent.client_order_id
    data = result.get("data", result)
    cancel, new = data.get("cancelResult", "?"), data.get("newOrderResult", "?")
    canceled = data.get("cancelResponse") if cancel == "SUCCESS" else None
    new_order = data.get("newOrderResponse") if new == "SUCCESS" else None
    cancel_error = "" if cancel == "SUCCESS" else _error_text(data.get("cancelResponse"))
    new_error = "" if new == "SUCCESS" else _error_text(data.get("newOrderResponse"))
    placement.fire(Trigger.ACCEPTED if new_order is not None else Trigger.REJECTED)
    await app.audit.record("cancel_replace.done", client_order_id=cid, received=result)
    if cancel != "SUCCESS" and new != "SUCCESS":  # -2022: nothing changed
        raise OrderRejected(
            f"cancel-replace failed, nothing changed: cancel {cancel} ({cancel_error}); new order {new}"
            + (f" ({new_error})" if new_error else ""),
            binance_code=result.get("code"),
            binance_msg=result.get("msg"),
        )
    if new_order is not None and "status" not in new_order:  # an ACK answer: complete it
        new_order = {**(await app.client.get_order(rules.symbol, orig_client_order_id=cid)).data, **new_order}
    if app.account is not None:
        for written in (canceled, new_order):
            if isinstance(written, dict) and "status" in written:
                app.account.note_write(written)
    return answer(
        cancel,
        new,
        canceled=canceled,
        cancel_error=cancel_error,
        new_order=new_order,
        new_error=new_error,
        outcome=trading_pb2.PLACE_OUTCOME_PLACED if new_order is not None else 0,
        sent=params,
    )


# -- cancel every open order of a symbol -----------------------------------------------------------


def _group(orders: list[dict[str, Any]]) -> tuple[list[trading_pb2.Order], list[trading_pb2.OrderList]]:
    """Open orders as the cancel will treat them: alone, or with their list."""
    alone = [order_from_json(o) for o in orders if int(o.get("orderListId", -1)) < 0]
    by_list: dict[int, list[dict[str, Any]]] = {}
    for o in orders:
        if int(o.get("orderListId", -1)) >= 0:
            by_list.setdefault(int(o["orderListId"]), []).append(o)
    grouped = [
        trading_pb2.OrderList(
            order_list_id=lid, symbol=members[0]["symbol"], orders=[order_from_json(o) for o in members]
        )
        for lid, members in by_list.items()
    ]
    return alone, grouped


@tool("binance.cancel_open_orders")
async def cancel_open_orders(
    app: App, req: trading_pb2.CancelOpenOrdersRequest
) -> trading_pb2.CancelOpenOrdersResponse:
    await rails.ensure_trading(app, dry_run=req.validate_only)
    rules = await app.client.rules(req.symbol)
    rails.check_allowed(app, rules.symbol, [])
    opened = (await app.client.open_orders(rules.symbol)).data
    if app.settings.trading.allowed_order_types:
        rails.check_allowed(app, rules.symbol, [o.get("type") for o in opened])
    alone, grouped = _group(opened)
    if req.validate_only or not opened:
        note = (
            f"Dry run: {len(alone)} order(s) and {len(grouped)} order list(s) on {rules.symbol} would be "
            "canceled; nothing was."
            if opened
            else f"No open orders on {rules.symbol}; nothing to cancel."
        )
        return trading_pb2.CancelOpenOrdersResponse(
            canceled_orders=alone, canceled_order_lists=grouped, note=note, freshness=freshness(app, None)
        )
    return await app.ledger.run_to_end(_send_cancel_open(app, req, rules.symbol, opened, alone, grouped))


async def _send_cancel_open(
    app: App,
    req: trading_pb2.CancelOpenOrdersRequest,
    symbol: str,
    opened: list[dict[str, Any]],
    alone: list[trading_pb2.Order],
    grouped: list[trading_pb2.OrderList],
) -> trading_pb2.CancelOpenOrdersResponse:
    await app.audit.record(
        "cancel_open_orders.send",
        asked=to_json(req),
        sent={"symbol": symbol},
        open_orders=[o.get("orderId") for o in opened],
    )
    try:
        canceled = (await app.client.cancel_open_orders(symbol)).data
    except ExecutionUnknown as lost:
        left = await rails.lookup_quietly(lambda: _open_now(app, symbol))
        await app.audit.record(
            "cancel_open_orders.reconciled", sent={"symbol": symbol}, cause=lost.message, still_open=left
        )
        if left is None or left.get("orders"):
            raise
        return trading_pb2.CancelOpenOrdersResponse(
            canceled_orders=alone,
            canceled_order_lists=grouped,
            freshness=freshness(app, None),
            note=f"The exchange's answer was lost ({lost.message}); looked up since: nothing is open on "
            f"{symbol} any more.",
        )
    except ProviderError as err:
        await app.audit.record(
            "cancel_open_orders.failed", sent={"symbol": symbol}, error=err.to_details(), message=err.message
        )
        raise
    await app.audit.record("cancel_open_orders.done", received=canceled)
    orders = [_canceled(x) for x in canceled if "orderReports" not in x]
    lists_ = [order_list_from_json(x) for x in canceled if "orderReports" in x]
    if app.account is not None:
        for x in canceled:
            if "orderReports" in x:
                note_reports(app, x)
            elif "status" in x:
                app.account.note_write(x)
    return trading_pb2.CancelOpenOrdersResponse(
        canceled_orders=orders,
        canceled_order_lists=lists_,
        freshness=freshness(app, None),
        note=f"Canceled {len(orders)} order(s) and {len(lists_)} order list(s) on {symbol}.",
    )


async def _open_now(app: App, symbol: str) -> dict[str, Any]:
    return {"orders": (await app.client.open_orders(symbol)).data}


# -- amend keep priority ----------------------------------------------------------------------------


def _amended(raw: dict[str, Any]) -> dict[str, Any]:
    """``amendedOrder`` in the field names of every other order answer."""
    out = dict(raw)
    for theirs, ours in (
        ("qty", "origQty"),
        ("cumulativeQuoteQty", "cummulativeQuoteQty"),
        ("quoteOrderQty", "origQuoteOrderQty"),
        ("preventedQty", "preventedQuantity"),
    ):
        if theirs in out:
            out[ours] = out.pop(theirs)
    return out


def _order_ref(req: trading_pb2.AmendOrderRequest) -> dict[str, Any]:
    if req.HasField("order_id"):
        return {"order_id": req.order_id}
    if req.HasField("client_order_id"):
        return {"orig_client_order_id": req.client_order_id}
    raise InvalidArgument("give order_id or client_order_id")


@tool("binance.amend_order")
async def amend_order(app: App, req: trading_pb2.AmendOrderRequest) -> trading_pb2.AmendOrderResponse:
    deadline = time.monotonic() + rails.PLACE_BUDGET_S
    rules = await app.client.rules(req.symbol)
    new_cid = req.new_client_order_id if req.HasField("new_client_order_id") else new_client_order_id()
    try:
        await rails.ensure_trading(app, dry_run=req.validate_only)
        current = await _lookup(app, rules.symbol, _order_ref(req))
        if current is None:
            raise NotFound(f"no such order on {rules.symbol}")
        rails.check_allowed(app, rules.symbol, [current.get("type")])
        if current.get("status") not in OPEN_STATUSES:
            raise FailedPrecondition(
                f"order {current['orderId']} is {current.get('status')}: only open orders can be amended"
            )
        amendments = None
        if rules.max_num_order_amends is not None:
            done = (await order_calls.order_amendments(app.client, rules.symbol, int(current["orderId"]))).data
            amendments = len(done)
        new_qty = Decimal(req.new_quantity)
        rails.raise_violations(rules.validate_amend(new_qty, Decimal(current["origQty"]), amendments))
        if req.validate_only:
            return trading_pb2.AmendOrderResponse(
                outcome=trading_pb2.AMEND_OUTCOME_VALIDATED,
                order=order_from_json(current),
                new_client_order_id=new_cid,
                freshness=freshness(app, None),
                note=f"Local dry run (Binance has no test endpoint for amendments): the order is open, "
                f"{req.new_quantity} is below its {current['origQty']}, LOT_SIZE and MAX_NUM_ORDER_AMENDS "
                f"({amendments if amendments is not None else '?'} so far) pass. Nothing was sent.",
            )
        return await app.ledger.run_to_end(
            _amend_under_lock(app, rules, current, req.new_quantity, new_cid, to_json(req), deadline)
        )
    except ProviderError as err:
        raise rails.with_id(err, new_cid, "new_client_order_id") from None


async def _amend_under_lock(
    app: App,
    rules: SymbolRules,
    current: dict[str, Any],
    new_qty: str,
    new_cid: str,
    asked: dict[str, Any],
    deadline: float,
) -> trading_pb2.AmendOrderResponse:
    try:
        async with app.ledger.hold(new_cid, deadline - time.monotonic() - rails.SEND_RESERVE_S / 2):
            already = await _amended_to(app, rules.symbol, new_cid, new_qty)
            if already is not None and current.get("clientOrderId") != new_cid:
                return _amend_answer(
                    app,
                    trading_pb2.AMEND_OUTCOME_RECONCILED_AMENDED,
                    already,
                    new_cid,
                    "The order already carries this new client order id and quantity: it was "
                    "amended before; nothing was sent again.",
                )
            return await _send_amend(app, rules, current, new_qty, new_cid, asked, deadline)
    except LockTimeout:
        return _amend_answer(
            app,
            trading_pb2.AMEND_OUTCOME_UNKNOWN,
            current,
            new_cid,
            f"Another call with new_client_order_id {new_cid} is still running; this one sent nothing.",
        )


async def _amended_to(app: App, symbol: str, cid: str, new_qty: str) -> dict[str, Any] | None:
    """The order under ``cid`` if it carries ``new_qty`` (the amendment's mark), else None."""
    found = await rails.find_order(app, symbol, cid)
    if found is not None and Decimal(found.get("origQty", "0")) == Decimal(new_qty):
        return found
    return None


def _amend_answer(
    app: App,
    outcome: int,
    order: dict[str, Any],
    new_cid: str,
    note: str,
    raw_list: dict[str, Any] | None = None,
    execution_id: int = 0,
    known_at_ms: int = 0,
) -> trading_pb2.AmendOrderResponse:
    return trading_pb2.AmendOrderResponse(
        outcome=outcome,  # type: ignore[arg-type]
        order=order_from_json(order),
        new_client_order_id=new_cid,
        execution_id=execution_id,
        note=note,
        order_list=order_list_from_json(raw_list) if raw_list is not None else None,
        freshness=freshness(app, None),
        known_at_ms=known_at_ms,
    )


async def _send_amend(
    app: App,
    rules: SymbolRules,
    current: dict[str, Any],
    new_qty: str,
    new_cid: str,
    asked: dict[str, Any],
    deadline: float,
) -> trading_pb2.AmendOrderResponse:
    placement = rails.new_placement(app, new_cid)
    sent = {"symbol": rules.symbol, "orderId": str(current["orderId"]), "newQty": new_qty, "newClientOrderId": new_cid}
    await app.audit.record("amend_order.send", client_order_id=new_cid, asked=asked, sent=sent)
    try:
        result = (
            await order_calls.amend_order(app.client, rules.symbol, new_qty, new_cid, order_id=int(current["orderId"]))
        ).data
    except ExecutionUnknown as lost:
        placement.answer_lost(lost.request_timestamp_ms or app.client.server_now_ms())
        found = await rails.settle_by(
            app, placement, deadline, lambda: _amended_to(app, rules.symbol, new_cid, new_qty)
        )
        await app.audit.record(
            "amend_order.reconciled",
            client_order_id=new_cid,
            cause=lost.message,
            state=placement.state.value,
            found=found,
        )
        return _reconciled_amend(app, placement, current, found, new_cid, lost.message)
    except ProviderError as err:
        placement.fire(Trigger.REJECTED)
        await app.audit.record(
            "amend_order.rejected", client_order_id=new_cid, error=err.to_details(), message=err.message
        )
        raise
    placement.fire(Trigger.ACCEPTED)
    await app.audit.record("amend_order.done", client_order_id=new_cid, received=result)
    order = {**_amended(result["amendedOrder"]), "updateTime": result.get("transactTime")}
    if app.account is not None:
        app.account.note_write(order)
    listed = result.get("listStatus")
    return _amend_answer(
        app,
        trading_pb2.AMEND_OUTCOME_AMENDED,
        order,
        new_cid,
        f"Quantity {current['origQty']} -> {new_qty}; the order keeps its place in the queue.",
        listed if isinstance(listed, dict) else None,
        int(result.get("executionId", 0)),
    )


def _reconciled_amend(
    app: App, placement: Placement, current: dict[str, Any], found: dict[str, Any] | None, new_cid: str, cause: str
) -> trading_pb2.AmendOrderResponse:
    if found is not None:
        return _amend_answer(
            app,
            trading_pb2.AMEND_OUTCOME_RECONCILED_AMENDED,
            found,
            new_cid,
            f"The exchange's answer was lost ({cause}); the order carries the new quantity and "
            "client order id: it was amended.",
        )
    if placement.state is State.ABSENT:
        return _amend_answer(
            app,
            trading_pb2.AMEND_OUTCOME_RECONCILED_NOT_AMENDED,
            current,
            new_cid,
            f"The exchange's answer was lost ({cause}); looked up after "
            f"{rails.iso(placement.known_at_ms)}, the order was not amended. Amending it again is safe.",
        )
    return _amend_answer(
        app,
        trading_pb2.AMEND_OUTCOME_UNKNOWN,
        current,
        new_cid,
        f"The exchange's answer was lost ({cause}) and the amendment does not show yet; the exchange may "
        f"still execute it until {rails.iso(placement.known_at_ms)}. Look the order up by "
        "new_client_order_id after that.",
        known_at_ms=placement.known_at_ms or 0,
    )
