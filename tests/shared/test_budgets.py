"""Shared budgets and the shared order ledger against a real redis-server: two replicas in one test,
each with its own cores and its own Redis connection, as two provider processes would have."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
import pytest_asyncio
import redis.asyncio as aioredis

from provider.binance.governor import WeightGovernor
from provider.binance.order_limits import OrderLimit, OrderRateLimiter
from provider.errors import IpBanned, OrderRateLimited, RateLimited
from provider.shared.budgets import STRICT, SharedBudgets
from provider.shared.ledger import SharedPlacementLedger
from provider.shared.redis_conn import RedisUnavailable, client
from provider.trading.ledger import LockTimeout
from provider.trading.placement import Placement, State, Trigger
from tests.redis_server import RedisServer

T0 = 1_700_000_040.0  # on a minute boundary
pytestmark = pytest.mark.asyncio(loop_scope="module")


@dataclass
class Clock:
    now: float = T0 + 10

    def __call__(self) -> float:
        return self.now


Replica = Callable[[], Awaitable[SharedBudgets]]


@pytest_asyncio.fixture(loop_scope="module")
async def replicas(redis_server: RedisServer) -> AsyncIterator[tuple[Replica, Clock]]:
    """Builds replicas on one fresh prefix: limit 100 per minute, 10% headroom, 10% kept for priority calls."""
    prefix, clock, made = f"t{secrets.token_hex(4)}:", Clock(), []

    async def replica() -> SharedBudgets:
        core = WeightGovernor(limit=100, headroom=0.1, max_wait_s=1.0, priority_share=0.1)
        orders = OrderRateLimiter([OrderLimit("10s", 10, 3)])
        budgets = SharedBudgets(client(redis_server.url), prefix, core, orders, clock, account="acct")
        budgets.start()
        made.append(budgets)
        return budgets

    try:
        yield replica, clock
    finally:
        for budgets in made:
            await budgets.close()
            await budgets.conn.aclose()


Connect = Callable[[], aioredis.Redis]


@pytest_asyncio.fixture(loop_scope="module")
async def connect(redis_server: RedisServer) -> AsyncIterator[Connect]:
    """Makes Redis clients for the test's ledgers and closes every one of them after it."""
    made: list[aioredis.Redis] = []

    def new() -> aioredis.Redis:
        made.append(client(redis_server.url))
        return made[-1]

    try:
        yield new
    finally:
        for conn in made:
            await conn.aclose()


async def test_two_replicas_draw_one_weight_budget_and_only_priority_calls_use_its_last_slice(
    replicas: tuple[Replica, Clock],
) -> None:
    make, _ = replicas
    a, b = await make(), await make()
    await a.acquire(50)
    await b.acquire(31)  # 81: the budget (90) less the priority slice (9)
    with pytest.raises(RateLimited) as err:
        await b.acquire(1)
    assert err.value.retry_after_s == pytest.approx(50.0)
    await a.acquire(9, priority=True)  # a book snapshot may use the slice
    with pytest.raises(RateLimited):
        await a.acquire(1, priority=True)
    assert a.core.used == 90 and b.core.used >= 81  # each core mirrors the shared window


async def test_a_used_weight_header_seen_by_one_replica_raises_the_other_replicas_count(
    replicas: tuple[Replica, Clock],
) -> None:
    make, clock = replicas
    a, b = await make(), await make()
    await a.acquire(10)
    a.core.observe(10, 75, clock.now, clock.now)  # another process on the IP used weight too
    await a.flush()
    await b.acquire(6)  # 81
    with pytest.raises(RateLimited):
        await b.acquire(1)


async def test_a_429_on_one_replica_holds_every_replica_and_its_lower_limit_is_shared(
    replicas: tuple[Replica, Clock],
) -> None:
    make, clock = replicas
    a, b = await make(), await make()
    a.core.on_rate_limited(30.0, clock.now, "Too much request weight used; current limit is 45 request weight per "
                                            "1 MINUTE.")
    await a.flush()
    with pytest.raises(RateLimited) as err:
        await b.acquire(1)
    assert err.value.retry_after_s == pytest.approx(30.0)
    clock.now = T0 + 60  # next window, block over: B adopts the limit A learned
    with pytest.raises(RateLimited) as never:
        await b.acquire(50)
    assert never.value.retry_after_s is None and "45" in never.value.message


async def test_a_418_on_one_replica_bans_calls_on_every_replica(replicas: tuple[Replica, Clock]) -> None:
    make, clock = replicas
    a, b = await make(), await make()
    a.core.on_banned(120.0, clock.now)
    await a.flush()
    with pytest.raises(IpBanned):
        await b.acquire(1)


async def test_order_slots_are_counted_across_replicas_and_a_1015_holds_them_all(
    replicas: tuple[Replica, Clock],
) -> None:
    make, clock = replicas
    a, b = await make(), await make()
    await a.reserve_order()
    await b.reserve_order()
    await a.reserve_order()
    with pytest.raises(OrderRateLimited):
        await b.reserve_order()  # the account's 3 per 10 s, whichever replica sent them
    await a.release_order()  # a call that took a slot and then sent nothing (a duplicate refused) gives it back
    await b.reserve_order()
    with pytest.raises(OrderRateLimited):
        await b.reserve_order()
    clock.now += 10  # next 10 s window
    await b.reserve_order()
    a.orders.on_rejected(5.0, "Too many new orders", clock.now)
    await a.flush()
    with pytest.raises(OrderRateLimited) as err:
        await b.reserve_order()
    assert err.value.retry_after_s == pytest.approx(5.0)


