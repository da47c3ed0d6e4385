"""Review attacks on session 23's changes, against the sandbox and real provider and gateway processes.

Each test is one attack a demanding user or a hostile exchange would make on: a cancel of a closed
order (the quiet lookup after -2011), the provider's and gateway's verdict on a subscription, and
InvokeTool orderbook_l2's rows handed over by identity (`jsonmap.with_rows`) under concurrency.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import grpc
import mcp_types as types
import pytest
import pytest_asyncio
from mcp import Client, ClientSession
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError

from contracts.binance.v1 import (
    common_pb2,
    market_pb2,
    market_pb2_grpc,
    orderbook_pb2,
    orderbook_pb2_grpc,
    trading_pb2,
    trading_pb2_grpc,
)
from contracts.provider.v1 import provider_pb2, provider_pb2_grpc
from tests.e2e.conftest import error_details, mcp_session
from tests.gateway.processes import gateway_process
from tests.sim_fixture import SimProcess
from tests.stack import ProviderProcess, gateway_params, sandbox_env

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.timeout(120),
    pytest.mark.filterwarnings("ignore:resources/.*subscribe is removed"),
]

WAIT_S = 30.0


@pytest_asyncio.fixture(loop_scope="module")
async def sim(stack_sim: SimProcess) -> AsyncIterator[SimProcess]:
    yield stack_sim
    await stack_sim.fault("clear")


@pytest_asyncio.fixture(loop_scope="module")
async def paused(sim: SimProcess) -> AsyncIterator[SimProcess]:
    """The sandbox's market stopped (its books stay where they are) for the test."""
    await sim.control("POST", "/sim/market", {"running": False})
    try:
        yield sim
    finally:
        await sim.control("POST", "/sim/market", {"running": True})




async def best(channel: grpc.aio.Channel, symbol: str) -> market_pb2.GetOrderBookResponse:
    return await market_pb2_grpc.MarketDataStub(channel).GetOrderBook(
        market_pb2.GetOrderBookRequest(symbol=symbol, limit=5)
    )


async def resting_buy(channel: grpc.aio.Channel, cid: str, symbol: str = "ETHUSDT") -> trading_pb2.Order:
    price = (Decimal((await best(channel, symbol)).bids[0].price) * Decimal("0.9")).quantize(Decimal("0.01"))
    placed = await trading_pb2_grpc.TradingStub(channel).PlaceOrder(
        trading_pb2.PlaceOrderRequest(
            symbol=symbol, side=common_pb2.SIDE_BUY, type=common_pb2.ORDER_TYPE_LIMIT,
            time_in_force=common_pb2.TIME_IN_FORCE_GTC, quantity="0.01", price=str(price), client_order_id=cid,
        )
    )
    assert placed.order.status == "NEW", placed
    return placed.order


async def cancel_refused(channel: grpc.aio.Channel, request: trading_pb2.CancelOrderRequest,
                         deadline_s: float | None = None) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await trading_pb2_grpc.TradingStub(channel).CancelOrder(request, timeout=deadline_s)
    return refused.value


# --- cancel of a closed order ---------------------------------------------------------------------


async def test_an_ioc_order_partly_filled_then_expired_is_answered_expired_with_its_fill(
    channel: grpc.aio.Channel, paused: SimProcess
) -> None:
    """A LIMIT IOC buying more than the best ask holds at that price fills part and expires: its
    cancel names EXPIRED and the part executed, not "unknown order"."""
    book = await best(channel, "ETHUSDT")
    top = book.asks[0]
    placed = await trading_pb2_grpc.TradingStub(channel).PlaceOrder(
        trading_pb2.PlaceOrderRequest(
            symbol="ETHUSDT", side=common_pb2.SIDE_BUY, type=common_pb2.ORDER_TYPE_LIMIT,
            time_in_force=common_pb2.TIME_IN_FORCE_IOC, quantity=str(Decimal(top.quantity) + Decimal("0.01")),
            price=top.price, client_order_id="r23-ioc-partial",
        )
    )
    assert placed.order.status == "EXPIRED" and Decimal(placed.order.executed_qty) > 0, placed
    refused = await cancel_refused(
        channel, trading_pb2.CancelOrderRequest(symbol="ETHUSDT", order_id=placed.order.order_id)
    )
    assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION, refused
    facts = error_details(refused)
    assert facts["order_status"] == "EXPIRED" and facts["client_order_id"] == "r23-ioc-partial", facts
    assert Decimal(facts["executed_qty"]) == Decimal(placed.order.executed_qty)
    assert "r23-ioc-partial" in (refused.details() or "")


