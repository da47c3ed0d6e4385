"""Measured speed: every figure next to a reference measured in the same run (`scripts/bench`).

Starts the sandbox, the provider and the gateway as the end-to-end tests do, plus two floors:
a bare grpc.aio server (health Check only) and a trivial MCP SDK server (one tool). Prints
markdown tables: latency (p50/p99, calls/s at concurrency 1 and 64) of direct gRPC calls, of the
same calls through the gateway (stdio and Streamable HTTP), the order-book core against
python-binance's DepthCache, cold paths, and the size of every tool's result.

    scripts/bench                 # default counts, a few minutes on 2 cores
    scripts/bench --quick         # a fifth of the calls, one cold start each
    scripts/bench --write benchmarks/RESULTS.md
    scripts/bench --only stdio,http --calls l1   # only some sections, only the calls named so

Sections (`--only`): direct (gRPC rows), stdio and http (the gateway on that transport; for the cached
L1, the gateway, the MCP SDK floor's echo, the floor answering the gateway's own L1 result and the same
call straight to the provider take turns, so the load of a shared machine falls on all alike), sizes,
cold, orderbook.

Figures depend on the machine; the ratios to the floors are what carry over.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import grpc  # noqa: E402
from google.protobuf import struct_pb2  # noqa: E402
from grpc_health.v1 import health_pb2, health_pb2_grpc  # noqa: E402
from mcp import ClientSession  # noqa: E402
from mcp_types import CallToolResult, TextContent  # noqa: E402

from benchmarks.load import Stats, measure, measure_interleaved  # noqa: E402
from benchmarks.procs import (  # noqa: E402
    EchoServer,
    describe_machine,
    gateway_stdio_params,
    http_server,
    mcp_floor_params,
    mcp_http_session,
    mcp_stdio_session,
    start_provider_timed,
)
from benchmarks.results_file import write_section  # noqa: E402
from contracts.binance.v1 import market_pb2, market_pb2_grpc, orderbook_pb2, orderbook_pb2_grpc  # noqa: E402
from contracts.provider.v1 import provider_pb2, provider_pb2_grpc  # noqa: E402
from gateway.names import portable_name  # noqa: E402
from tests.sim_fixture import SimProcess  # noqa: E402
from tests.stack import ProviderProcess, sandbox_env  # noqa: E402

SYMBOL = "BTCUSDT"
L1 = "orderbook_l1 (cached)"
NEW_SYMBOLS = ("ETHUSDT", "BNBUSDT", "ETHBTC", "SHIBUSDT", "DOGEBTC")

#: the calls measured on every path: (label, canonical tool name, arguments); MCP calls use its
#: portable form (binance_orderbook_l1), the name the gateway lists by default
CALLS: list[tuple[str, str, dict[str, Any]]] = [
    ("orderbook_l1 (cached)", "binance.orderbook_l1", {"symbol": SYMBOL}),
    ("orderbook_l2 20", "binance.orderbook_l2", {"symbol": SYMBOL, "levels": 20}),
    ("orderbook_l2 100", "binance.orderbook_l2", {"symbol": SYMBOL, "levels": 100}),
    ("orderbook_health", "binance.orderbook_health", {}),
    ("get_ticker (sandbox REST)", "binance.get_ticker", {"symbol": SYMBOL}),
]


@dataclass
class Row:
    path: str
    call: str
    stats: Stats


@dataclass
class Report:
    machine: dict[str, Any]
    command: str
    rows: list[Row] = field(default_factory=list)
    cold: list[tuple[str, str, float, float]] = field(default_factory=list)  # what, reference, ms, ref ms
    sizes: list[tuple[str, int, int, str]] = field(default_factory=list)  # tool, text, json, note
    orderbook_core: str = ""
    orderbook: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0

    def p50(self, path: str, call: str, concurrency: int = 1) -> float:
        for r in self.rows:
            if r.path == path and r.call == call and r.stats.concurrency == concurrency:
                return r.stats.p50_us
        return float("nan")

    def rate(self, path: str, call: str, concurrency: int) -> float:
        for r in self.rows:
            if r.path == path and r.call == call and r.stats.concurrency == concurrency:
                return r.stats.calls_per_s
        return float("nan")


SECTIONS = ("direct", "stdio", "http", "sizes", "cold", "orderbook", "replicas")


@dataclass(frozen=True)
class Plan:
    """What this run measures: sections (`--only`) and calls (`--calls`, substrings of the labels)."""

    sections: frozenset[str]
    call_filter: tuple[str, ...]

    def wants(self, section: str) -> bool:
        return section in self.sections

    def calls(self) -> list[tuple[str, str, dict[str, Any]]]:
        if not self.call_filter:
            return CALLS
        return [c for c in CALLS if any(f in c[0] for f in self.call_filter)]

    @classmethod
    def of(cls, args: argparse.Namespace) -> Plan:
        sections = frozenset(s.strip() for s in args.only.split(",") if s.strip()) if args.only else frozenset(SECTIONS)
        unknown = sections - set(SECTIONS)
        if unknown:
            raise SystemExit(f"--only: unknown sections {sorted(unknown)}; known: {', '.join(SECTIONS)}")
        calls = tuple(c.strip() for c in args.calls.split(",") if c.strip()) if args.calls else ()
        return cls(sections, calls)


@dataclass(frozen=True)
class Counts:
    grpc: int
    mcp: int
    rest: int
    cold: int
    ob_events: int

    @classmethod
    def of(cls, args: argparse.Namespace) -> Counts:
        scale = 0.2 if args.quick else 1.0
        return cls(grpc=max(100, int(args.grpc_calls * scale)), mcp=max(50, int(args.mcp_calls * scale)),
                   rest=max(50, int(args.rest_calls * scale)), cold=1 if args.quick else args.cold_runs,
                   ob_events=max(2000, int(args.ob_events * scale)))


# -- direct gRPC ---------------------------------------------------------------------------


def make_stub(cls: Any, channel: grpc.aio.Channel) -> Any:
    """A generated stub (the generated classes carry no annotations)."""
    return cls(channel)


def typed_calls(channel: grpc.aio.Channel) -> dict[str, Callable[[], Awaitable[object]]]:
    book = make_stub(orderbook_pb2_grpc.OrderBookStub, channel)
    market = make_stub(market_pb2_grpc.MarketDataStub, channel)
    return {
        "orderbook_l1 (cached)": lambda: book.GetL1(orderbook_pb2.GetL1Request(symbol=SYMBOL)),
        "orderbook_l2 20": lambda: book.GetL2(orderbook_pb2.GetL2Request(symbol=SYMBOL, levels=20)),
        "orderbook_l2 100": lambda: book.GetL2(orderbook_pb2.GetL2Request(symbol=SYMBOL, levels=100)),
        "orderbook_health": lambda: book.GetHealth(orderbook_pb2.GetHealthRequest()),
        "get_ticker (sandbox REST)": lambda: market.GetTicker(market_pb2.GetTickerRequest(symbol=SYMBOL)),
    }


def invoke_call(channel: grpc.aio.Channel, tool: str, arguments: dict[str, Any]) -> Callable[[], Awaitable[object]]:
    stub = make_stub(provider_pb2_grpc.ProviderStub, channel)
    args = struct_pb2.Struct()
    args.update(arguments)
    request = provider_pb2.InvokeToolRequest(name=tool, arguments=args)

    async def call() -> object:
        reply = await stub.InvokeTool(request)
        if reply.is_error:
            raise RuntimeError(reply.text)
        return reply

    return call


def health_call(channel: grpc.aio.Channel) -> Callable[[], Awaitable[object]]:
    stub = health_pb2_grpc.HealthStub(channel)
    request = health_pb2.HealthCheckRequest(service="")
    return lambda: stub.Check(request)


async def warm_book(channel: grpc.aio.Channel, symbol: str, timeout_s: float = 30.0) -> Any:
    """Request the book, then wait until it is served SYNCED from the stream."""
    stub = make_stub(orderbook_pb2_grpc.OrderBookStub, channel)
    deadline = time.monotonic() + timeout_s
    while True:
        reply = await stub.GetL2(orderbook_pb2.GetL2Request(symbol=symbol, levels=5))
        if reply.book.state == "SYNCED" and reply.book.source == "stream":
            return reply
        if time.monotonic() > deadline:
            raise TimeoutError(f"{symbol} not SYNCED from the stream: {reply.book}")
        await asyncio.sleep(0.05)


async def bench_direct(report: Report, provider: ProviderProcess, echo: EchoServer, counts: Counts,
                       plan: Plan) -> None:
    """The gRPC rows: floors, typed RPCs and InvokeTool."""
    async with grpc.aio.insecure_channel(echo.address) as ech, grpc.aio.insecure_channel(provider.address) as ch:
        await warm_book(ch, SYMBOL)
        rows: list[tuple[str, str, Callable[[], Awaitable[object]], int]] = [
            ("floor: bare grpc.aio", "health Check", health_call(ech), counts.grpc),
            ("provider gRPC (typed)", "health Check", health_call(ch), counts.grpc),
        ]
        labels = {label for label, _, _ in plan.calls()}
        for label, call in typed_calls(ch).items():
            if label in labels:
                rows.append(("provider gRPC (typed)", label, call, counts.rest if "REST" in label else counts.grpc))
        for label, tool, arguments in plan.calls():
            n = counts.rest if "REST" in label else counts.grpc
            rows.append(("provider gRPC (InvokeTool)", label, invoke_call(ch, tool, arguments), n))
        # typed vs InvokeTool for L2 100 is a target: those two take turns (a shared machine's load varies)
        pair = [r for r in rows if r[1] == "orderbook_l2 100" and r[0] != "floor: bare grpc.aio"]
        for path, label, call, n in rows:
            if len(pair) == 2 and (path, label, call, n) in pair:
                continue
            for concurrency in (1, 64):
                stats = await measure(call, calls=n, concurrency=concurrency)
                report.rows.append(Row(path, label, stats))
                log_row(path, label, stats)
        if len(pair) == 2:
            for concurrency, rounds in ((1, 10), (64, 4)):
                measured = await measure_interleaved({path: call for path, _, call, _ in pair}, n=pair[0][3],
                                                     concurrency=concurrency, rounds=rounds)
                for path, stats in measured.items():
                    report.rows.append(Row(path, "orderbook_l2 100", stats))
                    log_row(path, "orderbook_l2 100", stats)


# -- through MCP -----------------------------------------------------------------------------


def first_text(result: CallToolResult) -> str:
    return next((c.text for c in result.content if isinstance(c, TextContent)), "")


def mcp_call(session: ClientSession, tool: str, arguments: dict[str, Any]) -> Callable[[], Awaitable[object]]:
    async def call() -> object:
        result = await session.call_tool(tool, arguments)
        if result.is_error:
            raise RuntimeError(first_text(result) or "empty error")
        return result

    return call


async def bench_mcp_calls(report: Report, path: str, session: ClientSession, counts: Counts,
                          calls: list[tuple[str, str, dict[str, Any]]]) -> None:
    for label, tool, arguments in calls:
        n = counts.rest // 2 if "REST" in label else counts.mcp
        for concurrency in (1, 64):
            stats = await measure(mcp_call(session, portable_name(tool), arguments), calls=n,
                                  concurrency=concurrency, warmup=20)
            report.rows.append(Row(path, label, stats))
            log_row(path, label, stats)


REPLAYED = "L1 result replayed"


async def capture_l1(session: ClientSession, log_dir: Path) -> Path:
    """The gateway's cached-L1 tool and one result as JSON, for the floor that replays them: the same
    payload and the same output schema (which the client SDK checks every result against), no gateway."""
    name = portable_name("binance.orderbook_l1")
    tool = next(t for t in (await session.list_tools()).tools if t.name == name)
    result = await session.call_tool(name, {"symbol": SYMBOL})
    path = log_dir / "l1-result.json"
    path.write_text(json.dumps({"tool": tool.model_dump(by_alias=True, mode="json", exclude_none=True),
                                "result": result.model_dump(by_alias=True, mode="json", exclude_none=True)}))
    return path


async def bench_shares(report: Report, transport: str, floor: ClientSession, replay: ClientSession,
                       gateway: ClientSession, direct: Callable[[], Awaitable[object]], counts: Counts) -> None:
    """The rows of the gateway's own share, measured taking turns so that the load of a shared machine
    falls on all of them alike: the SDK floor's echo, the floor answering the gateway's L1 result, the
    gateway's cached L1, and the same call straight to the provider (InvokeTool)."""
    paths = {
        (f"floor: MCP SDK {transport}", "echo tool"): mcp_call(floor, "echo", {"text": "x"}),
        (f"floor: MCP SDK {transport}", REPLAYED): mcp_call(replay, "replay", {"symbol": SYMBOL}),
        (f"gateway MCP {transport}", L1): mcp_call(gateway, portable_name("binance.orderbook_l1"), {"symbol": SYMBOL}),
        (f"provider gRPC (InvokeTool), beside {transport}", L1): direct,
    }
    for concurrency, rounds in ((1, 10), (64, 4)):
        measured = await measure_interleaved({f"{p}|{c}": call for (p, c), call in paths.items()}, n=counts.mcp,
                                             concurrency=concurrency, rounds=rounds)
        for key, stats in measured.items():
            path, call = key.split("|")
            report.rows.append(Row(path, call, stats))
            log_row(path, call, stats)


