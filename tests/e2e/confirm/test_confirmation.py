"""A person approves orders (issue 16, BINANCE_CONFIRM_ORDERS) through the real gateway.

The sandbox and the provider run as processes (`above:100`: orders whose worst case is above 100
USDT are asked); the gateway runs in this process with a 1 s input timeout so "no answer" ends
quickly; the MCP client is `mcp.Client`, `legacy` (2025-11-25, asked within the call) or `auto`
(2026-07-28, an input_required result and a retry). What the sandbox's engine holds is the truth
for "nothing was sent".
"""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal as D
from typing import Any, Literal

import grpc
import mcp_types as types
import pytest
from mcp import Client, MCPError

from contracts.binance.v1 import common_pb2, trading_pb2, trading_pb2_grpc
from contracts.provider.v1 import provider_pb2, provider_pb2_grpc
from gateway.server import Gateway
from tests.e2e.conftest import rest
from tests.sim_fixture import SimProcess
from tests.stack import ProviderProcess

pytestmark = pytest.mark.asyncio(loop_scope="module")

SYMBOL = "ETHUSDT"


class Person:
    """Answers the approval question one way, and keeps what it was shown."""

    def __init__(self, answer: Literal["approve", "decline", "cancel", "silent"]) -> None:
        self.answer = answer
        self.shown: list[str] = []
        self.released = asyncio.Event()

    async def elicit(self, ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        assert isinstance(params, types.ElicitRequestFormParams)
        self.shown.append(params.message)
        if self.answer == "approve":
            return types.ElicitResult(action="accept", content={"approve": True})
        if self.answer == "silent":
            await self.released.wait()  # the person never answers; the gateway's wait ends it
        return types.ElicitResult(action="decline" if self.answer == "decline" else "cancel")

    def client(self, gw: Gateway, mode: Literal["legacy", "auto"] = "legacy") -> Client:
        return Client(gw.server, mode=mode, elicitation_callback=self.elicit)


async def _limit_price(sim: SimProcess) -> D:
    """A BUY price 5% under the bid, on the tick: it rests, and passes PERCENT_PRICE."""
    bid = D((await rest(sim, f"/api/v3/ticker/bookTicker?symbol={SYMBOL}"))["bidPrice"])
    return (bid * D("0.95")).quantize(D("0.01"))


async def _order(sim: SimProcess, cid: str, notional: D) -> dict[str, Any]:
    price = await _limit_price(sim)
    qty = (notional / price).quantize(D("0.0001"))
    return {"symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "time_in_force": "GTC", "quantity": str(qty),
            "price": str(price), "client_order_id": cid}


async def _on_sandbox(sim: SimProcess, cid: str) -> bool:
    rows = (await sim.control("GET", f"/sim/orders?symbol={SYMBOL}"))["orders"]
    return any(o["clientOrderId"] == cid for o in rows)


def _audit(provider: ProviderProcess, cid: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in provider.audit().splitlines()]
    return [x for x in lines if cid in json.dumps(x)]


def _text(result: types.CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, types.TextContent)
    return block.text


async def test_an_approved_order_is_placed_and_the_approval_is_audited_next_to_what_was_sent(
    sim: SimProcess, provider: ProviderProcess, gateway: Gateway
) -> None:
    person = Person("approve")
    args = await _order(sim, "confirm-yes", D(500))
    async with person.client(gateway) as client:
        result = await client.call_tool("binance_place_order", args)
    assert result.structured_content is not None, _text(result)
    assert result.structured_content["outcome"] == "PLACED"
    assert await _on_sandbox(sim, "confirm-yes")
    (shown,) = person.shown
    for part in (SYMBOL, "BUY", "LIMIT", args["quantity"], f"price {args['price']} (-", "from mid",
                 "worst-case notional", "estimated fee at most", "confirm-yes"):
        assert part in shown, part
    lines = _audit(provider, "confirm-yes")
    actions = [x["action"] for x in lines]
    assert actions[:3] == ["confirm.asked", "confirm.approved", "place_order.send"], actions
    send = lines[2]
    assert send["approval"]["answer"] == {"action": "accept", "content": {"approve": True}}
    assert send["approval"]["asked_at_ms"] <= send["approval"]["answered_at_ms"]


@pytest.mark.parametrize(("answer", "mode"), [("decline", "legacy"), ("cancel", "legacy"), ("decline", "auto")])
async def test_a_declined_or_cancelled_order_is_not_sent(
    sim: SimProcess,
    provider: ProviderProcess,
    gateway: Gateway,
    answer: Literal["decline", "cancel"],
    mode: Literal["legacy", "auto"],
) -> None:
    cid = f"confirm-{answer}-{mode}"
    async with Person(answer).client(gateway, mode) as client:
        result = await client.call_tool("binance_place_order", await _order(sim, cid, D(500)))
    out = result.structured_content
    assert out is not None and out["outcome"] == "NOT_PLACED" and out["client_order_id"] == cid
    assert "nothing was sent" in out["note"]
    assert not await _on_sandbox(sim, cid)
    actions = [x["action"] for x in _audit(provider, cid)]
    assert actions == ["confirm.asked", "confirm.declined" if answer == "decline" else "confirm.cancelled"]


async def test_no_answer_in_time_sends_nothing(sim: SimProcess, provider: ProviderProcess, gateway: Gateway) -> None:
    person = Person("silent")
    try:
        async with person.client(gateway) as client:
            result = await client.call_tool("binance_place_order", await _order(sim, "confirm-silent", D(500)))
    finally:
        person.released.set()
    out = result.structured_content
    assert out is not None and out["outcome"] == "NOT_PLACED" and "no approval came" in out["note"]
    assert not await _on_sandbox(sim, "confirm-silent")
    assert [x["action"] for x in _audit(provider, "confirm-silent")] == ["confirm.asked", "confirm.timed_out"]


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_client_that_cannot_ask_gets_a_refusal_saying_how_to_approve_otherwise(
    sim: SimProcess, gateway: Gateway, mode: Literal["legacy", "auto"]
) -> None:
    cid = f"confirm-noelicit-{mode}"
    async with Client(gateway.server, mode=mode) as client:  # no elicitation callback: no capability
        result = await client.call_tool("binance_place_order", await _order(sim, cid, D(500)))
    assert result.is_error
    assert "FAILED_PRECONDITION" in _text(result) and "BINANCE_CONFIRM_ORDERS" in _text(result)
    assert not await _on_sandbox(sim, cid)


async def test_an_order_under_the_threshold_is_not_asked(sim: SimProcess, gateway: Gateway) -> None:
    person = Person("decline")
    async with person.client(gateway) as client:
        result = await client.call_tool("binance_place_order", await _order(sim, "confirm-small", D(20)))
        ticker = await client.call_tool("binance_get_ticker", {"symbol": SYMBOL})  # other tools: the stream path
        unknown = await client.call_tool("binance_get_ticker", {"symbol": "NOPEUSDT"})
    assert result.structured_content is not None and result.structured_content["outcome"] == "PLACED"
    assert person.shown == [] and await _on_sandbox(sim, "confirm-small")
    assert ticker.structured_content is not None and ticker.structured_content["symbol"] == SYMBOL
    # a failure keeps its status and its details trailer through the stream, as through unary InvokeTool
    assert unknown.is_error and "(INVALID_ARGUMENT)" in _text(unknown) and "Kind: UnknownSymbol" in _text(unknown)


async def test_a_2026_client_approves_by_result_and_the_order_shown_is_the_order_placed(
    sim: SimProcess, gateway: Gateway
) -> None:
    person = Person("approve")
    args = await _order(sim, "unused", D(500))
    del args["client_order_id"]  # generated in the round that asks, and kept for the retry
    async with person.client(gateway, "auto") as client:
        result = await client.call_tool("binance_place_order", args)
    out = result.structured_content
    assert out is not None and out["outcome"] == "PLACED", _text(result)
    (shown,) = person.shown
    assert f"client order id {out['client_order_id']}" in shown
    assert await _on_sandbox(sim, out["client_order_id"])


async def test_an_order_list_is_asked_whole_and_a_decline_sends_no_leg(
    sim: SimProcess, provider: ProviderProcess, gateway: Gateway
) -> None:
    person = Person("decline")
    last = D((await rest(sim, f"/api/v3/ticker/price?symbol={SYMBOL}"))["price"])
    args = {
        "symbol": SYMBOL, "side": "SELL", "quantity": "0.5", "list_client_order_id": "confirm-oco",
        "above": {"type": "LIMIT_MAKER", "price": str((last * D("1.05")).quantize(D("0.01"))),
                  "client_order_id": "confirm-oco-tp"},
        "below": {"type": "STOP_LOSS", "stop_price": str((last * D("0.95")).quantize(D("0.01"))),
                  "client_order_id": "confirm-oco-sl"},
    }
    async with person.client(gateway) as client:
        result = await client.call_tool("binance_place_oco", args)
    out = result.structured_content
    assert out is not None and out["outcome"] == "NOT_PLACED", _text(result)
    (shown,) = person.shown
    assert "above: SELL 0.5 LIMIT_MAKER" in shown and "below: SELL 0.5 STOP_LOSS" in shown and "confirm-oco" in shown
    assert not await _on_sandbox(sim, "confirm-oco-tp") and not await _on_sandbox(sim, "confirm-oco-sl")


async def test_typed_and_unary_callers_are_refused_when_approval_is_needed(
    sim: SimProcess, provider: ProviderProcess
) -> None:
    args = await _order(sim, "confirm-typed", D(500))
    async with grpc.aio.insecure_channel(provider.address) as channel:
        typed = trading_pb2.PlaceOrderRequest(
            symbol=SYMBOL, side=common_pb2.SIDE_BUY, type=common_pb2.ORDER_TYPE_LIMIT,
            time_in_force=common_pb2.TIME_IN_FORCE_GTC, quantity=args["quantity"], price=args["price"],
            client_order_id="confirm-typed",
        )
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await trading_pb2_grpc.TradingStub(channel).PlaceOrder(typed, timeout=30)
        assert err.value.code() is grpc.StatusCode.FAILED_PRECONDITION
        assert "cannot ask" in (err.value.details() or "")
        unary = provider_pb2.InvokeToolRequest(
            name="binance.place_order", arguments_json=json.dumps({**args, "client_order_id": "confirm-unary"})
        )
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await provider_pb2_grpc.ProviderStub(channel).InvokeTool(unary, timeout=30)
        assert err.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert not await _on_sandbox(sim, "confirm-typed") and not await _on_sandbox(sim, "confirm-unary")


async def test_a_2026_approval_approves_only_its_own_order_and_a_replayed_retry_places_nothing_twice(
    sim: SimProcess, gateway: Gateway
) -> None:
    args = await _order(sim, "unused", D(500))
    del args["client_order_id"]
    yes: types.InputResponses = {"confirm_order": types.ElicitResult(action="accept", content={"approve": True})}
    async with Client(gateway.server, elicitation_callback=Person("approve").elicit) as client:
        asked = await client.session.call_tool("binance_place_order", args, allow_input_required=True)
        assert isinstance(asked, types.InputRequiredResult) and asked.request_state
        bigger = {**args, "quantity": str(D(args["quantity"]) * 2)}
        with pytest.raises(MCPError) as err:  # the approval of one order, brought back for another
            await client.session.call_tool(
                "binance_place_order", bigger, input_responses=yes, request_state=asked.request_state
            )
        assert err.value.code == -32602
        retries = [
            await client.session.call_tool(
                "binance_place_order", args, input_responses=yes, request_state=asked.request_state
            )
            for _ in range(2)
        ]
    first, second = (r.structured_content for r in retries if isinstance(r, types.CallToolResult))
    assert first is not None and second is not None
    assert first["outcome"] == "PLACED" and second["outcome"] == "RECONCILED_EXISTS"
    assert first["client_order_id"] == second["client_order_id"]
    rows = (await sim.control("GET", f"/sim/orders?symbol={SYMBOL}"))["orders"]
    assert sum(o["clientOrderId"] == first["client_order_id"] for o in rows) == 1


async def test_a_declined_cancel_replace_neither_cancels_nor_places(sim: SimProcess, gateway: Gateway) -> None:
    async with Person("approve").client(gateway) as client:
        placed = await client.call_tool("binance_place_order", await _order(sim, "confirm-old", D(20)))
    assert placed.structured_content is not None and placed.structured_content["outcome"] == "PLACED"
    person = Person("decline")
    new = await _order(sim, "confirm-new", D(500))
    async with person.client(gateway) as client:
        result = await client.call_tool(
            "binance_cancel_replace_order",
            {**new, "cancel_client_order_id": "confirm-old", "mode": "STOP_ON_FAILURE"},
        )
    out = result.structured_content
    assert out is not None and out["outcome"] == "NOT_PLACED", _text(result)
    (shown,) = person.shown
    assert "cancels order" in shown and "confirm-new" in shown
    rows = {o["clientOrderId"]: o for o in (await sim.control("GET", f"/sim/orders?symbol={SYMBOL}"))["orders"]}
    assert rows["confirm-old"]["status"] == "NEW" and "confirm-new" not in rows


async def test_the_stream_refuses_a_call_that_does_not_start_with_start_or_names_no_tool(
    provider: ProviderProcess,
) -> None:
    async with grpc.aio.insecure_channel(provider.address) as channel:
        stub = provider_pb2_grpc.ProviderStub(channel)
        for first, code in (
            (provider_pb2.ToolCallUp(input_response=provider_pb2.InputResponse(key="x")), "INVALID_ARGUMENT"),
            (provider_pb2.ToolCallUp(start=provider_pb2.ToolCallStart(
                request=provider_pb2.InvokeToolRequest(name="binance.nope", arguments_json="{}"))), "NOT_FOUND"),
        ):
            call = stub.InvokeToolStream(timeout=30)
            await call.write(first)
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await call.read()
            assert err.value.code().name == code
