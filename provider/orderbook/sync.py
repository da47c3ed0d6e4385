"""The sans-I/O sync machine that keeps one symbol's :class:`OrderBook` right.

It follows Binance's procedure (binance-spot-api-docs ``web-socket-streams.md``, "How to manage a
local order book correctly", corrected 2025-11-12; shared/reference/binance-spot-api.md §7):

- Rule 1. Subscribe to ``<symbol>@depth@100ms`` and buffer the events.
- Rule 2. Note ``U`` of the first buffered event, and only then fetch a REST snapshot (steps 2-3):
  a snapshot fetched before any event cannot be judged, because Binance's REST copy may lag the
  stream (a book synced from it would meet a gap at its first event: a spurious resync).
- Rule 3. While the snapshot's ``lastUpdateId`` is older than that first ``U`` (step 4: strictly
  less), fetch another one after a jittered backoff that grows to a cap (``FetchSnapshot.attempt``
  says which retry it is; the manager sleeps); after ``max_refetch`` such answers the buffer is
  dropped and the procedure restarts from the next event. Then drop buffered events with
  ``u <= lastUpdateId`` (step 5); the first remaining one bridges ``U <= lastUpdateId + 1 <= u``.
- Rule 2b (ours, quiet markets). A market may send no event for minutes. When the manager reports
  the subscription live but silent for a while (:meth:`BookSync.on_quiet`), a snapshot is fetched
  and served, *unconfirmed*: nothing changed on the stream since well before it was taken. The
  first event confirms it (it bridges, or is older); if it starts past ``lastUpdateId + 1`` the
  snapshot was older than the stream (Rule 3), which is not a resync.
- Rule 4. Book := snapshot, then apply the buffered events and every new one; ``u <= local`` is a
  duplicate and ignored; ``U > local + 1`` is a gap: discard and resync (this symbol only).
- Rule 5 (ours). A crossed book, a reconnect or a stall also resyncs this symbol. While it resyncs
  the last good book is kept, and its state says ``RESYNCING``: readers are never handed a silently
  wrong book.
- Rule 6 (ours). The buffer is bounded: when full, the oldest events go; Rule 3 then asks for a
  newer snapshot if needed. A gap *inside* the buffer drops what came before it, for that reason.

The machine has no clock and does no I/O: inputs are method calls, outputs are :class:`Action`
values that the manager performs. Snapshot requests carry an id so that an answer to an abandoned
request (for example one sent before a reconnect) is ignored.

``TRANSITIONS`` below is the whole state table, ``(state, trigger) -> next state`` as in h11: the
methods decide which trigger an input is and fire it; the table alone says where it leads.
``SyncState.name`` is what health reports.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from provider.orderbook.book import BookError, DiffOutcome, OrderBook, RawLevel

__all__ = [
    "TRANSITIONS",
    "Action",
    "BookSync",
    "DepthEvent",
    "FetchSnapshot",
    "InvalidTransition",
    "Publish",
    "Resync",
    "Snapshot",
    "SyncState",
    "Trigger",
]


class SyncState(enum.Enum):
    """Where one symbol's book stands."""

    STARTING = "STARTING"  # no subscription confirmed, no book
    BUFFERING = "BUFFERING"  # subscription live, buffering, waiting for the first good snapshot
    SYNCED = "SYNCED"  # the book follows the stream
    RESYNCING = "RESYNCING"  # had a good book, lost the thread; the old book is kept, marked
    STOPPED = "STOPPED"  # no longer tracked


class Trigger(enum.Enum):
    """Inputs of the machine, as named in the table; each (state, trigger) has one next state."""

    SUBSCRIBED = "subscribed"
    EVENT = "event"
    QUIET = "quiet"  # Rule 2b: live but silent, fetch anyway
    SNAPSHOT_BRIDGED = "snapshot bridged"  # the snapshot and the buffer make a book
    SNAPSHOT_REFUSED = "snapshot refused"  # too old (Rule 3), malformed, or a bad buffered event
    PROBE_ANSWER = "probe answer"  # a snapshot answering a stall probe while synced
    GAP = "gap"
    CROSSED = "crossed"
    STALL = "stall"
    STALE_SNAPSHOT = "stale snapshot"
    RECONNECT = "reconnect"
    STOP = "stop"


