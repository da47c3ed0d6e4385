"""`scripts/soak --replicas`: replicas under load while their ingester and then Redis are killed.

Starts the sandbox, a real redis-server, three provider replicas sharing both and two HTTP gateways
balancing over the replicas (`tests/replicas.py`, the same stack as the combined test). Several MCP
clients (2026-era, round robin over the gateways) read tickers and books and place small resting
orders with their own client order ids (an error answer is retried once with the same id, as an
agent would). Meanwhile:

1. The replica ingesting BTCUSDT (the holder of its Redis lease, from the replicas' logs) is killed
   with SIGKILL: the time until another replica logs `orderbook.lease_gained` for every symbol it
   held is measured (must be within 5 s); then the market is paused and every replica's book must
   equal the sandbox's at the same update id (a SYNCED book that differs is a wrong book); the
   killed replica is started again.
2. Redis is killed with SIGKILL for a few seconds: orders sent meanwhile must be refused with a
   clear error and never reach the exchange; reads go on; after Redis is back (empty: an order may
   have been in flight, so orders wait about 36 s, `provider/shared/ledger.py` rule 6), an order is
   placed again (time to recovery printed).

At the end every order id is looked up on the exchange (`GET /sim/orders`). Must-be-zero counts:
unclear failures, leases moved late, wrong books, orders placed while Redis was down, duplicate and
unaccounted orders, HTTP 429/418 answered by the sandbox (`GET /sim/statuses`).
"""

from __future__ import annotations

import asyncio
import secrets
import signal
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import aiohttp
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from benchmarks.soak import cause_of, error_without_cause, first_text, levels
from tests.replicas import Dispatch, ReplicaStack, invoke, json_lines, replica_stack

__all__ = ["ReplicaSoakCounts", "render_replicas", "run_replica_soak"]

SYMBOL = "BTCUSDT"
BOOK_SYMBOLS = ("BTCUSDT", "ETHUSDT")
BOOK_LEVELS = 20
LEASE_MOVE_LIMIT_S = 5.0
CONVERGE_S = 10.0
CALL_TIMEOUT_S = 40.0
REDIS_OUTAGE_S = 3.0


@dataclass
class ReplicaSoakCounts:
    clients: int = 0
    duration_s: float = 0.0
    calls_made: int = 0
    calls_ok: int = 0
    failed_clearly: int = 0
    failed_unclearly: int = 0
    ingester_kills: int = 0
    lease_moves_ms: list[int] = field(default_factory=list)
    leases_moved_late: int = 0
    books_checked: int = 0
    books_wrong: int = 0
    books_not_converged: int = 0
    redis_kills: int = 0
    orders_while_redis_down: int = 0
    orders_refused_clearly_redis_down: int = 0
    orders_placed_while_redis_down: int = 0
    reads_ok_while_redis_down: int = 0
    redis_recovery_ms: int | None = None
    orders_sent: int = 0
    orders_on_exchange: int = 0
    duplicate_orders: int = 0
    unaccounted_orders: int = 0
    responses_429: int = 0
    responses_418: int = 0
    examples: list[str] = field(default_factory=list)
    causes: dict[str, int] = field(default_factory=dict)

    def problems(self) -> list[str]:
        zero = {
            "failed unclearly": self.failed_unclearly,
            "leases moved late": self.leases_moved_late,
            "wrong books": self.books_wrong,
            "orders placed while Redis was down": self.orders_placed_while_redis_down,
            "duplicate orders": self.duplicate_orders,
            "unaccounted orders": self.unaccounted_orders,
            "HTTP 429 answers": self.responses_429,
            "HTTP 418 answers": self.responses_418,
        }
        out = [f"{name}: {n}" for name, n in zero.items() if n]
        if self.ingester_kills == 0 or self.redis_kills == 0 or self.books_checked == 0:
            out.append("the run killed or checked nothing")
        return out


