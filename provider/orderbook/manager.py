"""The I/O shell: one multiplexed Binance stream connection feeding a :class:`BookSync` per symbol.

It decides no protocol question itself: ``sync.py`` says what each symbol needs (snapshots,
publishes, resyncs) and ``connection_plan.py`` what the connection owes (subscribe batches, which
symbol follows a renewed connection and when, which silent symbols to check and probe). This module
reads the clock, holds the sockets and tasks, and performs their actions.

What it does, and why (shared/reference/binance-spot-api.md §6-§7):

- Lazy start: nothing connects until the first :meth:`OrderBookManager.get_book`.
- ONE connection to the combined endpoint ``/stream?streams=...`` (payloads wrapped as
  ``{"stream", "data"}``); symbols added later are SUBSCRIBEd and evicted ones UNSUBSCRIBEd in
  batched control messages, at most ``CONTROL_RATE_PER_S`` a second (Binance: 5 incoming messages a
  second including pongs; 1024 streams per connection).
- Each symbol follows ``<symbol>@depth@100ms`` through its :class:`BookSync`; this module only
  performs the actions it returns (fetch a snapshot, publish, count a resync). A gap, a crossed
  book or a stall resyncs that symbol only.
- LRU of ``max_symbols`` books (:class:`SymbolLRU` decides what to stop).
- Unexpected disconnect: every book is marked RESYNCING (the last good one stays readable) and the
  connection comes back with jittered exponential backoff; each book then resyncs.
- Planned renewal before Binance's 24 h cut (``conn_max_lifetime_s``) or on ``serverShutdown``:
  a new connection is opened and subscribed *before* the old one closes; each symbol switches
  over once the new connection's events bridge its book (``U <= local + 1``), so no gap and no
  resync. Pings are answered by ``websockets`` itself.
- Snapshots follow Binance's procedure: a symbol's snapshot waits for its first event (its ``U``);
  a snapshot older than that is fetched again after a backoff (``sync.py`` Rules 2-3). A market
  that stays silent after subscribing is synced from a snapshot taken ``quiet_after_s`` later,
  unconfirmed until its first event (Rule 2b).
- Quiet market or dead stream: a synced symbol silent for ``stall_after_s`` is *not* probed one
  by one (a weight-50 snapshot each). The connection's own liveness tells a dead stream: another
  symbol's traffic, or a ping answered within ``ping_timeout_s`` (else the connection is dropped
  and every book resyncs). When ``fetch_tops`` is given, one combined ``ticker/bookTicker`` call
  (weight 4, whatever the number of symbols) compares each silent book's top of book with the
  exchange's; only a symbol whose top differs, with still no event after ``top_grace_s``, is probed
  with a snapshot (a newer snapshot means the stream missed updates: a resync). A lost change
  below the top of book is not seen by that check; the symbol's next event finds it (its ``U``
  skips an id: a gap, so a resync).
- A reader asking for a symbol that is still starting gets a REST snapshot within its deadline,
  marked ``source="rest"``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from urllib.parse import quote

import structlog
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from common.backoff import backoff_delay
from provider.binance.wss import ssl_for
from provider.errors import RateLimited
from provider.orderbook.book import BookError, Level, OrderBook, Side
from provider.orderbook.connection_plan import (
    CONTROL_RATE_PER_S,
    BridgePlan,
    CheckSilent,
    ControlMessage,
    Feed,
    FetchQuiet,
    KeepOld,
    SilentSymbol,
    Subscribe,
    SubscriptionPlan,
    SymbolTimes,
    check_capacity,
    judge_tops,
    needs_ping,
    plan_probes,
    plan_silence_check,
    plan_upkeep,
    renewal_delay,
    stream_name,
    watch_period,
)
from provider.orderbook.health import BooksHealth, SymbolBookHealth
from provider.orderbook.lru import SymbolLRU
from provider.orderbook.sync import (
    Action,
    BookSync,
    DepthEvent,
    FetchSnapshot,
    Publish,
    Resync,
    Snapshot,
    SyncState,
)

__all__ = ["BookObserver", "BookView", "Books", "OrderBookManager", "SnapshotFetcher", "TopsFetcher", "tops_via"]

SnapshotFetcher = Callable[[str, int], Awaitable[Mapping[str, Any]]]
"""``fetch_snapshot(symbol, limit)`` -> the JSON of ``GET /api/v3/depth``."""

BookObserver = Callable[[str, BookSync, DepthEvent | None], None]
"""``observer(symbol, sync, event)`` after each Publish or Resync of a symbol's sync: ``event`` is the
depth event whose feed produced it (None for a snapshot, a probe or a settle). Replicated books use
it to publish the ingester's book (``provider/orderbook/replicated.py``); it must not block."""

