from google.protobuf import descriptor_pb2 as _descriptor_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor
TOOL_FIELD_NUMBER: _ClassVar[int]
tool: _descriptor.FieldDescriptor
RULES_FIELD_NUMBER: _ClassVar[int]
rules: _descriptor.FieldDescriptor
WIRE_FIELD_NUMBER: _ClassVar[int]
wire: _descriptor.FieldDescriptor

class ToolOptions(_message.Message):
    __slots__ = ("name", "title", "read_only", "destructive", "idempotent", "open_world", "timeout_ms")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    DESTRUCTIVE_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENT_FIELD_NUMBER: _ClassVar[int]
    OPEN_WORLD_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    name: str
    title: str
    read_only: bool
    destructive: bool
    idempotent: bool
    open_world: bool
    timeout_ms: int
    def __init__(self, name: _Optional[str] = ..., title: _Optional[str] = ..., read_only: _Optional[bool] = ..., destructive: _Optional[bool] = ..., idempotent: _Optional[bool] = ..., open_world: _Optional[bool] = ..., timeout_ms: _Optional[int] = ...) -> None: ...

class FieldRules(_message.Message):
    __slots__ = ("required", "pattern", "has_bounds", "minimum", "maximum", "default_json", "min_items", "max_items")
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    PATTERN_FIELD_NUMBER: _ClassVar[int]
    HAS_BOUNDS_FIELD_NUMBER: _ClassVar[int]
    MINIMUM_FIELD_NUMBER: _ClassVar[int]
    MAXIMUM_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_JSON_FIELD_NUMBER: _ClassVar[int]
    MIN_ITEMS_FIELD_NUMBER: _ClassVar[int]
    MAX_ITEMS_FIELD_NUMBER: _ClassVar[int]
    required: bool
    pattern: str
    has_bounds: bool
    minimum: float
    maximum: float
    default_json: str
    min_items: int
    max_items: int
    def __init__(self, required: _Optional[bool] = ..., pattern: _Optional[str] = ..., has_bounds: _Optional[bool] = ..., minimum: _Optional[float] = ..., maximum: _Optional[float] = ..., default_json: _Optional[str] = ..., min_items: _Optional[int] = ..., max_items: _Optional[int] = ...) -> None: ...
