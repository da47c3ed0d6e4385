"""The pure cores of replicated books (issue 19): the lease rules, what the ingester publishes and
how a follower applies it. No Redis here: ``test_replicated_redis.py`` runs the same against a real
server, ``test_replicas_sandbox.py`` with provider processes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provider.orderbook.book import OrderBook, Side
from provider.shared.book_feed import (
    Beat,
    BookFollow,
    Diff,
    FollowState,
    LoadCheckpoint,
    Mark,
    Published,
    PublishRules,
    Unsynced,
    checkpoint_fields,
    checkpoint_of,
    decode_entry,
    encode_entry,
)
from provider.shared.book_lease import Acquire, LeaseChange, LeaseRules, LeaseState, Release, Renew
from tests.orderbook.strategies import ReferenceMarket, changes

# -- the lease ---------------------------------------------------------------------------------


def held(rules: LeaseRules, fence: int = 7, at: float = 0.0) -> LeaseRules:
    assert isinstance(rules.due(at), Acquire)
    assert rules.on_acquired(fence, at) is LeaseChange.GAINED
    return rules


def test_a_follower_takes_a_free_lease_and_renews_it_on_its_schedule_only() -> None:
    rules = held(LeaseRules("a", ttl_s=3, renew_every_s=1, retry_every_s=0.5, margin_s=0.5))
    assert rules.state is LeaseState.HOLDING and rules.value == "7:a"
    assert rules.due(0.9) is None
    renew = rules.due(1.0)
    assert renew == Renew("7:a")
    assert rules.due(1.05) is None  # one request in flight at a time
    assert rules.on_renewed(True, 1.0) is None
    assert rules.holding(3.4) and not rules.holding(3.5)  # valid until sent + ttl - margin


def test_a_lease_held_by_another_replica_is_tried_again_after_the_retry_period() -> None:
    rules = LeaseRules("b", retry_every_s=0.5)
    assert isinstance(rules.due(0.0), Acquire)
    assert rules.on_acquired(None, 0.0) is None
    assert rules.state is LeaseState.FOLLOWING and not rules.holding(0.1)
    assert rules.due(0.4) is None
    assert isinstance(rules.due(0.5), Acquire)


def test_a_refused_renewal_loses_the_lease_and_the_next_take_is_tried_at_once() -> None:
    rules = held(LeaseRules("a"))
    assert isinstance(rules.due(1.0), Renew)
    assert rules.on_renewed(False, 1.0) is LeaseChange.LOST
    assert rules.state is LeaseState.FOLLOWING and rules.value is None
    assert isinstance(rules.due(1.0), Acquire)


def test_a_holder_that_cannot_reach_redis_stops_before_its_key_can_expire() -> None:
    rules = held(LeaseRules("a", ttl_s=3, renew_every_s=1, margin_s=0.5))
    for t in (1.0, 2.0):
        assert isinstance(rules.due(t), Renew)
        assert rules.on_failed(t) is None  # still certainly ours
    assert rules.holding(2.4)
    assert rules.check(2.5) is LeaseChange.LOST  # 0 + 3 - 0.5: before the server's expiry at 3
    assert not rules.holding(2.5)


def test_a_dead_holders_lease_moves_within_ttl_plus_one_retry() -> None:
    """A model of the key's expiry (as Redis keeps it) with a holder that stops renewing at 1 s."""
    ttl, retry = 3.0, 0.5
    a, b = LeaseRules("a", ttl_s=ttl, retry_every_s=retry), LeaseRules("b", ttl_s=ttl, retry_every_s=retry)
    expires_at, fence, renewed_at, taken_at = 0.0, 0, 0.0, None
    for tick in range(100):
        t = tick / 10
        for rules, alive in ((a, t < 1.0), (b, True)):
            action = rules.due(t) if alive else None
            if isinstance(action, Acquire):
                free = t >= expires_at
                if free:
                    fence, expires_at = fence + 1, t + ttl
                if rules.on_acquired(fence if free else None, t) and rules is b:
                    taken_at = t
                elif free:
                    renewed_at = t
            elif isinstance(action, Renew):
                expires_at, renewed_at = t + ttl, t
                rules.on_renewed(True, t)
        if taken_at is not None:
            break
    assert taken_at is not None and b.fence == 2
    assert renewed_at < 1.0  # the key was last extended by the holder before it died
    assert taken_at - renewed_at <= ttl + retry


