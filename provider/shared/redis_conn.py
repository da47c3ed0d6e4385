"""One Redis client per provider process, and the one error for "Redis cannot be reached".

Replicas share budgets, order locks and book leases through Redis. When it cannot be reached the
provider degrades instead of guessing: orders are refused (never placed without the shared lock and
budget), reads go on within a local share of the budget. Every Redis connection or timeout error is
turned into :class:`RedisUnavailable` here, once (:func:`translated`).

Timeouts are short on purpose: a call waiting on a dead Redis would hold an order longer than the
placement budget; a refused order is better than a late one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import redis.asyncio as aioredis
import redis.exceptions
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

from provider.errors import ProviderError

__all__ = ["CONNECT_TIMEOUT_S", "SOCKET_TIMEOUT_S", "RedisUnavailable", "client", "connect", "translated"]

CONNECT_TIMEOUT_S = 1.0
SOCKET_TIMEOUT_S = 2.0


class RedisUnavailable(ProviderError):
    """The shared Redis did not answer; nothing that needed it was done (so repeating is safe)."""

    status = "UNAVAILABLE"
    retry_safe = True
    hint = (
        "The replicas' shared state (Redis) is unreachable: orders are refused until it is back, nothing was "
        "sent; market data is served within a reduced local budget. Retry shortly."
    )


def client(url: str) -> aioredis.Redis:
    """A client for `url` that connects on first use (no I/O here), with short timeouts and one retry."""
    return aioredis.Redis.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        socket_timeout=SOCKET_TIMEOUT_S,
        retry=Retry(ExponentialBackoff(cap=0.05, base=0.01), 1),
        health_check_interval=10,
        client_name="binance-mcp-provider",
    )


async def connect(url: str) -> aioredis.Redis:
    """A client for `url` that has answered PING.

    Raises:
        RedisUnavailable: Redis did not answer (the client is closed first).
    """
    conn = client(url)
    try:
        with translated("connect"):
            await conn.ping()
    except RedisUnavailable:
        await conn.aclose()
        raise
    return conn


@contextlib.contextmanager
def translated(what: str) -> Iterator[None]:
    """Turn redis-py's connection and timeout errors (a loading server's too) into :class:`RedisUnavailable`."""
    try:
        yield
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
        raise RedisUnavailable(f"Redis unreachable during {what}: {type(exc).__name__}") from exc
