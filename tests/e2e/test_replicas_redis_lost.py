"""Review attacks on cluster-wide idempotency (issue 19): Redis lost while an order is in flight.

Real processes (`tests/replicas.py`): the sandbox, a real redis-server, two provider replicas.
The sandbox's own orders by client order id are the judge. Redis restarted empty takes the id's lock, its
placing marker and its placement with it; the replicas' epoch rule (`provider/shared/ledger.py` rule 6) holds
every id back as UNKNOWN until an order sent before the loss can no longer execute.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
import pytest_asyncio

from provider.shared.redis_conn import client
from tests.e2e.test_replicas_orders import QUIET, call, market_buy, orders_with, until_held
from tests.replicas import ReplicaStack, json_lines, replica_stack

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(120)]

PREFIX = "binance-mcp:sandbox:"
HELD_BACK_MS = 30_000 + 5_000 + 1_000  # the order lock's ttl + recvWindow + the ledger's margin


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def stack() -> AsyncIterator[ReplicaStack]:
    async with replica_stack(providers=2, gateways=0, sim_args=("--faults",), provider_extra=QUIET) as running:
        yield running


def shown(answer: dict[str, Any] | grpc.aio.AioRpcError) -> Any:
    return answer if isinstance(answer, dict) else f"{answer.code()}: {answer.details()}"


async def test_redis_restarted_empty_while_an_order_is_on_the_wire_does_not_let_another_replica_send_it_again(
    stack: ReplicaStack,
) -> None:
    assert stack.redis is not None
    a, b = (p.address for p in stack.providers)
    cid = "ra-" + secrets.token_hex(8)
    await stack.sim.fault("rest_fail", path="/api/v3/order", method="POST", hold_ms=3000, times=1)
    placing = asyncio.create_task(call(a, "binance.place_order", market_buy(cid)))
    await until_held(stack)  # A holds the id's lock; its order is on the wire
    await stack.redis.kill()  # the lock, the placing marker: gone with the process (no persistence)
    await stack.redis.launch()
    retried = await call(b, "binance.place_order", market_buy(cid))  # the caller's retry, through B
    first = await placing
    rows = await orders_with(stack, cid)
    assert len(rows) == 1, (shown(first), shown(retried), rows)
    assert isinstance(retried, dict), shown(retried)
    assert retried["outcome"] in ("RECONCILED_EXISTS", "UNKNOWN"), retried
    if retried["outcome"] == "UNKNOWN":
        assert int(retried["known_at_ms"]) > 0, retried
    assert [x.get("outcome") for x in (first, retried) if isinstance(x, dict)].count("PLACED") <= 1
    orphaned = [e for e in json_lines(stack.providers[1].logs())
                if e.get("event") == "order_lock_orphaned" and e.get("client_order_id") == cid]
    assert orphaned and orphaned[0]["cause"] == "redis_epoch", orphaned


async def test_after_redis_restarts_empty_a_first_order_waits_until_nothing_earlier_can_execute_then_goes_once(
    stack: ReplicaStack,
) -> None:
    assert stack.redis is not None
    b = stack.providers[1].address
    cid = "rb-" + secrets.token_hex(8)
    await stack.redis.kill()
    await stack.redis.launch()
    held = await call(b, "binance.place_order", market_buy(cid))  # an id nobody sent: Redis cannot tell
    assert isinstance(held, dict) and held["outcome"] == "UNKNOWN", shown(held)
    raw = await _epoch(stack)
    known_at = int(held["known_at_ms"])
    assert known_at == raw + HELD_BACK_MS, (known_at, raw)
    assert await orders_with(stack, cid) == []  # nothing was sent
    await asyncio.sleep(max(0.0, known_at / 1000 - time.time()) + 1.0)  # the sandbox's clock is this host's
    placed = await call(b, "binance.place_order", market_buy(cid))  # looked up once more, then sent once
    assert isinstance(placed, dict) and placed["outcome"] == "PLACED", shown(placed)
    assert len(await orders_with(stack, cid)) == 1


async def _epoch(stack: ReplicaStack) -> int:
    """The epoch's start (server-clock ms) as the replicas wrote it in Redis."""
    assert stack.redis is not None
    conn = client(stack.redis.url)
    try:
        raw = await conn.get(f"{PREFIX}epoch")
        assert isinstance(raw, bytes), raw
        return int(raw.decode().partition(":")[2])
    finally:
        await conn.aclose()
