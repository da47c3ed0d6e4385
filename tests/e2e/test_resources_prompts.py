"""Resources and prompts through the gateway, compared with the sandbox's own numbers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import mcp_types as types
import pytest
import pytest_asyncio
from mcp import ClientSession
from mcp.shared.exceptions import MCPError

from provider.content.resources import ORDER_STATUSES
from tests.e2e.conftest import HeldSession, rest
from tests.sim_fixture import SimProcess
from tests.stack import ProviderProcess

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def read(s: ClientSession, uri: str) -> str:
    contents = (await s.read_resource(uri)).contents
    assert contents and contents[0].mime_type == "text/markdown"
    text: str = getattr(contents[0], "text", "")
    assert "environment: sandbox" in text
    return text


class Updates:
    def __init__(self) -> None:
        self.uris: list[str] = []
        self.event = asyncio.Event()

    async def __call__(self, message: Any) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            self.uris.append(str(message.params.uri))
            self.event.set()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def updates() -> Updates:
    return Updates()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def s(stack_provider: ProviderProcess, updates: Updates) -> AsyncIterator[ClientSession]:
    async with HeldSession(stack_provider.address, message_handler=updates) as session:
        yield session


async def test_market_resource_shows_the_sandbox_ticker_book_and_trades(
    s: ClientSession, stack_sim: SimProcess
) -> None:
    await stack_sim.control("POST", "/sim/market", {"running": False})
    try:
        text = await read(s, "binance://market/btcusdt")
        ticker = await rest(stack_sim, "/api/v3/ticker/24hr?symbol=BTCUSDT")
        book = await rest(stack_sim, "/api/v3/depth?symbol=BTCUSDT&limit=5")
    finally:
        await stack_sim.control("POST", "/sim/market", {"running": True})
    assert "# BTCUSDT market" in text
    stats = text.split("## 24h statistics")[1].splitlines()[4].strip("| ").split(" | ")
    assert stats[0] == ticker["lastPrice"]
    # the 24 h window slides between the two answers: the high may move a little
    assert Decimal(stats[3]) == pytest.approx(Decimal(ticker["highPrice"]), rel=Decimal("0.005"))
    assert book["bids"][0][0] in text and book["asks"][0][0] in text
    assert "## Recent trades" in text


async def test_balances_resource_lists_non_zero_balances_valued_in_usdt(s: ClientSession) -> None:
    text = await read(s, "binance://account/balances")
    account = await s.call_tool("binance_get_account", {})
    assert account.structured_content is not None
    for b in account.structured_content["balances"]:
        assert f"| {b['asset']} |" in text
    assert "Total value" in text and "USDT" in text


async def test_trades_and_orders_resources_reflect_a_fill_and_a_cancel(s: ClientSession) -> None:
    placed = await s.call_tool(
        "binance_place_order", {"symbol": "BNBUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.1"}
    )
    assert not placed.is_error, placed.content[0].text
    order = placed.structured_content["order"]  # type: ignore[index]
    trades = await read(s, "binance://account/trades/BNBUSDT")
    assert str(order["order_id"]) in trades
    filled = await read(s, "binance://orders/filled")
    assert order["client_order_id"] in filled
    book = await s.call_tool("binance_get_orderbook", {"symbol": "BNBUSDT", "limit": 1})
    low = (Decimal(book.structured_content["bids"][0]["price"]) * Decimal("0.9")).quantize(Decimal("0.01"))  # type: ignore[index]
    resting = await s.call_tool(
        "binance_place_order",
        {"symbol": "BNBUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.1", "price": str(low)},
    )
    cid = resting.structured_content["client_order_id"]  # type: ignore[index]
    assert cid in await read(s, "binance://orders/open")
    await s.call_tool("binance_cancel_order", {"symbol": "BNBUSDT", "client_order_id": cid})
    canceled = await read(s, "binance://orders/canceled")
    assert cid in canceled
    assert cid not in await read(s, "binance://orders/open")


async def test_every_listed_resource_reads(s: ClientSession) -> None:
    listed = {r.uri: r for r in (await s.list_resources()).resources}
    assert "binance://account/balances" in listed
    assert {f"binance://orders/{status}" for status in ORDER_STATUSES} <= set(listed)
    # The sandbox account holds BTC, ETH and BNB: their main pairs are listed as markets and trades.
    for symbol in ("BTCUSDT", "ETHUSDT", "BNBUSDT"):
        assert f"binance://market/{symbol}" in listed and f"binance://account/trades/{symbol}" in listed
    assert all(r.name and r.title and r.description and r.mime_type == "text/markdown" for r in listed.values())
    for uri in listed:
        assert (await read(s, uri)).startswith("# "), uri


async def test_bad_resource_arguments_are_clear_errors(s: ClientSession) -> None:
    with pytest.raises(MCPError) as err:
        await s.read_resource("binance://orders/sideways")
    assert "open" in str(err.value.error.message) or "open" in str(err.value)
    with pytest.raises(MCPError) as err:
        await s.read_resource("binance://market/NOPEUSDT")
    assert "NOPEUSDT" in str(err.value.error.message) or "NOPEUSDT" in str(err.value)


async def test_resource_and_prompt_arguments_complete(s: ClientSession) -> None:
    result = await s.complete(
        types.ResourceTemplateReference(uri="binance://market/{SYMBOL}"), {"name": "SYMBOL", "value": "bt"}
    )
    assert "BTCUSDT" in result.completion.values
    result = await s.complete(
        types.ResourceTemplateReference(uri="binance://orders/{STATUS}"), {"name": "STATUS", "value": "ca"}
    )
    assert result.completion.values == ["canceled"]
    result = await s.complete(types.PromptReference(name="portfolio-risk"), {"name": "risk_tolerance", "value": "h"})
    assert result.completion.values == ["high"]


@pytest.mark.filterwarnings("ignore:resources/.*subscribe is removed")  # the handshake era Claude Code speaks
async def test_subscribed_market_resource_sends_update_notifications(s: ClientSession, updates: Updates) -> None:
    uri = "binance://market/ETHUSDT"
    await s.subscribe_resource(uri)
    try:
        await asyncio.wait_for(updates.event.wait(), timeout=20)
    finally:
        await s.unsubscribe_resource(uri)
    assert uri in updates.uris


async def test_trading_analysis_prompt_carries_live_statistics_klines_and_l1(
    s: ClientSession, stack_sim: SimProcess
) -> None:
    await stack_sim.control("POST", "/sim/market", {"running": False})
    try:
        before = await rest(stack_sim, "/api/v3/klines?symbol=ETHUSDT&interval=5m&limit=48")
        prompt = await s.get_prompt("trading-analysis", {"symbol": "ethusdt", "timeframe": "5m"})
        after = await rest(stack_sim, "/api/v3/klines?symbol=ETHUSDT&interval=5m&limit=48")
        ticker = await rest(stack_sim, "/api/v3/ticker/24hr?symbol=ETHUSDT")
    finally:
        await stack_sim.control("POST", "/sim/market", {"running": True})
    assert {m.role for m in prompt.messages} <= {"user", "assistant"}
    text = "\n".join(getattr(m.content, "text", "") for m in prompt.messages)
    assert "ETHUSDT" in text and "5m" in text
    stats = text.split("## 24h statistics")[1].splitlines()[4].strip("| ").split(" | ")
    assert stats[0] == ticker["lastPrice"]
    assert "microprice" in text and "imbalance" in text
    # the oldest kline's open price (a new 5m candle may open between the calls: either fetch)
    assert before[0][1] in text or after[0][1] in text


async def test_portfolio_risk_prompt_values_holdings(s: ClientSession) -> None:
    prompt = await s.get_prompt("portfolio-risk", {"risk_tolerance": "low"})
    text = "\n".join(getattr(m.content, "text", "") for m in prompt.messages)
    assert "Total value" in text and "Herfindahl" in text and "risk tolerance is low" in text
    assert "| USDT |" in text


async def test_bad_prompt_arguments_are_clear_errors(s: ClientSession) -> None:
    with pytest.raises(MCPError) as err:
        await s.get_prompt("trading-analysis", {"symbol": "BTCUSDT", "timeframe": "7m"})
    assert "1h" in str(err.value)
    with pytest.raises(MCPError):
        await s.get_prompt("trading-analysis", {})
    with pytest.raises(MCPError):
        await s.get_prompt("portfolio-risk", {"risk_tolerance": "reckless"})
