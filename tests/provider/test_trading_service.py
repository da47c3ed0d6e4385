"""The trading servicer in process (the real App and gRPC server on a scripted exchange)."""

from __future__ import annotations

import itertools
from pathlib import Path

import grpc
import pytest

from contracts.binance.v1 import common_pb2, market_pb2, market_pb2_grpc, trading_pb2, trading_pb2_grpc
from provider.binance.transport import RestRequest, RestResponse
from provider.errors import ExchangeTimeout
from tests.harness import InProcessProvider, ScriptedExchange, answer, error

ORDER = trading_pb2.PlaceOrderRequest(
    symbol="BTCUSDT", side=common_pb2.SIDE_BUY, type=common_pb2.ORDER_TYPE_LIMIT, quantity="0.001",
    price="60000.00", client_order_id="svc-1",
)
AVG = {"/api/v3/avgPrice": lambda r: answer({"mins": 5, "price": "61000.00", "closeTime": 1}),
       "/api/v3/referencePrice": lambda r: answer({"symbol": "BTCUSDT", "referencePrice": None, "timestamp": 1})}
NOT_FOUND = error(400, -2013, "Order does not exist.")


def fast_clock(step_ms: int = 1500) -> itertools.count[int]:
    """A wall clock that moves `step_ms` each time it is read: the recvWindow passes in a few reads."""
    return itertools.count(1_700_000_000_000, step_ms)


async def test_trading_disabled_refuses_before_anything_is_sent(tmp_path: Path) -> None:
    exchange = ScriptedExchange(AVG)
    async with InProcessProvider(exchange, tmp_path, BINANCE_TRADING_ENABLED="false") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await trading_pb2_grpc.TradingStub(channel).PlaceOrder(ORDER)
    assert err.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "BINANCE_TRADING_ENABLED" in (err.value.details() or "")
    assert "/api/v3/order" not in exchange.paths()


async def test_a_lost_answer_is_absent_only_after_a_lookup_past_the_recv_window(tmp_path: Path) -> None:
    exchange = ScriptedExchange({**AVG, "/api/v3/order": lambda r: NOT_FOUND if r.method == "GET" else lost(r)})
    clock = fast_clock()
    async with InProcessProvider(exchange, tmp_path, wall_ms=lambda: next(clock),
                                 BINANCE_TRADING_ENABLED="true") as channel:
        reply = await trading_pb2_grpc.TradingStub(channel).PlaceOrder(ORDER)
    assert reply.outcome == trading_pb2.PLACE_OUTCOME_RECONCILED_ABSENT and reply.client_order_id == "svc-1"
    assert len(exchange.paths("GET")) >= 2 and exchange.paths("POST") == ["/api/v3/order"]


def lost(request: RestRequest) -> RestResponse:
    raise ExchangeTimeout("no answer in time")


async def test_a_lost_answer_found_by_a_later_lookup_exists_and_is_not_resent(tmp_path: Path) -> None:
    lookups = itertools.count()
    found = answer({"symbol": "BTCUSDT", "orderId": 7, "clientOrderId": "svc-1", "status": "NEW", "side": "BUY",
                    "type": "LIMIT", "price": "60000.00", "origQty": "0.001", "executedQty": "0",
                    "cummulativeQuoteQty": "0", "timeInForce": "GTC", "time": 1, "updateTime": 1})

    def order(r: RestRequest) -> RestResponse:
        if r.method == "POST":
            return lost(r)
        return found if next(lookups) >= 1 else NOT_FOUND

    exchange = ScriptedExchange({**AVG, "/api/v3/order": order})
    async with InProcessProvider(exchange, tmp_path, BINANCE_TRADING_ENABLED="true") as channel:
        reply = await trading_pb2_grpc.TradingStub(channel).PlaceOrder(ORDER)
    assert reply.outcome == trading_pb2.PLACE_OUTCOME_RECONCILED_EXISTS and reply.order.order_id == 7
    assert exchange.paths("POST") == ["/api/v3/order"]


async def test_too_many_orders_holds_back_new_orders_but_not_reads(tmp_path: Path) -> None:
    limited = error(429, -1015, "Too many new orders; current limit is 50 orders per 10 SECOND.")
    limited.headers["retry-after"] = "30"  # type: ignore[index]
    exchange = ScriptedExchange({
        **AVG, "/api/v3/order": lambda r: NOT_FOUND if r.method == "GET" else limited,
    })
    async with InProcessProvider(exchange, tmp_path, BINANCE_TRADING_ENABLED="true") as channel:
        stub = trading_pb2_grpc.TradingStub(channel)
        for cid in ("svc-a", "svc-b"):
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.PlaceOrder(trading_pb2.PlaceOrderRequest(**{
                    **{f.name: v for f, v in ORDER.ListFields()}, "client_order_id": cid}))
            assert err.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED and cid in (err.value.details() or "")
        avg = await market_pb2_grpc.MarketDataStub(channel).GetAvgPrice(market_pb2.GetAvgPriceRequest(symbol="BTCUSDT"))
    assert avg.price == "61000.00"
    assert exchange.paths("POST") == ["/api/v3/order"]  # the second order was held back locally
