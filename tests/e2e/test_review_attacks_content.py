"""Review attacks on resources, prompts and subscriptions (provider/content/) and on detached cancels.

Through real processes: the sandbox, the provider, and its gRPC Provider contract (the one a gateway
speaks) or the typed Trading service. Each test says what was found, or what was tried and held.
"""

from __future__ import annotations

import asyncio
import json
import signal
import urllib.parse
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import grpc
import pytest
import pytest_asyncio

from contracts.binance.v1 import common_pb2, market_pb2, market_pb2_grpc, trading_pb2, trading_pb2_grpc
from contracts.provider.v1 import provider_pb2, provider_pb2_grpc
from simulator.symbols import UNICODE_SYMBOL
from tests.gateway.raw_stdio import RawStdio
from tests.sim_fixture import SimProcess
from tests.stack import ProviderProcess, sandbox_env

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(120)]

WAIT_S = 30.0


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def sim(stack_sim: SimProcess) -> SimProcess:
    return stack_sim


@pytest_asyncio.fixture(loop_scope="module")
async def clean(sim: SimProcess) -> AsyncIterator[SimProcess]:
    yield sim
    await sim.fault("clear")


def audit(process: ProviderProcess) -> list[dict[str, Any]]:
    return [json.loads(line) for line in process.audit().splitlines()]


async def resting_buy(channel: grpc.aio.Channel, symbol: str = "ETHUSDT") -> trading_pb2.Order:
    """A LIMIT BUY 10 % under the best bid: it rests (status NEW)."""
    book = await market_pb2_grpc.MarketDataStub(channel).GetOrderBook(
        market_pb2.GetOrderBookRequest(symbol=symbol, limit=5)
    )
    price = (Decimal(book.bids[0].price) * Decimal("0.9")).quantize(Decimal("0.01"))
    placed = await trading_pb2_grpc.TradingStub(channel).PlaceOrder(
        trading_pb2.PlaceOrderRequest(
            symbol=symbol, side=common_pb2.SIDE_BUY, type=common_pb2.ORDER_TYPE_LIMIT,
            time_in_force=common_pb2.TIME_IN_FORCE_GTC, quantity="0.01", price=str(price),
        )
    )
    assert placed.order.status == "NEW", placed
    return placed.order


