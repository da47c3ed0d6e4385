"""The MCP Inspector CLI (pinned, Node 22) against the Binance stack: sandbox, provider and gateway.

Over stdio (the Inspector starts `mcp-gateway` itself) and over Streamable HTTP with a bearer
token, the Inspector lists the tools with `--strict` (its schema portability lint: any
error-severity problem exits 6), calls a tool of each kind (market data, order-book analytics,
account, a trading dry run), sees a failing call as exit 5, reads a resource and renders a prompt;
and it speaks both protocol eras (`--protocol-era modern` is 2026-07-28).
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio

from contracts.binance.v1 import orderbook_pb2, orderbook_pb2_grpc
from tests.gateway.processes import ROOT, http_gateway, node_bin, node_env
from tests.sim_fixture import SimProcess
from tests.stack import ProviderProcess, sandbox_env

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(300)]

TOKEN = "inspector-test-token"
_PORTABLE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_CALL_TIMEOUT_S = 60
_PARALLEL = 3


@dataclass(frozen=True)
class Case:
    """One Inspector invocation and what its answer must show."""

    name: str
    args: tuple[str, ...]
    exit_code: int = 0


def _tool(name: str, arguments: dict[str, Any], *extra: str) -> tuple[str, ...]:
    return ("--method", "tools/call", "--tool-name", name, "--tool-args-json", json.dumps(arguments), *extra)


CASES = (
    Case("tools/list --strict", ("--method", "tools/list", "--strict")),
    Case("market data", _tool("binance_get_ticker", {"symbol": "BTCUSDT"})),
    Case("order book", _tool("binance_orderbook_l1", {"symbol": "BTCUSDT"})),
    Case("account", _tool("binance_get_account", {})),
    Case(
        "trading dry run",
        _tool(
            "binance_place_order",
            {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.001", "price": "50000"}
            | {"validate_only": True},
        ),
    ),
    Case("refused arguments", _tool("binance_get_ticker", {"symbol": "NOT A SYMBOL"}), exit_code=5),
    Case("resource", ("--method", "resources/read", "--uri", "binance://market/BTCUSDT")),
    Case("prompt", ("--method", "prompts/get", "--prompt-name", "trading-analysis", "--prompt-args", "symbol=BTCUSDT")),
    Case("2026-07-28 era", _tool("binance_get_ticker", {"symbol": "ETHUSDT"}, "--protocol-era", "modern")),
)


def _problems(case: Case, answer: dict[str, Any]) -> list[str]:
    """What is wrong with `answer` (the Inspector's JSON) for `case`; empty when all is well."""
    result = answer.get("result") or {}
    structured = result.get("structuredContent") or {}
    if case.name.startswith("tools/list"):
        names = [t["name"] for t in result.get("tools", [])]
        wanted = {"binance_get_ticker", "binance_orderbook_l1", "binance_get_account", "binance_place_order"}
        missing = sorted(wanted - set(names))
        bad = [n for n in names if not _PORTABLE.match(n)]
        return ([f"missing {missing}"] if missing else []) + ([f"not portable: {bad}"] if bad else [])
    if case.name in ("market data", "order book"):
        return [] if structured.get("symbol") == "BTCUSDT" else [f"no BTCUSDT in {structured}"]
    if case.name == "account":
        return [] if isinstance(structured.get("balances"), list) else [f"no balances in {structured}"]
    if case.name == "trading dry run":
        ok = structured.get("outcome") == "VALIDATED" and structured.get("order_exists") is False
        return [] if ok and not result.get("isError") else [f"not a validated dry run: {structured}"]
    if case.name == "refused arguments":
        said = str((result.get("content") or [{}])[0].get("text"))
        ok = result.get("isError") is True and "Invalid arguments" in said
        return [] if ok else [f"not an isError result stating the cause: {answer}"]
    if case.name == "resource":
        text = (result.get("contents") or [{}])[0].get("text", "")
        return [] if text.startswith("# BTCUSDT market") else [f"unexpected contents: {text[:200]!r}"]
    if case.name == "prompt":
        messages = result.get("messages") or []
        return [] if messages and messages[0]["role"] == "user" else [f"no messages: {result}"]
    if case.name == "no token":
        error = answer.get("error") or {}
        ok = error.get("code") == "auth_required" and "bearer token" in str(error.get("message"))
        return [] if ok else [f"not refused for its token: {answer}"]
    if case.name == "2026-07-28 era":
        server = (result.get("_meta") or {}).get("io.modelcontextprotocol/serverInfo", {})
        ok = structured.get("symbol") == "ETHUSDT" and server.get("name") == "mcp-gateway"
        return [] if ok else [f"not a 2026 answer: {answer}"]
    raise AssertionError(case.name)


@pytest.fixture(scope="module")
def node_tools() -> Path:
    return node_bin()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def provider_address() -> AsyncIterator[str]:
    sim = await SimProcess.start()
    try:
        provider = await ProviderProcess.start(sandbox_env(sim.info, trading=True))
        try:
            await _book_synced(provider.address, "BTCUSDT")
            yield provider.address
        finally:
            await provider.stop()
    finally:
        await sim.stop()


async def _book_synced(address: str, symbol: str) -> None:
    """Waits (bounded) until the provider serves ``symbol``'s live book, so the order-book case checks
    how the Inspector carries the answer, not whether a first sync beats the tool's deadline on busy cores."""
    async with grpc.aio.insecure_channel(address) as channel, asyncio.timeout(60):
        stub = orderbook_pb2_grpc.OrderBookStub(channel)  # type: ignore[no-untyped-call]
        while True:
            try:
                await stub.GetL1(orderbook_pb2.GetL1Request(symbol=symbol), timeout=10)
                return
            except grpc.aio.AioRpcError as exc:
                if exc.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                    raise


async def _inspect(node_tools: Path, target: Sequence[str], case: Case, sem: asyncio.Semaphore) -> list[str]:
    async with sem:
        proc = await asyncio.create_subprocess_exec(
            str(node_tools / "mcp-inspector"),
            "--cli",
            *target,
            *case.args,
            "--format",
            "json",
            "-q",
            # its default 15 s to connect is short for a loaded 2-core CI starting a gateway
            "--connect-timeout",
            str(_CALL_TIMEOUT_S * 1000),
            cwd=str(ROOT),
            env=node_env(node_tools),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        async with asyncio.timeout(_CALL_TIMEOUT_S):
            out, err = await proc.communicate()
    if proc.returncode != case.exit_code:
        return [f"{case.name}: exit {proc.returncode}, wanted {case.exit_code}: {err.decode()[-1500:]}"]
    # A result (also one with isError, exit 5) goes to stdout; an error envelope alone to stderr.
    text = (out or err).decode()
    try:
        answer = json.loads(text)
    except ValueError:
        return [f"{case.name}: not JSON: {text[:500]!r}"]
    return [f"{case.name}: {p}" for p in _problems(case, answer)]


async def _run_all(node_tools: Path, target: Sequence[str]) -> list[str]:
    sem = asyncio.Semaphore(_PARALLEL)
    found = await asyncio.gather(*(_inspect(node_tools, target, case, sem) for case in CASES))
    return [problem for problems in found for problem in problems]


async def test_inspector_cli_lists_calls_reads_and_renders_over_stdio(node_tools: Path, provider_address: str) -> None:
    # The Inspector starts the gateway with a minimal environment: the console script needs none.
    gateway = str(Path(sys.executable).parent / "mcp-gateway")
    target = (gateway, "--provider", f"binance={provider_address}", "--", "--cwd", str(ROOT))
    assert await _run_all(node_tools, target) == []


async def test_inspector_cli_lists_calls_reads_and_renders_over_http_with_a_token(
    node_tools: Path, provider_address: str, tmp_path: Path
) -> None:
    async with http_gateway(
        "--provider", f"binance={provider_address}", "--token", TOKEN, log=tmp_path / "gateway.log"
    ) as url:
        target = (url, "--transport", "http", "--header", f"Authorization: Bearer {TOKEN}")
        assert await _run_all(node_tools, target) == []


async def test_inspector_cli_without_the_token_is_refused_and_starts_no_oauth_flow(
    node_tools: Path, provider_address: str, tmp_path: Path
) -> None:
    async with http_gateway(
        "--provider", f"binance={provider_address}", "--token", TOKEN, log=tmp_path / "gateway.log"
    ) as url:
        case = Case("no token", ("--method", "tools/list", "--stored-auth-only"), exit_code=3)
        problems = await _inspect(node_tools, (url, "--transport", "http"), case, asyncio.Semaphore(1))
    assert problems == []
