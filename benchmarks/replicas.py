"""`scripts/bench` rows for replicas (issue #19): the cost of shared state per call, throughput with 1-3 replicas.

Cost: the same calls, one at a time over gRPC, to a provider with in-process state and to one
sharing its state through a real redis-server, in five interleaved rounds (the best round of each
is kept: the load of a shared machine drifts). A ticker (REST) reserves request weight, in Redis an
atomic script; an order round (place a small resting order, then cancel it) takes the client order
id's lock and writes its placement, in Redis several round trips. The difference of the medians is
what sharing costs per call.

Throughput: three replicas sharing one sandbox and one Redis; calls spread over the first 1, 2
or 3 of them in rotation (as the gateway does), 32 in flight. On a machine with few cores the
replicas compete with the benchmark client and each other for CPU, so the figures show the cost
of the hop more than the capacity a replica on its own host adds.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, Protocol, cast

import aiohttp
import grpc
import grpc.aio

from benchmarks.load import Stats, measure
from contracts.provider.v1 import provider_pb2, provider_pb2_grpc
from tests.redis_server import RedisServer
from tests.sim_fixture import SimProcess
from tests.stack import ProviderProcess, free_port, sandbox_env

__all__ = ["bench_replicas"]

SYMBOL = "BTCUSDT"
PATH_LOCAL = "replicas: 1 provider, in-process state"
PATH_SHARED = "replicas: 1 provider, state in Redis"
_CONCURRENCY = 32
_ROUNDS = 5


class ReportLike(Protocol):
    """What `benchmarks/run.py`'s Report offers: rows to extend, notes to add."""

    rows: list[Any]
    notes: list[str]


Call = Callable[[], Awaitable[object]]


def _invoke(channel: grpc.aio.Channel, tool: str, arguments: dict[str, Any]) -> Callable[[], Awaitable[Any]]:
    stub = cast(Any, provider_pb2_grpc.ProviderStub)(channel)
    request = provider_pb2.InvokeToolRequest(name=tool, arguments_json=json.dumps(arguments))

    async def call() -> Any:
        reply = await stub.InvokeTool(request)
        if reply.is_error:
            raise RuntimeError(reply.text)
        return json.loads(reply.structured_json)

    return call


