"""One user data connection per account across provider replicas (issue 19).

Pure rules of what a follower replays (``provider/shared/account_feed.py``), then two provider
processes sharing a real Redis and the sandbox: one user data subscription at the sandbox, both
serve the live account from the stream (a balance change shows on both), and after the holder is
SIGKILLed the other takes the connection over and still serves it."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from decimal import Decimal

import grpc
import pytest_asyncio

from contracts.binance.v1 import account_pb2, account_pb2_grpc
from provider.shared.account_feed import AccountEntry, AccountFollow, Gap, decode, encode
from provider.shared.redis_conn import client
from tests.orderbook.test_manager_sandbox import until
from tests.redis_server import RedisServer, running_redis
from tests.sim_fixture import SimProcess
from tests.stack import ProviderProcess, sandbox_env


def entry(seq: int, kind: str, fence: int = 1, payload: object = None) -> AccountEntry:
    return AccountEntry(fence, seq, kind, payload)


def test_a_follower_replays_from_a_resync_and_stops_at_a_gap_until_the_next_one() -> None:
    follow = AccountFollow()
    assert follow.feed(entry(7, "e", payload={"e": "x"})) is None  # joined mid-run: wait for a resync
    assert follow.feed(entry(8, "b", payload="subscribed")) == entry(8, "b", payload="subscribed")
    assert follow.feed(entry(9, "s", payload={})) == entry(9, "s", payload={})
    assert follow.feed(entry(10, "h")) is None  # a heartbeat only moves the position
    assert follow.feed(entry(11, "e", payload={})) == entry(11, "e", payload={})
    assert isinstance(follow.feed(entry(13, "e", payload={})), Gap)  # 12 never came
    assert follow.feed(entry(14, "e", payload={})) is None
    assert follow.feed(entry(1, "b", fence=2)) == entry(1, "b", fence=2)  # a new holder's resync
    assert follow.feed(entry(15, "e", fence=1)) is None  # an older fence: ignored
    assert follow.feed(entry(2, "e", fence=2, payload={})) == entry(2, "e", fence=2, payload={})


def test_published_account_entries_survive_their_wire_form() -> None:
    sent = entry(3, "s", payload={"account": {"balances": [{"asset": "USDT", "free": "1.5"}]}, "open_orders": []})
    assert decode(encode(sent)) == sent


@pytest_asyncio.fixture
async def redis() -> AsyncIterator[RedisServer]:
    async with running_redis() as server:
        yield server


async def account(address: str) -> account_pb2.GetAccountResponse:
    async with grpc.aio.insecure_channel(address) as channel:
        reply: account_pb2.GetAccountResponse = await account_pb2_grpc.AccountStub(channel).GetAccount(
            account_pb2.GetAccountRequest(), timeout=10)
        return reply


async def all_from_stream(addresses: list[str], usdt: Decimal | None = None) -> bool:
    replies = await asyncio.gather(*(account(a) for a in addresses))
    free = [next((Decimal(b.free) for b in r.balances if b.asset == "USDT"), None) for r in replies]
    return all(r.freshness.source == "stream" for r in replies) and (usdt is None or free == [usdt] * len(free))


async def holder_pid(redis_url: str) -> int | None:
    conn = client(redis_url)
    try:
        keys = await conn.keys("binance-mcp:sandbox:account:*:lease")
        value = await conn.get(keys[0]) if keys else None
    finally:
        await conn.aclose()
    return None if value is None else int(value.decode().split(":", 1)[1].split("/")[1])


async def subscriptions(sim: SimProcess) -> int:
    return int((await sim.control("GET", "/sim/streams"))["user_data_subscriptions"])


async def test_replicas_share_one_user_data_connection_and_take_it_over_when_its_holder_dies(
    sim: SimProcess, redis: RedisServer
) -> None:
    env = sandbox_env(sim.info, trading=True, PROVIDER_REDIS_URL=redis.url, PROVIDER_GRACE_S="1")
    providers = await asyncio.gather(*(ProviderProcess.start(env) for _ in range(2)))
    addresses = [p.address for p in providers]
    try:
        await until(lambda: all_from_stream(addresses))
        assert await subscriptions(sim) == 1

        await sim.control("POST", "/sim/balances", json={"asset": "USDT", "free": "12345.5"})
        await until(lambda: all_from_stream(addresses, Decimal("12345.5")))  # the follower replays it

        pid = await holder_pid(redis.url)
        victim = next(p for p in providers if p.proc is not None and p.proc.pid == pid)
        survivor = next(p for p in providers if p is not victim)
        await victim.stop(signal.SIGKILL)

        async def taken_over() -> bool:
            return await holder_pid(redis.url) not in (None, pid) and await subscriptions(sim) == 1

        await until(taken_over)
        await sim.control("POST", "/sim/balances", json={"asset": "USDT", "free": "54321"})
        await until(lambda: all_from_stream([survivor.address], Decimal("54321")))
    finally:
        await asyncio.gather(*(p.stop(timeout_s=5) for p in providers))
