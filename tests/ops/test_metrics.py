"""Prometheus metrics: a real provider process scraped over HTTP, plus the scrape-time collector's bookkeeping."""

from __future__ import annotations

import json

import aiohttp
import grpc
import pytest
from google.protobuf import struct_pb2
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from contracts.binance.v1 import market_pb2, market_pb2_grpc
from contracts.provider.v1 import provider_pb2, provider_pb2_grpc
from provider.metrics import CountAccumulator, HealthCollector
from provider.orderbook.health import BooksHealth, SymbolBookHealth
from tests.sim_fixture import SimProcess
from tests.stack import ProviderProcess, free_port, sandbox_env

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def scrape(port: int) -> Samples:
    async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{port}/metrics") as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain")
        return parse(await r.text())


async def invoke(channel: grpc.aio.Channel, tool: str, **args: object) -> provider_pb2.InvokeToolResponse:
    arguments = struct_pb2.Struct()
    arguments.update(args)
    stub = provider_pb2_grpc.ProviderStub(channel)
    reply: provider_pb2.InvokeToolResponse = await stub.InvokeTool(
        provider_pb2.InvokeToolRequest(name=tool, arguments=arguments), timeout=10)
    return reply


GET_TICKER = "/binance.v1.MarketData/GetTicker"
INVOKE = "/provider.v1.Provider/InvokeTool"


async def test_metrics_endpoint_counts_rpcs_exchange_requests_weight_and_books(sim: SimProcess) -> None:
    port = free_port()
    provider = await ProviderProcess.start(sandbox_env(sim.info, PROVIDER_METRICS_LISTEN=f"127.0.0.1:{port}"))
    try:
        before = await scrape(port)
        async with grpc.aio.insecure_channel(provider.address) as channel:
            market = market_pb2_grpc.MarketDataStub(channel)
            await market.GetTicker(market_pb2.GetTickerRequest(symbol="BTCUSDT"), timeout=10)
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await market.GetTicker(market_pb2.GetTickerRequest(symbol="NOSUCHUSDT"), timeout=10)
            assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
            l1 = await invoke(channel, "binance.orderbook_l1", symbol="ETHUSDT")
            assert json.loads(l1.structured_json)["symbol"] == "ETHUSDT"
        after = await scrape(port)
    finally:
        assert await provider.stop() == 0

    ok = dict(method=GET_TICKER, tool="binance.get_ticker")
    ok_before = value(before, "provider_rpc_total", code="OK", **ok)
    assert value(after, "provider_rpc_total", code="OK", **ok) == ok_before + 1
    assert value(after, "provider_rpc_total", code="INVALID_ARGUMENT", **ok) == 1
    assert value(after, "provider_rpc_duration_seconds_count", **ok) == 2
    assert value(after, "provider_rpc_total", method=INVOKE, tool="binance.orderbook_l1", code="OK") == 1

    ticker = dict(endpoint="/api/v3/ticker/24hr", method="GET", status="200")
    assert value(after, "provider_exchange_requests_total", **ticker) > value(
        before, "provider_exchange_requests_total", **ticker)
    # start-up measured the clock and loaded exchangeInfo through the metered transport
    assert value(before, "provider_exchange_requests_total", endpoint="/api/v3/time", method="GET", status="200") >= 1
    assert value(after, "binance_used_weight", environment="sandbox") > 0
    assert value(after, "binance_weight_limit", environment="sandbox") > 0
    assert value(after, "binance_client_requests_total", environment="sandbox") > value(
        before, "binance_client_requests_total", environment="sandbox")

    assert value(before, "provider_orderbook_books_tracked") == 0
    assert value(after, "provider_orderbook_books_tracked") == 1
    assert value(after, "provider_orderbook_books", state="SYNCED") == 1
    assert ("provider_orderbook_resyncs_total", frozenset()) in after
    assert ("provider_orderbook_stream_messages_per_second", frozenset({("symbol", "ETHUSDT")})) in after

    # the HTTP endpoint goes away with the process (stopped on shutdown, not leaked)
    with pytest.raises(aiohttp.ClientConnectionError):
        await scrape(port)


async def test_no_metrics_port_unless_configured(sim: SimProcess) -> None:
    provider = await ProviderProcess.start(sandbox_env(sim.info))
    try:
        assert "metrics_serving" not in provider.logs()
    finally:
        assert await provider.stop() == 0


def test_count_accumulator_keeps_counts_of_evicted_and_restarted_symbols() -> None:
    acc = CountAccumulator()
    assert acc.update({"BTCUSDT": 2, "ETHUSDT": 1}) == 3
    assert acc.update({"BTCUSDT": 5, "ETHUSDT": 1}) == 6
    assert acc.update({"BTCUSDT": 5}) == 6  # ETHUSDT evicted: its resync stays counted
    assert acc.update({"BTCUSDT": 5, "ETHUSDT": 1}) == 7  # re-added, counting from zero again
    assert acc.update({"BTCUSDT": 1, "ETHUSDT": 1}) == 8  # a count that went down restarted


def test_health_collector_reports_weight_books_and_monotonic_resyncs_from_typed_health() -> None:
    client = {"environment": "testnet", "used_weight": 40, "weight_limit": 6000, "last_used_weight_header": 42,
              "clock_offset_ms": -3, "banned_until": 1.0e9, "rate_limited_until": None,
              "requests_sent": 7, "requests_coalesced": 1}
    books = [books_health(BTCUSDT=symbol_health("SYNCED", 2, 10.0), ETHUSDT=symbol_health("RESYNCING", 1, 0.0))]
    registry = CollectorRegistry()
    registry.register(HealthCollector(lambda: client, lambda: books[0]))
    first = {(s.name, frozenset(s.labels.items())): s.value for m in registry.collect() for s in m.samples}
    assert value(first, "binance_used_weight", environment="testnet") == 40
    assert value(first, "binance_used_weight_header", environment="testnet") == 42
    assert value(first, "binance_clock_offset_ms", environment="testnet") == -3
    assert value(first, "binance_banned", environment="testnet") == 1
    assert value(first, "binance_rate_limited", environment="testnet") == 0
    assert value(first, "provider_orderbook_books", state="SYNCED") == 1
    assert value(first, "provider_orderbook_books", state="RESYNCING") == 1
    assert value(first, "provider_orderbook_books_tracked") == 2
    assert value(first, "provider_orderbook_resyncs_total") == 3
    assert value(first, "provider_orderbook_stream_messages_per_second", symbol="BTCUSDT") == 10.0

    books[0] = books_health(BTCUSDT=symbol_health("SYNCED", 3, 0.0))
    second = {(s.name, frozenset(s.labels.items())): s.value for m in registry.collect() for s in m.samples}
    assert value(second, "provider_orderbook_resyncs_total") == 4  # ETHUSDT's 1 kept after eviction
    assert value(second, "provider_orderbook_books_tracked") == 1


def symbol_health(state: str, resync_count: int, messages_per_s: float) -> SymbolBookHealth:
    return SymbolBookHealth(
        state=state, last_update_id=1, event_time_ms=None, age_ms=None, resync_count=resync_count,
        last_resync_reason=None, messages_per_s=messages_per_s, buffered_events=0, stale_snapshots=0,
        unsynced_ms=0, quiet_checks=0, last_error=None,
    )


def books_health(**symbols: SymbolBookHealth) -> BooksHealth:
    return BooksHealth(
        status="connected", connected=True, connection_age_s=1.0, streams=2, reconnects=1, renewals=0,
        max_symbols=10, last_error=None, symbols=symbols,
    )
