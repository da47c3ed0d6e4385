"""Order-list tools: place an OCO, OTO or OTOCO; cancel a list; get one list, all lists, open lists.

A list goes through the rails of ``place_order`` (``rails.py``) order by order: trading enabled and a
clean key, allowed symbol and every order's type, the list's shape (``provider/trading/lists.py``),
``ocoAllowed``/``otoAllowed`` and MAX_NUM_ORDER_LISTS, each order's filters counting the orders
before it, the OCO pair's prices against the last price, and the cap on each order's worst case.
Then, under the list client order id's lock: a list client order id that already has a list (or a
caller's order client id that already has an order) is never placed again; the list is sent once; a
lost answer is looked up by list client order id under the placement state machine (RECONCILED_EXISTS,
RECONCILED_ABSENT only after timestamp + recvWindow, else UNKNOWN with ``known_at_ms``). Binance has
no test endpoint for lists: ``validate_only`` is a local dry run and says so. Every step is audited.
Under ``BINANCE_CONFIRM_ORDERS`` a person approves the whole list, every order shown (``confirm.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from contracts.binance.v1 import trading_pb2
from provider.account.state import AccountState
from provider.binance import order_calls
from provider.binance.client import new_client_order_id
from provider.binance.rules import STOP_TYPES, SymbolRules
from provider.binance.windows import check_window
from provider.catalog.jsonmap import to_json
from provider.errors import (
    AlreadyClosed,
    ExecutionUnknown,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ProviderError,
)
from provider.services import confirm, rails
from provider.services.fields import optional
from provider.services.freshness import freshness
from provider.services.orders import SIDES, TIFS, TYPES, int64_or_none, list_field, order_list_from_json
from provider.services.registry import tool
from provider.services.trading import STP
from provider.trading import lists, plan
from provider.trading.ledger import LockTimeout
from provider.trading.placement import Placement, State, Trigger

if TYPE_CHECKING:
    from provider.app import App

LIST_KEY = "list:"
"""Ledger keys of lists: their client ids live apart from orders' (Binance keeps them distinct)."""

Leg = trading_pb2.OcoLeg | trading_pb2.WorkingOrder | trading_pb2.PendingOrder


# -- requests -> intents --------------------------------------------------------------------------


def _field(msg: Leg, name: str) -> Any:
    """A leg's field, None when the message has no such field or it was not set."""
    f = msg.DESCRIPTOR.fields_by_name.get(name)
    if f is None:
        return None
    if f.has_presence:
        return getattr(msg, name) if msg.HasField(name) else None
    value = getattr(msg, name)
    return value if value != "" else None


def _leg(symbol: str, side: str, quantity: str, leg: Leg, stp: str | None) -> plan.OrderIntent:
    return plan.OrderIntent(
        symbol=symbol,
        side=side,
        order_type=TYPES.by_number[leg.type],
        client_order_id=_field(leg, "client_order_id") or new_client_order_id(),
        quantity=quantity,
        price=_field(leg, "price"),
        stop_price=_field(leg, "stop_price"),
        time_in_force=TIFS.by_number[leg.time_in_force] if leg.HasField("time_in_force") else None,
        trailing_delta=_field(leg, "trailing_delta"),
        iceberg_qty=_field(leg, "iceberg_qty"),
        stp_mode=stp,
        strategy_id=_field(leg, "strategy_id"),
        strategy_type=_field(leg, "strategy_type"),
    )


def _stp(req: trading_pb2.PlaceOcoRequest | trading_pb2.PlaceOtoRequest | trading_pb2.PlaceOtocoRequest) -> str | None:
    return STP.by_number[req.self_trade_prevention_mode] if req.HasField("self_trade_prevention_mode") else None


def _list_id(req: Any) -> str:
    return str(req.list_client_order_id) if req.HasField("list_client_order_id") else new_client_order_id()


