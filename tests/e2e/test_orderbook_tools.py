"""The three live order-book tools through the gateway, checked against the sandbox's ground truth."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio
from mcp import ClientSession

from tests.e2e.conftest import HeldSession, call
from tests.sim_fixture import SimProcess
from tests.stack import ProviderProcess

pytestmark = pytest.mark.asyncio(loop_scope="module")


def levels(raw: list[Any], n: int) -> list[tuple[Decimal, Decimal]]:
    out = []
    for level in raw[:n]:
        if isinstance(level, dict):
            out.append((Decimal(level["price"]), Decimal(level["quantity"])))
        else:
            out.append((Decimal(level[0]), Decimal(level[1])))
    return out


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def s(stack_provider: ProviderProcess) -> AsyncIterator[ClientSession]:
    async with HeldSession(stack_provider.address) as session:
        yield session


async def synced_at_truth(
    s: ClientSession, sim: SimProcess, symbol: str, n: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """With the market paused, waits until the served book is SYNCED at the truth's update id."""
    await call(s, "binance_orderbook_l2", {"symbol": symbol, "levels": n})
    truth = await sim.ground_truth(symbol)
    for _ in range(300):
        served = await call(s, "binance_orderbook_l2", {"symbol": symbol, "levels": n})
        if served["book"]["state"] == "SYNCED" and served["book"]["last_update_id"] == truth["lastUpdateId"]:
            return served, truth
        await asyncio.sleep(0.05)
        truth = await sim.ground_truth(symbol)
    pytest.fail(f"book never reached the truth: served {served['book']}, truth {truth['lastUpdateId']}")


@pytest_asyncio.fixture(loop_scope="module")
async def paused(stack_sim: SimProcess) -> AsyncIterator[SimProcess]:
    await stack_sim.control("POST", "/sim/market", {"running": True})
    await asyncio.sleep(0.3)
    await stack_sim.control("POST", "/sim/market", {"running": False})
    try:
        yield stack_sim
    finally:
        await stack_sim.control("POST", "/sim/market", {"running": True})


async def test_l2_equals_the_ground_truth_level_by_level(s: ClientSession, paused: SimProcess) -> None:
    served, truth = await synced_at_truth(s, paused, "BTCUSDT", 100)
    assert served["book"]["source"] == "stream"
    assert served["book"]["synced"] is True and "warning" not in served["book"]
    assert served["book"]["unsynced_ms"] == 0
    assert levels(served["bids"], 100) == levels(truth["bids"], 100)
    assert levels(served["asks"], 100) == levels(truth["asks"], 100)


async def test_sub_cent_prices_stay_exact_strings(s: ClientSession, paused: SimProcess) -> None:
    served, truth = await synced_at_truth(s, paused, "SHIBUSDT", 5)
    assert levels(served["bids"], 5) == levels(truth["bids"], 5)
    assert all("E" not in b["price"] and Decimal(b["price"]) < Decimal("0.01") for b in served["bids"])
    assert all(len(b["price"].split(".")[1]) >= 8 for b in served["bids"])


async def test_l1_metrics_match_the_definitions_on_the_truth(s: ClientSession, paused: SimProcess) -> None:
    await synced_at_truth(s, paused, "ETHUSDT", 20)
    truth = await paused.ground_truth("ETHUSDT")
    l1 = await call(
        s, "binance_orderbook_l1", {"symbol": "ETHUSDT", "imbalance_levels": 5, "vwap_base_qty": "3", "bands_bps": [25]}
    )
    assert l1["book"]["last_update_id"] == truth["lastUpdateId"]
    bids, asks = levels(truth["bids"], 1000), levels(truth["asks"], 1000)
    (bid, bid_q), (ask, ask_q) = bids[0], asks[0]
    mid = (bid + ask) / 2
    assert Decimal(l1["best_bid"]["price"]) == bid and Decimal(l1["best_ask"]["quantity"]) == ask_q
    assert Decimal(l1["mid"]) == mid
    assert Decimal(l1["spread"]) == ask - bid
    assert l1["spread_bps"] == pytest.approx(float((ask - bid) / mid * 10000), rel=1e-9)
    micro = (bid * ask_q + ask * bid_q) / (bid_q + ask_q)
    assert Decimal(l1["microprice"]) == pytest.approx(micro, rel=Decimal("1e-10"))
    bq, aq = sum(q for _, q in bids[:5]), sum(q for _, q in asks[:5])
    assert l1["imbalance"] == pytest.approx(float((bq - aq) / (bq + aq)), rel=1e-9)
    band = l1["depth_bands"][0]
    low, high = mid * (1 - Decimal(25) / 10000), mid * (1 + Decimal(25) / 10000)
    assert Decimal(band["bid_base"]) == sum(q for p, q in bids if p >= low)
    assert Decimal(band["ask_base"]) == sum(q for p, q in asks if p <= high)
    buy = next(v for v in l1["vwap"] if v["side"] == "BUY")
    remaining, cost = Decimal(3), Decimal(0)
    for p, q in asks:
        take = min(q, remaining)
        cost += take * p
        remaining -= take
        if remaining == 0:
            break
    assert Decimal(buy["vwap"]) == pytest.approx(cost / 3, rel=Decimal("1e-12"))
    assert buy["complete"] is True


