"""Review attacks on the human-in-the-loop confirmation (issue 16): getting an order sent without approval.

The sandbox and the provider (`BINANCE_CONFIRM_ORDERS=above:100`) run as processes; the gateway runs
in this process (1 s input timeout) or as a real stdio process; the MCP client is `mcp.Client`.
What the sandbox's engine holds (`GET /sim/orders`) is the truth for "nothing was sent".
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from decimal import Decimal as D
from typing import Any, Literal

import grpc
import mcp_types as types
import pytest
from mcp import Client, MCPError

from contracts.provider.v1 import provider_pb2, provider_pb2_grpc
from gateway.server import Gateway
from simulator.symbols import UNICODE_SYMBOL
from tests.e2e.conftest import rest
from tests.gateway.raw_stdio import RawStdio
from tests.sim_fixture import SimProcess
from tests.stack import ROOT, ProviderProcess, gateway_params

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(90)]

SYMBOL = "ETHUSDT"


class Person:
    """Answers every question with ``result`` (after ``gate`` is set, when given); keeps what it was shown."""

    def __init__(self, result: types.ElicitResult | None, gate: asyncio.Event | None = None) -> None:
        self.result, self.gate = result, gate
        self.shown: list[str] = []
        self.asked = asyncio.Event()

    async def elicit(self, ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        assert isinstance(params, types.ElicitRequestFormParams)
        self.shown.append(params.message)
        self.asked.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.result is None:
            await asyncio.Event().wait()  # never answers
        assert self.result is not None
        return self.result


YES = types.ElicitResult(action="accept", content={"approve": True})
NO = types.ElicitResult(action="decline")


async def _order(sim: SimProcess, cid: str | None, notional: D = D(500), symbol: str = SYMBOL) -> dict[str, Any]:
    """A resting BUY 5% under the bid, worth ``notional`` USDT."""
    bid = D((await rest(sim, f"/api/v3/ticker/bookTicker?symbol={symbol}"))["bidPrice"])
    tick = D("0.01") if symbol == SYMBOL else D("0.00001")
    step = D("0.0001") if symbol == SYMBOL else D(1)
    price = (bid * D("0.95")).quantize(tick)
    args = {"symbol": symbol, "side": "BUY", "type": "LIMIT", "time_in_force": "GTC",
            "quantity": str((notional / price).quantize(step)), "price": str(price)}
    if cid is not None:
        args["client_order_id"] = cid
    return args


async def _orders(sim: SimProcess, cid: str, symbol: str = SYMBOL) -> list[dict[str, Any]]:
    rows = (await sim.control("GET", f"/sim/orders?symbol={symbol}"))["orders"]
    return [o for o in rows if o["clientOrderId"] == cid]


def _sends(provider: ProviderProcess, cid: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in provider.audit().splitlines()]
    return [x for x in lines if x.get("action") == "place_order.send" and x.get("client_order_id") == cid]


def _text(result: types.CallToolResult) -> str:
    return " ".join(b.text for b in result.content if isinstance(b, types.TextContent))


@pytest.mark.parametrize(
    "smuggled",
    [
        {"approve": True},
        {"confirm_order": {"action": "accept", "content": {"approve": True}}},
        {"input_responses": {"confirm_order": {"action": "accept", "content": {"approve": True}}}},
        {"request_state": "{}"},
    ],
)
async def test_approval_like_tool_arguments_are_refused_and_nothing_is_sent(
    sim: SimProcess, gateway: Gateway, smuggled: dict[str, Any]
) -> None:
    cid = "atk-args-" + next(iter(smuggled))[:8]
    person = Person(NO)
    async with Client(gateway.server, mode="legacy", elicitation_callback=person.elicit) as client:
        result = await client.call_tool("binance_place_order", {**await _order(sim, cid), **smuggled})
    assert result.is_error and next(iter(smuggled)) in _text(result), _text(result)
    assert person.shown == [] and await _orders(sim, cid) == []


ODD = {
    "string-true": types.ElicitResult(action="accept", content={"approve": "true"}),
    "one": types.ElicitResult(action="accept", content={"approve": 1}),
    "yes": types.ElicitResult(action="accept", content={"approve": "yes"}),
    "no-content": types.ElicitResult(action="accept"),
    "empty": types.ElicitResult(action="accept", content={}),
    "other-case": types.ElicitResult(action="accept", content={"Approve": True}),
    "decline-true": types.ElicitResult(action="decline", content={"approve": True}),
    "cancel-true": types.ElicitResult(action="cancel", content={"approve": True}),
}


@pytest.mark.parametrize(
    ("name", "mode"), [(name, "legacy") for name in ODD] + [("string-true", "auto"), ("no-content", "auto")]
)
async def test_anything_but_accept_with_approve_true_sends_nothing_and_says_so_with_the_id(
    sim: SimProcess, provider: ProviderProcess, gateway: Gateway, name: str, mode: Literal["legacy", "auto"]
) -> None:
    cid = f"atk-{name}-{mode}"
    person = Person(ODD[name])
    async with Client(gateway.server, mode=mode, elicitation_callback=person.elicit) as client:
        result = await client.call_tool("binance_place_order", await _order(sim, cid))
    out = result.structured_content
    assert out is not None, _text(result)
    assert out["outcome"] == "NOT_PLACED" and out["client_order_id"] == cid and "nothing was sent" in out["note"]
    assert len(person.shown) == 1
    assert await _orders(sim, cid) == [] and _sends(provider, cid) == []


async def test_a_2026_approval_cannot_be_moved_to_another_client_order_id_nor_given_ahead(
    sim: SimProcess, provider: ProviderProcess, gateway: Gateway
) -> None:
    args = await _order(sim, "atk-replay-a")
    yes: types.InputResponses = {"confirm_order": YES}
    async with Client(gateway.server, elicitation_callback=Person(YES).elicit) as client:
        asked = await client.session.call_tool("binance_place_order", args, allow_input_required=True)
        assert isinstance(asked, types.InputRequiredResult) and asked.request_state
        with pytest.raises(MCPError) as err:  # the person approved atk-replay-a, not atk-replay-b
            await client.session.call_tool(
                "binance_place_order", {**args, "client_order_id": "atk-replay-b"},
                input_responses=yes, request_state=asked.request_state,
            )
        assert err.value.code == -32602
        with pytest.raises(MCPError):  # nor another tool with the same state
            await client.session.call_tool(
                "binance_cancel_replace_order", {**args, "cancel_client_order_id": "x", "mode": "STOP_ON_FAILURE"},
                input_responses=yes, request_state=asked.request_state,
            )
        ahead = await client.session.call_tool(  # an answer nobody asked for: asked again, nothing sent
            "binance_place_order", {**args, "client_order_id": "atk-ahead"}, input_responses=yes,
            allow_input_required=True,
        )
        assert isinstance(ahead, types.InputRequiredResult)
    for cid in ("atk-replay-a", "atk-replay-b", "atk-ahead"):
        assert await _orders(sim, cid) == [] and _sends(provider, cid) == [], cid


async def test_a_forged_request_state_is_refused(sim: SimProcess, gateway: Gateway) -> None:
    args = await _order(sim, "atk-forged")
    async with Client(gateway.server, elicitation_callback=Person(YES).elicit) as client:
        with pytest.raises(MCPError) as err:
            await client.session.call_tool(
                "binance_place_order", args, input_responses={"confirm_order": YES},
                request_state=json.dumps({"v": 1, "d": "x", "ids": {}, "at": 0}),
            )
    assert err.value.code == -32602
    assert await _orders(sim, "atk-forged") == []


async def test_two_calls_racing_on_one_client_order_id_one_approved_one_declined_place_it_once(
    sim: SimProcess, gateway: Gateway
) -> None:
    cid = "atk-race"
    both = asyncio.Event()
    yes, no = Person(YES, both), Person(NO, both)
    small = await _order(sim, cid, D(400))
    big = {**small, "quantity": str(D(small["quantity"]) * 2)}
    async with (
        Client(gateway.server, mode="legacy", elicitation_callback=yes.elicit) as c1,
        Client(gateway.server, mode="legacy", elicitation_callback=no.elicit) as c2,
    ):
        t1 = asyncio.create_task(c1.call_tool("binance_place_order", small))
        t2 = asyncio.create_task(c2.call_tool("binance_place_order", big))
        await asyncio.wait_for(asyncio.gather(yes.asked.wait(), no.asked.wait()), 10)
        both.set()  # both questions are open: answer them at once
        r1, r2 = await asyncio.gather(t1, t2)
    assert r1.structured_content is not None and r1.structured_content["outcome"] == "PLACED", _text(r1)
    assert r2.structured_content is not None and r2.structured_content["outcome"] == "NOT_PLACED", _text(r2)
    (row,) = await _orders(sim, cid)
    assert D(row["origQty"]) == D(small["quantity"])  # the approved one, not the declined one


async def test_a_utf8_symbol_is_shown_whole_and_only_an_approval_places_it(sim: SimProcess, gateway: Gateway) -> None:
    for cid, answer, outcome in (("atk-utf8-no", NO, "NOT_PLACED"), ("atk-utf8-yes", YES, "PLACED")):
        person = Person(answer)
        async with Client(gateway.server, mode="legacy", elicitation_callback=person.elicit) as client:
            result = await client.call_tool("binance_place_order", await _order(sim, cid, D(300), UNICODE_SYMBOL))
        assert result.structured_content is not None and result.structured_content["outcome"] == outcome, _text(result)
        (shown,) = person.shown
        assert f"on {UNICODE_SYMBOL}" in shown and cid in shown
        assert len(await _orders(sim, cid, UNICODE_SYMBOL)) == (outcome == "PLACED")


async def test_a_client_that_goes_away_mid_question_never_gets_its_order_sent(
    sim: SimProcess, provider: ProviderProcess
) -> None:
    """A real stdio gateway (default input timeout, minutes): the client leaves while the person is asked."""
    cid = "atk-gone"
    person = Person(None)
    client = Client(gateway_params(provider.address), mode="legacy", elicitation_callback=person.elicit)
    async with client:
        call = asyncio.create_task(client.call_tool("binance_place_order", await _order(sim, cid)))
        await asyncio.wait_for(person.asked.wait(), 20)
        call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert await _outcome(provider, cid) == ["confirm.asked", "confirm.timed_out"]
    assert await _orders(sim, cid) == [] and _sends(provider, cid) == []


def _stream_start(args: dict[str, Any]) -> provider_pb2.ToolCallUp:
    """The first frame of a place_order call from a gateway whose client can be asked within the call."""
    request = provider_pb2.InvokeToolRequest(name="binance.place_order", arguments_json=json.dumps(args))
    context = provider_pb2.CallContext(
        client_capabilities_json='{"elicitation": {}}', input_mode=provider_pb2.INPUT_MODE_IN_CALL
    )
    return provider_pb2.ToolCallUp(start=provider_pb2.ToolCallStart(request=request, context=context))


_KILLED_CALLER = """
import json, queue, sys
import grpc
from contracts.provider.v1 import provider_pb2, provider_pb2_grpc
start = provider_pb2.ToolCallUp.FromString(bytes.fromhex(sys.argv[2]))
frames = queue.Queue()
frames.put(start)
stub = provider_pb2_grpc.ProviderStub(grpc.insecure_channel(sys.argv[1]))
for down in stub.InvokeToolStream(iter(frames.get, None)):
    print(down.WhichOneof("frame"), flush=True)
