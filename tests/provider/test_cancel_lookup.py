"""cancel_order's -2011 lookup in process (the real App and gRPC server on a scripted exchange): when the
lookup cannot show the order, the cancel's own NOT_FOUND stands; an order shown closed or still open is
said to be so."""

from __future__ import annotations

import json
from pathlib import Path

import grpc
import pytest

from contracts.binance.v1 import trading_pb2, trading_pb2_grpc
from provider.binance.transport import RestRequest, RestResponse
from tests.harness import InProcessProvider, ScriptedExchange, answer, error

UNKNOWN = error(400, -2011, "Unknown order sent.")
CANCEL = trading_pb2.CancelOrderRequest(symbol="BTCUSDT", client_order_id="svc-cancel")


def order(status: str) -> RestResponse:
    return answer({"symbol": "BTCUSDT", "orderId": 7, "clientOrderId": "svc-cancel", "status": status, "side": "BUY",
                   "type": "LIMIT", "price": "60000.00", "origQty": "0.001", "executedQty": "0",
                   "cummulativeQuoteQty": "0", "timeInForce": "GTC", "time": 1, "updateTime": 1})


@pytest.mark.parametrize(
    ("lookup", "found"),
    [
        (error(400, -2013, "Order does not exist."), None),  # unknown (or archived)
        (error(503, -1008, "Server is currently overloaded."), None),  # the lookup fails
    ],
)
async def test_a_cancel_refused_as_unknown_stays_not_found_unless_the_lookup_shows_it_closed(
    tmp_path: Path, lookup: RestResponse, found: str | None
) -> None:
    def handle(r: RestRequest) -> RestResponse:
        return UNKNOWN if r.method == "DELETE" else lookup

    exchange = ScriptedExchange({"/api/v3/order": handle})
    async with InProcessProvider(exchange, tmp_path, BINANCE_TRADING_ENABLED="true") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await trading_pb2_grpc.TradingStub(channel).CancelOrder(CANCEL)
    assert refused.value.code() is grpc.StatusCode.NOT_FOUND, refused.value
    assert exchange.paths("DELETE") == ["/api/v3/order"] and "/api/v3/order" in exchange.paths("GET")
    (failed,) = [x for x in map(json.loads, (tmp_path / "audit.log").read_text().splitlines())
                 if x["action"] == "cancel_order.failed"]
    assert (failed["found"] or {}).get("status") == found if found else failed["found"] is None


async def test_a_cancel_refused_for_another_reason_is_not_looked_up(tmp_path: Path) -> None:
    restricted = error(400, -2011, "Order was not canceled due to cancel restrictions.")
    exchange = ScriptedExchange({"/api/v3/order": lambda r: restricted if r.method == "DELETE" else order("NEW")})
    async with InProcessProvider(exchange, tmp_path, BINANCE_TRADING_ENABLED="true") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await trading_pb2_grpc.TradingStub(channel).CancelOrder(CANCEL)
    assert refused.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "/api/v3/order" not in exchange.paths("GET")


async def test_a_canceled_order_found_by_the_lookup_is_answered_already_canceled(tmp_path: Path) -> None:
    exchange = ScriptedExchange({"/api/v3/order": lambda r: UNKNOWN if r.method == "DELETE" else order("CANCELED")})
    async with InProcessProvider(exchange, tmp_path, BINANCE_TRADING_ENABLED="true") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await trading_pb2_grpc.TradingStub(channel).CancelOrder(CANCEL)
    assert refused.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "already CANCELED (executed 0 of 0.001)" in (refused.value.details() or "")


@pytest.mark.parametrize("status", ["NEW", "PARTIALLY_FILLED"])
async def test_an_order_the_lookup_shows_still_open_is_never_answered_not_found(tmp_path: Path, status: str) -> None:
    """NOT_FOUND ("unknown or already closed") would let an agent take a live order for gone."""
    exchange = ScriptedExchange({"/api/v3/order": lambda r: UNKNOWN if r.method == "DELETE" else order(status)})
    async with InProcessProvider(exchange, tmp_path, BINANCE_TRADING_ENABLED="true") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await trading_pb2_grpc.TradingStub(channel).CancelOrder(CANCEL)
    said = refused.value.details() or ""
    assert refused.value.code() is grpc.StatusCode.FAILED_PRECONDITION, refused.value
    assert f"is still {status} (executed 0 of 0.001): it was NOT cancelled" in said, said
    assert "[client_order_id=svc-cancel]" in said, said