class Updates:
    """One SubscribeResourceUpdates stream, read by a task into a list."""

    def __init__(self, channel: grpc.aio.Channel, uris: list[str]) -> None:
        self.call = provider_pb2_grpc.ProviderStub(channel).SubscribeResourceUpdates(
            provider_pb2.SubscribeResourceUpdatesRequest(uris=uris)
        )
        self.uris: list[str] = []
        self.arrived = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        async for update in self.call:
            self.uris.append(update.uri)
            self.arrived.set()

    async def until(self, uri: str, stimulus: Any, times: int = 1) -> list[str]:
        """Applies ``stimulus`` until ``times`` updates of ``uri`` arrived (the stream takes its first
        fingerprints at an unknown moment: a change made before that is no change for it); returns
        every update received by then. Bounded by WAIT_S."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_S
        while self.uris.count(uri) < times:
            assert loop.time() < deadline, f"no update of {uri} within {WAIT_S} s; got {self.uris}"
            self.arrived.clear()
            await stimulus()
            try:
                await asyncio.wait_for(self.arrived.wait(), timeout=7)  # a REST poll comes every 5 s
            except TimeoutError:
                continue
        return list(self.uris)

    def close(self) -> None:
        self.call.cancel()
        self._task.cancel()


async def test_an_orders_subscription_polled_over_rest_fires_only_when_its_orders_change(sim: SimProcess) -> None:
    """Found in review: without a live account the orders resources' fingerprint was their whole
    rendering, which starts with the time of reading: every REST poll (5 s) notified a change, with
    no order changed. Here the balance changes and the filled orders do not."""
    process = await ProviderProcess.start(sandbox_env(sim.info, trading=True, PROVIDER_ACCOUNT_STREAM="false"))
    btc = Decimal((await sim.control("POST", "/sim/balances", {"asset": "BTC"}))["free"])
    steps = iter(range(1, 100))
    try:
        async with grpc.aio.insecure_channel(process.address) as ch:
            updates = Updates(ch, ["binance://orders/filled", "binance://account/balances"])

            async def more_btc() -> None:
                await sim.control("POST", "/sim/balances", {"asset": "BTC", "free": str(btc + next(steps))})

            try:
                seen = await updates.until("binance://account/balances", more_btc, times=2)
            finally:
                updates.close()
    finally:
        await sim.control("POST", "/sim/balances", {"asset": "BTC", "free": str(btc)})
        await process.stop()
    # the two balance changes were seen by two REST polls at least 5 s apart: orders/filled was
    # polled again in between, and its rendering's time had changed
    assert "binance://orders/filled" not in seen, seen


async def test_a_resting_order_notifies_subscribers_of_orders_new(
    channel: grpc.aio.Channel, clean: SimProcess
) -> None:
    """Found in review: from the live account, the fingerprint of orders/new (and partially_filled)
    looked only at closed orders, where no order is NEW: a subscriber was never told of a new
    resting order, though reading the resource shows it."""
    updates = Updates(channel, ["binance://orders/new", "binance://orders/open"])
    placed: list[trading_pb2.Order] = []

    async def place() -> None:
        placed.append(await resting_buy(channel))

    try:
        seen = await updates.until("binance://orders/open", place)
    finally:
        updates.close()
        for order in placed:
            await trading_pb2_grpc.TradingStub(channel).CancelOrder(
                trading_pb2.CancelOrderRequest(symbol=order.symbol, order_id=order.order_id)
            )
    # both fingerprints are taken from the same state in the same round, orders/new first
    assert "binance://orders/new" in seen, seen


async def test_a_utf8_symbol_percent_encoded_in_a_resource_uri_reads_that_symbol(channel: grpc.aio.Channel) -> None:
    """Found in review: expanding binance://market/{SYMBOL} as RFC 6570 says percent-encodes a UTF-8
    symbol (币安人生USDT -> %E5%B8%81...), and the provider looked up the encoded text: unknown symbol."""
    stub = provider_pb2_grpc.ProviderStub(channel)
    encoded = urllib.parse.quote(UNICODE_SYMBOL.lower())
    for uri, title in (
        (f"binance://market/{encoded}", f"# {UNICODE_SYMBOL} market"),
        (f"binance://account/trades/{encoded}", f"# My trades on {UNICODE_SYMBOL}"),
    ):
        reply = await stub.ReadResource(provider_pb2.ReadResourceRequest(uri=uri))
        assert reply.contents[0].text.startswith(title), reply.contents[0].text[:200]
        assert reply.contents[0].uri == uri


def cancel_actions(process: ProviderProcess, order_id: int) -> list[str]:
    """The cancel_order lines of one order: by what was sent, or by what came back."""
    return [
        x["action"] for x in audit(process)
        if x["action"].startswith("cancel_order.")
        and order_id in (x.get("sent", {}).get("order_id"), (x.get("received") or {}).get("orderId"))
    ]


async def test_concurrent_cancels_of_one_order_cancel_it_once_and_record_each_outcome_once(
    channel: grpc.aio.Channel, stack_provider: ProviderProcess, clean: SimProcess
) -> None:
    """Tried: two cancels of the same order at once on a slow exchange, each in its own detached task.
    Held: one answer CANCELED, the other FAILED_PRECONDITION (-2011 for an order found already
    CANCELED: not INTERNAL, not "unknown"), one done and one failed line."""
    order = await resting_buy(channel)
    await clean.fault("rest_fail", path="/api/v3/order", method="DELETE", hold_ms=1000, times=2)
    stub = trading_pb2_grpc.TradingStub(channel)
    request = trading_pb2.CancelOrderRequest(symbol=order.symbol, order_id=order.order_id)
    answers = await asyncio.gather(stub.CancelOrder(request), stub.CancelOrder(request), return_exceptions=True)
    canceled = [a for a in answers if isinstance(a, trading_pb2.CancelOrderResponse)]
    refused = [a for a in answers if isinstance(a, grpc.aio.AioRpcError)]
    assert len(canceled) == 1 and canceled[0].order.status == "CANCELED", answers
    assert len(refused) == 1 and refused[0].code() == grpc.StatusCode.FAILED_PRECONDITION, answers
    assert sorted(cancel_actions(stack_provider, order.order_id)) == [
        "cancel_order.done", "cancel_order.failed", "cancel_order.send", "cancel_order.send"
    ]


async def test_a_failed_cancel_is_recorded_with_the_order_it_was_for(
    channel: grpc.aio.Channel, stack_provider: ProviderProcess
) -> None:
    """Found in review: cancel_order.failed (and the failed lines of cancel_open_orders and
    cancel_order_list) carried only the error; with cancels now running detached and concurrently,
    a failure could not be tied to its order in the audit log."""
    unknown = 987654321
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await trading_pb2_grpc.TradingStub(channel).CancelOrder(
            trading_pb2.CancelOrderRequest(symbol="ETHUSDT", order_id=unknown)
        )
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    assert cancel_actions(stack_provider, unknown) == ["cancel_order.send", "cancel_order.failed"]


async def test_sigterm_with_a_cancel_in_flight_whose_caller_left_finishes_it_and_records_it(
    clean: SimProcess,
) -> None:
    """Tried: the caller gives up while its cancel is held at the exchange, then the provider gets
    SIGTERM. Held: the drain waits for the detached cancel, which is done, recorded once, and the
    process exits 0."""
    process = await ProviderProcess.start(sandbox_env(clean.info, trading=True))
    try:
        async with grpc.aio.insecure_channel(process.address) as ch:
            order = await resting_buy(ch)
            await clean.fault("rest_fail", path="/api/v3/order", method="DELETE", hold_ms=2000, times=1)
            call = trading_pb2_grpc.TradingStub(ch).CancelOrder(
                trading_pb2.CancelOrderRequest(symbol=order.symbol, order_id=order.order_id)
            )
            await clean.wait_held(WAIT_S)
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            assert await process.stop(signal.SIGTERM, timeout_s=30) == 0
        assert cancel_actions(process, order.order_id) == ["cancel_order.send", "cancel_order.done"]
        reply = await clean.control("GET", f"/sim/orders?symbol={order.symbol}")
        (state,) = [o["status"] for o in reply["orders"] if o["orderId"] == order.order_id]
        assert state == "CANCELED"
    finally:
        await process.stop()


async def test_a_client_cancelling_a_call_in_flight_keeps_its_stdio_gateway(
    stack_provider: ProviderProcess, clean: SimProcess
) -> None:
    """Found in review (while checking that a cancel's caller may leave): an MCP client that cancels
    a tool call in flight, as the spec lets it, loses its whole gateway session."""
    gateway = await RawStdio.start(stack_provider.address)
    try:
        await clean.fault("rest_fail", path="/api/v3/ticker/24hr", method="GET", hold_ms=3000, times=1)
        await gateway.send({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                            "params": {"name": "binance_get_ticker", "arguments": {"symbol": "ETHUSDT"}}})
        await clean.wait_held(WAIT_S)
        await gateway.send({"jsonrpc": "2.0", "method": "notifications/cancelled",
                            "params": {"requestId": 2, "reason": "the caller gave up"}})
        await gateway.send({"jsonrpc": "2.0", "id": 3, "method": "ping"})
        assert await gateway.answer(3) == {"jsonrpc": "2.0", "id": 3, "result": {}}
    finally:
        await gateway.close()
