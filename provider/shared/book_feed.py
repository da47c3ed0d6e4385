"""A live book published by its ingester and followed by every other replica: the pure rules (issue 19).

No I/O, no clock. The ingester's shell asks :class:`PublishRules` what to write after each change of
its book; the followers' shell feeds what it reads to a :class:`BookFollow`. What travels (one Redis
stream per symbol, plus one checkpoint hash; ``book_redis.py`` writes them with the lease's fence):

- ``Diff``: one depth event the ingester applied, as the exchange sent it (``U``, ``u``, levels),
  with ``prev``, the update id the ingester's book had before it.
- ``Mark``: a checkpoint was written: the ingester's whole book at ``last_update_id``.
- ``Beat``: the ingester is alive, its book is at ``last_update_id`` and in sync state ``state``.

Rules:

- Rule 1. A follower starts from the latest checkpoint (the whole book and the stream entry it was
  written at), then applies every later entry in stream order. A loaded checkpoint is served as
  RESYNCING until a later entry of the ingester confirms it (its writer may have died since).
- Rule 2. A ``Diff`` applies only if its ``prev`` equals the follower's update id; a ``Beat`` or
  ``Mark`` must name the follower's update id. Anything else is a gap in the published ids (the
  stream was trimmed past the follower, or an entry was lost): the follower says RESYNCING, keeps
  its last book marked so, and reloads the checkpoint (Rule 1).
- Rule 3. A ``Mark`` at another update id is a new book (the ingester resynced, or a new ingester
  took over): reload the checkpoint.
- Rule 4. The follower is SYNCED only while the ingester says SYNCED and is heard from: a
  ``Beat`` in another state, or silence past ``stale_after_s`` (the shell calls
  :meth:`BookFollow.on_silent`), makes it RESYNCING until an entry again proves it current.
- Rule 5. Entries from an older fence than one already seen are ignored: Redis refuses a stale
  holder's writes (``book_lease.py`` Rule 5); this only guards against reading them if one slipped.
- Rule 6 (ingester). A new book object, a jump in ids or every ``checkpoint_every`` entries is
  written as a checkpoint, so a late or lost follower never has far to read; the stream is trimmed
  to ``keep_entries`` (more than twice ``checkpoint_every``), so the latest checkpoint's entry is
  always still in it.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from provider.orderbook.book import BookError, DiffOutcome, Level, OrderBook, RawLevel, Side

__all__ = [
    "Beat",
    "BookFollow",
    "Checkpoint",
    "Diff",
    "Entry",
    "FollowState",
    "LoadCheckpoint",
    "Mark",
    "PublishRules",
    "Published",
    "Unsynced",
    "checkpoint_fields",
    "checkpoint_of",
    "decode_entry",
    "encode_entry",
]


@dataclass(frozen=True, slots=True)
class Diff:
    """One depth event the ingester applied on top of update id ``prev``."""

    fence: int
    prev: int
    first_update_id: int
    final_update_id: int
    event_time_ms: int
    bids: Sequence[RawLevel]
    asks: Sequence[RawLevel]


@dataclass(frozen=True, slots=True)
class Mark:
    """A checkpoint of the ingester's book at ``last_update_id`` was written at this entry."""

    fence: int
    last_update_id: int


@dataclass(frozen=True, slots=True)
class Beat:
    """The ingester is alive; its book is at ``last_update_id`` in sync state ``state``."""

    fence: int
    last_update_id: int
    state: str
    resync_count: int
    event_time_ms: int | None


Entry = Diff | Mark | Beat


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The ingester's whole book, written at stream entry ``entry_id``."""

    entry_id: str
    fence: int
    last_update_id: int
    event_time_ms: int | None
    resync_count: int
    bids: Sequence[Level]
    asks: Sequence[Level]
    bid_floor: Decimal | None
    ask_ceiling: Decimal | None


# -- wire form (flat string fields of a Redis stream entry / hash) ---------------------------------


