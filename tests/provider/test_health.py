"""grpc.health per service: REST services stop serving during an exchange outage or a ban."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from contracts.binance.v1 import market_pb2, market_pb2_grpc
from provider.health import exchange_usable
from tests.sim_fixture import SimProcess
from tests.stack import ProviderProcess, free_port, sandbox_env


def test_usable_without_errors_and_after_a_success_that_follows_an_outage() -> None:
    assert exchange_usable({"last_error": None, "last_ok_at_ms": None})
    outage = {"kind": "ExchangeUnreachable", "at_ms": 2_000}
    assert not exchange_usable({"last_error": outage, "last_ok_at_ms": 1_000})
    assert not exchange_usable({"last_error": outage, "last_ok_at_ms": None})
    assert exchange_usable({"last_error": outage, "last_ok_at_ms": 3_000})


def test_caller_mistakes_never_count_and_a_ban_always_does() -> None:
    assert exchange_usable({"last_error": {"kind": "RateLimited", "at_ms": 5}, "last_ok_at_ms": 1})
    assert not exchange_usable({"banned_until": 1e12, "last_error": None, "last_ok_at_ms": 10})


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
