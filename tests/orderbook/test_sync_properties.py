"""Property tests: any interleaving of snapshot, buffered events, gaps, duplicates, stalls and
reconnects ends in the reference book or in an explicit resync (never a silently wrong book)."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from provider.orderbook.sync import (
    Action,
    BookSync,
    DepthEvent,
    FetchSnapshot,
    Publish,
    Resync,
    SyncState,
)
from tests.orderbook.strategies import Change, ReferenceMarket, changes


class SyncAgainstReference(RuleBasedStateMachine):
    """A lossy, duplicating stream and slow snapshots in front of one BookSync."""

    def __init__(self) -> None:
        super().__init__()
        self.market = ReferenceMarket()
        self.sync = BookSync(max_buffer=8)
        self.produced: list[DepthEvent] = []
        self.cursor = 0  # next produced event the stream will deliver
        self.requests: dict[int, int] = {}  # request id -> market id when it was sent
        self.delivered: list[DepthEvent] = []
        self.resyncs = 0

    def handle(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, FetchSnapshot):
                self.requests[action.request_id] = self.market.update_id
            elif isinstance(action, Resync):
                self.resyncs += 1
            elif isinstance(action, Publish):
                assert self.sync.state is SyncState.SYNCED
                assert self.sync.book is not None
                assert action.last_update_id == self.sync.book.last_update_id

    @initialize(initial=st.lists(changes, min_size=1, max_size=5))
    def subscribe(self, initial: list[list[Change]]) -> None:
        for change_list in initial:
            self.market.apply(change_list)
        self.handle(self.sync.on_subscribed())

    @rule(batches=st.lists(changes, min_size=1, max_size=3))
    def produce(self, batches: list[list[Change]]) -> None:
        self.produced.append(self.market.event(batches))

    @rule()
    def deliver(self) -> None:
        if self.cursor < len(self.produced):
            event = self.produced[self.cursor]
            self.cursor += 1
            self.delivered.append(event)
            self.handle(self.sync.feed(event))

    @rule()
    def drop(self) -> None:
        if self.cursor < len(self.produced):
            self.cursor += 1

    @rule(data=st.data())
    def duplicate(self, data: st.DataObject) -> None:
        if self.delivered:
            self.handle(self.sync.feed(data.draw(st.sampled_from(self.delivered))))

    @rule(data=st.data())
    def answer_snapshot(self, data: st.DataObject) -> None:
        request = self.sync.awaiting_snapshot
        if request is None:
            return
        sent_at = self.requests[request]
        at = data.draw(st.integers(sent_at, self.market.update_id))
        self.handle(self.sync.on_snapshot(request, self.market.snapshot(at)))

    @rule()
    def answer_abandoned_request(self) -> None:
        # An answer to an old request id must be ignored, whatever it contains.
        if self.requests:
            state, lid = self.sync.state, self.sync.book and self.sync.book.last_update_id
            old = min(self.requests)
            if old != self.sync.awaiting_snapshot:
                assert self.sync.on_snapshot(old, self.market.snapshot(0)) == []
                assert (self.sync.state, self.sync.book and self.sync.book.last_update_id) == (
                    state, lid)

    @rule()
    def stall(self) -> None:
        self.handle(self.sync.on_stall())

    @rule()
    def reconnect(self) -> None:
        self.handle(self.sync.on_disconnect())
        assert self.sync.state is not SyncState.SYNCED
        self.cursor = len(self.produced)  # what was in flight on the old connection is lost
        self.handle(self.sync.on_subscribed())

    @invariant()
    def served_book_is_the_reference_at_its_id(self) -> None:
        book = self.sync.book
        if book is None:
            assert self.sync.state in (SyncState.STARTING, SyncState.BUFFERING)
            return
        assert self.sync.state in (SyncState.SYNCED, SyncState.RESYNCING)
        lid = book.last_update_id
        assert lid is not None
        assert book.levels(1000) == self.market.truth(lid)
        assert not book.is_crossed()

    @invariant()
    def a_waiting_machine_has_a_request_out(self) -> None:
        # Liveness: never stuck without a snapshot request once an event is buffered (Rule 2: the
        # snapshot waits for the first event's U).
        if self.sync.state in (SyncState.BUFFERING, SyncState.RESYNCING) and self.sync.buffered:
            assert self.sync.awaiting_snapshot is not None

    def teardown(self) -> None:
        # Recovery: with a clean stream and prompt snapshots the machine reaches the latest book.
        for _ in range(3):
            while self.cursor < len(self.produced):
                self.deliver()
            request = self.sync.awaiting_snapshot
            if request is not None:
                self.handle(self.sync.on_snapshot(request, self.market.snapshot()))
            self.produce([[("b", 1, "7")]])
            self.deliver()
        assert self.sync.state is SyncState.SYNCED
        assert self.sync.book is not None
        assert self.sync.book.last_update_id == self.market.update_id
        assert self.sync.book.levels(1000) == self.market.truth(self.market.update_id)


SyncAgainstReference.TestCase.settings = settings(
    max_examples=300, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestSyncAgainstReference = SyncAgainstReference.TestCase