def encode_entry(entry: Entry) -> dict[str, str]:
    """The stream entry's fields for ``entry``."""
    if isinstance(entry, Diff):
        return {"k": "d", "f": str(entry.fence), "p": str(entry.prev), "U": str(entry.first_update_id),
                "u": str(entry.final_update_id), "E": str(entry.event_time_ms),
                "b": _levels_json(entry.bids), "a": _levels_json(entry.asks)}
    if isinstance(entry, Mark):
        return {"k": "c", "f": str(entry.fence), "id": str(entry.last_update_id)}
    return {"k": "b", "f": str(entry.fence), "id": str(entry.last_update_id), "st": entry.state,
            "rc": str(entry.resync_count), "E": "" if entry.event_time_ms is None else str(entry.event_time_ms)}


def _levels_json(levels: Sequence[RawLevel]) -> str:
    """Levels as JSON pairs of plain decimal strings (``format(d, "f")``: never ``1E-7``)."""
    return json.dumps([[p if isinstance(p, str) else format(p, "f"), q if isinstance(q, str) else format(q, "f")]
                       for p, q in levels], separators=(",", ":"))


def decode_entry(fields: Mapping[str, str]) -> Entry:
    """Parse a stream entry.

    Raises:
        BookError: not an entry this module writes.
    """
    try:
        kind, fence = fields["k"], int(fields["f"])
        if kind == "d":
            return Diff(fence, int(fields["p"]), int(fields["U"]), int(fields["u"]), int(fields["E"]),
                        json.loads(fields["b"]), json.loads(fields["a"]))
        if kind == "c":
            return Mark(fence, int(fields["id"]))
        if kind == "b":
            event_time = fields.get("E") or None
            return Beat(fence, int(fields["id"]), fields["st"], int(fields["rc"]),
                        None if event_time is None else int(event_time))
    except (KeyError, TypeError, ValueError) as exc:
        raise BookError(f"not a published book entry: {exc!r}") from exc
    raise BookError(f"unknown published book entry kind {kind!r}")


def checkpoint_fields(book: OrderBook, *, fence: int, event_time_ms: int | None,
                      resync_count: int) -> dict[str, str]:
    """The checkpoint hash's fields for ``book`` (all its levels and its known-depth bounds)."""
    bids, asks = book.levels(max(book.depth(Side.BID), book.depth(Side.ASK)))
    floor, ceiling = book.bid_floor, book.ask_ceiling
    return {"f": str(fence), "id": str(book.last_update_id), "E": "" if event_time_ms is None else str(event_time_ms),
            "rc": str(resync_count),
            "b": _levels_json(bids), "a": _levels_json(asks),
            "bf": "" if floor is None else format(floor, "f"),
            "ac": "" if ceiling is None else format(ceiling, "f")}


def checkpoint_of(fields: Mapping[str, str]) -> Checkpoint:
    """Parse a checkpoint hash (with its ``sid``: the stream entry it was written at).

    Raises:
        BookError: not a checkpoint this module writes.
    """
    try:
        event_time = fields.get("E") or None
        floor, ceiling = fields.get("bf") or None, fields.get("ac") or None
        return Checkpoint(
            fields["sid"], int(fields["f"]), int(fields["id"]),
            None if event_time is None else int(event_time), int(fields["rc"]),
            [(Decimal(p), Decimal(q)) for p, q in json.loads(fields["b"])],
            [(Decimal(p), Decimal(q)) for p, q in json.loads(fields["a"])],
            None if floor is None else Decimal(floor), None if ceiling is None else Decimal(ceiling),
        )
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise BookError(f"not a published book checkpoint: {exc!r}") from exc


# -- the ingester's side -------------------------------------------------------------------------


