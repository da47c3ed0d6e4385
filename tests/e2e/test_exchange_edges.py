"""Markets as Binance really lists them, through the gateway (issue 13).

A symbol with a UTF-8 name (the sandbox's 币安人生USDT; Binance lists such symbols since 2025-12) is
served by the market, account and trading tools alike, while junk is still refused by the schema
with a message naming the field and the pattern. A symbol in BREAK (LUNAUSDT) takes no orders: the
provider refuses them before sending, naming the status, and the sandbox never sees them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio
from mcp import ClientSession

from simulator.symbols import BREAK_SYMBOL, UNICODE_SYMBOL
from tests.e2e.conftest import HeldSession, call
from tests.sim_fixture import SimProcess
from tests.stack import ProviderProcess

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def s(stack_provider: ProviderProcess) -> AsyncIterator[ClientSession]:
    async with HeldSession(stack_provider.address) as session:
        yield session


async def refusal(s: ClientSession, name: str, args: dict[str, Any]) -> str:
    result = await s.call_tool(name, args)
    assert result.is_error, f"expected {name} to fail: {result.content[0].text}"
    text: str = result.content[0].text
    return text


async def test_a_utf8_named_market_is_served_by_market_account_and_trading_tools(
    s: ClientSession, stack_sim: SimProcess
) -> None:
    for name, args in [
        ("binance_get_ticker", {}),
        ("binance_get_orderbook", {"limit": 5}),
        ("binance_get_recent_trades", {"limit": 5}),
        ("binance_get_klines", {"interval": "1m", "limit": 3}),
        ("binance_get_avg_price", {}),
    ]:
        data = await call(s, name, {"symbol": UNICODE_SYMBOL, **args})
        assert data["freshness"]["environment"] == "sandbox", name
    book = await call(s, "binance_get_orderbook", {"symbol": "币安人生usdt", "limit": 1})  # any case
    assert book["symbol"] == UNICODE_SYMBOL
    info = await call(s, "binance_get_exchange_info", {"symbols": [UNICODE_SYMBOL, "BTCUSDT"]})
    assert {x["symbol"] for x in info["symbols"]} == {UNICODE_SYMBOL, "BTCUSDT"}
    assert (await call(s, "binance_get_my_trades", {"symbol": UNICODE_SYMBOL}))["trades"] == []

    bid = Decimal(book["bids"][0]["price"])
    price = str((bid * Decimal("0.9")).quantize(Decimal("0.00001")))
    placed = await call(s, "binance_place_order", {
        "symbol": UNICODE_SYMBOL, "side": "BUY", "type": "LIMIT", "time_in_force": "GTC",
        "quantity": "100", "price": price, "client_order_id": "utf8-name-1"})
    assert placed["outcome"] == "PLACED" and placed["order"]["symbol"] == UNICODE_SYMBOL
    assert Decimal(placed["order"]["price"]) == Decimal(price)
    listed = await call(s, "binance_get_open_orders", {"symbol": UNICODE_SYMBOL})
    assert [o["client_order_id"] for o in listed["orders"]] == ["utf8-name-1"]
    got = await call(s, "binance_get_order", {"symbol": UNICODE_SYMBOL, "client_order_id": "utf8-name-1"})
    assert got["order"]["status"] == "NEW"
    canceled = await call(s, "binance_cancel_order", {"symbol": UNICODE_SYMBOL, "client_order_id": "utf8-name-1"})
    assert canceled["order"]["status"] == "CANCELED"
    in_sandbox = (await stack_sim.control("GET", f"/sim/orders?symbol={UNICODE_SYMBOL}"))["orders"]
    assert [(o["clientOrderId"], o["status"]) for o in in_sandbox] == [("utf8-name-1", "CANCELED")]


@pytest.mark.parametrize("junk", [
    "BTC USDT",  # a space
    "<script>",
    "😀USDT",  # outside \u00C0-\uFFEF (an emoji is no symbol character)
    "币安人生USDT" + "X" * 20,  # too long
    "BTC\u0000USDT",
    "",
])
async def test_junk_symbols_are_refused_by_every_kind_of_tool_naming_the_field(s: ClientSession, junk: str) -> None:
    for name, args in [
        ("binance_get_ticker", {}),
        ("binance_get_my_trades", {}),
        ("binance_place_order", {"side": "BUY", "type": "MARKET", "quantity": "1"}),
    ]:
        text = await refusal(s, name, {"symbol": junk, **args})
        assert "symbol" in text and "Invalid arguments" in text, text


async def test_a_well_formed_unknown_utf8_symbol_is_unknown_with_near_misses(s: ClientSession) -> None:
    text = await refusal(s, "binance_get_ticker", {"symbol": "币安USDT"})
    assert "INVALID_ARGUMENT" in text and "UnknownSymbol" in text and UNICODE_SYMBOL in text


async def test_orders_on_a_symbol_in_break_are_refused_before_anything_is_sent(
    s: ClientSession, stack_sim: SimProcess, stack_provider: ProviderProcess
) -> None:
    ticker = await call(s, "binance_get_ticker", {"symbol": BREAK_SYMBOL})  # reads still work
    last = Decimal(ticker["last_price"])
    limit = {"symbol": BREAK_SYMBOL, "side": "BUY", "type": "LIMIT", "time_in_force": "GTC",
             "quantity": "100", "price": str(last)}
    for name, args in [
        ("binance_place_order", limit),
        ("binance_place_order", {**limit, "validate_only": True}),
        ("binance_place_order", {"symbol": BREAK_SYMBOL, "side": "BUY", "type": "MARKET", "quantity": "100"}),
        ("binance_place_oco", {
            "symbol": BREAK_SYMBOL, "side": "SELL", "quantity": "100",
            "above": {"type": "LIMIT_MAKER", "price": str(last * 2)},
            "below": {"type": "STOP_LOSS", "stop_price": str(last / 2)}}),
    ]:
        text = await refusal(s, name, args)
        assert "FAILED_PRECONDITION" in text and "TradingDisabled" in text, text
        assert f"{BREAK_SYMBOL} is in status BREAK" in text and "nothing was sent" in text, text
    assert (await stack_sim.control("GET", f"/sim/orders?symbol={BREAK_SYMBOL}"))["orders"] == []
    assert BREAK_SYMBOL not in stack_provider.audit()  # no send was even attempted