"""


async def _outcome(provider: ProviderProcess, cid: str, within_s: float = 20.0) -> list[str]:
    """The audit actions of ``cid`` once the question has an outcome (or whatever there is after ``within_s``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while True:
        lines = (json.loads(line) for line in provider.audit().splitlines())
        actions = [x["action"] for x in lines if cid in json.dumps(x)]
        if len(actions) > 1 or loop.time() > deadline:
            return actions
        await asyncio.sleep(0.1)


@pytest.mark.parametrize("how", ["cancelled", "channel_closed", "process_killed"])
async def test_a_gateway_that_leaves_mid_question_gets_the_question_closed_and_recorded(
    sim: SimProcess, provider: ProviderProcess, how: str
) -> None:
    """Found in review: a call cancelled (or its gateway killed) while the person was asked recorded
    no outcome, because the provider's RPC task was cancelled while it wrote the audit line."""
    cid = f"atk-left-{how}"
    start = _stream_start(await _order(sim, cid))
    if how == "process_killed":
        caller = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _KILLED_CALLER, provider.address, start.SerializeToString().hex(),
            cwd=ROOT, stdout=asyncio.subprocess.PIPE,
        )
        assert caller.stdout is not None
        assert (await asyncio.wait_for(caller.stdout.readline(), 20)).strip() == b"input_request"
        caller.kill()
        await caller.wait()
    else:
        async with grpc.aio.insecure_channel(provider.address) as channel:
            call = provider_pb2_grpc.ProviderStub(channel).InvokeToolStream()
            await call.write(start)
            assert (await asyncio.wait_for(call.read(), 20)).WhichOneof("frame") == "input_request"
            if how == "cancelled":
                call.cancel()
    assert await _outcome(provider, cid) == ["confirm.asked", "confirm.timed_out"]
    assert await _orders(sim, cid) == [] and _sends(provider, cid) == []


