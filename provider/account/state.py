"""The account as the user data stream tells it: balances, open orders, recent fills; pure.

Fed by the shell (`stream.py`) with REST snapshots and stream events (spec §8.3); no I/O, no clock
(event times come from the events, snapshot times from the caller).

Rules:
1. The state is *live* only after a REST snapshot taken while subscribed: events that arrive
   during the snapshot are buffered, then applied on top of it if they are not older than what
   the snapshot already shows (balances: ``u`` against the account's ``updateTime``; an order: its
   event time against the order's ``updateTime``).
2. Anything the state cannot account for ends *live*: the connection dropping, the subscription
   ending (``eventStreamTerminated``), an order's filled quantity going backwards, a fill of an
   order the state never saw. The shell then resynchronises from REST before serving again.
3. An execution report is applied once (its execution id ``I``), so the overlap of two
   connections during a renewal cannot count a fill twice; ``outboundAccountPosition`` carries
   absolute values and is applied only when newer (``u``).
4. Orders are kept in REST's query-order shape, so every reader maps them exactly as REST answers.
"""

from __future__ import annotations

import enum
from collections import OrderedDict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = ["OPEN_STATUSES", "AccountState", "Change", "Phase", "order_from_report", "trade_from_report"]

OPEN_STATUSES = frozenset({"NEW", "PARTIALLY_FILLED", "PENDING_NEW"})
_KEEP_CLOSED = 2000
_KEEP_FILLS = 2000
_KEEP_EXECUTIONS = 20000


class Phase(enum.Enum):
    """Where the state is: DOWN (no subscription), RESYNCING (buffering behind a snapshot), LIVE."""

    DOWN = "DOWN"
    RESYNCING = "RESYNCING"
    LIVE = "LIVE"


@dataclass(frozen=True)
class Change:
    """What one event changed, for notifications and waiters: ``kind`` is balances, order or trade."""

    kind: str
    symbol: str = ""
    order_id: int = 0
    client_order_id: str = ""
    status: str = ""


def order_from_report(ev: Mapping[str, Any]) -> dict[str, Any]:
    """An ``executionReport`` as the order REST's ``GET /api/v3/order`` would show after it."""
    canceled = ev.get("x") == "CANCELED" and ev.get("C")
    order = {
        "symbol": ev["s"],
        "orderId": ev["i"],
        "orderListId": ev.get("g", -1),
        "clientOrderId": ev["C"] if canceled else ev["c"],
        "price": ev.get("p", "0"),
        "origQty": ev.get("q", "0"),
        "executedQty": ev.get("z", "0"),
        "cummulativeQuoteQty": ev.get("Z", "0"),
        "status": ev["X"],
        "timeInForce": ev.get("f", ""),
        "type": ev.get("o", ""),
        "side": ev.get("S", ""),
        "stopPrice": ev.get("P", "0"),
        "icebergQty": ev.get("F", "0"),
        "time": ev.get("O", ev.get("T", 0)),
        "updateTime": ev.get("T", ev.get("E", 0)),
        "isWorking": bool(ev.get("w", False)),
        "origQuoteOrderQty": ev.get("Q", "0"),
        "selfTradePreventionMode": ev.get("V", "NONE"),
    }
    if ev.get("eR") not in (None, "", "NONE"):
        order["expiryReason"] = ev["eR"]
    return order


def trade_from_report(ev: Mapping[str, Any]) -> dict[str, Any]:
    """A ``TRADE`` execution report as ``GET /api/v3/myTrades`` shows the fill."""
    return {
        "symbol": ev["s"],
        "id": ev.get("t", -1),
        "orderId": ev["i"],
        "orderListId": ev.get("g", -1),
        "price": ev.get("L", "0"),
        "qty": ev.get("l", "0"),
        "quoteQty": ev.get("Y", "0"),
        "commission": ev.get("n", "0"),
        "commissionAsset": ev.get("N") or "",
        "time": ev.get("T", 0),
        "isBuyer": ev.get("S") == "BUY",
        "isMaker": bool(ev.get("m", False)),
        "isBestMatch": True,
    }


