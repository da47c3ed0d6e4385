"""The one retry-delay policy: exponential to a cap, jittered in the upper half, reproducible."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.backoff import Backoff, backoff_delay

bases = st.floats(min_value=0.001, max_value=10.0)
attempts = st.integers(min_value=-3, max_value=200)


@given(base=bases, extra=st.floats(min_value=0.0, max_value=100.0), attempt=attempts, seed=st.integers())
def test_a_delay_lies_between_half_its_ceiling_and_the_ceiling_which_never_passes_the_cap(
    base: float, extra: float, attempt: int, seed: int
) -> None:
    policy = Backoff(base_s=base, cap_s=base + extra)
    ceiling = policy.ceiling(attempt)
    assert base <= ceiling <= policy.cap_s
    assert ceiling / 2 <= policy.delay(attempt, random.Random(seed)) <= ceiling


@given(base=bases, attempt=st.integers(min_value=0, max_value=200))
def test_ceilings_double_until_the_cap_and_then_stay(base: float, attempt: int) -> None:
    policy = Backoff(base_s=base, cap_s=base * 16)
    assert policy.ceiling(attempt + 1) == min(policy.ceiling(attempt) * 2, policy.cap_s)


def test_the_same_random_source_gives_the_same_delays() -> None:
    first = [backoff_delay(n, base_s=0.5, cap_s=30.0, rng=random.Random(7)) for n in range(10)]
    again = [Backoff(0.5, 30.0).delay(n, random.Random(7)) for n in range(10)]
    assert first == again
    assert [Backoff(0.5, 30.0).ceiling(n) for n in range(8)] == [0.5, 1, 2, 4, 8, 16, 30, 30]


@pytest.mark.parametrize(("base", "cap"), [(0.0, 1.0), (-1.0, 1.0), (2.0, 1.0), (float("nan"), 1.0)])
def test_a_base_that_is_not_positive_or_a_cap_below_it_is_refused(base: float, cap: float) -> None:
    with pytest.raises(ValueError, match="backoff"):
        Backoff(base_s=base, cap_s=cap)


@given(base=bases, attempt=attempts, retry_after=st.floats(min_value=0.0, max_value=86_400.0), seed=st.integers())
def test_a_failure_that_says_when_to_retry_is_retried_then_not_sooner_and_not_a_grown_backoff_later(
    base: float, attempt: int, retry_after: float, seed: int
) -> None:
    """The soak's account stream stayed down ~25 s after a rate limit's window had reopened: its sixth
    refusal said "retry in 4.5 s" and the loop waited its grown backoff instead."""
    delay = backoff_delay(attempt, base_s=base, cap_s=30.0 + base, rng=random.Random(seed), retry_after_s=retry_after)
    assert retry_after <= delay <= retry_after + base
    unsaid = backoff_delay(attempt, base_s=base, cap_s=30.0 + base, rng=random.Random(seed), retry_after_s=None)
    assert unsaid == Backoff(base, 30.0 + base).delay(attempt, random.Random(seed))
