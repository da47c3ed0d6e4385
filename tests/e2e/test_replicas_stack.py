"""Two HTTP gateways, three provider replicas, Redis and the sandbox, under load from several MCP clients.

Issue #19's combined test. One stack per module (`tests/replicas.py`), started once: the sandbox,
a real redis-server, three providers sharing both, two gateways each balancing over the three.
Clients of both protocol eras reach the gateways through a stand-in load balancer: 2026-era
(stateless) clients round robin over the gateways, 2025-era sessions stick to the gateway that
issued their `Mcp-Session-Id`.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import httpx2
import mcp_types as types
import pytest
import pytest_asyncio
from mcp import Client, ClientSession
from mcp.client.streamable_http import streamable_http_client

from tests.replicas import Dispatch, ReplicaStack, invoke, replica_stack

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(120)]

SYMBOLS = ("BTCUSDT", "ETHUSDT", "BNBUSDT")
TOOL_RPC = "/provider.v1.Provider/InvokeTool"
_INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
_MCP_HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def stack() -> AsyncIterator[ReplicaStack]:
    async with replica_stack(providers=3, gateways=2) as running:
        yield running


def structured(result: types.CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return dict(result.structured_content)


async def reads(call: Any, client: int, rounds: int) -> int:
    """A client's share of the load: tickers and books of a few symbols; returns the calls made."""
    made = 0
    for k in range(rounds):
        symbol = SYMBOLS[(client + k) % len(SYMBOLS)]
        got = structured(await call("binance_get_ticker", {"symbol": symbol}))
        assert got["symbol"] == symbol
        book = structured(await call("binance_get_orderbook", {"symbol": symbol, "limit": 5}))
        assert Decimal(book["bids"][0]["price"]) < Decimal(book["asks"][0]["price"])
        made += 2
    return made


async def modern_client(stack: ReplicaStack, index: int, rounds: int) -> tuple[int, dict[int, int]]:
    http, transport = stack.client(Dispatch.ROUND_ROBIN)
    async with http, Client(streamable_http_client(stack.url, http_client=http)) as client:
        made = await reads(client.call_tool, index, rounds)
    return made, dict(transport.sent)


