"""Fixtures: a fake provider in the test process, and the gateway as a real stdio subprocess."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.gateway.fake_provider import FakeProvider

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Notifications:
    """Server notifications seen by a client, with a bounded wait for the next kind."""

    seen: list[Any] = field(default_factory=list)
    _event: asyncio.Event = field(default_factory=asyncio.Event)

    async def handler(self, message: Any) -> None:
        self.seen.append(message)
        self._event.set()

    async def wait_for(self, kind: type[Any], limit_s: float = 15.0, **attrs: Any) -> Any:
        async def scan() -> Any:
            while True:
                for m in self.seen:
                    if isinstance(m, kind) and all(getattr(m.params, k, None) == v for k, v in attrs.items()):
                        return m
                self._event.clear()
                await self._event.wait()

        return await asyncio.wait_for(scan(), limit_s)


def gateway_params(*args: str) -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, args=["-m", "gateway", *args], cwd=str(ROOT))


@dataclass
class LogMessages:
    """`notifications/message` seen by a client, with a bounded wait for one that matches."""

    seen: list[types.LoggingMessageNotificationParams] = field(default_factory=list)
    _event: asyncio.Event = field(default_factory=asyncio.Event)

    async def handler(self, params: types.LoggingMessageNotificationParams) -> None:
        self.seen.append(params)
        self._event.set()

    async def wait_for(self, limit_s: float = 15.0, **data: Any) -> types.LoggingMessageNotificationParams:
        """The first message whose `data` has all of `data`'s items."""

        def match(m: types.LoggingMessageNotificationParams) -> bool:
            return isinstance(m.data, dict) and all(m.data.get(k) == v for k, v in data.items())

        async def scan() -> types.LoggingMessageNotificationParams:
            while True:
                found = next((m for m in self.seen if match(m)), None)
                if found is not None:
                    return found
                self._event.clear()
                await self._event.wait()

        return await asyncio.wait_for(scan(), limit_s)


@contextlib.asynccontextmanager
async def gateway_session(
    args: Sequence[str], notes: Notifications | None = None, errlog: Any = None, logs: LogMessages | None = None
) -> AsyncIterator[ClientSession]:
    """An initialized ClientSession to a gateway subprocess started with `args`."""
    notes = notes or Notifications()
    kwargs = {"errlog": errlog} if errlog is not None else {}
    async with (
        stdio_client(gateway_params(*args), **kwargs) as (read, write),
        ClientSession(
            read, write, message_handler=notes.handler, logging_callback=logs.handler if logs else None
        ) as session,
    ):
        result = await session.initialize()
        assert isinstance(result, types.InitializeResult)
        yield session


@pytest.fixture
async def silent() -> AsyncIterator[FakeProvider]:
    """A provider of before fa62a53: its subscriptions' response headers go out only with a first update."""
    provider = FakeProvider()
    provider.headers_at_once = False
    await provider.start()
    try:
        yield provider
    finally:
        await provider.stop()


@pytest.fixture
async def fake() -> AsyncIterator[FakeProvider]:
    provider = await FakeProvider().start()
    try:
        yield provider
    finally:
        await provider.stop()
