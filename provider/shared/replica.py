"""A provider replica's shared state, opened from Settings when ``PROVIDER_REDIS_URL`` is set.

One Redis client per process; the weight and order budgets (``budgets.py``) and the placement
ledger (``ledger.py``) use it. Redis being down at start does not stop the provider: it serves
reads on its local share of the budget and refuses orders until Redis answers (``budgets.py``
rules 1-3), so a Redis restart never needs a provider restart.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis
import structlog

from provider.binance.client import BinanceClient
from provider.settings import Settings
from provider.shared.budgets import REPLICA_TTL_MS, SharedBudgets, account_key
from provider.shared.ledger import SharedPlacementLedger
from provider.shared.redis_conn import RedisUnavailable, client, connect

__all__ = ["SharedState", "open_shared"]

log = structlog.get_logger("provider.shared")


@dataclass
class SharedState:
    """What this replica shares with the others, closed with the app."""

    conn: aioredis.Redis
    budgets: SharedBudgets
    ledger: SharedPlacementLedger

    async def close(self) -> None:
        await self.budgets.close()
        await self.conn.aclose()


async def open_shared(settings: Settings, binance: BinanceClient) -> SharedState:
    """Connect to Redis (or carry on without it for now), share the client's budgets, build the ledger."""
    url = settings.redis_url
    assert url is not None
    try:
        conn = await connect(url)
        log.info("shared_state", redis="connected", prefix=settings.redis_prefix)
    except RedisUnavailable as exc:
        conn = client(url)
        log.warning("shared_state", redis="unreachable", prefix=settings.redis_prefix, error=exc.message)
    budgets = SharedBudgets(
        conn, settings.redis_prefix, binance.governor, binance.order_limits, lambda: binance.server_now_ms() / 1000,
        account_key(settings.api_key),
    )
    binance.use_governor(budgets)
    budgets.start()
    ledger = SharedPlacementLedger(
        conn, settings.redis_prefix, now_ms=binance.server_now_ms, recv_window_ms=settings.recv_window_ms,
        on_hold=budgets.reserve_order, on_unused=budgets.release_order,
        owner=budgets.replica_id, replicas_key=budgets.replicas_key, alive_ms=REPLICA_TTL_MS,
    )
    return SharedState(conn, budgets, ledger)