async def bench_gateway(report: Report, provider: ProviderProcess, counts: Counts, plan: Plan,
                        log_dir: Path) -> None:
    shares = any(label == L1 for label, _, _ in plan.calls())
    rest = [c for c in plan.calls() if c[0] != L1]
    async with grpc.aio.insecure_channel(provider.address) as channel:
        direct = invoke_call(channel, "binance.orderbook_l1", {"symbol": SYMBOL})
        if plan.wants("stdio"):
            with (log_dir / "gateway-stdio.log").open("w") as errlog:
                async with mcp_stdio_session(gateway_stdio_params(provider.address), errlog) as gateway:
                    await gateway.list_tools()
                    await bench_mcp_calls(report, "gateway MCP stdio", gateway, counts, rest)
                    if shares:
                        stored = await capture_l1(gateway, log_dir)
                        async with (mcp_stdio_session(mcp_floor_params(), errlog) as floor,
                                    mcp_stdio_session(mcp_floor_params("--replay", str(stored)), errlog) as replay):
                            await floor.list_tools()
                            await replay.list_tools()
                            await bench_shares(report, "stdio", floor, replay, gateway, direct, counts)
        if plan.wants("http"):
            floor_args = [str(ROOT / "benchmarks" / "mcp_floor_server.py"), "--http"]
            gw_args = ["-m", "gateway", "--provider", f"binance={provider.address}", "--transport", "http",
                       "--listen", "127.0.0.1:0", "--max-concurrency-per-client", "256"]
            async with http_server(gw_args, log_dir / "gateway-http.log") as url, mcp_http_session(url) as gateway:
                await gateway.list_tools()
                await bench_mcp_calls(report, "gateway MCP HTTP", gateway, counts, rest)
                if shares:
                    stored = await capture_l1(gateway, log_dir)
                    async with (http_server(floor_args, log_dir / "mcp-floor-http.log") as floor_url,
                                http_server([*floor_args, "--replay", str(stored)],
                                            log_dir / "mcp-floor-http-replay.log") as replay_url,
                                mcp_http_session(floor_url) as floor, mcp_http_session(replay_url) as replay):
                        await floor.list_tools()
                        await replay.list_tools()
                        await bench_shares(report, "HTTP", floor, replay, gateway, direct, counts)


