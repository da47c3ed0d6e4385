"""The Binance exchange client: REST transport, signing, clock offset, weight governor, rules.

Callers use :class:`BinanceClient` (``client.py``); the pure cores (``auth``, ``clock``,
``governor``, ``rules``, ``retry``) are importable on their own for tests and tools.
"""

from provider.binance.client import BinanceClient, BinanceResult, ClientConfig, ResponseMeta
from provider.binance.environment import Environment, EnvironmentKind
from provider.binance.rules import ExchangeRules, SymbolRules, Violation

__all__ = [
    "BinanceClient",
    "BinanceResult",
    "ClientConfig",
    "Environment",
    "EnvironmentKind",
    "ExchangeRules",
    "ResponseMeta",
    "SymbolRules",
    "Violation",
]
