"""The placement state machine: "absent" only once the exchange can no longer execute the request."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provider.trading.placement import TRANSITIONS, InvalidTransition, Placement, State, Trigger


def lost(ts: int = 1_000_000, recv_window: int = 5000, margin: int = 1000) -> Placement:
    p = Placement("cid-1", recv_window_ms=recv_window, margin_ms=margin)
    p.answer_lost(ts)
    return p


def test_a_lost_answer_is_known_only_after_timestamp_plus_recv_window_plus_margin() -> None:
    p = lost()
    assert p.state is State.UNKNOWN and p.known_at_ms == 1_006_000
    assert p.looked_up(False, 1_006_000) is State.UNKNOWN  # not yet past: the exchange may still run it
    assert p.looked_up(False, 1_006_001) is State.ABSENT and p.final


def test_a_late_execution_found_by_a_lookup_settles_as_exists() -> None:
    p = lost()
    p.looked_up(False, 1_001_000)
    assert p.looked_up(True, 1_008_000) is State.EXISTS and p.final


def test_the_table_refuses_moves_it_does_not_list() -> None:
    p = Placement("cid-2", recv_window_ms=5000, margin_ms=0)
    with pytest.raises(InvalidTransition):
        p.fire(Trigger.FOUND)
    p.fire(Trigger.ACCEPTED)
    with pytest.raises(InvalidTransition):
        p.fire(Trigger.ANSWER_LOST)
    assert all(src not in (State.PLACED, State.ABSENT, State.EXISTS) for src, _ in TRANSITIONS)


def test_lookups_back_off_but_never_delay_the_definitive_one() -> None:
    p = lost()
    p.looked_up(False, 1_000_100)
    assert p.next_lookup_in_ms(1_000_100) == 250
    for _ in range(5):
        p.looked_up(False, 1_000_200)
    assert p.next_lookup_in_ms(1_000_200) == 2000
    assert p.next_lookup_in_ms(1_005_500) == 501  # just past known_at, not a full pause later


events = st.lists(st.tuples(st.booleans(), st.integers(min_value=0, max_value=20_000)), min_size=1, max_size=30)


@given(events=events, recv_window=st.integers(min_value=1, max_value=60_000), margin=st.integers(0, 3000))
def test_absent_is_concluded_only_from_a_miss_after_the_window_and_nothing_moves_a_final_state(
    events: list[tuple[bool, int]], recv_window: int, margin: int
) -> None:
    p = lost(ts=0, recv_window=recv_window, margin=margin)
    for found, at in sorted(events, key=lambda e: e[1]):
        if p.final:
            break
        state = p.looked_up(found, at)
        if found:
            assert state is State.EXISTS
        elif at > recv_window + margin:
            assert state is State.ABSENT
        else:
            assert state is State.UNKNOWN
    if p.state is State.ABSENT:
        assert any(not f and at > recv_window + margin for f, at in events)


def test_the_gateway_waits_longer_for_an_order_than_the_provider_takes_to_answer() -> None:
    from provider.catalog.tools import tool_specs
    from provider.services.trading import PLACE_BUDGET_S

    spec = tool_specs()["binance.place_order"]
    assert spec.descriptor().timeout_ms >= (PLACE_BUDGET_S + 2) * 1000
