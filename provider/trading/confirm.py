"""When a person must approve an order, what they are shown, and what their answer means; pure.

Rules (issue 16, "A human in the loop"):
1. `BINANCE_CONFIRM_ORDERS` is ``never`` | ``always`` | ``above:<notional>``; the notional is in
   the cap asset (`BINANCE_CAP_ASSET`) and compared with the order's (or the list's largest
   order's) worst case. Default: ``never`` on the sandbox and testnet, ``always`` on mainnet.
   An order whose worst case cannot be bounded (a pegged order) needs approval under ``above:``.
2. The person is asked through the client (MCP elicitation, form mode) with a plain summary and
   one boolean, ``approve`` (default false): only ``accept`` with ``approve: true`` approves.
   ``decline``, ``cancel``, ``approve: false``, no answer within the wait, or a client that cannot
   be asked: nothing is sent.
3. An approval is bound to the exact order: the digest of the parameters that would be sent,
   client order ids included. An answer brought back for other parameters approves nothing.
4. Nothing here is a token: the approval is the person's answer relayed by the client, never
   anything a tool argument can carry.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "APPROVE_FIELD",
    "ConfirmMode",
    "ConfirmPolicy",
    "Decision",
    "LegView",
    "OrderSummary",
    "decide",
    "elicitation_params",
    "params_digest",
    "parse_policy",
]

APPROVE_FIELD = "approve"


class ConfirmMode(enum.Enum):
    NEVER = "never"
    ALWAYS = "always"
    ABOVE = "above"


@dataclass(frozen=True)
class ConfirmPolicy:
    """The operator's rule for asking a person before an order is sent."""

    mode: ConfirmMode = ConfirmMode.NEVER
    threshold: Decimal | None = None
    """``above`` only: orders whose worst case is above it (in the cap asset) are asked."""

    def needs(self, worst_cases: Sequence[Decimal | None]) -> bool:
        """Whether orders with these worst cases (None: not bounded) need approval."""
        if self.mode is ConfirmMode.NEVER:
            return False
        if self.mode is ConfirmMode.ALWAYS:
            return True
        assert self.threshold is not None
        return any(w is None or w > self.threshold for w in worst_cases) or not worst_cases

    def describe(self) -> str:
        if self.mode is ConfirmMode.ABOVE:
            return f"above:{self.threshold}"
        return str(self.mode.value)


def parse_policy(raw: str | None, *, mainnet: bool) -> ConfirmPolicy:
    """`BINANCE_CONFIRM_ORDERS` as a policy (None or empty: the environment's default).

    Raises:
        ValueError: not ``never``, ``always`` or ``above:<positive decimal>``.
    """
    text = (raw or "").strip().lower()
    if not text:
        return ConfirmPolicy(ConfirmMode.ALWAYS if mainnet else ConfirmMode.NEVER)
    if text in ("never", "always"):
        return ConfirmPolicy(ConfirmMode(text))
    if text.startswith("above:"):
        number = text.removeprefix("above:").strip()
        try:
            threshold = Decimal(number)
        except InvalidOperation:
            threshold = Decimal(-1)
        if threshold.is_finite() and threshold >= 0 and number:
            return ConfirmPolicy(ConfirmMode.ABOVE, threshold)
    raise ValueError(f"never, always or above:<notional in the cap asset> (e.g. above:500); got {raw!r}")


# -- what the person sees ------------------------------------------------------------------------


@dataclass(frozen=True)
class LegView:
    """One order as the person sees it; decimal strings as they will be sent."""

    role: str
    side: str
    order_type: str
    client_order_id: str
    quantity: str | None = None
    quote_order_qty: str | None = None
    price: str | None = None
    stop_price: str | None = None
    trailing_delta: int | None = None
    worst_case: Decimal | None = None
    """In the cap asset; None when not bounded or not computed."""


