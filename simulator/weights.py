"""Request-weight and order-count bookkeeping (pure: time is an argument). Spec §1.5.

Rules:
1. Weight windows are calendar minutes; the used weight of the current minute is reported in
   `X-MBX-USED-WEIGHT-1M` on every response.
2. A request that would push the minute past the limit is refused with 429/-1003 and a
   `Retry-After` (seconds to the next minute). Its weight is not added.
3. A client that keeps sending while refused collects strikes; past `STRIKES_BEFORE_BAN` the IP is
   banned: 418/-1003 with `Retry-After` until the ban ends.
3a. Bans scale for repeat offenders, "from 2 minutes to 3 days" (spec §1.5): the first lasts
   `ban_seconds`, each next one twice the previous, capped at `MAX_BAN_S`. A day after the last
   ban ended without a new one, the next starts from `ban_seconds` again.
4. Order counts use 10-second and 1-day calendar windows (`X-MBX-ORDER-COUNT-10S`/`-1D`); see
   `OrderCounter` for their rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from simulator.errors import ApiError

STRIKES_BEFORE_BAN = 3
MAX_BAN_S = 3 * 86_400
MINUTE_MS = 60_000
DAY_MS = 86_400_000
TEN_S_MS = 10_000


@dataclass
class WeightLimiter:
    """Per-IP request weight of the current minute, and the ban state."""

    limit: int
    ban_seconds: float
    used: int = 0
    window: int = -1
    strikes: int = 0
    banned_until_ms: int = 0
    bans: int = 0
    """Bans in the current escalation (rule 3a)."""

    def _roll(self, now_ms: int) -> None:
        w = now_ms // MINUTE_MS
        if w != self.window:
            self.window = w
            self.used = 0

    def current(self, now_ms: int) -> int:
        self._roll(now_ms)
        return self.used

    def reserve(self, weight: int, now_ms: int) -> None:
        """Add `weight` or raise the 429/418 `ApiError` (with `retry_after` seconds attached)."""
        self._roll(now_ms)
        if self.banned_until_ms > now_ms:
            raise self._banned(now_ms)
        if self.used + max(weight, 1) > self.limit:
            self.strikes += 1
            if self.strikes > STRIKES_BEFORE_BAN:
                self.banned_until_ms = now_ms + int(self.next_ban_seconds(now_ms) * 1000)
                self.bans += 1
                self.strikes = 0
                raise self._banned(now_ms)
            retry = math.ceil(((self.window + 1) * MINUTE_MS - now_ms) / 1000)
            err = ApiError(
                -1003,
                f"Too much request weight used; current limit is {self.limit} request weight "
                "per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling "
                "the API.",
                429,
            )
            err.retry_after = max(1, retry)
            raise err
        self.strikes = 0
        self.used += weight

    def next_ban_seconds(self, now_ms: int) -> float:
        """How long the next ban lasts (rule 3a)."""
        if self.bans and now_ms - self.banned_until_ms > DAY_MS:
            self.bans = 0  # a day without a ban: forgiven
        return float(min(self.ban_seconds * 2**self.bans, max(MAX_BAN_S, self.ban_seconds)))

    def add(self, weight: int, now_ms: int) -> None:
        """Charge weight after the fact (failed order requests, spec §1.5)."""
        self._roll(now_ms)
        self.used += weight

    def _banned(self, now_ms: int) -> ApiError:
        until = self.banned_until_ms
        stamp = datetime.fromtimestamp(until / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
        err = ApiError(
            -1003,
            f"Way too much request weight used; IP banned until {until} ({stamp} UTC). "
            "Please use WebSocket Streams for live updates to avoid bans.",
            418,
        )
        err.retry_after = max(1, math.ceil((until - now_ms) / 1000))
        return err

    def reset(self, limit: int | None = None) -> None:
        if limit is not None:
            self.limit = limit
        self.used = 0
        self.strikes = 0
        self.banned_until_ms = 0
        self.bans = 0


@dataclass(frozen=True)
class Reservation:
    """What one accepted order added to the counts (so a rejected order can give it back)."""

    win_10s: int
    win_1d: int
    counted_10s: bool


@dataclass
class OrderCounter:
    """Unfilled orders of the account in the current 10-second and 1-day windows (spec §1.5).

    Rules:
    1. Windows are calendar-aligned (10 s at :00, :10, ...; 1 day at 00:00 UTC).
    2. Every accepted new order adds one to each window; once the DAY count is exhausted the
       SECOND count stops incrementing [chg 2025-04-07].
    3. An order's first fill takes one off each current window, never below zero ("filled orders
       decrement the count", faqs/order_count_decrement.md).
    4. A new order that would exceed a window is refused: 429/-1015 with `Retry-After` = seconds to
       the end of that window. It is a count, not a weight: it never leads to an IP ban.
    """

    limit_10s: int
    limit_1d: int
    count_10s: int = 0
    count_1d: int = 0
    win_10s: int = -1
    win_1d: int = -1

    def _roll(self, now_ms: int) -> None:
        if now_ms // TEN_S_MS != self.win_10s:
            self.win_10s = now_ms // TEN_S_MS
            self.count_10s = 0
        if now_ms // DAY_MS != self.win_1d:
            self.win_1d = now_ms // DAY_MS
            self.count_1d = 0

    def check(self, now_ms: int) -> None:
        """Raise 429/-1015 when one more order would exceed a window's limit."""
        self._roll(now_ms)
        if self.count_1d >= self.limit_1d:
            raise _too_many(self.limit_1d, "1 DAY", now_ms, DAY_MS)
        if self.count_10s >= self.limit_10s:
            raise _too_many(self.limit_10s, "10 SECOND", now_ms, TEN_S_MS)

    def add(self, now_ms: int) -> Reservation:
        self._roll(now_ms)
        self.count_1d += 1
        counted = self.count_1d <= self.limit_1d  # rule 2
        if counted:
            self.count_10s += 1
        return Reservation(self.win_10s, self.win_1d, counted)

    def reserve(self, now_ms: int) -> Reservation:
        """Count one new order, or raise 429/-1015 (rule 4) without counting it."""
        self.check(now_ms)
        return self.add(now_ms)

    def release(self, res: Reservation) -> None:
        """Give back a reservation (the order was rejected after all)."""
        if res.win_1d == self.win_1d:
            self.count_1d = max(0, self.count_1d - 1)
        if res.counted_10s and res.win_10s == self.win_10s:
            self.count_10s = max(0, self.count_10s - 1)

    def filled(self, now_ms: int) -> None:
        """An order traded for the first time (rule 3)."""
        self._roll(now_ms)
        self.count_10s = max(0, self.count_10s - 1)
        self.count_1d = max(0, self.count_1d - 1)

    def set_limits(self, limit_10s: int, limit_1d: int) -> None:
        """New limits, counts reset (fault `order_limit`, `clear`)."""
        self.limit_10s, self.limit_1d = limit_10s, limit_1d
        self.count_10s = self.count_1d = 0

    def headers(self, now_ms: int) -> dict[str, str]:
        self._roll(now_ms)
        return {
            "X-MBX-ORDER-COUNT-10S": str(self.count_10s),
            "X-MBX-ORDER-COUNT-1D": str(self.count_1d),
        }


def _too_many(limit: int, per: str, now_ms: int, window_ms: int) -> ApiError:
    err = ApiError(-1015, f"Too many new orders; current limit is {limit} orders per {per}.", 429)
    err.retry_after = max(1, math.ceil((window_ms - now_ms % window_ms) / 1000))
    return err
