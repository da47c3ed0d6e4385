"""The running sandbox's state: one object the HTTP and WebSocket shells share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator.clock import Clock
from simulator.config import SimConfig
from simulator.engine import Engine
from simulator.exchange import Market
from simulator.faults import Faults
from simulator.weights import OrderCounter, WeightLimiter

WARMUP_MS = 60_000
WARMUP_STEPS = 300
DEFAULT_API_RESTRICTIONS: dict[str, Any] = {
    "ipRestrict": False,
    "createTime": 1_700_000_000_000,
    "enableReading": True,
    "enableWithdrawals": False,
    "enableInternalTransfer": False,
    "enableMargin": False,
    "enableFutures": False,
    "permitsUniversalTransfer": False,
    "enableVanillaOptions": False,
    "enableFixApiTrade": False,
    "enableFixReadOnly": False,
    "enableSpotAndMarginTrading": True,
    "enablePortfolioMarginTrading": False,
}
"""A sandbox key's permissions: it reads and trades spot, cannot withdraw, has no IP whitelist."""


@dataclass
class Sim:
    """Config, clock, market, account and rate-limit state of one sandbox process."""

    config: SimConfig
    clock: Clock
    market: Market
    engine: Engine
    limiter: WeightLimiter
    orders: OrderCounter
    faults: Faults = field(default_factory=lambda: Faults())
    market_running: bool = True
    strict: bool = True
    """Binance's strictness (lower-case symbols -1100, unread parameters -1104); `--lenient`."""
    api_restrictions: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_API_RESTRICTIONS))
    """`GET /sapi/v1/account/apiRestrictions` (fault `api_restrictions` changes it)."""

    def on_market_step(self, symbol: str, now_ms: int) -> None:
        """One synthetic market event on `symbol`."""
        self.market.symbols[symbol].maker.step(self.engine, now_ms)

    @classmethod
    def create(cls, config: SimConfig) -> Sim:
        clock = Clock()
        now = clock.now_ms()
        market = Market(config.symbols, config.seed, now - WARMUP_MS)
        sim = cls(
            config=config,
            clock=clock,
            market=market,
            engine=Engine(market),
            limiter=WeightLimiter(config.weight_limit, config.ban_seconds),
            orders=OrderCounter(config.orders_10s, config.orders_1d),
            strict=config.strict,
        )
        sim.engine.on_first_fill = sim.orders.filled  # "filled orders decrement the count"
        sim.warm_up(now)
        return sim

    def warm_up(self, now_ms: int) -> None:
        """Run the synthetic market over the minute before start so the tape is not empty."""
        names = sorted(self.market.symbols)
        for i in range(WARMUP_STEPS):
            t = now_ms - WARMUP_MS + WARMUP_MS * i // WARMUP_STEPS
            for name in names:
                self.on_market_step(name, t)