@dataclass(frozen=True)
class OrderSummary:
    """Everything the approval question says (and what the audit log keeps of it)."""

    tool: str
    symbol: str
    legs: Sequence[LegView]
    cap_asset: str
    list_client_order_id: str | None = None
    bid: Decimal | None = None
    ask: Decimal | None = None
    taker_rate: Decimal | None = None
    """The account's taker commission rate (a fraction), None when unknown."""
    replaces: str | None = None
    """cancel-replace: the order that would be canceled."""
    notes: Sequence[str] = field(default_factory=tuple)

    @property
    def mid(self) -> Decimal | None:
        if self.bid is None or self.ask is None or self.bid <= 0 or self.ask <= 0:
            return None
        return (self.bid + self.ask) / 2

    def distance(self, price: str | None) -> str:
        """How far ``price`` is from the mid, in percent (signed), or "" when either is unknown."""
        mid = self.mid
        if price is None or mid is None:
            return ""
        pct = (Decimal(price) - mid) / mid * 100
        return f"{pct:+.2f}% from mid {_fmt(mid)}"

    def fee(self, worst: Decimal | None) -> str:
        if worst is None or self.taker_rate is None:
            return "unknown"
        return f"at most {_fmt((worst * self.taker_rate).quantize(Decimal('0.00000001')))} {self.cap_asset} " + (
            f"(taker {_fmt(self.taker_rate * 100)}%)"
        )

    def lines(self) -> list[str]:
        head = f"{self.tool} on {self.symbol}"
        if self.list_client_order_id:
            head += f" (list client id {self.list_client_order_id})"
        out = [head + ":"]
        if self.replaces:
            out.append(f"  cancels {self.replaces} and places:")
        for leg in self.legs:
            out.extend(self._leg_lines(leg))
        worst = [leg.worst_case for leg in self.legs]
        if len(self.legs) > 1 and all(w is not None for w in worst):
            out.append(f"  largest worst case: {_fmt(max(w for w in worst if w is not None))} {self.cap_asset}")
        if self.mid is None:
            out.append("  market: bid/ask unknown")
        else:
            out.append(f"  market: bid {_fmt(self.bid)} / ask {_fmt(self.ask)}")
        out.extend(f"  {n}" for n in self.notes)
        return out

    def _leg_lines(self, leg: LegView) -> list[str]:
        label = f"{leg.role}: " if leg.role else ""
        amount = f"{leg.quantity}" if leg.quantity is not None else f"{leg.quote_order_qty} (quote)"
        out = [f"- {label}{leg.side} {amount} {leg.order_type}, client order id {leg.client_order_id}"]
        if leg.price is not None:
            out.append(f"    price {leg.price} ({self.distance(leg.price) or 'mid unknown'})")
        if leg.stop_price is not None:
            out.append(f"    stop price {leg.stop_price} ({self.distance(leg.stop_price) or 'mid unknown'})")
        if leg.trailing_delta is not None:
            out.append(f"    trailing delta {leg.trailing_delta} bps")
        worst = "not bounded" if leg.worst_case is None else f"{_fmt(leg.worst_case)} {self.cap_asset}"
        out.append(f"    worst-case notional {worst}; estimated fee {self.fee(leg.worst_case)}")
        return out

    def text(self) -> str:
        return "Approve this order?\n" + "\n".join(self.lines())

    def to_json(self) -> dict[str, Any]:
        """The summary for the audit log."""
        return {
            "tool": self.tool,
            "symbol": self.symbol,
            "list_client_order_id": self.list_client_order_id,
            "legs": [
                {k: (str(v) if isinstance(v, Decimal) else v) for k, v in leg.__dict__.items() if v is not None}
                for leg in self.legs
            ],
            "bid": _opt(self.bid),
            "ask": _opt(self.ask),
            "taker_rate": _opt(self.taker_rate),
            "cap_asset": self.cap_asset,
            "replaces": self.replaces,
        }


def elicitation_params(summary: OrderSummary) -> dict[str, Any]:
    """MCP `elicitation/create` params (form mode): the summary and one boolean, false by default."""
    return {
        "mode": "form",
        "message": summary.text(),
        "requestedSchema": {
            "type": "object",
            "properties": {
                APPROVE_FIELD: {
                    "type": "boolean",
                    "title": "Approve",
                    "description": "true sends the order to the exchange; false sends nothing",
                    "default": False,
                }
            },
            "required": [APPROVE_FIELD],
        },
    }


# -- what the answer means -------------------------------------------------------------------------


class Decision(enum.Enum):
    APPROVED = "approved"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    UNAVAILABLE = "unavailable"
    """The client could not ask the person (no elicitation, a unary caller, an error)."""

    @property
    def approved(self) -> bool:
        return self is Decision.APPROVED


def decide(answer: Mapping[str, Any]) -> Decision:
    """An MCP ElicitResult as a decision (rule 2): anything but accept + approve true sends nothing."""
    action = answer.get("action")
    if action == "accept":
        content = answer.get("content")
        approved = isinstance(content, Mapping) and content.get(APPROVE_FIELD) is True
        return Decision.APPROVED if approved else Decision.DECLINED
    if action == "cancel":
        return Decision.CANCELLED
    return Decision.DECLINED


def params_digest(params: Mapping[str, Any]) -> str:
    """Binds an approval to the exact parameters that would be sent (rule 3)."""
    text = json.dumps(dict(params), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _fmt(value: Decimal | None) -> str:
    if value is None:
        return "?"
    text = format(value.normalize(), "f")
    return text


def _opt(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
