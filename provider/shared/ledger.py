"""The placement ledger of provider replicas: one lock per client order id, and its placement, in Redis.

Rules (issue 19: two replicas can never both place one id):

1. The lock is a Redis key set only if absent, holding a random token, expiring after
   ``lock_ttl_ms`` (30 s: longer than a placement's budget, 27 s, so a stalled holder keeps it while
   its call can still send; short enough that a dead holder's id is free again soon) and renewed
   every third of that while held; only the holder's token releases it (a script compares and deletes).
2. Taking the lock also reads the id's last placement and writes a *placing* marker; a clean release
   writes the placements made under the lock and deletes the marker. A marker found on taking the
   lock means the last holder died (or lost Redis) mid-call: its order may be on the wire, so the id
   is recalled as UNKNOWN until ``marker + lock_ttl + recvWindow + margin``, and the placement state
   machine looks it up before anything is sent again.
3. Redis unreachable: taking the lock raises :class:`RedisUnavailable` and nothing is sent; while the
   lock is held, calls under it are marked :data:`~provider.shared.budgets.STRICT`, so they are never
   sent on the local budget either.
4. Within a process the in-process lock is taken first, so one replica's callers queue locally and
   only one of them polls Redis.
5. A lock whose holder's replica stopped beating (``<prefix>replicas``, the budgets' heartbeat; a
   holder counts as alive ``alive_ms`` after taking it) is taken over at once instead of after its
   expiry: rule 2 makes that safe (the new holder looks the id up first; the old one cannot send
   without Redis, and its release then writes nothing).
6. Redis may lose its data (restarted empty, a persisted file missing the last writes, a failover):
   the locks, markers and placements of calls in flight then vanish, and rule 2 sees nothing. So
   ``<prefix>epoch`` records when this Redis's data began (``<run_id>:<server-clock ms>``: a missing
   key or another run_id starts a new epoch, in the lock script and in every replica's heartbeat).
   While the epoch is younger than ``lock_ttl + recvWindow + margin``, every id whose lock is taken
   is treated as orphaned at the epoch's start (rule 2: UNKNOWN until ``epoch + lock_ttl + recvWindow
   + margin``, looked up before anything is sent): a holder from before the loss sends nothing later
   than its lock lasted, ``lock_ttl`` after it took it. An operator who knows no order was in flight
   (a first start) marks this run's epoch known-empty (``<run_id>:0``) with :func:`mark_known_empty`
   (``python -m provider.shared.ledger known-empty``).
7. A holder whose renewal (every third of ``lock_ttl``) finds its lock gone (rule 5, or Redis lost it)
   sends nothing more under it: its requests fail as if Redis were unreachable (rule 3), so an order not
   yet sent is not sent, and one already sent is answered UNKNOWN, for the next holder to settle (rules 2, 6).

Keys: ``<prefix>order-lock:<id>``, ``<prefix>placement:<id>``, ``<prefix>placing:<id>``, ``<prefix>epoch``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import contextvars
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import redis.asyncio as aioredis
import structlog

from provider.shared.budget_scripts import EPOCH_FN
from provider.shared.budgets import HOLD_LOST, STRICT
from provider.shared.redis_conn import RedisUnavailable, translated
from provider.trading.ledger import LockTimeout, PlacementLedger, placement_from_json, placement_to_json
from provider.trading.placement import Placement

__all__ = ["SharedPlacementLedger", "mark_known_empty"]

log = structlog.get_logger("provider.shared")

#: KEYS lock, placement, marker, replicas, epoch. ARGV value (<owner>/<token>), lock_ttl_ms, marker value,
#: keep_ms, alive_ms ('0' = never take a lock over), server-clock now_ms.
#: -> {1, placement, old marker, epoch ms (rule 6)} | {0}
_ACQUIRE = EPOCH_FN + """
local cur = redis.call('GET', KEYS[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local alive = tonumber(ARGV[5])
if cur and alive > 0 then
  local owner = string.match(cur, '^([^/]+)/')
  local seen = owner and tonumber(redis.call('ZSCORE', KEYS[4], owner))
  if owner and (seen == nil or seen < now) then
    redis.call('DEL', KEYS[1])
    cur = false
  end
end
if not cur and redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  if alive > 0 then
    local owner = string.match(ARGV[1], '^([^/]+)/')
    local seen = tonumber(redis.call('ZSCORE', KEYS[4], owner)) or 0
    redis.call('ZADD', KEYS[4], math.max(seen, now + alive), owner)
  end
  local p = redis.call('GET', KEYS[2])
  local m = redis.call('GET', KEYS[3])
  redis.call('SET', KEYS[3], ARGV[3], 'PX', ARGV[4])
  return {1, p or false, m or false, epoch(KEYS[5], ARGV[6])}
end
return {0}
"""
#: KEYS lock. ARGV token, lock_ttl_ms -> 1 renewed | 0 not ours any more
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
#: KEYS lock, marker, placement keys... ARGV value, keep_ms, placement values... -> 1 released | 0 not ours
#: (a lock taken over from us: the new holder's record and marker stand, ours are not written)
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  for i = 3, #KEYS do redis.call('SET', KEYS[i], ARGV[i], 'PX', ARGV[2]) end
  redis.call('DEL', KEYS[1], KEYS[2])
  return 1
end
return 0
"""
_POLL_S = 0.02
_MARGIN_MS = 1000


@dataclass
class _Held:
    """What one holder of one id's lock read and wrote."""

    key: str
    marker_key: str
    token: str
    stored: Placement | None = None  # the id's placement read from Redis (rule 2)
    orphaned: Placement | None = None  # a dead holder's call, as UNKNOWN (rule 2)
    orphan_ours: bool = False  # that holder was this process (its release failed): what it knows stands
    lost: bool = False  # a renewal found the lock gone (rule 7)
    made: dict[str, Placement] = field(default_factory=dict)


_HELD: contextvars.ContextVar[_Held | None] = contextvars.ContextVar("shared_ledger_hold", default=None)


class SharedPlacementLedger(PlacementLedger):
    """:class:`PlacementLedger` whose lock and placements every replica sees (rules above).

    Args:
        conn: the process's Redis client.
        prefix: key prefix (``Settings.redis_prefix``).
        now_ms: server-clock epoch milliseconds (for a dead holder's marker).
        recv_window_ms: the recvWindow orders are signed with.
        on_hold: awaited once the lock is held, before the call runs (the order-rate slot).
        on_unused: awaited when a call that ran ``on_hold`` made no placement, so sent no order (the slot back).
    """

    def __init__(self, conn: aioredis.Redis, prefix: str, *, now_ms: Callable[[], int], recv_window_ms: int,
                 keep_ms: int = 300_000, lock_ttl_ms: int = 30_000,
                 on_hold: Callable[[], Awaitable[None]] | None = None,
                 on_unused: Callable[[], Awaitable[None]] | None = None,
                 owner: str | None = None, replicas_key: str | None = None, alive_ms: int = 3_000) -> None:
        super().__init__(keep_ms)
        self.owner = owner or secrets.token_hex(6)
        self.replicas_key = replicas_key
        self.alive_ms = alive_ms if replicas_key is not None else 0
        self.prefix = prefix
        self.lock_ttl_ms = lock_ttl_ms
        self.recv_window_ms = recv_window_ms
        self.on_hold = on_hold
        self.on_unused = on_unused
        self._now_ms = now_ms
        self._acquire = conn.register_script(_ACQUIRE)
        self._renew = conn.register_script(_RENEW)
        self._release = conn.register_script(_RELEASE)

    def _keys(self, client_order_id: str) -> list[str]:
        return [f"{self.prefix}{kind}:{client_order_id}" for kind in ("order-lock", "placement", "placing")]

    def _acquire_keys(self, client_order_id: str) -> list[str]:
        return [*self._keys(client_order_id), self.replicas_key or f"{self.prefix}replicas", f"{self.prefix}epoch"]

    @asynccontextmanager
    async def hold(self, client_order_id: str, timeout_s: float) -> AsyncIterator[None]:
        """Holds the id's lock in this process and in Redis.

        Raises:
            LockTimeout: another call (here or on another replica) kept it past ``timeout_s``.
            RedisUnavailable: Redis cannot be reached; nothing was sent.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        async with super().hold(client_order_id, timeout_s):
            held = await self._take(client_order_id, deadline)
            strict, lost, current = STRICT.set(True), HOLD_LOST.set(lambda: held.lost), _HELD.set(held)
            renewing = loop.create_task(self._keep(held))
            slot = False
            try:
                if self.on_hold is not None:
                    await self.on_hold()
                    slot = True
                yield
            finally:
                STRICT.reset(strict)
                HOLD_LOST.reset(lost)
                _HELD.reset(current)
                renewing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renewing
                if slot and not held.made and self.on_unused is not None:
                    await self.on_unused()
                await self._give_back(held)

    async def _take(self, client_order_id: str, deadline: float) -> _Held:
        keys = self._acquire_keys(client_order_id)
        held = _Held(keys[0], keys[2], f"{self.owner}/{secrets.token_hex(16)}")
        loop = asyncio.get_running_loop()
        while True:
            try:
                with translated("the order lock"):
                    now_ms = self._now_ms()
                    mark = f"{now_ms}:{self.lock_ttl_ms}:{self.owner}"
                    answer = await self._acquire(
                        keys=keys, args=[held.token, self.lock_ttl_ms, mark, self.keep_ms, self.alive_ms, now_ms]
                    )
            except RedisUnavailable as exc:
                raise RedisUnavailable(
                    f"NOT placed: the replicas' shared order lock (Redis) is unreachable, so nothing was sent "
                    f"({exc.message})"
                ) from exc
            if answer[0] == 1:
                break
            if loop.time() >= deadline:
                raise LockTimeout(client_order_id)
            await asyncio.sleep(min(_POLL_S, max(deadline - loop.time(), 0.001)))
        stored, marker = answer[1], answer[2]
        if stored is not None:
            try:
                held.stored = placement_from_json(stored)
            except ValueError as exc:
                log.warning("stored_placement_unreadable", client_order_id=client_order_id, error=str(exc)[:200])
        if marker is not None:
            held.orphaned = self._orphaned(client_order_id, self._marker_last_ms(_text(marker)), "marker")
            held.orphan_ours = _text(marker).split(":")[2:3] == [self.owner]
        epoch_ms = int(answer[3])
        epoch_last_ms = epoch_ms + self.lock_ttl_ms
        if epoch_ms > 0 and now_ms < epoch_last_ms + self.recv_window_ms + _MARGIN_MS and (
            held.orphaned is None or held.orphaned.known_at_ms is None
            or held.orphaned.known_at_ms < epoch_last_ms + self.recv_window_ms + _MARGIN_MS
        ):  # rule 6: Redis's data began recently; a call from before may be on the wire, unseen
            held.orphaned = self._orphaned(client_order_id, epoch_last_ms, "redis_epoch")
            held.orphan_ours = False
        return held

    def _marker_last_ms(self, marker: str) -> int:
        """Rule 2: a holder that took the lock at ``marked_ms`` (its lock lasting ``ttl_ms``) and never gave it
        back may have sent an order signed as late as its lock lasted."""
        marked_ms, _, rest = marker.partition(":")
        ttl_ms = rest.partition(":")[0]
        try:
            return int(marked_ms) + int(ttl_ms or self.lock_ttl_ms)
        except ValueError:  # a foreign value: assume the worst, a send just now
            return self._now_ms() + self.lock_ttl_ms

    def _orphaned(self, client_order_id: str, last_ms: int, cause: str) -> Placement:
        """A placement of ``client_order_id`` whose request may have been signed as late as ``last_ms``."""
        placement = Placement(client_order_id, self.recv_window_ms, _MARGIN_MS)
        placement.answer_lost(last_ms)
        log.warning("order_lock_orphaned", client_order_id=client_order_id, known_at_ms=placement.known_at_ms,
                    cause=cause)
        return placement

    async def _keep(self, held: _Held) -> None:
        while True:
            await asyncio.sleep(self.lock_ttl_ms / 3000)
            try:
                with translated("renewing the order lock"):
                    renewed = await self._renew(keys=[held.key], args=[held.token, self.lock_ttl_ms])
            except RedisUnavailable as exc:
                log.warning("order_lock_renew_failed", lock=held.key, error=exc.message)
                continue
            if not renewed:  # rule 7: nothing more is sent under it
                held.lost = True
                log.error("order_lock_lost", lock=held.key)
                return

    async def _give_back(self, held: _Held) -> None:
        made = list(held.made.values())
        keys = [held.key, held.marker_key]
        keys += [f"{self.prefix}placement:{p.client_order_id}" for p in made]
        args: list[str | int] = [held.token, self.keep_ms, *(placement_to_json(p) for p in made)]
        try:
            with translated("releasing the order lock"):
                await self._release(keys=keys, args=args)
        except RedisUnavailable as exc:  # the lock expires; the marker makes the next holder look first
            log.warning("order_lock_release_failed", lock=held.key, error=exc.message)

    def remember(self, placement: Placement, now_ms: int) -> None:
        """Keeps ``placement`` here and, when the lock is given back, in Redis for every replica."""
        super().remember(placement, now_ms)
        held = _HELD.get()
        if held is not None:
            held.made[placement.client_order_id] = placement

    def recall(self, client_order_id: str, now_ms: int) -> Placement | None:
        """The id's placement: made under this hold; else a dead holder's (rule 2: it is newer than any
        stored one); else as stored in Redis; else as known here; else this process's own orphan."""
        held = _HELD.get()
        if held is not None and held.key == self._keys(client_order_id)[0]:
            if client_order_id in held.made:
                return held.made[client_order_id]
            if held.orphaned is not None and not held.orphan_ours:
                return held.orphaned
            if held.stored is not None:
                return held.stored
        local = super().recall(client_order_id, now_ms)
        if local is not None:
            return local
        if held is not None and held.orphaned is not None and held.orphaned.client_order_id == client_order_id:
            return held.orphaned
        return None


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


async def mark_known_empty(conn: aioredis.Redis, prefix: str) -> str:
    """Rule 6, by hand: declares that no order of ``prefix`` is in flight, so the current Redis run's epoch is
    old and orders are not held back. Only for a Redis that no provider used yet (a first start) or after
    every replica was stopped for longer than ``lock_ttl + recvWindow``. The mark (an epoch of 0) lasts for this
    Redis run only: a restart or failover starts a new epoch. Returns the value written."""
    with translated("marking the epoch"):
        run_id = str((await conn.info("server"))["run_id"])
        value = f"{run_id}:0"
        await conn.set(f"{prefix}epoch", value)
    return value


def main(argv: list[str] | None = None) -> int:
    """``python -m provider.shared.ledger known-empty``: :func:`mark_known_empty` for the configured Redis."""
    parser = argparse.ArgumentParser(prog="python -m provider.shared.ledger")
    parser.add_argument("command", choices=["known-empty"])
    parser.parse_args(argv)
    from provider.settings import load
    from provider.shared.redis_conn import client

    settings = load(prepare_audit_log=False)
    if settings.redis_url is None:
        print("PROVIDER_REDIS_URL is not set")
        return 2

    async def run() -> str:
        conn = client(settings.redis_url or "")
        try:
            return await mark_known_empty(conn, settings.redis_prefix)
        finally:
            await conn.aclose()

    print(f"{settings.redis_prefix}epoch = {asyncio.run(run())}: no order is held back for this Redis run")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
