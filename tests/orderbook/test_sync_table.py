"""The sync state table drives the machine (provider/orderbook/sync.py ``TRANSITIONS``).

Each ``(state, trigger)`` has one next state; every state but STOPPED can stop; a public input
lands where the table says.
"""

from __future__ import annotations

import pytest

from provider.orderbook.sync import (
    TRANSITIONS,
    BookSync,
    FetchSnapshot,
    InvalidTransition,
    Resync,
    SyncState,
    Trigger,
)
from tests.orderbook.strategies import ReferenceMarket


def synced() -> BookSync:
    market = ReferenceMarket()
    market.apply([("b", 1, "1"), ("a", 21, "1")])
    sync = BookSync()
    sync.on_subscribed()
    (fetch,) = sync.feed(market.event([[("b", 2, "1")]]))
    assert isinstance(fetch, FetchSnapshot)
    second = market.event([[("a", 22, "1")]])
    sync.feed(second)
    sync.on_snapshot(fetch.request_id, market.snapshot(2))  # U of the first event <= 2; 3 bridges
    assert sync.state is SyncState.SYNCED
    return sync


def test_every_live_state_can_stop_and_a_stopped_machine_has_no_move() -> None:
    for state in SyncState:
        if state is SyncState.STOPPED:
            assert not [t for s, t in TRANSITIONS if s is state]
        else:
            assert TRANSITIONS[(state, Trigger.STOP)] is SyncState.STOPPED


def test_synced_is_entered_only_from_a_snapshot_that_bridges_or_a_move_within_synced() -> None:
    into_synced = {(s, t) for (s, t), target in TRANSITIONS.items() if target is SyncState.SYNCED}
    assert {t for s, t in into_synced if s is not SyncState.SYNCED} == {Trigger.SNAPSHOT_BRIDGED}


def test_inputs_land_where_the_table_says() -> None:
    sync = BookSync()
    sync.on_subscribed()
    assert sync.state is TRANSITIONS[(SyncState.STARTING, Trigger.SUBSCRIBED)]
    sync = synced()
    assert sync.on_disconnect() == [Resync("reconnect")]
    assert sync.state is TRANSITIONS[(SyncState.SYNCED, Trigger.RECONNECT)]
    sync.stop()
    assert sync.state is SyncState.STOPPED
    assert sync.on_disconnect() == [] and sync.state is SyncState.STOPPED


def test_a_move_the_table_lacks_is_refused() -> None:
    sync = BookSync()
    with pytest.raises(InvalidTransition):
        sync._fire(Trigger.GAP)  # STARTING has no GAP move
    assert sync.state is SyncState.STARTING