def test_stopping_hands_a_held_lease_back_and_ends_the_machine() -> None:
    rules = held(LeaseRules("a"))
    assert rules.stop() == Release("7:a")
    assert rules.due(100.0) is None and rules.stop() is None


def test_timings_that_cannot_renew_in_time_are_refused() -> None:
    with pytest.raises(ValueError):
        LeaseRules("a", ttl_s=1.0, renew_every_s=0.8, margin_s=0.5)


# -- what travels ------------------------------------------------------------------------------


def test_entries_survive_their_wire_form_with_exact_decimal_strings() -> None:
    diff = Diff(3, 10, 11, 12, 1700000000000, [["0.00000010", "5.5"]], [[Decimal("0.00000012"), "0"]])
    back = decode_entry(encode_entry(diff))
    assert isinstance(back, Diff)
    assert back.asks == [["0.00000012", "0"]]  # format(d, "f"), never 1.2E-7
    assert (back.fence, back.prev, back.first_update_id, back.final_update_id) == (3, 10, 11, 12)
    assert decode_entry(encode_entry(Mark(3, 12))) == Mark(3, 12)
    assert decode_entry(encode_entry(Beat(3, 12, "RESYNCING", 4, None))) == Beat(3, 12, "RESYNCING", 4, None)


def ingester_book() -> OrderBook:
    book = OrderBook(max_levels=50)
    book.apply_snapshot(100, [["0.00000010", "1"], ["0.00000009", "2"]],
                        [["0.00000011", "3"], ["0.00000012", "4"]], depth_limit=2)
    return book


def test_the_publisher_sends_a_checkpoint_for_a_new_book_then_diffs_then_a_checkpoint_again() -> None:
    rules, book = PublishRules(checkpoint_every=2), ingester_book()
    assert rules.on_publish(book, None, None) == ("checkpoint", 100)
    assert rules.on_publish(book, None, None) is None  # a probe confirming the same book
    for first, final in ((101, 101), (102, 103)):
        book.apply_diff(first, final, [], [])
        assert rules.on_publish(book, first, final) == ("diff", first - 1 if first == 101 else 101)
    book.apply_diff(104, 104, [], [])
    assert rules.on_publish(book, 104, 104) == ("checkpoint", 104)  # checkpoint_every reached
    fresh = ingester_book()
    assert rules.on_publish(fresh, None, None) == ("checkpoint", 100)  # a resynced book


def checkpoint_from(book: OrderBook, fence: int = 1, sid: str = "1-0") -> object:
    fields = checkpoint_fields(book, fence=fence, event_time_ms=5, resync_count=0)
    return checkpoint_of({**fields, "sid": sid})


def synced_follower(book: OrderBook) -> BookFollow:
    follow = BookFollow(max_levels=50)
    assert follow.on_checkpoint(checkpoint_from(book)) == []  # type: ignore[arg-type]
    assert follow.state is FollowState.RESYNCING  # unconfirmed: its writer may be gone
    assert follow.feed(Beat(1, 100, "SYNCED", 0, None)) == [Published(100)]
    return follow


