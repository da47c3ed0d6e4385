"""Cancelling an order (or order list) that is already closed, through the sandbox and a real provider.

Binance answers -2011 "Unknown order sent." alike for an id it never had and for an order already
CANCELED, FILLED or EXPIRED. A caller whose cancel ran on after it left (cancels run detached) and
who retries must be told the order is already closed (FAILED_PRECONDITION, its status in the message
and the details), not that it does not exist; an id the exchange never had stays NOT_FOUND.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import grpc
import pytest
import pytest_asyncio
from mcp import ClientSession

from contracts.binance.v1 import common_pb2, market_pb2, market_pb2_grpc, trading_pb2, trading_pb2_grpc
from tests.e2e.conftest import HeldSession, call, error_details
from tests.sim_fixture import SimProcess
from tests.stack import ProviderProcess

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(120)]

WAIT_S = 30.0


@pytest_asyncio.fixture(loop_scope="module")
async def sim(stack_sim: SimProcess) -> AsyncIterator[SimProcess]:
    yield stack_sim
    await stack_sim.fault("clear")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def session(stack_provider: ProviderProcess) -> AsyncIterator[ClientSession]:
    async with HeldSession(stack_provider.address) as s:
        yield s




def audit(process: ProviderProcess, action: str) -> list[dict[str, Any]]:
    return [x for x in map(json.loads, process.audit().splitlines()) if x["action"] == action]


async def bid(channel: grpc.aio.Channel, symbol: str) -> Decimal:
    book = await market_pb2_grpc.MarketDataStub(channel).GetOrderBook(
        market_pb2.GetOrderBookRequest(symbol=symbol, limit=5)
    )
    return Decimal(book.bids[0].price)


async def resting_buy(channel: grpc.aio.Channel, client_order_id: str, symbol: str = "ETHUSDT") -> trading_pb2.Order:
    """A LIMIT BUY 10 % under the best bid: it rests (status NEW)."""
    price = (await bid(channel, symbol) * Decimal("0.9")).quantize(Decimal("0.01"))
    placed = await trading_pb2_grpc.TradingStub(channel).PlaceOrder(
        trading_pb2.PlaceOrderRequest(
            symbol=symbol, side=common_pb2.SIDE_BUY, type=common_pb2.ORDER_TYPE_LIMIT,
            time_in_force=common_pb2.TIME_IN_FORCE_GTC, quantity="0.01", price=str(price),
            client_order_id=client_order_id,
        )
    )
    assert placed.order.status == "NEW", placed
    return placed.order


async def cancel_refused(channel: grpc.aio.Channel, request: trading_pb2.CancelOrderRequest) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await trading_pb2_grpc.TradingStub(channel).CancelOrder(request)
    return refused.value


async def test_cancelling_a_canceled_order_again_says_it_is_already_canceled_not_unknown(
    channel: grpc.aio.Channel, stack_provider: ProviderProcess, sim: SimProcess
) -> None:
    order = await resting_buy(channel, "e2e-cancel-twice")
    stub = trading_pb2_grpc.TradingStub(channel)
    by_cid = trading_pb2.CancelOrderRequest(symbol="ETHUSDT", client_order_id="e2e-cancel-twice")
    assert (await stub.CancelOrder(by_cid)).order.status == "CANCELED"

    again = await cancel_refused(channel, by_cid)
    assert again.code() == grpc.StatusCode.FAILED_PRECONDITION, again
    text = again.details() or ""
    assert "already CANCELED" in text and "cancelled nothing" in text and "e2e-cancel-twice" in text, text
    facts = error_details(again)
    assert facts["kind"] == "AlreadyClosed" and facts["binance_code"] == -2011
    assert facts["order_status"] == "CANCELED" and facts["client_order_id"] == "e2e-cancel-twice"
    assert facts["order_id"] == order.order_id and Decimal(facts["executed_qty"]) == 0

    by_id = await cancel_refused(channel, trading_pb2.CancelOrderRequest(symbol="ETHUSDT", order_id=order.order_id))
    assert by_id.code() == grpc.StatusCode.FAILED_PRECONDITION and "e2e-cancel-twice" in (by_id.details() or "")
    assert error_details(by_id)["client_order_id"] == "e2e-cancel-twice"

    failed = [x for x in audit(stack_provider, "cancel_order.failed")
              if (x.get("found") or {}).get("clientOrderId") == "e2e-cancel-twice"]
    assert len(failed) == 2 and all(x["found"]["status"] == "CANCELED" for x in failed), failed
    assert failed[0]["error"]["kind"] == "NotFound"  # what the exchange said stays on the line


async def test_cancelling_a_filled_order_says_it_is_filled_with_its_quantities(
    channel: grpc.aio.Channel, sim: SimProcess
) -> None:
    placed = await trading_pb2_grpc.TradingStub(channel).PlaceOrder(
        trading_pb2.PlaceOrderRequest(
            symbol="ETHUSDT", side=common_pb2.SIDE_BUY, type=common_pb2.ORDER_TYPE_MARKET, quantity="0.01",
            client_order_id="e2e-cancel-filled",
        )
    )
    assert placed.order.status == "FILLED", placed
    refused = await cancel_refused(
        channel, trading_pb2.CancelOrderRequest(symbol="ETHUSDT", order_id=placed.order.order_id)
    )
    assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION, refused
    assert "already FILLED" in (refused.details() or ""), refused.details()
    facts = error_details(refused)
    assert facts["order_status"] == "FILLED" and facts["client_order_id"] == "e2e-cancel-filled"
    assert Decimal(facts["executed_qty"]) == Decimal(facts["orig_qty"]) == Decimal("0.01")


async def test_cancelling_an_order_the_exchange_never_had_stays_not_found(channel: grpc.aio.Channel) -> None:
    for request in (
        trading_pb2.CancelOrderRequest(symbol="ETHUSDT", client_order_id="e2e-never-placed"),
        trading_pb2.CancelOrderRequest(symbol="ETHUSDT", order_id=987654320),
    ):
        refused = await cancel_refused(channel, request)
        assert refused.code() == grpc.StatusCode.NOT_FOUND, refused
        assert error_details(refused)["kind"] == "NotFound"


async def done(process: ProviderProcess, order_id: int) -> None:
    """Returns once the provider recorded the cancel of ``order_id`` as done (bounded)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    while not any(x["received"].get("orderId") == order_id for x in audit(process, "cancel_order.done")):
        assert loop.time() < deadline, "the detached cancel never finished"
        await asyncio.sleep(0.05)


