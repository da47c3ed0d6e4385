"""Local order books: a sans-I/O core (`book`, `sync`) under an asyncio stream manager."""

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