async def test_an_approval_that_comes_after_the_gateway_stopped_waiting_sends_nothing(
    sim: SimProcess, provider: ProviderProcess, gateway: Gateway
) -> None:
    cid = "atk-late"
    late = asyncio.Event()
    person = Person(YES, late)  # approves, but after the gateway's 1 s wait
    async with Client(gateway.server, mode="legacy", elicitation_callback=person.elicit) as client:
        call = asyncio.create_task(client.call_tool("binance_place_order", await _order(sim, cid)))
        await asyncio.wait_for(person.asked.wait(), 10)
        await asyncio.sleep(1.2)
        late.set()
        result = await call
    out = result.structured_content
    assert out is not None and out["outcome"] == "NOT_PLACED" and out["client_order_id"] == cid, _text(result)
    await asyncio.sleep(0.2)
    assert await _orders(sim, cid) == [] and _sends(provider, cid) == []


async def test_an_oto_with_a_small_working_order_and_a_large_pending_one_is_asked(
    sim: SimProcess, gateway: Gateway
) -> None:
    small = await _order(sim, None, D(20))
    big = await _order(sim, None, D(600))
    args = {
        "symbol": SYMBOL, "list_client_order_id": "atk-oto",
        "working": {"type": "LIMIT", "side": "BUY", "price": small["price"], "quantity": small["quantity"],
                    "time_in_force": "GTC", "client_order_id": "atk-oto-w"},
        "pending": {"type": "LIMIT", "side": "BUY", "price": big["price"], "quantity": big["quantity"],
                    "time_in_force": "GTC", "client_order_id": "atk-oto-p"},
    }
    person = Person(NO)
    async with Client(gateway.server, mode="legacy", elicitation_callback=person.elicit) as client:
        result = await client.call_tool("binance_place_oto", args)
    out = result.structured_content
    assert out is not None and out["outcome"] == "NOT_PLACED", _text(result)
    (shown,) = person.shown
    assert "atk-oto-w" in shown and "atk-oto-p" in shown
    assert await _orders(sim, "atk-oto-w") == [] and await _orders(sim, "atk-oto-p") == []


