"""JSON Schemas (Draft 2020-12) generated from request and response messages.

Follows the conventions of `jsonmap.py` exactly: arguments are validated against the input schema by
the gateway, and every result satisfies its output schema (the MCP client rejects one that does
not), so output schemas mark nothing required and allow the fields `to_json` may omit.
"""

from __future__ import annotations

import json
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from provider.catalog.descriptors import comment, enum_wire, field_rules
from provider.catalog.jsonmap import FLOAT_TYPES, INT_TYPES, bounds, is_map, is_repeated


def input_schema(desc: Descriptor) -> dict[str, Any]:
    return _object(desc, for_input=True, seen=())


def output_schema(desc: Descriptor) -> dict[str, Any]:
    return _object(desc, for_input=False, seen=())


def _object(desc: Descriptor, *, for_input: bool, seen: tuple[str, ...]) -> dict[str, Any]:
    props: dict[str, Any] = {}
    required: list[str] = []
    for field in desc.fields:
        prop = _field(field, for_input=for_input, seen=(*seen, desc.full_name))
        text = comment(field.full_name)
        if text:
            prop["description"] = text
        props[field.name] = prop
        if for_input and field_rules(field).required:
            required.append(field.name)
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if for_input:
        schema["additionalProperties"] = False
    if required:
        schema["required"] = required
    return schema


def _field(field: FieldDescriptor, *, for_input: bool, seen: tuple[str, ...]) -> dict[str, Any]:
    rules = field_rules(field)
    if is_map(field):
        value = field.message_type.fields_by_name["value"]
        return {"type": "object", "additionalProperties": _scalar(value, rules, for_input)}
    if is_repeated(field):
        item = (
            _object(field.message_type, for_input=for_input, seen=seen)
            if field.type == FieldDescriptor.TYPE_MESSAGE
            else _scalar(field, rules, for_input)
        )
        schema: dict[str, Any] = {"type": "array", "items": item}
        if for_input and rules.min_items:
            schema["minItems"] = rules.min_items
        if for_input and rules.max_items:
            schema["maxItems"] = rules.max_items
        return schema
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        if field.message_type.full_name in seen:
            return {"type": "object"}
        return _object(field.message_type, for_input=for_input, seen=seen)
    return _scalar(field, rules, for_input)


def _scalar(field: FieldDescriptor, rules: Any, for_input: bool) -> dict[str, Any]:
    t = field.type
    schema: dict[str, Any]
    if t == FieldDescriptor.TYPE_ENUM:
        schema = {"type": "string", "enum": enum_wire(field.enum_type).names}
    elif t == FieldDescriptor.TYPE_BOOL:
        schema = {"type": "boolean"}
    elif t in INT_TYPES:
        schema = {"type": "integer"}
    elif t in FLOAT_TYPES:
        schema = {"type": "number"}
    else:
        schema = {"type": "string"}
    if for_input:
        if rules.pattern and schema["type"] == "string" and "enum" not in schema:
            schema["pattern"] = rules.pattern
        limits = bounds(field)
        if limits is not None:
            # exact integers for integer fields, never beyond the type's range (int64: 2^63 - 1)
            schema["minimum"], schema["maximum"] = (_num(x) for x in limits)
        if rules.default_json:
            schema["default"] = json.loads(rules.default_json)
    return schema


def _num(x: float) -> int | float:
    return x if isinstance(x, int) else int(x) if x.is_integer() else x
