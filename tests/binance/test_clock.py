"""ClockOffset: midpoint-of-RTT offset, staleness and invalidation (pure)."""

import pytest

from provider.binance.clock import ClockOffset


def test_offset_is_server_time_minus_rtt_midpoint() -> None:
    clock = ClockOffset()
    sample = clock.update(server_ms=10_500, sent_ms=1_000, received_ms=1_200)
    assert sample.offset_ms == 10_500 - 1_100
    assert sample.rtt_ms == 200
    assert clock.server_now_ms(2_000) == 2_000 + 9_400


def test_unmeasured_clock_uses_local_time_and_is_due() -> None:
    clock = ClockOffset()
    assert clock.offset_ms == 0
    assert clock.is_due(0)


def test_measurement_becomes_due_after_refresh_interval() -> None:
    clock = ClockOffset(refresh_interval_ms=1_000)
    clock.update(5_000, 100, 100)
    assert not clock.is_due(1_099)
    assert clock.is_due(1_100)


def test_invalidate_forces_remeasure_but_keeps_offset() -> None:
    clock = ClockOffset()
    clock.update(5_000, 100, 100)
    clock.invalidate()
    assert clock.is_due(101)
    assert clock.offset_ms == 4_900
    clock.update(5_000, 200, 200)
    assert not clock.is_due(201)


def test_negative_offset_for_a_clock_ahead_of_the_server() -> None:
    assert ClockOffset().update(1_000, 5_000, 5_010).offset_ms == -4_005


def test_received_before_sent_is_rejected() -> None:
    with pytest.raises(ValueError):
        ClockOffset().update(1, 10, 9)