async def test_a_cancel_whose_lookup_fails_keeps_not_found_and_names_the_client_order_id(
    channel: grpc.aio.Channel, sim: SimProcess
) -> None:
    """The lookup refused by the exchange (a 400 it does not retry) leaves the cancel's own answer, which still carries
    the id the caller gave."""
    await resting_buy(channel, "r23-lookup-fails")
    request = trading_pb2.CancelOrderRequest(symbol="ETHUSDT", client_order_id="r23-lookup-fails")
    assert (await trading_pb2_grpc.TradingStub(channel).CancelOrder(request)).order.status == "CANCELED"
    await sim.fault("rest_fail", path="/api/v3/order", method="GET", status=400, code=-1100, times=1)
    refused = await cancel_refused(channel, request)
    assert refused.code() == grpc.StatusCode.NOT_FOUND, refused
    assert "r23-lookup-fails" in (refused.details() or "") + json.dumps(error_details(refused)), refused


async def test_a_cancel_whose_lookup_hangs_at_the_exchange_still_answers_within_its_deadline(
    channel: grpc.aio.Channel, sim: SimProcess
) -> None:
    """Before the lookup, a second cancel of a closed order was answered NOT_FOUND at once. A lookup
    the exchange holds for 20 s must not turn that into DEADLINE_EXCEEDED for a caller who gave the
    cancel 8 s (a DELETE and a bounded lookup on loopback take far less)."""
    await resting_buy(channel, "r23-lookup-hangs")
    request = trading_pb2.CancelOrderRequest(symbol="ETHUSDT", client_order_id="r23-lookup-hangs")
    assert (await trading_pb2_grpc.TradingStub(channel).CancelOrder(request)).order.status == "CANCELED"
    await sim.fault("rest_fail", path="/api/v3/order", method="GET", hold_ms=20_000, times=1)
    refused = await cancel_refused(channel, request, deadline_s=8.0)
    assert refused.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION), refused


# --- InvokeTool orderbook_l2 under concurrency ------------------------------------------------------


def sides(data: dict[str, Any]) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
    def one(raw: list[Any]) -> list[tuple[Decimal, Decimal]]:
        return [(Decimal(x["price"]), Decimal(x["quantity"])) for x in raw]

    return one(data.get("bids", [])), one(data.get("asks", []))


def truth_sides(truth: dict[str, Any], n: int) -> tuple[list[tuple[Decimal, Decimal]], ...]:
    return tuple([(Decimal(p), Decimal(q)) for p, q in truth[side][:n]] for side in ("bids", "asks"))


async def synced(channel: grpc.aio.Channel, sim: SimProcess, symbol: str) -> dict[str, Any]:
    """With the market paused: the ground truth once the provider's book is SYNCED at its update id."""
    stub = orderbook_pb2_grpc.OrderBookStub(channel)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    while True:
        truth = await sim.ground_truth(symbol)
        got = await stub.GetL2(orderbook_pb2.GetL2Request(symbol=symbol, levels=1))
        if got.book.last_update_id == truth["lastUpdateId"] and got.book.synced:
            return truth
        assert loop.time() < deadline, f"{symbol} never synced at the truth"
        await asyncio.sleep(0.05)


