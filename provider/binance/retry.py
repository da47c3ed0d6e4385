"""Retry policy as a pure classifier: what to do after a failed REST call.

``classify(exc, idempotent=...)`` returns one of:

- :class:`Retry` — repeat the call once (reads only), optionally after re-measuring the clock;
- :class:`Reconcile` — a mutating call's outcome is unknown: the caller must look the order up
  by client order id before anything else (never resend blindly);
- :class:`Fatal` — report the error as it is.

Rate limits are never retried here: the governor already waited as long as it is willing to.
"""

from __future__ import annotations

from dataclasses import dataclass

from common.backoff import Backoff
from provider.errors import (
    ExchangeTimeout,
    ExchangeUnavailable,
    ExecutionUnknown,
    ProviderError,
    RateLimited,
    TimestampRejected,
)

__all__ = ["READ_RETRY", "Decision", "Fatal", "Reconcile", "Retry", "classify"]

#: the delay before a read is sent again (one retry, so its first ceiling: 0.2 s; not jittered,
#: as a single call's retry is no herd).
READ_RETRY = Backoff(base_s=0.2, cap_s=5.0)


@dataclass(frozen=True)
class Retry:
    """Send the read again after ``delay_s``; re-measure the clock first if ``resync_clock``."""

    delay_s: float = 0.0
    resync_clock: bool = False


@dataclass(frozen=True)
class Reconcile:
    """Outcome unknown: query by client order id before deciding anything."""


@dataclass(frozen=True)
class Fatal:
    """Give the error to the caller unchanged."""


Decision = Retry | Reconcile | Fatal


def classify(exc: ProviderError, *, idempotent: bool, attempt: int = 1) -> Decision:
    """Decide after attempt number ``attempt`` (1-based) failed with ``exc``.

    Reads get at most one retry; mutating calls never get one.
    """
    if isinstance(exc, ExecutionUnknown):
        return Reconcile()
    if not idempotent or attempt >= 2 or isinstance(exc, RateLimited):
        return Fatal()
    if isinstance(exc, TimestampRejected):
        return Retry(0.0, resync_clock=True)
    if isinstance(exc, (ExchangeUnavailable, ExchangeTimeout)):
        return Retry(READ_RETRY.ceiling(attempt - 1))
    return Fatal()

