"""JSON <-> protobuf for tool arguments and results, with the project's conventions.

Why not `json_format`: proto3 JSON writes int64 as strings and enums by their proto names
(`SIDE_BUY`); an agent should see integers and the exchange's own words (`BUY`, `1h`). The same
rules drive the JSON Schemas in `schema.py`, so a result always satisfies its output schema.

Results: scalars always present except empty strings; enums as wire names (omitted when unset);
unset sub-messages omitted; maps as objects. Arguments: unknown keys, wrong types, bad enum names,
broken patterns and bounds are refused with a message that says what is allowed.
"""

from __future__ import annotations

import functools
import json
import math
import operator
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from itertools import repeat
from json.encoder import encode_basestring_ascii
from typing import Any, NamedTuple, TypeVar

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.struct_pb2 import Struct, Value

from provider.catalog.descriptors import enum_wire, field_rules
from provider.errors import InvalidArgument

INT_TYPES = {
    FieldDescriptor.TYPE_INT32,
    FieldDescriptor.TYPE_INT64,
    FieldDescriptor.TYPE_UINT32,
    FieldDescriptor.TYPE_UINT64,
    FieldDescriptor.TYPE_SINT32,
    FieldDescriptor.TYPE_SINT64,
}
FLOAT_TYPES = {FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT}
INT_RANGES = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
}
_INT_TEXT = re.compile(r"-?[0-9]{1,20}")
_EXACT_DOUBLE_INT = 2**53
#: no field takes a number with more digits than this before or after the point (uint64 has 20)
_MAX_DIGITS = 40
_DOUBLE_EXACT_DIGITS = 15


@functools.cache  # a descriptor never changes; requests are checked field by field on every call
def is_map(field: FieldDescriptor) -> bool:
    mt = field.message_type
    return bool(mt is not None and mt.GetOptions().map_entry)


def is_repeated(field: FieldDescriptor) -> bool:
    return bool(field.is_repeated) and not is_map(field)


# --- results -------------------------------------------------------------------------------------


def to_json(msg: Message) -> dict[str, Any]:
    """A result message as JSON with the conventions above (one compiled converter per message type)."""
    return _converter(msg.DESCRIPTOR)(msg)


class StringTable(NamedTuple):
    """A repeated field of messages holding only strings, none of them empty (a book side's levels).

    `to_json_tables` leaves such a field as rows of cells instead of one dict per row: `render` and
    `dumps` write the rows straight from the cells, which is most of an L2 answer's cost otherwise.
    It stands for `[dict(zip(keys, row)) for row in rows]` and is never empty.
    """

    keys: tuple[str, ...]
    rows: list[tuple[str, ...]]
    lines: list[str]
    """each row's cells joined by a space: the rendered row, and (two columns) the JSON's raw material"""

    @classmethod
    def of(cls, keys: tuple[str, ...], rows: list[tuple[str, ...]]) -> StringTable:
        return cls(keys, rows, list(map(" ".join, rows)))

    def as_json(self) -> list[dict[str, str]]:
        return [dict(zip(self.keys, row, strict=True)) for row in self.rows]


def to_json_tables(msg: Message) -> dict[str, Any]:
    """`to_json`, with each string-only repeated field of the message itself left as a `StringTable`.

    Only for `render` and `dumps` (InvokeTool's text and JSON); nested messages convert as in to_json.
    Rows given by `with_rows` for this very message are used instead of reading its fields back.
    """
    known = _known.pop(id(msg), None)
    if known is not None and known[0] is msg:
        return _top_converter(msg.DESCRIPTOR)(msg, known[1])
    return _top_converter(msg.DESCRIPTOR)(msg)


Rows = Sequence[tuple[str, ...]]
M = TypeVar("M", bound=Message)

#: rows handed over by `with_rows`, by the message's id (the message is held, so its id stays its own)
_known: dict[int, tuple[Message, dict[str, Rows]]] = {}
#: how many of them are kept: a typed RPC's result is never converted, so the oldest are dropped
#: (InvokeTool converts its result right after the handler returns, with no await in between)
_KNOWN_MAX = 8


