"""One stack for the confirmation tests: the sandbox, a provider asking above THRESHOLD, and the
gateway's own code in-process (input waits of 1 s, so "no answer" is quick)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest_asyncio

from gateway.server import Gateway
from gateway.settings import GatewaySettings, ProviderTarget
from tests.gateway.inprocess import in_process_gateway
from tests.sim_fixture import SimProcess
from tests.stack import ProviderProcess, sandbox_env

THRESHOLD = Decimal(100)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def sim() -> AsyncIterator[SimProcess]:
    s = await SimProcess.start("--faults")
    try:
        yield s
    finally:
        await s.stop()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def provider(sim: SimProcess) -> AsyncIterator[ProviderProcess]:
    p = await ProviderProcess.start(sandbox_env(sim.info, BINANCE_CONFIRM_ORDERS=f"above:{THRESHOLD}"))
    try:
        yield p
    finally:
        await p.stop()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def gateway(provider: ProviderProcess) -> AsyncIterator[Gateway]:
    settings = GatewaySettings(
        providers=(ProviderTarget("binance", provider.address),), startup_wait_s=10.0, pool_size=2, input_timeout_s=1.0
    )
    async with in_process_gateway(settings) as gw:
        yield gw


