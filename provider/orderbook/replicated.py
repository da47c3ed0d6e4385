"""Live books shared by provider replicas through Redis: one ingester per symbol, every replica serves.

The I/O shell around three pure cores (issue 19):

- ``provider/shared/book_lease.py`` decides who ingests: each replica that tracks a symbol competes
  for its lease; the holder runs the symbol on its own :class:`OrderBookManager` (the one stream
  subscription for that symbol across the replicas) and renews; the others follow.
- ``book_feed.PublishRules`` decides what the holder writes after each change of its book (a diff
  with the previous update id, or a checkpoint of the whole book), plus a beat every
  ``beat_every_s`` with its sync state. ``book_redis.BookBus`` writes them, each refused unless the
  lease still holds the writer's fence.
- ``book_feed.BookFollow`` applies what the followers read. A follower serves its copy with the
  same freshness fields as a local book: ``SYNCED`` only while the ingester says SYNCED, was heard
  from within ``stale_after_s`` and every published id followed the last; otherwise the last good
  book is served marked ``RESYNCING`` (never a silently wrong one) while it reloads the checkpoint.

A holder that dies stops renewing: its lease expires within ``ttl_s`` and another tracking replica
takes it within ``retry_every_s`` more, opens its own subscription and publishes a checkpoint.
Redis unreachable for longer than a lease: each replica ingests the symbol itself (a stream
subscription each, as without Redis) until Redis answers again; then the lease decides anew.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import structlog

from provider.orderbook.book import OrderBook, Side
from provider.orderbook.health import BooksHealth, SymbolBookHealth
from provider.orderbook.lru import SymbolLRU
from provider.orderbook.manager import BookObserver, BookView, OrderBookManager, SnapshotFetcher
from provider.orderbook.sync import BookSync, DepthEvent, Snapshot, SyncState
from provider.shared.book_feed import (
    Beat,
    BookFollow,
    Diff,
    FollowState,
    LoadCheckpoint,
    Published,
    PublishRules,
    checkpoint_fields,
)
from provider.shared.book_lease import Acquire, LeaseChange, LeaseRules, Release, Renew
from provider.shared.book_redis import BookBus
from provider.shared.redis_conn import RedisUnavailable

__all__ = ["ReplicatedBooks"]

_TICK_S = 0.1
_READ_BLOCK_MS = 250
_RATE_WINDOW_S = 5.0


@dataclass
class _Replica:
    """One tracked symbol: its lease, its followed copy and its publishing bookkeeping."""

    name: str
    lease: LeaseRules
    follow: BookFollow
    publish: PublishRules = field(default_factory=PublishRules)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    cursor: str = "0-0"
    last_heard: float = 0.0  # monotonic time of the last entry read from the ingester
    last_published: float | None = None  # when the followed copy was last proven current
    unsynced_since: float | None = None
    last_beat: float = 0.0
    local: bool = False  # tracked on the local manager (holding, or Redis unreachable)
    degraded: bool = False  # Redis unreachable: ingesting locally without a lease
    last_error: str | None = None
    view_copy: OrderBook | None = None
    window_start: float = 0.0
    window_count: int = 0
    rate: float = 0.0

    def count(self, now: float) -> None:
        self.window_count += 1
        if now - self.window_start >= _RATE_WINDOW_S:
            self.rate = self.window_count / max(now - self.window_start, 1e-9)
            self.window_start, self.window_count = now, 0


class ReplicatedBooks:
    """Books for up to ``max_symbols`` symbols, ingested once across replicas (see the module notes).

    Args:
        bus: the Redis operations (``BookBus``).
        make_manager: builds this replica's own :class:`OrderBookManager` with the observer given
            (it ingests only the symbols whose lease this replica holds).
        fetch_snapshot: REST depth, for a reader that asks before any book exists.
        stale_after_s: an ingester not heard from this long makes followed books RESYNCING.
        beat_every_s: how often the holder says it is alive and where its book is.
        lease: keyword arguments of :class:`LeaseRules` (ttl_s, renew_every_s, ...).
        clock: monotonic seconds; token: a replica identity per symbol (``host/pid/random`` by
            default, so an operator reading the lease key sees which process ingests).
    """

    def __init__(
        self,
        bus: BookBus,
        make_manager: Callable[[BookObserver], OrderBookManager],
        fetch_snapshot: SnapshotFetcher,
        *,
        max_symbols: int = 20,
        max_levels: int | None = 5000,
        snapshot_limit: int = 1000,
        stale_after_s: float = 2.0,
        beat_every_s: float = 0.5,
        checkpoint_every: int = 1000,
        lease: dict[str, float] | None = None,
        clock: Callable[[], float] = time.monotonic,
        token: Callable[[], str] = lambda: f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(4)}",
        logger: Any = None,
    ) -> None:
        if checkpoint_every * 2 >= bus.keep_entries:
            raise ValueError("the stream must keep more than two checkpoints' worth of entries")
        self._bus = bus
        self._local = make_manager(self._on_local_change)
        self._fetch_snapshot = fetch_snapshot
        self._lru = SymbolLRU(max_symbols)
        self._max_levels = max_levels
        self._snapshot_limit = snapshot_limit
        self._stale_after_s, self._beat_every_s = stale_after_s, beat_every_s
        self._checkpoint_every = checkpoint_every
        self._lease_kw = lease or {}
        self._clock, self._token = clock, token
        self._log = logger or structlog.get_logger("provider.orderbook.replicated")
        self._symbols: dict[str, _Replica] = {}
        self._writes: asyncio.Queue[tuple[str, str, Diff | Beat | dict[str, str]]] = asyncio.Queue()
        self._changed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False
        self._last_error: str | None = None
        self._redis_down_since: float | None = None

    # -- public API (the Books protocol) ------------------------------------------------------

    async def get_book(self, symbol: str, *, timeout_s: float) -> BookView:
        """A book for ``symbol`` within ``timeout_s``: the local one while this replica ingests it,
        else the published copy (or a one-off REST snapshot before any book exists).

        Raises:
            RuntimeError: closed. TimeoutError: no book and no REST snapshot in time.
        """
        if self._closed:
            raise RuntimeError("ReplicatedBooks is closed")
        name = symbol.upper()
        rep = self._track(name)
        deadline = self._clock() + timeout_s
        if not rep.local:
            view = self._follow_view(rep)
            if view is not None:
                return view
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(rep.ready.wait(), timeout=timeout_s * 0.5)
        if rep.local:
            sync = self._local.sync_of(name)
            if sync is None or sync.book is None:  # just took over: the copy it followed, marked
                view = self._follow_view(rep)
                if view is not None:
                    return view
            return await self._local.get_book(name, timeout_s=max(deadline - self._clock(), 0.001))
        view = self._follow_view(rep)
        if view is not None:
            return view
        return await self._rest_view(rep, max(deadline - self._clock(), 0.001))

    def book_health(self) -> BooksHealth:
        """The local manager's health, with each followed symbol's health in place of its own."""
        local = self._local.book_health()
        symbols: dict[str, SymbolBookHealth] = {}
        now = self._clock()
        for name, rep in self._symbols.items():
            own = local.symbols.get(name)
            if rep.local and own is not None:
                role = "local" if rep.degraded else "ingester"
                symbols[name] = replace(own, role=role,
                                        lease_fence=None if rep.degraded else rep.lease.fence)
            else:
                symbols[name] = self._follow_health(rep, now)
        held = sum(1 for r in self._symbols.values() if r.local)
        status = local.status if held else ("following" if self._symbols else "idle")
        return BooksHealth(
            status=status, connected=local.connected or (held < len(self._symbols) and self._redis_down_since is None),
            connection_age_s=local.connection_age_s, streams=local.streams,
            reconnects=local.reconnects, renewals=local.renewals, max_symbols=self._lru.max_symbols,
            last_error=self._last_error or local.last_error, symbols=symbols,
        )

    def health(self) -> dict[str, Any]:
        """:meth:`book_health` in its JSON form."""
        return self.book_health().to_dict()

    async def close(self) -> None:
        """Stop the loops, hand back held leases, close the local manager; idempotent."""
        if self._closed:
            return
        self._closed = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        releases = [(rep.name, rep.lease.stop()) for rep in self._symbols.values()]
        for name, release in releases:
            if release is not None:
                with contextlib.suppress(RedisUnavailable, TimeoutError):
                    await asyncio.wait_for(self._bus.release(release.value, name), timeout=1.0)
        await self._local.close()
        await self._bus.close()

    # -- tracking ----------------------------------------------------------------------------

    def _track(self, name: str) -> _Replica:
        for evicted in self._lru.touch(name, self._clock()):
            self._untrack(evicted)
        rep = self._symbols.get(name)
        if rep is None:
            now = self._clock()
            rep = _Replica(name, LeaseRules(self._token(), **self._lease_kw),
                           BookFollow(max_levels=self._max_levels),
                           PublishRules(checkpoint_every=self._checkpoint_every))
            rep.last_heard = rep.window_start = now
            rep.unsynced_since = now
            self._symbols[name] = rep
            self._changed.set()
            self._log.info("orderbook.replica_track", symbol=name)
        if not self._tasks:
            self._tasks = [asyncio.create_task(self._lease_loop(), name="books-lease"),
                           asyncio.create_task(self._follow_loop(), name="books-follow"),
                           asyncio.create_task(self._write_loop(), name="books-publish")]
        return rep

    def _untrack(self, name: str) -> None:
        rep = self._symbols.pop(name, None)
        self._lru.discard(name)
        if rep is None:
            return
        rep.follow.stop()
        release = rep.lease.stop()
        if rep.local:
            self._local.untrack(name)
        if release is not None:
            self._tasks.append(asyncio.create_task(self._release(name, release)))
        self._changed.set()

    async def _release(self, name: str, release: Release) -> None:
        with contextlib.suppress(RedisUnavailable):
            await self._bus.release(release.value, name)

    # -- the lease ---------------------------------------------------------------------------

    async def _lease_loop(self) -> None:
        while not self._closed:
            now = self._clock()
            steps = [self._lease_step(rep, now) for rep in list(self._symbols.values())]
            for result in await asyncio.gather(*steps, return_exceptions=True):
                if isinstance(result, Exception):  # a bug, never Redis (that is RedisUnavailable)
                    self._log.error("orderbook.lease_step_failed", error=repr(result))
            await asyncio.sleep(_TICK_S)

    async def _lease_step(self, rep: _Replica, now: float) -> None:
        self._changed_lease(rep, rep.lease.check(now))
        action = rep.lease.due(now)
        try:
            if isinstance(action, Acquire):
                fence = await self._bus.acquire(rep.name, rep.lease.token, rep.lease.ttl_ms)
                change = rep.lease.on_acquired(fence, now)
                self._redis_back(rep)
                self._changed_lease(rep, change)
            elif isinstance(action, Renew):
                ok = await self._bus.renew(action.value, rep.name, rep.lease.ttl_ms)
                self._redis_back(rep)
                self._changed_lease(rep, rep.lease.on_renewed(ok, now))
        except RedisUnavailable as exc:
            self._last_error = str(exc)
            if self._redis_down_since is None:
                self._redis_down_since = now
            self._changed_lease(rep, rep.lease.on_failed(self._clock()))
            self._redis_lost(rep, now)
        value = rep.lease.value
        if value is not None and rep.lease.holding(now) and now - rep.last_beat >= self._beat_every_s:
            rep.last_beat = now
            self._beat(rep, value)

    def _changed_lease(self, rep: _Replica, change: LeaseChange | None) -> None:
        if change is LeaseChange.GAINED:
            self._log.info("orderbook.lease_gained", symbol=rep.name, fence=rep.lease.fence)
            rep.publish.forget()
            rep.degraded = False
            self._perform(rep, rep.follow.suspend("this replica took over ingesting; its own book is starting"))
            if not rep.local:
                rep.local = True
                self._local.track(rep.name)
            else:  # it was ingested locally without a lease: publish it as it stands
                sync = self._local.sync_of(rep.name)
                if sync is not None and sync.state is SyncState.SYNCED:
                    self._on_local_change(rep.name, sync, None)
            rep.ready.set()
            self._changed.set()
        elif change is LeaseChange.LOST:
            self._log.warning("orderbook.lease_lost", symbol=rep.name, fence=rep.lease.fence,
                              redis_down=self._redis_down_since is not None)
            if self._redis_down_since is not None and rep.local:
                rep.degraded = True  # nobody can publish now: keep ingesting for our own readers
            else:
                self._stop_local(rep)

    def _stop_local(self, rep: _Replica) -> None:
        if rep.local:
            rep.local = False
            self._local.untrack(rep.name)
        rep.degraded = False
        rep.follow = BookFollow(max_levels=self._max_levels)
        rep.ready.clear()
        rep.last_heard = self._clock()
        rep.unsynced_since = rep.unsynced_since or self._clock()
        self._changed.set()

    def _redis_lost(self, rep: _Replica, now: float) -> None:
        """Redis unreachable past a lease's life: ingest locally, as one provider would."""
        down_since = self._redis_down_since if self._redis_down_since is not None else now
        if not rep.local and now - down_since >= rep.lease.ttl_s:
            self._log.warning("orderbook.redis_down_local_ingest", symbol=rep.name)
            rep.local = rep.degraded = True
            self._local.track(rep.name)
            rep.ready.set()

    def _redis_back(self, rep: _Replica) -> None:
        self._redis_down_since = None
        if rep.degraded and rep.lease.value is None:
            # Redis answers again and another replica holds (or will take) the lease: follow it.
            self._stop_local(rep)

    # -- publishing (the holder) -------------------------------------------------------------

    def _on_local_change(self, name: str, sync: BookSync, event: DepthEvent | None) -> None:
        """The local manager published or resynced ``name``: queue what followers must read."""
        rep = self._symbols.get(name)
        value = None if rep is None else rep.lease.value
        if rep is None or value is None or rep.lease.fence is None:
            return
        book = sync.book
        if sync.state is not SyncState.SYNCED or book is None:
            self._beat(rep, value, sync)
            return
        decision = rep.publish.on_publish(
            book, None if event is None else event.first_update_id,
            None if event is None else event.final_update_id)
        if decision is None:
            return
        kind, prev = decision
        if kind == "diff" and event is not None:
            self._writes.put_nowait((name, value, Diff(
                rep.lease.fence, prev, event.first_update_id, event.final_update_id,
                event.event_time_ms, event.bids, event.asks)))
        else:
            event_time = None if event is None else event.event_time_ms
            self._writes.put_nowait((name, value, checkpoint_fields(
                book, fence=rep.lease.fence, event_time_ms=event_time, resync_count=sync.resync_count)))

    def _beat(self, rep: _Replica, value: str, sync: BookSync | None = None) -> None:
        sync = sync or self._local.sync_of(rep.name)
        if sync is None or rep.lease.fence is None:
            return
        state = sync.state.name
        last = rep.publish.last_update_id
        if last is None and state == "SYNCED":
            state = "STARTING"  # nothing published yet: followers wait for the checkpoint
        rep.publish.on_beat()
        self._writes.put_nowait((rep.name, value, Beat(rep.lease.fence, last or 0, state,
                                                        sync.resync_count, None)))

    async def _write_loop(self) -> None:
        while not self._closed:
            name, value, what = await self._writes.get()
            try:
                await self._write(name, value, what)
            except Exception as exc:  # a bug, never Redis (that is RedisUnavailable): keep publishing
                self._log.error("orderbook.publish_failed", symbol=name, error=repr(exc))

    async def _write(self, name: str, value: str, what: Diff | Beat | dict[str, str]) -> None:
        rep = self._symbols.get(name)
        if rep is None or rep.lease.value != value:
            return  # the lease changed hands since: the new holder publishes its own book
        try:
            if isinstance(what, dict):
                ok = await self._bus.checkpoint(value, name, what)
            else:
                ok = await self._bus.publish(value, name, what)
        except RedisUnavailable as exc:
            self._last_error = str(exc)
            rep.publish.forget()  # followers may have missed it: start them from a checkpoint
            return
        if not ok and rep.lease.value == value:  # fenced out: another replica holds it now
            self._changed_lease(rep, rep.lease.on_renewed(False, self._clock()))

    # -- following ---------------------------------------------------------------------------

    async def _follow_loop(self) -> None:
        while not self._closed:
            followed = {n: r for n, r in self._symbols.items() if not r.local}
            if not followed:
                self._changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout=1.0)
                continue
            try:
                await self._follow_once(followed)
                self._last_error = None if self._redis_down_since is None else self._last_error
            except RedisUnavailable as exc:
                self._last_error = str(exc)
                await asyncio.sleep(0.2)
            except Exception as exc:  # a bug, never Redis: the copies go stale (RESYNCING), not wrong
                self._log.error("orderbook.follow_failed", error=repr(exc))
                await asyncio.sleep(0.2)
            now = self._clock()
            for rep in followed.values():
                if now - rep.last_heard >= self._stale_after_s:
                    self._perform(rep, rep.follow.on_silent())

    async def _follow_once(self, followed: dict[str, _Replica]) -> None:
        for rep in followed.values():
            if rep.follow.wants_checkpoint:
                await self._load_checkpoint(rep)
        rows = await self._bus.read({n: r.cursor for n, r in followed.items()}, _READ_BLOCK_MS)
        now = self._clock()
        for name, entry_id, entry in rows:
            found = self._symbols.get(name)
            if found is None or found.local or found is not followed.get(name):
                continue
            rep = found
            if rep.follow.wants_checkpoint:
                continue  # a reload is pending: it sets the cursor past these
            rep.cursor, rep.last_heard = entry_id, now
            rep.count(now)
            if entry is None:
                rep.last_error = f"unreadable published entry {entry_id}"
                self._perform(rep, [LoadCheckpoint("unreadable entry")])
                rep.follow.wants_checkpoint = True
                continue
            self._perform(rep, rep.follow.feed(entry))

    async def _load_checkpoint(self, rep: _Replica) -> None:
        try:
            ckpt = await self._bus.load_checkpoint(rep.name)
        except ValueError as exc:
            rep.last_error = f"checkpoint: {exc}"
            rep.follow.on_missing_checkpoint()
            return
        if ckpt is None:
            self._perform(rep, rep.follow.on_missing_checkpoint())
            return
        rep.cursor = ckpt.entry_id
        self._perform(rep, rep.follow.on_checkpoint(ckpt))

    def _perform(self, rep: _Replica, actions: list[Any]) -> None:
        for action in actions:
            if isinstance(action, Published):
                rep.last_published = self._clock()
                rep.unsynced_since = None
                rep.last_error = None
                rep.ready.set()
            elif isinstance(action, LoadCheckpoint):
                if rep.unsynced_since is None:
                    rep.unsynced_since = self._clock()
                self._log.warning("orderbook.follow_reload", symbol=rep.name, reason=action.reason)
            else:  # Unsynced
                if rep.unsynced_since is None:
                    rep.unsynced_since = self._clock()

    # -- views -------------------------------------------------------------------------------

    def _follow_view(self, rep: _Replica) -> BookView | None:
        follow = rep.follow
        book = follow.book
        if book is None or book.last_update_id is None or follow.state is FollowState.STARTING:
            return None
        copy = rep.view_copy
        if copy is None or copy.last_update_id != book.last_update_id:
            copy = rep.view_copy = book.copy()
        now = self._clock()
        age = 0 if rep.last_published is None else int((now - rep.last_published) * 1e3)
        unsynced_ms, warning = self._unsynced(rep, now)
        return BookView(
            rep.name, follow.state.name, "stream", book.last_update_id, follow.event_time_ms, age,
            follow.resync_count, book.exact_depth(Side.BID), book.exact_depth(Side.ASK), copy,
            unsynced_ms, warning,
        )

    def _unsynced(self, rep: _Replica, now: float) -> tuple[int, str]:
        if rep.follow.state is FollowState.SYNCED:
            return 0, ""
        ms = 0 if rep.unsynced_since is None else int((now - rep.unsynced_since) * 1000)
        reason = rep.follow.note or rep.follow.last_reason or "waiting for the ingesting replica"
        return ms, (f"{rep.follow.state.name} for {ms / 1000:.0f} s: the last good book published by "
                    f"the ingesting replica, levels may be out of date ({reason})")

    async def _rest_view(self, rep: _Replica, timeout_s: float) -> BookView:
        data = await asyncio.wait_for(self._fetch_snapshot(rep.name, self._snapshot_limit), timeout=timeout_s)
        snap = Snapshot.from_payload(data, depth_limit=self._snapshot_limit)
        book = OrderBook(max_levels=self._max_levels)
        book.apply_snapshot(snap.last_update_id, snap.bids, snap.asks, depth_limit=snap.depth_limit)
        ms = int((self._clock() - (rep.unsynced_since or self._clock())) * 1000)
        warning = (f"a one-off REST snapshot, not a live book: no replica has published {rep.name} yet "
                   f"({ms / 1000:.0f} s)")
        return BookView(rep.name, rep.follow.state.name, "rest", snap.last_update_id, None, 0,
                        rep.follow.resync_count, book.exact_depth(Side.BID), book.exact_depth(Side.ASK),
                        book, ms, warning)

    def _follow_health(self, rep: _Replica, now: float) -> SymbolBookHealth:
        follow = rep.follow
        elapsed = now - rep.window_start
        rate = rep.window_count / elapsed if elapsed >= _RATE_WINDOW_S else rep.rate
        return SymbolBookHealth(
            state=follow.state.name, last_update_id=follow.last_update_id,
            event_time_ms=follow.event_time_ms,
            age_ms=None if rep.last_published is None else int((now - rep.last_published) * 1e3),
            resync_count=follow.resync_count, last_resync_reason=follow.last_reason,
            messages_per_s=round(rate, 3), buffered_events=0, stale_snapshots=0,
            unsynced_ms=self._unsynced(rep, now)[0], quiet_checks=0, last_error=rep.last_error,
            role="follower", lease_fence=follow.fence or None,
        )