async def legacy_client(stack: ReplicaStack, index: int, rounds: int) -> tuple[int, dict[int, int]]:
    http, transport = stack.client(Dispatch.AFFINITY)
    async with (
        http,
        streamable_http_client(stack.url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        made = await reads(session.call_tool, index, rounds)
    assert len(transport.sessions) == 1  # one session, pinned to the gateway that issued it
    return made, dict(transport.sent)


async def test_clients_of_both_eras_are_served_through_both_gateways_by_every_replica(stack: ReplicaStack) -> None:
    results = await asyncio.gather(
        *(modern_client(stack, i, 4) for i in range(3)),
        *(legacy_client(stack, i, 4) for i in range(3)),
    )
    assert sum(made for made, _ in results) == 6 * 8
    modern_sent = [sent for _, sent in results[:3]]
    legacy_sent = [sent for _, sent in results[3:]]
    assert all(set(sent) == {0, 1} for sent in modern_sent)  # stateless: both gateways served each
    assert all(len(sent) == 1 for sent in legacy_sent)  # a session stays on its gateway
    for index in range(len(stack.providers)):
        calls = [e for e in stack.provider_events(index) if e.get("method", "").startswith(TOOL_RPC)]
        assert calls, f"replica {index} served no tool call"


async def test_a_session_reaching_the_other_gateway_is_unknown_there_so_affinity_is_required(
    stack: ReplicaStack,
) -> None:
    first, second = (g.url for g in stack.gateways)
    async with httpx2.AsyncClient(timeout=10) as http:
        init = await http.post(first, json=_INIT, headers=_MCP_HEADERS)
        session = init.headers["mcp-session-id"]
        headers = {**_MCP_HEADERS, "mcp-session-id": session, "mcp-protocol-version": "2025-11-25"}
        listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
        await http.post(first, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers)
        elsewhere = await http.post(second, json=listing, headers=headers)
        home = await http.post(first, json=listing, headers=headers)
    assert elsewhere.status_code == 404  # the client must start a new session (spec: session management)
    assert home.status_code == 200


async def sandbox_orders(stack: ReplicaStack, symbol: str) -> list[dict[str, Any]]:
    reply = await stack.sim.control("GET", f"/sim/orders?symbol={symbol}")
    orders: list[dict[str, Any]] = reply["orders"]
    return orders


async def best_bid(stack: ReplicaStack, symbol: str) -> Decimal:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{stack.sim.info.rest_url}/api/v3/ticker/bookTicker", params={"symbol": symbol}) as r,
    ):
        return Decimal((await r.json())["bidPrice"])


async def test_one_client_order_id_placed_at_once_through_both_gateways_executes_once(stack: ReplicaStack) -> None:
    symbol = "BTCUSDT"
    price = str((await best_bid(stack, symbol) * Decimal("0.9")).quantize(Decimal("0.01")))
    cids = [f"replicas-same-id-{n}" for n in range(3)]
    clients = [httpx2.AsyncClient(timeout=30) for _ in stack.gateways]
    try:
        async with (
            Client(streamable_http_client(stack.gateways[0].url, http_client=clients[0])) as one,
            Client(streamable_http_client(stack.gateways[1].url, http_client=clients[1])) as two,
        ):
            for cid in cids:
                args = {
                    "symbol": symbol,
                    "side": "BUY",
                    "type": "LIMIT",
                    "quantity": "0.001",
                    "price": price,
                    "client_order_id": cid,
                }
                answers = await asyncio.gather(*(c.call_tool("binance_place_order", args) for c in (one, two)))
                placed = [a for a in answers if not a.is_error and (a.structured_content or {}).get("order_exists")]
                assert placed, [a.content for a in answers]
            on_exchange = [o for o in await sandbox_orders(stack, symbol) if o["clientOrderId"] in cids]
            assert sorted(o["clientOrderId"] for o in on_exchange) == sorted(cids)  # each id exactly once
            for cid in cids:
                structured(await one.call_tool("binance_cancel_order", {"symbol": symbol, "client_order_id": cid}))
    finally:
        for http in clients:
            await http.aclose()


async def test_one_client_order_id_placed_at_once_on_every_replica_executes_once(stack: ReplicaStack) -> None:
    # A MARKET order fills at once, so the exchange's own duplicate check (open orders only) cannot
    # help, and the sandbox holds each POST /api/v3/order 800 ms, so all three are in flight before
    # any order exists to be looked up: only the replicas' shared per-id lock keeps it to one
    # execution (without Redis, all three execute).
    symbol = "ETHUSDT"
    cid = "replicas-each-replica-market-1"
    await stack.sim.fault("rest_fail", path="/api/v3/order", method="POST", hold_ms=800, times=3)
    args = {"symbol": symbol, "side": "BUY", "type": "MARKET", "quantity": "0.01", "client_order_id": cid}
    answers = await asyncio.gather(
        *(invoke(p.address, "binance.place_order", args) for p in stack.providers), return_exceptions=True
    )
    await stack.sim.fault("clear")  # the holds the lock kept from being used
    assert any(isinstance(a, dict) and a.get("order_exists") for a in answers), answers
    on_exchange = [o for o in await sandbox_orders(stack, symbol) if o["clientOrderId"] == cid]
    assert len(on_exchange) == 1, on_exchange


BOOK_SYMBOLS = ("BTCUSDT", "ETHUSDT")
BOOK_LEVELS = 10


def levels(raw: list[Any]) -> list[tuple[Decimal, Decimal]]:
    """Price levels as decimals, whether served as objects or as the sandbox's [price, qty] pairs."""
    out = []
    for level in raw[:BOOK_LEVELS]:
        price, qty = (level["price"], level["quantity"]) if isinstance(level, dict) else level
        out.append((Decimal(price), Decimal(qty)))
    return out


async def served_at(address: str, symbol: str, update_id: int, limit_s: float = 10.0) -> dict[str, Any]:
    """The replica's L2 once it serves a SYNCED book at `update_id` (bounded wait)."""
    async with asyncio.timeout(limit_s):
        while True:
            served = await invoke(address, "binance.orderbook_l2", {"symbol": symbol, "levels": BOOK_LEVELS})
            book = served["book"]
            if book["state"] == "SYNCED" and int(book["last_update_id"]) == update_id:
                return served
            await asyncio.sleep(0.05)


async def test_every_replica_serves_the_sandboxs_book_and_each_stream_has_one_subscriber_across_replicas(
    stack: ReplicaStack,
) -> None:
    for symbol in BOOK_SYMBOLS:  # tracked (lazily) on whichever replica asks first
        await invoke(stack.providers[0].address, "binance.orderbook_l2", {"symbol": symbol, "levels": 1})
    await stack.sim.control("POST", "/sim/market", {"running": False})
    try:
        for symbol in BOOK_SYMBOLS:
            truth = await stack.sim.ground_truth(symbol)
            update_id = int(truth["lastUpdateId"])
            for provider in stack.providers:
                served = await served_at(provider.address, symbol, update_id)
                assert levels(served["bids"]) == levels(truth["bids"]), (provider.address, symbol)
                assert levels(served["asks"]) == levels(truth["asks"]), (provider.address, symbol)
    finally:
        await stack.sim.control("POST", "/sim/market", {"running": True})
    streams = await stack.sim.control("GET", "/sim/streams")
    depth = {name: n for name, n in streams["subscribers"].items() if "@depth" in name}
    for symbol in BOOK_SYMBOLS:
        assert [n for name, n in depth.items() if name.startswith(symbol.lower() + "@")] == [1], depth
    assert streams["user_data_subscriptions"] == 1  # one user data connection for the account, not one a replica


async def test_the_sandbox_answered_no_429_or_418_and_the_weight_stayed_within_its_limit(stack: ReplicaStack) -> None:
    seen = await stack.sim.control("GET", "/sim/statuses")
    assert seen["statuses"].get("200", 0) > 0
    assert "429" not in seen["statuses"] and "418" not in seen["statuses"], seen
    assert seen["weight"]["used"] <= seen["weight"]["limit"]


async def test_reads_through_both_gateways_are_all_answered_while_a_replica_is_killed(stack: ReplicaStack) -> None:
    # The module's last test: the stack is not whole after it.
    answered = 0
    enough = asyncio.Event()

    async def counted(call: Any, name: str, args: dict[str, Any]) -> types.CallToolResult:
        nonlocal answered
        result = await call(name, args)
        answered += 1
        if answered >= 8:
            enough.set()
        return result

    async def client(index: int) -> int:
        http, _ = stack.client(Dispatch.ROUND_ROBIN)
        async with http, Client(streamable_http_client(stack.url, http_client=http)) as session:
            return await reads(lambda name, args: counted(session.call_tool, name, args), index, 6)

    clients = [asyncio.create_task(client(i)) for i in range(4)]
    await asyncio.wait_for(enough.wait(), 30)
    await stack.providers[2].stop(signal.SIGKILL)
    assert sum(await asyncio.gather(*clients)) == 4 * 12  # `reads` asserts every answer