# -- cold paths ------------------------------------------------------------------------------


#: the packages the provider and the gateway load, compiled before their cold starts are timed
COMPILED_PACKAGES = ("common", "contracts", "gateway", "provider", "provider_kit")


def compile_sources() -> None:
    """Writes the bytecode of our packages before their cold starts are timed, as installing them does.

    The floors load compiled bytecode (grpc and the MCP SDK are installed) and so does a deployed
    provider (`pip install` compiles; deploy/README.md). A source tree run with
    PYTHONDONTWRITEBYTECODE set (the deploy units and these sessions set it) never writes ours, so
    every module edited since its .pyc was written was compiled again at each start (42 modules,
    about 130 ms of CPU, on 2026-12-02): the row measured how much code had changed, not the start.
    """
    for package in COMPILED_PACKAGES:
        compileall.compile_dir(ROOT / package, quiet=1)


async def bench_cold(report: Report, sim: SimProcess, env: dict[str, str], counts: Counts, log_dir: Path) -> None:
    compile_sources()
    provider_s: list[float] = []
    echo_s: list[float] = []
    gateway_s: list[float] = []
    floor_s: list[float] = []
    first_l1: list[float] = []
    snapshot: list[float] = []
    with (log_dir / "gateway-cold.log").open("w") as errlog:
        for i in range(counts.cold):
            echo = await EchoServer.start()
            echo_s.append(echo.startup_s)
            await echo.stop()
            provider, startup = await start_provider_timed(env)
            provider_s.append(startup)
            try:
                start = time.perf_counter()
                async with mcp_stdio_session(gateway_stdio_params(provider.address), errlog) as session:
                    await session.list_tools()
                    gateway_s.append(time.perf_counter() - start)
                start = time.perf_counter()
                async with mcp_stdio_session(mcp_floor_params(), errlog) as session:
                    await session.list_tools()
                    floor_s.append(time.perf_counter() - start)
                symbol = NEW_SYMBOLS[i % len(NEW_SYMBOLS)]
                async with grpc.aio.insecure_channel(provider.address) as ch:
                    stub = make_stub(orderbook_pb2_grpc.OrderBookStub, ch)
                    await stub.GetHealth(orderbook_pb2.GetHealthRequest())  # channel connected
                    start = time.perf_counter()
                    reply = await stub.GetL1(orderbook_pb2.GetL1Request(symbol=symbol))
                    first_l1.append(time.perf_counter() - start)
                    if i == 0:
                        report.notes.append(f"first L1 of a new symbol is answered from source "
                                            f"'{reply.book.source}' in state {reply.book.state}")
                async with aiohttp.ClientSession() as http:
                    start = time.perf_counter()
                    async with http.get(f"{sim.info.rest_url}/api/v3/depth",
                                        params={"symbol": symbol, "limit": "1000"}) as r:
                        await r.read()
                    snapshot.append(time.perf_counter() - start)
            finally:
                await provider.stop()
    med = statistics.median
    report.cold += [
        ("provider start to SERVING", "bare grpc.aio server start to SERVING", med(provider_s) * 1e3,
         med(echo_s) * 1e3),
        ("gateway start to tools listed (stdio)", "MCP SDK floor start to tools listed", med(gateway_s) * 1e3,
         med(floor_s) * 1e3),
        ("first L1 of a new symbol", "one REST depth snapshot (limit 1000) from the sandbox", med(first_l1) * 1e3,
         med(snapshot) * 1e3),
    ]


