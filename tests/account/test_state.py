"""The live account core against a model exchange: after any events, it equals a REST snapshot.

The model plays an exchange's account: orders placed, partly filled, filled, canceled, and
balances moved, emitting the user data stream's events in Binance's payloads. The property: the
state fed with a snapshot and the events equals the model's own REST view, through resyncs that
buffer events, renewals that deliver events twice, and missing events repaired by a resync.
"""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from provider.account.state import AccountState, Phase

KEYS = ("orderId", "clientOrderId", "status", "price", "origQty", "executedQty", "side", "type")


class ModelExchange:
    """One account's orders and balances, with the events each change produces."""

    def __init__(self) -> None:
        self.t = 1_000
        self.orders: dict[int, dict[str, Any]] = {}
        self.balances = {"USDT": (D("1000"), D("0")), "BTC": (D("1"), D("0"))}
        self.next_id = 1
        self.execution = 1
        self.trade = 1

    def tick(self) -> int:
        self.t += 1
        return self.t

    def report(self, o: dict[str, Any], x: str, last_qty: D = D(0), last_price: D = D(0)) -> dict[str, Any]:
        self.execution += 1
        ev = {
            "e": "executionReport", "E": self.t, "s": o["symbol"], "c": o["clientOrderId"], "S": o["side"],
            "o": o["type"], "f": "GTC", "q": o["origQty"], "p": o["price"], "P": "0", "F": "0", "g": -1,
            "C": o["clientOrderId"] if x == "CANCELED" else "", "x": x, "X": o["status"], "r": "NONE",
            "i": o["orderId"], "l": str(last_qty), "z": o["executedQty"], "L": str(last_price), "n": "0",
            "N": None, "T": self.t, "t": self.trade if x == "TRADE" else -1, "I": self.execution,
            "w": o["status"] in ("NEW", "PARTIALLY_FILLED"), "m": True, "M": False, "O": o["time"],
            "Z": o["cummulativeQuoteQty"], "Y": str(last_qty * last_price), "Q": "0", "V": "NONE",
        }
        if x == "TRADE":
            self.trade += 1
        return ev

    def position(self, *assets: str) -> dict[str, Any]:
        return {"e": "outboundAccountPosition", "E": self.t, "u": self.t,
                "B": [{"a": a, "f": str(self.balances[a][0]), "l": str(self.balances[a][1])} for a in assets]}

    def place(self, qty: D) -> list[dict[str, Any]]:
        t = self.tick()
        oid = self.next_id
        self.next_id += 1
        o = {"symbol": "BTCUSDT", "orderId": oid, "clientOrderId": f"c{oid}", "side": "BUY", "type": "LIMIT",
             "price": "100", "origQty": str(qty), "executedQty": "0", "cummulativeQuoteQty": "0", "status": "NEW",
             "time": t, "updateTime": t}
        self.orders[oid] = o
        free, locked = self.balances["USDT"]
        self.balances["USDT"] = (free - qty * 100, locked + qty * 100)
        return [self.report(o, "NEW"), self.position("USDT")]

    def fill(self, oid: int, part: D) -> list[dict[str, Any]]:
        o = self.orders[oid]
        left = D(o["origQty"]) - D(o["executedQty"])
        qty = min(left, part)
        if qty <= 0 or o["status"] not in ("NEW", "PARTIALLY_FILLED"):
            return []
        self.tick()
        o["executedQty"] = str(D(o["executedQty"]) + qty)
        o["cummulativeQuoteQty"] = str(D(o["cummulativeQuoteQty"]) + qty * 100)
        o["status"] = "FILLED" if D(o["executedQty"]) == D(o["origQty"]) else "PARTIALLY_FILLED"
        o["updateTime"] = self.t
        free, locked = self.balances["USDT"]
        self.balances["USDT"] = (free, locked - qty * 100)
        bfree, blocked = self.balances["BTC"]
        self.balances["BTC"] = (bfree + qty, blocked)
        return [self.report(o, "TRADE", qty, D(100)), self.position("USDT", "BTC")]

    def cancel(self, oid: int) -> list[dict[str, Any]]:
        o = self.orders[oid]
        if o["status"] not in ("NEW", "PARTIALLY_FILLED"):
            return []
        self.tick()
        o["status"], o["updateTime"] = "CANCELED", self.t
        left = (D(o["origQty"]) - D(o["executedQty"])) * 100
        free, locked = self.balances["USDT"]
        self.balances["USDT"] = (free + left, locked - left)
        return [self.report(o, "CANCELED"), self.position("USDT")]

    def rest_account(self) -> dict[str, Any]:
        return {"accountType": "SPOT", "canTrade": True, "updateTime": self.t,
                "balances": [{"asset": a, "free": str(f), "locked": str(lk)} for a, (f, lk) in self.balances.items()]}

    def rest_open_orders(self) -> list[dict[str, Any]]:
        return [dict(o) for o in self.orders.values() if o["status"] in ("NEW", "PARTIALLY_FILLED")]