async def test_a_2026_oco_approved_once_and_replayed_at_once_places_the_legs_shown_once(
    sim: SimProcess, gateway: Gateway
) -> None:
    last = D((await rest(sim, f"/api/v3/ticker/price?symbol={SYMBOL}"))["price"])
    args = {  # no ids at all: the list's and both legs' are generated in the round that asks
        "symbol": SYMBOL, "side": "BUY", "quantity": "0.05",
        "above": {"type": "STOP_LOSS", "stop_price": str((last * D("1.05")).quantize(D("0.01")))},
        "below": {"type": "LIMIT_MAKER", "price": str((last * D("0.95")).quantize(D("0.01")))},
    }
    person = Person(YES)
    yes: types.InputResponses = {"confirm_order": YES}
    async with Client(gateway.server, elicitation_callback=person.elicit) as client:
        asked = await client.session.call_tool("binance_place_oco", args, allow_input_required=True)
        assert isinstance(asked, types.InputRequiredResult) and asked.request_state
        message = asked.input_requests["confirm_order"].params.message  # type: ignore[union-attr]
        moved = {**args, "below": {**args["below"], "price": str((last * D("0.90")).quantize(D("0.01")))}}
        with pytest.raises(MCPError):  # a leg changed after the person saw it
            await client.session.call_tool(
                "binance_place_oco", moved, input_responses=yes, request_state=asked.request_state
            )
        retries = await asyncio.gather(*(
            client.session.call_tool("binance_place_oco", args, input_responses=yes, request_state=asked.request_state)
            for _ in range(3)
        ))
    outs = [r.structured_content for r in retries if isinstance(r, types.CallToolResult)]
    assert len(outs) == 3 and all(o is not None for o in outs), retries
    outcomes = sorted(o["outcome"] for o in outs if o is not None)
    assert outcomes.count("PLACED") == 1 and "NOT_PLACED" not in outcomes, outcomes
    shown_ids = set(re.findall(r"client order id ([A-Za-z0-9_-]+)", message))
    assert len(shown_ids) == 2, message
    rows = [o for o in (await sim.control("GET", f"/sim/orders?symbol={SYMBOL}"))["orders"]
            if o["clientOrderId"] in shown_ids]
    assert len(rows) == 2 and len({o["orderListId"] for o in rows}) == 1, rows