def oco_intent(req: trading_pb2.PlaceOcoRequest, symbol: str) -> lists.ListIntent:
    side, stp = SIDES.by_number[req.side], _stp(req)
    return lists.ListIntent(
        "OCO",
        symbol,
        _list_id(req),
        (
            ("above", _leg(symbol, side, req.quantity, req.above, stp)),
            ("below", _leg(symbol, side, req.quantity, req.below, stp)),
        ),
        stp,
    )


def _working(req: trading_pb2.PlaceOtoRequest | trading_pb2.PlaceOtocoRequest, symbol: str) -> plan.OrderIntent:
    return _leg(symbol, SIDES.by_number[req.working.side], req.working.quantity, req.working, _stp(req))


def oto_intent(req: trading_pb2.PlaceOtoRequest, symbol: str) -> lists.ListIntent:
    pending = _leg(symbol, SIDES.by_number[req.pending.side], req.pending.quantity, req.pending, _stp(req))
    return lists.ListIntent(
        "OTO", symbol, _list_id(req), (("working", _working(req, symbol)), ("pending", pending)), _stp(req)
    )


def otoco_intent(req: trading_pb2.PlaceOtocoRequest, symbol: str) -> lists.ListIntent:
    side, stp = SIDES.by_number[req.pending_side], _stp(req)
    return lists.ListIntent(
        "OTOCO",
        symbol,
        _list_id(req),
        (
            ("working", _working(req, symbol)),
            ("pending_above", _leg(symbol, side, req.pending_quantity, req.pending_above, stp)),
            ("pending_below", _leg(symbol, side, req.pending_quantity, req.pending_below, stp)),
        ),
        stp,
    )


# -- the tools -------------------------------------------------------------------------------------


@tool("binance.place_oco")
async def place_oco(app: App, req: trading_pb2.PlaceOcoRequest) -> trading_pb2.PlaceOrderListResponse:
    confirm.pin_ids(req)
    return await _place(app, req.symbol, lambda s: oco_intent(req, s), req.validate_only, to_json(req), "oco")


@tool("binance.place_oto")
async def place_oto(app: App, req: trading_pb2.PlaceOtoRequest) -> trading_pb2.PlaceOrderListResponse:
    confirm.pin_ids(req)
    return await _place(app, req.symbol, lambda s: oto_intent(req, s), req.validate_only, to_json(req), "oto")


@tool("binance.place_otoco")
async def place_otoco(app: App, req: trading_pb2.PlaceOtocoRequest) -> trading_pb2.PlaceOrderListResponse:
    confirm.pin_ids(req)
    return await _place(app, req.symbol, lambda s: otoco_intent(req, s), req.validate_only, to_json(req), "otoco")


async def _place(
    app: App,
    symbol: str,
    build: Callable[[str], lists.ListIntent],
    validate_only: bool,
    asked: dict[str, Any],
    kind: str,
) -> trading_pb2.PlaceOrderListResponse:
    deadline = time.monotonic() + rails.PLACE_BUDGET_S
    rules = await app.client.rules(symbol)
    intent = build(rules.symbol)
    try:
        await rails.ensure_trading(app, dry_run=validate_only)
        lists.check_list_shape(intent)
        rails.check_allowed(app, rules.symbol, [leg.order_type for _, leg in intent.legs])
        await check_list_filters(app, rules, intent)
        answer = _Answer(app, intent, await rails.cap_values(app, rules, [leg for _, leg in intent.legs]))
        if validate_only:
            await app.audit.record(
                "order_list.validate",
                list_client_order_id=intent.list_client_order_id,
                asked=asked,
                sent=intent.params(),
            )
            return answer(
                trading_pb2.PLACE_OUTCOME_VALIDATED,
                sent=intent.params(),
                note=(
                    "Local dry run: Binance has no test endpoint for order lists, so the exchange has not judged "
                    "it (balance, self-trade prevention); the shape, every order's filters, the list limits, the "
                    "prices against the last trade and the cap passed. Nothing was sent."
                ),
            )
        asking = time.monotonic()
        refused = await confirm.gate(
            app, rules, tool=f"binance.place_{kind}", legs=intent.legs, worst=answer.worst, params=intent.params(),
            ids={"list_client_order_id": intent.list_client_order_id}
            | {f"{role}.client_order_id": leg.client_order_id for role, leg in intent.legs},
            list_client_order_id=intent.list_client_order_id,
        )
        if refused is not None:
            return answer(trading_pb2.PLACE_OUTCOME_NOT_PLACED, note=refused.note)
        deadline += time.monotonic() - asking  # the person's time does not count against the placement
        return await app.ledger.run_to_end(_place_under_lock(app, rules, intent, answer, asked, deadline))
    except ProviderError as err:
        raise rails.with_id(err, intent.list_client_order_id, "list_client_order_id") from None


