"""Two provider replicas sharing Redis and one sandbox: order idempotency, one weight budget, Redis loss.

Real processes (`tests/replicas.py`): the sandbox with a lowered weight limit, a real redis-server,
two providers; calls go straight to each replica over provider.v1. The sandbox's own records are the
judge: its orders by client order id, and the HTTP statuses it answered (`GET /sim/statuses`).
The tests run in order on one stack; the weight test comes last, as it uses up the minute's budget.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import signal
from collections.abc import AsyncIterator
from typing import Any, cast

import grpc
import pytest
import pytest_asyncio

from contracts.provider.v1 import provider_pb2, provider_pb2_grpc
from tests.replicas import ReplicaStack, invoke, json_lines, replica_stack

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(90)]

WEIGHT_LIMIT = 1000  # per minute at the sandbox; each replica alone would allow itself 810 of it for reads
QUIET = {"PROVIDER_ORDERBOOK_ENABLED": "false", "PROVIDER_ACCOUNT_STREAM": "false", "PROVIDER_GRACE_S": "0"}


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def stack() -> AsyncIterator[ReplicaStack]:
    async with replica_stack(
        providers=2, gateways=0, sim_args=("--faults", "--weight-limit", str(WEIGHT_LIMIT)), provider_extra=QUIET
    ) as running:
        yield running


async def call(address: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any] | grpc.aio.AioRpcError:
    """The tool's structured result, or the gRPC error it answered."""
    request = provider_pb2.InvokeToolRequest(name=tool, arguments_json=json.dumps(arguments))
    async with grpc.aio.insecure_channel(address) as channel:
        stub = cast(Any, provider_pb2_grpc.ProviderStub)(channel)
        try:
            reply = await stub.InvokeTool(request, timeout=30)
        except grpc.aio.AioRpcError as err:
            return err
    assert not reply.is_error, reply.text
    result: dict[str, Any] = json.loads(reply.structured_json)
    return result


def market_buy(cid: str) -> dict[str, Any]:
    return {"symbol": "ETHUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01", "client_order_id": cid}


async def orders_with(stack: ReplicaStack, cid: str) -> list[dict[str, Any]]:
    """The sandbox's orders of that client order id (its own book of record)."""
    rows = (await stack.sim.control("GET", "/sim/orders?symbol=ETHUSDT"))["orders"]
    return [o for o in rows if o["clientOrderId"] == cid]


async def test_one_client_order_id_sent_through_both_replicas_at_once_executes_once(stack: ReplicaStack) -> None:
    a, b = (p.address for p in stack.providers)
    for _ in range(4):
        cid = "rc-" + secrets.token_hex(8)
        answers = await asyncio.gather(
            call(a, "binance.place_order", market_buy(cid)), call(b, "binance.place_order", market_buy(cid))
        )
        outcomes = sorted(cast(dict[str, Any], r)["outcome"] for r in answers)
        assert outcomes == ["PLACED", "RECONCILED_EXISTS"], answers
        assert len(await orders_with(stack, cid)) == 1


async def test_without_redis_orders_are_refused_with_their_id_and_nothing_is_sent_until_it_is_back(
    stack: ReplicaStack,
) -> None:
    assert stack.redis is not None
    address = stack.providers[0].address
    cid = "rc-" + secrets.token_hex(8)
    await stack.redis.kill()
    try:
        refused = await call(address, "binance.place_order", market_buy(cid))
        assert isinstance(refused, grpc.aio.AioRpcError)
        assert refused.code() == grpc.StatusCode.UNAVAILABLE and cid in (refused.details() or "")
        assert "NOT placed" in (refused.details() or "")
        details = json.loads(dict(refused.trailing_metadata() or ())["error-details-json"])
        assert details["kind"] == "RedisUnavailable" and details["retry_safe"] is True
        ticker = await invoke(address, "binance.get_ticker", {"symbol": "BTCUSDT"})  # reads go on
        assert ticker["symbol"] == "BTCUSDT"
        assert await orders_with(stack, cid) == []
    finally:
        await stack.redis.launch()
    # Redis came back empty: an order might have been in flight when it went, so every id would wait ~36 s
    # (tests/e2e/test_replicas_redis_lost.py). None was (each was refused), and the operator says so.
    await stack.redis.mark_known_empty("binance-mcp:sandbox:")
    placed = await call(address, "binance.place_order", market_buy(cid))  # the same id: never sent before
    assert isinstance(placed, dict) and placed["outcome"] == "PLACED", placed
    assert len(await orders_with(stack, cid)) == 1
    await all_sharing_again(stack)