TopsFetcher = Callable[[list[str]], Awaitable[Sequence[Mapping[str, Any]]]]
"""``fetch_tops(symbols)`` -> the JSON of ``GET /api/v3/ticker/bookTicker?symbols=[...]``:
``[{"symbol", "bidPrice", "bidQty", "askPrice", "askQty"}, ...]`` (one call, weight 4)."""



def tops_via(book_ticker: Callable[..., Awaitable[Any]]) -> TopsFetcher:
    """A :data:`TopsFetcher` from the Binance client's ``book_ticker(symbols=[...])`` (one call)."""

    async def fetch(symbols: list[str]) -> Sequence[Mapping[str, Any]]:
        result = await book_ticker(symbols=symbols)
        data = getattr(result, "data", result)
        return data if isinstance(data, list) else [data]

    return fetch


_SWITCHOVER_S = 5.0
_RATE_WINDOW_S = 5.0
_FAILURES_BEFORE_DROP = 3


@dataclass(frozen=True, slots=True)
class BookView:
    """A consistent copy of one book handed to a reader, with its freshness.

    ``state`` is the sync state's name: ``SYNCED`` means the book follows the stream; ``RESYNCING``
    means this is the last good book while a resync runs; ``BUFFERING``/``STARTING`` go with
    ``source="rest"``, a one-off snapshot served while the stream starts.
    """

    symbol: str
    state: str
    source: Literal["stream", "rest"]
    last_update_id: int
    event_time_ms: int | None
    age_ms: int
    resync_count: int
    bid_levels_known: int
    ask_levels_known: int
    _book: OrderBook = field(repr=False)
    unsynced_ms: int = 0
    """How long the symbol has not been SYNCED (0 when it is)."""
    warning: str = ""
    """Why this book is not a SYNCED stream book, and for how long; empty when it is."""

    @property
    def synced(self) -> bool:
        """True only for a book that follows the live stream."""
        return self.state == SyncState.SYNCED.name and self.source == "stream"

    def levels(self, n: int) -> tuple[list[Level], list[Level]]:
        """The best ``n`` levels per side: ``(bids high->low, asks low->high)``."""
        return self._book.levels(n)

    def bids(self, n: int) -> list[Level]:
        """The best ``n`` bids."""
        return self._book.bids(n)

    def asks(self, n: int) -> list[Level]:
        """The best ``n`` asks."""
        return self._book.asks(n)

    @property
    def is_crossed(self) -> bool:
        """Never True for a view this manager serves; here so callers can assert it."""
        return self._book.is_crossed()


class Books(Protocol):
    """What the services read live books through: one :class:`OrderBookManager`, or replicas sharing
    one ingester per book (``replicated.ReplicatedBooks``)."""

    async def get_book(self, symbol: str, *, timeout_s: float) -> BookView:
        """A book for ``symbol`` within ``timeout_s``; starts tracking it on first use."""
        ...

    def book_health(self) -> BooksHealth:
        """Overall and per-symbol health."""
        ...

    def health(self) -> dict[str, Any]:
        """:meth:`book_health` in its JSON form."""
        ...

    async def close(self) -> None:
        """Stop everything; idempotent."""
        ...


@dataclass
class _Symbol:
    """Per-symbol shell state around the pure sync machine."""

    name: str
    sync: BookSync
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    fetch_task: asyncio.Task[None] | None = None
    event_time_ms: int | None = None
    last_publish: float | None = None  # monotonic time the book was last known current
    last_event: float = 0.0  # monotonic time of the last depth event received
    last_probe: float = 0.0
    subscribed_at: float | None = None  # monotonic time its subscription was confirmed live
    unsynced_since: float | None = None  # monotonic time it left SYNCED (or was first tracked)
    last_settle: float = 0.0  # monotonic time of the last periodic settle
    quiet_checks: int = 0  # silent periods confirmed quiet (no weight spent on the symbol)
    last_error: str | None = None
    failures: int = 0
    window_start: float = 0.0
    view_src: OrderBook | None = None  # the live book the cached copy was taken from
    view_copy: OrderBook | None = None  # readers share one copy per update id (~0.4 ms at 5000)
    window_count: int = 0
    rate: float = 0.0

    def count_message(self, now: float) -> None:
        self.window_count += 1
        self.last_event = now
        if now - self.window_start >= _RATE_WINDOW_S:
            self.rate = self.window_count / max(now - self.window_start, 1e-9)
            self.window_start, self.window_count = now, 0


@dataclass
class _Conn:
    """One stream connection and its bookkeeping."""

    ws: ClientConnection
    opened_at: float
    streams: set[str]
    acks: dict[int, list[str]] = field(default_factory=dict)
    reader: asyncio.Task[None] | None = None


