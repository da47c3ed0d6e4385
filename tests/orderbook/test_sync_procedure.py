"""Binance's local-book procedure, step by step (provider/orderbook/sync.py Rules 2-3, spec §7).

The snapshot waits for the first event's ``U``; a snapshot older than it is fetched again after a
growing backoff, never judged against an empty buffer; a REST copy that lags the stream causes no
resync at all.
"""

from __future__ import annotations

from provider.orderbook.sync import BookSync, DepthEvent, FetchSnapshot, Publish, Resync, SyncState
from tests.orderbook.strategies import ReferenceMarket


def market_with_events(n: int) -> tuple[ReferenceMarket, list[DepthEvent]]:
    market = ReferenceMarket()
    market.apply([("b", 1, "1"), ("a", 21, "1")])
    events = [market.event([[("b", 2 + i % 10, str(i + 1))]]) for i in range(n)]
    return market, events


def test_no_snapshot_is_fetched_before_the_first_event() -> None:
    sync = BookSync()
    assert sync.on_subscribed() == []
    assert sync.state is SyncState.BUFFERING and sync.awaiting_snapshot is None
    _, events = market_with_events(1)
    actions = sync.feed(events[0])
    assert actions == [FetchSnapshot(1, 0)]


def test_a_snapshot_older_than_the_first_event_is_fetched_again_with_growing_attempts() -> None:
    sync = BookSync()
    sync.on_subscribed()
    market, events = market_with_events(6)
    (fetch,) = sync.feed(events[2])  # the stream starts at the third update
    first_u = events[2].first_update_id
    attempts = []
    for at in (first_u - 3, first_u - 2, first_u - 1):  # lid == U - 1 is still "older" (step 4)
        actions = sync.on_snapshot(fetch.request_id, market.snapshot(at))
        (fetch,) = actions
        assert isinstance(fetch, FetchSnapshot)
        attempts.append(fetch.attempt)
    assert attempts == [1, 2, 3]
    assert sync.state is SyncState.BUFFERING and sync.resync_count == 0
    sync.feed(events[3])
    actions = sync.on_snapshot(fetch.request_id, market.snapshot(events[3].final_update_id))
    assert actions == [Publish(events[3].final_update_id, None)]
    assert sync.state is SyncState.SYNCED and sync.resync_count == 0
    assert sync.stale_snapshots == 3
    assert sync.book is not None
    assert sync.book.levels(100) == market.truth(events[3].final_update_id)


def test_a_snapshot_that_stays_too_old_restarts_from_the_next_event_without_a_resync() -> None:
    sync = BookSync(max_refetch=2)
    sync.on_subscribed()
    market, events = market_with_events(4)
    (fetch,) = sync.feed(events[1])
    old = market.snapshot(0)
    (fetch,) = sync.on_snapshot(fetch.request_id, old)
    (fetch,) = sync.on_snapshot(fetch.request_id, old)
    assert sync.on_snapshot(fetch.request_id, old) == []  # third too-old answer: buffer dropped
    assert sync.buffered == 0 and sync.awaiting_snapshot is None
    assert sync.feed(events[2]) == [FetchSnapshot(fetch.request_id + 1, 0)]
    assert sync.resync_count == 0


def test_a_lagging_rest_copy_causes_no_resync_on_connect() -> None:
    """REST serves the book ``lag`` updates behind the stream; the stream goes on meanwhile."""
    lag = 5
    market, events = market_with_events(40)
    sync = BookSync()
    sync.on_subscribed()
    resyncs = 0
    fetch: FetchSnapshot | None = None
    for i, event in enumerate(events[10:], start=10):
        for action in sync.feed(event):
            if isinstance(action, FetchSnapshot):
                fetch = action
            resyncs += isinstance(action, Resync)
        if fetch is not None and i % 2 == 0:  # a REST answer every other event
            request, fetch = fetch, None
            for action in sync.on_snapshot(request.request_id,
                                           market.snapshot(event.final_update_id - lag)):
                if isinstance(action, FetchSnapshot):
                    fetch = action
                resyncs += isinstance(action, Resync)
    assert sync.state is SyncState.SYNCED
    assert resyncs == 0 and sync.resync_count == 0
    assert sync.book is not None
    assert sync.book.levels(100) == market.truth(market.update_id)


def test_after_a_crossed_event_the_next_snapshot_waits_for_a_new_event() -> None:
    sync = BookSync()
    sync.on_subscribed()
    market, events = market_with_events(3)
    (fetch,) = sync.feed(events[0])
    sync.on_snapshot(fetch.request_id, market.snapshot(events[0].final_update_id))
    assert sync.state is SyncState.SYNCED
    crossing = type(events[1])(events[1].first_update_id, events[1].final_update_id, 0,
                               [["0.00000030", "1"]], [])
    assert [type(a) for a in sync.feed(crossing)] == [Publish]  # recorded (book.py Rule 6)
    actions = sync.settle()  # what the manager does before it serves the book (Rule 7)
    assert [type(a) for a in actions] == [Resync]
    assert sync.state is SyncState.RESYNCING and sync.awaiting_snapshot is None
    assert [type(a) for a in sync.feed(events[2])] == [FetchSnapshot]
