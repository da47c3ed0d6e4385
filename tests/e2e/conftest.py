"""End-to-end fixtures: the sandbox, the provider and the gateway as real processes.

Module-scoped where tests only read, so a module starts its processes once; tests that break
things (restart, SIGTERM, faults) start their own.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import grpc
import pytest_asyncio
from mcp import ClientSession
from mcp.client.stdio import stdio_client

from tests.sim_fixture import SimProcess
from tests.stack import ProviderProcess, gateway_params, sandbox_env


@asynccontextmanager
async def mcp_session(
    *providers: str, extra_args: tuple[str, ...] = (), message_handler: Any = None
) -> AsyncIterator[ClientSession]:
    async with stdio_client(gateway_params(*providers, extra_args=extra_args)) as (read, write):
        async with ClientSession(read, write, message_handler=message_handler) as session:
            await session.initialize()
            yield session


async def call(s: ClientSession, name: str, args: dict[str, Any]) -> dict[str, Any]:
    """Calls a tool that must succeed; returns its structured result."""
    result = await s.call_tool(name, args)
    assert not result.is_error, result.content[0].text
    assert result.structured_content is not None
    return result.structured_content


async def rest(sim: SimProcess, path: str) -> Any:
    """The sandbox's own answer to a public REST path, for comparison."""
    async with aiohttp.ClientSession() as http, http.get(sim.info.rest_url + path) as r:
        return await r.json()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def stack_sim() -> AsyncIterator[SimProcess]:
    sim = await SimProcess.start("--faults", "--rate", "50")
    try:
        yield sim
    finally:
        await sim.stop()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def stack_provider(stack_sim: SimProcess) -> AsyncIterator[ProviderProcess]:
    provider = await ProviderProcess.start(sandbox_env(stack_sim.info, trading=True))
    try:
        yield provider
    finally:
        await provider.stop()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def channel(stack_provider: ProviderProcess) -> AsyncIterator[grpc.aio.Channel]:
    """A gRPC channel to the module's provider (`stack_provider`)."""
    async with grpc.aio.insecure_channel(stack_provider.address) as ch:
        yield ch


class HeldSession:
    """An MCP session opened and closed inside one background task.

    anyio cancel scopes (inside `stdio_client`) must be exited by the task that entered them, and
    pytest-asyncio may run a fixture's setup and teardown in different tasks; so one task holds the
    session and tests use it from theirs (the SDK's streams do not care which task calls).
    """

    def __init__(self, *providers: str, extra_args: tuple[str, ...] = (), message_handler: Any = None) -> None:
        self._args = (providers, extra_args)
        self._handler = message_handler
        self._ready = asyncio.Event()
        self._done = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.session: ClientSession | None = None

    async def _hold(self) -> None:
        providers, extra = self._args
        async with mcp_session(*providers, extra_args=extra, message_handler=self._handler) as s:
            self.session = s
            self._ready.set()
            await self._done.wait()

    async def __aenter__(self) -> ClientSession:
        self._task = asyncio.create_task(self._hold())
        ready = asyncio.create_task(self._ready.wait())
        await asyncio.wait({ready, self._task}, return_when=asyncio.FIRST_COMPLETED, timeout=60)
        if self.session is None:
            ready.cancel()
            if self._task.done():
                self._task.result()
            raise TimeoutError("MCP session did not open")
        return self.session

    async def __aexit__(self, *exc: object) -> None:
        self._done.set()
        if self._task is not None:
            await self._task


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def session(stack_provider: ProviderProcess) -> AsyncIterator[ClientSession]:
    async with HeldSession(stack_provider.address) as s:
        yield s


def error_details(err: grpc.aio.AioRpcError, max_bytes: int | None = None) -> dict[str, Any]:
    """The provider's `error-details-json` trailer of ``err`` as a dict (every field, as sent); with
    ``max_bytes``, the trailer must be no longer."""
    for key, value in err.trailing_metadata() or ():
        if key == "error-details-json":
            if max_bytes is not None:
                assert len(value.encode()) <= max_bytes, len(value)
            found: dict[str, Any] = json.loads(value)
            return found
    raise AssertionError(f"no error details on {err!r}")
