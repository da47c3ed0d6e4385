#!/usr/bin/env python3
"""The demo: sandbox exchange + provider + gateway, driven by a real MCP client session.

Run through `scripts/demo` (which sets up .venv first). Everything runs on loopback against the
sandbox exchange; nothing touches Binance. Prints what the client does and what comes back.
"""

from __future__ import annotations

import asyncio
import json
import sys
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import mcp_types as types
from mcp import ClientSession
from mcp.client.stdio import stdio_client

from tests.sim_fixture import SimProcess
from tests.stack import ProviderProcess, gateway_params, sandbox_env

WIDTH = 100
#: orders whose worst case is above 1000 USDT need a person's approval (the demo's big order does).
CONFIRM = "above:1000"


def banner(text: str) -> None:
    print("\n" + "=" * WIDTH + f"\n{text}\n" + "=" * WIDTH)


def show(text: str, lines: int = 14) -> None:
    body = text.splitlines()
    for line in body[:lines]:
        print("  " + textwrap.shorten(line, WIDTH, placeholder=" ...") if len(line) > WIDTH else "  " + line)
    if len(body) > lines:
        print(f"  ... ({len(body) - lines} more lines)")


async def call(session: ClientSession, name: str, args: dict[str, Any], lines: int = 12) -> dict[str, Any]:
    print(f"\n> tools/call {name} {json.dumps(args)}")
    result = await session.call_tool(name, args)
    show(("ERROR: " if result.is_error else "") + result.content[0].text, lines)
    return result.structured_content or {}