async def test_health_reports_tracked_books_synced(s: ClientSession, paused: SimProcess) -> None:
    await synced_at_truth(s, paused, "BTCUSDT", 5)
    health = await call(s, "binance_orderbook_health", {})
    assert health["environment"] == "sandbox" and health["connection"] == "connected"
    by_symbol = {h["symbol"]: h for h in health["symbols"]}
    assert by_symbol["BTCUSDT"]["state"] == "SYNCED"
    one = await call(s, "binance_orderbook_health", {"symbol": "btcusdt"})
    assert [h["symbol"] for h in one["symbols"]] == ["BTCUSDT"]


async def test_a_gap_is_healed_and_the_healed_book_matches_the_truth(s: ClientSession, stack_sim: SimProcess) -> None:
    await call(s, "binance_orderbook_l2", {"symbol": "BNBUSDT", "levels": 5})
    await stack_sim.control("POST", "/sim/market", {"running": True})
    await stack_sim.fault("gap", symbol="BNBUSDT")
    for _ in range(200):
        health = await call(s, "binance_orderbook_health", {"symbol": "BNBUSDT"})
        if health["symbols"][0]["resync_count"] >= 1 and health["symbols"][0]["state"] == "SYNCED":
            break
        await asyncio.sleep(0.05)
    assert health["symbols"][0]["resync_count"] >= 1
    await stack_sim.control("POST", "/sim/market", {"running": False})
    try:
        served, truth = await synced_at_truth(s, stack_sim, "BNBUSDT", 50)
        assert levels(served["bids"], 50) == levels(truth["bids"], 50)
        assert levels(served["asks"], 50) == levels(truth["asks"], 50)
    finally:
        await stack_sim.control("POST", "/sim/market", {"running": True})


async def test_a_book_that_is_not_synced_says_so_in_its_structured_result(
    s: ClientSession, stack_sim: SimProcess
) -> None:
    """Issue 13: while a book cannot resync (its snapshots fail), L2 still answers (not isError),
    with synced false and a warning in the structured result; once healed, the warning and the
    health's last_error are gone."""
    await call(s, "binance_orderbook_l2", {"symbol": "ETHBTC", "levels": 5})
    await stack_sim.control("POST", "/sim/market", {"running": True})
    await stack_sim.fault("rest_fail", path="/api/v3/depth", status=503, times=100000)
    try:
        for i in range(200):
            if i % 20 == 0:  # a gap right after a snapshot newer than it is rightly invisible
                await stack_sim.fault("gap", symbol="ETHBTC")
            served = await call(s, "binance_orderbook_l2", {"symbol": "ETHBTC", "levels": 5})
            if served["book"]["state"] != "SYNCED":
                break
            await asyncio.sleep(0.05)
        book = served["book"]
        assert book["state"] == "RESYNCING" and book["synced"] is False, book
        assert book["warning"].startswith("RESYNCING for") and book["unsynced_ms"] >= 0
        health = await call(s, "binance_orderbook_health", {"symbol": "ETHBTC"})
        assert health["symbols"][0]["last_resync_reason"] == "gap"
    finally:
        await stack_sim.fault("clear")
    for _ in range(400):
        served = await call(s, "binance_orderbook_l2", {"symbol": "ETHBTC", "levels": 5})
        if served["book"]["synced"]:
            break
        await asyncio.sleep(0.05)
    assert served["book"]["synced"] is True and "warning" not in served["book"]
    health = await call(s, "binance_orderbook_health", {"symbol": "ETHBTC"})
    assert "last_error" not in health["symbols"][0]  # cleared once healthy


async def test_unknown_symbol_is_refused_with_a_suggestion(s: ClientSession) -> None:
    result = await s.call_tool("binance_orderbook_l1", {"symbol": "ETHUSD"})
    assert result.is_error and "ETHUSDT" in result.content[0].text
