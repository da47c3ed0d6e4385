"""Request-weight governor shared by every REST caller; keeps the IP from ever being banned.

Rules (spec §1.5), applied by the pure :class:`WeightGovernor`:

1. Weight is counted per IP in calendar-aligned windows (a 1-minute window resets at :00 of the
   server's clock). Each call is charged its documented weight *before* it is sent
   (:meth:`WeightGovernor.reserve`), against a budget a little under the limit (``headroom``).
2. The live ``X-MBX-USED-WEIGHT-1M`` header is the truth: after each answer the estimate becomes
   ``header + weight still in flight`` (:meth:`WeightGovernor.observe`), so weight spent by other
   processes on the same IP is seen, and 0-weight successful orders are credited back.
3. Over budget: wait if the window ends within ``max_wait_s``, else refuse with
   :class:`~provider.errors.RateLimited` (never send and hope). A slice of the budget
   (``priority_share``) is kept for priority calls (the order books' snapshots), so tool calls that
   use up the budget cannot stop the live books from healing.
4. HTTP 429: stop until ``Retry-After`` (:meth:`WeightGovernor.on_rate_limited`); the limit named
   in the -1003 message ("current limit is N request weight per ...") replaces ours.
5. HTTP 418: every call is refused fast with :class:`~provider.errors.IpBanned` until the ban ends
   (:meth:`WeightGovernor.on_banned`). Ignoring 429s is what earns a 418; rule 4 prevents it.
6. Limits change (a temporary drop, then back). The latest answer wins: a limit read from a -1003
   message is provisional, so the rules are re-read (:meth:`WeightGovernor.rules_refresh_due`)
   once its block is over; while the limit is below the highest one the rules ever gave, they are
   re-read every ``recheck_s`` (a drop is temporary until proven otherwise); a used-weight header
   above our limit proves the limit was raised, so the rules are re-read at once. The re-read is a
   priority call (it is what gives the budget back); one that fails is tried again next window. It
   is never refused as too heavy (a limit under its own weight, 20, would keep itself forever), nor
   held for an empty window then: the exchange refuses it whatever else was counted, or takes it once
   its limit is back (waiting for an empty window let the calls that start it starve it).
7. Never impossible forever: a call heavier than the budget (the limit less ``headroom``) but
   within the limit goes out at the start of a window, when nothing else is counted; only a call
   heavier than the limit itself is refused outright (the caller asks for less, e.g. a smaller
   depth snapshot). Under a lowered or provisional limit that refusal names when the limit is
   re-read (``retry_after_s``), so a caller that needs the call (the user data stream's snapshot)
   comes back then instead of after its own grown backoff.

8. Replicas (issue 19): with Redis, one budget per IP is kept by a script running these same rules
   (``provider/shared/budgets.py``); this core then mirrors it and tells the shell what it learned
   (``listener``: every header, 429, 418 and limit). Without Redis, this process falls back to a
   share of the budget (:meth:`WeightGovernor.set_share`, e.g. 1/N of it for N replicas), counting
   only its own calls, while a used-weight header still stops it once the whole IP has used the budget.

Times are server-clock epoch seconds passed in by the caller; only :class:`AsyncGovernor` (the
shell) reads a clock and sleeps.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Callable
from typing import Any

from provider.errors import IpBanned, RateLimited, ban_length_s, usable_retry_after

__all__ = ["AsyncGovernor", "GovernorEvent", "WeightGovernor", "parse_limit_from_message"]

#: what the core learned, for a shell that shares it: ("observe", weight, header, sent_at, now),
#: ("release", weight), ("rate_limited", until, limit, interval_s), ("banned", until), ("limit", limit, interval_s).
GovernorEvent = tuple[Any, ...]

_LIMIT_RE = re.compile(r"current limit is (\d{1,18}) request weight per (\d{1,9})?\s*(\w+)", re.IGNORECASE)
_INTERVAL_S = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400}
_MAX_LIMIT = 10**9  # Binance names 6000; far more than any exchange gives, and well inside a float


def parse_limit_from_message(msg: str | None) -> tuple[int, int] | None:
    """Read ``(limit, interval_s)`` from a -1003 message ("limit is 6000 ... per 1 MINUTE")."""
    if not msg:
        return None
    m = _LIMIT_RE.search(msg)
    if not m:
        return None
    unit = m.group(3).upper().rstrip("S")
    if unit not in _INTERVAL_S:
        return None
    limit, interval_s = int(m.group(1)), int(m.group(2) or 1) * _INTERVAL_S[unit]
    if not (0 < limit <= _MAX_LIMIT and interval_s > 0):
        return None  # the exchange's text, not a limit we can keep (0 refuses everything; 400 digits overflow)
    return limit, interval_s


class WeightGovernor:
    """Pure bookkeeping of request weight for one IP; decides go / wait / refuse.

    Args:
        limit: REQUEST_WEIGHT limit per window (from exchangeInfo rateLimits).
        interval_s: window length in seconds (60 for "MINUTE x1").
        headroom: fraction of the limit never used, for other callers and estimate error.
        max_wait_s: longest wait :meth:`reserve` asks for before refusing instead.
    """

    def __init__(self, limit: int = 6000, interval_s: int = 60, headroom: float = 0.1,
                 max_wait_s: float = 2.0, priority_share: float = 0.0,
                 recheck_s: float = 60.0) -> None:
        if not 0 <= headroom < 1:
            raise ValueError("headroom must be in [0, 1)")
        if not 0 <= priority_share < 1:
            raise ValueError("priority_share must be in [0, 1)")
        self.headroom = headroom
        self.priority_share = priority_share
        self.max_wait_s = max_wait_s
        self.limit = limit
        self.interval_s = interval_s
        self._window = -1
        self._used = 0
        self._in_flight = 0
        self._blocked_until = 0.0
        self._banned_until = 0.0
        self._last_header: int | None = None
        self.recheck_s = recheck_s
        self.limit_source = "default"  # "exchangeInfo", "-1003 message" or "default"
        self._refresh_at: float | None = None  # when the rules should be re-read (rule 6)
        self._peak = 0  # the highest limit the rules (exchangeInfo) gave
        self.share = 1.0  # fraction of the budget this process may use alone (rule 8)
        self.listener: Callable[[GovernorEvent], None] | None = None  # rule 8: a sharing shell

    def _tell(self, *event: Any) -> None:
        if self.listener is not None:
            self.listener(event)

    def set_share(self, share: float) -> None:
        """Use ``share`` of the budget, counting only this process's calls (rule 8); 1.0 = all of it."""
        if not 0 < share <= 1:
            raise ValueError("share must be in (0, 1]")
        self.share = share

    # -- configuration -----------------------------------------------------------------
    def set_limit(self, limit: int, interval_s: int = 60, *, source: str = "exchangeInfo") -> None:
        """Adopt the live limit (exchangeInfo REQUEST_WEIGHT or a -1003 message)."""
        if limit <= 0 or interval_s <= 0:
            raise ValueError("limit and interval must be positive")
        if interval_s != self.interval_s:
            self._window = -1
        self.limit, self.interval_s = limit, interval_s
        self.limit_source = source
        if source == "exchangeInfo":
            self._refresh_at = None  # the rules are the truth again (rule 6)
            self._peak = max(self._peak, limit)
            self._tell("limit", limit, interval_s)

    def rules_refresh_due(self, now: float, weight: int = 20) -> bool:
        """True when the rules (a call of ``weight``) should be re-read now (rule 6); the caller
        then reads them as a priority call and calls :meth:`set_limit`, or
        :meth:`rules_refresh_failed`. A re-read may use the slice kept for priority calls: under a
        lowered limit it is the one call that can give the budget back."""
        if self._refresh_at is None and self.limit < self._peak:
            self._refresh_at = now + self.recheck_s  # lowered: look again in a while
        if self._refresh_at is None or now < self._refresh_at or now < self._blocked_until \
                or now < self._banned_until:
            return False
        self._roll(now)
        if self._last_header is not None and self._last_header > self.limit:
            return True  # our limit is too low for sure: the re-read is what fixes the budget
        if weight > self.limit:  # lowered under the re-read's own weight: an empty window buys nothing (see reserve)
            return True
        if weight > self.budget_for(True):  # rule 7
            return self._used == 0 and self._in_flight == 0
        return self._used + weight <= self.budget_for(True)

    def _reread_in(self, now: float) -> float | None:
        """Seconds until a lowered or provisional limit is re-read (rule 6), at least 1 s (a re-read
        may be under way); None when the limit is the exchange's usual one and will not change."""
        if self.limit_source != "-1003 message" and self.limit >= self._peak:
            return None
        due = self._refresh_at if self._refresh_at is not None else now + self.recheck_s
        return max(1.0, max(due, self._blocked_until, self._banned_until) - now)

    def rules_refresh_failed(self, now: float) -> None:
        """The re-read did not happen: try again at the next window (a fresh budget), or after
        ``recheck_s`` if that is sooner."""
        if self._refresh_at is not None:
            self._refresh_at = min(now + self.recheck_s, (self.window_of(now) + 1) * self.interval_s)

    @property
    def budget(self) -> int:
        """Weight we allow ourselves per window (our share of it, rule 8)."""
        return max(1, math.floor(self.limit * (1 - self.headroom) * self.share))

    @property
    def ip_budget(self) -> int:
        """Weight all processes on this IP together allow themselves per window."""
        return max(1, math.floor(self.limit * (1 - self.headroom)))

    def budget_for(self, priority: bool) -> int:
        """The budget a call may fill: all of it for priority calls, less the priority slice otherwise."""
        if priority:
            return self.budget
        return max(1, self.budget - math.floor(self.budget * self.priority_share))

    def window_of(self, now: float) -> int:
        """Index of the calendar-aligned window containing ``now``."""
        return int(now // self.interval_s)

    def _roll(self, now: float) -> None:
        window = self.window_of(now)
        if window != self._window:
            self._window = window
            self._used = 0  # the server charges a call when it processes it, not when we send it
            self._last_header = None

    # -- decisions -----------------------------------------------------------------------
    def reserve(self, weight: int, now: float, *, priority: bool = False, rules_reread: bool = False) -> float:
        """Charge ``weight`` if it fits now and return 0.0; else return seconds to wait first.

        ``priority`` calls may use the slice of the budget kept for them (``priority_share``); the
        ``rules_reread`` (rule 6) heavier than the limit is neither refused nor held for an empty window.

        Raises:
            IpBanned: while a 418 ban lasts.
            RateLimited: if the wait would exceed ``max_wait_s`` or ``weight`` exceeds the budget.
        """
        if now < self._banned_until:
            left = self._banned_until - now
            raise IpBanned(
                f"REST calls refused: the IP is banned for {left:.0f} s more",
                retry_after_s=left, banned_until_s=self._banned_until,
            )
        if weight > self.limit and not rules_reread:
            reread_in = self._reread_in(now)
            when = "" if reread_in is None else f"; the limit is re-read in {reread_in:.1f} s, retry then"
            raise RateLimited(
                f"a call of weight {weight} can never fit the limit of {self.limit} "
                f"per {self.interval_s} s (from {self.limit_source}){when}", retry_after_s=reread_in,
            )
        if now < self._blocked_until:
            return self._wait_or_refuse(self._blocked_until - now, "rate limited (429)")
        self._roll(now)
        # a re-read heavier than the limit goes whatever else is counted (rule 6: an empty window buys it nothing)
        fits = (rules_reread and weight > self.limit) or self._used + weight <= self.budget_for(priority)
        if not fits and weight > self.budget_for(priority):
            fits = self._used == 0 and self._in_flight == 0  # rule 7: alone in a fresh window
        if not fits:
            window_end = (self._window + 1) * self.interval_s
            return self._wait_or_refuse(window_end - now, "request-weight budget used up")
        self._used += weight
        self._in_flight += weight
        return 0.0

    def _wait_or_refuse(self, delay: float, why: str) -> float:
        delay = max(delay, 0.001)
        if delay <= self.max_wait_s:
            return delay
        raise RateLimited(
            f"{why}: {self._used}/{self.limit} weight used; retry in {delay:.1f} s",
            retry_after_s=delay,
        )

    def observe(self, weight: int, used_header: int | None, sent_at: float, now: float) -> None:
        """Settle a reserved call once answered; correct the estimate from its used-weight header.

        A header is ignored if the call was sent in an earlier window than ``now`` (it counts a
        window that is over).
        """
        self._tell("observe", weight, used_header, sent_at, now)
        self._in_flight = max(0, self._in_flight - weight)
        self._roll(now)
        if used_header is not None and self.window_of(sent_at) == self._window:
            self._last_header = used_header
            if self.share >= 1:
                self._used = used_header + self._in_flight
            elif used_header + self._in_flight >= self.ip_budget:  # rule 8: the whole IP is at the budget
                self._used = max(self._used, self.budget)
            if used_header > self.limit:  # rule 6: the exchange allows more than we think
                self._refresh_at = now

    def release(self, weight: int) -> None:
        """Settle a reserved call that got no answer; its weight stays counted (conservative)."""
        self._tell("release", weight)
        self._in_flight = max(0, self._in_flight - weight)

    def on_rate_limited(self, retry_after_s: float | None, now: float,
                        message: str | None = None) -> None:
        """HTTP 429: stop until Retry-After (or the window end), and learn the real limit."""
        self._roll(now)
        parsed = parse_limit_from_message(message)
        if parsed is not None:
            self.set_limit(*parsed, source="-1003 message")
            self._roll(now)
        window_end = (self.window_of(now) + 1) * self.interval_s
        retry_after_s = usable_retry_after(retry_after_s)
        until = now + retry_after_s if retry_after_s is not None else window_end
        self._blocked_until = max(self._blocked_until, until)
        self._used = max(self._used, self.budget)
        if parsed is not None:  # rule 6: provisional; re-read the rules once the block is over
            self._refresh_at = self._blocked_until
        self._tell("rate_limited", self._blocked_until, self.limit if parsed else None, self.interval_s)

    def on_banned(self, retry_after_s: float | None, now: float) -> None:
        """HTTP 418: refuse every call until the ban ends (2 minutes if Retry-After is missing)."""
        self._banned_until = max(self._banned_until, now + ban_length_s(retry_after_s))
        self._tell("banned", self._banned_until)

    def adopt_shared(self, *, used: int | None = None, blocked_until: float = 0.0, banned_until: float = 0.0,
                     now: float) -> None:
        """Mirror the replicas' shared state (rule 8), so health and a later fallback start from it."""
        self._roll(now)
        if used is not None:
            self._used = max(used, 0)
        self._blocked_until = max(self._blocked_until, blocked_until)
        self._banned_until = max(self._banned_until, banned_until)

    # -- reporting -----------------------------------------------------------------------
    def window_used(self, now: float) -> int:
        """The most this process knows was used in the current window: its count or the last header (rule 8:
        what a sharing shell seeds the shared window with when it starts or Redis comes back)."""
        self._roll(now)
        return max(self._used, self._last_header or 0)

    @property
    def used(self) -> int:
        """Estimated weight used in the current window (as of the last call)."""
        return self._used

    def snapshot(self, now: float) -> dict[str, Any]:
        """State for health: used/limit, and when blocks or bans end (epoch s, or None)."""
        self._roll(now)
        return {
            "used_weight": self._used,
            "weight_limit": self.limit,
            "weight_budget": self.budget,
            "interval_s": self.interval_s,
            "weight_limit_source": self.limit_source,
            "last_used_weight_header": self._last_header,
            "rate_limited_until": self._blocked_until if now < self._blocked_until else None,
            "banned_until": self._banned_until if now < self._banned_until else None,
        }


class AsyncGovernor:
    """Thin asyncio shell: reads the (server-corrected) clock and sleeps when the core says wait.

    Args:
        core: the shared :class:`WeightGovernor`.
        now: server-clock epoch seconds (the client passes local time plus the measured offset).
    """

    def __init__(self, core: WeightGovernor, now: Callable[[], float]) -> None:
        self.core = core
        self.now = now

    async def acquire(self, weight: int, *, priority: bool = False, rules_reread: bool = False) -> float:
        """Wait until ``weight`` is reserved; return the server-clock time it was granted."""
        while True:
            now = self.now()
            delay = self.core.reserve(weight, now, priority=priority, rules_reread=rules_reread)
            if delay == 0.0:
                return now
            await asyncio.sleep(delay)
