"""Review attacks on session 24's order-list lookup bound (d10cf18) and the re-read of a lowered
weight limit (0c7ee0c), in process.

A hostile exchange never answers the order states a cancelled list's lookup asks for, and keeps a
weight limit under the re-read's own weight (the sandbox's ``weight_limit`` fault with limit=1),
refusing every re-read; the sandbox's limiter (``simulator/weights.py``) bans an IP after repeated
refusals, and no 418 may ever be earned.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest

from contracts.binance.v1 import trading_pb2, trading_pb2_grpc
from provider.binance.transport import RestRequest, RestResponse
from tests.harness import InProcessProvider, ScriptedExchange, answer, error

WALL_MS = 1_700_000_010_000
LISTED = {"orderListId": 5, "contingencyType": "OCO", "listStatusType": "ALL_DONE", "listOrderStatus": "ALL_DONE",
          "listClientOrderId": "gone-list", "transactionTime": 1, "symbol": "BTCUSDT",
          "orders": [{"symbol": "BTCUSDT", "orderId": 12, "clientOrderId": "leg-1"}]}


class StatesNeverAnswer(ScriptedExchange):
    """Answers the list and the ping; an order's state (GET /api/v3/order) never comes."""

    def __init__(self) -> None:
        super().__init__({
            "/api/v3/orderList": lambda r: error(400, -2011, "Unknown order list sent.") if r.method == "DELETE"
            else answer(LISTED),
            "/api/v3/ping": lambda r: answer({}, headers={"x-mbx-used-weight-1m": "50"}),
        })
        self.asked_state = asyncio.Event()

    async def send(self, request: RestRequest) -> RestResponse:
        if request.path == "/api/v3/order" and request.method == "GET":
            self.sent.append(request)
            self.asked_state.set()
            await asyncio.Event().wait()  # never answers: only the lookup's bound ends it
        return await super().send(request)


async def test_an_order_state_lookup_cut_by_its_bound_gives_its_in_flight_weight_back(tmp_path: Path) -> None:
    """The 2 s bound cancels the state lookup while its request is in flight; the client gave a call's
    in-flight weight back only on a ProviderError, not on cancellation, and the core's in-flight count
    never rolls with the window: every later used-weight header was read as header + the lost weight
    (the budget shrank for good, 4 weight per cut lookup), and rule 7 (a heavy call alone at a window's
    start, the re-read of a limit lowered under 20) waited for an in-flight count of 0 that never came."""
    exchange = StatesNeverAnswer()
    provider = InProcessProvider(exchange, tmp_path, wall_ms=lambda: WALL_MS, BINANCE_TRADING_ENABLED="true")
    async with provider as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await trading_pb2_grpc.TradingStub(channel).CancelOrderList(
                trading_pb2.CancelOrderListRequest(symbol="BTCUSDT", list_client_order_id="gone-list"))
        assert exchange.asked_state.is_set()
        assert refused.value.code() is grpc.StatusCode.FAILED_PRECONDITION  # shown closed, without its states
        await provider.app.client.ping()  # the exchange says 50 weight used in this window
        assert provider.app.client.governor.used == 50
