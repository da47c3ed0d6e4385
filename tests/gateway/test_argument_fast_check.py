"""The plain-Python argument check never accepts what the full Draft 2020-12 validator refuses."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from gateway.arguments import ArgumentValidator, fast_check
from provider.catalog.tools import tool_specs

SCHEMAS = {spec.name: spec.input_schema for spec in tool_specs().values()}
FORMATS = Draft202012Validator.FORMAT_CHECKER
FULL = {name: Draft202012Validator(s, format_checker=FORMATS) for name, s in SCHEMAS.items()}
VALIDATORS = {name: ArgumentValidator(s) for name, s in SCHEMAS.items()}

_ANY = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**64), 2**64) | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
_NEAR = st.sampled_from(
    ["BTCUSDT", "btcusdt", "BTC USDT", "", "0.001", "1.", "BUY", "buy", "LIMIT", "GTC", "1h", "x" * 25, "币安人生USDT"]
) | st.integers(-2, 6000) | st.floats(-1.0, 20000.0) | st.sampled_from([0, 1, 5, 100, 101, 1000, 1001, 5000, True])


def _arguments(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    names = sorted(schema.get("properties", {}))
    keys = st.sampled_from(names) if names else st.nothing()
    values = _NEAR | _ANY | st.lists(_NEAR, max_size=6)
    known = st.dictionaries(keys, values, max_size=len(names))
    extra = st.dictionaries(st.text(max_size=6), values, max_size=1)
    return st.builds(lambda a, b, both: {**a, **b} if both else a, known, extra, st.booleans())


@pytest.mark.parametrize("tool", sorted(SCHEMAS))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_what_the_fast_check_accepts_the_full_validator_accepts(tool: str, data: st.DataObject) -> None:
    schema = SCHEMAS[tool]
    fast = fast_check(schema)
    if fast is None:
        return
    arguments = data.draw(_arguments(schema))
    if fast(arguments):
        assert not list(FULL[tool].iter_errors(arguments))
        assert VALIDATORS[tool].problems(arguments) is None


def test_the_common_calls_take_the_fast_path_and_refusals_keep_their_message() -> None:
    assert all(fast_check(SCHEMAS[t]) is not None for t in ("binance.orderbook_l1", "binance.orderbook_l2",
                                                             "binance.get_ticker", "binance.place_order"))
    l2 = fast_check(SCHEMAS["binance.orderbook_l2"])
    assert l2 is not None and l2({"symbol": "BTCUSDT", "levels": 100})
    assert not l2({"symbol": "BTCUSDT", "levels": 5.0})  # left to the full validator, which accepts it
    assert ArgumentValidator(SCHEMAS["binance.orderbook_l2"]).problems({"symbol": "BTCUSDT", "levels": 5.0}) is None
    problems = ArgumentValidator(SCHEMAS["binance.orderbook_l2"]).problems({"symbol": "BTCUSDT", "levels": 10**6})
    assert problems is not None and "arguments.levels" in problems
    assert ArgumentValidator(SCHEMAS["binance.orderbook_l1"]).problems({"symbol": float("nan")}) is not None


def test_schemas_it_cannot_read_go_to_the_full_validator() -> None:
    assert fast_check({"type": "object", "properties": {"x": {"type": "string", "format": "date-time"}}}) is None
    assert fast_check({"type": "object", "properties": {"x": {"anyOf": [{"type": "string"}]}}}) is None
    assert fast_check({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"}) is None