# -- output sizes ----------------------------------------------------------------------------


async def bench_sizes(report: Report, session: ClientSession) -> None:
    def size(result: Any) -> tuple[int, int]:
        text = "".join(c.text for c in result.content if isinstance(c, TextContent))
        structured = result.structured_content
        blob = json.dumps(structured, separators=(",", ":")) if structured is not None else ""
        return len(text.encode()), len(blob.encode())

    async def run(tool: str, arguments: dict[str, Any], note: str = "") -> dict[str, Any]:
        result = await session.call_tool(portable_name(tool), arguments)
        if result.is_error:
            raise RuntimeError(f"{tool}: {first_text(result)}")
        t, j = size(result)
        report.sizes.append((tool, t, j, note))
        return result.structured_content or {}

    book = await run("binance.get_orderbook", {"symbol": SYMBOL, "limit": 20}, "limit 20")
    bid = Decimal(book["bids"][0]["price"])
    await run("binance.get_ticker", {"symbol": SYMBOL})
    await run("binance.get_recent_trades", {"symbol": SYMBOL, "limit": 20}, "limit 20")
    await run("binance.get_klines", {"symbol": SYMBOL, "interval": "1m", "limit": 20}, "limit 20")
    await run("binance.get_exchange_info", {"symbols": [SYMBOL]}, "1 symbol")
    await run("binance.get_avg_price", {"symbol": SYMBOL})
    await run("binance.orderbook_l1", {"symbol": SYMBOL}, "defaults")
    await run("binance.orderbook_l2", {"symbol": SYMBOL, "levels": 20}, "20 levels")
    await run("binance.orderbook_l2", {"symbol": SYMBOL, "levels": 100}, "100 levels")
    await run("binance.orderbook_health", {})
    await run("binance.get_account", {})
    price = str((bid * Decimal("0.9")).quantize(Decimal("0.01")))
    order = {"symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "quantity": "0.001", "price": price}
    await run("binance.place_order", {**order, "validate_only": True}, "validate_only")
    placed = await run("binance.place_order", order, "real LIMIT 0.001, resting")
    cid = placed["client_order_id"]
    await run("binance.get_order", {"symbol": SYMBOL, "client_order_id": cid})
    await run("binance.get_open_orders", {"symbol": SYMBOL})
    await run("binance.cancel_order", {"symbol": SYMBOL, "client_order_id": cid})
    await run("binance.place_order", {"symbol": SYMBOL, "side": "BUY", "type": "MARKET", "quantity": "0.001"},
              "real MARKET 0.001, filled")
    await run("binance.get_my_trades", {"symbol": SYMBOL, "limit": 5}, "limit 5")
    await run("binance.get_all_orders", {"symbol": SYMBOL, "limit": 5}, "limit 5")


# -- order book core -------------------------------------------------------------------------


def bench_orderbook_core(report: Report, counts: Counts) -> None:
    with tempfile.NamedTemporaryFile(suffix=".json") as figures:
        out = subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "orderbook_bench.py"), "--events", str(counts.ob_events),
             "--json", figures.name],
            cwd=str(ROOT), capture_output=True, text=True, timeout=900, check=True,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        )
        report.orderbook = json.loads(Path(figures.name).read_text())
    report.orderbook_core = out.stdout.strip()


