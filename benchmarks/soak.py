"""Measured reliability: several MCP clients under injected faults, counted against ground truth.

`scripts/soak --duration-s 60 --clients 4` starts the sandbox (with fault control), the provider,
and one gateway process per client. Each client makes market-data, order-book and trading calls
(small resting orders with its own client order ids: place, get, cancel; a failed place is
retried once with the same id, as an agent would). Meanwhile a schedule arms the sandbox's faults
(`drop_streams`, `gap`, `stall`, `rest_fail` 503 after execution and -1007 before it on
POST /api/v3/order, `weight_limit`, `clock_skew`) and restarts the provider once under load.
Twice (mid-run and at the end) the market is paused and every served SYNCED book is compared with
`GET /sim/book` at the same update id.

A prober client adds the order-safety cases: the same client order id sent twice at once while
the sandbox holds orders (a slow exchange), cap probes that only their worst case puts over the
cap (a SELL priced far below the market, a stop at twice the price), and exact-number checks of
every placed order; the schedule adds late executions inside the recvWindow and -1015 storms.

Counts printed (the must-be-zero ones make the process exit 1, as does a run that checked nothing):
- unclear failures: an exception, a timeout, an empty result, or an error without a cause;
- SYNCED books that differ from the truth at the same update id;
- duplicate orders (a client order id placed more than once, per `GET /sim/orders`);
- unaccounted orders (an answer that said the order exists or not, contradicted by the sandbox;
  or a soak order id the soak never sent);
- HTTP 418 bans (provider logs, tool results, and a probe of the sandbox at the end);
- secrets (the sandbox API secret or private key) found in any log or tool result;
- orders over the cap (a cap probe that was placed or is on the exchange);
- reads refused because of an order limit (a -1015 must hold back new orders only);
- silently changed arguments (a placed order whose sent or executed quantity/price is not what
  was asked, digit for digit);
- live-account divergences: after the user data stream was dropped, terminated and lost events,
  the open orders served from it must equal the sandbox's within 20 s.
Also printed: calls made, failed clearly (with their most common causes), provider RSS growth.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import re
import secrets
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from mcp import ClientSession  # noqa: E402
from mcp_types import CallToolResult, TextContent  # noqa: E402

from benchmarks.procs import gateway_stdio_params, mcp_stdio_session, rss_kib  # noqa: E402
from benchmarks.results_file import write_section  # noqa: E402
from provider.binance.client import BinanceClient  # noqa: E402
from provider.binance.environment import Environment  # noqa: E402
from tests.sim_fixture import SimProcess  # noqa: E402
from tests.stack import ProviderProcess, sandbox_env  # noqa: E402

__all__ = ["SoakCounts", "run_soak"]

SYMBOL = "BTCUSDT"
CAP_USDT = "1000"
_ORDER_LIMIT_WORDS = ("-1015", "too many new orders", "held back", "unfilled orders")
BOOK_SYMBOLS = ("BTCUSDT", "ETHUSDT")
CALL_TIMEOUT_S = 40.0
CONVERGE_S = 10.0
ACCOUNT_CONVERGE_S = 20.0
_RETRY_IN = re.compile(r"(?:retry|re-read) in ([0-9.]+) s")
#: the longest the provider may rightly keep the live account on REST after the weight-limit fault:
#: the exchange's 429 block (up to a window) and then one re-read of a lowered limit (a window later).
ACCOUNT_HELD_AT_MOST_S = 2 * 65.0 + ACCOUNT_CONVERGE_S
BOOK_LEVELS = 100
_GATEWAY_INTERNAL = "failed inside the gateway"


@dataclass
class SoakCounts:
    """What the soak counted; `problems()` lists the must-be-zero counts that are not zero."""

    duration_s: float = 0.0
    clients: int = 0
    calls_made: int = 0
    calls_ok: int = 0
    failed_clearly: int = 0
    failed_unclearly: int = 0
    orders_sent: int = 0
    orders_confirmed_on_exchange: int = 0
    orders_outcome_left_unknown: int = 0
    duplicate_orders: int = 0
    unaccounted_orders: int = 0
    books_checked: int = 0
    books_synced_mismatched: int = 0
    books_not_converged: int = 0
    bans_418: int = 0
    secrets_found: int = 0
    orders_over_cap: int = 0
    cap_probes: int = 0
    same_id_pairs: int = 0
    reads_refused_by_order_limit: int = 0
    arguments_changed: int = 0
    account_checks: int = 0
    account_divergences: int = 0
    account_propagation_ms: list[float] = field(default_factory=list)
    faults_armed: int = 0
    provider_restarts: int = 0
    order_outcomes: dict[str, int] = field(default_factory=dict)
    provider_rss_kib: dict[str, int] = field(default_factory=dict)
    clear_causes: dict[str, int] = field(default_factory=dict)
    unclear_examples: list[str] = field(default_factory=list)
    mismatch_examples: list[str] = field(default_factory=list)
    order_examples: list[str] = field(default_factory=list)
    log_dir: str = ""

    MUST_BE_ZERO = ("failed_unclearly", "books_synced_mismatched", "duplicate_orders", "unaccounted_orders",
                    "bans_418", "secrets_found", "orders_over_cap", "reads_refused_by_order_limit",
                    "arguments_changed", "account_divergences")

    def problems(self) -> list[str]:
        bad = [f"{name} = {getattr(self, name)}" for name in self.MUST_BE_ZERO if getattr(self, name)]
        if self.calls_made == 0:
            bad.append("no call was made")
        if self.books_checked == 0:
            bad.append("no book was checked against the truth")
        if self.orders_sent == 0:
            bad.append("no order was sent")
        if self.cap_probes == 0 or self.same_id_pairs == 0:
            bad.append("the order-safety prober ran no case")
        return bad


@dataclass
class OrderRecord:
    """Every answer the soak got for one client order id (None stands for an error answer or UNKNOWN)."""

    answers: list[bool | None] = field(default_factory=list)
    concurrent: bool = False  # sent twice at once: the answers arrive in no defined order

    def exists(self) -> bool | None:
        """What the answers say the exchange holds under this id, None when they leave it open.

        Sequential calls: the last answer stands. Concurrent calls with one id: the calls run one
        after the other under the id's lock, but their answers may reach the client in either
        order; "not placed" from one call (its request was lost, then found absent) does not
        contradict the other placing it afterwards. So one yes means one order; all no means none.
        """
        if not self.concurrent:
            return self.answers[-1] if self.answers else None
        if any(self.answers):
            return True
        return False if self.answers and all(a is False for a in self.answers) else None


class Soak:
    def __init__(self, sim: SimProcess, provider: ProviderProcess, counts: SoakCounts, run_id: str,
                 log_dir: Path) -> None:
        self.sim = sim
        self.provider = provider
        self.counts = counts
        self.run_id = run_id
        self.log_dir = log_dir
        self.orders: dict[str, OrderRecord] = {}
        self.secrets = secret_needles(sim)
        self.stop = asyncio.Event()
        self.market_gate = asyncio.Event()  # cleared while a book check pauses the market
        self.market_gate.set()
        self.rss: dict[str, int] = {}
        self._causes: collections.Counter[str] = collections.Counter()
        self.last_failure = ""  # the text of the last clear failure, read by the account check

    # -- one tool call, classified -----------------------------------------------------------

    async def call(self, session: ClientSession, tool: str, args: dict[str, Any]) -> dict[str, Any] | None:
        """Call a tool; count it; return the structured result, or None when it failed."""
        self.counts.calls_made += 1
        try:
            async with asyncio.timeout(CALL_TIMEOUT_S):
                result = await session.call_tool(tool, args)
        except Exception as exc:  # the MCP client raised: a protocol error, a timeout, a dead gateway
            self.unclear(f"{tool}: {type(exc).__name__}: {exc}"[:300])
            return None
        text = first_text(result)
        self.scan_for_secrets(text, result)
        if result.is_error:
            if error_without_cause(text):
                self.unclear(f"{tool}: error without a cause: {text!r}"[:300])
            else:
                self.counts.failed_clearly += 1
                self.last_failure = text
                self._causes[cause_of(tool, text)] += 1
                if tool != "binance_place_order" and any(w in text.lower() for w in _ORDER_LIMIT_WORDS):
                    self.counts.reads_refused_by_order_limit += 1
                if "banned" in text.lower() and "418" in text:
                    self.counts.bans_418 += 1
            return None
        if result.structured_content is None or not text.strip():
            self.unclear(f"{tool}: success without content")
            return None
        self.counts.calls_ok += 1
        structured: dict[str, Any] = result.structured_content
        return structured

    def unclear(self, what: str) -> None:
        self.counts.failed_unclearly += 1
        if len(self.counts.unclear_examples) < 10:
            self.counts.unclear_examples.append(what)

    def scan_for_secrets(self, text: str, result: CallToolResult) -> None:
        blob = text + json.dumps(result.structured_content or {})
        self.counts.secrets_found += sum(1 for s in self.secrets if s in blob)

    # -- the clients -------------------------------------------------------------------------

    async def client(self, index: int, errlog: TextIO, call_rate: float) -> None:
        """One agent: a fixed mix of calls, paced at `call_rate` calls/s (a third reach the exchange)."""
        async with mcp_stdio_session(gateway_stdio_params(self.provider.address), errlog) as session:
            await session.list_tools()
            n = 0
            price: Decimal | None = None
            loop = asyncio.get_running_loop()
            next_at = loop.time()
            while not self.stop.is_set():
                next_at = max(next_at + 1 / call_rate, loop.time())
                await asyncio.sleep(max(0.0, next_at - loop.time()))
                n += 1
                step = n % 12
                other = BOOK_SYMBOLS[(n // 12) % 2]
                if step == 0:
                    await self.call(session, "binance_get_ticker", {"symbol": SYMBOL})
                elif step in (1, 6, 10):
                    await self.call(session, "binance_orderbook_l1", {"symbol": other})
                elif step in (2, 8):
                    levels_n = 20 if step == 2 else 100
                    await self.call(session, "binance_orderbook_l2", {"symbol": other, "levels": levels_n})
                elif step == 3:
                    await self.call(session, "binance_get_klines", {"symbol": SYMBOL, "interval": "1m", "limit": 5})
                elif step == 4:
                    await self.call(session, "binance_orderbook_health", {})
                elif step == 5:
                    book = await self.call(session, "binance_get_orderbook", {"symbol": SYMBOL, "limit": 5})
                    if book and book.get("bids"):
                        price = Decimal(book["bids"][0]["price"])
                elif step == 7:
                    await self.call(session, "binance_get_avg_price", {"symbol": SYMBOL})
                elif step == 9 and price is not None:
                    await self.order_round(session, f"soak-{self.run_id}-{index}-{n}", price)
                elif step == 11 and n % 36 == 11:
                    await self.call(session, "binance_get_recent_trades", {"symbol": SYMBOL, "limit": 5})
                else:
                    await self.call(session, "binance_orderbook_health", {})

    async def order_round(self, session: ClientSession, cid: str, bid: Decimal) -> None:
        """Place a small resting order (retry once on an error answer), query it, cancel it."""
        args = {"symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "quantity": "0.001",
                "price": str((bid * Decimal("0.9")).quantize(Decimal("0.01"))), "client_order_id": cid}
        record = self.orders.setdefault(cid, OrderRecord())
        self.counts.orders_sent += 1
        exists: bool | None = None
        for _ in range(2):
            placed = await self.call(session, "binance_place_order", args)
            outcome = "error answer" if placed is None else str(placed.get("outcome"))
            # UNKNOWN says "not there yet, may still execute": neither yes nor no
            exists = None if placed is None or outcome == "UNKNOWN" else bool(placed.get("order_exists"))
            self.counts.order_outcomes[outcome] = self.counts.order_outcomes.get(outcome, 0) + 1
            record.answers.append(exists)
            if placed is not None:
                self.check_exact(args, placed)
            if exists is not None:
                break
        if exists:
            await self.call(session, "binance_get_order", {"symbol": SYMBOL, "client_order_id": cid})
            await self.call(session, "binance_cancel_order", {"symbol": SYMBOL, "client_order_id": cid})

    def check_exact(self, asked: dict[str, str], placed: dict[str, Any]) -> None:
        """The parameters sent, and the order the exchange holds, carry the asked numbers exactly."""
        sent = placed.get("sent") or {}
        order = placed.get("order") or {}
        for ours, wire, held in (("quantity", "quantity", "orig_qty"), ("price", "price", "price")):
            if ours not in asked:
                continue
            changed = (wire in sent and sent[wire] != asked[ours]) or (
                held in order and Decimal(order[held]) != Decimal(asked[ours]))
            if changed:
                self.counts.arguments_changed += 1
                self.order_example(f"{asked.get('client_order_id')}: asked {ours}={asked[ours]}, sent "
                                   f"{sent.get(wire)}, exchange holds {order.get(held)}")

    # -- the order-safety prober -----------------------------------------------------------------

    async def prober(self, errlog: TextIO) -> None:
        """Cap probes and same-id pairs, alternating, about one case every two seconds."""
        async with mcp_stdio_session(gateway_stdio_params(self.provider.address), errlog) as session:
            n = 0
            while not await self.wait_or_stop(2.0):
                n += 1
                book = await self.call(session, "binance_get_orderbook", {"symbol": SYMBOL, "limit": 1})
                if not book or not book.get("bids") or not book.get("asks"):
                    continue
                bid, ask = Decimal(book["bids"][0]["price"]), Decimal(book["asks"][0]["price"])
                if n % 2:
                    await self.cap_probe(session, f"cap-{self.run_id}-{n}", bid, ask, n)
                else:
                    await self.same_id_pair(session, f"soak-{self.run_id}-pair-{n}", bid)

    async def cap_probe(self, session: ClientSession, cid: str, bid: Decimal, ask: Decimal, n: int) -> None:
        """An order whose limit price is under the cap but whose worst case is over it: must be refused."""
        self.counts.cap_probes += 1
        cap = Decimal(CAP_USDT)
        if n % 4 == 1:  # a SELL far below the market fills at the bids
            price = (bid / 4).quantize(Decimal("0.01"))
            qty = (cap * Decimal("0.9") / price).quantize(Decimal("0.00001"))
            args = {"symbol": SYMBOL, "side": "SELL", "type": "LIMIT", "quantity": str(qty), "price": str(price)}
        else:  # a stop-market BUY is worth its stop price, not the average price
            stop = (ask * 2).quantize(Decimal("0.01"))
            qty = (cap * Decimal("0.9") / ask).quantize(Decimal("0.00001"))
            args = {"symbol": SYMBOL, "side": "BUY", "type": "STOP_LOSS", "quantity": str(qty), "stop_price": str(stop)}
        placed = await self.call(session, "binance_place_order", {**args, "client_order_id": cid})
        if placed is not None and placed.get("order_exists"):
            self.counts.orders_over_cap += 1
            self.order_example(f"{cid}: over-cap probe answered {placed.get('outcome')}")

    async def same_id_pair(self, session: ClientSession, cid: str, bid: Decimal) -> None:
        """One client order id sent twice at once while the exchange holds orders: one execution."""
        self.counts.same_id_pairs += 1
        await self.sim.fault("rest_fail", path="/api/v3/order", method="POST", hold_ms=800, times=1)
        args = {"symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "quantity": "0.001",
                "price": str((bid * Decimal("0.9")).quantize(Decimal("0.01"))), "client_order_id": cid}
        record = self.orders.setdefault(cid, OrderRecord(concurrent=True))
        self.counts.orders_sent += 1
        answers = await asyncio.gather(*(self.call(session, "binance_place_order", args) for _ in range(2)))
        for placed in answers:
            outcome = "error answer" if placed is None else str(placed.get("outcome"))
            self.counts.order_outcomes[outcome] = self.counts.order_outcomes.get(outcome, 0) + 1
            # an error answer (e.g. the provider restarted under the call: "outcome unknown") leaves it open
            record.answers.append(None if placed is None or outcome == "UNKNOWN" else bool(placed.get("order_exists")))
            if placed is not None:
                self.check_exact(args, placed)
        if any(a is not None and a.get("order_exists") for a in answers):
            await self.call(session, "binance_cancel_order", {"symbol": SYMBOL, "client_order_id": cid})

    # -- faults and the restart --------------------------------------------------------------

    async def schedule(self, duration_s: float) -> None:
        """Arm each fault at its fraction of the run; restart the provider once, early enough."""
        steps: list[tuple[float, str, dict[str, Any] | None]] = [
            (0.06, "drop_streams", {}),
            (0.12, "rest_fail", {"path": "/api/v3/order", "method": "POST", "status": 503,
                                 "after_execute": True, "times": 2}),
            (0.18, "gap", {"symbol": SYMBOL}),
            (0.24, "rest_fail", {"path": "/api/v3/order", "method": "POST", "code": -1007,
                                 "after_execute": False, "times": 2}),
            (0.27, "rest_fail", {"path": "/api/v3/order", "method": "POST", "code": -1007,
                                 "execute_after_ms": 2500, "times": 2}),
            (0.30, "restart", None),
            (0.42, "book_check", None),
            (0.36, "ws_api_drop", {}),
            (0.50, "ws_api_miss", {"count": 2}),
            (0.55, "stall", {"symbol": SYMBOL, "seconds": 3}),
            (0.66, "ws_api_terminate", {}),
            (0.48, "order_limit", {"limit_10s": 2}),
            (0.53, "order_limit", {"limit_10s": 50}),
            (0.62, "weight_limit", {"limit": 60}),
            (0.72, "clear", {}),
            (0.78, "clock_skew", {"ms": 1500}),
            (0.86, "rest_fail", {"path": "/api/v3/ticker/24hr", "method": "GET", "status": 503, "times": 3}),
            (0.92, "clear", {}),
        ]
        loop = asyncio.get_running_loop()
        start = loop.time()
        for at, kind, params in steps:
            if await self.wait_or_stop(max(0.0, start + at * duration_s - loop.time())):
                return
            if kind == "restart":
                self.sample_rss("before_restart")
                await self.provider.restart()
                self.counts.provider_restarts += 1
                await asyncio.sleep(1.0)  # let the new life warm before sampling
                self.sample_rss("after_restart")
            elif kind == "book_check":
                await self.book_check()
            else:
                await self.sim.fault(kind, **(params or {}))
                self.counts.faults_armed += 1

    async def wait_or_stop(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self.stop.wait(), seconds)
        except TimeoutError:
            return False
        return True

    # -- ground truth --------------------------------------------------------------------------

    async def book_check(self) -> None:
        """Pause the market; every SYNCED book served at the truth's update id must equal the truth."""
        await self.sim.control("POST", "/sim/market", {"running": False})
        try:
            with self.log_dir.joinpath("book-check-gateway.log").open("a") as errlog:
                async with mcp_stdio_session(gateway_stdio_params(self.provider.address), errlog) as session:
                    for symbol in BOOK_SYMBOLS:
                        await self.check_symbol(session, symbol)
        finally:
            await self.sim.control("POST", "/sim/market", {"running": True})

    async def check_symbol(self, session: ClientSession, symbol: str) -> None:
        deadline = time.monotonic() + CONVERGE_S
        served: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            truth = await self.sim.ground_truth(symbol)
            served = await self.call(session, "binance_orderbook_l2", {"symbol": symbol, "levels": BOOK_LEVELS})
            if served and served["book"]["state"] == "SYNCED" \
                    and int(served["book"]["last_update_id"]) == int(truth["lastUpdateId"]):
                self.counts.books_checked += 1
                for side in ("bids", "asks"):
                    if levels(served[side], BOOK_LEVELS) != levels(truth[side], BOOK_LEVELS):
                        self.counts.books_synced_mismatched += 1
                        self.counts.mismatch_examples.append(
                            f"{symbol} {side} at {truth['lastUpdateId']}: served {levels(served[side], 3)} "
                            f"truth {levels(truth[side], 3)}")
                        break
                return
            await asyncio.sleep(0.1)
        self.counts.books_not_converged += 1
        self.counts.mismatch_examples.append(f"{symbol} never served SYNCED at the truth's update id: "
                                             f"{served['book'] if served else None}")

    async def account_check(self) -> None:
        """After convergence, the open orders served from the live account equal the exchange's.

        Convergence is due ACCOUNT_CONVERGE_S after the last rate-limit hold the tools or the stream
        itself reported (the stream waits for the exchange's retry time and for a lowered limit to
        be re-read), never later than ACCOUNT_HELD_AT_MOST_S."""
        with self.log_dir.joinpath("account-check-gateway.log").open("a") as errlog:
            async with mcp_stdio_session(gateway_stdio_params(self.provider.address), errlog) as session:
                deadline = time.monotonic() + ACCOUNT_CONVERGE_S
                latest = time.monotonic() + ACCOUNT_HELD_AT_MOST_S
                while True:
                    self.last_failure = ""
                    served = await self.call(session, "binance_get_open_orders", {"symbol": SYMBOL})
                    deadline = max(deadline, min(self.after_rate_limit_hold(self.last_failure), latest))
                    truth = await self.sim_open_orders()
                    ids = {int(o["order_id"]) for o in served["orders"]} if served else None
                    source = served["freshness"]["source"] if served else None
                    if ids == truth and source == "stream":
                        self.counts.account_checks += 1
                        await self.propagation(session)
                        return
                    if time.monotonic() > deadline:
                        health = await self.call(session, "binance_account_stream_health", {})
                        held = self.after_rate_limit_hold((health or {}).get("last_error", ""))
                        if (health or {}).get("phase") != "LIVE" and min(held, latest) > deadline:
                            deadline = min(held, latest)
                            continue
                        self.counts.account_divergences += 1
                        self.order_example(f"live account never converged: served {ids} ({source}), truth {truth}; "
                                           f"stream {health}")
                        return
                    await asyncio.sleep(0.5)

    @staticmethod
    def after_rate_limit_hold(failure: str) -> float:
        """When a refusal names when to retry (a 429 holds requests until its window ends, up to a
        minute, after the weight-limit fault; a lowered limit is re-read a window later),
        convergence is due that long later."""
        held = _RETRY_IN.search(failure)
        if held is None:
            return 0.0
        return time.monotonic() + min(float(held.group(1)), 65.0) + ACCOUNT_CONVERGE_S

    async def propagation(self, session: ClientSession, rounds: int = 5) -> None:
        """How long an order placed by another client takes to show in get_open_orders (from the stream)."""
        env = Environment.custom(self.sim.info.rest_url, self.sim.info.ws_url, name="sandbox")
        other = await BinanceClient.create(env, self.sim.info.api_key, self.sim.info.api_secret)
        try:
            avg = Decimal((await other.avg_price(SYMBOL)).data["price"])
            price = str((avg * Decimal("0.85")).quantize(Decimal("0.01")))
            for _ in range(rounds):
                placed = (await other.new_order({"symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                                                 "quantity": "0.001", "price": price})).data
                started = time.perf_counter()
                while time.perf_counter() - started < ACCOUNT_CONVERGE_S:
                    served = await session.call_tool("binance_get_open_orders", {"symbol": SYMBOL})
                    ids = {int(o["order_id"]) for o in (served.structured_content or {}).get("orders", [])}
                    if int(placed["orderId"]) in ids:
                        self.counts.account_propagation_ms.append(round((time.perf_counter() - started) * 1000, 1))
                        break
                await other.cancel_order(SYMBOL, order_id=placed["orderId"])
        finally:
            await other.close()

    async def sim_open_orders(self) -> set[int]:
        body = await self.sim.control("GET", f"/sim/orders?symbol={SYMBOL}")
        return {int(o["orderId"]) for o in body["orders"] if o["status"] in ("NEW", "PARTIALLY_FILLED")}

    async def reconcile_orders(self) -> None:
        body = await self.sim.control("GET", f"/sim/orders?symbol={SYMBOL}")
        rows = body["orders"] if isinstance(body, dict) else body
        on_exchange = collections.Counter(str(o["clientOrderId"]) for o in rows)
        prefix = f"soak-{self.run_id}-"
        for cid in on_exchange:
            if cid.startswith(prefix) and cid not in self.orders:
                self.counts.unaccounted_orders += 1
                self.order_example(f"{cid} is on the exchange but was never sent")
        over = [cid for cid in on_exchange if cid.startswith(f"cap-{self.run_id}-")]
        self.counts.orders_over_cap += len(over)
        for cid in over:
            self.order_example(f"{cid}: an over-cap probe is on the exchange")
        for cid, record in self.orders.items():
            count = on_exchange.get(cid, 0)
            if count > 1:
                self.counts.duplicate_orders += 1
                self.order_example(f"{cid} placed {count} times; answers {record.answers}")
            if count:
                self.counts.orders_confirmed_on_exchange += 1
            last = record.exists()
            if last is None:
                self.counts.orders_outcome_left_unknown += 1
            elif last != (count > 0):
                self.counts.unaccounted_orders += 1
                self.order_example(f"{cid}: answered order_exists={last} (answers {record.answers}), "
                                   f"exchange has {count}")

    def order_example(self, text: str) -> None:
        if len(self.counts.order_examples) < 10:
            self.counts.order_examples.append(text)

    async def probe_ban(self) -> None:
        async with aiohttp.ClientSession() as http, http.get(self.sim.info.rest_url + "/api/v3/ping") as r:
            if r.status == 418:
                self.counts.bans_418 += 1

    def sample_rss(self, label: str) -> None:
        if self.provider.proc is not None:
            self.rss[label] = rss_kib(self.provider.proc.pid)

    def finish_causes(self) -> None:
        self.counts.clear_causes = dict(self._causes.most_common(12))


def error_without_cause(text: str) -> bool:
    """An error answer that names no cause (empty, or the gateway's own internal failure): unclear."""
    return not text.strip() or _GATEWAY_INTERNAL in text


def first_text(result: CallToolResult) -> str:
    return next((c.text for c in result.content if isinstance(c, TextContent)), "")


def cause_of(tool: str, text: str) -> str:
    """A short, number-free label of an error text, to group the clear failures."""
    line = text.strip().splitlines()[0]
    line = re.sub(r"\d+(\.\d+)?", "N", line)
    return f"{tool}: {line[:110]}"


def levels(raw: list[Any], n: int) -> list[tuple[Decimal, Decimal]]:
    out = []
    for level in raw[:n]:
        if isinstance(level, dict):
            out.append((Decimal(level["price"]), Decimal(level["quantity"])))
        else:
            out.append((Decimal(level[0]), Decimal(level[1])))
    return out


def secret_needles(sim: SimProcess) -> list[str]:
    """The sandbox's API secret and the body lines of its Ed25519 private key."""
    needles = [sim.info.api_secret]
    try:
        pem = Path(sim.info.ed25519_private_key_file).read_text()
        needles += [line for line in pem.splitlines() if line and not line.startswith("-----")]
    except OSError:
        pass
    return [n for n in needles if len(n) >= 16]


def count_in_logs(paths: list[Path], needles: list[str]) -> int:
    found = 0
    for path in paths:
        if path.exists():
            text = path.read_text(errors="replace")
            found += sum(text.count(n) for n in needles)
    return found


def count_bans_in_provider_log(text: str) -> int:
    bans = 0
    for line in text.splitlines():
        if '"IpBanned"' in line and "binance_call_failed" in line:
            bans += 1
    return bans


async def run_soak(duration_s: float = 60.0, clients: int = 4, rate: float = 50.0,
                   call_rate: float = 10.0) -> SoakCounts:
    """Run the soak; bounded by `duration_s` of load plus start, checks and teardown."""
    counts = SoakCounts(clients=clients)
    log_dir = Path(tempfile.mkdtemp(prefix="soak-"))
    counts.log_dir = str(log_dir)
    started = time.perf_counter()
    sim = await SimProcess.start("--faults", "--rate", str(rate))
    provider_logs: list[Path] = []
    try:
        await sim.control("POST", "/sim/balances", {"asset": "USDT", "free": "10000000"})
        provider = await ProviderProcess.start(sandbox_env(
            sim.info, trading=True, BINANCE_MAX_ORDER_NOTIONAL=CAP_USDT, PROVIDER_ACCOUNT_RESYNC_S="10"))
        provider_logs += [provider.log_path, provider.log_path.with_suffix(".audit")]
        soak = Soak(sim, provider, counts, secrets.token_hex(3), log_dir)
        try:
            errlogs = [log_dir.joinpath(f"gateway-{i}.log").open("w") for i in range(clients + 1)]
            try:
                tasks = [asyncio.create_task(soak.client(i, errlogs[i], call_rate)) for i in range(clients)]
                tasks.append(asyncio.create_task(soak.prober(errlogs[clients])))
                await asyncio.sleep(1.0)
                soak.sample_rss("start")
                scheduler = asyncio.create_task(soak.schedule(duration_s))
                await soak.wait_or_stop(duration_s)
                soak.stop.set()
                await scheduler
                for t in await asyncio.gather(*tasks, return_exceptions=True):
                    if isinstance(t, BaseException):
                        soak.unclear(f"client crashed: {type(t).__name__}: {t}"[:300])
            finally:
                for f in errlogs:
                    f.close()
            await sim.fault("clear")
            soak.sample_rss("end")
            await soak.book_check()
            await soak.account_check()
            await soak.reconcile_orders()
            await soak.probe_ban()
        finally:
            await provider.stop()
        soak.finish_causes()
        logs = provider.logs()
        counts.bans_418 += count_bans_in_provider_log(logs)
        gateway_logs = [log_dir / f"gateway-{i}.log" for i in range(clients + 1)] + [
            log_dir / "book-check-gateway.log", log_dir / "account-check-gateway.log"]
        counts.secrets_found += count_in_logs(provider_logs + gateway_logs, soak.secrets)
        counts.provider_rss_kib = soak.rss
    finally:
        await sim.stop()
    counts.duration_s = round(time.perf_counter() - started, 1)
    return counts


def render(counts: SoakCounts, command: str) -> str:
    out = [f"Command: `{command}`  ", f"Soak: {counts.clients} MCP clients (one gateway process each), "
           f"{counts.duration_s:.0f} s in all, {counts.faults_armed} faults armed, "
           f"{counts.provider_restarts} provider restart(s) under load.", "",
           "| count | value | must be zero |", "|---|---:|:---:|"]
    rows = [
        ("calls made", counts.calls_made, ""),
        ("calls answered", counts.calls_ok, ""),
        ("failed with a clear error (isError with a cause)", counts.failed_clearly, ""),
        ("failed unclearly (exception, timeout, empty, no cause)", counts.failed_unclearly, "yes"),
        ("orders sent (distinct client order ids)", counts.orders_sent, ""),
        ("orders found on the exchange", counts.orders_confirmed_on_exchange, ""),
        ("orders answered only with errors (refused, or outcome unknown)", counts.orders_outcome_left_unknown, ""),
        ("duplicate orders (one client id placed twice)", counts.duplicate_orders, "yes"),
        ("unaccounted orders (answer contradicted by the exchange)", counts.unaccounted_orders, "yes"),
        ("books checked against GET /sim/book at the same update id", counts.books_checked, ""),
        ("books served SYNCED that mismatched the truth", counts.books_synced_mismatched, "yes"),
        ("books that never reached the truth's update id in 10 s", counts.books_not_converged, ""),
        ("418 bans", counts.bans_418, "yes"),
        ("secrets found in logs or results", counts.secrets_found, "yes"),
        ("cap probes (orders whose worst case only is over the cap)", counts.cap_probes, ""),
        ("orders over the cap (a probe placed or on the exchange)", counts.orders_over_cap, "yes"),
        ("same client order id sent twice at once", counts.same_id_pairs, ""),
        ("reads refused because of an order limit", counts.reads_refused_by_order_limit, "yes"),
        ("silently changed arguments", counts.arguments_changed, "yes"),
        ("live-account checks against the exchange's open orders", counts.account_checks, ""),
        ("live-account divergences after convergence", counts.account_divergences, "yes"),
    ]
    out += [f"| {name} | {value} | {zero} |" for name, value, zero in rows]
    if counts.account_propagation_ms:
        ms = sorted(counts.account_propagation_ms)
        out += ["", f"Live account: an order placed by another client showed in get_open_orders (from the stream) "
                f"after {ms[len(ms) // 2]} ms median, {ms[-1]} ms at most ({len(ms)} orders, each read through "
                "a gateway: the figure includes one MCP call)."]
    if counts.order_outcomes:
        out += ["", "place_order answers: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.order_outcomes.items()))]
    rss = counts.provider_rss_kib
    if rss:
        out += ["", "Provider RSS (KiB): " + ", ".join(f"{k} {v}" for k, v in rss.items())]
        if "start" in rss and "before_restart" in rss:
            out.append(f"growth in the first life: {rss['before_restart'] - rss['start']:+d} KiB; ")
        if "after_restart" in rss and "end" in rss:
            out.append(f"growth in the second life: {rss['end'] - rss['after_restart']:+d} KiB.")
    if counts.clear_causes:
        out += ["", "Most common clear failures:", ""]
        out += [f"- {n} x {cause}" for cause, n in counts.clear_causes.items()]
    for title, items in (("Unclear failures", counts.unclear_examples),
                         ("Book mismatches / non-convergence", counts.mismatch_examples),
                         ("Order problems", counts.order_examples)):
        if items:
            out += ["", f"{title}:", ""] + [f"- {x}" for x in items]
    problems = counts.problems()
    out += ["", "Result: " + ("PASS (every must-be-zero count is zero)" if not problems
                              else "FAIL: " + "; ".join(problems))]
    out.append(f"Logs: {counts.log_dir}")
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration-s", type=float, default=60.0, help="seconds of load (default 60)")
    parser.add_argument("--clients", type=int, default=4, help="MCP clients, each with its own gateway")
    parser.add_argument("--rate", type=float, default=50.0, help="sandbox market events/s per symbol")
    parser.add_argument("--call-rate", type=float, default=10.0,
                        help="calls/s per client (default 10; about a third reach the exchange)")
    parser.add_argument("--json", type=Path, help="also write the counts as JSON")
    parser.add_argument("--write", type=Path, help="also write the counts into this markdown file's soak section")
    parser.add_argument("--replicas", action="store_true",
                        help="the replica soak instead: 2 gateways, 3 providers, Redis; kills the ingesting "
                             "replica, then Redis (benchmarks/soak_replicas.py; --duration-s default 30)")
    args = parser.parse_args()
    if args.replicas:
        return replica_main(args)
    if args.duration_s <= 0 or args.duration_s > 3600 or not 1 <= args.clients <= 32:
        parser.error("--duration-s must be in (0, 3600] and --clients in [1, 32]")
    counts = asyncio.run(run_soak(args.duration_s, args.clients, args.rate, args.call_rate))
    text = render(counts, "scripts/soak " + " ".join(sys.argv[1:]))
    print(text)
    if args.write:
        kept = "\n".join(line for line in text.splitlines() if not line.startswith("Logs: "))
        write_section(args.write, "soak", "Reliability (`scripts/soak`, see `benchmarks/soak.py`)", kept)
    if args.json:
        args.json.write_text(json.dumps(asdict(counts), indent=1))
    return 1 if counts.problems() else 0


def replica_main(args: argparse.Namespace) -> int:
    """`--replicas`: run benchmarks/soak_replicas.py's soak with this command line's bounds."""
    from benchmarks.soak_replicas import render_replicas, run_replica_soak

    duration = args.duration_s if "--duration-s" in sys.argv else 30.0
    rate = args.rate if "--rate" in sys.argv else 20.0
    counts = asyncio.run(run_replica_soak(duration, args.clients, rate))
    text = render_replicas(counts, "scripts/soak " + " ".join(sys.argv[1:]))
    print(text)
    if args.write:
        write_section(args.write, "soak-replicas", "Replica soak (`scripts/soak --replicas`)", text)
    if args.json:
        args.json.write_text(json.dumps(asdict(counts), indent=1))
    return 1 if counts.problems() else 0


if __name__ == "__main__":
    sys.exit(main())