ops = st.lists(
    st.one_of(
        st.tuples(st.just("place"), st.integers(1, 5)),
        st.tuples(st.just("fill"), st.integers(1, 12), st.integers(1, 5)),
        st.tuples(st.just("cancel"), st.integers(1, 12)),
        st.tuples(st.just("resync")),
        st.tuples(st.just("duplicate")),
    ),
    max_size=40,
)


def view(state: AccountState) -> tuple[list[tuple[Any, ...]], dict[str, tuple[D, D]]]:
    orders = [tuple(str(o[k]) if k.endswith("Qty") or k == "price" else o[k] for k in KEYS)
              for o in state.open_orders_json()]
    balances = {a: (D(f), D(lk)) for a, (f, lk) in state.balances.items()}
    return sorted(orders), balances


def model_view(model: ModelExchange) -> tuple[list[tuple[Any, ...]], dict[str, tuple[D, D]]]:
    state = AccountState()
    state.begin_resync("model")
    state.load_snapshot(model.rest_account(), model.rest_open_orders())
    return view(state)


def normalise(v: tuple[list[tuple[Any, ...]], dict[str, tuple[D, D]]]) -> Any:
    orders, balances = v
    return [tuple(D(x) if i in (3, 4, 5) else x for i, x in enumerate(o)) for o in orders], balances


@settings(max_examples=150, deadline=None, derandomize=True)
@given(ops=ops)
def test_the_state_fed_by_events_equals_the_exchanges_rest_view(ops: list[tuple[Any, ...]]) -> None:
    model = ModelExchange()
    state = AccountState()
    state.begin_resync("start")
    state.load_snapshot(model.rest_account(), model.rest_open_orders())
    last: list[dict[str, Any]] = []
    for op in ops:
        events: list[dict[str, Any]] = []
        if op[0] == "place":
            events = model.place(D(op[1]))
        elif op[0] == "fill" and op[1] in model.orders:
            events = model.fill(op[1], D(op[2]))
        elif op[0] == "cancel" and op[1] in model.orders:
            events = model.cancel(op[1])
        elif op[0] == "resync":  # events around a snapshot are buffered, then applied on top of it
            state.begin_resync("periodic")
            for ev in model.place(D(2)):  # before the REST answers were taken: the snapshot shows it
                state.apply(ev)
            account, open_orders = model.rest_account(), model.rest_open_orders()
            for ev in model.fill(model.next_id - 1, D(1)):  # after: only the buffer has it
                state.apply(ev)
            state.load_snapshot(account, open_orders)
        elif op[0] == "duplicate":  # a renewal's two connections deliver the same events
            events = last
        for ev in events:
            state.apply(ev)
        if events and op[0] != "duplicate":
            last = events
        assert state.phase is Phase.LIVE, state.reason
        assert normalise(view(state)) == normalise(model_view(model))


def test_a_fill_of_an_order_never_seen_is_a_gap_and_a_resync_converges() -> None:
    model = ModelExchange()
    state = AccountState()
    state.begin_resync("start")
    state.load_snapshot(model.rest_account(), model.rest_open_orders())
    model.place(D(4))  # events lost
    model.fill(1, D(1))
    for ev in model.fill(1, D(1)):
        state.apply(ev)
    assert state.phase is Phase.DOWN and "never seen" in state.reason
    state.begin_resync("after gap")
    state.load_snapshot(model.rest_account(), model.rest_open_orders())
    assert state.live and normalise(view(state)) == normalise(model_view(model))


def test_the_end_of_the_subscription_ends_live_and_a_closed_order_stays_findable() -> None:
    model = ModelExchange()
    state = AccountState()
    state.begin_resync("start")
    state.load_snapshot(model.rest_account(), [])
    for ev in model.place(D(1)) + model.fill(1, D(1)):
        state.apply(ev)
    found = state.order("BTCUSDT", client_order_id="c1")
    assert found is not None and found["status"] == "FILLED" and state.trades("BTCUSDT")[0]["qty"] == "1"
    state.apply({"e": "eventStreamTerminated", "E": model.t})
    assert not state.live and state.gaps == 1


def test_a_failed_periodic_check_keeps_the_state_live_with_what_arrived_meanwhile() -> None:
    model = ModelExchange()
    state = AccountState()
    state.begin_resync("start")
    state.load_snapshot(model.rest_account(), [])
    state.begin_resync("periodic")
    for ev in model.place(D(1)):
        state.apply(ev)
    assert not state.live
    state.abort_resync("RateLimited")
    assert state.live and normalise(view(state)) == normalise(model_view(model))
    state.down("dropped")
    state.begin_resync("reconnected")
    state.abort_resync("RateLimited")
    assert state.phase is Phase.DOWN