@dataclass
class _Switchover:
    """A planned renewal in progress: ``new`` is subscribed, ``old`` still feeds; ``plan``
    decides when each symbol follows ``new`` (``connection_plan`` Rule 4)."""

    old: _Conn
    new: _Conn
    plan: BridgePlan
    done: asyncio.Event = field(default_factory=asyncio.Event)


class OrderBookManager:
    """Self-healing local books for up to ``max_symbols`` symbols over one stream connection.

    Args:
        ws_base_url: stream base, e.g. ``wss://stream.binance.com:9443`` or the sandbox ``ws_url``.
        fetch_snapshot: ``(symbol, limit) -> depth JSON``; the production caller passes the Binance
            client's governed depth call, so weights (50 at limit 1000, 250 at 5000) are counted.
        max_symbols: books kept; the least recently requested one beyond it is stopped.
        snapshot_limit: REST depth ``limit`` (1..5000).
        max_levels: trim each side to this many levels (None: keep what the stream sends).
        stall_after_s: a synced symbol silent this long is checked (quiet market or dead stream).
        quiet_after_s: a subscribed symbol with no event this long is synced from a snapshot
            (Rule 2b of ``sync.py``).
        fetch_tops: one combined top-of-book call for many symbols (``ticker/bookTicker``); None:
            a silent symbol on a live connection is taken as quiet.
        top_grace_s: how long an event may be in flight after a top-of-book mismatch.
        ping_timeout_s: a connection whose ping is not answered this fast is dropped.
        conn_max_lifetime_s: renew the connection after this long (Binance cuts at 24 h).
        snapshot_timeout_s: deadline of one snapshot fetch.
        backoff_base_s / backoff_cap_s: reconnect and snapshot-retry backoff (jittered).
        clock: monotonic seconds (injected for tests); rng: jitter source.
        observer: told of every Publish and Resync (:data:`BookObserver`).
    """

    def __init__(
        self,
        ws_base_url: str,
        fetch_snapshot: SnapshotFetcher,
        *,
        max_symbols: int = 20,
        snapshot_limit: int = 1000,
        max_levels: int | None = 5000,
        stall_after_s: float = 30.0,
        quiet_after_s: float = 3.0,
        fetch_tops: TopsFetcher | None = None,
        top_grace_s: float = 1.0,
        ping_timeout_s: float = 10.0,
        conn_max_lifetime_s: float = 23.5 * 3600,
        snapshot_timeout_s: float = 10.0,
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        logger: Any = None,
        observer: BookObserver | None = None,
    ) -> None:
        check_capacity(max_symbols)
        if not 1 <= snapshot_limit <= 5000:
            raise ValueError("snapshot_limit must be within 1..5000")
        self._base = ws_base_url.rstrip("/")
        self._fetch_snapshot = fetch_snapshot
        self._snapshot_limit = snapshot_limit
        self._max_levels = max_levels
        self._stall_after_s = stall_after_s
        self._quiet_after_s = quiet_after_s
        self._fetch_tops = fetch_tops
        self._top_grace_s = top_grace_s
        self._ping_timeout_s = ping_timeout_s
        self._last_traffic = 0.0  # monotonic time of the last frame on the active connection
        self._quiet_task: asyncio.Task[None] | None = None
        self._lifetime_s = conn_max_lifetime_s
        self._snapshot_timeout_s = snapshot_timeout_s
        self._backoff = (backoff_base_s, backoff_cap_s)
        self._clock = clock
        self._rng = rng or random.Random()
        self._log = logger or structlog.get_logger("provider.orderbook")
        self._lru = SymbolLRU(max_symbols)
        self._symbols: dict[str, _Symbol] = {}
        self._subs = SubscriptionPlan()
        self._wakeup = asyncio.Event()  # symbols changed: connect / flush control messages
        self._renew = asyncio.Event()
        self._conn: _Conn | None = None
        self._switch: _Switchover | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False
        self._status = "idle"
        self._last_error: str | None = None
        self._reconnects = 0
        self._renewals = 0
        self._next_msg_id = 0
        self._observer = observer
        self._feeding: DepthEvent | None = None  # the event being fed, for the observer

    # -- public API --------------------------------------------------------------------------

    async def get_book(self, symbol: str, *, timeout_s: float) -> BookView:
        """A book for ``symbol``, within ``timeout_s``; starts tracking it on first use.

        Raises:
            RuntimeError: the manager is closed.
            TimeoutError: neither the stream nor a REST snapshot answered in time.
            Exception: whatever ``fetch_snapshot`` raised for the REST fallback (e.g. an invalid
                symbol error from the Binance client).
        """
        if self._closed:
            raise RuntimeError("OrderBookManager is closed")
        name = symbol.upper()
        sym = self._track(name)
        view = self._view(sym)
        if view is not None:
            return view
        deadline = self._clock() + timeout_s
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(sym.ready.wait(), timeout=timeout_s * 0.5)
        view = self._view(sym)
        if view is not None:
            return view
        remaining = max(deadline - self._clock(), 0.001)
        snap = await asyncio.wait_for(self._snapshot_within_limit(name), timeout=remaining)
        book = OrderBook(max_levels=self._max_levels)
        book.apply_snapshot(snap.last_update_id, snap.bids, snap.asks,
                            depth_limit=snap.depth_limit)
        unsynced_ms, warning = self._unsynced(sym, "rest")
        return BookView(
            name, sym.sync.state.name, "rest", snap.last_update_id, None, 0,
            sym.sync.resync_count, book.exact_depth(Side.BID), book.exact_depth(Side.ASK), book,
            unsynced_ms, warning,
        )

    def book_health(self) -> BooksHealth:
        """Overall and per-symbol health (state names verbatim from :class:`SyncState`)."""
        now = self._clock()
        conn = self._conn
        symbols = {}
        for name, sym in self._symbols.items():
            book = sym.sync.book
            symbols[name] = SymbolBookHealth(
                state=sym.sync.state.name,
                last_update_id=None if book is None else book.last_update_id,
                event_time_ms=sym.event_time_ms,
                age_ms=None if sym.last_publish is None else int((now - sym.last_publish) * 1e3),
                resync_count=sym.sync.resync_count,
                last_resync_reason=sym.sync.last_reason,
                messages_per_s=round(self._rate(sym, now), 3),
                buffered_events=sym.sync.buffered,
                stale_snapshots=sym.sync.stale_snapshots,
                unsynced_ms=self._unsynced(sym, "stream")[0],
                quiet_checks=sym.quiet_checks,
                last_error=sym.last_error,
            )
        return BooksHealth(
            status=self._status,
            connected=conn is not None,
            connection_age_s=None if conn is None else round(now - conn.opened_at, 3),
            streams=0 if conn is None else len(conn.streams),
            reconnects=self._reconnects,
            renewals=self._renewals,
            max_symbols=self._lru.max_symbols,
            last_error=self._last_error,
            symbols=symbols,
        )

    def health(self) -> dict[str, Any]:
        """:meth:`book_health` in its JSON form (what the metrics and the health tool read)."""
        return self.book_health().to_dict()

    async def close(self) -> None:
        """Stop every task and close the connection(s); idempotent."""
        self._closed = True
        self._status = "closed"
        tasks = list(self._tasks)
        if self._quiet_task is not None:
            tasks.append(self._quiet_task)
        for sym in self._symbols.values():
            sym.sync.stop()
            if sym.fetch_task is not None:
                tasks.append(sym.fetch_task)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        conns = [self._conn] + ([self._switch.new] if self._switch is not None else [])
        for conn in conns:
            if conn is not None:
                await self._close_conn(conn)
        self._conn = self._switch = None

    def track(self, symbol: str) -> None:
        """Start following ``symbol`` now, without waiting for its book (an ingester's start)."""
        if self._closed:
            raise RuntimeError("OrderBookManager is closed")
        self._track(symbol.upper())

    def sync_of(self, symbol: str) -> BookSync | None:
        """The sync machine of a tracked symbol (read it, never drive it), None if untracked."""
        sym = self._symbols.get(symbol.upper())
        return None if sym is None else sym.sync

    def untrack(self, symbol: str) -> None:
        """Stop following ``symbol`` (unsubscribe); its book is gone."""
        self._untrack(symbol.upper())

    def renew_connection(self) -> None:
        """Ask for a planned renewal now (what ``serverShutdown`` triggers)."""
        self._renew.set()

    # -- bookkeeping -------------------------------------------------------------------------

    def _track(self, name: str) -> _Symbol:
        for evicted in self._lru.touch(name, self._clock()):
            self._untrack(evicted)
        sym = self._symbols.get(name)
        if sym is None:
            sym = _Symbol(name, BookSync(max_levels=self._max_levels))
            sym.window_start = sym.last_event = sym.unsynced_since = self._clock()
            self._symbols[name] = sym
            self._subs.track(name)
            self._log.info("orderbook.track", symbol=name)
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._supervise(), name="orderbook-supervisor"),
                asyncio.create_task(self._watch_stalls(), name="orderbook-stalls"),
            ]
        self._wakeup.set()
        return sym

    def _untrack(self, name: str) -> None:
        sym = self._symbols.pop(name, None)
        self._lru.discard(name)
        if sym is None:
            return
        sym.sync.stop()
        if sym.fetch_task is not None:
            sym.fetch_task.cancel()
        self._subs.untrack(name)
        self._wakeup.set()
        self._log.info("orderbook.untrack", symbol=name)

    def _view(self, sym: _Symbol) -> BookView | None:
        self._perform(sym, sym.sync.settle())  # book.py Rule 7: never serve an unchecked book
        book = sym.sync.book
        if book is None or book.last_update_id is None:
            return None
        age = 0 if sym.last_publish is None else int((self._clock() - sym.last_publish) * 1e3)
        copy = sym.view_copy
        if sym.view_src is not book or copy is None or copy.last_update_id != book.last_update_id:
            copy = sym.view_copy = book.copy()
            sym.view_src = book
        unsynced_ms, warning = self._unsynced(sym, "stream")
        return BookView(
            sym.name, sym.sync.state.name, "stream", book.last_update_id, sym.event_time_ms, age,
            sym.sync.resync_count, book.exact_depth(Side.BID), book.exact_depth(Side.ASK), copy,
            unsynced_ms, warning,
        )

    def _unsynced(self, sym: _Symbol, source: str) -> tuple[int, str]:
        """(ms not SYNCED, why) for a served book; (0, "") for a SYNCED stream book."""
        state = sym.sync.state
        if state is SyncState.SYNCED and source == "stream":
            return 0, ""
        since = sym.unsynced_since
        ms = 0 if since is None else int((self._clock() - since) * 1000)
        reason = sym.last_error or sym.sync.last_note or sym.sync.last_reason or "waiting for the stream"
        if source == "rest":
            return ms, (f"a one-off REST snapshot, not a live book: the stream is {state.name} "
                        f"for {ms / 1000:.0f} s ({reason})")
        return ms, (f"{state.name} for {ms / 1000:.0f} s: the last good book, levels may be out "
                    f"of date ({reason})")

    def _rate(self, sym: _Symbol, now: float) -> float:
        elapsed = now - sym.window_start
        if elapsed >= _RATE_WINDOW_S:
            return sym.window_count / elapsed
        return sym.rate

    # -- actions -----------------------------------------------------------------------------

    def _feed(self, sym: _Symbol, event: DepthEvent) -> None:
        self._feeding = event
        try:
            self._perform(sym, sym.sync.feed(event))
        finally:
            self._feeding = None

    def _perform(self, sym: _Symbol, actions: list[Action]) -> None:
        for action in actions:
            if self._observer is not None and isinstance(action, (Publish, Resync)):
                self._observer(sym.name, sym.sync, self._feeding)
            if isinstance(action, FetchSnapshot):
                if sym.fetch_task is not None:
                    sym.fetch_task.cancel()
                sym.fetch_task = asyncio.create_task(
                    self._fetch(sym, action.request_id, action.attempt),
                    name=f"orderbook-snapshot-{sym.name}",
                )
            elif isinstance(action, Publish):
                sym.last_error = None  # healthy again: the last error is history
                sym.unsynced_since = None
                sym.last_publish = self._clock()
                if action.event_time_ms is not None:
                    sym.event_time_ms = action.event_time_ms
                sym.ready.set()
            elif isinstance(action, Resync):
                if sym.unsynced_since is None:
                    sym.unsynced_since = self._clock()
                self._log.warning("orderbook.resync", symbol=sym.name, reason=action.reason,
                                  resync_count=sym.sync.resync_count)

    async def _snapshot_within_limit(self, name: str) -> Snapshot:
        """One snapshot, with fewer levels when the full depth weighs more than the limit."""
        limit = self._snapshot_limit
        while True:
            try:
                data = await self._fetch_snapshot(name, limit)
            except RateLimited as exc:
                long_wait = exc.retry_after_s is None or exc.retry_after_s > self._backoff[1]
                if not long_wait or _smaller_depth(limit) == limit:
                    raise
                limit = _smaller_depth(limit)
                continue
            return Snapshot.from_payload(data, depth_limit=limit)

    async def _fetch(self, sym: _Symbol, request_id: int, refetch: int = 0) -> None:
        if refetch > 0:  # the last snapshot was older than the stream: give the REST copy time
            await asyncio.sleep(backoff_delay(refetch - 1, base_s=self._backoff[0],
                                              cap_s=self._backoff[1], rng=self._rng))
        attempt = 0
        limit = self._snapshot_limit
        while sym.sync.awaiting_snapshot == request_id and not self._closed:
            try:
                data = await asyncio.wait_for(
                    self._fetch_snapshot(sym.name, limit), timeout=self._snapshot_timeout_s,
                )
                snap = Snapshot.from_payload(data, depth_limit=limit)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the fetcher's errors are its own; record and retry
                sym.failures += 1
                sym.last_error = f"snapshot: {type(exc).__name__}: {exc}"
                self._log.warning("orderbook.snapshot_failed", symbol=sym.name,
                                  error=sym.last_error, attempt=attempt, limit=limit)
                if isinstance(exc, RateLimited) and (
                        exc.retry_after_s is None or exc.retry_after_s > self._backoff[1]):
                    # Heavier than the whole weight limit (it dropped), or not before long: a
                    # book with fewer levels now beats none (the next resync asks for all again).
                    limit = _smaller_depth(limit)
                if (sym.sync.book is None and sym.failures >= _FAILURES_BEFORE_DROP
                        and not getattr(exc, "retry_safe", False)
                        and self._symbols.get(sym.name) is sym):
                    sym.fetch_task = None
                    self._untrack(sym.name)  # e.g. an unknown symbol: stop paying weight for it
                    return
                delay = backoff_delay(attempt, base_s=self._backoff[0], cap_s=self._backoff[1],
                                      rng=self._rng)
                retry_after = getattr(exc, "retry_after_s", None)
                if isinstance(retry_after, (int, float)):  # the governor said when: no spinning
                    delay = max(delay, min(float(retry_after), self._backoff[1]))
                await asyncio.sleep(delay)
                attempt += 1
                continue
            sym.failures = 0
            sym.fetch_task = None
            self._perform(sym, sym.sync.on_snapshot(request_id, snap))
            return

    # -- stream messages ---------------------------------------------------------------------

    def _on_message(self, conn: _Conn, raw: str | bytes) -> None:
        if conn is self._conn:
            self._last_traffic = self._clock()
        try:
            msg = json.loads(raw)
        except ValueError:
            self._last_error = "stream: invalid JSON"
            return
        if not isinstance(msg, dict):
            return
        if "stream" in msg and isinstance(msg.get("data"), dict):
            data = msg["data"]
            if data.get("e") == "depthUpdate":
                self._on_depth(conn, str(msg["stream"]), data)
            elif data.get("e") == "serverShutdown":
                self._log.warning("orderbook.server_shutdown")
                self._renew.set()
        elif msg.get("e") == "serverShutdown":
            self._log.warning("orderbook.server_shutdown")
            self._renew.set()
        elif "id" in msg and "result" in msg:
            self._on_ack(conn, msg["id"])
        elif "code" in msg:
            self._last_error = f"stream control error {msg.get('code')}: {msg.get('msg')}"
            self._log.warning("orderbook.control_error", code=msg.get("code"), msg=msg.get("msg"))

    def _on_ack(self, conn: _Conn, msg_id: Any) -> None:
        names = conn.acks.pop(msg_id, []) if isinstance(msg_id, int) else []
        if conn is not self._conn:
            return
        for name in names:
            sym = self._symbols.get(name)
            if sym is not None:
                sym.subscribed_at = self._clock()
                self._perform(sym, sym.sync.on_subscribed())

    def _on_depth(self, conn: _Conn, stream: str, data: Mapping[str, Any]) -> None:
        sym = self._symbols.get(str(data.get("s") or stream.split("@", 1)[0].upper()))
        if sym is None:
            return
        try:
            event = DepthEvent.from_payload(data)
        except BookError as exc:
            sym.last_error = str(exc)
            return
        switch = self._switch
        if switch is None:
            if conn is self._conn:
                sym.count_message(self._clock())
                self._feed(sym, event)
            return
        if conn is switch.old:
            sym.count_message(self._clock())
            self._feed(sym, event)
            self._perform_feeds(switch.plan.drain(sym.name, _last_update_id(sym)))
        elif conn is switch.new:
            book = sym.sync.book
            self._perform_feeds(switch.plan.on_new_event(
                sym.name, event, synced=sym.sync.state is SyncState.SYNCED and book is not None,
                last_update_id=_last_update_id(sym)))
        if switch.plan.complete(self._symbols):
            switch.done.set()

    def _perform_feeds(self, feeds: list[Feed]) -> None:
        for feed in feeds:
            sym = self._symbols.get(feed.symbol)
            if sym is None:
                continue
            if feed.live:
                sym.count_message(self._clock())
            for event in feed.events:
                self._feed(sym, event)

    # -- connection lifecycle ----------------------------------------------------------------

    def _url(self, streams: list[str]) -> str:
        # Unicode symbols (Binance, since 2025-12) travel percent-encoded in the URL.
        return f"{self._base}/stream?streams={quote('/'.join(streams), safe='/@')}"

    async def _open(self) -> _Conn:
        streams = self._subs.opened(self._symbols)
        url = self._url(streams)
        ws = await connect(url, proxy=None, max_size=2**24, open_timeout=10, ssl=ssl_for(url))
        conn = _Conn(ws, self._clock(), set(streams))
        conn.reader = asyncio.create_task(self._read(conn), name="orderbook-reader")
        return conn

    async def _read(self, conn: _Conn) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in conn.ws:
                self._on_message(conn, raw)

    async def _close_conn(self, conn: _Conn) -> None:
        if conn.reader is not None:
            conn.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await conn.reader
        with contextlib.suppress(Exception):
            await conn.ws.close()

    async def _supervise(self) -> None:
        attempt = 0
        while not self._closed:
            if not self._symbols:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            self._status = "connecting" if attempt == 0 else "reconnecting"
            try:
                conn = await self._open()
            except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
                self._last_error = f"connect: {type(exc).__name__}: {exc}"
                self._log.warning("orderbook.connect_failed", error=self._last_error)
                await asyncio.sleep(backoff_delay(attempt, base_s=self._backoff[0],
                                                  cap_s=self._backoff[1], rng=self._rng))
                attempt += 1
                continue
            attempt = 0
            self._conn, self._status = conn, "connected"
            self._log.info("orderbook.connected", streams=len(conn.streams))
            self._subscribed(conn)
            await self._serve()
            if self._closed:
                return
            self._reconnects += 1
            self._log.warning("orderbook.disconnected", reconnects=self._reconnects)
            for sym in self._symbols.values():
                sym.subscribed_at = None
                self._perform(sym, sym.sync.on_disconnect())

    def _subscribed(self, conn: _Conn) -> None:
        now = self._clock()
        for sym in self._symbols.values():
            if stream_name(sym.name) in conn.streams:
                sym.subscribed_at = now
                self._perform(sym, sym.sync.on_subscribed())

    async def _serve(self) -> None:
        """Run the active connection until it drops; renew it in place when asked or aged."""
        renew_attempt = 0
        while not self._closed and self._conn is not None:
            conn = self._conn
            assert conn.reader is not None
            control = asyncio.create_task(self._control(conn), name="orderbook-control")
            renew = asyncio.create_task(self._renew_due(conn), name="orderbook-renew-timer")
            try:
                await asyncio.wait({conn.reader, renew}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                control.cancel()
                renew.cancel()
                await asyncio.gather(control, renew, return_exceptions=True)
            if conn.reader.done():
                await self._close_conn(conn)
                self._conn, self._status = None, "reconnecting"
                return
            self._renew.clear()
            if await self._switch_over(conn):
                renew_attempt = 0
            else:
                await asyncio.sleep(backoff_delay(renew_attempt, base_s=self._backoff[0],
                                                  cap_s=self._backoff[1], rng=self._rng))
                renew_attempt += 1
                self._renew.set()

    async def _renew_due(self, conn: _Conn) -> None:
        remaining = renewal_delay(conn.opened_at, self._clock(), lifetime_s=self._lifetime_s)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._renew.wait(), timeout=remaining)

    async def _switch_over(self, old: _Conn) -> bool:
        """Open a new connection, let each symbol bridge onto it, then close ``old``."""
        try:
            new = await self._open()
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            self._last_error = f"renew: {type(exc).__name__}: {exc}"
            self._log.warning("orderbook.renew_failed", error=self._last_error)
            return False
        switch = self._switch = _Switchover(old, new, BridgePlan(frozenset(new.streams)))
        assert new.reader is not None and old.reader is not None
        self._subscribed(new)
        done = asyncio.create_task(switch.done.wait())
        try:
            await asyncio.wait({done, old.reader, new.reader}, timeout=_SWITCHOVER_S,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            done.cancel()
            self._switch = None
        outcome = switch.plan.end(new_closed=new.reader.done(), old_closed=old.reader.done())
        if isinstance(outcome, KeepOld):
            await self._close_conn(new)
            self._last_error = "renew: the new connection closed during the switch-over"
            self._log.warning("orderbook.renew_failed", error=self._last_error)
            return not outcome.backoff
        self._conn = new
        self._perform_feeds(list(outcome.feeds))
        await self._close_conn(old)
        self._renewals += 1
        self._log.info("orderbook.renewed", renewals=self._renewals,
                       bridged=len(switch.plan.bridged), symbols=len(self._symbols))
        return True

    async def _control(self, conn: _Conn) -> None:
        """Send batched SUBSCRIBE / UNSUBSCRIBE messages within Binance's message rate."""
        interval = 1.0 / CONTROL_RATE_PER_S
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while (message := self._subs.next_message()) is not None:
                await self._send(conn, message)
                await asyncio.sleep(interval)

    async def _send(self, conn: _Conn, message: ControlMessage) -> None:
        streams = message.streams
        self._next_msg_id += 1
        if isinstance(message, Subscribe):
            method = "SUBSCRIBE"
            conn.streams.update(streams)
            conn.acks[self._next_msg_id] = list(message.symbols)
        else:
            method = "UNSUBSCRIBE"
            conn.streams.difference_update(streams)
        payload = {"method": method, "params": streams, "id": self._next_msg_id}
        with contextlib.suppress(ConnectionClosed):
            await conn.ws.send(json.dumps(payload))

    def _times(self) -> list[SymbolTimes]:
        return [SymbolTimes(s.name, s.sync.state, s.subscribed_at, s.last_event, s.last_probe,
                            s.last_settle) for s in self._symbols.values()]

    async def _watch_stalls(self) -> None:
        period = watch_period(self._stall_after_s, self._quiet_after_s)
        while not self._closed:
            await asyncio.sleep(period)
            conn = self._conn
            if conn is None:
                continue
            now = self._clock()
            for upkeep in plan_upkeep(now, self._times(), quiet_after_s=self._quiet_after_s):
                sym = self._symbols.get(upkeep.symbol)
                if sym is None:  # an observer untracked it meanwhile
                    continue
                if isinstance(upkeep, FetchQuiet):
                    self._perform(sym, sym.sync.on_quiet())
                else:
                    sym.last_settle = now  # health shows a crossed book within it (book.py Rule 7)
                    self._perform(sym, sym.sync.settle())
            running = self._quiet_task is not None and not self._quiet_task.done()
            check = plan_silence_check(now, self._times(), stall_after_s=self._stall_after_s,
                                       check_running=running)
            if check is not None:
                self._start_silence_check(conn, check, now)

    def _start_silence_check(self, conn: _Conn, check: CheckSilent, now: float) -> None:
        silent = [self._symbols[name] for name in check.symbols]
        for sym in silent:
            sym.last_probe = now
        self._quiet_task = asyncio.create_task(self._check_silent(conn, silent),
                                               name="orderbook-quiet-check")

    async def _check_silent(self, conn: _Conn, silent: list[_Symbol]) -> None:
        """Quiet market or dead stream, without a snapshot per symbol (see the module notes)."""
        started = self._clock()
        if needs_ping(started, self._last_traffic, stall_after_s=self._stall_after_s) \
                and not await self._alive(conn):
            return  # the connection is dropped: every book resyncs after the reconnect
        if self._fetch_tops is None:
            for sym in silent:
                sym.quiet_checks += 1
            return
        try:
            tops = await asyncio.wait_for(self._fetch_tops([s.name for s in silent]),
                                          timeout=self._snapshot_timeout_s)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the fetcher's errors are its own; try again next period
            self._last_error = f"top-of-book check: {type(exc).__name__}: {exc}"
            return
        verdict = judge_tops(started, [
            SilentSymbol(s.name, s.sync.state is SyncState.SYNCED, s.last_event, s.sync.book)
            for s in silent], tops)
        by_name = {s.name: s for s in silent}
        for name in verdict.quiet:
            by_name[name].quiet_checks += 1
        suspects = [by_name[name] for name in verdict.suspects]
        if suspects:
            await asyncio.sleep(self._top_grace_s)  # an event may be on its way
        alive = [s for s in suspects if self._symbols.get(s.name) is s]
        for probe in plan_probes(started, [(s.name, s.last_event) for s in alive]):
            sym = by_name[probe.symbol]
            self._log.warning("orderbook.top_mismatch", symbol=sym.name)
            self._perform(sym, sym.sync.on_stall())

    async def _alive(self, conn: _Conn) -> bool:
        """Ping the connection; a connection that does not answer in time is dropped."""
        try:
            waiter = await conn.ws.ping()
            await asyncio.wait_for(waiter, timeout=self._ping_timeout_s)
        except (ConnectionClosed, TimeoutError, RuntimeError):
            self._last_error = "stream: ping not answered; reconnecting"
            self._log.warning("orderbook.ping_timeout")
            await self._close_conn(conn)
            return False
        self._last_traffic = self._clock()
        return True


def _smaller_depth(limit: int) -> int:
    """The next depth limit down Binance's weight steps (5000: 250, 1000: 50, 500: 25, 100: 5)."""
    for step in (1000, 500, 100):
        if limit > step:
            return step
    return limit


def _last_update_id(sym: _Symbol) -> int | None:
    book = sym.sync.book
    return None if book is None else book.last_update_id
