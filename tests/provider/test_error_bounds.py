"""Errors never echo megabytes: the gRPC status message and the `error-details-json` trailer stay
under 2 KB together whatever went into the error, and a short error is passed through unchanged."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.binance.v1 import market_pb2
from provider.catalog.jsonmap import from_json, quote
from provider.errors import FilterViolation, InvalidArgument, OrderRejected, RateLimited
from provider.services.errors import MAX_DETAILS_BYTES, MAX_STATUS_BYTES, clip, describe, details_json

BUDGET = 2048


def _size(err: InvalidArgument | OrderRejected | RateLimited | FilterViolation) -> tuple[int, int]:
    return len(describe(err).encode()), len(details_json(err).encode())


def test_a_short_error_is_described_whole() -> None:
    err = OrderRejected("order refused", binance_code=-2010, binance_msg="Account has insufficient balance.")
    assert describe(err).startswith("order refused (Binance -2010: Account has insufficient balance.) Hint: ")
    details = json.loads(details_json(err))
    assert details["binance_code"] == -2010 and details["message"] == "order refused" and "truncated" not in details


def test_a_megabyte_message_binance_msg_and_hint_are_cut_and_say_so() -> None:
    huge = "x" * 1_000_000
    err = OrderRejected(huge, binance_code=-1013, binance_msg=huge, hint=huge)
    status, details = _size(err)
    assert status <= MAX_STATUS_BYTES and details <= MAX_DETAILS_BYTES and status + details < BUDGET
    assert "1000000 characters, cut" in describe(err)
    assert json.loads(details_json(err))["binance_code"] == -1013


def test_many_filter_violations_keep_the_core_facts_within_the_bound() -> None:
    violations = tuple({"filter": "PRICE_FILTER", "message": "p" * 500, "proposed": "1.0" * 50} for _ in range(200))
    err = FilterViolation("; ".join("bad price" for _ in range(200)), violations=violations)
    details = json.loads(details_json(err))
    assert len(details_json(err).encode()) <= MAX_DETAILS_BYTES
    assert details["kind"] == "FilterViolation" and details["retry_safe"] is True


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.text(max_size=3000), st.text(max_size=3000), st.text(max_size=3000), st.integers())
def test_any_texts_stay_within_the_budget(message: str, binance_msg: str, hint: str, code: int) -> None:
    err = RateLimited(message, binance_code=code, binance_msg=binance_msg, hint=hint)
    status, details = _size(err)
    assert status <= MAX_STATUS_BYTES and details <= MAX_DETAILS_BYTES
    json.loads(details_json(err))


def test_clip_never_splits_a_character() -> None:
    text = clip("é" * 1000, 101)
    assert len(text.encode()) <= 101 and text.endswith("(1000 characters, cut)")


def test_a_bad_argument_of_a_megabyte_is_quoted_cut() -> None:
    huge = "A" * 1_000_000
    try:
        from_json({"symbol": huge}, market_pb2.GetTickerRequest)
    except InvalidArgument as err:
        assert len(err.message) < 400 and quote(huge)[:20] in err.message
    else:
        raise AssertionError("a megabyte symbol was accepted")