async def demo(session: ClientSession) -> None:
    banner("1. Discovery: what the gateway offers (derived from the provider's gRPC contracts)")
    tools = (await session.list_tools()).tools
    print(f"{len(tools)} tools:")
    for t in tools:
        kind = "read-only" if t.annotations and t.annotations.read_only_hint else "mutating"
        print(f"  {t.name:<28} {kind:<9} {t.title or ''}")
    templates = (await session.list_resource_templates()).resource_templates
    print(f"{len(templates)} resource templates: " + ", ".join(t.uri_template for t in templates))
    resources = (await session.list_resources()).resources
    print(f"{len(resources)} listed resources (for clients that never expand templates):")
    for r in resources:
        print(f"  {r.uri:<38} {r.title or r.name}")
    prompts = (await session.list_prompts()).prompts
    print(f"{len(prompts)} prompts: " + ", ".join(p.name for p in prompts))

    banner("2. Market data (REST, through the sandbox)")
    await call(session, "binance_get_ticker", {"symbol": "btcusdt"}, 4)
    await call(session, "binance_get_avg_price", {"symbol": "BTCUSDT"}, 3)
    await call(session, "binance_get_orderbook", {"symbol": "SHIBUSDT", "limit": 3}, 10)
    await call(session, "binance_get_klines", {"symbol": "ETHUSDT", "interval": "1h", "limit": 3}, 6)
    await call(session, "binance_get_recent_trades", {"symbol": "ETHBTC", "limit": 3}, 6)
    await call(session, "binance_get_exchange_info", {"symbols": ["BTCUSDT"]}, 4)
    await call(session, "binance_get_ticker", {"symbol": "BTCUSD"}, 3)

    banner("3. Live order book over WebSocket")
    await call(session, "binance_orderbook_l1", {"symbol": "BTCUSDT", "vwap_base_qty": "2"}, 16)
    await asyncio.sleep(1.0)
    await call(session, "binance_orderbook_l2", {"symbol": "BTCUSDT", "levels": 5}, 14)
    await call(session, "binance_orderbook_health", {}, 6)

    banner("4. Account and orders, with the safety rails")
    await call(session, "binance_get_account", {}, 10)
    await call(
        session,
        "binance_place_order",
        {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.001", "price": "50000.005"},
        6,
    )
    await call(
        session,
        "binance_place_order",
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "quantity": "0.001",
            "price": "50000",
            "validate_only": True,
        },
        6,
    )
    placed = await call(
        session,
        "binance_place_order",
        {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.001", "price": "50000"},
        8,
    )
    await call(session, "binance_get_open_orders", {"symbol": "BTCUSDT"}, 5)
    cid = placed.get("client_order_id", "")
    await call(session, "binance_cancel_order", {"symbol": "BTCUSDT", "client_order_id": cid}, 5)
    await call(
        session,
        "binance_place_order",
        {"symbol": "ETHUSDT", "side": "BUY", "type": "MARKET", "quote_order_qty": "100"},
        10,
    )
    await call(session, "binance_get_my_trades", {"symbol": "ETHUSDT", "limit": 5}, 6)

    # An OCO protects the position: a take-profit above the market and a stop-loss below it, one
    # cancelling the other; every leg passes the same rails as place_order.
    avg = Decimal((await call(session, "binance_get_avg_price", {"symbol": "ETHUSDT"}, 3)).get("price", "0"))
    tick = Decimal("0.01")
    oco = await call(
        session,
        "binance_place_oco",
        {
            "symbol": "ETHUSDT",
            "side": "SELL",
            "quantity": "0.02",
            "above": {"type": "LIMIT_MAKER", "price": str((avg * Decimal("1.05")).quantize(tick))},
            "below": {
                "type": "STOP_LOSS_LIMIT",
                "stop_price": str((avg * Decimal("0.95")).quantize(tick)),
                "price": str((avg * Decimal("0.94")).quantize(tick)),
                "time_in_force": "GTC",
            },
        },
        10,
    )
    await call(session, "binance_get_open_order_lists", {}, 6)
    list_id = (oco.get("order_list") or {}).get("order_list_id")
    if list_id is not None:
        await call(session, "binance_cancel_order_list", {"symbol": "ETHUSDT", "order_list_id": list_id}, 6)

    # A person approves large orders (BINANCE_CONFIRM_ORDERS=above:1000 here): the provider asks
    # through the client before anything is sent; this client shows the question and approves.
    banner("4b. A person approves a large order (MCP elicitation through the gateway)")
    big = await call(
        session,
        "binance_place_order",
        {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.05", "price": "50000"},
        8,
    )
    if big.get("client_order_id"):
        await call(session, "binance_cancel_order", {"symbol": "BTCUSDT", "client_order_id": big["client_order_id"]}, 4)

    banner("5. Resources (markdown, live)")
    for uri in ("binance://market/BTCUSDT", "binance://account/balances", "binance://orders/canceled"):
        print(f"\n> resources/read {uri}")
        contents = (await session.read_resource(uri)).contents
        show(getattr(contents[0], "text", ""), 16)

    banner("6. Prompts, filled with live data")
    for name, args in (
        ("trading-analysis", {"symbol": "ETHUSDT", "timeframe": "15m"}),
        ("portfolio-risk", {"risk_tolerance": "low"}),
    ):
        print(f"\n> prompts/get {name} {json.dumps(args)}")
        prompt = await session.get_prompt(name, args)
        for message in prompt.messages:
            print(f"  [{message.role}]")
            show(getattr(message.content, "text", ""), 10)


async def approve(ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
    """The person at the client: shown the order, approves it (a real client asks a human)."""
    print("\n  [the client asks the person]")
    show(getattr(params, "message", ""), 12)
    print("  [the person approves]")
    return types.ElicitResult(action="accept", content={"approve": True})


async def main() -> None:
    banner("Starting the sandbox exchange, the provider and the gateway (all on loopback)")
    sim = await SimProcess.start("--rate", "20")
    print(f"sandbox exchange: {sim.info.rest_url} (streams {sim.info.ws_url})")
    provider = await ProviderProcess.start(sandbox_env(sim.info, trading=True, BINANCE_CONFIRM_ORDERS=CONFIRM))
    print(f"provider: grpc://{provider.address} (logs {provider.log_path})")
    gateway_log = provider.log_path.with_name("gateway-demo.log").open("w")
    print(f"gateway logs: {gateway_log.name}")
    try:
        async with stdio_client(gateway_params(provider.address), errlog=gateway_log) as (read, write):
            async with ClientSession(read, write, elicitation_callback=approve) as session:
                info = await session.initialize()
                print(f"gateway: MCP over stdio, server {info.server_info.name} {info.server_info.version}")
                await demo(session)
    finally:
        gateway_log.close()
        await provider.stop()
        await sim.stop()
    banner("Done. Connect Claude Code the same way: see README.md")


if __name__ == "__main__":
    asyncio.run(main())
