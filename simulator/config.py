"""Typed sandbox settings, built once from the CLI (see `simulator/__main__.py`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from simulator.keys import Credentials
from simulator.symbols import DEFAULT_SYMBOLS, SymbolSpec


@dataclass(frozen=True)
class SimConfig:
    """Everything `create_app` needs."""

    credentials: Credentials
    seed: int = 1
    symbols: dict[str, SymbolSpec] = field(default_factory=lambda: dict(DEFAULT_SYMBOLS))
    faults: bool = False
    rate: float = 20.0
    """Synthetic market events per second per symbol."""
    weight_limit: int = 6000
    orders_10s: int = 50
    orders_1d: int = 160_000
    ws_ping_interval: float = 20.0
    ws_pong_timeout: float = 60.0
    conn_lifetime: float = 24 * 3600.0
    ws_api_lifetime: float = 24 * 3600.0
    """Maximum age of a WebSocket API connection (seconds)."""
    ban_seconds: float = 120.0
    strict: bool = True
    """Refuse lower-case symbols (-1100) and parameters an endpoint does not read (-1104)."""
