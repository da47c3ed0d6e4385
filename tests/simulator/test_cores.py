"""Unit and property tests of the sandbox's pure cores (no sockets, no clocks)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.auth import signature_payload, verify_hmac
from simulator.book import Side, SimBook
from simulator.depthdiff import DiffAccumulator
from simulator.engine import Engine, NewOrder
from simulator.errors import ApiError
from simulator.exchange import Market
from simulator.filters import OrderShape, check_filters
from simulator.klines import next_open, open_time, parse_timezone
from simulator.symbols import DEFAULT_SYMBOLS
from simulator.weights import OrderCounter, WeightLimiter

SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"


def ms(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp() * 1000)


def test_hmac_matches_the_documented_vectors() -> None:
    payload = ("symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
               "&recvWindow=5000&timestamp=1499827319559")
    sig = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    assert verify_hmac(SECRET, payload, sig)
    assert verify_hmac(SECRET, payload, sig.upper())  # hex is case-insensitive
    assert not verify_hmac(SECRET, payload + "0", sig)


def test_signature_payload_concatenates_query_and_body_without_separator() -> None:
    query = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC"
    body = ("quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
            "&signature=0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77")
    payload = signature_payload(query, body)
    assert "timeInForce=GTCquantity=1" in payload
    assert verify_hmac(SECRET, payload,
                       "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77")


def test_unicode_symbol_vector_is_signed_over_the_percent_encoded_payload() -> None:
    payload = ("symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT"
               "&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559")
    assert verify_hmac(SECRET, payload,
                       "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3")


def test_diff_events_are_contiguous_and_carry_final_quantities() -> None:
    acc = DiffAccumulator(last_u=10)
    acc.on_commit(11, [(Side.BID, 100, 5)])
    acc.on_commit(12, [(Side.BID, 100, 7), (Side.ASK, 105, 0)])
    e1 = acc.drain()
    assert e1 is not None and (e1.first_id, e1.final_id) == (11, 12)
    assert e1.bids == [(100, 7)] and e1.asks == [(105, 0)]
    assert acc.drain() is None
    acc.on_commit(13, [(Side.ASK, 106, 1)])
    e2 = acc.drain()
    assert e2 is not None and e2.first_id == e1.final_id + 1


def test_injected_gap_skips_the_first_id_and_its_changes() -> None:
    acc = DiffAccumulator(last_u=10)
    acc.gap_pending = True
    acc.on_commit(11, [(Side.BID, 100, 5)])
    assert acc.drain() is None  # waits for a second id
    acc.on_commit(12, [(Side.ASK, 105, 2)])
    e = acc.drain()
    assert e is not None and e.first_id == 12 and e.final_id == 12
    assert e.bids == [] and e.asks == [(105, 2)]


def test_a_gap_loses_an_id_committed_after_the_fault_never_one_a_snapshot_may_hold() -> None:
    """Ids 11-12 were committed before the fault, so a REST snapshot may already hold them: they
    are cut into an event of their own, and the id lost is 13, the first committed after it."""
    acc = DiffAccumulator(last_u=10)
    acc.on_commit(11, [(Side.BID, 100, 5)])
    acc.on_commit(12, [(Side.ASK, 105, 2)])
    acc.mark_gap()
    acc.on_commit(13, [(Side.BID, 101, 1)])
    cut = acc.drain()
    assert cut is not None and (cut.first_id, cut.final_id) == (11, 12)
    assert cut.bids == [(100, 5)] and cut.asks == [(105, 2)]
    assert acc.drain() is None  # 13 is lost; the event after it waits for 14
    acc.on_commit(14, [(Side.ASK, 106, 3)])
    after = acc.drain()
    assert after is not None and (after.first_id, after.final_id) == (14, 14)
    assert after.bids == [] and after.asks == [(106, 3)]
    # a client synced from a snapshot at 12 (or anything up to 12) meets U = 14 > 12 + 1: a gap
    assert after.first_id > cut.final_id + 1


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.tuples(st.booleans(), st.integers(1, 30), st.integers(0, 5)),
                         min_size=1, max_size=5), min_size=1, max_size=40),
       st.lists(st.booleans(), min_size=40, max_size=40))
def test_replaying_diffs_reproduces_the_book(batches: list[list[tuple[bool, int, int]]],
                                             drains: list[bool]) -> None:
    """Property: snapshot + every drained diff == the book (the §7 procedure's premise)."""
    book = SimBook(update_id=1)
    acc = DiffAccumulator(book.update_id)
    book.subscribe(acc.on_commit)
    local: dict[tuple[Side, int], int] = {}
    last_u = book.update_id
    for i, batch in enumerate(batches):
        for is_bid, tick, lots in batch:
            side = Side.BID if is_bid else Side.ASK
            tick = tick if is_bid else tick + 100
            book.set_synth(side, tick, lots)
        book.commit()
        if drains[i % len(drains)] or i == len(batches) - 1:
            e = acc.drain()
            if e is None:
                continue
            assert e.first_id == last_u + 1
            last_u = e.final_id
            for t, q in e.bids:
                local[(Side.BID, t)] = q
            for t, q in e.asks:
                local[(Side.ASK, t)] = q
    truth = {(Side.BID, t): q for t, q in book.bids.top(10_000)}
    truth |= {(Side.ASK, t): q for t, q in book.asks.top(10_000)}
    assert {k: v for k, v in local.items() if v} == truth
    assert last_u == book.update_id


def test_kline_alignment_follows_binance_calendars() -> None:
    t = ms(2026, 3, 18, 13, 47, 12)  # a Wednesday
    assert open_time("1m", t) == ms(2026, 3, 18, 13, 47)
    assert open_time("4h", t) == ms(2026, 3, 18, 12)
    assert open_time("1d", t) == ms(2026, 3, 18)
    assert open_time("1w", t) == ms(2026, 3, 16)  # Monday
    assert open_time("1M", t) == ms(2026, 3, 1)
    assert next_open("1M", ms(2026, 12, 1)) == ms(2027, 1, 1)
    assert open_time("1d", t, parse_timezone("8") or 0) == ms(2026, 3, 18) - 8 * 3_600_000


def test_timezone_parameter_range() -> None:
    assert parse_timezone("-1:00") == -3_600_000
    assert parse_timezone("05:45") == (5 * 60 + 45) * 60_000
    assert parse_timezone("+15") is None
    assert parse_timezone("abc") is None


def at_64000(_mins: int) -> Decimal:
    return Decimal(64000)


def _shape(**kw: object) -> OrderShape:
    base: dict[str, object] = dict(side="BUY", type="LIMIT", quantity=Decimal("0.001"),
                                   quote_order_qty=None, price=Decimal("64000"), stop_price=None)
    base.update(kw)
    return OrderShape(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "failure"),
    [
        ({"price": Decimal("64000.005")}, "PRICE_FILTER"),
        ({"quantity": Decimal("0.000011")}, "LOT_SIZE"),
        ({"quantity": Decimal("0.00001")}, "NOTIONAL"),
        ({"price": Decimal("1000")}, "PERCENT_PRICE_BY_SIDE"),
        ({"type": "MARKET", "price": None, "quantity": Decimal("901")}, "MARKET_LOT_SIZE"),
    ],
)
def test_each_filter_rejects_with_its_name(change: dict[str, object], failure: str) -> None:
    spec = DEFAULT_SYMBOLS["BTCUSDT"]
    check_filters(spec, _shape(), at_64000, 0, 0)
    with pytest.raises(ApiError) as exc:
        check_filters(spec, _shape(**change), at_64000, 0, 0)
    assert exc.value.code == -1013 and exc.value.msg == f"Filter failure: {failure}"


