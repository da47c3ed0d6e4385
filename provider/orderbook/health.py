"""The order-book manager's health as typed values (what ``OrderBookManager.book_health`` returns).

Frozen dataclasses instead of dicts read with strings: a renamed field is a type error at every
reader, not a silent ``None``. ``to_dict`` gives the JSON form the metrics and tools show.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["BooksHealth", "SymbolBookHealth"]


@dataclass(frozen=True)
class SymbolBookHealth:
    """One tracked symbol's book.

    Attributes:
        state: the sync state's name verbatim (``SyncState``: BUFFERING, SYNCED, RESYNCING...).
        last_update_id: the book's ``lastUpdateId``, None before the first snapshot.
        event_time_ms: exchange time of the last depth event applied.
        age_ms: how long ago the book was last known current, None if never.
        resync_count / last_resync_reason: how often and why (gap, stall, drop...) it resynced.
        messages_per_s: depth stream messages a second, recent average.
        buffered_events: events held while waiting for a snapshot.
        stale_snapshots: snapshots refused as older than the stream.
        unsynced_ms: how long the book has not been SYNCED (0 while it is).
        quiet_checks: silent periods confirmed quiet by a top-of-book check.
        last_error: the current error (cleared once SYNCED), or None.
        role: ``local`` (one provider, its own stream), ``ingester`` (this replica holds the
            symbol's lease and publishes the book) or ``follower`` (it serves the published book).
        lease_fence: the fence of the lease this book comes from (replicas only), None without one.
    """

    state: str
    last_update_id: int | None
    event_time_ms: int | None
    age_ms: int | None
    resync_count: int
    last_resync_reason: str | None
    messages_per_s: float
    buffered_events: int
    stale_snapshots: int
    unsynced_ms: int
    quiet_checks: int
    last_error: str | None
    role: str = "local"
    lease_fence: int | None = None

    @property
    def synced(self) -> bool:
        """True while the book follows the stream (state SYNCED)."""
        return self.state == "SYNCED"


@dataclass(frozen=True)
class BooksHealth:
    """The manager as a whole: its connection, counters and every tracked symbol.

    Attributes:
        status: idle, connecting, connected, reconnecting or closed.
        connected: a stream connection is open.
        connection_age_s: seconds since it opened, None without one.
        streams: streams subscribed on it.
        reconnects / renewals: reconnects after failures, and planned renewals.
        max_symbols: the LRU's cap.
        last_error: the latest connection-level error, or None.
        symbols: each tracked symbol's health by name.
    """

    status: str
    connected: bool
    connection_age_s: float | None
    streams: int
    reconnects: int
    renewals: int
    max_symbols: int
    last_error: str | None
    symbols: Mapping[str, SymbolBookHealth] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (field names as keys)."""
        out = asdict(self)
        out["symbols"] = {name: asdict(sym) for name, sym in self.symbols.items()}
        return out
