"""grpc.health per service: REST services stop serving during an exchange outage or a ban."""

from __future__ import annotations

import asyncio
from dataclasses import fields, replace
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from contracts.binance.v1 import market_pb2, market_pb2_grpc
from provider.binance.client_health import ClientHealth, ExchangeFailure
from provider.health import exchange_usable
from tests.sim_fixture import SimProcess
from tests.stack import ProviderProcess, free_port, sandbox_env


def client_health(**changes: Any) -> ClientHealth:
    """A healthy client's record, with `changes` applied."""
    base = ClientHealth(
        environment="sandbox", rest_url="http://127.0.0.1:1", ws_url="ws://127.0.0.1:1", credentials="none",
        clock_offset_ms=0, clock_rtt_ms=1, clock_age_s=0.0, exchange_info_age_s=0.0, symbols=1,
        requests_sent=1, requests_coalesced=0, last_error=None, last_ok_at_ms=None, used_weight=0,
        weight_limit=6000, weight_budget=5400, interval_s=60, weight_limit_source="default",
        last_used_weight_header=None, rate_limited_until=None, banned_until=None,
    )
    return replace(base, **changes)


def failure(kind: str, at_ms: int) -> ExchangeFailure:
    return ExchangeFailure(kind=kind, endpoint="ticker", message="down", binance_code=None, at_ms=at_ms)


def test_usable_without_errors_and_after_a_success_that_follows_an_outage() -> None:
    assert exchange_usable(client_health())
    outage = failure("ExchangeUnreachable", 2_000)
    assert not exchange_usable(client_health(last_error=outage, last_ok_at_ms=1_000))
    assert not exchange_usable(client_health(last_error=outage, last_ok_at_ms=None))
    assert exchange_usable(client_health(last_error=outage, last_ok_at_ms=3_000))


def test_caller_mistakes_never_count_and_a_ban_always_does() -> None:
    assert exchange_usable(client_health(last_error=failure("RateLimited", 5), last_ok_at_ms=1))
    assert not exchange_usable(client_health(banned_until=1e12, last_ok_at_ms=10))


def test_the_json_form_keeps_every_field_and_nests_the_failure() -> None:
    data = client_health(last_error=failure("ExchangeTimeout", 7), order_counts={"10s": 1}).to_dict()
    assert data["last_error"] == {"kind": "ExchangeTimeout", "endpoint": "ticker", "message": "down",
                                  "binance_code": None, "at_ms": 7}
    assert data["order_counts"] == {"10s": 1} and data["banned_until"] is None
    assert set(data) == {f.name for f in fields(ClientHealth)}


async def status(address: str, service: str) -> int:
    async with grpc.aio.insecure_channel(address) as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=5
        )
        return int(reply.status)


async def until_status(address: str, service: str, wanted: int) -> None:
    for _ in range(100):
        if await status(address, service) == wanted:
            return
        await asyncio.sleep(0.1)
    pytest.fail(f"{service} never reached status {wanted}")


async def test_market_data_health_follows_an_exchange_outage_and_recovery() -> None:
    port = free_port()
    sim = await SimProcess.start("--port", str(port))
    provider = await ProviderProcess.start(sandbox_env(sim.info))
    serving, not_serving = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING
    try:
        await until_status(provider.address, "binance.v1.MarketData", serving)
        await sim.stop()
        async with grpc.aio.insecure_channel(provider.address) as channel:
            stub = market_pb2_grpc.MarketDataStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.GetTicker(market_pb2.GetTickerRequest(symbol="BTCUSDT"), timeout=15)
            assert err.value.code() == grpc.StatusCode.UNAVAILABLE
            await until_status(provider.address, "binance.v1.MarketData", not_serving)
            assert await status(provider.address, "") == serving  # the process itself still serves
            sim = await SimProcess.start("--port", str(port))
            reply = await stub.GetTicker(market_pb2.GetTickerRequest(symbol="BTCUSDT"), timeout=15)
            assert reply.symbol == "BTCUSDT"
            await until_status(provider.address, "binance.v1.MarketData", serving)
    finally:
        await provider.stop()
        await sim.stop()