def with_rows(msg: M, **rows: Rows) -> M:
    """Hands `to_json_tables` the rows a handler has just written into `msg`'s string-only repeated
    fields (a book side: the strings it made the levels from), so InvokeTool does not read hundreds
    of levels back out of the message: about as long as writing them. `msg` must not change after.

    A row holds the field's values in field order. Rows that do not fit (another count, an empty
    cell, a field that is not string-only) are ignored and the field is read as before.
    """
    _known[id(msg)] = (msg, rows)
    if len(_known) > _KNOWN_MAX:
        del _known[next(iter(_known))]
    return msg


def dumps(data: dict[str, Any]) -> str:
    """`json.dumps(data, separators=(",", ":"))`, with each StringTable written as the list it stands for."""
    if not any(type(value) is StringTable for value in data.values()):
        return _dumps(data)
    parts = []
    for key, value in data.items():
        if not isinstance(key, str):  # not from to_json: keep json's own handling of such keys
            return _dumps({k: v.as_json() if type(v) is StringTable else v for k, v in data.items()})
        written = _table_json(value) if type(value) is StringTable else _dumps(value)
        parts.append(f"{encode_basestring_ascii(key)}:{written}")
    return "{" + ",".join(parts) + "}"


_dumps = json.JSONEncoder(separators=(",", ":")).encode  # json.dumps(value, separators=(",", ":"))


#: the characters json.dumps writes as they are (ensure_ascii): printable ASCII but the quote and the backslash
_AS_IS = bytes(c for c in range(0x20, 0x7F) if c not in b'"\\')


def _plain(text: str) -> bool:
    """Whether json.dumps writes the text as it is: deleting those characters leaves nothing (one C
    pass over bytes; str.isprintable or a regex over a book side cost about as much as json.dumps)."""
    return text.isascii() and not text.encode("ascii").translate(None, _AS_IS)


def _table_json(table: StringTable) -> str:
    keys, rows, lines = table
    joined = " ".join(lines)
    if not _plain(joined) or not _plain(" ".join(keys)):
        return _dumps(table.as_json())
    # no cell needs escaping: each one is written between quotes as it is
    first, *others = keys
    if len(others) == 1 and joined.count(" ") == 2 * len(lines) - 1 and " " not in first + others[0]:
        # two columns and no space in any cell or key: each line's one space is where the second key goes
        return f'[{{"{first}":"' + f'"}},{{"{first}":"'.join(lines).replace(" ", f'","{others[0]}":"') + '"}]'
    row = "{" + ",".join('"' + key.replace("%", "%%") + '":"%s"' for key in keys) + "}"
    return "[" + ",".join([row % cells for cells in rows]) + "]"


Converter = Callable[..., dict[str, Any]]
"""`convert(msg)`; a top converter (`_top_converter`) also takes `convert(msg, rows_by_field)`."""
ListConverter = Callable[[Sequence[Message]], Any]
_NO_ROWS: dict[str, Rows] = {}

# what one field needs on the way out (see _compile)
_PLAIN, _STRING, _ENUM, _PRESENT, _MESSAGE, _REPEATED, _REPEATED_MESSAGE, _REPEATED_ENUM, _MAP = range(9)


@functools.cache
def _converter(desc: Descriptor) -> Converter:
    """The converter of one message type, compiled on first use: results are converted on every tool
    call, and walking the descriptors field by field cost more than the call itself for large books."""
    return _compile(desc, _list_converter)


@functools.cache
def _top_converter(desc: Descriptor) -> Converter:
    """to_json_tables' converter of a result type: its string-only lists become StringTables."""
    return _compile(desc, _table_converter)


def _field_step(field: FieldDescriptor) -> tuple[str, int, Any]:
    name = field.name
    if is_map(field):
        return name, _MAP, field.message_type.fields_by_name["value"]
    if is_repeated(field):
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            return name, _REPEATED_MESSAGE, field.message_type
        if field.type == FieldDescriptor.TYPE_ENUM:
            return name, _REPEATED_ENUM, field
        return name, _REPEATED, None
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return name, _MESSAGE, field.message_type
    if field.has_presence:
        return name, _PRESENT, field
    if field.type == FieldDescriptor.TYPE_ENUM:
        return name, _ENUM, enum_wire(field.enum_type).by_number
    if field.type == FieldDescriptor.TYPE_STRING:
        return name, _STRING, None
    return name, _PLAIN, None