S, T = SyncState, Trigger

TRANSITIONS: Mapping[tuple[SyncState, Trigger], SyncState] = {
    (S.STARTING, T.SUBSCRIBED): S.BUFFERING,
    (S.STARTING, T.EVENT): S.BUFFERING,
    (S.STARTING, T.RECONNECT): S.STARTING,
    (S.BUFFERING, T.SUBSCRIBED): S.BUFFERING,
    (S.BUFFERING, T.QUIET): S.BUFFERING,
    (S.BUFFERING, T.SNAPSHOT_BRIDGED): S.SYNCED,
    (S.BUFFERING, T.SNAPSHOT_REFUSED): S.BUFFERING,
    (S.BUFFERING, T.RECONNECT): S.STARTING,
    (S.SYNCED, T.GAP): S.RESYNCING,
    (S.SYNCED, T.CROSSED): S.RESYNCING,
    (S.SYNCED, T.STALL): S.SYNCED,  # probe with a snapshot; the book stays readable
    (S.SYNCED, T.PROBE_ANSWER): S.SYNCED,  # confirmed, or replaced by the newer one
    (S.SYNCED, T.RECONNECT): S.RESYNCING,
    (S.SYNCED, T.STALE_SNAPSHOT): S.RESYNCING,  # Rule 2b: an unconfirmed book was too old
    (S.RESYNCING, T.SUBSCRIBED): S.RESYNCING,
    (S.RESYNCING, T.QUIET): S.RESYNCING,
    (S.RESYNCING, T.SNAPSHOT_BRIDGED): S.SYNCED,
    (S.RESYNCING, T.SNAPSHOT_REFUSED): S.RESYNCING,
    (S.RESYNCING, T.RECONNECT): S.RESYNCING,
    **{(state, T.STOP): S.STOPPED for state in (S.STARTING, S.BUFFERING, S.SYNCED, S.RESYNCING)},
}
"""The whole machine: :meth:`BookSync._fire` moves along it, so no method names a target state.
A pair missing here is a bug in this module (:class:`InvalidTransition`). Events and subscriptions
seen while SYNCED move nothing and fire nothing."""
del S, T


class InvalidTransition(RuntimeError):
    """A move the table does not allow: a bug in this module, never caused by the exchange."""


