"""Two real providers behind one gateway: one goes down and comes back while the session stays open.

Both providers serve the same sandbox; the second is configured under the name `binance2`, so its
tools are namespaced `binance2.binance.*` (catalog rule 2, listed as `binance2_binance_*`) and never
collide with the first's.
"""

from __future__ import annotations

from typing import Any

import mcp_types as types
import pytest
from mcp import ClientSession

from tests.e2e.conftest import HeldSession
from tests.sim_fixture import SimProcess
from tests.stack import ProviderProcess, sandbox_env

TICKER = {"symbol": "BTCUSDT"}


def answered(result: types.CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    content = result.structured_content
    assert content is not None
    return dict(content)


async def ticker(session: ClientSession, tool: str) -> types.CallToolResult:
    return await session.call_tool(tool, TICKER)


@pytest.mark.timeout(90)
async def test_one_provider_down_and_back_leaves_the_other_serving_and_needs_no_gateway_restart(
    sim: SimProcess,
) -> None:
    # A short drain: the gateway's health watch is an open stream the default 5 s grace would wait for.
    env = sandbox_env(sim.info, trading=False, PROVIDER_GRACE_S="1")
    first = await ProviderProcess.start(env)
    second = await ProviderProcess.start(env)
    try:
        async with HeldSession(f"binance={first.address}", f"binance2={second.address}") as session:
            names = {t.name for t in (await session.list_tools()).tools}
            assert {"binance_get_ticker", "binance2_binance_get_ticker"} <= names
            assert answered(await ticker(session, "binance2_binance_get_ticker"))["symbol"] == "BTCUSDT"

            await second.stop()
            down = await ticker(session, "binance2_binance_get_ticker")
            assert down.is_error
            text = down.content[0].text if isinstance(down.content[0], types.TextContent) else ""
            assert "'binance2'" in text and "unreachable" in text, text
            assert answered(await ticker(session, "binance_get_ticker"))["symbol"] == "BTCUSDT"
            # The stopped provider keeps its place in the catalog, so clients see no churn.
            assert names == {t.name for t in (await session.list_tools()).tools}

            await second.launch()  # same port, a new process
            assert answered(await ticker(session, "binance2_binance_get_ticker"))["symbol"] == "BTCUSDT"
            assert answered(await ticker(session, "binance_get_ticker"))["symbol"] == "BTCUSDT"
    finally:
        await second.stop()
        await first.stop()