def _flat_names(desc: Descriptor, kinds: tuple[int, ...] = (_PLAIN, _STRING)) -> tuple[str, ...] | None:
    """The field names of a message of scalars without presence (a price level, a fill), else None;
    `kinds=(_STRING,)`: of a message of strings only."""
    steps = [_field_step(field) for field in desc.fields]
    if all(kind in kinds for _, kind, _ in steps):
        return tuple(name for name, _, _ in steps)
    return None


@functools.cache
def _list_converter(desc: Descriptor) -> ListConverter:
    """The converter of a repeated field of one message type (a book side: hundreds of levels per call)."""
    one = _converter(desc)
    names = _flat_names(desc)
    if names is None or len(names) != 2:
        return lambda items: [one(msg) for msg in items]
    values = operator.attrgetter(*names)
    first, second = names

    def pairs(items: Sequence[Message]) -> list[dict[str, Any]]:
        # read every pair at once, build dicts literally; an empty string anywhere takes the general way
        rows = list(map(values, items))
        if any(map(operator.contains, rows, repeat(""))):
            return [one(msg) for msg in items]
        return [{first: a, second: b} for a, b in rows]

    return pairs


@functools.cache
def _string_names(desc: Descriptor) -> tuple[str, ...] | None:
    """The field names of a message of strings only (a price level), else None."""
    return _flat_names(desc, (_STRING,))


@functools.cache
def _table_converter(desc: Descriptor) -> ListConverter:
    """For to_json_tables: a StringTable when the type holds only strings and no cell is empty."""
    names = _string_names(desc)
    as_list = _list_converter(desc)
    if not names:
        return as_list
    values = operator.attrgetter(*names)

    def table(items: Sequence[Message]) -> Any:
        rows = list(map(values, items))
        if not rows or not all(map(all, rows)):  # empty, or a cell empty (its key is left out): as to_json
            return as_list(items)
        return StringTable.of(names, rows)

    return table


def _given_table(desc: Descriptor, rows: Rows, items: Sequence[Message]) -> Any:
    """`_table_converter(desc)(items)` from the rows written into `items` (`with_rows`); rows that
    cannot be that field's table leave it to the field's own converter."""
    names = _string_names(desc)
    if (not names or not rows or len(rows) != len(items) or not all(map(all, rows))
            or set(map(len, rows)) != {len(names)}):
        return _table_converter(desc)(items)
    return StringTable.of(names, list(rows))


def _compile(desc: Descriptor, lists: Callable[[Descriptor], ListConverter]) -> Converter:
    steps = [_field_step(field) for field in desc.fields]
    names = _flat_names(desc)
    if names is not None:
        # Only scalars without presence (a price level, a fill): every value kept but empty strings.
        if len(names) == 1:
            only = names[0]
            return lambda msg, rows=_NO_ROWS: {} if getattr(msg, only) == "" else {only: getattr(msg, only)}
        values = operator.attrgetter(*names) if names else (lambda msg: ())

        def flat(msg: Message, rows: dict[str, Rows] = _NO_ROWS) -> dict[str, Any]:
            got = values(msg)
            if "" in got:
                return {k: v for k, v in zip(names, got, strict=True) if v != ""}
            return dict(zip(names, got, strict=True))

        return flat

    def convert(msg: Message, rows: dict[str, Rows] = _NO_ROWS) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, kind, arg in steps:
            value = getattr(msg, name)
            if kind == _PLAIN:
                out[name] = value
            elif kind == _STRING:
                if value != "":
                    out[name] = value
            elif kind == _ENUM:
                wire = arg.get(value)
                if wire is not None:
                    out[name] = wire
            elif kind == _MESSAGE:
                if msg.HasField(name):
                    out[name] = _converter(arg)(value)
            elif kind == _REPEATED_MESSAGE:
                given = rows.get(name) if rows else None
                out[name] = lists(arg)(value) if given is None else _given_table(arg, given, value)
            elif kind == _REPEATED:
                out[name] = list(value)
            elif kind == _PRESENT:
                if msg.HasField(name):
                    converted = _scalar_out(arg, value)
                    if converted is not None:
                        out[name] = converted
            elif kind == _REPEATED_ENUM:
                out[name] = [_value_out(arg, v) for v in value]
            else:  # _MAP
                out[name] = {k: _value_out(arg, v) for k, v in value.items()}
        return out

    return convert