def test_max_num_orders_filter() -> None:
    spec = DEFAULT_SYMBOLS["BTCUSDT"]
    with pytest.raises(ApiError) as exc:
        check_filters(spec, _shape(), at_64000, spec.max_num_orders, 0)
    assert exc.value.msg == "Filter failure: MAX_NUM_ORDERS"


def test_weight_limiter_429_then_418_ban() -> None:
    lim = WeightLimiter(limit=10, ban_seconds=120)
    now = 60_000 * 1000 + 15_000
    lim.reserve(10, now)
    codes = []
    for _ in range(5):
        with pytest.raises(ApiError) as exc:
            lim.reserve(1, now)
        codes.append((exc.value.status, exc.value.code))
        assert exc.value.retry_after is not None and exc.value.retry_after > 0
    assert codes[0] == (429, -1003)
    assert (418, -1003) in codes
    with pytest.raises(ApiError) as exc:
        lim.reserve(1, now + 61_000)  # a new minute does not lift a ban
    assert exc.value.status == 418
    lim.reserve(1, now + 121_000)


def test_order_counter_windows() -> None:
    c = OrderCounter(limit_10s=2, limit_1d=100)
    c.add(5_000)
    c.add(5_001)
    with pytest.raises(ApiError) as exc:
        c.check(5_002)
    assert exc.value.code == -1015 and exc.value.status == 429
    c.check(10_000)
    assert c.headers(10_000) == {"X-MBX-ORDER-COUNT-10S": "0", "X-MBX-ORDER-COUNT-1D": "2"}