async def test_without_redis_reads_use_a_local_share_orders_are_refused_and_it_recovers(
    replicas: tuple[Replica, Clock], redis_server: RedisServer
) -> None:
    make, _ = replicas
    a, b = await make(), await make()
    await a.beat()
    await b.beat()
    await a.beat()
    assert a.replicas == 2
    await redis_server.kill()
    try:
        await a.acquire(40)  # falls back: half of the budget (2 replicas), its own calls only
        assert not a.shared and a.core.share == pytest.approx(0.5)
        with pytest.raises(RateLimited):
            await a.acquire(10)  # 50 > 45 less the priority slice
        strict = STRICT.set(True)
        try:
            with pytest.raises(RedisUnavailable):
                await a.acquire(1)  # under an order's lock: never on the local budget
            with pytest.raises(RedisUnavailable):
                await a.reserve_order()
        finally:
            STRICT.reset(strict)
    finally:
        await redis_server.launch()
    await a.beat()  # the heartbeat finds Redis again
    assert a.shared and a.core.share == 1.0
    await a.acquire(1)


async def known_empty_prefix(redis_server: RedisServer) -> str:
    """A fresh prefix on a Redis no order was in flight on (`ledger.py` rule 6 holds nothing back)."""
    prefix = f"t{secrets.token_hex(4)}:"
    await redis_server.mark_known_empty(prefix)
    return prefix


async def test_one_client_order_id_is_held_by_one_replica_at_a_time_and_its_placement_is_seen_by_the_next(
    redis_server: RedisServer, connect: Connect,
) -> None:
    prefix = await known_empty_prefix(redis_server)
    a, b = (SharedPlacementLedger(connect(), prefix, now_ms=lambda: 1_000, recv_window_ms=5000)
            for _ in range(2))
    entered = asyncio.Event()
    leave = asyncio.Event()

    async def holder() -> None:
        async with a.hold("cid-1", 5.0):
            assert STRICT.get()
            placement = Placement("cid-1", 5000, 1000)
            a.remember(placement, 1_000)
            placement.answer_lost(900)
            entered.set()
            await leave.wait()

    task = asyncio.create_task(holder())
    await entered.wait()
    with pytest.raises(LockTimeout):
        async with b.hold("cid-1", 0.1):
            pass
    leave.set()
    await task
    async with b.hold("cid-1", 5.0):
        seen = b.recall("cid-1", 2_000)
    assert seen is not None and seen.state is State.UNKNOWN and seen.known_at_ms == 900 + 5000 + 1000


async def test_a_lock_whose_holder_vanished_expires_and_the_next_holder_treats_the_id_as_unknown(
    redis_server: RedisServer, connect: Connect,
) -> None:
    prefix = await known_empty_prefix(redis_server)
    first = SharedPlacementLedger(connect(), prefix, now_ms=lambda: 9_000, recv_window_ms=5000)
    async with first.hold("cid-2", 1.0):  # an earlier call, cleanly finished: rejected
        earlier = Placement("cid-2", 5000, 1000)
        first.remember(earlier, 9_000)
        earlier.fire(Trigger.REJECTED)
    dead = SharedPlacementLedger(connect(), prefix, now_ms=lambda: 10_000, recv_window_ms=5000,
                                 lock_ttl_ms=300)
    await dead._take("cid-2", asyncio.get_running_loop().time() + 1)  # took the lock, then "died"
    b = SharedPlacementLedger(connect(), prefix, now_ms=lambda: 10_100, recv_window_ms=5000)
    async with b.hold("cid-2", 10.0):
        seen = b.recall("cid-2", 10_100)
    assert seen is not None and seen.state is State.UNKNOWN  # the dead call is newer than the stored rejection
    assert seen.known_at_ms == 10_000 + 300 + 5000 + 1000  # what it may have sent, until its lock ran out


async def test_a_lock_whose_replica_stopped_beating_is_taken_over_before_it_expires(
    redis_server: RedisServer, connect: Connect,
) -> None:
    prefix = await known_empty_prefix(redis_server)
    replicas = f"{prefix}replicas"

    def ledger(owner: str, alive_ms: int) -> SharedPlacementLedger:
        return SharedPlacementLedger(connect(), prefix, now_ms=lambda: 20_000, recv_window_ms=5000,
                                     owner=owner, replicas_key=replicas, alive_ms=alive_ms)

    live, dead, b = ledger("live", 60_000), ledger("dead", 200), ledger("b", 60_000)
    await live._take("cid-4", asyncio.get_running_loop().time() + 1)  # alive for a minute: kept
    with pytest.raises(LockTimeout):
        async with b.hold("cid-4", 0.3):
            pass
    await dead._take("cid-5", asyncio.get_running_loop().time() + 1)  # its 30 s lock outlives its beat
    async with b.hold("cid-5", 10.0):
        seen = b.recall("cid-5", 20_000)
    assert seen is not None and seen.state is State.UNKNOWN  # it may have sent: looked up before any send


async def test_no_order_lock_without_redis(redis_server: RedisServer, connect: Connect) -> None:
    ledger = SharedPlacementLedger(connect(), "t:", now_ms=lambda: 0, recv_window_ms=5000)
    await redis_server.kill()
    try:
        with pytest.raises(RedisUnavailable):
            async with ledger.hold("cid-3", 1.0):
                pytest.fail("held without Redis")
    finally:
        await redis_server.launch()

