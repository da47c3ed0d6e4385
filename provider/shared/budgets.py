"""Request-weight and order-rate budgets shared by provider replicas through Redis (issue 19).

Binance counts request weight per egress IP and orders per account, whichever replica sent the call;
so with ``PROVIDER_REDIS_URL`` every replica reserves from one budget, kept by the atomic scripts of
``budget_scripts.py``, and feeds it what each answer's headers say. The pure cores
(``WeightGovernor``, ``OrderRateLimiter``) stay in every process: they mirror the shared state for
health, tell this shell what they learn (their ``listener``), and take over when Redis is gone.

Redis unreachable (rules):

1. A call that must not run without the shared state (:data:`STRICT`, set under an order's shared
   lock) fails with :class:`~provider.shared.redis_conn.RedisUnavailable`; nothing is sent.
2. Any other call (market data, account reads) goes on within ``1/N`` of the budget, N being the
   number of replicas last seen alive (the local core's share; its own calls only, and a used-weight
   header still stops it once the whole IP used the budget).
3. A heartbeat every ``HEARTBEAT_S`` counts the replicas and notices Redis coming back; the shared
   budget is used again from that moment (a restarted, empty Redis is corrected by the next headers).

Keys: ``<prefix>weight`` (this IP's window; ``<prefix>weight:reread:<window>``, the replica re-reading a
lowered limit in that window), ``<prefix>orders:<account>`` (a hash of the API key, never
the key), ``<prefix>replicas`` (heartbeats), ``<prefix>epoch`` (when Redis's data began: each beat starts
it after a loss, ``ledger.py`` rule 6).
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import secrets
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
import structlog

from provider.binance.governor import AsyncGovernor, GovernorEvent, WeightGovernor
from provider.binance.order_limits import OrderRateLimiter
from provider.errors import RateLimited
from provider.shared import budget_scripts as lua
from provider.shared.redis_conn import RedisUnavailable, translated

__all__ = ["HEARTBEAT_S", "HOLD_LOST", "REPLICA_TTL_MS", "STRICT", "SharedBudgets", "account_key"]

log = structlog.get_logger("provider.shared")

HEARTBEAT_S = 1.0
#: a replica not heard from for this long no longer counts towards N (rule 2), and its order locks may
#: be taken over (``ledger.py`` rule 5): three missed heartbeats
REPLICA_TTL_MS = 3_000
#: events waiting to be sent to Redis; past this the oldest are dropped (Redis is slow or gone)
_MAX_PENDING = 2_000

#: rule 1: True while a call runs under an order's shared lock (`provider/shared/ledger.py` sets it)
STRICT: contextvars.ContextVar[bool] = contextvars.ContextVar("shared_state_required", default=False)
#: under an order's shared lock: whether that lock was lost (``ledger.py`` rule 7); then nothing more is sent
HOLD_LOST: contextvars.ContextVar[Callable[[], bool] | None] = contextvars.ContextVar("order_lock_lost", default=None)


def account_key(api_key: str | None) -> str:
    """A stable, non-secret name of the account: the first 16 hex digits of the key's SHA-256."""
    return hashlib.sha256((api_key or "public").encode()).hexdigest()[:16]