# -- printing --------------------------------------------------------------------------------


def log_row(path: str, call: str, s: Stats) -> None:
    print(f"  {path:28} {call:26} c={s.concurrency:<3} p50 {s.p50_us:8.0f} us  p99 {s.p99_us:8.0f} us  "
          f"{s.calls_per_s:8.0f}/s  failures {s.failures}", file=sys.stderr, flush=True)


def render(report: Report) -> str:
    out: list[str] = []
    m = report.machine
    out.append(f"Command: `{report.command}`  ")
    out.append(f"Machine: {m['cores']} cores ({m['cpu']}), Python {m['python']}, grpcio {m['grpcio']}, "
               f"mcp {m['mcp']}; whole run {report.elapsed_s:.0f} s.")
    out.append("")
    out.append("### Summary against the references measured in the same run")
    out.append("")
    floor = report.p50("floor: bare grpc.aio", "health Check")
    l1 = report.p50("provider gRPC (typed)", L1)
    out.append("| claim | measured | target | met |")
    out.append("|---|---|---|---|")
    if not math.isnan(floor + l1):
        ratio = l1 / floor
        out.append(f"| cached L1 p50 over gRPC vs bare grpc.aio echo p50 | {l1:.0f} us vs {floor:.0f} us = "
                   f"{ratio:.2f}x | within 2x | {'yes' if ratio <= 2 else 'no'} |")
    out.extend(gateway_rows(report))
    out.extend(target_rows(report))
    out.append("")
    out.append("### Latency and throughput (one client process; calls/s include the client's own CPU)")
    out.append("")
    out.append("| path | call | concurrency | p50 us | p99 us | calls/s | failures |")
    out.append("|---|---|---:|---:|---:|---:|---:|")
    for r in report.rows:
        s = r.stats
        out.append(f"| {r.path} | {r.call} | {s.concurrency} | {s.p50_us:.0f} | {s.p99_us:.0f} | "
                   f"{s.calls_per_s:.0f} | {s.failures} |")
    out.append("")
    out.append("### Order book core (`benchmarks/orderbook_bench.py`), against python-binance DepthCache")
    out.append("")
    out.append(report.orderbook_core)
    out.append("")
    out.append("### Cold paths (median of the runs)")
    out.append("")
    out.append("| path | ms | reference | reference ms |")
    out.append("|---|---:|---|---:|")
    for what, ref, ms, ref_ms in report.cold:
        out.append(f"| {what} | {ms:.0f} | {ref} | {ref_ms:.0f} |")
    out.append("")
    out.append("### Output size of each tool's result (bytes, through the gateway)")
    out.append("")
    out.append("| tool | arguments | text bytes | structured JSON bytes |")
    out.append("|---|---|---:|---:|")
    for tool, t, j, note in report.sizes:
        out.append(f"| {tool} | {note} | {t} | {j} |")
    l1s = next(((t, j) for tool, t, j, _ in report.sizes if tool == "binance.orderbook_l1"), None)
    l2s = {note: (t, j) for tool, t, j, note in report.sizes if tool == "binance.orderbook_l2"}
    if l1s and "20 levels" in l2s and "100 levels" in l2s:
        out.append("")
        for n in ("20", "100"):
            t, j = l2s[f"{n} levels"]
            out.append(f"L1 / L2({n}): text {l1s[0] / t:.2f}, structured {l1s[1] / j:.2f}.  ")
    tools = {tool for tool, *_ in report.sizes}
    out.append(f"{len(tools)} distinct tools measured.")
    if report.notes:
        out.append("")
        out.extend(f"- {n}" for n in report.notes)
    return "\n".join(out) + "\n"