def test_a_follower_rebuilds_the_ingesters_book_level_for_level_with_its_known_depth() -> None:
    book = ingester_book()
    follow = synced_follower(book)
    diff = Diff(1, 100, 101, 101, 6, [["0.00000010", "0"], ["0.00000008", "7"]], [["0.00000011", "9"]])
    book.apply_diff(101, 101, diff.bids, diff.asks)
    assert follow.feed(diff) == [Published(101)]
    assert follow.state is FollowState.SYNCED and follow.book is not None
    assert follow.book.levels(10) == book.levels(10)
    for side in Side:
        assert follow.book.exact_depth(side) == book.exact_depth(side)
    assert follow.book.bid_floor == book.bid_floor and follow.book.ask_ceiling == book.ask_ceiling


def test_a_gap_in_the_published_ids_keeps_the_book_marked_and_reloads_the_checkpoint() -> None:
    follow = synced_follower(ingester_book())
    actions = follow.feed(Diff(1, 101, 102, 102, 6, [], []))
    assert [type(a) for a in actions] == [Unsynced, LoadCheckpoint]
    assert follow.state is FollowState.RESYNCING and follow.last_update_id == 100
    assert follow.wants_checkpoint and follow.resync_count == 1
    assert follow.feed(Diff(1, 100, 101, 101, 6, [], [])) == []  # nothing applies until reloaded


def test_a_beat_at_another_id_is_a_gap_and_a_mark_at_another_id_a_new_book() -> None:
    follow = synced_follower(ingester_book())
    assert LoadCheckpoint in {type(a) for a in follow.feed(Beat(1, 105, "SYNCED", 0, None))}
    follow = synced_follower(ingester_book())
    assert LoadCheckpoint in {type(a) for a in follow.feed(Mark(2, 300))}
    follow = synced_follower(ingester_book())
    assert follow.feed(Mark(1, 100)) == [Published(100)]  # a checkpoint of the book it has


def test_an_ingester_that_resyncs_or_falls_silent_makes_the_copy_resyncing_until_it_is_heard_again() -> None:
    follow = synced_follower(ingester_book())
    assert follow.feed(Beat(1, 0, "RESYNCING", 1, None)) == [Unsynced("the ingester is RESYNCING")]
    assert follow.state is FollowState.RESYNCING and follow.resync_count == 1
    assert follow.feed(Beat(1, 100, "SYNCED", 1, None)) == [Published(100)]
    assert follow.on_silent() == [Unsynced("the ingester is silent")]
    assert follow.on_silent() == []
    assert follow.feed(Diff(1, 100, 101, 101, 6, [], [])) == [Published(101)]


def test_entries_of_an_older_fence_than_one_seen_are_ignored() -> None:
    follow = synced_follower(ingester_book())
    assert follow.feed(Beat(2, 100, "SYNCED", 0, None)) == [Published(100)]
    assert follow.feed(Diff(1, 100, 101, 101, 6, [["0.00000010", "0"]], [])) == []
    assert follow.last_update_id == 100


def test_a_checkpoint_older_than_the_fence_seen_is_not_loaded() -> None:
    follow = synced_follower(ingester_book())
    follow.feed(Beat(3, 100, "SYNCED", 0, None))
    assert follow.on_checkpoint(checkpoint_from(ingester_book(), fence=2)) == []  # type: ignore[arg-type]
    assert follow.state is FollowState.SYNCED


# -- a follower against a lossy published stream (property) ------------------------------------

Op = tuple[str, Any]

ops = st.lists(
    st.one_of(
        st.tuples(st.just("event"), st.lists(changes, min_size=1, max_size=3)),
        st.tuples(st.just("resync"), st.none()),
        st.tuples(st.just("beat"), st.sampled_from([False, False, True])),
        st.tuples(st.just("read"), st.integers(1, 4)),
        st.tuples(st.just("lose"), st.integers(1, 3)),  # entries the follower never sees (trimmed, lost)
        st.tuples(st.just("again"), st.none()),  # the last entry read is delivered again
        st.tuples(st.just("silent"), st.none()),
    ),
    max_size=60,
)