async def check_list_filters(app: App, rules: SymbolRules, intent: lists.ListIntent) -> None:
    """The list's own limits, then each order's filters counting the orders before it, then the
    OCO pair's prices against the last price."""
    state = await rails.open_state(app, rules, lists=True, buying=any(leg.side == "BUY" for _, leg in intent.legs))
    rails.raise_violations(rules.validate_list(intent.kind, state.lists))
    prices = await rails.filter_prices(app, rules)
    added = [0, 0, 0]
    for role, leg in intent.legs:
        rails.raise_violations(rails.violations_of(rules, leg, prices, state, (added[0], added[1], added[2])), role)
        added[0] += 1
        added[1] += leg.order_type in STOP_TYPES
        added[2] += leg.iceberg_qty is not None
    pair = intent.pair
    if pair is not None:
        last = Decimal((await app.client.ticker_price(rules.symbol)).data["price"])
        lists.check_pair_prices(pair[0], pair[1], last)


class _Answer:
    """Builds the PlaceOrderListResponse of one list intent: its ids, what was sent, the worst cases."""

    def __init__(self, app: App, intent: lists.ListIntent, worst: list[Decimal] | None) -> None:
        self.app, self.intent, self.worst = app, intent, worst

    def __call__(
        self,
        outcome: int,
        *,
        raw: Mapping[str, Any] | None = None,
        note: str = "",
        sent: Mapping[str, str] | None = None,
        known_at_ms: int = 0,
    ) -> trading_pb2.PlaceOrderListResponse:
        typed = order_list_from_json(dict(raw)) if raw is not None else None
        resp = trading_pb2.PlaceOrderListResponse(
            outcome=outcome,  # type: ignore[arg-type]
            list_exists=typed is not None,
            list_client_order_id=self.intent.list_client_order_id,
            order_list=typed,
            sent=dict(sent or {}),
            note=" ".join(x for x in (note, _status_note(self.intent, typed)) if x),
            known_at_ms=known_at_ms,
            freshness=freshness(self.app, raw.get("transactionTime") if raw else None),
        )
        if self.worst is not None:
            for (role, leg), value in zip(self.intent.legs, self.worst, strict=True):
                resp.worst_cases.add(client_order_id=leg.client_order_id, role=role, notional=rails.fmt_cap(value))
            resp.worst_case_notional = rails.fmt_cap(max(self.worst))
            resp.worst_case_asset = self.app.settings.trading.cap_asset
        return resp


def _status_note(intent: lists.ListIntent, typed: trading_pb2.OrderList | None) -> str:
    if typed is None or not typed.orders:
        return ""
    statuses = [o.status for o in typed.orders]
    if intent.kind == "OCO":
        return (
            (
                "Both orders are working; when one starts (its stop triggers or the limit order fills) the "
                "exchange expires the other."
            )
            if statuses == ["NEW", "NEW"]
            else ""
        )
    if statuses[0] == "FILLED":
        return (
            "The working order filled at once, so the exchange has already placed the pending order(s), which "
            "this answer still shows as PENDING_NEW: look them up with get_order_list."
        )
    return "The pending order(s) stay PENDING_NEW until the working order is fully filled."