def test_order_counter_reserve_release_and_fill_decrement() -> None:
    day = 20_000 * 86_400_000
    c = OrderCounter(limit_10s=3, limit_1d=5)
    res = c.reserve(day + 1)
    c.release(res)  # rejected after all
    assert (c.count_10s, c.count_1d) == (0, 0)
    c.reserve(day + 2)
    c.filled(day + 3)
    c.filled(day + 4)  # never below zero
    assert (c.count_10s, c.count_1d) == (0, 0)
    for i in range(3):
        c.reserve(day + 10 + i)
    with pytest.raises(ApiError) as exc:
        c.reserve(day + 9_000)
    assert exc.value.msg == "Too many new orders; current limit is 3 orders per 10 SECOND."
    assert exc.value.retry_after == 1
    c.reserve(day + 10_000)  # the next 10 s window
    c.reserve(day + 10_001)
    with pytest.raises(ApiError) as exc:
        c.reserve(day + 10_002)
    assert exc.value.msg == "Too many new orders; current limit is 5 orders per 1 DAY."
    assert exc.value.retry_after == 86_390
    c.set_limits(50, 160_000)
    assert c.headers(day + 10_003) == {"X-MBX-ORDER-COUNT-10S": "0", "X-MBX-ORDER-COUNT-1D": "0"}


def test_engine_reports_each_orders_first_fill_only() -> None:
    engine = Engine(Market(dict(DEFAULT_SYMBOLS), seed=3, start_ms=1_800_000_000_000))
    fills: list[int] = []
    engine.on_first_fill = fills.append
    st = engine.market.symbols["BTCUSDT"]
    ask = st.book.asks.best()
    assert ask is not None
    lots = st.book.asks.total(ask) + 10  # two pieces for the taker: first fill counted once
    o = engine.place(NewOrder("BTCUSDT", "BUY", "LIMIT", "IOC", st.qty(lots), None,
                              st.price(ask + 5), None, "x", "EXPIRE_MAKER"), 1_800_000_000_000)
    assert o.executed_qty == st.qty(lots) and fills == [1_800_000_000_000]
    bid = st.book.bids.best()
    assert bid is not None
    maker = engine.place(NewOrder("BTCUSDT", "BUY", "LIMIT", "GTC", st.qty(10), None,
                                  st.price(bid), None, "y", "EXPIRE_MAKER"), 1_800_000_000_001)
    assert maker.status == "NEW" and len(fills) == 1
    engine.synthetic_take("BTCUSDT", Side.ASK, st.book.bids.total(bid), 1_800_000_000_002)
    assert maker.status == "FILLED" and fills == [1_800_000_000_000, 1_800_000_000_002]


