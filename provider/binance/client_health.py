"""The exchange client's health as typed values (what ``BinanceClient.health`` returns).

Frozen dataclasses instead of dicts read with strings: ``provider/health.py`` decides gRPC health
from these fields, the metrics read ``to_dict()``. No secrets: the credentials are named by kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["ClientHealth", "ExchangeFailure"]


@dataclass(frozen=True)
class ExchangeFailure:
    """The latest failed call that was not the caller's mistake.

    Attributes:
        kind: the error class name from ``provider/errors.py`` (``ExchangeUnreachable``...).
        endpoint: the client method's endpoint name (``ticker``, ``new_order``...).
        message: the error's message (no secrets: the client never puts them in one).
        binance_code: Binance's error code, when the exchange sent one.
        at_ms: local wall-clock time of the failure (epoch ms).
    """

    kind: str
    endpoint: str
    message: str
    binance_code: int | None
    at_ms: int


@dataclass(frozen=True)
class ClientHealth:
    """Environment, clock, request weight, order limits and the latest failure and success.

    The weight fields mirror ``WeightGovernor.snapshot`` and the order fields
    ``OrderRateLimiter.snapshot`` (the client picks the keys named here). Times ``*_until`` are
    server-clock epoch seconds, None when not in force.
    """

    environment: str
    rest_url: str
    ws_url: str
    credentials: str
    clock_offset_ms: int | None
    clock_rtt_ms: int | None
    clock_age_s: float | None
    exchange_info_age_s: float | None
    symbols: int
    requests_sent: int
    requests_coalesced: int
    last_error: ExchangeFailure | None
    last_ok_at_ms: int | None
    used_weight: int
    weight_limit: int
    weight_budget: int
    interval_s: int
    weight_limit_source: str
    last_used_weight_header: int | None
    rate_limited_until: float | None
    banned_until: float | None
    order_limits: Mapping[str, int] = field(default_factory=dict)
    order_counts: Mapping[str, int] = field(default_factory=dict)
    orders_held_until: float | None = None

    @property
    def banned(self) -> bool:
        """True while the IP is banned (HTTP 418): no REST call is sent until it ends."""
        return self.banned_until is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (field names as keys, ``last_error`` as a nested object)."""
        out = asdict(self)
        out["order_limits"], out["order_counts"] = dict(self.order_limits), dict(self.order_counts)
        return out