async def _place_under_lock(
    app: App, rules: SymbolRules, intent: lists.ListIntent, answer: _Answer, asked: dict[str, Any], deadline: float
) -> trading_pb2.PlaceOrderListResponse:
    key = LIST_KEY + intent.list_client_order_id
    try:
        async with app.ledger.hold(key, deadline - time.monotonic() - rails.SEND_RESERVE_S / 2):
            return await _place_locked(app, rules, intent, answer, asked, deadline)
    except LockTimeout:
        await app.audit.record("order_list.busy", list_client_order_id=intent.list_client_order_id, asked=asked)
        return answer(
            trading_pb2.PLACE_OUTCOME_UNKNOWN,
            note=(
                f"Another call with list_client_order_id {intent.list_client_order_id} is still running, so this one "
                "sent nothing; its outcome is not known yet. Look the list up (get_order_list), or call again with the "
                "same list_client_order_id: it will not be placed twice."
            ),
        )


async def find_list(app: App, list_client_order_id: str) -> dict[str, Any] | None:
    """The list with this client id (the most recent one), or None (-2018: "Order list does not exist.")."""
    try:
        found: dict[str, Any] = (
            await order_calls.get_order_list(app.client, list_client_order_id=list_client_order_id)
        ).data
    except (NotFound, InvalidArgument) as err:
        if isinstance(err, InvalidArgument) and err.binance_code != -2018:
            raise
        return None
    return found


def _in_stream(intent: lists.ListIntent) -> Callable[[AccountState], dict[str, Any] | None]:
    def seen(st: AccountState) -> dict[str, Any] | None:
        for cid in intent.client_order_ids():
            order = st.order(intent.symbol, client_order_id=cid)
            if order is not None:
                return order
        return None

    return seen


async def _place_locked(
    app: App, rules: SymbolRules, intent: lists.ListIntent, answer: _Answer, asked: dict[str, Any], deadline: float
) -> trading_pb2.PlaceOrderListResponse:
    key, list_cid = LIST_KEY + intent.list_client_order_id, intent.list_client_order_id
    prior = app.ledger.recall(key, app.client.server_now_ms())
    if prior is not None and prior.state is State.UNKNOWN:
        found = await rails.settle_by(
            app, prior, deadline, lambda: find_list(app, list_cid), _in_stream(intent), confirm=True
        )
        if found is not None:
            return await _duplicate(app, answer, asked, found)
        if prior.state is State.UNKNOWN:
            return _unknown(answer, prior, "an earlier call's answer was lost")
    elif prior is not None or "list_client_order_id" in asked:
        existing = await find_list(app, list_cid)
        if existing is not None:
            return await _duplicate(app, answer, asked, existing)
    await _refuse_used_order_ids(app, intent, asked)
    if deadline - time.monotonic() < rails.SEND_RESERVE_S:
        raise rails.NotSentTooSlow(
            "not placed: the checks before sending took too long for the outcome to be "
            "reported within this call; nothing was sent"
        )
    return await _send(app, intent, answer, asked, deadline)


def _given_ids(asked: Mapping[str, Any]) -> list[str]:
    """The order client ids the caller chose (generated ones are new by construction)."""
    return [
        str(leg["client_order_id"])
        for role in ("above", "below", "working", "pending", "pending_above", "pending_below")
        if isinstance(leg := asked.get(role), dict) and "client_order_id" in leg
    ]


async def _refuse_used_order_ids(app: App, intent: lists.ListIntent, asked: Mapping[str, Any]) -> None:
    """A client order id the caller chose that already has an order is never used again (Binance would
    accept it once that order is closed, and place a second order under it)."""
    for cid in _given_ids(asked):
        if await rails.find_order(app, intent.symbol, cid) is not None:
            raise FailedPrecondition(
                f"client order id {cid} already has an order on {intent.symbol}; nothing was sent",
                hint="Use new client order ids for the list's orders (or omit them to have them generated).",
            )


async def _duplicate(
    app: App, answer: _Answer, asked: dict[str, Any], existing: dict[str, Any]
) -> trading_pb2.PlaceOrderListResponse:
    list_cid = answer.intent.list_client_order_id
    await app.audit.record(
        "order_list.duplicate_refused", list_client_order_id=list_cid, asked=asked, existing=existing
    )
    return answer(
        trading_pb2.PLACE_OUTCOME_RECONCILED_EXISTS,
        raw=await with_states(app, existing),
        note=(
            f"An order list with list_client_order_id {list_cid} already exists "
            f"({existing.get('listOrderStatus', '?')}); it was not placed again."
        ),
    )