async def test_an_order_placed_without_asking_cannot_be_grown_past_the_threshold_by_an_amendment(
    sim: SimProcess, gateway: Gateway
) -> None:
    person = Person(NO)
    small = await _order(sim, "atk-amend", D(50))  # under the threshold: not asked
    async with Client(gateway.server, mode="legacy", elicitation_callback=person.elicit) as client:
        placed = await client.call_tool("binance_place_order", small)
        assert placed.structured_content is not None and placed.structured_content["outcome"] == "PLACED"
        grown = await client.call_tool("binance_amend_order", {
            "symbol": SYMBOL, "client_order_id": "atk-amend", "new_quantity": str(D(small["quantity"]) * 20)})
    assert grown.is_error, _text(grown)
    (row,) = await _orders(sim, "atk-amend")
    assert D(row["origQty"]) == D(small["quantity"]) and person.shown == []


async def test_a_2026_cancel_replace_approved_once_and_replayed_at_once_replaces_once(
    sim: SimProcess, gateway: Gateway
) -> None:
    async with Client(gateway.server, mode="legacy", elicitation_callback=Person(NO).elicit) as client:
        old = await client.call_tool("binance_place_order", await _order(sim, "atk-cr-old", D(50)))
    assert old.structured_content is not None and old.structured_content["outcome"] == "PLACED", _text(old)
    args = {**await _order(sim, None, D(500)), "cancel_client_order_id": "atk-cr-old", "mode": "STOP_ON_FAILURE"}
    yes: types.InputResponses = {"confirm_order": YES}
    async with Client(gateway.server, elicitation_callback=Person(YES).elicit) as client:
        asked = await client.session.call_tool("binance_cancel_replace_order", args, allow_input_required=True)
        assert isinstance(asked, types.InputRequiredResult) and asked.request_state
        message = asked.input_requests["confirm_order"].params.message  # type: ignore[union-attr]
        retries = await asyncio.gather(*(
            client.session.call_tool(
                "binance_cancel_replace_order", args, input_responses=yes, request_state=asked.request_state
            )
            for _ in range(3)
        ), return_exceptions=True)
    (new_id,) = re.findall(r"client order id ([A-Za-z0-9_-]+)", message)
    (new,) = await _orders(sim, new_id)  # placed once, under the id the person was shown
    assert D(new["origQty"]) == D(args["quantity"])
    (old_row,) = await _orders(sim, "atk-cr-old")
    assert old_row["status"] == "CANCELED"
    outs = [r.structured_content for r in retries if isinstance(r, types.CallToolResult)]
    outcomes = sorted(o["outcome"] for o in outs if o is not None)
    assert outcomes == ["PLACED", "RECONCILED_EXISTS", "RECONCILED_EXISTS"], retries


async def test_a_client_cancelling_while_asked_keeps_its_stdio_gateway_and_nothing_is_sent(
    sim: SimProcess, provider: ProviderProcess
) -> None:
    """notifications/cancelled for an order call waiting on the person: the question is closed
    (timed_out, nothing sent) and the session goes on (it used to end the stdio gateway)."""
    cid = "atk-cancelled-asking"
    gateway = await RawStdio.start(provider.address, {"elicitation": {}})
    try:
        await gateway.send({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                            "params": {"name": "binance_place_order", "arguments": await _order(sim, cid)}})
        message = await gateway.next_message()
        while message is not None and message.get("method") != "elicitation/create":
            message = await gateway.next_message()
        assert message is not None and cid in json.dumps(message)
        await gateway.send({"jsonrpc": "2.0", "method": "notifications/cancelled",
                            "params": {"requestId": 2, "reason": "the person walked away"}})
        await gateway.send({"jsonrpc": "2.0", "id": 3, "method": "ping"})
        assert await gateway.answer(3) == {"jsonrpc": "2.0", "id": 3, "result": {}}
    finally:
        await gateway.close()
    assert await _outcome(provider, cid) == ["confirm.asked", "confirm.timed_out"]
    assert await _orders(sim, cid) == [] and _sends(provider, cid) == []
