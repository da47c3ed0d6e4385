"""The catalog derived from the contracts: schemas, JSON mapping, validation, rendering."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from contracts.binance.v1 import common_pb2, market_pb2, orderbook_pb2, trading_pb2
from provider.catalog.jsonmap import INT_RANGES, from_json, is_map, to_json, validate
from provider.catalog.render import render
from provider.catalog.tools import tool_specs
from provider.errors import InvalidArgument

SPECS = list(tool_specs().values())


def test_every_tool_has_a_description_from_the_proto_comments() -> None:
    assert len(SPECS) == 27
    ticker = tool_specs()["binance.get_ticker"]
    assert ticker.description.startswith("24-hour rolling statistics")
    assert ticker.input_schema["properties"]["symbol"]["description"] == "Trading pair, any case, e.g. \"BTCUSDT\"."
    assert ticker.grpc_method == "/binance.v1.MarketData/GetTicker"


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_schemas_are_valid_draft_2020_12(spec: Any) -> None:
    jsonschema.Draft202012Validator.check_schema(spec.input_schema)
    jsonschema.Draft202012Validator.check_schema(spec.output_schema)
    assert spec.input_schema["additionalProperties"] is False


SAMPLES: dict[int, list[Any]] = {
    FieldDescriptor.TYPE_BOOL: [False, True],
    FieldDescriptor.TYPE_INT64: [0, -1, 2**53],
    FieldDescriptor.TYPE_INT32: [0, -5],
    FieldDescriptor.TYPE_UINT32: [0, 2**32 - 1],
    FieldDescriptor.TYPE_UINT64: [0, 2**40],
    FieldDescriptor.TYPE_DOUBLE: [0.0, -1.5, 1e300],
    FieldDescriptor.TYPE_FLOAT: [0.0, 2.5],
    FieldDescriptor.TYPE_STRING: ["", "0.00000001", "x"],
}


def fill(msg: Message, variant: int, depth: int = 0) -> Message:
    """Sets every field (variant 0: zero values and empty strings; others: other values)."""
    for field in msg.DESCRIPTOR.fields:
        if is_map(field):
            getattr(msg, field.name).update({"k": "", "symbol": "BTCUSDT"} if variant else {})
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            if depth < 3:
                if field.is_repeated:
                    for v in range(2):
                        fill(getattr(msg, field.name).add(), v, depth + 1)
                else:
                    fill(getattr(msg, field.name), variant, depth + 1)
        else:
            if field.type == FieldDescriptor.TYPE_ENUM:
                values = [v.number for v in field.enum_type.values]
            else:
                values = SAMPLES[field.type]
            if field.is_repeated:
                getattr(msg, field.name).extend(v for v in values if field.type != FieldDescriptor.TYPE_ENUM or v)
            else:
                setattr(msg, field.name, values[variant % len(values)])
    return msg


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_every_result_satisfies_its_output_schema(spec: Any) -> None:
    validator = jsonschema.Draft202012Validator(spec.output_schema)
    for variant in range(3):
        data = to_json(fill(spec.response_cls(), variant))
        validator.validate(data)
        json.dumps(data)


def test_results_use_integers_and_the_exchanges_words() -> None:
    order = trading_pb2.Order(order_id=2**40, side=1, type=2, status="FILLED", price="", time_ms=1700000000000)
    out = to_json(order)
    assert out["order_id"] == 2**40 and out["side"] == "BUY" and out["type"] == "MARKET"
    assert "price" not in out and "time_in_force" not in out


def test_arguments_map_wire_names_and_apply_defaults() -> None:
    req = from_json({"symbol": "btcusdt", "interval": "1h"}, market_pb2.GetKlinesRequest)
    assert isinstance(req, market_pb2.GetKlinesRequest)
    assert req.interval == common_pb2.KLINE_INTERVAL_1H and req.limit == 100
    assert not req.HasField("start_time_ms")
    l1 = from_json({"symbol": "BTCUSDT", "bands_bps": [5, 25.5]}, orderbook_pb2.GetL1Request)
    assert list(l1.bands_bps) == [5.0, 25.5] and l1.walls == 3


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ({"symbol": "BTCUSDT", "colour": "red"}, "allowed: symbol"),
        ({"symbol": "BTCUSDT", "interval": "7m"}, "1h"),
        ({"symbol": "BTCUSDT"}, "'interval' is required"),
        ({"symbol": "BTC USDT", "interval": "1h"}, "must match"),
        ({"symbol": "BTCUSDT", "interval": "1h", "limit": 5000}, "between 1 and 1000"),
        ({"symbol": "BTCUSDT", "interval": "1h", "limit": "many"}, "integer"),
        ({"symbol": "BTCUSDT", "interval": "1h", "limit": True}, "integer"),
    ],
)
def test_bad_arguments_say_what_is_wrong_and_what_is_allowed(args: dict[str, Any], says: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        from_json(args, market_pb2.GetKlinesRequest)
    assert says in err.value.message


def test_text_rendering_is_compact_tables_and_iso_times() -> None:
    book = market_pb2.GetOrderBookResponse(symbol="SHIBUSDT", last_update_id=7)
    book.bids.add(price="0.00002382", quantity="9474698")
    book.freshness.exchange_time_ms = 1_700_000_000_000
    text = render("binance.get_orderbook", to_json(book))
    assert text.splitlines()[0] == "binance.get_orderbook: symbol=SHIBUSDT last_update_id=7 asks=[]"
    assert "bids[1]: price quantity\n  0.00002382 9474698" in text
    assert "exchange_time_ms=2023-11-14T22:13:20.000Z" in text


def _integer_properties(schema: dict[str, Any], where: str = "") -> list[tuple[str, dict[str, Any]]]:
    found = []
    for name, prop in schema.get("properties", {}).items():
        item = prop.get("items", prop) if prop.get("type") == "array" else prop
        if item.get("type") == "integer":
            found.append((where + name, item))
        elif item.get("type") == "object":
            found.extend(_integer_properties(item, f"{where}{name}."))
    return found


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_every_integer_argument_publishes_exact_bounds_within_its_type(spec: Any) -> None:
    for name, prop in _integer_properties(spec.input_schema):
        desc = spec.request_cls.DESCRIPTOR
        *path, leaf = name.split(".")
        for part in path:  # nested messages (an order list's legs)
            desc = desc.fields_by_name[part].message_type
        low, high = INT_RANGES[desc.fields_by_name[leaf].type]
        assert isinstance(prop["minimum"], int) and isinstance(prop["maximum"], int), name
        assert low <= prop["minimum"] <= prop["maximum"] <= high, (name, prop)


def test_an_int64_id_bound_is_int64s_maximum_not_one_above() -> None:
    prop = tool_specs()["binance.get_order"].input_schema["properties"]["order_id"]
    assert prop["maximum"] == 2**63 - 1
    ok = from_json({"symbol": "BTCUSDT", "order_id": 2**63 - 1}, trading_pb2.GetOrderRequest)
    assert ok.order_id == 2**63 - 1  # type: ignore[attr-defined]
    with pytest.raises(InvalidArgument, match="9223372036854775807"):
        from_json({"symbol": "BTCUSDT", "order_id": 2**63}, trading_pb2.GetOrderRequest)


def test_typed_requests_with_open_enum_numbers_or_unspecified_are_refused() -> None:
    for side in (0, 99, -1):
        req = trading_pb2.PlaceOrderRequest(symbol="BTCUSDT", side=side, type=common_pb2.ORDER_TYPE_MARKET)
        with pytest.raises(InvalidArgument, match="'side'"):
            validate(req)
    interval = market_pb2.GetKlinesRequest(symbol="BTCUSDT", interval=1234)
    with pytest.raises(InvalidArgument, match="'interval'"):
        validate(interval)
