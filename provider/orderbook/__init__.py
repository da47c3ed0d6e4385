"""Local order books: a sans-I/O core (`book`, `sync`) under an asyncio stream manager.

Names are imported on first use (PEP 562), so importing a pure core (or `lru`) does not drag in
the stream manager and its WebSocket client.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from provider.orderbook.book import BookError, DiffOutcome, Level, OrderBook, Side
    from provider.orderbook.manager import BookView, OrderBookManager, SnapshotFetcher
    from provider.orderbook.sync import BookSync, SyncState

__all__ = [
    "BookError",
    "BookSync",
    "BookView",
    "DiffOutcome",
    "Level",
    "OrderBook",
    "OrderBookManager",
    "Side",
    "SnapshotFetcher",
    "SyncState",
]

_HOMES = {
    "BookError": "book", "DiffOutcome": "book", "Level": "book", "OrderBook": "book", "Side": "book",
    "BookView": "manager", "OrderBookManager": "manager", "SnapshotFetcher": "manager",
    "BookSync": "sync", "SyncState": "sync",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'provider.orderbook' has no attribute {name!r}")
    return getattr(importlib.import_module(f"provider.orderbook.{home}"), name)
