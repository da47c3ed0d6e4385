"""Small helpers every handler uses: symbol resolution and freshness stamps."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from google.protobuf.message import Message

from contracts.binance.v1 import common_pb2
from provider.binance.rules import SymbolRules
from provider.errors import InvalidArgument

if TYPE_CHECKING:
    from provider.app import App


async def rules_for(app: App, symbol: str) -> SymbolRules:
    """The symbol's rules; any case accepted; an unknown symbol raises UnknownSymbol with near misses."""
    return await app.client.rules(symbol)


def server_now_ms(app: App) -> int:
    """Our best estimate of the exchange's clock (the client's clock, corrected by the measured offset)."""
    return app.client.server_now_ms()


def freshness(app: App, exchange_time_ms: int | None, source: str = "rest") -> common_pb2.Freshness:
    now = server_now_ms(app)
    t = exchange_time_ms if exchange_time_ms else now
    return common_pb2.Freshness(environment=app.environment, exchange_time_ms=t, age_ms=max(0, now - t), source=source)


def optional(req: Message, name: str) -> Any:
    """An optional field's value, or None when the caller did not set it."""
    return getattr(req, name) if req.HasField(name) else None


DAY_MS = 24 * 60 * 60 * 1000


def check_window(start_ms: int | None, end_ms: int | None) -> None:
    """Binance allows at most 24 h between startTime and endTime on account history endpoints."""
    if start_ms is not None and end_ms is not None:
        if end_ms < start_ms:
            raise InvalidArgument(f"end_time_ms ({end_ms}) is before start_time_ms ({start_ms})")
        if end_ms - start_ms > DAY_MS:
            raise InvalidArgument("start_time_ms and end_time_ms must be at most 24 h (86400000 ms) apart")
