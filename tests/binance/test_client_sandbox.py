"""BinanceClient against the sandbox exchange (a real subprocess, via the `sim` fixture)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import structlog

from provider.binance.client import BinanceClient, ClientConfig
from provider.binance.environment import Environment
from provider.binance.transport import TransportConfig
from provider.errors import (
    ExecutionUnknown,
    IpBanned,
    NotFound,
    PermissionDenied,
    ProviderError,
    RateLimited,
    TimestampRejected,
    Unauthenticated,
    UnknownSymbol,
)


def env_of(sim: Any) -> Environment:
    return Environment.custom(sim.info.rest_url, sim.info.ws_url, name="sandbox")


def read_pem(sim: Any) -> bytes:
    return Path(sim.info.ed25519_private_key_file).read_bytes()


async def hmac_client(sim: Any, **kw: Any) -> BinanceClient:
    return await BinanceClient.create(env_of(sim), sim.info.api_key, sim.info.api_secret, **kw)


@pytest.fixture
async def client(sim: Any) -> AsyncIterator[BinanceClient]:
    c = await hmac_client(sim)
    yield c
    await c.close()


async def far_buy_price(client: BinanceClient, symbol: str = "BTCUSDT") -> Decimal:
    """A valid LIMIT BUY price well below the market that will rest on the book."""
    rules = await client.rules(symbol)
    avg = Decimal((await client.avg_price(symbol)).data["price"])
    low = avg * Decimal("0.7")
    if rules.percent_price is not None:
        low = max(low, rules.percent_price.bounds("BUY", avg)[0] * Decimal("1.01"))
    return rules.round_price(low, up=True)


async def min_quantity(client: BinanceClient, symbol: str, price: Decimal) -> Decimal:
    rules = await client.rules(symbol)
    qty = Decimal(1) if rules.lot_size is None else rules.lot_size.min_qty
    if rules.notional is not None and rules.notional.min_notional > 0:
        qty = max(qty, rules.notional.min_notional * Decimal("1.1") / price)
    return rules.round_quantity(qty, up=True)


# -- public market data ---------------------------------------------------------------------


async def test_public_endpoints_return_binance_shaped_payloads(client: BinanceClient) -> None:
    assert (await client.ping()).data == {}
    now = await client.server_time()
    assert isinstance(now.data["serverTime"], int)
    assert now.meta.environment == "sandbox" and now.meta.exchange_time_ms == now.data["serverTime"]

    info = (await client.exchange_info()).data
    names = {s["symbol"] for s in info["symbols"]}
    assert "BTCUSDT" in names
    assert any(r["rateLimitType"] == "REQUEST_WEIGHT" for r in info["rateLimits"])
    one = (await client.exchange_info(["btcusdt"])).data
    assert [s["symbol"] for s in one["symbols"]] == ["BTCUSDT"]

    depth = await client.depth("btcusdt", 10)
    bids, asks = depth.data["bids"], depth.data["asks"]
    assert 0 < len(bids) <= 10 and 0 < len(asks) <= 10
    bid_prices = [Decimal(p) for p, _ in bids]
    ask_prices = [Decimal(p) for p, _ in asks]
    assert bid_prices == sorted(bid_prices, reverse=True) and ask_prices == sorted(ask_prices)
    assert bid_prices[0] < ask_prices[0]
    assert isinstance(depth.data["lastUpdateId"], int)
    assert depth.meta.used_weight_1m is not None and depth.meta.used_weight_1m >= 5
    snap = await client.depth_snapshot("BTCUSDT", 100)
    assert {"lastUpdateId", "bids", "asks"} <= snap.keys()

    trades = (await client.trades("BTCUSDT", 5)).data
    assert len(trades) <= 5
    for t in trades:
        assert isinstance(t["price"], str) and Decimal(t["qty"]) > 0

    klines = (await client.klines("BTCUSDT", "1m", limit=3)).data
    assert 0 < len(klines) <= 3 and all(len(k) == 12 for k in klines)
    assert all(k[6] > k[0] for k in klines)

    avg = (await client.avg_price("BTCUSDT")).data
    assert Decimal(avg["price"]) > 0 and "mins" in avg

    t24 = (await client.ticker_24hr("BTCUSDT")).data
    assert t24["symbol"] == "BTCUSDT" and "lastPrice" in t24
    many = (await client.ticker_24hr(symbols=["BTCUSDT", "ETHUSDT"])).data
    assert sorted(x["symbol"] for x in many) == ["BTCUSDT", "ETHUSDT"]

    price = (await client.ticker_price("BTCUSDT")).data
    assert price["symbol"] == "BTCUSDT" and Decimal(price["price"]) > 0
    every = (await client.ticker_price()).data
    assert {p["symbol"] for p in every} == names

    book = (await client.book_ticker("BTCUSDT")).data
    assert Decimal(book["bidPrice"]) < Decimal(book["askPrice"])


async def test_unknown_symbol_names_near_misses(client: BinanceClient) -> None:
    with pytest.raises(UnknownSymbol) as err:
        await client.depth("BTCUSTD")
    assert err.value.binance_code == -1121
    assert "BTCUSDT" in err.value.suggestions
    with pytest.raises(UnknownSymbol):
        await client.rules("BTCUSTD")


async def test_rules_from_cache_validate_against_live_prices(client: BinanceClient) -> None:
    rules = await client.rules("btcusdt")
    assert rules.symbol == "BTCUSDT" and rules.is_trading
    price = await far_buy_price(client)
    qty = await min_quantity(client, "BTCUSDT", price)
    assert rules.validate_order(side="BUY", order_type="LIMIT", quantity=qty, price=price) == []
    off_tick = price + (rules.price_filter.tick_size / 3 if rules.price_filter else 0)
    bad = rules.validate_order(side="BUY", order_type="LIMIT", quantity=qty, price=off_tick)
    assert [v.filter for v in bad] == ["PRICE_FILTER"]


# -- signed calls ---------------------------------------------------------------------------


async def place_cancel_cycle(client: BinanceClient) -> None:
    price = await far_buy_price(client)
    qty = await min_quantity(client, "BTCUSDT", price)
    order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
             "quantity": qty, "price": price}
    assert (await client.test_order(order)).data == {}
    placed = await client.new_order(order)
    cid = placed.data["clientOrderId"]
    assert cid.startswith("mcp-") and placed.data["status"] == "NEW"
    got = await client.get_order("BTCUSDT", orig_client_order_id=cid)
    assert got.data["orderId"] == placed.data["orderId"]
    assert Decimal(got.data["price"]) == price
    opened = (await client.open_orders("BTCUSDT")).data
    assert placed.data["orderId"] in [o["orderId"] for o in opened]
    cancelled = await client.cancel_order("BTCUSDT", order_id=placed.data["orderId"])
    assert cancelled.data["status"] == "CANCELED"
    history = (await client.all_orders("BTCUSDT", limit=10)).data
    assert placed.data["orderId"] in [o["orderId"] for o in history]
    with pytest.raises(NotFound):
        await client.cancel_order("BTCUSDT", order_id=placed.data["orderId"])


async def test_signed_calls_with_hmac(client: BinanceClient) -> None:
    account = (await client.account(omit_zero_balances=True)).data
    assert account["balances"] and all(
        Decimal(b["free"]) + Decimal(b["locked"]) > 0 for b in account["balances"])
    assert isinstance((await client.my_trades("BTCUSDT", limit=5)).data, list)
    await place_cancel_cycle(client)
    with pytest.raises(NotFound):
        await client.get_order("BTCUSDT", orig_client_order_id="does-not-exist")


async def test_signed_calls_with_ed25519(sim: Any) -> None:
    pem = read_pem(sim)
    async with await BinanceClient.create(env_of(sim), sim.info.ed25519_api_key,
                                          private_key_pem=pem) as client:
        assert client.credentials_kind == "ed25519"
        assert "balances" in (await client.account()).data
        await place_cancel_cycle(client)


async def test_cancel_open_orders(client: BinanceClient) -> None:
    price = await far_buy_price(client)
    qty = await min_quantity(client, "BTCUSDT", price)
    for _ in range(2):
        await client.new_order({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                "timeInForce": "GTC", "quantity": qty, "price": price})
    cancelled = (await client.cancel_open_orders("BTCUSDT")).data
    assert len(cancelled) >= 2 and all(c["status"] == "CANCELED" for c in cancelled)
    assert (await client.open_orders("BTCUSDT")).data == []


# -- clock ----------------------------------------------------------------------------------


@pytest.mark.parametrize("skew_ms", [15_000, -15_000])
async def test_skewed_server_clock_is_corrected_and_reads_retry_once(
        sim: Any, client: BinanceClient, skew_ms: int) -> None:
    await client.account()
    before = client.clock.offset_ms
    await sim.fault("clock_skew", ms=skew_ms)
    sent = client.health().requests_sent
    assert "balances" in (await client.account()).data  # -1021, re-measure, retry
    assert abs(client.clock.offset_ms - before - skew_ms) < 1000
    assert client.health().clock_offset_ms == client.clock.offset_ms
    assert client.health().requests_sent - sent == 3  # account, time, account


async def test_skew_on_an_order_is_reported_not_retried(sim: Any, client: BinanceClient) -> None:
    price = await far_buy_price(client)
    qty = await min_quantity(client, "BTCUSDT", price)
    await sim.fault("clock_skew", ms=20_000)
    order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
             "quantity": qty, "price": price, "newClientOrderId": "skewed-1"}
    with pytest.raises(TimestampRejected) as err:
        await client.new_order(order)
    assert err.value.binance_code == -1021 and err.value.retry_safe
    placed = await client.new_order({**order, "newClientOrderId": "skewed-2"})  # re-measured
    assert placed.data["clientOrderId"] == "skewed-2"
    with pytest.raises(NotFound):
        await client.get_order("BTCUSDT", orig_client_order_id="skewed-1")
    await client.cancel_order("BTCUSDT", orig_client_order_id="skewed-2")


# -- weight governor ------------------------------------------------------------------------


async def test_governor_holds_a_burst_under_the_limit_without_any_429(
        sim: Any, client: BinanceClient) -> None:
    await sim.fault("weight_limit", limit=60)
    await client.refresh_exchange_info()  # costs 20; the live limit is adopted
    assert client.governor.limit == 60
    # 15 distinct weight-5 reads (no coalescing) = 75 > budget 54: some must wait or be refused
    calls = [client.depth("BTCUSDT", i + 1) for i in range(15)]
    results = await asyncio.gather(*calls, return_exceptions=True)
    refused = [r for r in results if isinstance(r, BaseException)]
    assert all(type(r) is RateLimited for r in refused), refused
    assert all(r.binance_code is None for r in refused if isinstance(r, RateLimited))
    assert len(refused) < 30
    health = client.health()
    assert health.banned_until is None
    assert health.last_error is None or health.last_error.binance_code != -1003


async def test_governor_honours_429_and_never_earns_a_418(sim: Any) -> None:
    # max wait 0: the governor refuses instead of waiting, whatever the time to the next minute
    client = await hmac_client(sim, config=ClientConfig(max_weight_wait_s=0.0))
    await sim.fault("weight_limit", limit=30)  # the client still believes the old limit
    seen_429 = 0
    for i in range(40):
        try:
            await client.depth("BTCUSDT", i + 1)
        except IpBanned:
            pytest.fail("the client got the IP banned")
        except RateLimited as exc:
            if exc.binance_code == -1003:
                seen_429 += 1
                assert exc.retry_after_s is not None and exc.retry_after_s > 0
            sent = client.health().requests_sent
            with pytest.raises(RateLimited):  # refused locally, nothing sent
                await client.ping()
            assert client.health().requests_sent == sent
            break
    assert seen_429 == 1
    assert client.governor.limit == 30  # learned from the -1003 message
    assert client.health().banned_until is None
    await client.close()


# -- coalescing -----------------------------------------------------------------------------


async def test_concurrent_identical_reads_share_one_request(client: BinanceClient) -> None:
    first = await client.depth("BTCUSDT", 100)
    sent = client.health().requests_sent
    results = await asyncio.gather(*(client.depth("BTCUSDT", 100) for _ in range(20)))
    assert client.health().requests_sent - sent == 1
    assert len({r.data["lastUpdateId"] for r in results}) == 1
    assert sum(r.meta.coalesced for r in results) == 19
    used = results[0].meta.used_weight_1m
    assert used is not None and first.meta.used_weight_1m is not None
    assert used - first.meta.used_weight_1m == 5 or used <= 5  # one depth charged (or new minute)


# -- failures on mutating and read calls ----------------------------------------------------


async def test_5xx_after_an_order_executed_is_execution_unknown_then_reconciled(
        sim: Any, client: BinanceClient) -> None:
    price = await far_buy_price(client)
    qty = await min_quantity(client, "BTCUSDT", price)
    await sim.fault("rest_fail", path="/api/v3/order", method="POST", status=503,
                    after_execute=True)
    sent = client.health().requests_sent
    with pytest.raises(ExecutionUnknown) as err:
        await client.new_order({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                "timeInForce": "GTC", "quantity": qty, "price": price})
    assert client.health().requests_sent - sent == 1  # never resent
    assert err.value.retry_safe is False and err.value.client_order_id
    found = await client.get_order("BTCUSDT", orig_client_order_id=err.value.client_order_id)
    assert found.data["status"] == "NEW"
    await client.cancel_order("BTCUSDT", orig_client_order_id=err.value.client_order_id)


async def test_minus_1007_on_an_order_is_execution_unknown(sim: Any,
                                                          client: BinanceClient) -> None:
    price = await far_buy_price(client)
    qty = await min_quantity(client, "BTCUSDT", price)
    await sim.fault("rest_fail", path="/api/v3/order", method="POST", code=-1007)
    with pytest.raises(ExecutionUnknown) as err:
        await client.new_order({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                "timeInForce": "GTC", "quantity": qty, "price": price,
                                "newClientOrderId": "unknown-1007"})
    assert err.value.binance_code == -1007 and err.value.client_order_id == "unknown-1007"


async def test_timeout_on_an_order_is_execution_unknown(sim: Any) -> None:
    config = ClientConfig(transport=TransportConfig(total_timeout_s=0.5))
    async with await hmac_client(sim, config=config) as client:
        price = await far_buy_price(client)
        qty = await min_quantity(client, "BTCUSDT", price)
        await sim.fault("rest_fail", path="/api/v3/order", method="POST", delay_ms=2000,
                        after_execute=True, status=200)
        with pytest.raises(ExecutionUnknown) as err:
            await client.new_order({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                    "timeInForce": "GTC", "quantity": qty, "price": price})
        assert isinstance(err.value.__cause__, ProviderError)


async def test_a_read_is_retried_once_after_a_5xx(sim: Any, client: BinanceClient) -> None:
    await sim.fault("rest_fail", path="/api/v3/avgPrice", method="GET", status=503)
    sent = client.health().requests_sent
    assert Decimal((await client.avg_price("BTCUSDT")).data["price"]) > 0
    assert client.health().requests_sent - sent == 2


async def test_unreachable_exchange_degrades_creation_and_shows_in_health() -> None:
    env = Environment.custom("http://127.0.0.1:9", "ws://127.0.0.1:9", name="nowhere")
    async with await BinanceClient.create(env) as client:
        health = client.health()
        assert health.environment == "nowhere" and health.clock_offset_ms is None
        with pytest.raises(ProviderError) as err:
            await client.ping()
        assert err.value.kind == "ExchangeUnreachable"
        last_error = client.health().last_error
        assert last_error is not None and last_error.kind == "ExchangeUnreachable"


# -- credentials and secrecy ----------------------------------------------------------------


async def test_missing_credentials_fail_before_sending(sim: Any) -> None:
    async with await BinanceClient.create(env_of(sim)) as client:
        sent = client.health().requests_sent
        with pytest.raises(Unauthenticated) as err:
            await client.account()
        assert client.health().requests_sent == sent
        assert err.value.binance_code is None


async def test_wrong_key_and_wrong_secret_give_clear_errors(sim: Any) -> None:
    async with await BinanceClient.create(env_of(sim), "X" * 64, sim.info.api_secret) as client:
        with pytest.raises((PermissionDenied, Unauthenticated)) as err:
            await client.account()
        assert err.value.binance_code in (-2014, -2015)
    async with await BinanceClient.create(env_of(sim), sim.info.api_key, "y" * 64) as client:
        with pytest.raises(Unauthenticated) as err:
            await client.account()
        assert err.value.binance_code == -1022
        assert "secret" in err.value.hint.lower() or "key" in err.value.hint.lower()


async def test_no_secret_reaches_logs_or_errors(sim: Any,
                                                capfd: pytest.CaptureFixture[str]) -> None:
    pem = read_pem(sim)
    secrets = [sim.info.api_secret, sim.info.api_key, sim.info.ed25519_api_key,
               pem.decode().splitlines()[1]]
    errors: list[ProviderError] = []
    with structlog.testing.capture_logs() as logs:
        for key, secret, private in ((sim.info.api_key, sim.info.api_secret, None),
                                     (sim.info.ed25519_api_key, None, pem),
                                     (sim.info.api_key, "wrong" * 10, None)):
            async with await BinanceClient.create(env_of(sim), key, secret,
                                                  private) as client:
                try:
                    await client.account()
                    await client.new_order({"symbol": "BTCUSDT", "side": "BUY",
                                            "type": "LIMIT", "timeInForce": "GTC",
                                            "quantity": "0.001", "price": "1"})
                except ProviderError as exc:
                    errors.append(exc)
                text = repr(client.health()) + repr(client._signer)
                assert not any(s in text for s in secrets)
    assert errors and logs
    dumped = repr(logs) + "".join(repr(e) + str(e.to_details()) for e in errors)
    dumped += "".join(capfd.readouterr())
    for secret in secrets:
        assert secret not in dumped
