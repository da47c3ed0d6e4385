"""Replicated books and the shared user data stream against the sandbox and a real Redis (issue 19):
provider processes sharing one Redis track one symbol through one stream subscription and the
account through one user data subscription; every replica serves the sandbox's truth at the same
update id and the live account from the stream; a SIGKILLed ingester's lease moves and no replica
serves a wrong book meanwhile, a SIGKILLed account holder's connection is taken over; a stale
holder's writes are refused by Redis."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import grpc
import pytest
import pytest_asyncio

from contracts.binance.v1 import account_pb2, account_pb2_grpc, orderbook_pb2, orderbook_pb2_grpc
from provider.orderbook.manager import OrderBookManager
from provider.orderbook.replicated import ReplicatedBooks
from provider.shared.book_feed import Beat
from provider.shared.book_redis import BookBus
from provider.shared.redis_conn import client
from tests.orderbook.test_manager_sandbox import compare_with_ground_truth, depth_fetcher, until
from tests.redis_server import RedisServer, running_redis
from tests.sim_fixture import SimProcess
from tests.stack import ProviderProcess, sandbox_env

SYMBOL = "BTCUSDT"
STREAM = "btcusdt@depth@100ms"
PREFIX = "binance-mcp:sandbox:"


pytestmark = pytest.mark.asyncio(loop_scope="module")  # one sandbox for the module (module_sim)


@pytest_asyncio.fixture(loop_scope="module")
async def redis() -> AsyncIterator[RedisServer]:
    async with running_redis() as server:
        yield server


async def l2(address: str) -> orderbook_pb2.GetL2Response:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = orderbook_pb2_grpc.OrderBookStub(channel)
        reply: orderbook_pb2.GetL2Response = await stub.GetL2(
            orderbook_pb2.GetL2Request(symbol=SYMBOL, levels=100), timeout=10)
        return reply


def levels(rows: Any) -> list[tuple[Decimal, Decimal]]:
    return [(Decimal(r.price), Decimal(r.quantity)) for r in rows]


def wrong_levels(reply: orderbook_pb2.GetL2Response, truth: dict[str, Any]) -> int:
    """Levels that differ from the truth's top 100, compared as values (0: the same book)."""
    bad = 0
    for served, side in ((levels(reply.bids), truth["bids"]), (levels(reply.asks), truth["asks"])):
        expected = [(Decimal(p), Decimal(q)) for p, q in side[:100]]
        bad += sum(a != b for a, b in zip(served, expected, strict=False)) + abs(len(served) - len(expected))
    return bad


async def all_synced_at(addresses: list[str], update_id: int) -> bool:
    replies = await asyncio.gather(*(l2(a) for a in addresses))
    return all(r.book.synced and r.book.last_update_id == update_id for r in replies)


async def holder_pid(redis_url: str, namespace: str = "book") -> int | None:
    """The pid of the replica holding the book's (or the account's) lease: ``<fence>:<host>/<pid>/..``."""
    conn = client(redis_url)
    try:
        keys = await conn.keys(f"{PREFIX}{namespace}:*:lease")
        value = await conn.get(keys[0]) if len(keys) == 1 else None
    finally:
        await conn.aclose()
    return None if value is None else int(value.decode().split(":", 1)[1].split("/")[1])


async def account(address: str) -> account_pb2.GetAccountResponse:
    async with grpc.aio.insecure_channel(address) as channel:
        reply: account_pb2.GetAccountResponse = await account_pb2_grpc.AccountStub(channel).GetAccount(
            account_pb2.GetAccountRequest(), timeout=10)
        return reply


async def accounts_from_stream(addresses: list[str], usdt: Decimal | None = None) -> bool:
    """Every replica answers from the live account (and shows ``usdt`` free, when given)."""
    replies = await asyncio.gather(*(account(a) for a in addresses))
    free = [next((Decimal(b.free) for b in r.balances if b.asset == "USDT"), None) for r in replies]
    return all(r.freshness.source == "stream" for r in replies) and (usdt is None or free == [usdt] * len(free))


async def user_data_subscriptions(sim: SimProcess) -> int:
    return int((await sim.control("GET", "/sim/streams"))["user_data_subscriptions"])