def gateway_rows(report: Report) -> list[str]:
    """The gateway's rows of the summary (those measured in this run), each with its target."""
    def met(ok: bool) -> str:
        return "yes" if ok else "no"

    rows: list[str] = []
    for transport, share_target in (("stdio", 0.3), ("HTTP", 0.2)):
        direct = report.p50(f"provider gRPC (InvokeTool), beside {transport}", L1)
        gw = report.p50(f"gateway MCP {transport}", L1)
        mcp_floor = report.p50(f"floor: MCP SDK {transport}", "echo tool")
        if math.isnan(gw + mcp_floor + direct):
            continue
        added = (gw - direct) / 1000
        own = gw - direct - mcp_floor
        share = own / mcp_floor
        rows.append(f"| gateway ({transport}) added cost at p50 over direct InvokeTool, cached L1 | "
                    f"{gw:.0f} - {direct:.0f} us = {added:.2f} ms (MCP SDK {transport} floor alone "
                    f"{mcp_floor / 1000:.2f} ms) | < 1 ms | {met(added < 1)} |")
        rows.append(f"| gateway's own share per call ({transport}): gateway p50 - direct InvokeTool p50 - MCP SDK "
                    f"floor p50, cached L1 | {gw:.0f} - {direct:.0f} - {mcp_floor:.0f} us = {own / 1000:.2f} ms = "
                    f"{share:.2f}x the SDK floor | <= {share_target}x the SDK floor | {met(share <= share_target)} |")
        replayed = report.p50(f"floor: MCP SDK {transport}", REPLAYED)
        if not math.isnan(replayed):
            payload = replayed - mcp_floor
            rest = gw - direct - replayed
            rows.append(f"| where that share goes ({transport}): the SDK alone answering the same L1 result "
                        f"(replayed with the same output schema, no gateway) vs its echo | {replayed:.0f} - "
                        f"{mcp_floor:.0f} us = "
                        f"{payload / 1000:.2f} ms is the SDK carrying the larger result; the gateway's share net "
                        f"of it {gw:.0f} - {direct:.0f} - {replayed:.0f} us = {rest / 1000:.2f} ms = "
                        f"{rest / mcp_floor:.2f}x the echo floor | (for the record) | |")
        gw_rate = report.rate(f"gateway MCP {transport}", L1, 64)
        floor_rate = report.rate(f"floor: MCP SDK {transport}", "echo tool", 64)
        ratio = gw_rate / floor_rate
        rows.append(f"| calls/s at concurrency 64 through the gateway ({transport}, cached L1) vs the MCP SDK floor "
                    f"| {gw_rate:.0f} vs {floor_rate:.0f} = {ratio:.2f}x | >= 0.8x | {met(ratio >= 0.8)} |")
        replay_rate = report.rate(f"floor: MCP SDK {transport}", REPLAYED, 64)
        if not math.isnan(replay_rate):
            rows.append(f"| the same against the SDK floor answering the same L1 result (replayed, same output "
                        f"schema) | {gw_rate:.0f} vs {replay_rate:.0f} = {gw_rate / replay_rate:.2f}x | "
                        f"(for the record) | |")
    typed = report.p50("provider gRPC (typed)", "orderbook_l2 100")
    invoked = report.p50("provider gRPC (InvokeTool)", "orderbook_l2 100")
    if not math.isnan(typed + invoked):
        ratio = invoked / typed
        rows.append(f"| InvokeTool vs the typed RPC, orderbook_l2 100 levels, p50 | {invoked:.0f} vs {typed:.0f} us "
                    f"= {ratio:.2f}x | <= 1.2x | {met(ratio <= 1.2)} |")
    return rows