async def test_a_cancel_retried_after_its_caller_left_is_told_the_order_is_already_canceled(
    channel: grpc.aio.Channel, stack_provider: ProviderProcess, sim: SimProcess
) -> None:
    """The case behind the fix: the first cancel is held at the exchange, its caller gives up (the
    cancel runs on, detached, and succeeds), the caller retries."""
    order = await resting_buy(channel, "e2e-cancel-left")
    await sim.fault("rest_fail", path="/api/v3/order", method="DELETE", hold_ms=1500, times=1)
    request = trading_pb2.CancelOrderRequest(symbol="ETHUSDT", client_order_id="e2e-cancel-left")
    first = trading_pb2_grpc.TradingStub(channel).CancelOrder(request)
    await sim.wait_held(WAIT_S)
    first.cancel()
    await done(stack_provider, order.order_id)
    retried = await cancel_refused(channel, request)
    assert retried.code() == grpc.StatusCode.FAILED_PRECONDITION, retried
    assert error_details(retried)["order_status"] == "CANCELED"


async def test_the_gateway_tool_result_says_the_order_is_already_canceled(
    session: ClientSession, channel: grpc.aio.Channel
) -> None:
    await resting_buy(channel, "e2e-cancel-mcp")
    args = {"symbol": "ETHUSDT", "client_order_id": "e2e-cancel-mcp"}
    assert (await call(session, "binance_cancel_order", args))["order"]["status"] == "CANCELED"
    result = await session.call_tool("binance_cancel_order", args)
    assert result.is_error
    text = result.content[0].text
    assert "FAILED_PRECONDITION" in text and "already CANCELED" in text and "e2e-cancel-mcp" in text, text
    assert "Unknown order" not in text.splitlines()[0]  # the exchange's words are quoted below, not the verdict


async def test_cancelling_an_oco_twice_says_the_list_is_already_all_done(
    session: ClientSession, channel: grpc.aio.Channel, stack_provider: ProviderProcess
) -> None:
    last = await bid(channel, "ETHUSDT")
    placed = await call(session, "binance_place_oco", {
        "symbol": "ETHUSDT", "side": "SELL", "quantity": "0.01", "list_client_order_id": "e2e-oco-cancel-twice",
        "above": {"type": "LIMIT_MAKER", "price": str((last * Decimal("1.2")).quantize(Decimal("0.01")))},
        "below": {"type": "STOP_LOSS", "stop_price": str((last * Decimal("0.8")).quantize(Decimal("0.01")))},
    })
    list_id = placed["order_list"]["order_list_id"]
    args = {"symbol": "ETHUSDT", "list_client_order_id": "e2e-oco-cancel-twice"}
    assert (await call(session, "binance_cancel_order_list", args))["order_list"]["list_order_status"] == "ALL_DONE"

    text = (await session.call_tool("binance_cancel_order_list", args)).content[0].text
    assert "FAILED_PRECONDITION" in text and "already ALL_DONE" in text and "e2e-oco-cancel-twice" in text, text
    assert "-2011" in text  # Binance's code is kept

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await trading_pb2_grpc.TradingStub(channel).CancelOrderList(
            trading_pb2.CancelOrderListRequest(symbol="ETHUSDT", order_list_id=list_id)
        )
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    facts = error_details(refused.value)
    assert facts["list_order_status"] == "ALL_DONE" and facts["list_client_order_id"] == "e2e-oco-cancel-twice"
    assert sorted(facts["order_statuses"].values()) == ["CANCELED", "CANCELED"], facts
    failed = [x for x in audit(stack_provider, "cancel_order_list.failed") if x["sent"].get("order_list_id") == list_id]
    assert failed and failed[0]["found"]["listOrderStatus"] == "ALL_DONE"


async def test_cancelling_an_unknown_order_list_stays_not_found(channel: grpc.aio.Channel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await trading_pb2_grpc.TradingStub(channel).CancelOrderList(
            trading_pb2.CancelOrderListRequest(symbol="ETHUSDT", list_client_order_id="e2e-no-such-list")
        )
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    assert "no open order list" in (refused.value.details() or "")