async def all_sharing_again(stack: ReplicaStack, timeout_s: float = 10.0) -> None:
    """Waits (bounded) until every replica that fell back to its local share says it shares the budget again."""

    def back(events: list[dict[str, Any]]) -> bool:
        lost = sum(e.get("event") == "shared_budget_unavailable" for e in events)
        return lost == sum(e.get("event") == "shared_budget_restored" for e in events)

    for _ in range(int(timeout_s / 0.05)):
        if all(back(json_lines(p.logs())) for p in stack.providers):
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("a replica did not go back to the shared budget after Redis returned")


async def test_a_replica_killed_while_its_order_is_on_the_wire_loses_nothing_and_a_retry_elsewhere_adds_nothing(
    stack: ReplicaStack,
) -> None:
    a, b = stack.providers
    cid = "rc-" + secrets.token_hex(8)
    await stack.sim.fault("rest_fail", path="/api/v3/order", method="POST", hold_ms=1500, times=1)
    placing = asyncio.create_task(call(a.address, "binance.place_order", market_buy(cid)))
    await until_held(stack)  # the order left replica A and the exchange holds it before executing it
    await a.stop(signal.SIGKILL)
    lost = await placing
    assert isinstance(lost, grpc.aio.AioRpcError)  # the caller never heard; it retries through B
    restart = asyncio.create_task(a.launch())  # a new replica A, for the next test
    # B takes the lock over once A's heartbeat is gone, treats the id as unknown, and finds the order
    retried = await call(b.address, "binance.place_order", market_buy(cid))
    assert isinstance(retried, dict) and retried["outcome"] == "RECONCILED_EXISTS", retried
    assert len(await orders_with(stack, cid)) == 1
    await restart


async def until_held(stack: ReplicaStack, timeout_s: float = 10.0) -> None:
    """Waits (bounded) until the sandbox holds a request (a `hold_ms` fault)."""
    for _ in range(int(timeout_s / 0.02)):
        if (await stack.sim.control("GET", "/sim/held"))["held"]:
            return
        await asyncio.sleep(0.02)
    raise TimeoutError("the sandbox never held the order")


async def test_heavy_reads_through_both_replicas_stay_within_the_sandbox_weight_limit(stack: ReplicaStack) -> None:
    a, b = (p.address for p in stack.providers)
    for address in (a, b):  # each replica's latest header reaches the shared window first
        await invoke(address, "binance.get_ticker", {"symbol": "ETHUSDT"})
    # 2 x 24 trade reads of weight 25: 1200, over the limit, but within what two unshared replicas would allow
    # themselves (2 x 810); distinct limits, so none is coalesced. Answers come late, so no header corrects
    # a replica's count while the burst is being sent: only the shared budget holds it back.
    await stack.sim.fault("rest_fail", path="/api/v3/trades", delay_ms=300, times=48)
    try:
        answers = await asyncio.gather(*(
            call(address, "binance.get_recent_trades", {"symbol": "BTCUSDT", "limit": n + 1})
            for address in (a, b) for n in range(24)
        ))
        seen = await stack.sim.control("GET", "/sim/statuses")
    finally:
        await stack.sim.fault("clear")
    # over the budget a call waits for the next window (if it ends within 2 s) or is refused, never sent
    refused = [r for r in answers if isinstance(r, grpc.aio.AioRpcError)]
    assert all(r.code() == grpc.StatusCode.RESOURCE_EXHAUSTED for r in refused) and len(refused) < len(answers)
    assert "429" not in seen["statuses"] and "418" not in seen["statuses"], seen
    assert seen["weight"]["used"] <= WEIGHT_LIMIT
