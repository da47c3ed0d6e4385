"""User data events straight from the matching engine (pure core, time as argument): every order
state change is an executionReport in Binance's shape, balance changes follow as one
outboundAccountPosition per matching event, and listeners see them in engine order."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from simulator.book import Side
from simulator.engine import Engine
from simulator.exchange import Market
from simulator.symbols import DEFAULT_SYMBOLS
from tests.simulator.test_engine import T0, D, best, open_spread, req
from tests.simulator.test_public_rest import example

ALWAYS = set(example("uds_executionReport.json")["event"]) - {"v"}
"""Every field of Binance's example report except `v` (conditional: only on STP expiry)."""


@pytest.fixture
def engine() -> Engine:
    return Engine(Market(dict(DEFAULT_SYMBOLS), seed=7, start_ms=T0 - 60_000))


@pytest.fixture
def events(engine: Engine) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    engine.event_listeners.append(seen.append)
    return seen


def kinds(events: list[dict[str, Any]]) -> list[str]:
    return [e["x"] if e["e"] == "executionReport" else e["e"] for e in events]


def position(engine: Engine, *assets: str) -> list[dict[str, str]]:
    acct = engine.account
    return [{"a": a, "f": f"{acct.free[a]:.8f}", "l": f"{acct.locked[a]:.8f}"} for a in assets]


def test_resting_limit_order_reports_new_then_the_locked_balance(
    engine: Engine, events: list[dict[str, Any]]
) -> None:
    bid, _ = best(engine, "BTCUSDT", Side.BID)
    o = engine.place(req(price=str(bid - 10), cid="rest-1"), T0)
    assert kinds(events) == ["NEW", "outboundAccountPosition"]
    new, pos = events
    assert ALWAYS <= set(new) and "eR" not in new and "j" not in new
    assert new["e"] == "executionReport" and new["E"] == new["T"] == new["O"] == new["W"] == T0
    assert (new["s"], new["c"], new["S"], new["o"], new["f"]) == (
        "BTCUSDT", "rest-1", "BUY", "LIMIT", "GTC")
    assert (new["X"], new["C"], new["r"], new["i"], new["g"], new["t"]) == (
        "NEW", "", "NONE", o.order_id, -1, -1)
    assert (new["n"], new["N"], new["w"], new["m"], new["M"], new["V"]) == (
        "0", None, True, False, False, "EXPIRE_MAKER")
    assert D(new["q"]) == D("0.01") and D(new["p"]) == bid - 10 and D(new["z"]) == 0
    assert pos == {"e": "outboundAccountPosition", "E": T0, "u": T0, "B": position(engine, "USDT")}


def test_market_order_reports_new_then_each_trade_then_one_position(
    engine: Engine, events: list[dict[str, Any]]
) -> None:
    st = engine.market.symbols["BTCUSDT"]
    asks = st.book.asks.top(2)
    qty = st.qty(asks[0][1] + 1)  # two fills: the whole best level and one lot of the next
    o = engine.place(req(type_="MARKET", tif=None, qty=str(qty), cid="mkt"), T0)
    assert kinds(events) == ["NEW", "TRADE", "TRADE", "outboundAccountPosition"]
    new, t1, t2, pos = events
    assert new["w"] is True and new["X"] == "NEW" and new["p"] == "0.00000000"
    for report, fill in zip((t1, t2), o.fills, strict=True):
        assert (report["t"], D(report["L"]), D(report["l"]), D(report["n"]), report["N"]) == (
            fill.trade_id, fill.price, fill.qty, fill.commission, "BTC")
        assert D(report["Y"]) == fill.price * fill.qty
        assert report["m"] is False and report["M"] is True and report["w"] is False
    assert (t1["X"], t2["X"]) == ("PARTIALLY_FILLED", "FILLED")
    assert D(t2["z"]) == qty and D(t2["Z"]) == o.cum_quote
    assert new["I"] < t1["I"] < t2["I"]
    assert pos["B"] == position(engine, "BTC", "USDT")