def _unknown(answer: _Answer, placement: Placement, cause: str) -> trading_pb2.PlaceOrderListResponse:
    list_cid = answer.intent.list_client_order_id
    return answer(
        trading_pb2.PLACE_OUTCOME_UNKNOWN,
        sent=answer.intent.params(),
        known_at_ms=placement.known_at_ms or 0,
        note=f"Outcome unknown: {cause}. The list was looked up {placement.lookups} times by "
        f"list_client_order_id {list_cid} and is not there yet, but the exchange may still execute the "
        f"request until {rails.iso(placement.known_at_ms)}. Do not place it again before then; after that, "
        "look it up (get_order_list), or call again with the same list_client_order_id: it looks the list "
        "up first and places it only if it is then definitely absent.",
    )


async def _send(
    app: App, intent: lists.ListIntent, answer: _Answer, asked: dict[str, Any], deadline: float
) -> trading_pb2.PlaceOrderListResponse:
    list_cid, params = intent.list_client_order_id, intent.params()
    placement = rails.new_placement(app, LIST_KEY + list_cid)
    await app.audit.record(
        "order_list.send", list_client_order_id=list_cid, kind=intent.kind, asked=asked, sent=params,
        approval=confirm.approval(),
    )
    try:
        placed = (await order_calls.new_order_list(app.client, intent.kind, params)).data
    except ExecutionUnknown as lost:
        placement.answer_lost(lost.request_timestamp_ms or app.client.server_now_ms())
        found = await rails.settle_by(
            app, placement, deadline, lambda: find_list(app, list_cid), _in_stream(intent), confirm=True
        )
        await app.audit.record(
            "order_list.reconciled",
            list_client_order_id=list_cid,
            cause=lost.message,
            state=placement.state.value,
            known_at_ms=placement.known_at_ms,
            found=found,
        )
        if found is not None:
            return answer(
                trading_pb2.PLACE_OUTCOME_RECONCILED_EXISTS,
                raw=await with_states(app, found),
                sent=params,
                note=f"The exchange's answer was lost ({lost.message}), but the list exists; do not place it again.",
            )
        if placement.state is State.ABSENT:
            return answer(
                trading_pb2.PLACE_OUTCOME_RECONCILED_ABSENT,
                sent=params,
                note=(
                    f"The exchange's answer was lost ({lost.message}). The list was looked up by list_client_order_id "
                    f"{list_cid} after {rails.iso(placement.known_at_ms)}, when the exchange could no longer execute "
                    "the request, and it does not exist: it was not placed. Placing it again with the same "
                    "list_client_order_id is safe."
                ),
            )
        return _unknown(answer, placement, f"the exchange's answer was lost ({lost.message})")
    except ProviderError as err:
        placement.fire(Trigger.REJECTED)
        await app.audit.record(
            "order_list.rejected", list_client_order_id=list_cid, error=err.to_details(), message=err.message
        )
        raise
    placement.fire(Trigger.ACCEPTED)
    await app.audit.record("order_list.placed", list_client_order_id=list_cid, received=placed)
    note_reports(app, placed)
    return answer(trading_pb2.PLACE_OUTCOME_PLACED, raw=placed, sent=params)


def note_reports(app: App, raw: Mapping[str, Any]) -> None:
    """Read-your-writes: the live account waits for the stream to show these orders."""
    if app.account is None:
        return
    for report in list_field(raw, "orderReports"):
        if isinstance(report, dict) and "status" in report and int64_or_none(report.get("orderId")) is not None:
            app.account.note_write(report)


#: a list holds at most 3 orders (OTOCO, OPOCO); past that, stubs are an odd exchange's, shown as sent rather than
#: looked up one by one (weight 4 each: 2,000 stubs would take the IP's whole minute)
_STATES_LOOKED_UP = 3