class PublishRules:
    """What the ingester writes after its book changed (Rule 6).

    Args:
        checkpoint_every: entries between two checkpoints at most.
    """

    def __init__(self, *, checkpoint_every: int = 1000) -> None:
        if checkpoint_every < 1:
            raise ValueError("checkpoint_every must be >= 1")
        self.checkpoint_every = checkpoint_every
        self.last_update_id: int | None = None
        self._book: object | None = None
        self._since_checkpoint = 0

    def on_publish(self, book: OrderBook, first_update_id: int | None, final_update_id: int | None
                   ) -> tuple[str, int] | None:
        """``("diff", prev)`` or ``("checkpoint", id)`` to write for the book now at its update id,
        given the event that got it there (None when it came from a snapshot); None: nothing new."""
        current = book.last_update_id
        if current is None:
            return None
        prev = self.last_update_id
        if book is self._book and prev is not None and current == prev:
            return None  # a probe confirmed the same book: the next beat says so
        self.last_update_id = current
        contiguous = (book is self._book and prev is not None and first_update_id is not None
                      and final_update_id == current and first_update_id <= prev + 1)
        if contiguous and self._since_checkpoint < self.checkpoint_every:
            self._since_checkpoint += 1
            assert prev is not None
            return ("diff", prev)
        self._book, self._since_checkpoint = book, 0
        return ("checkpoint", current)

    def on_beat(self) -> None:
        """A beat was written: it counts towards the next checkpoint (the stream's length)."""
        self._since_checkpoint += 1

    def forget(self) -> None:
        """The lease changed hands: the next publish is a checkpoint."""
        self.last_update_id, self._book, self._since_checkpoint = None, None, 0


# -- the follower's side -------------------------------------------------------------------------


class FollowState(enum.Enum):
    """Where a followed book stands (names as ``SyncState``'s, so health reads alike)."""

    STARTING = "STARTING"  # no book yet
    SYNCED = "SYNCED"  # at the ingester's update id, and the ingester is SYNCED and heard from
    RESYNCING = "RESYNCING"  # the last good book, kept and marked; waiting for proof or a checkpoint
    STOPPED = "STOPPED"


