"""Matching engine, balances and commissions, driven directly (pure core, time as argument)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from simulator.book import Side
from simulator.engine import COMMISSION_RATE, Engine, NewOrder
from simulator.errors import ApiError
from simulator.exchange import Market
from simulator.symbols import DEFAULT_SYMBOLS

T0 = 1_800_000_000_000
D = Decimal


@pytest.fixture
def engine() -> Engine:
    return Engine(Market(dict(DEFAULT_SYMBOLS), seed=7, start_ms=T0 - 60_000))


def req(symbol: str = "BTCUSDT", side: str = "BUY", type_: str = "LIMIT",
        tif: str | None = "GTC", qty: str | None = "0.01", price: str | None = None,
        stop: str | None = None, quote: str | None = None, cid: str = "c1",
        stp: str = "EXPIRE_MAKER") -> NewOrder:
    return NewOrder(symbol, side, type_, tif, D(qty) if qty else None, D(quote) if quote else None,
                    D(price) if price else None, D(stop) if stop else None, cid, stp)


def best(engine: Engine, symbol: str, side: Side) -> tuple[Decimal, Decimal]:
    st = engine.market.symbols[symbol]
    lvl = st.book.best_bid() if side is Side.BID else st.book.best_ask()
    assert lvl is not None
    return st.price(lvl[0]), st.qty(lvl[1])


def open_spread(engine: Engine, symbol: str = "BTCUSDT") -> None:
    """Pull the three best synthetic asks so the ticks just above the bid are empty."""
    st = engine.market.symbols[symbol]
    for tick, _ in st.book.asks.top(3):
        st.book.set_synth(Side.ASK, tick, 0)
    st.book.commit()
    bid, ask = st.book.bids.best(), st.book.asks.best()
    assert bid is not None and ask is not None and ask - bid >= 4


def test_limit_buy_below_market_rests_and_locks_quote(engine: Engine) -> None:
    bid, _ = best(engine, "BTCUSDT", Side.BID)
    price = bid - D("10.00")
    o = engine.place(req(price=str(price)), T0)
    assert o.status == "NEW" and o.executed_qty == 0
    acct = engine.account
    assert acct.locked["USDT"] == price * D("0.01")
    assert acct.free["USDT"] == D(100000) - price * D("0.01")
    st = engine.market.symbols["BTCUSDT"]
    tick = int(price / st.spec.tick_size)
    assert st.book.bids.user[tick] == 1000  # 0.01 BTC in 0.00001 lots, visible in the book
    engine.cancel(o, T0 + 1)
    assert o.status == "CANCELED" and acct.locked["USDT"] == 0 and acct.free["USDT"] == D(100000)
    assert tick not in st.book.bids.user


def test_market_buy_walks_levels_and_charges_commission_in_base(engine: Engine) -> None:
    st = engine.market.symbols["BTCUSDT"]
    asks = st.book.asks.top(3)
    qty = st.qty(asks[0][1] + asks[1][1] + 1)  # crosses into the third level
    o = engine.place(req(type_="MARKET", tif=None, qty=str(qty)), T0)
    assert o.status == "FILLED" and o.executed_qty == qty
    assert [f.price for f in o.fills] == [st.price(t) for t, _ in asks]
    cost = sum(f.price * f.qty for f in o.fills)
    assert o.cum_quote == cost
    commission = sum(f.commission for f in o.fills)
    assert all(f.commission_asset == "BTC" for f in o.fills)
    assert engine.account.free["BTC"] == D(2) + qty - commission
    assert engine.account.free["USDT"] == D(100000) - cost
    assert commission >= qty * COMMISSION_RATE
    # the levels it took are gone from the public book, ids of the trades are on the tape
    assert st.book.best_ask() == (asks[2][0], asks[2][1] - 1)
    assert [t.id for t in list(st.trades)[-3:]] == [f.trade_id for f in o.fills]


def test_market_sell_commission_in_quote(engine: Engine) -> None:
    o = engine.place(req(side="SELL", type_="MARKET", tif=None, qty="0.001"), T0)
    assert o.status == "FILLED"
    f = o.fills[0]
    assert f.commission_asset == "USDT"
    assert engine.account.free["BTC"] == D(2) - D("0.001")
    assert engine.account.free["USDT"] == D(100000) + o.cum_quote - sum(x.commission for x in o.fills)


def test_limit_crossing_partially_fills_then_rests(engine: Engine) -> None:
    st = engine.market.symbols["BTCUSDT"]
    (t0, q0) = st.book.asks.top(1)[0]
    qty = st.qty(q0 + 500)
    o = engine.place(req(price=str(st.price(t0)), qty=str(qty)), T0)
    assert o.status == "PARTIALLY_FILLED" and o.executed_qty == st.qty(q0)
    assert st.book.best_bid() == (t0, 500)  # remainder rests at the limit price
    assert engine.account.locked["USDT"] == st.price(t0) * st.qty(500)


def test_ioc_expires_the_rest_and_fok_expires_everything(engine: Engine) -> None:
    st = engine.market.symbols["BTCUSDT"]
    (t0, q0) = st.book.asks.top(1)[0]
    big = str(st.qty(q0 + 500))
    ioc = engine.place(req(tif="IOC", price=str(st.price(t0)), qty=big, cid="ioc"), T0)
    assert ioc.status == "EXPIRED" and ioc.executed_qty == st.qty(q0)
    assert ioc.expiry_reason == "UNFILLED_IOC_QUANTITY_EXPIRED"
    (t1, q1) = st.book.asks.top(1)[0]
    fok = engine.place(req(tif="FOK", price=str(st.price(t1)), qty=str(st.qty(q1 + 1)),
                           cid="fok"), T0)
    assert fok.status == "EXPIRED" and fok.executed_qty == 0 and not fok.fills
    assert engine.account.locked["USDT"] == 0
    assert st.book.best_ask() == (t1, q1)


def test_limit_maker_that_would_cross_is_rejected(engine: Engine) -> None:
    ask, _ = best(engine, "BTCUSDT", Side.ASK)
    with pytest.raises(ApiError) as exc:
        engine.place(req(type_="LIMIT_MAKER", tif=None, price=str(ask)), T0)
    assert exc.value.code == -2010
    assert exc.value.msg == "Order would immediately match and take."
    ok = engine.place(req(type_="LIMIT_MAKER", tif=None, price=str(ask - D("0.01")), cid="m"), T0)
    assert ok.status == "NEW"


def test_insufficient_balance_and_duplicate_client_id(engine: Engine) -> None:
    bid, _ = best(engine, "BTCUSDT", Side.BID)
    with pytest.raises(ApiError) as exc:
        engine.place(req(price=str(bid - 100), qty="5"), T0)  # ~320k USDT > 100k
    assert (exc.value.code, exc.value.msg) == (
        -2010, "Account has insufficient balance for requested action.")
    engine.place(req(price=str(bid - 100), cid="dup"), T0)
    with pytest.raises(ApiError) as exc:
        engine.place(req(price=str(bid - 101), cid="dup"), T0)
    assert (exc.value.code, exc.value.msg) == (-2010, "Duplicate order sent.")


def test_resting_order_fills_when_synthetic_flow_trades_through(engine: Engine) -> None:
    open_spread(engine)
    st = engine.market.symbols["BTCUSDT"]
    bid_tick = st.book.bids.best()
    assert bid_tick is not None
    price = st.price(bid_tick + 1)  # improves the bid: first in queue
    o = engine.place(req(price=str(price), qty="0.01"), T0)
    assert o.status == "NEW"
    engine.synthetic_take("BTCUSDT", Side.ASK, 400, T0 + 5)  # a synthetic seller
    assert o.status == "PARTIALLY_FILLED" and o.executed_qty == D("0.004")
    engine.synthetic_take("BTCUSDT", Side.ASK, 10_000, T0 + 6)
    assert o.status == "FILLED"
    assert all(t.is_maker for t in engine.my_trades["BTCUSDT"])
    assert engine.account.locked["USDT"] == 0
    assert engine.account.free["BTC"] == D(2) + D("0.01") - sum(f.commission for f in o.fills)


def test_queue_position_behind_synthetic_liquidity(engine: Engine) -> None:
    st = engine.market.symbols["BTCUSDT"]
    bid_tick, bid_lots = st.book.best_bid() or (0, 0)
    o = engine.place(req(price=str(st.price(bid_tick)), qty="0.01"), T0)
    engine.synthetic_take("BTCUSDT", Side.ASK, bid_lots, T0 + 1)  # eats only what was ahead
    assert o.executed_qty == 0
    engine.synthetic_take("BTCUSDT", Side.ASK, 1, T0 + 2)
    assert o.executed_qty == D("0.00001")


def test_stop_loss_sell_rejected_if_it_would_trigger_and_triggers_on_last_price(
    engine: Engine,
) -> None:
    st = engine.market.symbols["BTCUSDT"]
    last = st.last_price
    with pytest.raises(ApiError) as exc:
        engine.place(req(side="SELL", type_="STOP_LOSS", tif=None, stop=str(last + 1)), T0)
    assert exc.value.msg == "Order would trigger immediately."
    bid, _ = best(engine, "BTCUSDT", Side.BID)
    stop = engine.place(req(side="SELL", type_="STOP_LOSS", tif=None, qty="0.001",
                            stop=str(bid), cid="s"), T0)
    assert stop.status == "NEW" and not stop.is_working and stop.working_time == -1
    assert engine.account.locked["BTC"] == D("0.001")
    if st.last_price > bid:  # push the last price down to the stop with a synthetic sale
        engine.synthetic_take("BTCUSDT", Side.ASK, st.book.bids.total(st.book.bids.best() or 0),
                              T0 + 10)
    assert stop.status == "FILLED" and stop.is_working and stop.working_time == T0 + 10
    assert engine.account.locked["BTC"] == 0


def test_take_profit_limit_buy_triggers_into_a_limit_order(engine: Engine) -> None:
    st = engine.market.symbols["BTCUSDT"]
    bid, _ = best(engine, "BTCUSDT", Side.BID)
    o = engine.place(req(side="BUY", type_="TAKE_PROFIT_LIMIT", tif="GTC", qty="0.001",
                         price=str(bid - 50), stop=str(bid), cid="tp"), T0)
    assert o.status == "NEW" and not o.is_working
    engine.synthetic_take("BTCUSDT", Side.ASK, st.book.bids.total(st.book.bids.best() or 0),
                          T0 + 10)
    assert st.last_price <= bid
    assert o.is_working and o.status == "NEW"
    assert o.tick == int((bid - 50) / st.spec.tick_size)


def test_market_order_on_a_thin_book_expires(engine: Engine) -> None:
    st = engine.market.symbols["DOGEBTC"]
    engine.account.free["BTC"] = D(1000)
    depth = sum(q for _, q in st.book.asks.top(10_000))
    qty = st.qty(depth + 1000)
    o = engine.place(req(symbol="DOGEBTC", type_="MARKET", tif=None, qty=str(qty)), T0)
    assert o.status == "EXPIRED" and o.expiry_reason == "INSUFFICIENT_LIQUIDITY"
    assert o.executed_qty == st.qty(depth)


def test_quote_order_qty_market_buy(engine: Engine) -> None:
    o = engine.place(req(type_="MARKET", tif=None, qty=None, quote="100"), T0)
    assert o.status == "FILLED"
    assert o.cum_quote <= D(100)
    assert D(100) - o.cum_quote < o.fills[-1].price * D("0.00001")
    assert o.orig_qty == o.executed_qty and o.orig_quote_order_qty == D(100)


def test_self_trade_prevention_expire_maker(engine: Engine) -> None:
    open_spread(engine)
    bid, _ = best(engine, "BTCUSDT", Side.BID)
    p = str(bid + D("0.01"))
    maker = engine.place(req(side="SELL", price=p, qty="0.001", cid="mk"), T0)
    assert maker.status == "NEW"
    taker = engine.place(req(side="BUY", price=p, qty="0.001", cid="tk"), T0)
    assert maker.status == "EXPIRED_IN_MATCH"
    assert taker.status == "NEW"  # nothing else at that price: the taker rests
    assert engine.account.locked["BTC"] == 0


def test_self_trade_allowed_with_stp_none(engine: Engine) -> None:
    open_spread(engine)
    bid, _ = best(engine, "BTCUSDT", Side.BID)
    p = str(bid + D("0.01"))
    maker = engine.place(req(side="SELL", price=p, qty="0.001", cid="mk", stp="NONE"), T0)
    taker = engine.place(req(side="BUY", price=p, qty="0.001", cid="tk", stp="NONE"), T0)
    assert maker.status == taker.status == "FILLED"
    ids = {t.id for t in engine.my_trades["BTCUSDT"]}
    assert len(ids) == 1 and len(engine.my_trades["BTCUSDT"]) == 2


def test_closed_orders_client_id_can_be_reused_and_lookup_finds_the_newest(engine: Engine) -> None:
    bid, _ = best(engine, "BTCUSDT", Side.BID)
    first = engine.place(req(price=str(bid - 100), cid="again"), T0)
    engine.cancel(first, T0 + 1)
    second = engine.place(req(price=str(bid - 101), cid="again"), T0 + 2)
    assert engine.find("BTCUSDT", None, "again") is second
    assert engine.find("BTCUSDT", first.order_id, None) is first
    engine.cancel(second, T0 + 3)
    assert engine.find("BTCUSDT", None, "again") is second  # newest, though closed as well