async def with_states(app: App, raw: dict[str, Any]) -> dict[str, Any]:
    """A list answer whose orders carry their current state (one lookup each, weight 4). A stub
    without a symbol and order id (or ``orders`` that is no list) is left as the exchange sent it: the
    states add to the answer, they must not turn a list that exists into a failure."""
    states = []
    for stub in list_field(raw, "orders")[:_STATES_LOOKED_UP]:
        if not isinstance(stub, dict) or not isinstance(symbol := stub.get("symbol"), str) \
                or (order_id := int64_or_none(stub.get("orderId"))) is None:
            continue
        try:
            states.append((await app.client.get_order(symbol, order_id=order_id)).data)
        except NotFound:
            continue
    return {**raw, "orderReports": states}


# -- cancel and queries ----------------------------------------------------------------------------


def _list_ref(req: trading_pb2.CancelOrderListRequest | trading_pb2.GetOrderListRequest) -> dict[str, Any]:
    if req.HasField("order_list_id"):
        return {"order_list_id": req.order_list_id}
    if req.HasField("list_client_order_id"):
        return {"list_client_order_id": req.list_client_order_id}
    raise InvalidArgument("give order_list_id or list_client_order_id")


async def _get_list(app: App, ref: Mapping[str, Any]) -> dict[str, Any]:
    try:
        found: dict[str, Any] = (await order_calls.get_order_list(app.client, **ref)).data
    except InvalidArgument as err:
        if err.binance_code == -2018:
            raise NotFound(
                f"no order list {ref}: {err.binance_msg}", binance_code=-2018, binance_msg=err.binance_msg
            ) from None
        raise
    return found


@tool("binance.cancel_order_list")
async def cancel_order_list(app: App, req: trading_pb2.CancelOrderListRequest) -> trading_pb2.CancelOrderListResponse:
    await rails.ensure_trading(app)
    rules = await app.client.rules(req.symbol)
    rails.check_allowed(app, rules.symbol, [])
    ref = _list_ref(req)
    if app.settings.trading.allowed_order_types:  # every order it cancels must be of a type the agent may trade
        current = await with_states(app, await _get_list(app, ref))
        rails.check_allowed(app, rules.symbol, [o.get("type") for o in current["orderReports"]])
    return await app.ledger.run_to_end(_send_cancel_list(app, req, rules.symbol, ref))


async def _send_cancel_list(
    app: App, req: trading_pb2.CancelOrderListRequest, symbol: str, ref: dict[str, Any]
) -> trading_pb2.CancelOrderListResponse:
    sent = {"symbol": symbol, **ref}  # on every line: concurrent cancels' lines interleave
    await app.audit.record("cancel_order_list.send", asked=to_json(req), sent=sent)
    try:
        canceled = (await order_calls.cancel_order_list(app.client, symbol, **ref)).data
    except ExecutionUnknown as lost:
        after = await rails.lookup_quietly(lambda: _get_list(app, ref))
        await app.audit.record("cancel_order_list.reconciled", sent=sent, cause=lost.message, found=after)
        if after is None or after.get("listOrderStatus") != "ALL_DONE":
            raise
        canceled = await with_states(app, after)
    except ProviderError as err:
        if err.binance_code != -2011:
            await app.audit.record(
                "cancel_order_list.failed", sent=sent, error=err.to_details(), message=err.message
            )
            raise
        found = await _look_up_list(app, ref)
        await app.audit.record(
            "cancel_order_list.failed", sent=sent, error=err.to_details(), message=err.message, found=found
        )
        # the lookup takes no symbol: a list closed on another symbol is not one on this symbol
        if found is not None and found.get("listOrderStatus") == "ALL_DONE" and found.get("symbol", symbol) == symbol:
            raise _list_already_closed(found, symbol, err) from err
        raise NotFound(
            f"no open order list {ref} on {symbol}: {err.binance_msg}",
            binance_code=-2011,
            binance_msg=err.binance_msg,
        ) from None
    await app.audit.record("cancel_order_list.done", received=canceled)
    note_reports(app, canceled)
    return trading_pb2.CancelOrderListResponse(
        order_list=order_list_from_json(canceled), freshness=freshness(app, canceled.get("transactionTime"))
    )


