"""Freshness stamps: how old a market-data answer is by the exchange's clock, and where it came from."""

from __future__ import annotations

from typing import TYPE_CHECKING

from contracts.binance.v1 import common_pb2

if TYPE_CHECKING:
    from provider.app import App


def freshness(app: App, exchange_time_ms: int | None, source: str = "rest") -> common_pb2.Freshness:
    """The stamp for an answer made at `exchange_time_ms` (now when unknown), aged by the exchange's clock."""
    now = app.client.server_now_ms()
    t = exchange_time_ms if exchange_time_ms else now
    return common_pb2.Freshness(environment=app.environment, exchange_time_ms=t, age_ms=max(0, now - t), source=source)