def test_each_price_filter_uses_its_own_avg_price_mins() -> None:
    spec = DEFAULT_SYMBOLS["BTCUSDT"]
    assert (spec.percent_price_mins, spec.notional_mins) == (1, 5)
    asked: list[int] = []

    def ref(mins: int) -> Decimal:
        asked.append(mins)
        return {1: Decimal(64000), 5: Decimal(1)}[mins]

    market = _shape(type="MARKET", price=None, quantity=Decimal("0.001"))
    with pytest.raises(ApiError) as exc:  # 0.001 x 1 (the 5-minute price) < 5 minNotional
        check_filters(spec, market, ref, 0, 0)
    assert exc.value.msg == "Filter failure: NOTIONAL" and asked[-1] == 5
    check_filters(spec, _shape(price=Decimal(300000)), ref, 0, 0)  # BUY <= 5 x 64000
    with pytest.raises(ApiError) as exc:
        check_filters(spec, _shape(price=Decimal("320000.01")), ref, 0, 0)
    assert exc.value.msg == "Filter failure: PERCENT_PRICE_BY_SIDE" and 1 in asked
    with pytest.raises(ApiError) as exc:  # SELL below 0.2 x 64000
        check_filters(spec, _shape(side="SELL", price=Decimal("12799.99")), ref, 0, 0)
    assert exc.value.msg == "Filter failure: PERCENT_PRICE_BY_SIDE"


def test_filter_price_prefers_reference_then_vwap_then_last_price() -> None:
    t0 = 1_800_000_000_000
    engine = Engine(Market(dict(DEFAULT_SYMBOLS), seed=3, start_ms=t0 - 60_000))
    st = engine.market.symbols["BTCUSDT"]
    for i in range(50):
        st.maker.step(engine, t0 - 60_000 + i * 1000)
    st.last_price = Decimal("1.23")  # unlike any VWAP, to tell them apart
    assert engine.filter_price("BTCUSDT", 0, t0) == Decimal("1.23")
    assert engine.filter_price("BTCUSDT", 5, t0) == engine.vwap("BTCUSDT", 5, t0)
    assert engine.filter_price("BTCUSDT", 5, t0) == engine.avg_price("BTCUSDT", t0) != 0
    st.reference_price = Decimal("63000")
    assert [engine.filter_price("BTCUSDT", m, t0) for m in (0, 1, 5)] == [Decimal(63000)] * 3


def _ban(lim: WeightLimiter, now: int) -> int:
    """Use up the minute, then keep sending until banned; the ban's Retry-After in seconds."""
    lim.reserve(lim.limit, now)
    for _ in range(10):
        with pytest.raises(ApiError) as exc:
            lim.reserve(1, now)
        if exc.value.status == 418:
            assert exc.value.retry_after is not None
            return exc.value.retry_after
    raise AssertionError("never banned")


def test_bans_escalate_from_two_minutes_to_three_days_and_are_forgiven_after_a_day() -> None:
    lim = WeightLimiter(limit=10, ban_seconds=120)
    now = 60_000 * 1000
    seen = []
    for _ in range(14):
        seen.append(_ban(lim, now))
        now = lim.banned_until_ms + 60_000 - lim.banned_until_ms % 60_000  # next minute after it
    assert seen[:4] == [120, 240, 480, 960]
    assert seen[-2:] == [3 * 86_400, 3 * 86_400] and max(seen) == 3 * 86_400
    now += 86_400_000 + 60_000  # a quiet day later
    assert _ban(lim, now) == 120
    lim.reset(10)
    assert lim.bans == 0
