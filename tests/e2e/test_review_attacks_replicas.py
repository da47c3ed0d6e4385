"""Review attacks on cluster-wide idempotency (issue 19): one client order id through two replicas
while the exchange is slow, loses its answer, or a replica dies during the lookup.

Real processes (`tests/replicas.py`): the sandbox, a real redis-server, two provider replicas.
The sandbox's own orders by client order id are the judge.
"""

from __future__ import annotations

import asyncio
import secrets
import signal
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.e2e.test_replicas_orders import QUIET, call, market_buy, orders_with, until_held
from tests.replicas import ReplicaStack, replica_stack
from tests.simulator.helpers import wait_until

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(90)]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def stack() -> AsyncIterator[ReplicaStack]:
    async with replica_stack(providers=2, gateways=0, sim_args=("--faults",), provider_extra=QUIET) as running:
        yield running


async def _statuses(stack: ReplicaStack, status: str) -> int:
    """How many REST answers with this HTTP status the sandbox has given so far."""
    seen = await stack.sim.control("GET", "/sim/statuses")
    return int(seen["statuses"].get(status, 0))


async def _answered_more(stack: ReplicaStack, status: str, before: int) -> bool:
    return await _statuses(stack, status) > before


def _outcome(answer: Any) -> str:
    return answer["outcome"] if isinstance(answer, dict) else f"{answer.code().name}: {answer.details()}"


async def test_a_slow_exchange_and_the_same_id_through_the_other_replica_meanwhile_executes_once(
    stack: ReplicaStack,
) -> None:
    a, b = (p.address for p in stack.providers)
    cid = "ra-" + secrets.token_hex(8)
    await stack.sim.fault("rest_fail", path="/api/v3/order", method="POST", hold_ms=800, delay_ms=200, times=1)
    first = asyncio.create_task(call(a, "binance.place_order", market_buy(cid)))
    await until_held(stack)
    second = await call(b, "binance.place_order", market_buy(cid))  # waits for A's lock, then looks first
    outcomes = sorted(_outcome(r) for r in (await first, second))
    assert outcomes == ["PLACED", "RECONCILED_EXISTS"], outcomes
    assert len(await orders_with(stack, cid)) == 1


async def test_a_replica_killed_while_settling_a_lost_answer_and_the_retry_elsewhere_executes_once(
    stack: ReplicaStack,
) -> None:
    a, b = stack.providers
    cid = "ra-" + secrets.token_hex(8)
    # the exchange answers 503 at once and executes the order 1.5 s later: A's answer is lost, A looks it up
    await stack.sim.fault(
        "rest_fail", path="/api/v3/order", method="POST", status=503, execute_after_ms=1500, times=1
    )
    answered_503 = await _statuses(stack, "503")
    lost = asyncio.create_task(call(a.address, "binance.place_order", market_buy(cid)))
    # A got its 503 (the order is on its way to late execution) and settles under the id's lock
    await wait_until(lambda: _answered_more(stack, "503", answered_503), within_s=30)
    await a.stop(signal.SIGKILL)
    await lost
    # executed by now or not: B must find it (or wait for it), never place it again
    retried = await call(b.address, "binance.place_order", market_buy(cid))
    assert _outcome(retried) == "RECONCILED_EXISTS", _outcome(retried)
    assert len(await orders_with(stack, cid)) == 1
