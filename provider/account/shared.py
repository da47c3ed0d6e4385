"""One user data connection per account across provider replicas (issue 19): the shell.

A :class:`UserDataStream` whose source depends on a Redis lease (``provider/shared/book_lease.py``,
namespace ``account``, one lease per API key, named by a hash of it):

- holding it, it runs the user data stream exactly as one provider does, and publishes every input
  it gives its ``AccountState`` (``_record``), plus a heartbeat, each write refused by Redis unless
  the lease still holds this replica's fence;
- otherwise it replays the published inputs on its own ``AccountState``
  (``provider/shared/account_feed.py``), so its readers (live balances and open orders,
  read-your-writes, resource updates) work as before, without a connection of its own. A gap or a
  silent holder puts its state DOWN, so reads go to REST until the holder's next resync, which it
  asks for.

A killed holder's lease moves within the lease's ttl; the new holder subscribes and resyncs, and the
followers replay that resync.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
from typing import TYPE_CHECKING, Any

import structlog

from provider.account.state import Phase
from provider.account.stream import UserDataStream
from provider.shared.account_feed import AccountEntry, AccountFollow, Gap, decode, encode
from provider.shared.book_lease import Acquire, LeaseChange, LeaseRules, Renew
from provider.shared.book_redis import BookBus
from provider.shared.redis_conn import RedisUnavailable

if TYPE_CHECKING:
    from provider.binance.client import BinanceClient

__all__ = ["SharedUserDataStream"]

log = structlog.get_logger("provider.account.shared")

_TICK_S = 0.1
_READ_BLOCK_MS = 250
_WANT_TTL_MS = 5000


class SharedUserDataStream(UserDataStream):
    """The user data stream of one account, ingested by one replica and replayed by the others.

    Args:
        bus: Redis operations in namespace ``account``. account: the account's name in its keys (a
            hash of the API key, never the key). stale_after_s: a holder not heard from this long
            is taken as gone. beat_every_s: the holder's heartbeat. lease: ``LeaseRules`` timings.
        The rest as :class:`UserDataStream`.
    """

    def __init__(self, url: str, client: BinanceClient, *, bus: BookBus, account: str,
                 stale_after_s: float = 3.0, beat_every_s: float = 1.0,
                 lease: dict[str, float] | None = None, **kwargs: Any) -> None:
        super().__init__(url, client, **kwargs)
        self._bus, self._name = bus, account
        token = f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(4)}"
        self._lease = LeaseRules(token, **(lease or {}))
        self._follow = AccountFollow()
        self._stale_after_s, self._beat_every_s = stale_after_s, beat_every_s
        self._seq = 0
        self._outbox: asyncio.Queue[tuple[str, AccountEntry]] = asyncio.Queue()
        self._ingest: asyncio.Task[None] | None = None
        self._cursor = "0-0"
        self._last_heard = self._clock()
        self._last_beat = 0.0
        self._want_sent = -1e18
        self._redis_down_since: float | None = None
        self.role = "follower"
        """ingester (holds the lease), follower (replays), or local (Redis unreachable: its own)."""

    # -- the loops ----------------------------------------------------------------------------

    async def run(self) -> None:
        """Hold or follow until cancelled; a held lease is handed back on the way out."""
        loops = [asyncio.create_task(self._lease_loop(), name="account-lease"),
                 asyncio.create_task(self._write_loop(), name="account-publish"),
                 asyncio.create_task(self._follow_loop(), name="account-follow")]
        try:
            await asyncio.gather(*loops)
        finally:
            for task in [*loops, *([self._ingest] if self._ingest else [])]:
                task.cancel()
            await asyncio.gather(*loops, *([self._ingest] if self._ingest else []), return_exceptions=True)
            release = self._lease.stop()
            with contextlib.suppress(RedisUnavailable, TimeoutError):
                if release is not None:
                    await asyncio.wait_for(self._bus.release(release.value, self._name), timeout=1.0)
            with contextlib.suppress(Exception):
                await self._bus.close()

    async def _lease_loop(self) -> None:
        while True:
            now = self._clock()
            try:
                await self._lease_step(now)
            except RedisUnavailable as exc:
                self.last_error = str(exc)
                if self._redis_down_since is None:
                    self._redis_down_since = now
                await self._changed_lease(self._lease.on_failed(self._clock()))
                if self._ingest is None and now - self._redis_down_since >= self._lease.ttl_s:
                    # Nobody can publish: ingest for our own readers, as one provider would.
                    log.warning("account_stream.redis_down_local_ingest")
                    self.role = "local"
                    self._ingest = asyncio.create_task(UserDataStream.run(self), name="account-ingest")
            except Exception as exc:  # a bug, never Redis: keep the lease loop alive
                log.error("account_stream.lease_step_failed", error=repr(exc))
            await asyncio.sleep(_TICK_S)

    async def _lease_step(self, now: float) -> None:
        await self._changed_lease(self._lease.check(now))
        action = self._lease.due(now)
        if isinstance(action, Acquire):
            fence = await self._bus.acquire(self._name, self._lease.token, self._lease.ttl_ms)
            self._redis_down_since = None
            change = self._lease.on_acquired(fence, now)
            if change is None and self.role == "local":
                await self._stop_ingest()  # Redis is back and another replica holds the lease
                self.role = "follower"
            await self._changed_lease(change)
        elif isinstance(action, Renew):
            ok = await self._bus.renew(action.value, self._name, self._lease.ttl_ms)
            self._redis_down_since = None
            await self._changed_lease(self._lease.on_renewed(ok, now))
        if self._ingest is not None and self._lease.holding(now):
            if now - self._last_beat >= self._beat_every_s:
                self._last_beat = now
                self._record("h", None)
            if await self._bus.take_flag(self._name, "want") and self.state.live:
                self._gap.set()  # a follower lost the thread: resync, so it can replay from there

    async def _changed_lease(self, change: LeaseChange | None) -> None:
        if change is LeaseChange.GAINED:
            log.info("account_stream.lease_gained", fence=self._lease.fence)
            self._seq = 0
            self._follow.lost()
            if self._ingest is not None:  # it ingested without a lease: resync, so followers replay it
                self.role = "ingester"
                self._gap.set()
                return
            self.role = "ingester"
            await self._down("this replica takes over the user data stream")
            self._ingest = asyncio.create_task(UserDataStream.run(self), name="account-ingest")
        elif change is LeaseChange.LOST:
            log.warning("account_stream.lease_lost", fence=self._lease.fence)
            if self._redis_down_since is not None and self._ingest is not None:
                self.role = "local"  # nobody can publish now: keep the connection for our own readers
                return
            self.role = "follower"
            await self._stop_ingest()
            self.state.down("the lease moved: following the replica that holds it")
            self._follow.lost()
            await self._publish([])

    async def _stop_ingest(self) -> None:
        if self._ingest is not None:
            self._ingest.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._ingest
            self._ingest = None

    def _record(self, kind: str, payload: Any) -> None:
        value, fence = self._lease.value, self._lease.fence
        if value is None or fence is None or self._ingest is None:
            return
        self._seq += 1
        self._outbox.put_nowait((value, AccountEntry(fence, self._seq, kind, payload)))

    async def _write_loop(self) -> None:
        while True:
            value, entry = await self._outbox.get()
            if self._lease.value != value:
                continue  # the lease moved since: followers resync from the new holder
            try:
                ok = await self._bus.append(value, self._name, encode(entry))
            except RedisUnavailable as exc:
                self.last_error = str(exc)
                continue  # followers see the gap in the numbers and ask for a resync
            except (TypeError, ValueError) as exc:  # an input JSON cannot carry: followers see a gap
                log.error("account_stream.publish_failed", kind=entry.kind, error=repr(exc))
                continue
            if not ok and self._lease.value == value:
                await self._changed_lease(self._lease.on_renewed(False, self._clock()))

    async def _follow_loop(self) -> None:
        while True:
            if self._ingest is not None:
                self._last_heard = self._clock()
                await asyncio.sleep(_TICK_S)
                continue
            try:
                rows = await self._bus.read_fields({self._name: self._cursor}, _READ_BLOCK_MS)
                for _, entry_id, fields in rows:
                    self._cursor, self._last_heard = entry_id, self._clock()
                    await self._replay(fields)
                if not rows and not self._follow.replaying:
                    await self._want()  # caught up and still no resync to replay from: ask for one
            except RedisUnavailable as exc:
                self.last_error = str(exc)
                await asyncio.sleep(0.2)
            except (KeyError, TypeError, ValueError, ArithmeticError) as exc:  # a replayed input the
                # state refused: never serve a state we could not rebuild exactly
                await self._lost(f"published account input not replayable: {exc!r}")
                await asyncio.sleep(0.2)
            if self._ingest is None and self._clock() - self._last_heard >= self._stale_after_s:
                await self._lost("the replica holding the user data stream is silent")

    async def _replay(self, fields: dict[str, str]) -> None:
        if self._ingest is not None:
            return
        try:
            step = self._follow.feed(decode(fields))
        except ValueError as exc:
            await self._lost(f"unreadable published account entry: {exc}")
            return
        if isinstance(step, Gap):
            await self._lost(step.reason)
            return
        if step is None:
            return
        state, changes = self.state, []
        if step.kind == "b":
            state.begin_resync(str(step.payload))
        elif step.kind == "s":
            changes = state.load_snapshot(step.payload["account"], step.payload["open_orders"])
            if state.live:
                self.live_since_ms = self.client.server_now_ms()
        elif step.kind == "e":
            changes = state.apply(step.payload)
        elif step.kind == "a":
            changes = state.abort_resync(str(step.payload))
        elif step.kind == "d":
            state.down(str(step.payload))
        await self._publish(changes)

    async def _lost(self, reason: str) -> None:
        """Not known current any more: DOWN until the holder's next resync (Rule 2)."""
        self._follow.lost()
        if self.state.phase is not Phase.DOWN:
            log.warning("account_stream.follow_lost", reason=reason)
            self.state.down(reason)
            await self._publish([])

    async def _want(self) -> None:
        """Ask the holder for a resync, at most once a second (each costs it a REST snapshot)."""
        now = self._clock()
        if now - self._want_sent >= 1.0:
            self._want_sent = now
            await self._bus.flag(self._name, "want", _WANT_TTL_MS)