async def one_subscription(sim: SimProcess, connections: int | None = None) -> bool:
    """One subscriber of the depth stream (and ``connections`` open, when given)."""
    streams = await sim.control("GET", "/sim/streams")
    return bool(streams["subscribers"].get(STREAM) == 1
                and connections in (None, streams["connections"]))


async def test_replicas_share_one_book_and_one_account_connection_and_survive_their_holders_killed(
    module_sim: SimProcess, redis: RedisServer
) -> None:
    sim = module_sim
    env = sandbox_env(sim.info, trading=False, PROVIDER_REDIS_URL=redis.url, PROVIDER_GRACE_S="1")
    providers = await asyncio.gather(*(ProviderProcess.start(env) for _ in range(3)))
    addresses = [p.address for p in providers]
    try:
        await until(lambda: all_synced_any(addresses), timeout_s=20)
        await until(lambda: one_subscription(sim, connections=1))  # the followers never connect
        await until(lambda: accounts_from_stream(addresses))  # the followers replay the holder's stream
        assert await user_data_subscriptions(sim) == 1
        await sim.control("POST", "/sim/balances", json={"asset": "USDT", "free": "12345.5"})
        await until(lambda: accounts_from_stream(addresses, Decimal("12345.5")))

        # Every replica serves the truth at the same update id (market paused: the truth holds still).
        await sim.control("POST", "/sim/market", json={"running": False})
        truth = await sim.ground_truth(SYMBOL)
        await until(lambda: all_synced_at(addresses, truth["lastUpdateId"]))
        for reply in await asyncio.gather(*(l2(a) for a in addresses)):
            assert wrong_levels(reply, truth) == 0

        # SIGKILL the ingester: the lease moves; survivors never serve a wrong book as synced.
        pid = await holder_pid(redis.url)
        victim = next(p for p in providers if p.proc is not None and p.proc.pid == pid)
        survivors = [p.address for p in providers if p is not victim]
        await victim.stop(signal.SIGKILL)
        killed_at = asyncio.get_running_loop().time()
        served: list[orderbook_pb2.GetL2Response] = []

        async def lease_moved() -> bool:  # survivors read all along: the book they serve meanwhile
            served.extend(await asyncio.gather(*(l2(a) for a in survivors)))
            new = await holder_pid(redis.url)
            return new is not None and new != pid

        await until(lease_moved, timeout_s=5)
        moved_after = asyncio.get_running_loop().time() - killed_at
        assert all(wrong_levels(r, truth) == 0 and r.book.last_update_id == truth["lastUpdateId"]
                   for r in served if r.book.synced)
        assert all(r.book.warning for r in served if not r.book.synced)
        assert moved_after < 5.0

        # The new ingester follows the live stream: the survivors match the truth again later on.
        await sim.control("POST", "/sim/market", json={"running": True})
        await until(lambda: all_synced_any(survivors, above=truth["lastUpdateId"]))
        await until(lambda: one_subscription(sim, connections=1))  # the dead one's is gone
        await sim.control("POST", "/sim/market", json={"running": False})
        truth = await sim.ground_truth(SYMBOL)
        await until(lambda: all_synced_at(survivors, truth["lastUpdateId"]))
        for reply in await asyncio.gather(*(l2(a) for a in survivors)):
            assert wrong_levels(reply, truth) == 0
        assert await one_subscription(sim)

        # The account: one user data subscription; kill its holder, the last replica takes it over.
        await until(lambda: accounts_from_stream(survivors))
        assert await user_data_subscriptions(sim) == 1
        holder = await holder_pid(redis.url, "account")
        victim = next(p for p in providers if p.proc is not None and p.proc.pid == holder)
        last = next(p for p in providers if p.address in survivors and p is not victim)
        await victim.stop(signal.SIGKILL)

        async def taken_over() -> bool:
            return await holder_pid(redis.url, "account") == last.proc.pid \
                and await user_data_subscriptions(sim) == 1  # type: ignore[union-attr]

        await until(taken_over)
        await sim.control("POST", "/sim/balances", json={"asset": "USDT", "free": "54321"})
        await until(lambda: accounts_from_stream([last.address], Decimal("54321")))
    finally:
        await sim.control("POST", "/sim/market", json={"running": True})
        await asyncio.gather(*(p.stop(timeout_s=5) for p in providers))