async def test_concurrent_invoke_tool_l2_calls_each_get_their_own_books_rows(
    channel: grpc.aio.Channel, paused: SimProcess
) -> None:
    """Many InvokeTool orderbook_l2 calls of different symbols and depths at once, interleaved with
    typed GetL2 calls (whose results keep rows in the table and are never converted): each text and
    JSON answer is exactly its own symbol's top levels."""
    symbols = ["BTCUSDT", "ETHUSDT", "BNBUSDT"]
    truths = {s: await synced(channel, paused, s) for s in symbols}
    api = provider_pb2_grpc.ProviderStub(channel)
    typed = orderbook_pb2_grpc.OrderBookStub(channel)
    rng = random.Random(23)
    asks = [(rng.choice(symbols), rng.randint(1, 100), rng.random() < 0.4) for _ in range(60)]

    async def one(symbol: str, levels: int, as_typed: bool) -> None:
        want = truth_sides(truths[symbol], levels)
        if as_typed:
            got = await typed.GetL2(orderbook_pb2.GetL2Request(symbol=symbol, levels=levels))
            rows = tuple([(Decimal(x.price), Decimal(x.quantity)) for x in side] for side in (got.bids, got.asks))
            assert rows == want, (symbol, levels)
            return
        reply = await api.InvokeTool(provider_pb2.InvokeToolRequest(
            name="binance.orderbook_l2", arguments_json=json.dumps({"symbol": symbol, "levels": levels})))
        data = json.loads(reply.structured_json)
        assert data["symbol"] == symbol and sides(data) == want, (symbol, levels)
        assert f"symbol={symbol}" in reply.text or symbol in reply.text.splitlines()[0], reply.text[:200]

    await asyncio.gather(*(one(*a) for a in asks))


# --- subscriptions through the gateway ------------------------------------------------------------


class Updates:
    """Collects the URIs of notifications/resources/updated a session receives."""

    def __init__(self) -> None:
        self.uris: list[str] = []
        self.seen = asyncio.Event()

    async def __call__(self, message: Any) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            self.uris.append(str(message.params.uri))
            self.seen.set()

    async def wait_for(self, uri: str) -> None:
        async with asyncio.timeout(WAIT_S):
            while uri not in self.uris:
                self.seen.clear()
                await self.seen.wait()


async def verdict(session: ClientSession, uri: str) -> str:
    """What `resources/subscribe` of ``uri`` answered: "accepted" or "refused <code>"."""
    try:
        await session.subscribe_resource(uri)
    except MCPError as exc:
        return f"refused {exc.error.code}"
    return "accepted"


async def test_one_session_storming_a_bad_and_a_good_uri_gets_each_verdict_and_the_good_ones_updates(
    stack_provider: ProviderProcess,
) -> None:
    """Ten concurrent subscribes of one bad URI and of one good URI in one session (one shared
    stream per URI in the gateway), then an unsubscribe/subscribe storm of both: every bad one is
    refused, every good one accepted, and the good URI's updates still arrive."""
    good, bad = "binance://market/BTCUSDT", "binance://market/NOSUCHCOIN"
    updates = Updates()
    async with mcp_session(stack_provider.address, message_handler=updates) as s:
        got = await asyncio.gather(*(verdict(s, u) for _ in range(10) for u in (bad, good)))
        assert got == ["refused -32602", "accepted"] * 10, got
        for _ in range(5):
            await asyncio.gather(s.unsubscribe_resource(good), s.unsubscribe_resource(bad))
            again = await asyncio.gather(verdict(s, bad), verdict(s, good))
            assert again == ["refused -32602", "accepted"], again
        await updates.wait_for(good)
        assert bad not in updates.uris


async def test_the_same_bad_uri_from_several_sessions_at_once_is_refused_in_each(
    stack_provider: ProviderProcess,
) -> None:
    async with mcp_session(stack_provider.address) as a, mcp_session(stack_provider.address) as b:
        outcomes = await asyncio.gather(
            *(x.subscribe_resource("binance://orders/bogus") for x in (a, b) for _ in range(5)),
            return_exceptions=True,
        )
        assert all(isinstance(o, MCPError) and o.error.code == -32602 for o in outcomes), outcomes