@dataclass(frozen=True, slots=True)
class LoadCheckpoint:
    """Read the checkpoint hash and hand it to :meth:`BookFollow.on_checkpoint` (Rules 1-3)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Published:
    """The followed book is current at ``last_update_id`` (the ingester said so just now)."""

    last_update_id: int


@dataclass(frozen=True, slots=True)
class Unsynced:
    """The followed book is no longer known current, for ``reason``."""

    reason: str


FollowAction = LoadCheckpoint | Published | Unsynced


class BookFollow:
    """One symbol's book as published by its ingester (see the module rules).

    Args:
        max_levels: passed to the :class:`OrderBook` (the ingester's own cap).
    """

    def __init__(self, *, max_levels: int | None = None) -> None:
        self.max_levels = max_levels
        self.state = FollowState.STARTING
        self.book: OrderBook | None = None
        self.fence = 0  # the highest fence seen (Rule 5)
        self.event_time_ms: int | None = None
        self.publisher_state = "STARTING"
        self.resync_count = 0  # the ingester's, as it publishes it, plus our own gaps
        self.gaps = 0  # gaps in the published ids seen here
        self.last_reason: str | None = None  # why it last stopped being SYNCED
        self.note: str | None = None  # why it is not SYNCED yet, when that is not a resync
        self.wants_checkpoint = True

    @property
    def last_update_id(self) -> int | None:
        """The followed book's update id, None before the first checkpoint."""
        return None if self.book is None else self.book.last_update_id

    def on_checkpoint(self, ckpt: Checkpoint) -> list[FollowAction]:
        """Start over from ``ckpt`` (Rule 1); the shell then reads from ``ckpt.entry_id``."""
        if ckpt.fence < self.fence or self.state is FollowState.STOPPED:
            return []
        book = OrderBook(max_levels=self.max_levels)
        try:
            book.restore(ckpt.last_update_id, ckpt.bids, ckpt.asks,
                         bid_floor=ckpt.bid_floor, ask_ceiling=ckpt.ask_ceiling)
        except BookError as exc:
            return self._unsynced(f"bad checkpoint: {exc}")
        self.book, self.fence = book, ckpt.fence
        self.event_time_ms = ckpt.event_time_ms
        self.resync_count = max(self.resync_count, ckpt.resync_count + self.gaps)
        self.wants_checkpoint = False
        # Not SYNCED yet (Rule 4): the ingester that wrote it may be gone; its next entry decides.
        self.publisher_state = "UNCONFIRMED"
        self.note = "checkpoint loaded; waiting for the ingester to confirm it"
        self.state = FollowState.RESYNCING
        return []

    def on_missing_checkpoint(self) -> list[FollowAction]:
        """No checkpoint yet (nobody ingests yet): wait for the first ``Mark``."""
        self.wants_checkpoint = False
        return []

    def feed(self, entry: Entry) -> list[FollowAction]:
        """One stream entry, in stream order."""
        if self.state is FollowState.STOPPED or entry.fence < self.fence:
            return []  # Rule 5
        self.fence = entry.fence
        if isinstance(entry, Mark):
            if entry.last_update_id == self.last_update_id and not self.wants_checkpoint:
                return self._confirmed(self.publisher_state)
            return self._reload("new book published")  # Rule 3
        if self.book is None or self.wants_checkpoint:
            return []  # nothing to apply it to: the checkpoint load is pending
        if isinstance(entry, Beat):
            if entry.state != "SYNCED":
                self.resync_count = max(self.resync_count, entry.resync_count + self.gaps)
                return self._confirmed(entry.state)  # its id means nothing until it is synced again
            if entry.last_update_id != self.last_update_id:
                return self._gap(f"beat at {entry.last_update_id}, book at {self.last_update_id}")
            self.resync_count = max(self.resync_count, entry.resync_count + self.gaps)
            if entry.event_time_ms is not None:
                self.event_time_ms = entry.event_time_ms
            return self._confirmed(entry.state)
        if entry.prev != self.last_update_id:
            return self._gap(f"entry after {entry.prev}, book at {self.last_update_id}")
        outcome = _apply(self.book, entry)
        if outcome is DiffOutcome.APPLIED:
            outcome = self.book.settle()
        if outcome is not DiffOutcome.APPLIED:
            return self._gap(f"published event {outcome.value if outcome else 'malformed'}")
        self.event_time_ms = entry.event_time_ms
        return self._confirmed("SYNCED")

    def on_silent(self) -> list[FollowAction]:
        """Nothing heard from the ingester for too long (Rule 4): no longer known current."""
        if self.state is FollowState.SYNCED:
            return self._unsynced("the ingester is silent")
        return []

    def suspend(self, reason: str) -> list[FollowAction]:
        """No longer known current, for ``reason`` (e.g. this replica took over ingesting)."""
        return self._unsynced(reason)

    def stop(self) -> None:
        """Stop following; every later input is ignored."""
        self.state = FollowState.STOPPED

    def _confirmed(self, publisher_state: str) -> list[FollowAction]:
        self.publisher_state = publisher_state
        if publisher_state != "SYNCED":
            return self._unsynced(f"the ingester is {publisher_state}")
        self.state, self.note = FollowState.SYNCED, None
        assert self.book is not None and self.book.last_update_id is not None
        return [Published(self.book.last_update_id)]

    def _gap(self, why: str) -> list[FollowAction]:
        self.gaps += 1
        self.resync_count += 1
        return self._reload(f"gap in the published ids: {why}")

    def _reload(self, reason: str) -> list[FollowAction]:
        self.wants_checkpoint = True
        actions = self._unsynced(reason)
        return [*actions, LoadCheckpoint(reason)]

    def _unsynced(self, reason: str) -> list[FollowAction]:
        self.last_reason, self.note = reason, None
        if self.book is not None:
            was = self.state
            self.state = FollowState.RESYNCING
            return [Unsynced(reason)] if was is FollowState.SYNCED else []
        return []


def _apply(book: OrderBook, diff: Diff) -> DiffOutcome | None:
    try:
        return book.apply_diff(diff.first_update_id, diff.final_update_id, diff.bids, diff.asks)
    except BookError:
        return None
