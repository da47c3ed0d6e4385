"""What `grpc.health.v1` says about each typed service, decided from the exchange client's health.

The overall service ("") says whether the provider process serves at all (a gateway watches it).
The services that need the exchange's REST API (market data, account, trading) are NOT_SERVING
while the IP is banned (every REST call is refused) or while the latest exchange call failed for a
reason on the exchange's side (unreachable, 5xx, an HTML or cut answer, timeout, a firewall block, a
restricted location) and none has succeeded since; they become
SERVING again with the next success. The order-book service serves whenever books are enabled (it
falls back to REST snapshots and marks what it serves).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from grpc_health.v1 import health, health_pb2

from provider.binance.client_health import ClientHealth

REST_SERVICES = ("binance.v1.MarketData", "binance.v1.Account", "binance.v1.Trading")
ORDERBOOK_SERVICE = "binance.v1.OrderBook"
#: a health name of its own for the user data stream: SERVING while the live account is LIVE (the
#: account tools answer from REST otherwise, so binance.v1.Account does not depend on it).
ACCOUNT_STREAM = "binance.account_stream"
#: exchange-side failures (error kinds from provider/errors.py) that make REST unusable.
OUTAGE_KINDS = frozenset(
    {"ExchangeUnreachable", "ExchangeUnavailable", "ExchangeTimeout", "RestrictedLocation", "WafBlocked"}
)


class HealthSource(Protocol):
    """What :func:`report` reads: ``BinanceClient`` or a stand-in with the same ``health()``."""

    def health(self) -> ClientHealth: ...


def exchange_usable(client_health: ClientHealth) -> bool:
    """False while banned, or while the latest exchange-side failure is newer than the latest success."""
    if client_health.banned:
        return False
    error = client_health.last_error
    if error is None or error.kind not in OUTAGE_KINDS:
        return True
    last_ok = client_health.last_ok_at_ms
    return last_ok is not None and last_ok > error.at_ms


async def report(
    servicer: health.aio.HealthServicer,
    client: HealthSource,
    *,
    books_enabled: bool,
    account_live: Callable[[], bool] | None = None,
    period_s: float = 1.0,
) -> None:
    """Keeps the per-service statuses current until cancelled (`account_live`: None without a stream)."""
    serving, not_serving = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING
    await servicer.set(ORDERBOOK_SERVICE, serving if books_enabled else not_serving)
    while True:
        status = serving if exchange_usable(client.health()) else not_serving
        for name in REST_SERVICES:
            await servicer.set(name, status)
        await servicer.set(ACCOUNT_STREAM, serving if account_live is not None and account_live() else not_serving)
        await asyncio.sleep(period_s)