@dataclass(frozen=True, slots=True)
class DepthEvent:
    """One ``depthUpdate`` payload, kept raw (levels are parsed when applied)."""

    first_update_id: int
    final_update_id: int
    event_time_ms: int
    bids: Sequence[RawLevel]
    asks: Sequence[RawLevel]

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> DepthEvent:
        """Build from ``{"e":"depthUpdate","E","s","U","u","b","a"}``.

        Raises:
            BookError: a field is missing or of the wrong type.
        """
        try:
            return cls(int(data["U"]), int(data["u"]), int(data["E"]), data["b"], data["a"])
        except (KeyError, TypeError, ValueError) as exc:
            raise BookError(f"not a depthUpdate payload: {exc!r}") from exc


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One REST ``GET /api/v3/depth`` answer."""

    last_update_id: int
    bids: Sequence[RawLevel]
    asks: Sequence[RawLevel]
    depth_limit: int | None = None

    @classmethod
    def from_payload(cls, data: Mapping[str, Any], *, depth_limit: int | None = None) -> Snapshot:
        """Build from ``{"lastUpdateId","bids","asks"}``.

        Raises:
            BookError: a field is missing or of the wrong type.
        """
        try:
            return cls(int(data["lastUpdateId"]), data["bids"], data["asks"], depth_limit)
        except (KeyError, TypeError, ValueError) as exc:
            raise BookError(f"not a depth snapshot: {exc!r}") from exc


@dataclass(frozen=True, slots=True)
class FetchSnapshot:
    """Fetch a REST snapshot and hand it to :meth:`BookSync.on_snapshot` with this id.

    ``attempt`` is 0 for a first fetch and counts the refetches of snapshots that came back older
    than the stream (Rule 3); the manager backs off before a refetch.
    """

    request_id: int
    attempt: int = 0


@dataclass(frozen=True, slots=True)
class Publish:
    """The book is current at ``last_update_id`` (``event_time_ms`` None: from a snapshot)."""

    last_update_id: int
    event_time_ms: int | None


@dataclass(frozen=True, slots=True)
class Resync:
    """The book lost sync for ``reason`` (gap, crossed, reconnect, stall, ...); count and log it."""

    reason: str


Action = FetchSnapshot | Publish | Resync


class BookSync:
    """Binance's local-book procedure for one symbol, as a state machine (see module rules).

    Args:
        max_buffer: events kept while waiting for a snapshot (oldest dropped beyond it).
        max_levels: passed to each :class:`OrderBook` (trim far levels).
    """

    def __init__(self, *, max_buffer: int = 2000, max_levels: int | None = None,
                 max_refetch: int = 8) -> None:
        if max_buffer < 1:
            raise ValueError("max_buffer must be >= 1")
        if max_refetch < 1:
            raise ValueError("max_refetch must be >= 1")
        self.max_refetch = max_refetch
        self.stale_snapshots = 0  # snapshots refused as older than the stream (Rule 3), in all
        self.state = SyncState.STARTING
        self.book: OrderBook | None = None
        self.resync_count = 0
        self.last_reason: str | None = None
        self.dropped_events = 0
        self._max_levels = max_levels
        self._buffer: deque[DepthEvent] = deque(maxlen=max_buffer)
        self._pending: int | None = None  # id of the snapshot request we wait for
        self._next_request = 0
        self._attempt = 0  # refetches of too-old snapshots since the first buffered event
        self.unconfirmed = False  # synced from a quiet-market snapshot no event has confirmed yet
        self.last_note: str | None = None  # why it is still waiting (not a resync)

    # -- inputs ------------------------------------------------------------------------------

    def on_subscribed(self) -> list[Action]:
        """The stream's subscription is live (SUBSCRIBE ack or connection opened with it).

        Nothing is fetched yet: the snapshot waits for the first event (Rule 2).
        """
        if self.state in (SyncState.STARTING, SyncState.BUFFERING, SyncState.RESYNCING):
            self._fire(Trigger.SUBSCRIBED)
        return []

    def feed(self, event: DepthEvent) -> list[Action]:
        """One ``depthUpdate`` event from the stream."""
        state = self.state
        if state is SyncState.STOPPED:
            return []
        if state is SyncState.SYNCED:
            return self._apply_live(event)
        self._buffer_event(event)
        if state is SyncState.STARTING:
            self._fire(Trigger.EVENT)
        if self._pending is None:
            self._attempt = 0
            return [self._fetch()]  # Rule 2: the first event's U is known now
        return []

    def on_snapshot(self, request_id: int, snapshot: Snapshot) -> list[Action]:
        """The answer to ``FetchSnapshot(request_id)``; answers to other requests are ignored."""
        if request_id != self._pending or self.state is SyncState.STOPPED:
            return []
        self._pending = None
        if self.state is SyncState.SYNCED:
            return self._probe_answer(snapshot)
        first_u = self._buffer[0].first_update_id if self._buffer else None
        events = [e for e in self._buffer if e.final_update_id > snapshot.last_update_id]
        too_old = first_u is not None and snapshot.last_update_id < first_u
        if too_old or (events and events[0].first_update_id > snapshot.last_update_id + 1):
            return self._snapshot_too_old(snapshot.last_update_id, first_u)
        self._attempt = 0
        book = OrderBook(max_levels=self._max_levels)
        try:
            book.apply_snapshot(
                snapshot.last_update_id, snapshot.bids, snapshot.asks,
                depth_limit=snapshot.depth_limit,
            )
        except BookError as exc:
            self._fire(Trigger.SNAPSHOT_REFUSED)
            return [self._resync_action(f"bad snapshot: {exc}"), self._fetch()]
        event_time: int | None = None
        for event in events:
            outcome = self._apply(book, event)
            if outcome is DiffOutcome.APPLIED and event is events[-1]:
                outcome = book.settle()  # book.py Rule 7: checked before it is served
            if outcome is not DiffOutcome.APPLIED:
                # The buffer is contiguous (Rule 6) so only a crossed or malformed event lands here.
                self._buffer.clear()  # the next event starts the procedure again (Rule 2)
                self._fire(Trigger.SNAPSHOT_REFUSED)
                what = "malformed" if outcome in (None, DiffOutcome.MALFORMED) else outcome.value
                return [self._resync_action(f"buffered event {what}")]
            event_time = event.event_time_ms
        self.unconfirmed = not self._buffer
        self._buffer.clear()
        self.book = book
        self._fire(Trigger.SNAPSHOT_BRIDGED)
        last = book.last_update_id
        assert last is not None
        return [Publish(last, event_time)]

    def on_quiet(self) -> list[Action]:
        """The subscription is live but no event came for a while (Rule 2b): fetch anyway."""
        if self.state in (SyncState.BUFFERING, SyncState.RESYNCING) and self._pending is None \
                and not self._buffer:
            self._fire(Trigger.QUIET)
            return [self._fetch()]
        return []

    def _snapshot_too_old(self, last_update_id: int, first_u: int | None) -> list[Action]:
        """Rule 3: refetch with a growing backoff; after ``max_refetch`` start again."""
        self.stale_snapshots += 1
        self.last_note = f"snapshot older than the stream: lastUpdateId {last_update_id} < U {first_u}"
        self._fire(Trigger.SNAPSHOT_REFUSED)
        self._attempt += 1
        if self._attempt <= self.max_refetch:
            return [self._fetch(self._attempt)]
        # The REST copy lags by more than the buffer holds: drop it, wait for the next event.
        self._attempt = 0
        self.dropped_events += len(self._buffer)
        self._buffer.clear()
        return []

    def settle(self) -> list[Action]:
        """Fold the book's pending levels in (book.py Rule 7) before it is served or checked;
        a failure found now (crossed, malformed) resyncs like one found while applying."""
        book = self.book
        if book is None:
            return []
        book.settle()
        failure = book.take_failure()
        if failure is None or self.state is not SyncState.SYNCED:
            return []
        self._fire(Trigger.CROSSED)
        self._buffer.clear()
        self._attempt = 0
        self.unconfirmed = False
        reason = "malformed event" if failure is DiffOutcome.MALFORMED else failure.value
        return [self._resync_action(reason)]  # the next event starts the procedure (Rule 2)

    def on_stall(self) -> list[Action]:
        """No event for a while: probe with a snapshot (the manager keeps the stream)."""
        if self.state is SyncState.SYNCED and self._pending is None:
            self._fire(Trigger.STALL)
            return [self._fetch()]
        return []

    def on_disconnect(self) -> list[Action]:
        """The stream connection dropped: wait for a new subscription, then resync."""
        self._pending = None
        self._buffer.clear()
        self.unconfirmed = False
        was_synced = self.state is SyncState.SYNCED
        if self.state is not SyncState.STOPPED:
            self._fire(Trigger.RECONNECT)
        return [self._resync_action("reconnect")] if was_synced else []

    def stop(self) -> list[Action]:
        """Stop tracking; every later input is ignored."""
        if self.state is not SyncState.STOPPED:
            self._fire(Trigger.STOP)
        self._pending = None
        self._buffer.clear()
        return []

    # -- internals ---------------------------------------------------------------------------

    @property
    def awaiting_snapshot(self) -> int | None:
        """The id of the outstanding snapshot request, if any."""
        return self._pending

    @property
    def buffered(self) -> int:
        """Events currently buffered."""
        return len(self._buffer)

    def _fire(self, trigger: Trigger) -> SyncState:
        """Move along :data:`TRANSITIONS`.

        Raises:
            InvalidTransition: the table has no move for ``trigger`` from the current state.
        """
        target = TRANSITIONS.get((self.state, trigger))
        if target is None:
            raise InvalidTransition(f"{self.state.name} --{trigger.value}--> (no move)")
        self.state = target
        return target

    def _fetch(self, attempt: int = 0) -> FetchSnapshot:
        self._next_request += 1
        self._pending = self._next_request
        return FetchSnapshot(self._pending, attempt)

    def _resync_action(self, reason: str) -> Resync:
        self.resync_count += 1
        self.last_reason = reason
        return Resync(reason)

    def _buffer_event(self, event: DepthEvent) -> None:
        if self._buffer and event.first_update_id > self._buffer[-1].final_update_id + 1:
            self.dropped_events += len(self._buffer)
            self._buffer.clear()  # Rule 6: only a contiguous run can follow a snapshot
        elif self._buffer and event.final_update_id <= self._buffer[-1].final_update_id:
            return  # duplicate of something already buffered
        if len(self._buffer) == self._buffer.maxlen:
            self.dropped_events += 1
        self._buffer.append(event)

    @staticmethod
    def _apply(book: OrderBook, event: DepthEvent) -> DiffOutcome | None:
        try:
            return book.apply_diff(
                event.first_update_id, event.final_update_id, event.bids, event.asks
            )
        except BookError:
            return None

    def _apply_live(self, event: DepthEvent) -> list[Action]:
        book = self.book
        assert book is not None
        if book.failure is not None:  # a read settled the book and found it crossed/malformed
            return self.settle()
        outcome = self._apply(book, event)
        if self.unconfirmed and outcome is DiffOutcome.GAP:
            # Rule 2b: the quiet-market snapshot was older than the stream; not a resync.
            self.unconfirmed = False
            self._fire(Trigger.STALE_SNAPSHOT)
            self._buffer.clear()
            self._buffer.append(event)
            return self._snapshot_too_old(book.last_update_id or 0, event.first_update_id)
        self.unconfirmed = False
        if outcome is DiffOutcome.APPLIED:
            return [Publish(event.final_update_id, event.event_time_ms)]
        if outcome is DiffOutcome.STALE:
            return []
        trigger = Trigger.CROSSED if outcome is DiffOutcome.CROSSED else Trigger.GAP
        reason = "malformed event" if outcome in (None, DiffOutcome.MALFORMED) else outcome.value
        self._fire(trigger)
        self._buffer.clear()
        self._attempt = 0
        if outcome is DiffOutcome.GAP:
            self._buffer.append(event)  # it is the first event after the gap: keep it
            return [self._resync_action(reason), self._fetch()]
        return [self._resync_action(reason)]  # the next event starts the procedure (Rule 2)

    def _probe_answer(self, snapshot: Snapshot) -> list[Action]:
        book = self.book
        assert book is not None and book.last_update_id is not None
        self._fire(Trigger.PROBE_ANSWER)
        if snapshot.last_update_id <= book.last_update_id:
            return [Publish(book.last_update_id, None)]  # quiet market: the book is current
        fresh = OrderBook(max_levels=self._max_levels)
        try:
            fresh.apply_snapshot(
                snapshot.last_update_id, snapshot.bids, snapshot.asks,
                depth_limit=snapshot.depth_limit,
            )
        except BookError as exc:
            return [self._resync_action(f"bad snapshot: {exc}")]
        # The stream missed updates but the subscription is live: the newer snapshot is a valid
        # base (Rule 3 then applies to the next event through Rule 4's gap test).
        self.book = fresh
        return [self._resync_action("stall"), Publish(snapshot.last_update_id, None)]