async def all_synced_any(addresses: list[str], above: int = 0) -> bool:
    replies = await asyncio.gather(*(l2(a) for a in addresses))
    return all(r.book.synced and r.book.last_update_id > above for r in replies)


async def test_a_stale_holders_writes_and_renewals_are_refused_by_redis(redis: RedisServer) -> None:
    old, new = BookBus(client(redis.url), "t:"), BookBus(client(redis.url), "t:")
    try:
        fence = await old.acquire(SYMBOL, "old", 60_000)
        assert fence is not None
        assert await new.acquire(SYMBOL, "new", 60_000) is None  # held
        # the old holder stopped renewing: its lease runs out (its time is cut to 1 ms rather than a
        # short TTL raced against the next line, which a loaded machine lost: the lease was gone first)
        clock = client(redis.url)
        try:
            assert await clock.pexpire(old.key(SYMBOL, "lease"), 1)
        finally:
            await clock.aclose()
        await until(lambda: _gone(old), timeout_s=5)
        newer = await new.acquire(SYMBOL, "new", 60_000)
        assert newer is not None and newer > fence
        stale = Beat(fence, 100, "SYNCED", 0, None)
        assert not await old.publish(f"{fence}:old", SYMBOL, stale)
        assert not await old.checkpoint(f"{fence}:old", SYMBOL,
                                        {"f": str(fence), "id": "100", "b": "[]", "a": "[]"})
        assert not await old.renew(f"{fence}:old", SYMBOL, 60_000)
        assert await new.publish(f"{newer}:new", SYMBOL, Beat(newer, 200, "SYNCED", 0, None))
        rows = await new.read({SYMBOL: "0-0"}, 10)
        assert [entry for _, _, entry in rows] == [Beat(newer, 200, "SYNCED", 0, None)]
        assert await new.load_checkpoint(SYMBOL) is None
        assert await new.holder(SYMBOL) == f"{newer}:new"
    finally:
        await old.close()
        await new.close()


async def _gone(bus: BookBus) -> bool:
    return await bus.holder(SYMBOL) is None


QUICK_LEASE = {"ttl_s": 2.0, "renew_every_s": 0.4, "retry_every_s": 0.2, "margin_s": 0.5}


async def test_a_gap_reaches_followers_as_a_resync_and_without_redis_each_replica_ingests_itself(
    module_sim: SimProcess, redis: RedisServer
) -> None:
    sim = module_sim
    async with aiohttp.ClientSession() as http:
        fetch = depth_fetcher(http, sim.info.rest_url)

        def replica() -> ReplicatedBooks:
            return ReplicatedBooks(
                BookBus(client(redis.url), "t:"),
                lambda observer: OrderBookManager(sim.info.ws_url, fetch, snapshot_limit=5000,
                                                 observer=observer), fetch,
                stale_after_s=0.6, beat_every_s=0.2, lease=QUICK_LEASE)

        replicas = [replica(), replica()]
        try:
            async def synced(roles: set[str]) -> bool:
                views = [await r.get_book(SYMBOL, timeout_s=5) for r in replicas]
                assert not any(v.is_crossed for v in views)
                return all(v.synced for v in views) and {
                    r.book_health().symbols[SYMBOL].role for r in replicas} == roles

            await until(lambda: synced({"ingester", "follower"}))
            await until(lambda: one_subscription(sim))

            # A gap at the ingester: it resyncs, the follower follows its new book (never a wrong one);
            # snapshots of 5000 levels hold the sandbox's whole book, so every level is compared.
            await sim.fault("gap", symbol=SYMBOL)

            async def resynced() -> bool:
                return await synced({"ingester", "follower"}) and any(
                    r.book_health().symbols[SYMBOL].resync_count >= 1 for r in replicas)

            await until(resynced)
            for r in replicas:
                assert await compare_with_ground_truth(sim, r, SYMBOL, min_known=5000) == 0  # type: ignore[arg-type]

            await redis.kill()
            await until(lambda: synced({"local"}))  # each follows its own stream meanwhile
            streams = await sim.control("GET", "/sim/streams")
            assert streams["subscribers"][STREAM] == 2

            await redis.launch()  # empty (no persistence): the lease is taken anew
            await until(lambda: synced({"ingester", "follower"}))
            await until(lambda: one_subscription(sim))  # the follower's idle connection may stay
        finally:
            for r in replicas:
                await r.close()