class SharedBudgets(AsyncGovernor):
    """The weight governor shell of a replica, and the order-rate slots of its account.

    Args:
        conn: the process's Redis client.
        prefix: key prefix (``Settings.redis_prefix``).
        core: the client's :class:`WeightGovernor` (mirrors the shared window; the fallback, rule 2).
        orders: the client's :class:`OrderRateLimiter`.
        now: server-clock epoch seconds.
        account: :func:`account_key` of the API key.
    """

    def __init__(self, conn: aioredis.Redis, prefix: str, core: WeightGovernor, orders: OrderRateLimiter,
                 now: Callable[[], float], account: str) -> None:
        super().__init__(core, now)
        self.conn = conn
        self.orders = orders
        self.replica_id = secrets.token_hex(6)
        self.replicas = 1
        self.shared = True  # False while Redis is unreachable (rules 2 and 3)
        self._weight_key = f"{prefix}weight"
        self._orders_key = f"{prefix}orders:{account}"
        self.replicas_key = f"{prefix}replicas"
        self.epoch_key = f"{prefix}epoch"
        self._reserve = conn.register_script(lua.WEIGHT_RESERVE)
        self._event = conn.register_script(lua.WEIGHT_EVENT)
        self._order_reserve = conn.register_script(lua.ORDER_RESERVE)
        self._order_release = conn.register_script(lua.ORDER_RELEASE)
        self._order_event = conn.register_script(lua.ORDER_EVENT)
        self._replicas = conn.register_script(lua.REPLICAS)
        self._pending: asyncio.Queue[tuple[str, GovernorEvent]] = asyncio.Queue(_MAX_PENDING)
        self._tasks: list[asyncio.Task[None]] = []
        self._pushed = self._done = 0  # events queued and settled so far (for flush)
        self._flushes: list[tuple[int, asyncio.Future[None]]] = []
        core.listener = lambda event: self._push("weight", event)
        orders.listener = lambda event: self._push("orders", event)

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        """Start the heartbeat and the sender of what the cores learn."""
        if self.core.limit_source == "exchangeInfo":  # read before this shell listened
            self._push("weight", ("limit", self.core.limit, self.core.interval_s))
        self._seed()
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._heartbeat()), loop.create_task(self._send_events())]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._tasks:  # bounded: a Redis call being cancelled must not hold the shutdown
            await asyncio.wait(self._tasks, timeout=2.0)
        for _, future in self._flushes:
            if not future.done():
                future.set_result(None)
        self._flushes.clear()
        self.core.listener = None
        self.orders.listener = None

    # -- request weight (rules 1 and 2) ---------------------------------------------------
    async def acquire(self, weight: int, *, priority: bool = False, rules_reread: bool = False) -> float:
        """Wait until ``weight`` is reserved from the shared budget (or the local share); the grant time."""
        lost = HOLD_LOST.get()
        if lost is not None and lost():
            raise RedisUnavailable(
                "NOT sent: this call's shared order lock was lost (Redis lost it or another replica took it over), "
                "so nothing more is sent under it"
            )
        while True:
            if self._done < self._pushed and (self.shared or STRICT.get()):
                await self.flush()  # what this replica learned counts before it takes more
            now = self.now()
            if self.shared or STRICT.get():
                try:
                    delay = await self._reserve_shared(weight, now, priority, rules_reread)
                except RedisUnavailable:
                    if STRICT.get():
                        raise
                    self._lost("weight reservation")
                    continue
            else:
                delay = self.core.reserve(weight, now, priority=priority, rules_reread=rules_reread)
            if delay == 0.0:
                return now
            await asyncio.sleep(delay)

    async def _reserve_shared(self, weight: int, now: float, priority: bool, rules_reread: bool = False) -> float:
        core = self.core
        args: list[Any] = [weight, repr(now), int(priority), core.limit, core.interval_s, core.headroom,
                           core.priority_share]
        with translated("weight reservation"):
            answer = [_text(v) for v in await self._reserve(keys=[self._weight_key], args=args)]
        kind = answer[0]
        if kind == "ok":
            core.adopt_shared(used=int(float(answer[1])), now=now)
            return 0.0
        if kind == "banned":
            core.adopt_shared(banned_until=float(answer[1]), now=now)
            return core.reserve(weight, now, priority=priority)  # raises IpBanned, with the core's words
        if kind == "never":
            if rules_reread:  # the re-read of a limit lowered under its weight (governor rule 6)
                return await self._reserve_reread(now, priority)
            raise RateLimited(
                f"a call of weight {weight} can never fit the replicas' limit of {answer[1]} per {answer[2]} s",
                retry_after_s=None,
            )
        delay, used = max(float(answer[1]), 0.001), int(float(answer[2]))
        core.adopt_shared(used=used, now=now)
        if delay <= core.max_wait_s:
            return delay
        raise RateLimited(
            f"request-weight budget shared by the replicas used up: {used}/{core.limit} weight used; "
            f"retry in {delay:.1f} s",
            retry_after_s=delay,
        )

    async def _reserve_reread(self, now: float, priority: bool) -> float:
        """The re-read of a limit lowered under its weight: held by a shared 429 block or ban like any call,
        whatever else the window counted (the exchange refuses it either way, or takes it once its limit is
        back), and sent by one replica per window between them, not by each one that learned the limit.

        Raises:
            RateLimited: another replica re-reads the rules in this window.
        """
        delay = await self._reserve_shared(0, now, priority)
        if delay:
            return delay
        window = self.core.window_of(now)
        with translated("re-read reservation"):
            first = await self.conn.set(f"{self._weight_key}:reread:{window}", self.replica_id, nx=True,
                                        ex=2 * self.core.interval_s)
        if not first:
            raise RateLimited("another replica re-reads the rules in this window",
                              retry_after_s=(window + 1) * self.core.interval_s - now)
        return 0.0

    # -- orders (rule 1) ---------------------------------------------------------------------
    async def reserve_order(self) -> None:
        """Take one order slot of the account in every ORDERS window, or refuse.

        Raises:
            OrderRateLimited: the account's count (any replica's orders) is at a limit, or held after -1015.
            RedisUnavailable: the shared count cannot be read; the order must not be sent.
        """
        limits = self.orders.limits
        now = self.now()
        args: list[Any] = [repr(now)]
        for limit in limits:
            args += [limit.label, limit.interval_s, limit.limit]
        with translated("order-rate reservation"):
            answer = [_text(v) for v in await self._order_reserve(keys=[self._orders_key], args=args)]
        if answer[0] == "held":
            self.orders.adopt_shared({}, float(answer[1]), answer[2], now)
        elif answer[0] == "full":
            self.orders.adopt_shared({answer[1]: int(answer[2])}, 0.0, "", now)
        else:
            counts = dict(zip(answer[1::2], (int(c) for c in answer[2::2]), strict=True))
            self.orders.adopt_shared(counts, 0.0, "", now)
        self.orders.check(now)  # raises OrderRateLimited with the core's words when held or full

    async def release_order(self) -> None:
        """Give back the slot :meth:`reserve_order` took, for a call that sent no order (best effort)."""
        args: list[Any] = [repr(self.now())]
        for limit in self.orders.limits:
            args += [limit.label, limit.interval_s]
        try:
            with translated("order-rate release"):
                await self._order_release(keys=[self._orders_key], args=args)
        except RedisUnavailable as exc:  # the slot lapses with its window
            log.warning("order_slot_release_failed", error=exc.message)

    # -- what the cores learn, sent in order ---------------------------------------------
    def _push(self, which: str, event: GovernorEvent) -> None:
        if self._pending.full():
            self._pending.get_nowait()  # drop the oldest: Redis is slow or gone, and headers keep coming
            self._done_events(1)
        self._pending.put_nowait((which, event))
        self._pushed += 1

    async def _send_events(self) -> None:
        while True:
            which, event = await self._pending.get()
            try:
                if self.shared:  # else rule 2: the local core has it; later headers correct the shared window
                    with translated("budget update"):
                        if which == "weight":
                            await self._event(keys=[self._weight_key], args=self._weight_args(event))
                        else:
                            await self._order_event(keys=[self._orders_key], args=self._order_args(event))
            except RedisUnavailable:
                self._lost("budget update")
            finally:
                self._done_events(1)

    def _done_events(self, n: int) -> None:
        self._done += n
        waiting, self._flushes = self._flushes, [(upto, f) for upto, f in self._flushes if upto > self._done]
        for upto, future in waiting:
            if upto <= self._done and not future.done():
                future.set_result(None)

    async def flush(self) -> None:
        """Wait until what the cores learned before this call was sent (or given up: Redis unreachable)."""
        if self._done >= self._pushed:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._flushes.append((self._pushed, future))
        await future

    def _weight_args(self, event: GovernorEvent) -> list[Any]:
        kind, now = event[0], repr(self.now())
        if kind == "observe":
            _, weight, header, sent_at, seen = event
            return [kind, repr(seen), weight, -1 if header is None else header, repr(sent_at), self.core.interval_s]
        if kind == "release":
            return [kind, now, event[1]]
        if kind == "rate_limited":
            _, until, limit, interval_s = event
            return [kind, now, repr(until), "" if limit is None else limit, interval_s, self.core.ip_budget]
        if kind == "banned":
            return [kind, now, repr(event[1])]
        if kind == "seed":
            return [kind, repr(event[2]), event[1], self.core.interval_s]
        return [kind, now, event[1], event[2]]  # "limit"

    def _order_args(self, event: GovernorEvent) -> list[Any]:
        if event[0] == "rejected":
            return ["rejected", repr(self.now()), repr(event[1]), str(event[2])[:200]]
        _, counts, now = event
        args: list[Any] = ["observe", repr(now)]
        for limit in self.orders.limits:
            if limit.label in counts:
                args += [limit.label, limit.interval_s, counts[limit.label]]
        return args

    # -- rules 2 and 3 ----------------------------------------------------------------------
    def _lost(self, what: str) -> None:
        if self.shared:
            self.shared = False
            self.core.set_share(1 / max(1, self.replicas))
            log.warning("shared_budget_unavailable", during=what, replicas=self.replicas,
                        local_share=round(self.core.share, 3))

    async def beat(self) -> None:
        """One heartbeat: count the replicas alive, and use the shared budget again if Redis is back (rule 3)."""
        try:
            with translated("heartbeat"):
                seen = await self._replicas(
                    keys=[self.replicas_key, self.epoch_key],
                    args=[self.replica_id, REPLICA_TTL_MS, int(self.now() * 1000)],
                )
        except RedisUnavailable:
            self._lost("heartbeat")
            return
        self.replicas = max(1, int(seen))
        if not self.shared:
            self.shared = True
            self.core.set_share(1.0)
            self._seed()  # a restarted Redis knows nothing of this window
            log.info("shared_budget_restored", replicas=self.replicas)

    def _seed(self) -> None:
        now = self.now()
        used = self.core.window_used(now)
        if used:
            self._push("weight", ("seed", used, now))

    async def _heartbeat(self) -> None:
        while True:
            await self.beat()
            await asyncio.sleep(HEARTBEAT_S if self.shared else HEARTBEAT_S / 4)  # back soon after Redis


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