class AccountState:
    """Balances, open orders, recently closed orders and fills of one account."""

    def __init__(self) -> None:
        self.phase = Phase.DOWN
        self.reason = "not subscribed yet"
        self.account: dict[str, Any] = {}
        self.balances: dict[str, tuple[str, str]] = {}
        self.balances_update_ms = 0
        self.open_orders: dict[int, dict[str, Any]] = {}
        self.closed: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self.fills: deque[dict[str, Any]] = deque(maxlen=_KEEP_FILLS)
        self.last_event_ms = 0
        self.events_applied = 0
        self.gaps = 0
        self._buffer: list[Mapping[str, Any]] = []
        self._replaying = False
        self._was_live = False
        self._executions: OrderedDict[tuple[int, int], None] = OrderedDict()

    @property
    def live(self) -> bool:
        """True when reads may be answered from this state."""
        return self.phase is Phase.LIVE

    # -- the phases --------------------------------------------------------------------------

    def begin_resync(self, reason: str) -> None:
        """Subscribed (again), or a periodic check: buffer events until :meth:`load_snapshot`."""
        self._was_live = self.phase is Phase.LIVE
        self.phase, self.reason = Phase.RESYNCING, reason
        self._buffer.clear()

    def abort_resync(self, reason: str) -> list[Change]:
        """The snapshot could not be taken: back to LIVE with the buffered events, if it was live before
        (a periodic check failing proves nothing lost); else DOWN."""
        if self.phase is not Phase.RESYNCING or not self._was_live:
            self.down(reason)
            return []
        buffered, self._buffer = self._buffer, []
        self.phase, self.reason = Phase.LIVE, f"live (a periodic check failed: {reason})"
        changes: list[Change] = []
        for event in buffered:
            changes += self.apply(event)
        return changes

    def down(self, reason: str) -> None:
        """The subscription is gone (rule 2); nothing is served from the state until a resync."""
        if self.phase is not Phase.DOWN:
            self.gaps += 1
        self.phase, self.reason = Phase.DOWN, reason
        self._buffer.clear()

    def load_snapshot(self, account: Mapping[str, Any], open_orders: Iterable[Mapping[str, Any]]) -> list[Change]:
        """REST ``GET /api/v3/account`` and ``GET /api/v3/openOrders`` (all symbols), then the buffer."""
        self.account = {k: v for k, v in account.items() if k != "balances"}
        self.balances = {b["asset"]: (str(b["free"]), str(b["locked"])) for b in account.get("balances", [])}
        self.balances_update_ms = int(account.get("updateTime", 0) or 0)
        self.open_orders = {int(o["orderId"]): dict(o) for o in open_orders}
        buffered, self._buffer = self._buffer, []
        self.phase, self.reason = Phase.LIVE, "live"
        changes = [Change("balances")]
        self._replaying = True
        try:
            for event in buffered:
                changes += self.apply(event)
                if not self.live:
                    break
        finally:
            self._replaying = False
        return changes

    # -- events ------------------------------------------------------------------------------

    def apply(self, event: Mapping[str, Any]) -> list[Change]:
        """Applies one stream event; returns what changed (nothing while buffering or down)."""
        if self.phase is Phase.RESYNCING:
            self._buffer.append(event)
            return []
        if self.phase is Phase.DOWN:
            return []
        kind = event.get("e")
        self.last_event_ms = max(self.last_event_ms, int(event.get("E", 0) or 0))
        self.events_applied += 1
        if kind == "executionReport":
            return self._execution(event)
        if kind == "outboundAccountPosition":
            return self._position(event)
        if kind == "balanceUpdate":
            return self._balance_delta(event)
        if kind == "eventStreamTerminated":
            self.down("the exchange ended the subscription (eventStreamTerminated)")
            return []
        return []

    def _execution(self, ev: Mapping[str, Any]) -> list[Change]:
        order_id = int(ev["i"])
        execution = (order_id, int(ev.get("I", -1)))
        if execution[1] >= 0:
            if execution in self._executions:
                return []  # rule 3: the other connection of a renewal delivered it already
            self._executions[execution] = None
            while len(self._executions) > _KEEP_EXECUTIONS:
                self._executions.popitem(last=False)
        order = order_from_report(ev)
        known = self.open_orders.get(order_id) or self.closed.get(order_id)
        if known is not None and int(known.get("updateTime", 0) or 0) > int(order["updateTime"]):
            return []  # older than what a snapshot already shows
        if known is not None and Decimal(order["executedQty"]) < Decimal(known.get("executedQty", "0")):
            self.down(f"order {order_id}: filled quantity went backwards")
            return []
        # While replaying the buffer, an order that closed before the snapshot is unknown to it: not a gap.
        unseen_fill = known is None and ev.get("x") == "TRADE" and not self._replaying
        if unseen_fill and Decimal(order["executedQty"]) > Decimal(ev.get("l", "0")):
            self.down(f"order {order_id}: a fill of an order whose earlier events were never seen")
            return []
        changes = [Change("order", order["symbol"], order_id, order["clientOrderId"], order["status"])]
        if order["status"] in OPEN_STATUSES:
            self.open_orders[order_id] = order
        else:
            self.open_orders.pop(order_id, None)
            self.closed[order_id] = order
            while len(self.closed) > _KEEP_CLOSED:
                self.closed.popitem(last=False)
        if ev.get("x") == "TRADE":
            self.fills.append(trade_from_report(ev))
            changes.append(Change("trade", order["symbol"], order_id, order["clientOrderId"], order["status"]))
        return changes

    def _position(self, ev: Mapping[str, Any]) -> list[Change]:
        updated = int(ev.get("u", 0) or 0)
        if updated < self.balances_update_ms:
            return []
        self.balances_update_ms = updated
        for b in ev.get("B", []):
            self.balances[b["a"]] = (str(b["f"]), str(b["l"]))
        return [Change("balances")]

    def _balance_delta(self, ev: Mapping[str, Any]) -> list[Change]:
        # outboundAccountPosition follows with the absolute values; the delta alone is only noted
        return [Change("balances")]

    # -- reads (REST-shaped) --------------------------------------------------------------------

    def account_json(self) -> dict[str, Any]:
        """The account as ``GET /api/v3/account`` shows it, balances from the stream."""
        balances = [{"asset": a, "free": f, "locked": lk} for a, (f, lk) in sorted(self.balances.items())]
        return {**self.account, "balances": balances, "updateTime": self.balances_update_ms}

    def open_orders_json(self, symbol: str | None = None) -> list[dict[str, Any]]:
        """Open orders as ``GET /api/v3/openOrders`` lists them (oldest first)."""
        orders = [o for o in self.open_orders.values() if symbol is None or o["symbol"] == symbol]
        return sorted(orders, key=lambda o: (int(o.get("time", 0) or 0), int(o["orderId"])))

    def order(self, symbol: str, *, order_id: int | None = None, client_order_id: str | None = None) -> (
        dict[str, Any] | None
    ):
        """An order the state knows (open or recently closed), by id or client order id."""
        if order_id is not None:
            found = self.open_orders.get(order_id) or self.closed.get(order_id)
            return found if found is not None and found["symbol"] == symbol else None
        matches = [
            o
            for o in (*self.closed.values(), *self.open_orders.values())
            if o["symbol"] == symbol and o["clientOrderId"] == client_order_id
        ]
        return max(matches, key=lambda o: int(o["orderId"])) if matches else None

    def trades(self, symbol: str) -> list[dict[str, Any]]:
        """Recent fills on ``symbol`` seen on the stream, oldest first."""
        return [t for t in self.fills if t["symbol"] == symbol]

    def snapshot(self) -> dict[str, Any]:
        """For health: the phase and why, event counts and the last event time."""
        return {
            "phase": self.phase.value,
            "reason": self.reason,
            "last_event_ms": self.last_event_ms or None,
            "events_applied": self.events_applied,
            "gaps": self.gaps,
            "open_orders": len(self.open_orders),
        }
