"""WeightGovernor (pure): charge before sending, wait or refuse near the limit, honour 429/418."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provider.binance.governor import WeightGovernor, parse_limit_from_message
from provider.errors import IpBanned, RateLimited

T0 = 1_700_000_040.0  # exactly on a minute boundary


def test_calls_within_budget_go_at_once() -> None:
    gov = WeightGovernor(limit=100, headroom=0.1)
    assert [gov.reserve(30, T0 + 1) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert gov.used == 90


def test_over_budget_near_window_end_waits_until_the_window_resets() -> None:
    gov = WeightGovernor(limit=100, headroom=0.1, max_wait_s=2.0)
    gov.reserve(90, T0 + 59)
    assert gov.reserve(1, T0 + 59) == pytest.approx(1.0)
    assert gov.reserve(1, T0 + 60) == 0.0  # new calendar window


def test_over_budget_far_from_window_end_is_refused_with_retry_after() -> None:
    gov = WeightGovernor(limit=100, headroom=0.1, max_wait_s=2.0)
    gov.reserve(90, T0 + 10)
    with pytest.raises(RateLimited) as err:
        gov.reserve(1, T0 + 10)
    assert err.value.retry_after_s == pytest.approx(50.0)
    assert err.value.retry_safe


def test_weight_larger_than_the_limit_is_refused_outright() -> None:
    with pytest.raises(RateLimited) as err:
        WeightGovernor(limit=100).reserve(250, T0)
    assert err.value.retry_after_s is None


def test_a_call_over_the_budget_but_within_the_limit_goes_alone_in_a_fresh_window() -> None:
    # limit 45 (a temporary drop): budget 40, a depth snapshot of weight 50 would never fit it
    gov = WeightGovernor(limit=55, headroom=0.1, max_wait_s=5.0)
    assert gov.reserve(50, T0) == 0.0  # nothing else counted in this window
    gov.observe(50, 50, T0, T0 + 0.1)
    assert gov.reserve(50, T0 + 58) == pytest.approx(2.0)  # waits for the next window
    assert gov.reserve(1, T0 + 60.5) == 0.0
    with pytest.raises(RateLimited):  # not alone any more in this window: next one, too far
        gov.reserve(50, T0 + 60.6)


def test_a_limit_from_a_refusal_is_provisional_and_the_rules_are_reread_after_the_block() -> None:
    gov = WeightGovernor(limit=6000, recheck_s=60.0)
    gov.set_limit(6000, 60)  # exchangeInfo
    assert not gov.rules_refresh_due(T0)
    gov.on_rate_limited(None, T0 + 48, "Too much request weight used; current limit is 45 request weight per 1 MINUTE.")
    assert gov.limit == 45 and gov.limit_source == "-1003 message"
    assert not gov.rules_refresh_due(T0 + 59)  # still blocked, until the window ends
    assert gov.rules_refresh_due(T0 + 60)
    gov.set_limit(45, 60)  # exchangeInfo still says 45: a drop, look again in a while
    assert not gov.rules_refresh_due(T0 + 61)
    assert gov.rules_refresh_due(T0 + 61 + 60)
    gov.set_limit(6000, 60)  # restored
    assert gov.limit == 6000 and not gov.rules_refresh_due(T0 + 500)


def test_a_call_heavier_than_a_lowered_limit_is_told_to_retry_when_the_limit_is_reread() -> None:
    # The user data stream's snapshot (weight 80) against a limit dropped to 60: it must come back
    # when the rules are re-read, not after a backoff grown while the limit was low.
    gov = WeightGovernor(limit=6000, recheck_s=60.0)
    gov.set_limit(6000, 60)
    gov.on_rate_limited(12.0, T0 + 48, "Too much request weight used; current limit is 60 request weight per 1 MINUTE.")
    with pytest.raises(RateLimited) as err:
        gov.reserve(80, T0 + 50)
    assert err.value.retry_after_s == pytest.approx(10.0)  # the block ends, then the rules are re-read
    assert "re-read in 10.0 s" in err.value.message
    assert gov.rules_refresh_due(T0 + 60)
    with pytest.raises(RateLimited) as err:  # the re-read is under way: look again in a second
        gov.reserve(80, T0 + 60)
    assert err.value.retry_after_s == pytest.approx(1.0)
    gov.set_limit(60, 60)  # exchangeInfo says 60 too: a drop, re-read every recheck_s
    assert not gov.rules_refresh_due(T0 + 61)
    with pytest.raises(RateLimited) as err:
        gov.reserve(80, T0 + 61)
    assert err.value.retry_after_s == pytest.approx(60.0)
    gov.set_limit(6000, 60)  # restored
    assert gov.reserve(80, T0 + 130) == 0.0


def test_the_rules_reread_may_use_the_priority_slice_and_a_failed_one_is_tried_next_window() -> None:
    gov = WeightGovernor(limit=6000, recheck_s=60.0, priority_share=0.1)
    gov.set_limit(6000, 60)
    gov.set_limit(60, 60)  # lowered: budget 54, 48 of it for calls without priority
    assert not gov.rules_refresh_due(T0 + 1)  # looks again after recheck_s
    gov.reserve(30, T0 + 62)
    assert gov.rules_refresh_due(T0 + 62)  # 30 + 20 fits only with the priority slice
    gov.rules_refresh_failed(T0 + 62.5)  # e.g. the exchange did not answer
    assert not gov.rules_refresh_due(T0 + 119)
    assert gov.rules_refresh_due(T0 + 120)  # the next window, a fresh budget


def test_a_used_weight_header_above_the_limit_asks_for_the_rules_at_once() -> None:
    gov = WeightGovernor(limit=45)
    gov.reserve(5, T0)
    gov.observe(5, 900, T0, T0 + 0.1)
    assert gov.rules_refresh_due(T0 + 0.1)


def test_used_weight_header_replaces_the_estimate_plus_in_flight() -> None:
    gov = WeightGovernor(limit=1000)
    gov.reserve(10, T0 + 1)
    gov.reserve(20, T0 + 1)
    gov.observe(10, used_header=500, sent_at=T0 + 1, now=T0 + 2)  # others use the IP too
    assert gov.used == 520
    gov.observe(20, used_header=510, sent_at=T0 + 1, now=T0 + 2)
    assert gov.used == 510


def test_header_from_a_previous_window_is_ignored() -> None:
    gov = WeightGovernor(limit=1000)
    gov.reserve(10, T0 + 59.9)
    gov.observe(10, used_header=800, sent_at=T0 + 59.9, now=T0 + 60.1)
    assert gov.used == 0


def test_429_blocks_until_retry_after_and_learns_the_limit_from_the_message() -> None:
    gov = WeightGovernor(limit=6000, max_wait_s=2.0)
    msg = ("Too much request weight used; current limit is 50 request weight per 1 MINUTE. "
           "Please use WebSocket Streams for live updates to avoid polling the API.")
    gov.on_rate_limited(retry_after_s=30, now=T0 + 5, message=msg)
    assert gov.limit == 50
    with pytest.raises(RateLimited) as err:
        gov.reserve(1, T0 + 6)
    assert err.value.retry_after_s == pytest.approx(29.0)
    assert gov.reserve(1, T0 + 34.5) == pytest.approx(0.5)  # short wait
    assert gov.reserve(1, T0 + 60) == 0.0


def test_418_refuses_every_call_until_the_ban_ends() -> None:
    gov = WeightGovernor()
    gov.on_banned(retry_after_s=120, now=T0)
    with pytest.raises(IpBanned) as err:
        gov.reserve(1, T0 + 119)
    assert err.value.banned_until_s == T0 + 120
    assert not isinstance(err.value, type(None))
    assert gov.snapshot(T0 + 1)["banned_until"] == T0 + 120
    assert gov.reserve(1, T0 + 120) == 0.0
    assert gov.snapshot(T0 + 121)["banned_until"] is None


def test_exchange_info_limit_is_adopted() -> None:
    gov = WeightGovernor()
    gov.set_limit(1200, 60)
    assert gov.budget == 1080


@pytest.mark.parametrize(("msg", "expected"), [
    ("Too much request weight used; current limit is 6000 request weight per 1 MINUTE.",
     (6000, 60)),
    ("current limit is 10 request weight per 5 SECONDS", (10, 5)),
    ("Way too much request weight used; IP banned until 1700000000000.", None),
    (None, None),
])
def test_limit_parsing(msg: str | None, expected: tuple[int, int] | None) -> None:
    assert parse_limit_from_message(msg) == expected


@settings(max_examples=200, deadline=None)
@given(
    limit=st.integers(min_value=10, max_value=500),
    calls=st.lists(st.tuples(st.integers(1, 30), st.floats(0, 0.5)), min_size=1, max_size=200),
)
def test_granted_weight_never_exceeds_the_budget_in_any_window(
        limit: int, calls: list[tuple[int, float]]) -> None:
    """Property: whatever the sequence, weight granted per calendar window stays <= budget, or is
    one call alone within the limit (rule 7)."""
    gov = WeightGovernor(limit=limit, headroom=0.1, max_wait_s=5.0)
    now = T0
    granted: dict[int, int] = {}
    alone: dict[int, int] = {}
    for weight, gap in calls:
        now += gap
        try:
            delay = gov.reserve(weight, now)
        except RateLimited:
            continue
        if delay == 0.0:
            granted[gov.window_of(now)] = granted.get(gov.window_of(now), 0) + weight
            alone[gov.window_of(now)] = alone.get(gov.window_of(now), 0) + 1
            gov.observe(weight, None, now, now)
    assert all(total <= gov.budget or (alone[w] == 1 and total <= gov.limit)
               for w, total in granted.items())


def test_priority_calls_keep_a_slice_of_the_budget_that_other_calls_cannot_use() -> None:
    gov = WeightGovernor(limit=1000, headroom=0.1, max_wait_s=0.5, priority_share=0.2)  # budget 900, 180 kept
    now = 60.0
    assert gov.reserve(720, now) == 0.0
    with pytest.raises(RateLimited):
        gov.reserve(50, now)  # a tool call cannot dip into the priority slice
    assert gov.reserve(50, now, priority=True) == 0.0  # an order-book snapshot can
    assert gov.reserve(130, now, priority=True) == 0.0
    with pytest.raises(RateLimited):
        gov.reserve(1, now, priority=True)  # and never beyond the budget
