"""Asking the person to approve an order before it is sent (the I/O shell of `trading/confirm.py`).

The order tools call :func:`gate` after every rail passed and before anything is sent. When the
operator's policy (`BINANCE_CONFIRM_ORDERS`) wants approval, the question goes to the person
through the client: an MCP elicitation the provider asks within its InvokeToolStream call
(`provider_kit.ToolCall`), which the gateway forwards. Rules:

1. Only a call that came through InvokeToolStream can ask (`streaming(call)` marks it). A typed
   gRPC call or a unary InvokeTool has nobody to ask: the order is refused (FAILED_PRECONDITION),
   saying why and how to approve it another way. So is a client without the elicitation capability.
2. A handshake-era client (INPUT_MODE_IN_CALL) is asked within the call and waited for at most
   ``CONFIRM_WAIT_S``; the gateway bounds its own wait too. An error instead of an answer counts
   as no answer: nothing is sent.
3. A 2026-07-28 client (INPUT_MODE_RESULT) gets an input_required result; its retry runs the tool
   again with the answer and the state this module minted (sealed by the gateway, bound to the
   call's arguments). The state carries the digest of the exact parameters asked about, the client
   ids generated in that round (so the retry places the order that was shown, under the same ids,
   and a further retry is recognised as the same order), and when it asked (an answer older than
   ``CONFIRM_WAIT_S`` approves nothing). An answer without such a state approves nothing.
4. Every question and every answer goes to the audit log; the approval rides along with the call
   (:func:`approval`) so the line that records what was sent records who approved it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import structlog
from google.protobuf.message import Message

from contracts.provider.v1 import provider_pb2
from provider.binance.rules import SymbolRules
from provider.errors import FailedPrecondition, ProviderError
from provider.services import rails
from provider.trading import plan
from provider.trading.confirm import (
    ConfirmMode,
    Decision,
    LegView,
    OrderSummary,
    decide,
    elicitation_params,
    params_digest,
)
from provider_kit import InputNeeded, InputUnavailable, ToolCall

if TYPE_CHECKING:
    from provider.app import App

__all__ = [
    "CONFIRM_KEY",
    "CONFIRM_WAIT_S",
    "ConfirmationUnavailable",
    "Refused",
    "approval",
    "gate",
    "leg_view",
    "pin_ids",
    "streaming",
]

log = structlog.get_logger("provider.confirm")

#: how long a person has to answer (rule 2): the gateway's default input timeout; a shorter one there ends it first.
CONFIRM_WAIT_S = 300.0
CONFIRM_KEY = "confirm_order"
_STATE_VERSION = 1
_MISSING_CAPABILITY = -32021

_CALL: ContextVar[ToolCall | None] = ContextVar("confirm_call", default=None)
_APPROVAL: ContextVar[dict[str, Any] | None] = ContextVar("confirm_approval", default=None)


class ConfirmationUnavailable(FailedPrecondition):
    """The order needs a person's approval and this caller cannot ask one (rule 1)."""

    retry_safe = True
    hint = (
        "Nothing was sent. Call the tool from an MCP client that supports elicitation (through the gateway), "
        "so the person can approve it; or have the operator change BINANCE_CONFIRM_ORDERS on the provider "
        "(e.g. above:<a notional larger than this order>, or never) and restart it."
    )


@contextlib.contextmanager
def streaming(call: ToolCall) -> Iterator[None]:
    """Marks the running tool call as one that can ask the client (rule 1)."""
    token = _CALL.set(call)
    try:
        yield
    finally:
        _CALL.reset(token)


def approval() -> dict[str, Any] | None:
    """The person's approval of the order this call is sending, for its audit line (rule 4)."""
    return _APPROVAL.get()


# -- the state a 2026 retry brings back (rule 3) ---------------------------------------------------


