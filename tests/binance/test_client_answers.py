"""Answers that are not Binance's JSON, each reported with its cause (the sandbox produces them)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
import pytest_asyncio

from provider.binance.client import BinanceClient
from provider.binance.environment import Environment
from provider.errors import (
    ExchangeUnavailable,
    ExecutionUnknown,
    RateLimited,
    RestrictedLocation,
    WafBlocked,
)
from provider.health import exchange_usable
from tests.sim_fixture import SimProcess

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module")
async def shared_sim(module_sim: SimProcess) -> SimProcess:
    return module_sim


@pytest_asyncio.fixture(loop_scope="module")
async def client(shared_sim: SimProcess) -> AsyncIterator[BinanceClient]:
    env = Environment.custom(shared_sim.info.rest_url, shared_sim.info.ws_url, name="sandbox")
    c = await BinanceClient.create(env, shared_sim.info.api_key, shared_sim.info.api_secret)
    yield c
    await c.close()
    await shared_sim.fault("clear")


async def test_a_restricted_location_is_named_and_marks_the_exchange_unusable(
    client: BinanceClient, shared_sim: SimProcess
) -> None:
    await shared_sim.fault("http_error", status=451, path="/api/v3/ticker/price", times=2)
    with pytest.raises(RestrictedLocation) as info:
        await client.ticker_price("BTCUSDT")
    assert "451" in info.value.message and "location" in info.value.hint
    assert not info.value.retry_safe
    assert not exchange_usable(client.health())


async def test_a_firewall_403_backs_every_call_off_and_says_nothing_executed(
    client: BinanceClient, shared_sim: SimProcess
) -> None:
    await shared_sim.fault("http_error", status=403, path="/api/v3/ticker/price", times=1)
    with pytest.raises(WafBlocked) as info:
        await client.ticker_price("BTCUSDT")
    assert "HTML" in info.value.message and "nothing was executed" in info.value.hint
    assert "API key" not in info.value.hint
    with pytest.raises(RateLimited):  # refused locally: the governor waits for retry_after
        await client.ping()


async def test_a_proxy_page_on_a_read_is_an_outage_and_on_an_order_an_unknown_outcome(
    client: BinanceClient, shared_sim: SimProcess
) -> None:
    await shared_sim.fault("http_error", status=502, path="/api/v3/ticker/price", times=2)
    with pytest.raises(ExchangeUnavailable) as read:
        await client.ticker_price("BTCUSDT")
    assert "HTML page" in read.value.message
    await shared_sim.fault("http_error", status=504, path="/api/v3/order", method="POST", times=1)
    with pytest.raises(ExecutionUnknown) as order:
        await client.new_order({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001"})
    assert "HTML page" in order.value.message and order.value.client_order_id


async def test_a_cut_answer_to_a_read_is_retried_once_then_named(
    client: BinanceClient, shared_sim: SimProcess
) -> None:
    await shared_sim.fault("truncated_body", path="/api/v3/ticker/price", times=1)
    assert Decimal((await client.ticker_price("BTCUSDT")).data["price"]) > 0
    await shared_sim.fault("truncated_body", path="/api/v3/ticker/price", times=2)
    with pytest.raises(ExchangeUnavailable, match="truncated"):
        await client.ticker_price("BTCUSDT")


async def test_a_cancel_whose_connection_resets_after_it_ran_is_unknown_not_resent(
    client: BinanceClient, shared_sim: SimProcess
) -> None:
    avg = Decimal((await client.avg_price("BTCUSDT")).data["price"])
    price = (avg * Decimal("0.8")).quantize(Decimal("0.01"))
    placed = (await client.new_order({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                                      "quantity": "0.001", "price": str(price)})).data
    await shared_sim.fault("reset", path="/api/v3/order", method="DELETE", after_execute=True, times=1)
    with pytest.raises(ExecutionUnknown):  # not "unknown order" from a silent second DELETE
        await client.cancel_order("BTCUSDT", order_id=placed["orderId"])
    await shared_sim.fault("clear")
    after = (await client.get_order("BTCUSDT", order_id=placed["orderId"])).data
    assert after["status"] == "CANCELED"