async def test_subscribe_after_the_provider_went_down_answers_instead_of_hanging(stack_sim: SimProcess) -> None:
    """The provider is stopped under a live gateway session: resources/subscribe answers (either
    way) within the bound instead of waiting for a provider that is not coming back."""
    provider = await ProviderProcess.start(sandbox_env(stack_sim.info))
    try:
        async with mcp_session(provider.address) as s:
            await s.subscribe_resource("binance://market/ETHUSDT")
            await provider.stop()
            async with asyncio.timeout(WAIT_S):
                for uri in ("binance://market/BTCUSDT", "binance://market/NOSUCHCOIN"):
                    try:
                        await s.subscribe_resource(uri)
                    except MCPError:
                        pass
    finally:
        await provider.stop()


@pytest.mark.parametrize("template", ["binance://market/{}", "binance://orders/{}", "binance://{}"])
async def test_a_megabyte_uri_subscribed_through_the_gateway_is_refused_and_bounded_in_its_logs(
    stack_provider: ProviderProcess, tmp_path: Any, template: str
) -> None:
    """The provider bounds a huge URI in its status, details and log (fa62a53); the gateway's log
    lines (the request's, the subscription's opened, refused, closed) must not carry the megabyte
    either (the answer to the client may quote the client's own URI)."""
    uri = template.format("X" * 1_000_000)
    with (tmp_path / "gateway.err").open("w+") as errlog:
        async with (
            stdio_client(gateway_params(stack_provider.address), errlog=errlog) as (read, write),
            ClientSession(read, write) as s,
        ):
            await s.initialize()
            with pytest.raises(MCPError) as refused:
                await s.subscribe_resource(uri)
            assert refused.value.error.code in (-32602, -32002), refused.value.error.code  # invalid, not found
            await s.subscribe_resource("binance://market/BTCUSDT")  # the gateway still answers
        errlog.seek(0)
        logs = errlog.read()
    huge = [line for line in logs.splitlines() if "X" * 5000 in line]
    assert not huge, [{k: len(str(v)) for k, v in json.loads(line).items()} for line in huge]


async def invoke(channel: grpc.aio.Channel, name: str, args: dict[str, Any]) -> dict[str, Any]:
    reply = await provider_pb2_grpc.ProviderStub(channel).InvokeTool(
        provider_pb2.InvokeToolRequest(name=name, arguments_json=json.dumps(args))
    )
    found: dict[str, Any] = json.loads(reply.structured_json)
    return found


async def test_cancelling_a_closed_list_under_another_symbol_is_not_told_it_is_closed_there(
    channel: grpc.aio.Channel,
) -> None:
    """The list lookup (GET orderList) takes no symbol: a closed ETHUSDT list cancelled as a BTCUSDT
    list must not be answered "order list N on BTCUSDT is already ALL_DONE"; on BTCUSDT it never was."""
    last = Decimal((await best(channel, "ETHUSDT")).bids[0].price)
    placed = await invoke(channel, "binance.place_oco", {
        "symbol": "ETHUSDT", "side": "SELL", "quantity": "0.01", "list_client_order_id": "r23-oco-symbol",
        "above": {"type": "LIMIT_MAKER", "price": str((last * Decimal("1.2")).quantize(Decimal("0.01")))},
        "below": {"type": "STOP_LOSS", "stop_price": str((last * Decimal("0.8")).quantize(Decimal("0.01")))},
    })
    list_id = placed["order_list"]["order_list_id"]
    done = await invoke(channel, "binance.cancel_order_list", {"symbol": "ETHUSDT", "order_list_id": list_id})
    assert done["order_list"]["list_order_status"] == "ALL_DONE"
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await trading_pb2_grpc.TradingStub(channel).CancelOrderList(
            trading_pb2.CancelOrderListRequest(symbol="BTCUSDT", order_list_id=list_id)
        )
    text = refused.value.details() or ""
    assert "on BTCUSDT is already ALL_DONE" not in text, text
    if refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION:
        assert "ETHUSDT" in text, text  # closed, but where it is