def _order_round(channel: grpc.aio.Channel, price: str, prefix: str) -> Call:
    """Place a small resting BUY far below the market with a fresh client order id, then cancel it."""
    counter = itertools.count()

    async def call() -> object:
        cid = f"{prefix}-{next(counter)}"
        args = {"symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "quantity": "0.001", "price": price}
        await _invoke(channel, "binance.place_order", {**args, "client_order_id": cid})()
        return await _invoke(channel, "binance.cancel_order", {"symbol": SYMBOL, "client_order_id": cid})()

    return call


def _rotating(calls: list[Call]) -> Call:
    """Each call on the next replica, as the gateway's rotation does."""
    turn = itertools.cycle(calls)
    return lambda: next(turn)()


async def _start(env: dict[str, str], n: int) -> list[ProviderProcess]:
    procs = [ProviderProcess(env=env, port=free_port(), ready_timeout_s=60.0) for _ in range(n)]
    started = await asyncio.gather(*(p.launch() for p in procs), return_exceptions=True)
    failed = [r for r in started if isinstance(r, BaseException)]
    if failed:
        await asyncio.gather(*(p.stop() for p in procs))
        raise failed[0]
    return procs


async def _cost_rows(
    report: ReportLike, envs: dict[str, dict[str, str]], price: str, calls: int, orders: int
) -> dict[str, dict[str, Stats]]:
    """Each call on each path, in five interleaved rounds (the load of a shared machine drifts);
    the best round of each is kept. Returns path -> label -> stats."""
    procs = {path: (await _start(env, 1))[0] for path, env in envs.items()}
    channels = {path: grpc.aio.insecure_channel(p.address) for path, p in procs.items()}
    best: dict[str, dict[str, Stats]] = {path: {} for path in envs}
    try:
        for round_ in range(_ROUNDS):
            for path, channel in channels.items():
                rows = {
                    "get_ticker (sandbox REST)": (_invoke(channel, "binance.get_ticker", {"symbol": SYMBOL}), calls),
                    "order round (place + cancel)": (_order_round(channel, price, f"b{free_port()}-{round_}"), orders),
                }
                for label, (call, n) in rows.items():
                    stats = await measure(call, calls=max(3, n // _ROUNDS), concurrency=1, warmup=1)
                    kept = best[path].get(label)
                    if kept is None or stats.p50_us < kept.p50_us:
                        best[path][label] = stats
        for path, rows_of in best.items():
            for label, stats in rows_of.items():
                report.rows.append(_row(path, label, stats))
        return best
    finally:
        for channel in channels.values():
            await channel.close()
        await asyncio.gather(*(p.stop() for p in procs.values()))


async def _throughput_rows(report: ReportLike, env: dict[str, str], calls: int) -> dict[int, float]:
    procs = await _start(env, 3)
    rates: dict[int, float] = {}
    channels = [grpc.aio.insecure_channel(p.address) for p in procs]
    try:
        for n in (1, 2, 3):
            call = _rotating([_invoke(ch, "binance.get_ticker", {"symbol": SYMBOL}) for ch in channels[:n]])
            stats = await measure(call, calls=calls, concurrency=_CONCURRENCY, warmup=10)
            report.rows.append(
                _row(f"replicas: {n} of 3 providers, state in Redis", "get_ticker (sandbox REST)", stats)
            )
            rates[n] = stats.calls_per_s
    finally:
        for ch in channels:
            await ch.close()
        await asyncio.gather(*(p.stop() for p in procs))
    return rates


def _row(path: str, call: str, stats: Stats) -> Any:
    from benchmarks.run import Row

    return Row(path, call, stats)


async def bench_replicas(report: ReportLike, calls: int, rate: float) -> None:
    """Add the replica rows and a summary note to `report` (sandbox, Redis and providers started here)."""
    # A high weight limit: the rows measure the stack, not Binance's request-weight budget.
    sim = await SimProcess.start("--rate", str(rate), "--weight-limit", "100000000")
    redis: RedisServer | None = None
    try:
        redis = await RedisServer.start()
        price = await _far_below_market(sim)
        local_env = sandbox_env(sim.info, trading=True)
        shared_env = {**local_env, "PROVIDER_REDIS_URL": redis.url}
        orders = 15  # the sandbox takes 50 new orders per 10 s: 2 paths x 5 rounds x (3 + 1 warm-up)
        cost = await _cost_rows(report, {PATH_LOCAL: local_env, PATH_SHARED: shared_env}, price, calls, orders)
        rates = await _throughput_rows(report, shared_env, calls * 2)
        report.notes.extend(_summary(cost[PATH_LOCAL], cost[PATH_SHARED], rates))
    finally:
        if redis is not None:
            await redis.close()
        await sim.stop()


async def _far_below_market(sim: SimProcess) -> str:
    """A BUY price 10% under the best bid: the order rests and is canceled, never filled."""
    url = f"{sim.info.rest_url}/api/v3/ticker/bookTicker"
    async with aiohttp.ClientSession() as http, http.get(url, params={"symbol": SYMBOL}) as r:
        bid = Decimal((await r.json())["bidPrice"])
    return str((bid * Decimal("0.9")).quantize(Decimal("0.01")))


def _summary(local: dict[str, Stats], shared: dict[str, Stats], rates: dict[int, float]) -> list[str]:
    notes = []
    for label, mine in local.items():
        a, b = mine.p50_us, shared[label].p50_us
        notes.append(
            f"shared state per call, {label}: p50 {a:.0f} us with in-process state, {b:.0f} us with Redis "
            f"({b - a:+.0f} us)"
        )
    if rates:
        base = rates[1]
        scaling = ", ".join(f"{n}: {r:.0f}/s ({r / base:.2f}x)" for n, r in rates.items())
        notes.append(f"get_ticker throughput over provider replicas sharing Redis, {_CONCURRENCY} in flight: {scaling}")
    return notes