def test_cancel_reports_the_cancel_id_and_the_original_id(
    engine: Engine, events: list[dict[str, Any]]
) -> None:
    bid, _ = best(engine, "BTCUSDT", Side.BID)
    o = engine.place(req(price=str(bid - 10), cid="orig"), T0)
    events.clear()
    engine.cancel(o, T0 + 5, "the-cancel")
    assert kinds(events) == ["CANCELED", "outboundAccountPosition"]
    cancel, pos = events
    assert (cancel["c"], cancel["C"], cancel["X"], cancel["w"], cancel["T"]) == (
        "the-cancel", "orig", "CANCELED", False, T0 + 5)
    assert pos["B"] == [{"a": "USDT", "f": "100000.00000000", "l": "0.00000000"}]
    assert pos["u"] == T0 + 5 == engine.account.update_time


def test_synthetic_flow_fills_a_resting_order_as_maker(
    engine: Engine, events: list[dict[str, Any]]
) -> None:
    st = engine.market.symbols["BTCUSDT"]
    open_spread(engine)
    bid, _ = best(engine, "BTCUSDT", Side.BID)
    sell = engine.place(req(side="SELL", price=str(bid + D("0.01")), qty="0.0002"), T0)
    events.clear()
    engine.synthetic_take("BTCUSDT", Side.BID, 10, T0 + 1)  # 20 lots: half, then the rest
    engine.synthetic_take("BTCUSDT", Side.BID, 10, T0 + 2)
    assert kinds(events) == ["TRADE", "outboundAccountPosition"] * 2
    first, _, second, pos = events
    assert (first["X"], first["m"], first["w"], second["X"], second["w"]) == (
        "PARTIALLY_FILLED", True, True, "FILLED", False)
    assert first["i"] == second["i"] == sell.order_id and first["N"] == "USDT"
    assert pos["B"] == position(engine, "BTC", "USDT") and st.last_price == bid + D("0.01")


def test_ioc_and_fok_expire_with_their_expiry_reason(
    engine: Engine, events: list[dict[str, Any]]
) -> None:
    bid, _ = best(engine, "BTCUSDT", Side.BID)
    engine.place(req(price=str(bid - 10), tif="IOC", cid="ioc"), T0)
    engine.place(req(price=str(bid - 10), tif="FOK", cid="fok"), T0)
    assert kinds(events) == ["NEW", "EXPIRED", "NEW", "EXPIRED"]  # funds locked and back: no change
    assert events[1]["eR"] == "UNFILLED_IOC_QUANTITY_EXPIRED" and events[1]["X"] == "EXPIRED"
    assert events[3]["eR"] == "UNFILLED_FOK_ORDER_EXPIRED"


def test_market_order_on_a_thin_book_expires_with_insufficient_liquidity(
    engine: Engine, events: list[dict[str, Any]]
) -> None:
    st = engine.market.symbols["DOGEBTC"]
    engine.set_balance("BTC", D(1000), None, T0 - 1)
    events.clear()
    depth = sum(q for _, q in st.book.asks.top(10_000))
    engine.place(req(symbol="DOGEBTC", type_="MARKET", tif=None, qty=str(st.qty(depth + 1000))), T0)
    assert kinds(events)[0] == "NEW" and kinds(events)[-2:] == ["EXPIRED", "outboundAccountPosition"]
    assert events[-2]["eR"] == "INSUFFICIENT_LIQUIDITY" and D(events[-2]["z"]) == st.qty(depth)


