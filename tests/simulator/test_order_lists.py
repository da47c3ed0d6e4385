"""Order lists, trailing stops, icebergs and amendments in the matching engine (pure core, time as
an argument): locks, fills, activation, expiry, and the executionReport / listStatus events."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from simulator.book import Side
from simulator.engine import Engine, NewOrder, Order
from simulator.errors import ApiError
from simulator.exchange import Market
from simulator.symbols import DEFAULT_SYMBOLS
from tests.simulator.test_engine import T0, D

SYM = "BTCUSDT"


@pytest.fixture
def engine() -> Engine:
    return Engine(Market(dict(DEFAULT_SYMBOLS), seed=7, start_ms=T0 - 60_000))


@pytest.fixture
def events(engine: Engine) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    engine.event_listeners.append(seen.append)
    return seen


def leg(
    type_: str,
    side: str,
    *,
    qty: str = "0.01",
    price: Decimal | None = None,
    stop: Decimal | None = None,
    tif: str | None = None,
    cid: str,
    iceberg: str | None = None,
    trailing: int | None = None,
    stp: str = "EXPIRE_MAKER",
) -> NewOrder:
    return NewOrder(
        SYM,
        side,
        type_,
        tif,
        D(qty),
        None,
        price,
        stop,
        cid,
        stp,
        iceberg_qty=D(iceberg) if iceberg else None,
        trailing_delta=trailing,
    )


def last(engine: Engine) -> Decimal:
    return engine.market.symbols[SYM].last_price


def trade_at(engine: Engine, price: Decimal, now: int) -> None:
    """Print one synthetic trade at exactly `price`: a synthetic seller hits a bid set there (the
    bids above and the synthetic asks at or below it are pulled first)."""
    st = engine.market.symbols[SYM]
    tick = int(price / st.spec.tick_size)
    for t in list(st.book.bids.iter_best()):
        if t > tick:
            st.book.set_synth(Side.BID, t, 0)
    for t in list(st.book.asks.iter_best()):
        if t <= tick:
            st.book.set_synth(Side.ASK, t, 0)
    st.book.set_synth(Side.BID, tick, 1000)
    st.book.commit()
    engine.synthetic_take(SYM, Side.ASK, 1, now)
    assert st.last_price == price


def buy_through(engine: Engine, price: Decimal, lots: int, now: int) -> None:
    """A synthetic buyer takes `lots` at `price` and below, after the synthetic asks under `price`
    are pulled (so resting account asks at `price` are reached)."""
    st = engine.market.symbols[SYM]
    tick = int(price / st.spec.tick_size)
    for t in list(st.book.asks.iter_best()):
        if t < tick:
            st.book.set_synth(Side.ASK, t, 0)
    st.book.set_synth(Side.ASK, tick, 0)
    st.book.commit()
    engine.synthetic_take(SYM, Side.BID, lots, now)


def kinds(events: list[dict[str, Any]]) -> list[str]:
    out = []
    for e in events:
        if e["e"] == "executionReport":
            out.append(f"{e['i']}:{e['x']}/{e['X']}")
        elif e["e"] == "listStatus":
            out.append(f"list:{e['l']}/{e['L']}")
        else:
            out.append(e["e"])
    return out


def oco_sell(engine: Engine, *, qty: str = "0.01") -> tuple[Decimal, Decimal]:
    """A SELL OCO: LIMIT_MAKER 2% above the last price, STOP_LOSS_LIMIT 2% below."""
    p = last(engine)
    up, down = (p * D("1.02")).quantize(D("0.01")), (p * D("0.98")).quantize(D("0.01"))
    engine.place_list(
        "OCO",
        [
            leg("LIMIT_MAKER", "SELL", qty=qty, price=up, cid="above"),
            leg("STOP_LOSS_LIMIT", "SELL", qty=qty, price=down - 10, stop=down, tif="GTC", cid="below"),
        ],
        "oco-1",
        T0,
    )
    return up, down


def by_cid(engine: Engine, cid: str) -> Order:
    order = engine.find(SYM, None, cid)
    assert order is not None
    return order


# ------------------------------------------------------------------ OCO


def test_oco_sell_locks_the_quantity_once_and_reports_both_legs_then_the_list(
    engine: Engine, events: list[dict[str, Any]]
) -> None:
    btc_before = engine.account.free["BTC"]
    lst, orders = engine.place_list(
        "OCO",
        [
            leg("LIMIT_MAKER", "SELL", price=(last(engine) * D("1.02")).quantize(D("0.01")), cid="a"),
            leg("STOP_LOSS", "SELL", stop=(last(engine) * D("0.98")).quantize(D("0.01")), cid="b"),
        ],
        "oco-lock",
        T0,
    )
    assert engine.account.locked["BTC"] == D("0.01") and engine.account.free["BTC"] == btc_before - D("0.01")
    assert [o.status for o in orders] == ["NEW", "NEW"] and lst.order_status == "EXECUTING"
    assert [o.order_list_id for o in orders] == [lst.order_list_id] * 2
    a, b = orders
    assert kinds(events) == [
        f"{a.order_id}:NEW/NEW",
        f"{b.order_id}:NEW/NEW",
        "list:EXEC_STARTED/EXECUTING",
        "outboundAccountPosition",
    ]
    status = events[2]
    assert (status["s"], status["g"], status["c"], status["C"], status["r"]) == (
        SYM,
        lst.order_list_id,
        "OCO",
        "oco-lock",
        "NONE",
    )
    assert status["O"] == [{"s": SYM, "i": a.order_id, "c": "a"}, {"s": SYM, "i": b.order_id, "c": "b"}]
    assert events[0]["g"] == lst.order_list_id and events[0]["w"] is True and events[1]["w"] is False
    assert engine.open_lists(SYM) == [engine.lists[lst.order_list_id]]


def test_a_filled_oco_limit_leg_expires_the_stop_and_ends_the_list(
    engine: Engine, events: list[dict[str, Any]]
) -> None:
    up, _ = oco_sell(engine)
    above, below = by_cid(engine, "above"), by_cid(engine, "below")
    usdt = engine.account.free["USDT"]
    events.clear()
    buy_through(engine, up, 1000, T0 + 1)  # 0.01 BTC in 0.00001 lots
    assert above.status == "FILLED" and below.status == "EXPIRED" and below.expiry_reason == "OCO_TRIGGER"
    assert engine.lists[above.order_list_id].order_status == "ALL_DONE" and engine.open_lists() == []
    assert engine.account.locked["BTC"] == 0
    proceeds = up * D("0.01")
    assert engine.account.free["USDT"] - usdt == proceeds - (proceeds * D("0.001")).quantize(D("0.00000001"))
    assert kinds(events) == [
        f"{below.order_id}:EXPIRED/EXPIRED",
        "list:ALL_DONE/ALL_DONE",
        f"{above.order_id}:TRADE/FILLED",
        "outboundAccountPosition",
    ]
    assert events[0]["eR"] == "OCO_TRIGGER"


def test_a_triggered_oco_stop_expires_the_limit_leg_and_takes_the_lock(
    engine: Engine, events: list[dict[str, Any]]
) -> None:
    up, down = oco_sell(engine)
    above, below = by_cid(engine, "above"), by_cid(engine, "below")
    st = engine.market.symbols[SYM]
    assert st.book.asks.user.get(int(up / st.spec.tick_size)) == 1000  # the limit leg is on the book
    events.clear()
    trade_at(engine, down, T0 + 1)
    assert below.is_working and below.working_time == T0 + 1 and below.status in ("NEW", "PARTIALLY_FILLED", "FILLED")
    assert above.status == "EXPIRED" and above.expiry_reason == "OCO_TRIGGER"
    assert st.book.asks.user.get(int(up / st.spec.tick_size), 0) == 0
    assert below.locked + (below.executed_qty) == D("0.01")  # the whole lock moved to the stop leg
    assert engine.account.locked["BTC"] == below.locked
    names = kinds(events)
    assert (
        names.index(f"{below.order_id}:NEW/NEW")
        < names.index(f"{above.order_id}:EXPIRED/EXPIRED")
        < names.index("list:ALL_DONE/ALL_DONE")
    )


def test_a_buy_oco_locks_its_larger_leg_and_releases_the_rest_when_the_limit_leg_fills(engine: Engine) -> None:
    p = last(engine)
    low, high = (p * D("0.98")).quantize(D("0.01")), (p * D("1.02")).quantize(D("0.01"))
    engine.place_list(
        "OCO",
        [
            leg("STOP_LOSS_LIMIT", "BUY", price=high + 50, stop=high, tif="GTC", cid="stop"),
            leg("LIMIT_MAKER", "BUY", price=low, cid="limit"),
        ],
        "oco-buy",
        T0,
    )
    assert engine.account.locked["USDT"] == (high + 50) * D("0.01")
    limit = by_cid(engine, "limit")
    trade_at(engine, low, T0 + 1)  # a seller at the limit leg's price: bids above pulled, it is the best bid
    st = engine.market.symbols[SYM]
    st.book.set_synth(Side.BID, int(low / st.spec.tick_size), 0)
    st.book.commit()
    engine.synthetic_take(SYM, Side.ASK, 1000, T0 + 2)
    assert limit.status == "FILLED" and by_cid(engine, "stop").status == "EXPIRED"
    assert engine.account.locked["USDT"] == 0


@pytest.mark.parametrize(
    ("side", "above", "below", "code"),
    [
        ("SELL", "STOP_LOSS", "LIMIT_MAKER", -1166),
        ("SELL", "STOP_LOSS", "STOP_LOSS_LIMIT", -1197),
        ("SELL", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT", -1168),
        ("BUY", "LIMIT_MAKER", "STOP_LOSS", -1165),
        ("BUY", "TAKE_PROFIT", "STOP_LOSS", -1198),
        ("BUY", "STOP_LOSS", "STOP_LOSS_LIMIT", -1196),
        ("SELL", "STOP_LOSS", "TAKE_PROFIT", -1199),
        ("SELL", "LIMIT", "STOP_LOSS", -1158),
    ],
)
def test_oco_leg_types_and_positions_are_binances(side: str, above: str, below: str, code: int) -> None:
    from simulator.orderlists import check_oco_types

    with pytest.raises(ApiError) as err:
        check_oco_types(side, above, below)
    assert err.value.code == code


def test_oco_prices_on_the_wrong_side_of_the_last_price_are_refused(engine: Engine) -> None:
    p = last(engine)
    with pytest.raises(ApiError) as err:
        engine.place_list(
            "OCO",
            [
                leg("LIMIT_MAKER", "SELL", price=(p * D("1.02")).quantize(D("0.01")), cid="a"),
                leg("STOP_LOSS", "SELL", stop=(p * D("1.01")).quantize(D("0.01")), cid="b"),
            ],
            "bad",
            T0,
        )
    assert (err.value.code, err.value.msg) == (-2010, "The relationship of the prices for the orders is not correct.")
    assert engine.lists == {} and engine.open_orders() == [] and engine.account.locked["BTC"] == 0


def test_canceling_one_leg_cancels_the_list(engine: Engine, events: list[dict[str, Any]]) -> None:
    oco_sell(engine)
    above, below = by_cid(engine, "above"), by_cid(engine, "below")
    events.clear()
    engine.cancel(below, T0 + 1, "cxl")
    assert above.status == below.status == "CANCELED" and engine.account.locked["BTC"] == 0
    assert kinds(events) == [
        f"{above.order_id}:CANCELED/CANCELED",
        f"{below.order_id}:CANCELED/CANCELED",
        "list:ALL_DONE/ALL_DONE",
        "outboundAccountPosition",
    ]
    assert {e["c"] for e in events[:2]} == {"cxl"}


def test_max_num_order_lists_is_enforced_per_symbol(engine: Engine) -> None:
    spec = engine.market.symbols[SYM].spec
    p = last(engine)
    low, high = (p * D("0.9")).quantize(D("0.01")), (p * D("1.1")).quantize(D("0.01"))
    for i in range(spec.max_num_order_lists):  # OTOs without stops: MAX_NUM_ALGO_ORDERS stays out of it
        engine.place_list(
            "OTO",
            [
                leg("LIMIT", "BUY", qty="0.001", price=low, tif="GTC", cid=f"w{i}"),
                leg("LIMIT_MAKER", "SELL", qty="0.001", price=high, cid=f"p{i}"),
            ],
            f"l{i}",
            T0,
        )
    with pytest.raises(ApiError) as err:
        engine.place_list(
            "OTO",
            [
                leg("LIMIT", "BUY", qty="0.001", price=low, tif="GTC", cid="w"),
                leg("LIMIT_MAKER", "SELL", qty="0.001", price=high, cid="p"),
            ],
            "one-more",
            T0,
        )
    assert (err.value.code, err.value.msg) == (-1013, "Filter failure: MAX_NUM_ORDER_LISTS")
    assert len(engine.open_lists(SYM)) == spec.max_num_order_lists


# ------------------------------------------------------------------ OTO / OTOCO


def test_oto_pending_order_waits_then_goes_on_the_book_when_the_working_order_fills(
    engine: Engine, events: list[dict[str, Any]]
) -> None:
    p = last(engine)
    buy_at, sell_at = (p * D("0.99")).quantize(D("0.01")), (p * D("1.03")).quantize(D("0.01"))
    lst, shown = engine.place_list(
        "OTO",
        [
            leg("LIMIT", "BUY", price=buy_at, tif="GTC", cid="w"),
            leg("LIMIT_MAKER", "SELL", price=sell_at, cid="p"),
        ],
        "oto-1",
        T0,
    )
    working, pending = by_cid(engine, "w"), by_cid(engine, "p")
    assert [o.status for o in shown] == ["NEW", "PENDING_NEW"] and shown[1].working_time == -1
    assert engine.account.locked["USDT"] == buy_at * D("0.01") and engine.account.locked["BTC"] == 0
    assert pending in engine.open_orders(SYM)  # pending orders count as open
    events.clear()
    trade_at(engine, buy_at, T0 + 1)
    st = engine.market.symbols[SYM]
    st.book.set_synth(Side.BID, int(buy_at / st.spec.tick_size), 0)
    st.book.commit()
    engine.synthetic_take(SYM, Side.ASK, 1000, T0 + 2)
    assert working.status == "FILLED" and pending.status == "NEW" and pending.working_time == T0 + 2
    assert engine.lists[lst.order_list_id].order_status == "ALL_DONE"
    assert engine.account.locked["BTC"] == D("0.01")  # the pending SELL now locks what was bought
    assert st.book.asks.user.get(int(sell_at / st.spec.tick_size)) == 1000
    names = kinds(events)
    assert (
        names.index(f"{working.order_id}:TRADE/FILLED")
        < names.index(f"{pending.order_id}:NEW/NEW")
        < names.index("list:ALL_DONE/ALL_DONE")
    )


def test_oto_working_order_that_expires_expires_the_pending_order(engine: Engine) -> None:
    p = last(engine)
    engine.place_list(
        "OTO",
        [
            leg("LIMIT", "BUY", price=(p * D("0.9")).quantize(D("0.01")), tif="IOC", cid="w"),
            leg("MARKET", "SELL", cid="p"),
        ],
        "oto-ioc",
        T0,
    )
    pending = by_cid(engine, "p")
    assert by_cid(engine, "w").status == "EXPIRED"
    assert pending.status == "EXPIRED" and pending.expiry_reason == "OTO_PHASE_ONE_EXPIRED"
    assert engine.open_lists() == []


def test_oto_immediately_filled_working_order_shows_the_pending_order_as_pending_new(engine: Engine) -> None:
    _, shown = engine.place_list(
        "OTO",
        [
            leg("LIMIT", "BUY", qty="0.001", price=(last(engine) * D("1.01")).quantize(D("0.01")), tif="GTC", cid="w"),
            leg("MARKET", "SELL", qty="0.001", cid="p"),
        ],
        "oto-now",
        T0,
    )
    assert [o.status for o in shown] == ["FILLED", "PENDING_NEW"]
    assert by_cid(engine, "p").status == "FILLED"  # placed right after the answer was taken


def test_otoco_places_its_pair_after_the_working_fill_and_the_pair_cancels_each_other(engine: Engine) -> None:
    p = last(engine)
    buy_at = (p * D("0.99")).quantize(D("0.01"))
    engine.place_list(
        "OTOCO",
        [
            leg("LIMIT", "BUY", price=buy_at, tif="GTC", cid="w"),
            leg("LIMIT_MAKER", "SELL", price=(p * D("1.05")).quantize(D("0.01")), cid="tp"),
            leg("STOP_LOSS", "SELL", stop=(p * D("0.95")).quantize(D("0.01")), cid="sl"),
        ],
        "otoco-1",
        T0,
    )
    tp, sl = by_cid(engine, "tp"), by_cid(engine, "sl")
    trade_at(engine, buy_at, T0 + 1)
    st = engine.market.symbols[SYM]
    st.book.set_synth(Side.BID, int(buy_at / st.spec.tick_size), 0)
    st.book.commit()
    engine.synthetic_take(SYM, Side.ASK, 1000, T0 + 2)
    assert tp.status == "NEW" and sl.status == "NEW" and engine.account.locked["BTC"] == D("0.01")
    assert engine.open_lists()  # the pair still executes
    trade_at(engine, (p * D("0.95")).quantize(D("0.01")), T0 + 3)
    assert tp.status == "EXPIRED" and tp.expiry_reason == "OCO_TRIGGER" and sl.is_working
    assert engine.open_lists() == []


# ------------------------------------------------------------------ trailing stops


def test_trailing_stop_sell_tracks_the_high_and_triggers_on_the_delta_down(engine: Engine) -> None:
    p = last(engine)
    order = engine.place(leg("STOP_LOSS", "SELL", qty="0.001", trailing=100, cid="trail"), T0)
    assert order.trail_extreme == p and order.trailing_time == T0 and order.trailing_delta == 100
    high = (p * D("1.05")).quantize(D("0.01"))
    trade_at(engine, high, T0 + 1)
    assert order.trail_extreme == high and order.status == "NEW"
    trigger = (high * D("0.99")).quantize(D("0.01"), rounding="ROUND_DOWN")
    trade_at(engine, trigger + D("0.01"), T0 + 2)
    assert order.status == "NEW" and not order.is_working
    trade_at(engine, trigger, T0 + 3)
    assert order.is_working and order.working_time == T0 + 3


def test_trailing_stop_with_a_stop_price_starts_tracking_once_it_is_reached(engine: Engine) -> None:
    p = last(engine)
    stop = (p * D("1.02")).quantize(D("0.01"))
    order = engine.place(
        leg("STOP_LOSS_LIMIT", "BUY", qty="0.001", price=stop * 2, stop=stop, tif="GTC", trailing=500, cid="trail-buy"),
        T0,
    )
    assert order.trail_extreme is None and order.trailing_time == -1
    trade_at(engine, (p * D("0.9")).quantize(D("0.01")), T0 + 1)  # a 10% fall: not armed, ignored
    assert order.trail_extreme is None
    trade_at(engine, stop, T0 + 2)
    assert order.trail_extreme == stop and order.trailing_time == T0 + 2
    trade_at(engine, (stop * D("0.98")).quantize(D("0.01")), T0 + 3)  # a new low
    low = order.trail_extreme
    assert low is not None and low < stop
    trade_at(engine, (low * D("1.05")).quantize(D("0.01"), rounding="ROUND_UP"), T0 + 4)
    assert order.is_working


def test_trailing_delta_outside_the_filter_is_refused(engine: Engine) -> None:
    with pytest.raises(ApiError) as err:
        engine.place(leg("STOP_LOSS", "SELL", qty="0.001", trailing=5, cid="t"), T0)
    assert (err.value.code, err.value.msg) == (-1013, "Filter failure: TRAILING_DELTA")


# ------------------------------------------------------------------ icebergs


def test_iceberg_shows_its_visible_part_and_the_next_part_after_a_fill(engine: Engine) -> None:
    st = engine.market.symbols[SYM]
    price = (last(engine) * D("1.02")).quantize(D("0.01"))
    tick = int(price / st.spec.tick_size)
    order = engine.place(leg("LIMIT", "SELL", qty="0.01", price=price, tif="GTC", iceberg="0.002", cid="ice"), T0)
    assert order.iceberg_qty == D("0.002") and st.book.asks.user[tick] == 200
    buy_through(engine, price, 200 + st.book.asks.synth.get(tick, 0), T0 + 1)
    assert order.executed_qty == D("0.002") and st.book.asks.user[tick] == 200  # the next part shows
    assert order.remaining == D("0.008")


def test_iceberg_rules(engine: Engine) -> None:
    price = (last(engine) * D("1.02")).quantize(D("0.01"))
    with pytest.raises(ApiError) as err:
        engine.place(leg("LIMIT", "SELL", qty="0.01", price=price, tif="GTC", iceberg="0.01", cid="i"), T0)
    assert err.value.msg == "IcebergQty exceeds QTY."
    with pytest.raises(ApiError) as err:
        engine.place(leg("LIMIT", "SELL", qty="1", price=price, tif="GTC", iceberg="0.00999", cid="i"), T0)
    assert err.value.msg == "Filter failure: ICEBERG_PARTS"  # ceil(1 / 0.00999) = 101 > 100
    spec = engine.market.symbols[SYM].spec
    for i in range(spec.max_num_iceberg_orders):
        engine.place(leg("LIMIT", "SELL", qty="0.01", price=price, tif="GTC", iceberg="0.001", cid=f"i{i}"), T0)
    with pytest.raises(ApiError) as err:
        engine.place(leg("LIMIT", "SELL", qty="0.01", price=price, tif="GTC", iceberg="0.001", cid="one-more"), T0)
    assert err.value.msg == "Filter failure: MAX_NUM_ICEBERG_ORDERS"


# ------------------------------------------------------------------ amend keep priority


def test_amend_reduces_quantity_keeps_queue_place_and_releases_the_lock(
    engine: Engine, events: list[dict[str, Any]]
) -> None:
    st = engine.market.symbols[SYM]
    bid = st.price(st.book.bids.best() or 0)
    order = engine.place(leg("LIMIT", "BUY", qty="0.01", price=bid, tif="GTC", cid="amend-me"), T0)
    ahead, tick = order.ahead, order.tick
    assert tick is not None
    events.clear()
    engine.check_amend(order, D("0.004"), "amended")
    exec_id = engine.amend(order, D("0.004"), "amended", T0 + 1)
    assert order.orig_qty == D("0.004") and order.client_order_id == "amended" and order.ahead == ahead
    assert engine.account.locked["USDT"] == bid * D("0.004")
    assert st.book.bids.user[tick] == 400
    report = events[0]
    assert (report["x"], report["X"], report["c"], report["I"], D(report["q"])) == (
        "REPLACED",
        "NEW",
        "amended",
        exec_id,
        D("0.004"),
    )
    assert engine.amendments[order.order_id][0]["origClientOrderId"] == "amend-me"
    for bad, code in ((D("0.005"), -2038), (D("0.004"), -2038), (D("0.0000001"), -1013)):
        with pytest.raises(ApiError) as err:
            engine.check_amend(order, bad, "x")
        assert err.value.code == code


def test_amendments_are_capped_by_max_num_order_amends(engine: Engine) -> None:
    st = engine.market.symbols[SYM]
    bid = st.price(st.book.bids.best() or 0)
    order = engine.place(leg("LIMIT", "BUY", qty="0.1", price=bid - 100, tif="GTC", cid="many"), T0)
    qty = D("0.1")
    for i in range(st.spec.max_num_order_amends):
        qty -= D("0.001")
        engine.check_amend(order, qty, "many")
        engine.amend(order, qty, "many", T0 + i)
    with pytest.raises(ApiError) as err:
        engine.check_amend(order, qty - D("0.001"), "many")
    assert (err.value.code, err.value.msg) == (-2038, "Filter failure: MAX_NUM_ORDER_AMENDS")


def test_amending_an_oco_leg_changes_both_legs_and_reports_the_new_id(
    engine: Engine, events: list[dict[str, Any]]
) -> None:
    oco_sell(engine)
    above, below = by_cid(engine, "above"), by_cid(engine, "below")
    events.clear()
    engine.amend(above, D("0.006"), "above-2", T0 + 1)
    assert above.orig_qty == below.orig_qty == D("0.006") and engine.account.locked["BTC"] == D("0.006")
    assert kinds(events)[:3] == [
        f"{above.order_id}:REPLACED/NEW",
        f"{below.order_id}:REPLACED/NEW",
        "list:UPDATED/EXECUTING",
    ]
    assert events[2]["O"][0]["c"] == "above-2"


def test_an_oco_of_take_profit_and_stop_loss_triggers_the_take_profit_and_expires_the_stop(
    engine: Engine, events: list[dict[str, Any]]
) -> None:
    p = last(engine)
    up, down = (p * D("1.01")).quantize(D("0.01")), (p * D("0.99")).quantize(D("0.01"))
    _, (tp, sl) = engine.place_list(
        "OCO",
        [leg("TAKE_PROFIT", "SELL", qty="0.001", stop=up, cid="tp"), leg("STOP_LOSS", "SELL", qty="0.001", stop=down,
                                                                          cid="sl")],
        "tp-sl",
        T0,
    )
    assert not tp.is_working and not sl.is_working and engine.account.locked["BTC"] == D("0.001")
    trade_at(engine, up, T0 + 1)
    tp, sl = by_cid(engine, "tp"), by_cid(engine, "sl")
    assert tp.is_working and tp.working_time == T0 + 1 and tp.status in ("FILLED", "EXPIRED")
    assert (sl.status, sl.expiry_reason) == ("EXPIRED", "OCO_TRIGGER")
    assert engine.account.locked["BTC"] == 0 and engine.open_lists() == []
