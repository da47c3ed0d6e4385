"""The compiled result converter (`to_json`) gives what walking the descriptors field by field gives."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from provider.catalog.descriptors import enum_wire
from provider.catalog.jsonmap import is_map, is_repeated, to_json
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