async def test_many_sessions_of_one_http_gateway_share_the_verdicts_of_a_bad_and_a_good_uri(
    stack_provider: ProviderProcess,
) -> None:
    """Four handshake-era sessions of one HTTP gateway (one shared stream per URI) and a 2026 client
    listening on the good URI: every session's subscribe of the bad URI is refused, every good one
    accepted, and a session subscribed to the good URI gets its updates."""
    good, bad = "binance://market/ETHUSDT", "binance://orders/bogus"
    updates = Updates()
    argv = (sys.executable, "-m", "gateway", "--transport", "http", "--listen", "127.0.0.1:0",
            "--provider", f"binance={stack_provider.address}", "--max-concurrency-per-client", "64")

    async def legacy(url: str, handler: Any = None) -> list[str]:
        async with (
            create_mcp_http_client() as http,
            streamable_http_client(url, http_client=http) as (read, write),
            ClientSession(read, write, message_handler=handler) as s,
        ):
            await s.initialize()
            got = await asyncio.gather(*(verdict(s, u) for _ in range(3) for u in (bad, good)))
            if handler is not None:
                await updates.wait_for(good)
            return got

    async with gateway_process(argv) as url:
        async with create_mcp_http_client() as http, Client(streamable_http_client(url, http_client=http)) as modern:
            async with modern.listen(resource_subscriptions=[good]):
                results = await asyncio.gather(legacy(url, updates), *(legacy(url) for _ in range(3)))
    assert all(r == ["refused -32602", "accepted"] * 3 for r in results), results


async def test_a_keyless_provider_refuses_subscriptions_to_the_account_as_it_refuses_their_reads(
    stack_sim: SimProcess,
) -> None:
    """Without API credentials a read of binance://account/balances (or orders, my trades) is refused
    UNAUTHENTICATED; a subscription to it was accepted and then polled in vain forever."""
    env = {k: v for k, v in sandbox_env(stack_sim.info, trading=False).items() if "API" not in k}
    provider = await ProviderProcess.start(env)
    try:
        async with grpc.aio.insecure_channel(provider.address) as ch:
            stub = provider_pb2_grpc.ProviderStub(ch)
            for uri in ("binance://account/balances", "binance://orders/open", "binance://account/trades/BTCUSDT"):
                with pytest.raises(grpc.aio.AioRpcError) as read:
                    await stub.ReadResource(provider_pb2.ReadResourceRequest(uri=uri))
                assert read.value.code() == grpc.StatusCode.UNAUTHENTICATED, read.value
                call = stub.SubscribeResourceUpdates(provider_pb2.SubscribeResourceUpdatesRequest(uris=[uri]))
                async with asyncio.timeout(WAIT_S):  # a bound: an accepted subscription never ends
                    assert await call.code() == grpc.StatusCode.UNAUTHENTICATED, uri
            market = stub.SubscribeResourceUpdates(
                provider_pb2.SubscribeResourceUpdatesRequest(uris=["binance://market/BTCUSDT"])
            )
            await market.initial_metadata()
            assert not market.done()  # public data still is
            market.cancel()
        async with mcp_session(provider.address) as s:  # and through the gateway, at once
            with pytest.raises(MCPError) as refused:
                await s.subscribe_resource("binance://account/balances")
            assert "credentials" in refused.value.error.message, refused.value.error
            await s.subscribe_resource("binance://market/BTCUSDT")
    finally:
        await provider.stop()


async def test_a_cancel_naming_a_closed_order_by_id_with_another_client_order_id_is_not_told_it_is_closed(
    channel: grpc.aio.Channel,
) -> None:
    """Binance checks both ids when both are given: an order id of a closed order with a client order id
    that is not its own names no order, and must not be answered as that order already closed."""
    order = await resting_buy(channel, "r23-ids-mismatch")
    stub = trading_pb2_grpc.TradingStub(channel)
    await stub.CancelOrder(trading_pb2.CancelOrderRequest(symbol="ETHUSDT", order_id=order.order_id))
    refused = await cancel_refused(channel, trading_pb2.CancelOrderRequest(
        symbol="ETHUSDT", order_id=order.order_id, client_order_id="r23-not-its-id"))
    assert refused.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT), refused
