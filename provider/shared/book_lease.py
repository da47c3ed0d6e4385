"""Who ingests a live book: the pure rules of one replica's lease on one symbol (issue 19).

No I/O, no clock: the Redis shell (``book_redis.py``) performs what :meth:`LeaseRules.due` asks and
reports back with the time it *sent* the request. Rules:

- Rule 1. A lease is one Redis key per symbol holding ``<fence>:<token>`` with an expiry of
  ``ttl_s``. Taking it is atomic (Lua: only if the key is absent); the fence comes from INCR of a
  per-symbol counter that never goes down, so every holder has a larger fence than all before it.
- Rule 2. The holder renews every ``renew_every_s`` (well under ``ttl_s``). It counts its lease
  valid only until ``sent + ttl_s - margin_s``, ``sent`` being when its last successful take or
  renewal left this process: the server's expiry started later, so the holder always stops first.
- Rule 3. A renewal refused (the key is gone or holds another value), or no renewal confirmed
  before validity ends: the lease is lost. The shell stops ingesting at once and follows.
- Rule 4. A replica without the lease tries to take it every ``retry_every_s``. A dead holder's key
  expires within ``ttl_s``, so another replica holds it within ``ttl_s + retry_every_s`` (3.5 s with
  the defaults; the issue asks for 5 s).
- Rule 5. Every write the holder publishes carries its ``<fence>:<token>``; Redis refuses it (Lua)
  unless the lease key still holds exactly that: a holder that was paused past its expiry cannot
  overwrite the new holder's book.

``TRANSITIONS`` is the whole table; ``LeaseState.name`` is what health reports.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "TRANSITIONS",
    "Acquire",
    "LeaseAction",
    "LeaseChange",
    "LeaseRules",
    "LeaseState",
    "Release",
    "Renew",
]


class LeaseState(enum.Enum):
    """Whether this replica ingests the symbol."""

    FOLLOWING = "FOLLOWING"  # another replica (or none yet) holds the lease; we read its book
    HOLDING = "HOLDING"  # we hold the lease: we ingest and publish
    STOPPED = "STOPPED"  # the symbol is no longer tracked here


class LeaseChange(enum.Enum):
    """What the shell must do after an input: start or stop ingesting."""

    GAINED = "gained"
    LOST = "lost"


S = LeaseState
TRANSITIONS: Mapping[LeaseState, frozenset[LeaseState]] = {
    S.FOLLOWING: frozenset({S.FOLLOWING, S.HOLDING, S.STOPPED}),
    S.HOLDING: frozenset({S.HOLDING, S.FOLLOWING, S.STOPPED}),
    S.STOPPED: frozenset({S.STOPPED}),
}
del S


@dataclass(frozen=True, slots=True)
class Acquire:
    """Take the lease if nobody holds it (Rule 1)."""


@dataclass(frozen=True, slots=True)
class Renew:
    """Extend the lease, only if it still holds ``value`` (Rule 2)."""

    value: str


@dataclass(frozen=True, slots=True)
class Release:
    """Delete the lease, only if it still holds ``value`` (a clean stop hands over at once)."""

    value: str


LeaseAction = Acquire | Renew | Release


class LeaseRules:
    """One replica's lease on one symbol, as a state machine (see the module rules).

    Args:
        token: this replica's random identity for the symbol (unique across replicas).
        ttl_s: the lease key's expiry. renew_every_s: how often the holder renews.
        retry_every_s: how often a follower tries to take it. margin_s: validity kept in reserve.

    Raises:
        ValueError: timings that break Rule 2 (renewals must fit inside the validity).
    """

    def __init__(self, token: str, *, ttl_s: float = 3.0, renew_every_s: float = 0.75,
                 retry_every_s: float = 0.5, margin_s: float = 0.5) -> None:
        if not 0 < renew_every_s < ttl_s - margin_s or margin_s < 0 or retry_every_s <= 0:
            raise ValueError("need 0 < renew_every_s < ttl_s - margin_s, margin_s >= 0, retry_every_s > 0")
        self.token = token
        self.ttl_s, self.renew_every_s = ttl_s, renew_every_s
        self.retry_every_s, self.margin_s = retry_every_s, margin_s
        self.state = LeaseState.FOLLOWING
        self.fence: int | None = None
        self.gains = 0  # times this replica took the lease
        self._valid_until = 0.0
        self._last_sent = -1e18  # when the last take or renewal was sent
        self._in_flight = False

    @property
    def value(self) -> str | None:
        """What the lease key holds while we hold it (``<fence>:<token>``), else None."""
        return None if self.fence is None or self.state is not LeaseState.HOLDING \
            else f"{self.fence}:{self.token}"

    def holding(self, now: float) -> bool:
        """True while we hold a lease that is certainly still ours (Rule 2)."""
        return self.state is LeaseState.HOLDING and now < self._valid_until

    @property
    def ttl_ms(self) -> int:
        """The expiry the shell sets on the key."""
        return int(self.ttl_s * 1000)

    def due(self, now: float) -> LeaseAction | None:
        """The request to send now, if any; the shell answers with ``on_*(..., sent_at=now)``."""
        if self._in_flight or self.state is LeaseState.STOPPED:
            return None
        if self.state is LeaseState.HOLDING:
            value = self.value
            if value is None or now - self._last_sent < self.renew_every_s:
                return None
            self._in_flight = True
            return Renew(value)
        if now - self._last_sent < self.retry_every_s:
            return None
        self._in_flight = True
        return Acquire()

    def on_acquired(self, fence: int | None, sent_at: float) -> LeaseChange | None:
        """The answer to :class:`Acquire`: our fence, or None when another replica holds it."""
        self._in_flight = False
        self._last_sent = sent_at
        if self.state is not LeaseState.FOLLOWING or fence is None:
            return None
        self.fence = fence
        self._valid_until = sent_at + self.ttl_s - self.margin_s
        self.gains += 1
        self._goto(LeaseState.HOLDING)
        return LeaseChange.GAINED

    def on_renewed(self, ok: bool, sent_at: float) -> LeaseChange | None:
        """The answer to :class:`Renew`; refused means another replica holds it now (Rule 3)."""
        self._in_flight = False
        if self.state is not LeaseState.HOLDING:
            return None
        if not ok:
            return self._lose(sent_at)
        self._last_sent = sent_at
        self._valid_until = sent_at + self.ttl_s - self.margin_s
        return None

    def on_failed(self, now: float) -> LeaseChange | None:
        """The request got no answer (Redis unreachable): try again later; Rule 2 still holds."""
        self._in_flight = False
        self._last_sent = now
        return self.check(now)

    def check(self, now: float) -> LeaseChange | None:
        """Lose a lease whose validity ran out without a confirmed renewal (Rule 3)."""
        if self.state is LeaseState.HOLDING and now >= self._valid_until:
            return self._lose(now)
        return None

    def stop(self) -> Release | None:
        """Stop tracking the symbol; a held lease is handed back at once."""
        value = self.value
        if self.state is not LeaseState.STOPPED:
            self._goto(LeaseState.STOPPED)
        return None if value is None else Release(value)

    def _lose(self, now: float) -> LeaseChange:
        self._goto(LeaseState.FOLLOWING)
        self._valid_until = 0.0
        self._last_sent = now - self.retry_every_s  # try again at once: it may have expired
        return LeaseChange.LOST

    def _goto(self, target: LeaseState) -> None:
        if target not in TRANSITIONS[self.state]:
            raise RuntimeError(f"lease {self.state.name} -> {target.name}")  # a bug here, never Redis
        self.state = target
