"""The contracts' descriptors, read once: comments, tool options, field rules, enum wire names.

Everything the catalog shows (tool descriptions, argument descriptions, schemas) is derived from
here, so a tool's schema is never written twice. Comments come from `contracts/descriptors.binpb`,
which `scripts/gen_protos.py` writes with source info.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import (
    EnumDescriptor,
    EnumValueDescriptor,
    FieldDescriptor,
    MethodDescriptor,
)

import contracts
from contracts.binance.v1 import options_pb2

_DESCRIPTOR_SET = Path(contracts.__file__).parent / "descriptors.binpb"

# Paths inside FileDescriptorProto used by SourceCodeInfo.location.path.
_MESSAGE, _ENUM, _SERVICE = 4, 5, 6
_FIELD, _NESTED, _NESTED_ENUM = 2, 3, 4
_ENUM_VALUE, _METHOD = 2, 2


@functools.cache
def comments() -> dict[str, str]:
    """Leading comment of every message, field, enum, enum value, service and method, by full name."""
    fds = descriptor_pb2.FileDescriptorSet.FromString(_DESCRIPTOR_SET.read_bytes())
    out: dict[str, str] = {}
    for file in fds.file:
        by_path = {
            tuple(loc.path): " ".join(loc.leading_comments.split())
            for loc in file.source_code_info.location
            if loc.leading_comments
        }
        pkg = file.package
        for i, msg in enumerate(file.message_type):
            _walk_message(out, by_path, msg, pkg, (_MESSAGE, i))
        for i, enum in enumerate(file.enum_type):
            _walk_enum(out, by_path, enum, pkg, (_ENUM, i))
        for i, svc in enumerate(file.service):
            _put(out, f"{pkg}.{svc.name}", by_path.get((_SERVICE, i)))
            for j, method in enumerate(svc.method):
                _put(out, f"{pkg}.{svc.name}.{method.name}", by_path.get((_SERVICE, i, _METHOD, j)))
    return out


_Paths = dict[tuple[int, ...], str]


def _walk_message(
    out: dict[str, str], by_path: _Paths, msg: descriptor_pb2.DescriptorProto, prefix: str, path: tuple[int, ...]
) -> None:
    name = f"{prefix}.{msg.name}"
    _put(out, name, by_path.get(path))
    for i, field in enumerate(msg.field):
        _put(out, f"{name}.{field.name}", by_path.get((*path, _FIELD, i)))
    for i, nested in enumerate(msg.nested_type):
        _walk_message(out, by_path, nested, name, (*path, _NESTED, i))
    for i, enum in enumerate(msg.enum_type):
        _walk_enum(out, by_path, enum, name, (*path, _NESTED_ENUM, i))


def _walk_enum(
    out: dict[str, str], by_path: _Paths, enum: descriptor_pb2.EnumDescriptorProto, prefix: str, path: tuple[int, ...]
) -> None:
    _put(out, f"{prefix}.{enum.name}", by_path.get(path))
    for i, value in enumerate(enum.value):
        _put(out, f"{prefix}.{value.name}", by_path.get((*path, _ENUM_VALUE, i)))


def _put(out: dict[str, str], name: str, text: str | None) -> None:
    if text:
        out[name] = text


def comment(full_name: str) -> str:
    return comments().get(full_name, "")


@functools.cache  # read on every request's check: reading the options cost more than checking them
def field_rules(field: FieldDescriptor) -> options_pb2.FieldRules:
    rules: options_pb2.FieldRules = field.GetOptions().Extensions[options_pb2.rules]
    return rules


def tool_options(method: MethodDescriptor) -> options_pb2.ToolOptions | None:
    opts = method.GetOptions()
    if not opts.HasExtension(options_pb2.tool):
        return None
    tool: options_pb2.ToolOptions = opts.Extensions[options_pb2.tool]
    return tool


def wire_name(value: EnumValueDescriptor) -> str:
    """The value's name on the wire ("BUY", "1h"); the proto name when no wire option is set."""
    wire: str = value.GetOptions().Extensions[options_pb2.wire]
    return wire or value.name


@dataclass(frozen=True)
class EnumWire:
    """Two-way mapping between an enum's numbers and its wire names; 0 (UNSPECIFIED) is not a value."""

    by_number: dict[int, str]
    by_name: dict[str, int]

    @property
    def names(self) -> list[str]:
        return list(self.by_number.values())


@functools.cache
def enum_wire(enum: EnumDescriptor) -> EnumWire:
    by_number = {v.number: wire_name(v) for v in enum.values if v.number != 0}
    by_name = {name: number for number, name in by_number.items()}
    for v in enum.values:  # the proto names (SIDE_BUY) are accepted too, for grpcurl habits
        if v.number != 0:
            by_name.setdefault(v.name, v.number)
    return EnumWire(by_number, by_name)