class PublishedStream:
    """The ingester (a book that follows the reference market), its stream and latest checkpoint."""

    def __init__(self) -> None:
        self.market = ReferenceMarket()
        self.market.apply([("b", 5, "1"), ("a", 25, "1")])
        self.rules = PublishRules(checkpoint_every=5)
        self.entries: list[Any] = []
        self.checkpoint: tuple[int, Any] | None = None
        self.state = "SYNCED"
        self.resync()

    def resync(self) -> None:
        snap = self.market.snapshot()
        self.book = OrderBook()
        self.book.apply_snapshot(snap.last_update_id, snap.bids, snap.asks)
        self.state = "SYNCED"
        self.publish(None, None)

    def event(self, batches: list[list[Any]]) -> None:
        ev = self.market.event(batches)
        if self.state != "SYNCED":
            return  # a resyncing ingester publishes nothing until its next book
        self.book.apply_diff(ev.first_update_id, ev.final_update_id, ev.bids, ev.asks)
        self.publish(ev, ev)

    def publish(self, ev: Any, _: Any) -> None:
        decision = self.rules.on_publish(self.book, None if ev is None else ev.first_update_id,
                                         None if ev is None else ev.final_update_id)
        if decision is None:
            return
        kind, prev = decision
        if kind == "diff":
            self.entries.append(decode_entry(encode_entry(
                Diff(1, prev, ev.first_update_id, ev.final_update_id, 0, ev.bids, ev.asks))))
            return
        fields = checkpoint_fields(self.book, fence=1, event_time_ms=None, resync_count=0)
        self.entries.append(Mark(1, prev))
        self.checkpoint = (len(self.entries), checkpoint_of({**fields, "sid": str(len(self.entries))}))

    def beat(self, lose_sync: bool) -> None:
        """A beat of the ingester's current state; ``lose_sync``: it lost sync just before."""
        if lose_sync:
            self.state = "RESYNCING"
            self.rules.forget()  # its next book (after the resync) is a new one
        last, state = self.rules.last_update_id, self.state
        if last is None and state == "SYNCED":
            state = "STARTING"  # as ReplicatedBooks._beat: nothing published yet
        self.rules.on_beat()
        self.entries.append(Beat(1, last or 0, state, 0, None))


@settings(max_examples=100, deadline=None)
@given(ops)
def test_a_follower_is_never_synced_on_a_book_the_market_did_not_have_at_its_id(script: list[Op]) -> None:
    pub, follow = PublishedStream(), BookFollow()
    cursor, last_read = 0, None

    def read(n: int) -> None:
        nonlocal cursor, last_read
        for _ in range(n):
            if follow.wants_checkpoint and pub.checkpoint is not None:
                cursor, ckpt = pub.checkpoint
                follow.on_checkpoint(ckpt)
            if cursor >= len(pub.entries):
                return
            last_read = pub.entries[cursor]
            cursor += 1
            follow.feed(last_read)
            check()

    def check() -> None:
        if follow.state is FollowState.SYNCED:
            assert follow.book is not None and follow.last_update_id is not None
            assert follow.book.levels(100) == pub.market.truth(follow.last_update_id)

    for kind, arg in script:
        if kind == "event":
            pub.event(arg)
        elif kind == "resync":
            if pub.state != "SYNCED":
                pub.resync()
        elif kind == "beat":
            pub.beat(arg)
        elif kind == "read":
            read(arg)
        elif kind == "lose":
            cursor = min(cursor + arg, len(pub.entries))
        elif kind == "again" and last_read is not None:
            follow.feed(last_read)
            check()
        elif kind == "silent":
            follow.on_silent()
            check()
    # A faithful channel from here on: the follower ends SYNCED at the ingester's book.
    if pub.state != "SYNCED":
        pub.resync()
    pub.beat(False)
    read(len(pub.entries) + 2)
    assert follow.state is FollowState.SYNCED
    assert follow.last_update_id == pub.book.last_update_id
    assert follow.book is not None and follow.book.levels(100) == pub.book.levels(100)
