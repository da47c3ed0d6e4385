"""The order-book manager's typed health: a frozen record whose JSON form is the dict shown today."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from provider.orderbook.health import BooksHealth, SymbolBookHealth
from provider.orderbook.sync import SyncState


def symbol(state: str, **changes: Any) -> SymbolBookHealth:
    base = SymbolBookHealth(
        state=state, last_update_id=42, event_time_ms=1_000, age_ms=5, resync_count=1, last_resync_reason="gap",
        messages_per_s=9.5, buffered_events=0, stale_snapshots=0, unsynced_ms=0, quiet_checks=2, last_error=None,
    )
    return dataclasses.replace(base, **changes)


def test_only_a_synced_book_says_synced_and_state_names_are_the_sync_states() -> None:
    assert symbol(SyncState.SYNCED.name).synced
    assert not symbol(SyncState.RESYNCING.name, unsynced_ms=1_500).synced


def test_the_json_form_nests_every_symbol_by_name_and_serialises() -> None:
    health = BooksHealth(
        status="connected", connected=True, connection_age_s=3.5, streams=2, reconnects=0, renewals=1,
        max_symbols=50, last_error=None,
        symbols={"BTCUSDT": symbol("SYNCED"), "ETHUSDT": symbol("BUFFERING", last_update_id=None)},
    )
    data = json.loads(json.dumps(health.to_dict()))
    assert data["symbols"]["BTCUSDT"]["state"] == "SYNCED" and data["symbols"]["ETHUSDT"]["last_update_id"] is None
    assert set(data) == {f.name for f in dataclasses.fields(BooksHealth)}
    assert set(data["symbols"]["BTCUSDT"]) == {f.name for f in dataclasses.fields(SymbolBookHealth)}

