"""The six market-data tools through the gateway, checked against the sandbox's own answers.

The synthetic market is paused while a tool's answer and the sandbox's are taken, so both describe
the same moment; numbers are compared exactly, as decimal strings or Decimals.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio
from mcp import ClientSession

from tests.e2e.conftest import HeldSession, call, rest
from tests.sim_fixture import SimProcess
from tests.stack import ProviderProcess

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def market(s: ClientSession, name: str, args: dict[str, Any]) -> dict[str, Any]:
    """A market-data call: it must succeed and name the environment that answered."""
    data = await call(s, name, args)
    assert data["freshness"]["environment"] == "sandbox"
    return data


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def s(stack_provider: ProviderProcess) -> AsyncIterator[ClientSession]:
    async with HeldSession(stack_provider.address) as session:
        yield session


@pytest_asyncio.fixture(loop_scope="module")
async def paused(stack_sim: SimProcess) -> AsyncIterator[SimProcess]:
    await stack_sim.control("POST", "/sim/market", {"running": False})
    try:
        yield stack_sim
    finally:
        await stack_sim.control("POST", "/sim/market", {"running": True})


async def test_ticker_is_the_exchange_24h_statistics(s: ClientSession, paused: SimProcess) -> None:
    got = await market(s, "binance_get_ticker", {"symbol": "ethbtc"})
    want = await rest(paused, "/api/v3/ticker/24hr?symbol=ETHBTC")
    assert got["symbol"] == "ETHBTC"
    for ours, theirs in [
        ("last_price", "lastPrice"),
        ("last_qty", "lastQty"),
        ("bid_price", "bidPrice"),
        ("bid_qty", "bidQty"),
        ("ask_price", "askPrice"),
        ("ask_qty", "askQty"),
    ]:
        assert got[ours] == want[theirs], ours
    # The 24 h window slides with the clock between the two answers: same figures within 0.5 %.
    for ours, theirs in [
        ("volume", "volume"),
        ("quote_volume", "quoteVolume"),
        ("high_price", "highPrice"),
        ("low_price", "lowPrice"),
        ("open_price", "openPrice"),
        ("weighted_avg_price", "weightedAvgPrice"),
    ]:
        assert Decimal(got[ours]) == pytest.approx(Decimal(want[theirs]), rel=Decimal("0.005")), ours
    assert got["trade_count"] == pytest.approx(want["count"], rel=0.005)
    assert abs(got["close_time_ms"] - want["closeTime"]) < 5000
    assert got["open_time_ms"] == got["close_time_ms"] - 86_400_000
    assert got["freshness"]["exchange_time_ms"] == got["close_time_ms"]


async def test_orderbook_is_the_rest_snapshot_at_any_limit(s: ClientSession, paused: SimProcess) -> None:
    for limit in (1, 7, 100, 1000):
        got = await market(s, "binance_get_orderbook", {"symbol": "BTCUSDT", "limit": limit})
        want = await rest(paused, f"/api/v3/depth?symbol=BTCUSDT&limit={limit}")
        assert got["last_update_id"] == want["lastUpdateId"]
        assert [[b["price"], b["quantity"]] for b in got["bids"]] == want["bids"]
        assert [[a["price"], a["quantity"]] for a in got["asks"]] == want["asks"]


async def test_recent_trades_are_the_latest_trades_oldest_first(s: ClientSession, paused: SimProcess) -> None:
    got = await market(s, "binance_get_recent_trades", {"symbol": "BNBUSDT", "limit": 25})
    want = await rest(paused, "/api/v3/trades?symbol=BNBUSDT&limit=25")
    assert [t["id"] for t in got["trades"]] == [t["id"] for t in want]
    assert [(t["price"], t["qty"], t["is_buyer_maker"]) for t in got["trades"]] == [
        (t["price"], t["qty"], t["isBuyerMaker"]) for t in want
    ]
    assert got["trades"] == sorted(got["trades"], key=lambda t: t["id"])


@pytest.mark.parametrize("interval", ["1s", "1m", "15m", "1h", "4h", "1d", "1w", "1M"])
async def test_klines_of_every_interval_match_the_exchange(s: ClientSession, paused: SimProcess, interval: str) -> None:
    # Closed candles only (ending before the newest one), so a candle boundary between the two
    # answers cannot shift the lists.
    latest = await rest(paused, f"/api/v3/klines?symbol=ETHUSDT&interval={interval}&limit=6")
    end = latest[-2][0]
    want = await rest(paused, f"/api/v3/klines?symbol=ETHUSDT&interval={interval}&endTime={end}&limit=5")
    got = await market(
        s, "binance_get_klines", {"symbol": "ETHUSDT", "interval": interval, "end_time_ms": end, "limit": 5}
    )
    assert got["interval"] == interval and len(got["klines"]) == 5
    assert [(k["open_time_ms"], k["open"], k["high"], k["low"], k["close"], k["volume"]) for k in got["klines"]] == [
        (k[0], k[1], k[2], k[3], k[4], k[5]) for k in want
    ]


async def test_klines_honour_start_and_end_time(s: ClientSession, paused: SimProcess) -> None:
    recent = await rest(paused, "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=10")
    start, end = recent[2][0], recent[6][0]
    got = await call(
        s,
        "binance_get_klines",
        {"symbol": "BTCUSDT", "interval": "1m", "start_time_ms": start, "end_time_ms": end, "limit": 1000},
    )
    assert [k["open_time_ms"] for k in got["klines"]] == [k[0] for k in recent[2:7]]
    first = await call(
        s, "binance_get_klines", {"symbol": "BTCUSDT", "interval": "1m", "start_time_ms": start, "limit": 2}
    )
    assert [k["open_time_ms"] for k in first["klines"]] == [recent[2][0], recent[3][0]]


async def test_exchange_info_gives_readable_rules_and_rate_limits(s: ClientSession, stack_sim: SimProcess) -> None:
    got = await market(s, "binance_get_exchange_info", {"symbols": ["shibusdt", "BTCUSDT"]})
    want = await rest(stack_sim, '/api/v3/exchangeInfo?symbols=["SHIBUSDT","BTCUSDT"]')
    by_symbol = {x["symbol"]: x for x in got["symbols"]}
    assert set(by_symbol) == {"SHIBUSDT", "BTCUSDT"}
    for raw in want["symbols"]:
        info = by_symbol[raw["symbol"]]
        filters = {f["filterType"]: f for f in raw["filters"]}
        assert Decimal(info["tick_size"]) == Decimal(filters["PRICE_FILTER"]["tickSize"])
        assert Decimal(info["step_size"]) == Decimal(filters["LOT_SIZE"]["stepSize"])
        assert Decimal(info["min_notional"]) == Decimal(filters["NOTIONAL"]["minNotional"])
        assert info["max_num_orders"] == filters["MAX_NUM_ORDERS"]["maxNumOrders"]
        assert set(info["order_types"]) == set(raw["orderTypes"])
        assert len(info["filters"]) == len(raw["filters"])
        assert any(line.startswith("PERCENT_PRICE_BY_SIDE:") for line in info["filters"])
    assert by_symbol["SHIBUSDT"]["tick_size"] == "0.00000001"
    assert {(r["type"], r["interval"], r["limit"]) for r in got["rate_limits"]} == {
        (r["rateLimitType"], r["interval"], r["limit"]) for r in want["rateLimits"]
    }


async def test_avg_price_is_the_exchange_average_not_the_last_price(s: ClientSession, paused: SimProcess) -> None:
    got = await market(s, "binance_get_avg_price", {"symbol": "BTCUSDT"})
    want = await rest(paused, "/api/v3/avgPrice?symbol=BTCUSDT")
    assert got["mins"] == want["mins"] == 5
    assert Decimal(got["price"]) == pytest.approx(Decimal(want["price"]), rel=Decimal("0.0005"))
    assert got["close_time_ms"] == want["closeTime"]
    last = await rest(paused, "/api/v3/ticker/price?symbol=BTCUSDT")
    assert got["price"] != last["price"]  # an average over 5 minutes, not the last price


async def test_text_rendering_is_compact_and_not_json(s: ClientSession) -> None:
    result = await s.call_tool("binance_get_orderbook", {"symbol": "BTCUSDT", "limit": 20})
    text = result.content[0].text
    assert not text.lstrip().startswith("{")
    structured = json.dumps(result.structured_content, indent=2)
    assert len(text) < len(structured) / 2
    assert re.search(r"bids\[20\]", text)


async def test_provider_logs_carry_the_gateways_correlation_ids(
    s: ClientSession, stack_provider: ProviderProcess
) -> None:
    await market(s, "binance_get_avg_price", {"symbol": "ETHUSDT"})
    lines = [json.loads(line) for line in stack_provider.logs().splitlines() if line.startswith("{")]
    rpcs = [line for line in lines if line.get("event") == "rpc" and line.get("tool") == "binance.get_avg_price"]
    assert rpcs and all(len(line.get("correlation_id", "")) >= 16 for line in rpcs)
