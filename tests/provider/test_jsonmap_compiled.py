"""The compiled result converter (`to_json`) gives what walking the descriptors field by field gives."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from provider.catalog.descriptors import enum_wire
from provider.catalog.jsonmap import is_map, is_repeated, to_json
from provider.catalog.render import render
from provider.catalog.tools import tool_specs
from tests.provider.test_catalog import fill

SPECS = list(tool_specs().values())


def _item(field: FieldDescriptor, value: Any) -> Any:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return reference_json(value)
    if field.type == FieldDescriptor.TYPE_ENUM:
        return enum_wire(field.enum_type).by_number.get(value) or field.enum_type.values_by_number[value].name
    return value


def reference_json(msg: Message) -> dict[str, Any]:
    """The conventions of provider/catalog/jsonmap.py, one field at a time (the converter before compiling)."""
    out: dict[str, Any] = {}
    for field in msg.DESCRIPTOR.fields:
        value = getattr(msg, field.name)
        if is_map(field):
            out[field.name] = {k: _item(field.message_type.fields_by_name["value"], v) for k, v in value.items()}
        elif is_repeated(field):
            out[field.name] = [_item(field, v) for v in value]
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            if msg.HasField(field.name):
                out[field.name] = reference_json(value)
        elif field.has_presence and not msg.HasField(field.name):
            continue
        elif field.type == FieldDescriptor.TYPE_ENUM:
            if value in enum_wire(field.enum_type).by_number:
                out[field.name] = enum_wire(field.enum_type).by_number[value]
        elif not (field.type == FieldDescriptor.TYPE_STRING and value == ""):
            out[field.name] = value
    return out


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_compiled_results_equal_the_field_by_field_walk(spec: Any) -> None:
    for variant in range(3):
        msg = fill(spec.response_cls(), variant)
        assert to_json(msg) == reference_json(msg)
    empty = spec.response_cls()
    assert to_json(empty) == reference_json(empty)


def test_tables_render_nested_rows_missing_cells_and_formatted_values() -> None:
    data = {"symbol": "BTCUSDT", "orders": [
        {"id": 1, "price": "1.5", "filled": True, "ratio": 0.25, "time_ms": 1700000000000,
         "fills": [{"qty": "0.1", "fee": 0.5}, {"qty": "0.2"}]},
        {"id": 2, "side": "SELL", "filled": False, "fills": [], "meta": {"a": 1}},
    ]}
    assert render("t", data) == "\n".join([
        "t: symbol=BTCUSDT",
        "orders[2]: id price filled ratio time_ms side",
        "  1 1.5 true 0.25 2023-11-14T22:13:20.000Z -",
        "  fills[2]: qty fee",
        "    0.1 0.5",
        "    0.2 -",
        "  2 - false - - SELL",
    ])