@dataclass(frozen=True)
class _State:
    digest: str
    ids: dict[str, str]
    asked_ms: int

    def encode(self) -> str:
        return json.dumps({"v": _STATE_VERSION, "d": self.digest, "ids": self.ids, "at": self.asked_ms})

    @classmethod
    def decode(cls, raw: str) -> _State | None:
        try:
            data = json.loads(raw)
            if data["v"] != _STATE_VERSION:
                return None
            return cls(str(data["d"]), {str(k): str(v) for k, v in data["ids"].items()}, int(data["at"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


def _state() -> _State | None:
    call = _CALL.get()
    if call is None or call.input_mode != provider_pb2.INPUT_MODE_RESULT or not call.request_state:
        return None
    return _State.decode(call.request_state)


def pin_ids(req: Message) -> None:
    """On a 2026 retry, gives the request the client ids generated in the round that asked, where the
    caller gave none (rule 3): the order approved is the order placed, under the ids shown."""
    state = _state()
    if state is None:
        return
    for path, value in state.ids.items():
        *parents, leaf = path.split(".")
        msg = req
        for name in parents:
            msg = getattr(msg, name)
        field = msg.DESCRIPTOR.fields_by_name.get(leaf)
        if field is not None and field.has_presence and not msg.HasField(leaf):
            setattr(msg, leaf, value)


# -- the gate --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refused:
    """Not approved: nothing may be sent; ``note`` says why, for the tool's answer."""

    decision: Decision
    note: str


def leg_view(role: str, intent: plan.OrderIntent, worst: Decimal | None) -> LegView:
    return LegView(
        role, intent.side, intent.order_type, intent.client_order_id, quantity=intent.quantity,
        quote_order_qty=intent.quote_order_qty, price=intent.price, stop_price=intent.stop_price,
        trailing_delta=intent.trailing_delta, worst_case=worst,
    )


async def gate(
    app: App,
    rules: SymbolRules,
    *,
    tool: str,
    legs: Sequence[tuple[str, plan.OrderIntent]],
    worst: Sequence[Decimal] | None,
    params: Mapping[str, Any],
    ids: Mapping[str, str],
    list_client_order_id: str | None = None,
    replaces: str | None = None,
) -> Refused | None:
    """None when the orders may be sent (no approval needed, or the person approved them);
    :class:`Refused` when they must not be.

    ``worst`` is each order's worst case when the cap already computed it; ``params`` what would be
    sent (the approval is bound to it); ``ids`` the request's client-id fields (``path -> id``).

    Raises:
        ConfirmationUnavailable: approval is needed and the caller cannot be asked (rule 1).
        InputNeeded: a 2026 client is asked with an input_required result (rule 3).
    """
    _APPROVAL.set(None)
    policy = app.settings.trading.confirm
    if policy.mode is ConfirmMode.NEVER:
        return None
    values: Sequence[Decimal | None] = (
        worst if worst is not None else await rails.worst_cases(app, rules, [i for _, i in legs])
    )
    if not policy.needs(values):
        return None
    cids = ", ".join(ids.values())
    call = _CALL.get()
    if call is None:
        await app.audit.record(
            "confirm.unavailable", tool=tool, ids=dict(ids), policy=policy.describe(), caller="typed or unary"
        )
        raise ConfirmationUnavailable(
            f"not sent: BINANCE_CONFIRM_ORDERS={policy.describe()} needs a person to approve this order, and a "
            f"typed gRPC or unary InvokeTool call cannot ask one [{cids}]"
        )
    if call.input_mode == provider_pb2.INPUT_MODE_NONE or "elicitation" not in call.client_capabilities:
        await app.audit.record("confirm.unavailable", tool=tool, ids=dict(ids), policy=policy.describe())
        raise ConfirmationUnavailable(
            f"not sent: BINANCE_CONFIRM_ORDERS={policy.describe()} needs a person to approve this order, and this "
            f"MCP client cannot ask (it does not support elicitation) [{cids}]"
        )
    digest = params_digest(params)
    summary = await _summary(app, rules, tool, legs, values, list_client_order_id, replaces)
    asked = {
        "tool": tool, "ids": dict(ids), "digest": digest, "summary": summary.to_json(), "policy": policy.describe()
    }
    if call.input_mode == provider_pb2.INPUT_MODE_RESULT:
        return await _by_result(app, call, summary, asked, ids)
    return await _in_call(app, call, summary, asked)


async def _in_call(app: App, call: ToolCall, summary: OrderSummary, asked: dict[str, Any]) -> Refused | None:
    """Rule 2: ask within the call and wait, bounded."""
    asked_ms = _now_ms()
    try:  # a caller leaving even while the question is recorded gets it closed
        await app.audit.record("confirm.asked", mode="in_call", **asked)
        async with asyncio.timeout(CONFIRM_WAIT_S):
            answer = await call.ask(CONFIRM_KEY, "elicitation/create", elicitation_params(summary))
    except TimeoutError:
        return await _answered(app, asked, asked_ms, Decision.TIMED_OUT, None, f"no answer within {CONFIRM_WAIT_S:g} s")
    except asyncio.CancelledError:  # the gateway cancelled the call or went away: the question is closed unanswered
        await asyncio.shield(
            _answered(app, asked, asked_ms, Decision.TIMED_OUT, None, "no answer (the call ended while asking)")
        )
        raise
    except InputUnavailable as exc:
        if exc.code == _MISSING_CAPABILITY:
            await app.audit.record("confirm.unavailable", ids=asked["ids"], error=exc.message)
            raise ConfirmationUnavailable(
                f"not sent: a person must approve this order, and this MCP client cannot ask ({exc.message}) "
                f"[{', '.join(asked['ids'].values())}]"
            ) from None
        return await _answered(app, asked, asked_ms, Decision.TIMED_OUT, None, f"no answer ({exc.message})")
    return await _answered(app, asked, asked_ms, decide(answer), answer, "")


async def _by_result(
    app: App, call: ToolCall, summary: OrderSummary, asked: dict[str, Any], ids: Mapping[str, str]
) -> Refused | None:
    """Rule 3: the retry's answer counts for the very parameters asked about, within the wait."""
    state, answer = _state(), call.answers.get(CONFIRM_KEY)
    if state is not None and answer is not None and state.digest == asked["digest"]:
        late = _now_ms() - state.asked_ms > CONFIRM_WAIT_S * 1000
        if late:
            return await _answered(app, asked, state.asked_ms, Decision.TIMED_OUT, answer,
                                   f"the answer came more than {CONFIRM_WAIT_S:g} s after the question")
        return await _answered(app, asked, state.asked_ms, decide(answer), answer, "")
    fresh = _State(asked["digest"], dict(ids), _now_ms())
    await app.audit.record("confirm.asked", mode="input_required", **asked)
    raise InputNeeded({CONFIRM_KEY: ("elicitation/create", elicitation_params(summary))}, state=fresh.encode())


_WHY = {
    Decision.DECLINED: "the person declined it",
    Decision.CANCELLED: "the person cancelled the question",
    Decision.TIMED_OUT: "no approval came",
}


async def _answered(
    app: App, asked: dict[str, Any], asked_ms: int, decision: Decision, answer: Mapping[str, Any] | None, detail: str
) -> Refused | None:
    record = {
        "decision": decision.value,
        "answer": dict(answer) if answer is not None else None,
        "asked_at_ms": asked_ms,
        "answered_at_ms": _now_ms(),
        "digest": asked["digest"],
        "ids": asked["ids"],
    }
    await app.audit.record(f"confirm.{decision.value}", tool=asked["tool"], **record, detail=detail or None)
    log.info("order_confirmation", tool=asked["tool"], decision=decision.value, ids=list(asked["ids"].values()))
    if decision.approved:
        _APPROVAL.set(record)
        return None
    why = _WHY.get(decision, decision.value) + (f" ({detail})" if detail else "")
    return Refused(decision, f"Not placed: {why}; nothing was sent to the exchange.")


async def _summary(
    app: App,
    rules: SymbolRules,
    tool: str,
    legs: Sequence[tuple[str, plan.OrderIntent]],
    values: Sequence[Decimal | None],
    list_client_order_id: str | None,
    replaces: str | None,
) -> OrderSummary:
    bid = ask = rate = None
    with contextlib.suppress(ProviderError, KeyError, ValueError, ArithmeticError):
        top = (await app.client.book_ticker(rules.symbol)).data
        bid, ask = Decimal(top["bidPrice"]), Decimal(top["askPrice"])
    with contextlib.suppress(ProviderError, KeyError, ValueError, ArithmeticError, TypeError):
        rates = (await app.client.account(omit_zero_balances=True)).data["commissionRates"]
        rate = Decimal(rates["taker"])
    return OrderSummary(
        tool.removeprefix("binance."),
        rules.symbol,
        tuple(leg_view(role, intent, v) for (role, intent), v in zip(legs, values, strict=True)),
        app.settings.trading.cap_asset,
        list_client_order_id=list_client_order_id,
        bid=bid,
        ask=ask,
        taker_rate=rate,
        replaces=replaces,
    )


def _now_ms() -> int:
    return int(time.time() * 1000)
