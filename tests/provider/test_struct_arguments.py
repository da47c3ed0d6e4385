"""`struct_arguments` reads a Struct exactly as `json_format.MessageToDict` does, and refuses NaN and
Infinity with json_format's own words (it converts without json_format's per-value dispatch)."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf import json_format
from google.protobuf.struct_pb2 import Struct
from hypothesis import given, settings
from hypothesis import strategies as st

from provider.catalog.jsonmap import quote, struct_arguments
from provider.errors import InvalidArgument

scalars = st.one_of(
    st.none(), st.booleans(), st.floats(), st.integers(-(2**60), 2**60), st.text(max_size=8)
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)),
    max_leaves=12,
)


def reference(struct: Struct) -> dict[str, Any] | str:
    """The arguments as MessageToDict gives them, or the refusal struct_arguments made of its error."""
    try:
        got: dict[str, Any] = json_format.MessageToDict(struct)
    except ValueError as exc:
        return f"arguments must be finite numbers: {quote(str(exc), 200)}"
    return got


def converted(struct: Struct) -> dict[str, Any] | str:
    try:
        return struct_arguments(struct)
    except InvalidArgument as exc:
        return exc.message


@settings(max_examples=300)
@given(st.dictionaries(st.text(max_size=8), values, max_size=6))
def test_any_struct_reads_as_message_to_dict_reads_it(arguments: dict[str, Any]) -> None:
    struct = Struct()
    struct.update(arguments)
    got, want = converted(struct), reference(struct)
    assert got == want
    assert repr(got) == repr(want)  # the same types too: 100.0 stays a float, key order kept


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_a_number_that_is_not_finite_is_refused_with_json_formats_reason(bad: float) -> None:
    struct = Struct()
    struct.update({"symbol": "BTCUSDT", "nested": {"list": [1, bad]}})
    assert converted(struct) == reference(struct)
    assert isinstance(converted(struct), str) and "finite" in str(converted(struct))