def target_rows(report: Report) -> list[str]:
    """The issue-18 rows of the summary: each figure, its target, and whether it is met."""
    def met(ok: bool) -> str:
        return "yes" if ok else "no"

    rows: list[str] = []
    ob = report.orderbook
    if ob:
        ratio = ob["ingest_ours"] / ob["ingest_dc"]
        rows.append(f"| order-book ingest vs python-binance DepthCache (float) on the same events | "
                    f"{ob['ingest_ours']:.0f} vs {ob['ingest_dc']:.0f} events/s = {ratio:.2f}x, top-100 "
                    f"exact: {met(ob['exact'])} | >= 2x, prices exact | {met(ratio >= 2 and ob['exact'])} |")
        worst = max(ob["memory_kib"], ob["memory_after_events_kib"])
        rows.append(f"| order-book memory per symbol, {ob['levels']} levels a side | {ob['memory_kib']:.0f} KiB "
                    f"after the snapshot, {ob['memory_after_events_kib']:.0f} KiB after the events | <= 1 MiB | "
                    f"{met(worst <= 1024)} |")
        rows.append(f"| order-book top-100 read right after an event | {ob['top100_fresh_us']:.1f} us (previous "
                    f"Decimal book, static: {ob['previous_top100_us']:.1f} us) | <= 20 us | "
                    f"{met(ob['top100_fresh_us'] <= 20)} |")
    start = next(((ms, ref) for what, _, ms, ref in report.cold if what == "provider start to SERVING"), None)
    if start is not None:
        ratio = start[0] / start[1]
        rows.append(f"| provider start to SERVING vs a bare grpc.aio server | {start[0]:.0f} vs {start[1]:.0f} ms "
                    f"= {ratio:.1f}x | <= 3x | {met(ratio <= 3)} |")
    return rows