def _value_out(field: FieldDescriptor, value: Any) -> Any:
    """One item of a repeated field: never None (an empty string stays "", an unset enum its name)."""
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return to_json(value)
    if field.type == FieldDescriptor.TYPE_ENUM:
        return enum_wire(field.enum_type).by_number.get(value) or field.enum_type.values_by_number[value].name
    return value


def _scalar_out(field: FieldDescriptor, value: Any) -> Any:
    if field.type == FieldDescriptor.TYPE_ENUM:
        return enum_wire(field.enum_type).by_number.get(value)
    if field.type == FieldDescriptor.TYPE_STRING and value == "":
        return None
    return value


# --- arguments -----------------------------------------------------------------------------------


def from_json(args: dict[str, Any] | None, cls: type[Message]) -> Message:
    """Builds and validates a request from JSON arguments; raises InvalidArgument on any fault."""
    msg = cls()
    _fill(msg, args or {}, "")
    apply_defaults(msg)
    validate(msg)
    return msg


def _fill(msg: Message, args: Any, where: str) -> None:
    desc: Descriptor = msg.DESCRIPTOR
    if not isinstance(args, dict):
        raise InvalidArgument(f"{where or 'arguments'} must be an object")
    allowed = [f.name for f in desc.fields]
    for key, value in args.items():
        field = desc.fields_by_name.get(key)
        if field is None:
            raise InvalidArgument(f"unknown argument {quote(where + str(key))}; allowed: {', '.join(allowed)}")
        path = f"{where}{key}"
        if value is None:
            continue
        if is_map(field):
            if not isinstance(value, dict):
                raise InvalidArgument(f"'{path}' must be an object")
            getattr(msg, key).update({str(k): str(v) for k, v in value.items()})
        elif is_repeated(field):
            if not isinstance(value, list):
                raise InvalidArgument(f"'{path}' must be a list")
            target = getattr(msg, key)
            for i, item in enumerate(value):
                if field.type == FieldDescriptor.TYPE_MESSAGE:
                    _fill(target.add(), item, f"{path}[{i}].")
                else:
                    target.append(_scalar_in(field, item, f"{path}[{i}]"))
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            _fill(getattr(msg, key), value, f"{path}.")
        else:
            setattr(msg, key, _scalar_in(field, value, path))


def _scalar_in(field: FieldDescriptor, value: Any, path: str) -> Any:
    t = field.type
    if t == FieldDescriptor.TYPE_ENUM:
        wire = enum_wire(field.enum_type)
        if isinstance(value, str):
            if value in wire.by_name:
                return wire.by_name[value]
            folded = [n for n in wire.names if n.lower() == value.lower()]
            if len(folded) == 1:
                return wire.by_name[folded[0]]
        raise InvalidArgument(f"'{path}' must be one of {', '.join(wire.names)}; got {quote(value)}")
    if t == FieldDescriptor.TYPE_BOOL:
        if isinstance(value, bool):
            return value
        raise InvalidArgument(f"'{path}' must be true or false; got {quote(value)}")
    if t in INT_TYPES:
        return _int_in(t, value, path)
    if t in FLOAT_TYPES:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise InvalidArgument(f"'{path}' must be a number; got {quote(value)}")
        number = float(value)
        if not math.isfinite(number):
            raise InvalidArgument(f"'{path}' must be a finite number; got {quote(value)}")
        return number
    if t == FieldDescriptor.TYPE_STRING:
        if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            return exact_decimal_text(value, path)
        if not isinstance(value, str):
            raise InvalidArgument(f"'{path}' must be a string; got {quote(value)}")
        return value
    raise InvalidArgument(f"'{path}' has an unsupported type")