@dataclass
class OrderSent:
    """What the answers to one client order id said: True placed, False not placed, None unknown."""

    answers: list[bool | None] = field(default_factory=list)
    calls_while_redis_down: int = 0
    calls_with_redis: int = 0


class ReplicaSoak:
    def __init__(self, stack: ReplicaStack, counts: ReplicaSoakCounts) -> None:
        self.stack = stack
        self.counts = counts
        self.run_id = secrets.token_hex(3)
        self.stop = asyncio.Event()
        self.redis_down = False
        self.orders: dict[str, OrderSent] = {}
        self.causes: dict[str, int] = {}
        # A book check pauses the market: no order may change a book meanwhile (the truth would move).
        self.orders_allowed = asyncio.Event()
        self.orders_allowed.set()
        self.ordering = 0
        self.no_orders = asyncio.Event()
        self.no_orders.set()

    # -- one call, classified ------------------------------------------------------------------

    async def call(self, client: Client, tool: str, args: dict[str, Any]) -> dict[str, Any] | str | None:
        """The structured result; the error text of a clear failure; None for an unclear one."""
        self.counts.calls_made += 1
        try:
            async with asyncio.timeout(CALL_TIMEOUT_S):
                result = await client.call_tool(tool, args)
        except Exception as exc:  # the client raised: a protocol error, a timeout, a gateway gone
            self.example(f"unclear: {tool}: {type(exc).__name__}: {exc}"[:300])
            self.counts.failed_unclearly += 1
            return None
        text = first_text(result)
        if result.is_error:
            if error_without_cause(text):
                self.counts.failed_unclearly += 1
                self.example(f"unclear: {tool}: error without a cause: {text!r}"[:300])
                return None
            self.counts.failed_clearly += 1
            cause = cause_of(tool, text)
            self.causes[cause] = self.causes.get(cause, 0) + 1
            return text
        self.counts.calls_ok += 1
        if self.redis_down and tool != "binance_place_order":
            self.counts.reads_ok_while_redis_down += 1
        return dict(result.structured_content or {})

    def example(self, what: str) -> None:
        if len(self.counts.examples) < 12:
            self.counts.examples.append(what)

    # -- clients -------------------------------------------------------------------------------

    async def client(self, index: int) -> None:
        http, _ = self.stack.client(Dispatch.ROUND_ROBIN)
        async with http, Client(streamable_http_client(self.stack.url, http_client=http)) as client:
            n = 0
            bid: Decimal | None = None
            while not self.stop.is_set():
                n += 1
                symbol = BOOK_SYMBOLS[n % 2]
                if n % 5 == 0 and bid is not None:
                    await self.order_round(client, f"rsoak-{self.run_id}-{index}-{n}", bid)
                elif n % 5 == 1:
                    book = await self.call(client, "binance_get_orderbook", {"symbol": SYMBOL, "limit": 5})
                    if isinstance(book, dict) and book.get("bids"):
                        bid = Decimal(book["bids"][0]["price"])
                elif n % 5 == 2:
                    await self.call(client, "binance_orderbook_l2", {"symbol": symbol, "levels": BOOK_LEVELS})
                else:
                    await self.call(client, "binance_get_ticker", {"symbol": symbol})
                await asyncio.sleep(0.1)

    async def order_round(self, client: Client, cid: str, bid: Decimal) -> None:
        """`place_and_cancel`, never while a book check runs."""
        await self.orders_allowed.wait()
        self.ordering += 1
        self.no_orders.clear()
        try:
            await self.place_and_cancel(client, cid, bid)
        finally:
            self.ordering -= 1
            if self.ordering == 0:
                self.no_orders.set()

    async def place_and_cancel(self, client: Client, cid: str, bid: Decimal) -> None:
        """A small resting order far below the market; retried once with its id; canceled if placed."""
        price = str((bid * Decimal("0.9")).quantize(Decimal("0.01")))
        args = {"symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "quantity": "0.001", "price": price}
        args["client_order_id"] = cid
        record = self.orders.setdefault(cid, OrderSent())
        self.counts.orders_sent += 1
        for _ in range(2):
            down = self.redis_down
            answer = await self.call(client, "binance_place_order", args)
            down = down and self.redis_down  # down for the whole call (a call that saw Redis may place)
            if not down:
                record.calls_with_redis += 1
            if down:
                record.calls_while_redis_down += 1
                self.counts.orders_while_redis_down += 1
                if isinstance(answer, str):
                    self.counts.orders_refused_clearly_redis_down += 1
            placed = answer.get("order_exists") if isinstance(answer, dict) else None
            outcome = answer.get("outcome") if isinstance(answer, dict) else None
            record.answers.append(None if outcome == "UNKNOWN" else (bool(placed) if placed is not None else None))
            if isinstance(answer, dict):
                break
        if any(record.answers):
            await self.call(client, "binance_cancel_order", {"symbol": SYMBOL, "client_order_id": cid})

    # -- the kills -----------------------------------------------------------------------------

    def holders(self) -> dict[str, tuple[int, int]]:
        """symbol → (replica index, fence) of the latest `orderbook.lease_gained`, per the replicas' logs."""
        best: dict[str, tuple[int, int]] = {}
        for index in range(len(self.stack.providers)):
            for event in json_lines(self.stack.providers[index].logs()):
                if event.get("event") == "orderbook.lease_gained":
                    symbol, fence = str(event.get("symbol")), int(event.get("fence") or 0)
                    if fence > best.get(symbol, (-1, -1))[1]:
                        best[symbol] = (index, fence)
        return best

    async def kill_ingester(self) -> None:
        """Kill the replica holding BTCUSDT's lease; time each of its leases moving to another replica."""
        async with asyncio.timeout(CONVERGE_S):
            while True:  # a log file has no change notification: re-read it
                if SYMBOL in self.holders():
                    break
                await asyncio.sleep(0.1)
        before = self.holders()
        victim = before[SYMBOL][0]
        held = {s: fence for s, (i, fence) in before.items() if i == victim}
        provider = self.stack.providers[victim]
        killed_at = time.monotonic()
        await provider.stop(signal.SIGKILL)
        self.counts.ingester_kills += 1
        waiting = dict(held)
        deadline = killed_at + CONVERGE_S
        while waiting and time.monotonic() < deadline:
            now = self.holders()
            for symbol, fence in list(waiting.items()):
                moved = now.get(symbol)
                if moved is not None and moved[0] != victim and moved[1] > fence:
                    ms = int((time.monotonic() - killed_at) * 1000)
                    self.counts.lease_moves_ms.append(ms)
                    self.counts.leases_moved_late += ms > LEASE_MOVE_LIMIT_S * 1000
                    del waiting[symbol]
            await asyncio.sleep(0.05)
        for symbol in waiting:
            self.counts.leases_moved_late += 1
            self.example(f"lease of {symbol} did not move within {CONVERGE_S:g} s of killing its holder")
        await self.book_check(skip=victim)
        await provider.launch()

    async def kill_redis(self) -> None:
        """Redis gone for REDIS_OUTAGE_S: orders meanwhile must be refused; then time the recovery."""
        redis = self.stack.redis
        assert redis is not None
        self.redis_down = True
        await redis.kill()
        self.counts.redis_kills += 1
        await asyncio.sleep(REDIS_OUTAGE_S)
        await redis.launch()
        self.redis_down = False
        back_at = time.monotonic()
        http, _ = self.stack.client(Dispatch.ROUND_ROBIN)
        async with http, Client(streamable_http_client(self.stack.url, http_client=http)) as client:
            bid = Decimal((await self.sandbox_ticker())["bidPrice"])
            for attempt in range(100):
                cid = f"rsoak-{self.run_id}-recover-{attempt}"
                await self.order_round(client, cid, bid)
                if any(self.orders[cid].answers):
                    self.counts.redis_recovery_ms = int((time.monotonic() - back_at) * 1000)
                    return
                await asyncio.sleep(0.2)

    async def sandbox_ticker(self) -> dict[str, Any]:
        url = f"{self.stack.sim.info.rest_url}/api/v3/ticker/bookTicker"
        async with aiohttp.ClientSession() as http, http.get(url, params={"symbol": SYMBOL}) as r:
            body: dict[str, Any] = await r.json()
            return body

    # -- ground truth --------------------------------------------------------------------------

    async def book_check(self, skip: int | None = None) -> None:
        """Pause the market (and the orders); every live replica's book must equal the truth at the same update id."""
        self.orders_allowed.clear()
        await self.no_orders.wait()
        await self.stack.sim.control("POST", "/sim/market", {"running": False})
        try:
            for symbol in BOOK_SYMBOLS:
                truth = await self.stack.sim.ground_truth(symbol)
                for index, provider in enumerate(self.stack.providers):
                    if index != skip:
                        await self.check_book(provider.address, symbol, truth)
        finally:
            await self.stack.sim.control("POST", "/sim/market", {"running": True})
            self.orders_allowed.set()

    async def check_book(self, address: str, symbol: str, truth: dict[str, Any]) -> None:
        deadline = time.monotonic() + CONVERGE_S
        served: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            try:
                served = await invoke(address, "binance.orderbook_l2", {"symbol": symbol, "levels": BOOK_LEVELS})
            except Exception as exc:  # a replica answering an error is not a wrong book
                self.example(f"book read from {address}: {type(exc).__name__}: {exc}"[:200])
                served = None
            book = served["book"] if served else {}
            if book.get("state") == "SYNCED" and int(book["last_update_id"]) == int(truth["lastUpdateId"]):
                self.counts.books_checked += 1
                for side in ("bids", "asks"):
                    if levels(served[side] if served else [], BOOK_LEVELS) != levels(truth[side], BOOK_LEVELS):
                        self.counts.books_wrong += 1
                        self.example(f"wrong {symbol} {side} from {address} at {truth['lastUpdateId']}")
                        break
                return
            await asyncio.sleep(0.1)
        self.counts.books_not_converged += 1
        book = served["book"] if served else None
        self.example(f"{symbol} at {address} never SYNCED at the truth's update id {truth['lastUpdateId']}: {book}")

    async def reconcile(self) -> None:
        """Every order id against the exchange: once at most, and as its answers said."""
        reply = await self.stack.sim.control("GET", f"/sim/orders?symbol={SYMBOL}")
        on_exchange: dict[str, int] = {}
        for order in reply["orders"]:
            cid = order["clientOrderId"]
            on_exchange[cid] = on_exchange.get(cid, 0) + 1
        for cid, record in self.orders.items():
            n = on_exchange.get(cid, 0)
            self.counts.orders_on_exchange += n > 0
            if n > 1:
                self.counts.duplicate_orders += 1
                self.example(f"{cid} placed {n} times")
            said = [a for a in record.answers if a is not None]
            if (True in said and n == 0) or (said and True not in said and n > 0):
                self.counts.unaccounted_orders += 1
                self.example(f"{cid}: answers {record.answers}, {n} on the exchange")
            if record.calls_while_redis_down and not record.calls_with_redis and n > 0:
                self.counts.orders_placed_while_redis_down += 1
                self.example(f"{cid} sent while Redis was down is on the exchange")
        statuses = (await self.stack.sim.control("GET", "/sim/statuses"))["statuses"]
        self.counts.responses_429 = int(statuses.get("429", 0))
        self.counts.responses_418 = int(statuses.get("418", 0))


async def run_replica_soak(duration_s: float = 30.0, clients: int = 4, rate: float = 20.0) -> ReplicaSoakCounts:
    """Run the replica soak; bounded by `duration_s` of load plus start, checks and teardown."""
    counts = ReplicaSoakCounts(clients=clients)
    started = time.perf_counter()
    async with replica_stack(providers=3, gateways=2, sim_args=("--faults", "--rate", str(rate))) as stack:
        await stack.sim.control("POST", "/sim/balances", {"asset": "USDT", "free": "10000000"})
        soak = ReplicaSoak(stack, counts)
        tasks = [asyncio.create_task(soak.client(i)) for i in range(clients)]
        try:
            await asyncio.sleep(duration_s * 0.3)
            await soak.kill_ingester()
            await asyncio.sleep(duration_s * 0.3)
            await soak.kill_redis()
            await asyncio.sleep(duration_s * 0.2)
        finally:
            soak.stop.set()
            for result in await asyncio.gather(*tasks, return_exceptions=True):
                if isinstance(result, BaseException):
                    counts.failed_unclearly += 1
                    soak.example(f"client crashed: {type(result).__name__}: {result}"[:300])
        await soak.book_check()
        await soak.reconcile()
        counts.causes = dict(sorted(soak.causes.items(), key=lambda kv: -kv[1])[:10])
    counts.duration_s = round(time.perf_counter() - started, 1)
    return counts


def render_replicas(counts: ReplicaSoakCounts, command: str) -> str:
    moves = sorted(counts.lease_moves_ms)
    rows = [
        ("calls made", counts.calls_made, ""),
        ("calls answered", counts.calls_ok, ""),
        ("failed with a clear error", counts.failed_clearly, ""),
        ("failed unclearly (exception, timeout, no cause)", counts.failed_unclearly, "yes"),
        ("ingesting replicas killed (SIGKILL)", counts.ingester_kills, ""),
        ("leases moved, slowest (ms)", f"{len(moves)}, {moves[-1] if moves else '-'}", ""),
        (f"leases not moved within {LEASE_MOVE_LIMIT_S:g} s", counts.leases_moved_late, "yes"),
        ("books checked against the sandbox at the same update id", counts.books_checked, ""),
        ("wrong books (SYNCED, different from the truth)", counts.books_wrong, "yes"),
        ("books that never reached the truth's update id in 10 s", counts.books_not_converged, ""),
        ("Redis killed (SIGKILL)", counts.redis_kills, ""),
        ("order calls while Redis was down", counts.orders_while_redis_down, ""),
        ("... refused with a clear error", counts.orders_refused_clearly_redis_down, ""),
        ("orders sent while Redis was down found on the exchange", counts.orders_placed_while_redis_down, "yes"),
        ("reads answered while Redis was down", counts.reads_ok_while_redis_down, ""),
        ("first order placed after Redis came back empty (ms; ~36 s by design)", counts.redis_recovery_ms, ""),
        ("orders sent (client order ids)", counts.orders_sent, ""),
        ("orders found on the exchange", counts.orders_on_exchange, ""),
        ("duplicate orders", counts.duplicate_orders, "yes"),
        ("unaccounted orders (answer contradicted by the exchange)", counts.unaccounted_orders, "yes"),
        ("HTTP 429 answered by the sandbox", counts.responses_429, "yes"),
        ("HTTP 418 answered by the sandbox", counts.responses_418, "yes"),
    ]
    out = [
        f"Command: `{command}`  ",
        f"Replica soak: {counts.clients} MCP clients, 2 gateways, 3 provider replicas, Redis; "
        f"{counts.duration_s:.0f} s in all.",
        "",
        "| count | value | must be zero |",
        "|---|---:|:---:|",
    ]
    out += [f"| {name} | {value} | {zero} |" for name, value, zero in rows]
    if counts.causes:
        out += ["", "Most common clear failures:", ""] + [f"- {n} x {c}" for c, n in counts.causes.items()]
    if counts.examples:
        out += ["", "Examples:", ""] + [f"- {x}" for x in counts.examples]
    problems = counts.problems()
    out += [
        "",
        "Result: " + ("PASS (every must-be-zero count is zero)" if not problems else "FAIL: " + "; ".join(problems)),
    ]
    return "\n".join(out) + "\n"