# -- main ------------------------------------------------------------------------------------


async def main_async(args: argparse.Namespace) -> Report:
    counts = Counts.of(args)
    plan = Plan.of(args)
    report = Report(machine=describe_machine(), command="scripts/bench " + " ".join(sys.argv[1:]))
    log_dir = Path(tempfile.mkdtemp(prefix="bench-"))
    started = time.perf_counter()
    print(f"logs in {log_dir}", file=sys.stderr)
    if plan.sections & {"direct", "stdio", "http", "sizes", "cold"}:
        await bench_stack(report, counts, plan, log_dir, args.rate)
    if plan.wants("orderbook"):
        print("order book core ...", file=sys.stderr)
        bench_orderbook_core(report, counts)
    if plan.wants("replicas"):  # issue 19: rows and notes from benchmarks/replicas.py
        print("replicas ...", file=sys.stderr)
        from benchmarks.replicas import bench_replicas
        await bench_replicas(report, counts.rest, args.rate)
    report.elapsed_s = time.perf_counter() - started
    return report


async def bench_stack(report: Report, counts: Counts, plan: Plan, log_dir: Path, rate: float) -> None:
    """Every section that needs the sandbox and the provider running."""
    # A high weight limit: the benchmark measures the stack, not Binance's request-weight budget.
    sim = await SimProcess.start("--rate", str(rate), "--weight-limit", "100000000")
    try:
        env = sandbox_env(sim.info, trading=True)
        if plan.sections & {"direct", "stdio", "http", "sizes"}:
            echo = await EchoServer.start()
            provider, _ = await start_provider_timed(env)
            try:
                if plan.wants("direct"):
                    print("direct gRPC ...", file=sys.stderr)
                    await bench_direct(report, provider, echo, counts, plan)
                if plan.sections & {"stdio", "http"}:
                    print("through the gateway ...", file=sys.stderr)
                    async with grpc.aio.insecure_channel(provider.address) as channel:
                        await warm_book(channel, SYMBOL)
                    await bench_gateway(report, provider, counts, plan, log_dir)
                if plan.wants("sizes"):
                    print("output sizes ...", file=sys.stderr)
                    with (log_dir / "gateway-sizes.log").open("w") as errlog:
                        async with mcp_stdio_session(gateway_stdio_params(provider.address), errlog) as session:
                            await bench_sizes(report, session)
            finally:
                await provider.stop()
                await echo.stop()
        if plan.wants("cold"):
            print("cold paths ...", file=sys.stderr)
            await bench_cold(report, sim, env, counts, log_dir)
    finally:
        await sim.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a fifth of the calls, one cold run")
    parser.add_argument("--grpc-calls", type=int, default=3000, help="calls per direct gRPC row")
    parser.add_argument("--mcp-calls", type=int, default=1000, help="calls per MCP row")
    parser.add_argument("--rest-calls", type=int, default=400, help="calls per row that reaches the sandbox")
    parser.add_argument("--cold-runs", type=int, default=3, help="cold starts measured (median shown)")
    parser.add_argument("--ob-events", type=int, default=50000, help="diff events for the order-book core")
    parser.add_argument("--rate", type=float, default=20.0, help="sandbox market events/s per symbol")
    parser.add_argument("--only", help=f"comma-separated sections to run ({', '.join(SECTIONS)}); all by default")
    parser.add_argument("--calls", help="comma-separated substrings of the call labels to run (e.g. l1,l2 100)")
    parser.add_argument("--write", type=Path, help="also write the tables to this markdown file")
    parser.add_argument("--json", type=Path, help="also write raw figures as JSON")
    args = parser.parse_args()
    report = asyncio.run(main_async(args))
    text = render(report)
    print(text)
    if args.write:
        write_section(args.write, "bench", "Speed (`scripts/bench`, see `benchmarks/run.py`)", text)
    if args.json:
        args.json.write_text(json.dumps(asdict(report), indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