async def _look_up_list(app: App, ref: Mapping[str, Any]) -> dict[str, Any] | None:
    """The list ``ref`` names (with its orders' states when they can be read), None when it is unknown or
    the lookup fails (the cancel's own answer then stands, as it does when the list still executes).
    Both steps share one bound: the list without its orders' states when they take too long."""
    found: dict[str, Any] | None = None

    async def list_then_states() -> dict[str, Any] | None:
        nonlocal found
        listed = await _get_list(app, ref)
        if not isinstance(listed, dict):  # a shape that shows nothing
            return None
        found = listed
        return await with_states(app, listed)

    return await rails.lookup_quietly(list_then_states, rails.CANCEL_LOOKUP_WAIT_S) or found


def _list_already_closed(found: dict[str, Any], symbol: str, err: ProviderError) -> AlreadyClosed:
    """The answer to cancelling the list ``found`` closed after the cancel's -2011 (``err``)."""
    list_cid = str(found.get("listClientOrderId", ""))
    orders = [f"{o.get('orderId')} {o.get('status', '?')}" for o in found.get("orderReports", [])]
    closed = AlreadyClosed(
        f"order list {found.get('orderListId')} on {symbol} is already ALL_DONE"
        + (f" (orders: {', '.join(orders)})" if orders else "")
        + "; this call cancelled nothing, and retrying will not change it",
        facts={
            "list_order_status": found.get("listOrderStatus"), "list_status_type": found.get("listStatusType"),
            "order_list_id": found.get("orderListId"), "list_client_order_id": list_cid,
            "order_statuses": {str(o.get("orderId")): o.get("status") for o in found.get("orderReports", [])},
        },
        binance_code=err.binance_code,
        binance_msg=err.binance_msg,
        hint="The list is already closed: there is nothing left to cancel, and repeating the cancel gives the "
        "same answer. get_order_list shows each order's final state.",
    )
    rails.with_id(closed, list_cid, "list_client_order_id")
    return closed


@tool("binance.get_order_list")
async def get_order_list(app: App, req: trading_pb2.GetOrderListRequest) -> trading_pb2.GetOrderListResponse:
    raw = await with_states(app, await _get_list(app, _list_ref(req)))
    return trading_pb2.GetOrderListResponse(order_list=order_list_from_json(raw), freshness=freshness(app, None))


@tool("binance.get_all_order_lists")
async def get_all_order_lists(
    app: App, req: trading_pb2.GetAllOrderListsRequest
) -> trading_pb2.GetAllOrderListsResponse:
    start, end = optional(req, "start_time_ms"), optional(req, "end_time_ms")
    check_window(start, end)
    from_id = optional(req, "from_id")
    if from_id is not None and (start is not None or end is not None):
        raise InvalidArgument("give from_id or a time range, not both")
    raw = (
        await order_calls.all_order_lists(app.client, from_id=from_id, start_time=start, end_time=end, limit=req.limit)
    ).data
    return trading_pb2.GetAllOrderListsResponse(
        order_lists=[order_list_from_json(x) for x in raw], freshness=freshness(app, None)
    )


@tool("binance.get_open_order_lists")
async def get_open_order_lists(
    app: App, req: trading_pb2.GetOpenOrderListsRequest
) -> trading_pb2.GetOpenOrderListsResponse:
    symbol = (await app.client.rules(req.symbol)).symbol if req.HasField("symbol") else None
    raw = (await order_calls.open_order_lists(app.client)).data
    picked = [x for x in raw if symbol is None or x.get("symbol") == symbol]
    return trading_pb2.GetOpenOrderListsResponse(
        order_lists=[order_list_from_json(x) for x in picked], freshness=freshness(app, None)
    )


__all__ = ["check_list_filters", "find_list", "note_reports", "with_states"]
