"""The pure cores' side of sharing (governor rule 8, order-limits rule 5): no Redis here."""

from __future__ import annotations

from typing import Any

import pytest

from provider.binance.governor import WeightGovernor
from provider.binance.order_limits import OrderLimit, OrderRateLimiter
from provider.errors import OrderRateLimited, RateLimited
from provider.trading.ledger import placement_from_json, placement_to_json
from provider.trading.placement import Placement, State

T0 = 1_700_000_040.0


def test_a_local_share_counts_own_calls_and_stops_when_a_header_shows_the_whole_ip_at_the_budget() -> None:
    gov = WeightGovernor(limit=100, headroom=0.1, max_wait_s=0.5)
    gov.set_share(0.5)
    assert gov.budget == 45 and gov.ip_budget == 90
    gov.reserve(20, T0 + 1)
    gov.observe(20, 60, T0 + 1, T0 + 1.1)  # other replicas used 40 more: still our 20 of our 45
    assert gov.used == 20
    gov.reserve(20, T0 + 2)
    gov.observe(20, 95, T0 + 2, T0 + 2.1)  # the IP is over its budget: no more here this window
    with pytest.raises(RateLimited):
        gov.reserve(1, T0 + 3)
    gov.set_share(1.0)
    assert gov.budget == 90


def test_the_core_tells_a_listener_what_it_learns_and_mirrors_the_shared_window() -> None:
    events: list[tuple[Any, ...]] = []
    gov = WeightGovernor(limit=100)
    gov.listener = events.append
    gov.set_limit(200, 60)
    gov.observe(5, 50, T0, T0 + 0.1)
    gov.on_rate_limited(3.0, T0 + 1, None)
    gov.on_banned(60.0, T0 + 2)
    assert [e[0] for e in events] == ["limit", "observe", "rate_limited", "banned"]
    gov.adopt_shared(used=150, now=T0 + 2)
    assert gov.window_used(T0 + 2) == 150  # the shared count, mirrored
    assert gov.window_used(T0 + 60) == 0  # a new window


def test_order_limits_adopt_the_replicas_counts_and_hold() -> None:
    events: list[tuple[Any, ...]] = []
    limits = OrderRateLimiter([OrderLimit("10s", 10, 5)])
    limits.listener = events.append
    limits.observe({"10s": 2}, T0)
    limits.on_rejected(4.0, "Too many new orders", T0)
    assert [e[0] for e in events] == ["observe", "rejected"]
    other = OrderRateLimiter([OrderLimit("10s", 10, 5)])
    other.adopt_shared({"10s": 5}, 0.0, "", T0)
    with pytest.raises(OrderRateLimited):
        other.check(T0)
    other.check(T0 + 10)  # the next window
    other.adopt_shared({}, T0 + 15, "held", T0 + 10)
    with pytest.raises(OrderRateLimited):
        other.check(T0 + 11)


def test_a_placement_survives_its_json_form() -> None:
    placement = Placement("cid-9", 5000, 1000)
    placement.answer_lost(1_000)
    placement.looked_up(False, 2_000)
    again = placement_from_json(placement_to_json(placement))
    assert again == placement and again.state is State.UNKNOWN
    with pytest.raises(ValueError):
        placement_from_json('{"client_order_id": "x"}')
