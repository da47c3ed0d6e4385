"""Order-rate limits (``ORDERS`` in exchangeInfo ``rateLimits``), kept apart from request weight; pure.

Rules (spec §1.5):

1. Order limits count unfilled orders per *account* in calendar-aligned windows (e.g. 50 per 10
   SECOND and 160000 per DAY); request weight is per IP and is a different budget.
2. Successful order answers carry ``X-MBX-ORDER-COUNT-10S`` / ``-1D``: the account's count after
   that order. Fills decrement the count, so a reported count is an upper bound of the current one.
3. Over a limit Binance answers 429 with ``-1015``. That holds back *new orders only*, until its
   ``Retry-After`` (or the window's end): reads, cancels and order-book snapshots go on.
4. A new order is refused locally when the exchange already reported the limit reached in the
   current window (it would only earn another -1015); the refusal says when the window ends.

5. Replicas (issue 19): the count is per account whichever replica sent the order. With Redis, a
   script keeps the shared counts and hold and takes one slot per order atomically
   (``provider/shared/budgets.py``); this core mirrors that state (:meth:`OrderRateLimiter.adopt_shared`)
   and tells the shell what each answer reported (``listener``).

Times are epoch seconds passed in by the caller.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from provider.errors import OrderRateLimited, usable_retry_after

__all__ = ["OrderLimit", "OrderRateLimiter", "order_limits_from"]

_SECONDS = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400}
_DEFAULT_BLOCK_S = 10.0


@dataclass(frozen=True)
class OrderLimit:
    """One ORDERS limit: ``limit`` orders per ``interval_s``; ``label`` is the header suffix ("10s")."""

    label: str
    interval_s: int
    limit: int


def order_limits_from(rate_limits: Iterable[Mapping[str, Any]]) -> tuple[OrderLimit, ...]:
    """The ORDERS entries of exchangeInfo ``rateLimits``."""
    out = []
    for rl in rate_limits:
        unit = str(rl.get("interval", ""))
        if rl.get("rateLimitType") != "ORDERS" or unit not in _SECONDS:
            continue
        num = int(rl.get("intervalNum", 1))
        out.append(OrderLimit(f"{num}{unit[0].lower()}", num * _SECONDS[unit], int(rl["limit"])))
    return tuple(out)


class OrderRateLimiter:
    """Bookkeeping of the account's order counts; decides whether a new order may be sent."""

    def __init__(self, limits: Iterable[OrderLimit] = ()) -> None:
        self.limits = tuple(limits)
        self._counts: dict[str, tuple[int, int]] = {}  # label -> (window index, count)
        self._blocked_until = 0.0
        self._last_reason = ""
        #: rule 5: ("observe", {label: count}, now_s) and ("rejected", held_until_s, reason) for a sharing shell
        self.listener: Callable[[tuple[Any, ...]], None] | None = None

    def set_limits(self, limits: Iterable[OrderLimit]) -> None:
        """Adopt the limits of a fresh exchangeInfo."""
        self.limits = tuple(limits)

    def observe(self, counts: Mapping[str, int], now_s: float) -> None:
        """Record the ``X-MBX-ORDER-COUNT-*`` headers of an order answer (keys like "10s")."""
        for limit in self.limits:
            if limit.label in counts:
                self._counts[limit.label] = (self._window(limit, now_s), counts[limit.label])
        if self.listener is not None and counts:
            self.listener(("observe", dict(counts), now_s))

    def on_rejected(self, retry_after_s: float | None, message: str | None, now_s: float) -> None:
        """-1015: hold back new orders until ``Retry-After`` (or a short default)."""
        wait = usable_retry_after(retry_after_s) or _DEFAULT_BLOCK_S
        self._blocked_until = max(self._blocked_until, now_s + wait)
        self._last_reason = message or "too many new orders"
        if self.listener is not None:
            self.listener(("rejected", self._blocked_until, self._last_reason))

    def adopt_shared(self, counts: Mapping[str, int], held_until_s: float, reason: str, now_s: float) -> None:
        """Mirror the replicas' shared counts (current windows, keys like "10s") and hold (rule 5)."""
        for limit in self.limits:
            if limit.label in counts:
                self._counts[limit.label] = (self._window(limit, now_s), counts[limit.label])
        if held_until_s > self._blocked_until:
            self._blocked_until, self._last_reason = held_until_s, reason or self._last_reason

    def check(self, now_s: float) -> None:
        """Raises :class:`OrderRateLimited` when a new order would exceed a known limit."""
        if now_s < self._blocked_until:
            wait = self._blocked_until - now_s
            raise OrderRateLimited(
                f"new orders are held back for {math.ceil(wait)} s after the exchange answered -1015 "
                f"({self._last_reason})",
                retry_after_s=round(wait, 3),
            )
        for limit in self.limits:
            window, count = self._counts.get(limit.label, (-1, 0))
            if window == self._window(limit, now_s) and count >= limit.limit:
                wait = (window + 1) * limit.interval_s - now_s
                raise OrderRateLimited(
                    f"the exchange reported {count} unfilled orders in the current {limit.label} window, its "
                    f"limit is {limit.limit}; the window ends in {math.ceil(wait)} s",
                    retry_after_s=round(wait, 3),
                )

    def snapshot(self, now_s: float) -> dict[str, Any]:
        """Limits, last reported counts in the current windows, and any hold; for health."""
        counts = {
            limit.label: self._counts[limit.label][1]
            for limit in self.limits
            if limit.label in self._counts and self._counts[limit.label][0] == self._window(limit, now_s)
        }
        return {
            "order_limits": {limit.label: limit.limit for limit in self.limits},
            "order_counts": counts,
            "orders_held_until": self._blocked_until if now_s < self._blocked_until else None,
        }

    @staticmethod
    def _window(limit: OrderLimit, now_s: float) -> int:
        return int(now_s // limit.interval_s)
