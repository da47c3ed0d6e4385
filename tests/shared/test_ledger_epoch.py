"""The placement ledger's epoch rule (`provider/shared/ledger.py` rules 6 and 7) against a real redis-server:
a Redis that lost its data (restarted empty, another run, never marked) holds every id back as UNKNOWN until an
order sent before the loss can no longer execute; a holder whose lock vanished sends nothing more."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio
import redis.asyncio as aioredis

from provider.binance.governor import WeightGovernor
from provider.binance.order_limits import OrderLimit, OrderRateLimiter
from provider.shared.budgets import HOLD_LOST, STRICT, SharedBudgets
from provider.shared.ledger import SharedPlacementLedger
from provider.shared.redis_conn import RedisUnavailable, client
from provider.trading.placement import State
from tests.redis_server import RedisServer

pytestmark = pytest.mark.asyncio(loop_scope="module")

NOW_MS = 1_764_000_000_000  # a server clock (ms)
TTL_MS, RECV_MS, MARGIN_MS = 30_000, 5_000, 1_000  # the lock, the recvWindow, the ledger's margin
WINDOW_MS = TTL_MS + RECV_MS + MARGIN_MS


@pytest_asyncio.fixture(loop_scope="module")
async def conn(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    made = client(redis_server.url)
    try:
        yield made
    finally:
        await made.aclose()


def ledger(
    conn: aioredis.Redis, prefix: str, now: Callable[[], int], lock_ttl_ms: int = TTL_MS
) -> SharedPlacementLedger:
    return SharedPlacementLedger(conn, prefix, now_ms=now, recv_window_ms=RECV_MS, lock_ttl_ms=lock_ttl_ms)


async def seen(led: SharedPlacementLedger, cid: str, now_ms: int) -> tuple[State | None, int | None]:
    async with led.hold(cid, 2.0):
        placement = led.recall(cid, now_ms)
    return (placement.state, placement.known_at_ms) if placement is not None else (None, None)


async def test_an_unmarked_redis_holds_every_id_back_until_an_order_from_before_it_can_no_longer_execute(
    conn: aioredis.Redis,
) -> None:
    prefix, clock = f"e{secrets.token_hex(4)}:", [NOW_MS]
    led = ledger(conn, prefix, lambda: clock[0])
    # the first lock on a Redis that never saw this prefix starts the epoch: whatever id, it may be on the wire
    assert await seen(led, "new-1", NOW_MS) == (State.UNKNOWN, NOW_MS + WINDOW_MS)
    clock[0] = NOW_MS + 20_000  # still within the window, another id: the same moment bounds it
    assert await seen(led, "new-2", clock[0]) == (State.UNKNOWN, NOW_MS + WINDOW_MS)
    clock[0] = NOW_MS + WINDOW_MS  # past it: an id nobody placed is simply new
    assert await seen(led, "new-3", clock[0]) == (None, None)


async def test_a_redis_marked_known_empty_holds_nothing_back_until_it_restarts_empty(
    redis_server: RedisServer, conn: aioredis.Redis,
) -> None:
    prefix = f"e{secrets.token_hex(4)}:"
    await redis_server.mark_known_empty(prefix)
    led = ledger(conn, prefix, lambda: NOW_MS)
    assert await seen(led, "k-1", NOW_MS) == (None, None)
    await redis_server.kill()  # the lock, markers, placements and the mark: gone
    await redis_server.launch()
    assert await seen(led, "k-1", NOW_MS) == (State.UNKNOWN, NOW_MS + WINDOW_MS)


async def test_an_epoch_of_another_redis_run_is_not_trusted(conn: aioredis.Redis) -> None:
    """A persisted file reloaded (it may miss the last second) or a promoted replica: another run_id."""
    prefix = f"e{secrets.token_hex(4)}:"
    await conn.set(f"{prefix}epoch", "0123456789abcdef0123456789abcdef01234567:0")
    led = ledger(conn, prefix, lambda: NOW_MS)
    assert await seen(led, "r-1", NOW_MS) == (State.UNKNOWN, NOW_MS + WINDOW_MS)
    raw = await conn.get(f"{prefix}epoch")
    assert isinstance(raw, bytes)
    run_id, _, started = raw.decode().partition(":")
    assert run_id == (await conn.info("server"))["run_id"] and int(started) == NOW_MS


async def test_a_heartbeat_starts_the_epoch_so_only_orders_soon_after_the_loss_wait(conn: aioredis.Redis) -> None:
    prefix = f"e{secrets.token_hex(4)}:"
    core = WeightGovernor(limit=100, headroom=0.1, max_wait_s=1.0, priority_share=0.1)
    budgets = SharedBudgets(conn, prefix, core, OrderRateLimiter([OrderLimit("10s", 10, 3)]),
                            lambda: NOW_MS / 1000, account="acct")
    await budgets.beat()
    led = ledger(conn, prefix, lambda: NOW_MS + WINDOW_MS)  # the first order comes after the window
    assert await seen(led, "h-1", NOW_MS + WINDOW_MS) == (None, None)


async def test_the_later_of_a_dead_holders_marker_and_the_epoch_bounds_the_id(conn: aioredis.Redis) -> None:
    prefix = f"e{secrets.token_hex(4)}:"
    first = ledger(conn, prefix, lambda: NOW_MS)
    assert await seen(first, "other", NOW_MS) == (State.UNKNOWN, NOW_MS + WINDOW_MS)  # the epoch: NOW_MS
    dead = ledger(conn, prefix, lambda: NOW_MS + 10_000)
    await dead._take("m-1", asyncio.get_running_loop().time() + 1)  # took its 30 s lock later, then "died"
    await conn.delete(f"{prefix}order-lock:m-1")  # its lock ran out; its placing marker stays
    later = ledger(conn, prefix, lambda: NOW_MS + 10_100)
    assert await seen(later, "m-1", NOW_MS + 10_100) == (State.UNKNOWN, NOW_MS + 10_000 + WINDOW_MS)


async def test_a_holder_whose_lock_vanished_sends_nothing_more_under_it(
    redis_server: RedisServer, conn: aioredis.Redis,
) -> None:
    prefix = f"e{secrets.token_hex(4)}:"
    await redis_server.mark_known_empty(prefix)
    core = WeightGovernor(limit=100, headroom=0.1, max_wait_s=1.0, priority_share=0.1)
    budgets = SharedBudgets(conn, prefix, core, OrderRateLimiter([OrderLimit("10s", 10, 3)]),
                            lambda: NOW_MS / 1000, account="acct")
    # renewed every second: a short lock would be lost on its own when a loaded machine stalls a renewal
    led = ledger(conn, prefix, lambda: NOW_MS, lock_ttl_ms=3000)
    async with led.hold("l-1", 2.0):
        assert STRICT.get()
        await budgets.acquire(1)  # held: requests go out
        await conn.delete(f"{prefix}order-lock:l-1")  # Redis lost it (restarted empty, flushed)
        lost = HOLD_LOST.get()
        assert lost is not None
        for _ in range(500):  # the next renewal (within a second) finds it gone; bounded at 10 s
            if lost():
                break
            await asyncio.sleep(0.02)
        assert lost()
        with pytest.raises(RedisUnavailable, match="NOT sent"):
            await budgets.acquire(1)
    assert HOLD_LOST.get() is None
    await budgets.acquire(1)  # outside the hold: unaffected