def _int_in(t: int, value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise InvalidArgument(f"'{path}' must be an integer; got {quote(value)}")
    number: int | None = None
    low, high = INT_RANGES[t]
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        number = int(value) if _INT_TEXT.fullmatch(value.strip()) else None
    elif isinstance(value, float):
        # A double holds every integer exactly only up to 2^53: beyond it the id may already differ.
        number = int(value) if value.is_integer() and abs(value) <= _EXACT_DOUBLE_INT else None
        if number is None and math.isfinite(value) and value.is_integer():
            raise InvalidArgument(
                f"'{path}' = {quote(value)} is above 2^53 and arrived as a floating-point number, so it may "
                "not be the integer that was sent; send it as JSON text (arguments_json) or as a string"
            )
    elif value.is_finite() and value.adjusted() > _MAX_DIGITS:
        # 1e999999999 is an integer too: refuse it by its exponent, before int() spends minutes on it
        raise InvalidArgument(f"'{path}' must be between {low} and {high}; got {quote(value)}")
    elif value.is_finite() and value == value.to_integral_value():
        number = int(value)
    if number is None:
        raise InvalidArgument(f"'{path}' must be an integer; got {quote(value)}")
    if not low <= number <= high:
        raise InvalidArgument(f"'{path}' must be between {low} and {high}; got {quote(number)}")
    return number


def exact_decimal_text(value: int | float | Decimal, path: str) -> str:
    """A JSON number given for a decimal-string field, as plain decimal text with its exact value.

    Text parsed with `Decimal` (arguments_json) is exact. A float (a Struct's double) is accepted only
    when its shortest text has at most 15 significant digits: every such decimal survives a double
    unchanged, anything longer may already have been rounded, so it is refused rather than guessed.
    """
    if isinstance(value, int):
        return str(value)
    number = value if isinstance(value, Decimal) else Decimal(repr(value)) if math.isfinite(value) else None
    if number is None or not number.is_finite():
        raise InvalidArgument(f"'{path}' must be a finite decimal; got {quote(value)}")
    if number and abs(number.adjusted()) > _MAX_DIGITS:
        # written out, 1e-999999999 would be a billion characters: no decimal field takes such a value
        raise InvalidArgument(f"'{path}' is out of range (at most {_MAX_DIGITS} digits either side of the point); "
                              f"got {quote(value)}")
    if isinstance(value, float) and len(number.as_tuple().digits) > _DOUBLE_EXACT_DIGITS:
        raise InvalidArgument(
            f"'{path}' = {quote(value)} has more significant digits than a floating-point number holds "
            'exactly; send it as a decimal string, e.g. "0.00100040"'
        )
    return format(number, "f")


def quote(value: Any, limit: int = 80) -> str:
    """`repr(value)` cut to `limit` characters, so an error never echoes a huge input back."""
    try:
        text = str(value) if isinstance(value, Decimal) else repr(value)  # a JSON number as its text
    except ValueError:  # an int beyond sys.get_int_max_str_digits()
        return f"<{type(value).__name__} too large to show>"
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def parse_arguments_json(text: str) -> dict[str, Any]:
    """Tool arguments from JSON text, numbers kept exact (`Decimal`, `int`); NaN and Infinity refused."""

    def no_constants(name: str) -> Any:
        raise InvalidArgument(f"arguments must be finite numbers; got {name}")

    try:
        args = json.loads(text, parse_float=Decimal, parse_constant=no_constants)
    except (ValueError, RecursionError) as exc:
        raise InvalidArgument(f"arguments_json is not valid JSON: {quote(str(exc))}") from exc
    if not isinstance(args, dict):
        raise InvalidArgument("arguments_json must be a JSON object")
    return args


def struct_arguments(struct: Struct) -> dict[str, Any]:
    """Tool arguments from the legacy `google.protobuf.Struct` field; NaN and Infinity refused.

    A Struct can carry them (its numbers are doubles) but JSON cannot, and `json_format` raises a
    ValueError on them, which would otherwise surface as INTERNAL.
    """
    try:
        return _struct_json(struct)
    except _NotFinite:
        pass
    try:  # json_format says what is wrong
        args: dict[str, Any] = json_format.MessageToDict(struct)
    except ValueError as exc:
        raise InvalidArgument(f"arguments must be finite numbers: {quote(str(exc), 200)}") from exc
    return args


class _NotFinite(Exception):
    """A Struct number that is NaN or infinite: `struct_arguments` lets json_format refuse it."""


def _struct_json(struct: Struct) -> dict[str, Any]:
    """`json_format.MessageToDict(struct)` without its per-value dispatch (every InvokeTool call of a
    Struct-speaking client): numbers stay floats, null is None, keys in the map's own order."""
    fields = struct.fields
    return {key: _value_json(fields[key]) for key in fields}


def _value_json(value: Value) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "number_value":
        number = value.number_value
        if not math.isfinite(number):
            raise _NotFinite
        return number
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "struct_value":
        return _struct_json(value.struct_value)
    if kind == "list_value":
        return [_value_json(item) for item in value.list_value.values]
    return None  # null_value, or no kind set


@functools.cache
def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(text)


def apply_defaults(msg: Message) -> None:
    """Sets every absent optional field that declares a default (one place for defaults)."""
    for field in msg.DESCRIPTOR.fields:
        rules = field_rules(field)
        if rules.default_json and field.has_presence and not msg.HasField(field.name):
            setattr(msg, field.name, json.loads(rules.default_json))


def validate(msg: Message, where: str = "") -> None:
    """Checks the field rules on a request (the direct gRPC path gets the same checks as MCP)."""
    for field in msg.DESCRIPTOR.fields:
        rules = field_rules(field)
        path = f"{where}{field.name}"
        value = getattr(msg, field.name)
        if is_repeated(field):
            items = list(value)
            if rules.required and not items:
                raise InvalidArgument(f"'{path}' is required (at least one item)")
            if rules.max_items and len(items) > rules.max_items:
                raise InvalidArgument(f"'{path}' takes at most {rules.max_items} items; got {len(items)}")
            for i, item in enumerate(items):
                _check_scalar(field, rules, item, f"{path}[{i}]")
            continue
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if msg.HasField(field.name) and not is_map(field):
                validate(value, f"{path}.")
            continue
        present = msg.HasField(field.name) if field.has_presence else value not in ("", 0, False)
        if rules.required and not present:
            raise InvalidArgument(f"'{path}' is required")
        if present:
            _check_scalar(field, rules, value, path)


@functools.cache
def bounds(field: FieldDescriptor) -> tuple[int | float, int | float] | None:
    """The inclusive range a numeric field accepts: its rules' bounds within its type's range.

    Integer fields always have one (the type's range at least), as exact integers: the rules' bounds
    are doubles, and 2^63 - 1 written in a .proto reads back as 2^63, one above int64's maximum.
    """
    rules = field_rules(field)
    if field.type in INT_TYPES:
        low, high = INT_RANGES[field.type]
        if rules.has_bounds:
            low, high = max(low, math.ceil(rules.minimum)), min(high, math.floor(rules.maximum))
        return low, high
    if field.type in FLOAT_TYPES and rules.has_bounds:
        return rules.minimum, rules.maximum
    return None


def _check_scalar(field: FieldDescriptor, rules: Any, value: Any, path: str) -> None:
    if rules.pattern and isinstance(value, str) and not _pattern(rules.pattern).fullmatch(value):
        raise InvalidArgument(f"'{path}' must match {rules.pattern}; got {quote(value)}")
    limits = bounds(field)
    if limits is not None and isinstance(value, int | float) and not isinstance(value, bool):
        low, high = limits
        if not low <= value <= high:
            raise InvalidArgument(f"'{path}' must be between {_num(low)} and {_num(high)}; got {quote(value)}")
    if field.type == FieldDescriptor.TYPE_ENUM:
        wire = enum_wire(field.enum_type)
        if value == 0 and rules.required:
            raise InvalidArgument(f"'{path}' is required; one of {', '.join(wire.names)}")
        if value not in wire.by_number and (value != 0 or field.has_presence or is_repeated(field)):
            # a typed-service caller can send any number (proto3 enums are open) or UNSPECIFIED explicitly
            raise InvalidArgument(f"'{path}' must be one of {', '.join(wire.names)}; got {quote(value)}")


def _num(x: float) -> str:
    return str(x) if isinstance(x, int) else str(int(x)) if x.is_integer() else str(x)