def test_stop_reports_new_off_book_then_new_on_trigger_then_its_fill(
    engine: Engine, events: list[dict[str, Any]]
) -> None:
    st = engine.market.symbols["BTCUSDT"]
    bid, _ = best(engine, "BTCUSDT", Side.BID)
    stop = engine.place(req(side="SELL", type_="STOP_LOSS", tif=None, qty="0.001", stop=str(bid),
                            cid="stop"), T0)
    placed = events[0]
    assert (placed["x"], placed["w"], placed["P"]) == ("NEW", False, f"{bid:.8f}")
    assert "W" not in placed  # not working yet
    events.clear()
    engine.synthetic_take("BTCUSDT", Side.ASK, st.book.bids.total(st.book.bids.best() or 0), T0 + 10)
    mine = [e for e in events if e["e"] != "executionReport" or e["i"] == stop.order_id]
    assert kinds(mine)[:2] == ["NEW", "TRADE"] and kinds(mine)[-1] == "outboundAccountPosition"
    assert mine[0]["w"] is True and mine[0]["W"] == T0 + 10 and mine[-2]["X"] == "FILLED"


def test_self_trade_prevention_reports_the_prevented_match(
    engine: Engine, events: list[dict[str, Any]]
) -> None:
    open_spread(engine)
    bid, _ = best(engine, "BTCUSDT", Side.BID)
    price = bid + D("0.01")
    maker = engine.place(req(side="SELL", price=str(price), qty="0.001", cid="mk"), T0)
    taker_req = req(side="BUY", price=str(price), qty="0.002", cid="tk")
    events.clear()
    taker = engine.place(taker_req, T0 + 1)
    assert kinds(events) == ["NEW", "TRADE_PREVENTION", "outboundAccountPosition"]
    prevented = events[1]
    assert (prevented["i"], prevented["X"], prevented["v"], prevented["U"], prevented["Cs"]) == (
        maker.order_id, "EXPIRED_IN_MATCH", 0, taker.order_id, "BTCUSDT")
    assert D(prevented["A"]) == D(prevented["B"]) == D(prevented["pl"]) == D("0.001")
    assert D(prevented["pL"]) == price and D(prevented["pY"]) == price * D("0.001")
    assert prevented["u"] == -1 and "eR" not in prevented


def test_quote_order_qty_market_buy_ends_on_a_filled_trade(
    engine: Engine, events: list[dict[str, Any]]
) -> None:
    o = engine.place(req(type_="MARKET", tif=None, qty=None, quote="100"), T0)
    reports = [e for e in events if e["e"] == "executionReport"]
    assert reports[0]["Q"] == "100.00000000" and o.status == "FILLED"
    assert reports[-1]["x"] == "TRADE" and reports[-1]["X"] == "FILLED"
    assert D(reports[-1]["q"]) == D(reports[-1]["z"]) == o.executed_qty


def test_balance_set_from_outside_is_a_balance_update(
    engine: Engine, events: list[dict[str, Any]]
) -> None:
    engine.set_balance("USDT", D("12.5"), None, T0)
    engine.set_balance("USDT", D("12.5"), None, T0 + 1)  # unchanged: nothing to report
    engine.set_balance("NEW", None, D(3), T0 + 2)  # locked only: no deposit
    assert events == [
        {"e": "balanceUpdate", "E": T0, "a": "USDT", "d": "-99987.50000000", "T": T0},
        {"e": "outboundAccountPosition", "E": T0, "u": T0,
         "B": [{"a": "USDT", "f": "12.50000000", "l": "0.00000000"}]},
        {"e": "outboundAccountPosition", "E": T0 + 2, "u": T0 + 2,
         "B": [{"a": "NEW", "f": "0.00000000", "l": "3.00000000"}]},
    ]


def test_listeners_never_see_an_operation_half_done(engine: Engine) -> None:
    seen: list[tuple[str, Decimal]] = []
    engine.event_listeners.append(
        lambda e: seen.append((e["e"], engine.account.free["BTC"])))
    st = engine.market.symbols["BTCUSDT"]
    qty = st.qty(st.book.asks.top(1)[0][1] + 1)
    engine.place(req(type_="MARKET", tif=None, qty=str(qty)), T0)
    final = engine.account.free["BTC"]
    assert [btc for _, btc in seen] == [final] * len(seen)  # delivered after the whole match
