"""A real redis-server for each module of the replica-state tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from tests.redis_server import RedisServer, running_redis


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def redis_server() -> AsyncIterator[RedisServer]:
    async with running_redis() as server:
        yield server
