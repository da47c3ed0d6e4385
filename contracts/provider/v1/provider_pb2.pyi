from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class InputMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INPUT_MODE_UNSPECIFIED: _ClassVar[InputMode]
    INPUT_MODE_IN_CALL: _ClassVar[InputMode]
    INPUT_MODE_RESULT: _ClassVar[InputMode]
    INPUT_MODE_NONE: _ClassVar[InputMode]
INPUT_MODE_UNSPECIFIED: InputMode
INPUT_MODE_IN_CALL: InputMode
INPUT_MODE_RESULT: InputMode
INPUT_MODE_NONE: InputMode

class ListCapabilitiesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ToolHints(_message.Message):
    __slots__ = ("read_only", "destructive", "idempotent", "open_world")
    READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    DESTRUCTIVE_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENT_FIELD_NUMBER: _ClassVar[int]
    OPEN_WORLD_FIELD_NUMBER: _ClassVar[int]
    read_only: bool
    destructive: bool
    idempotent: bool
    open_world: bool
    def __init__(self, read_only: _Optional[bool] = ..., destructive: _Optional[bool] = ..., idempotent: _Optional[bool] = ..., open_world: _Optional[bool] = ...) -> None: ...

class ToolDescriptor(_message.Message):
    __slots__ = ("name", "title", "description", "input_schema_json", "output_schema_json", "hints", "timeout_ms", "grpc_method")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    INPUT_SCHEMA_JSON_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_SCHEMA_JSON_FIELD_NUMBER: _ClassVar[int]
    HINTS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    GRPC_METHOD_FIELD_NUMBER: _ClassVar[int]
    name: str
    title: str
    description: str
    input_schema_json: str
    output_schema_json: str
    hints: ToolHints
    timeout_ms: int
    grpc_method: str
    def __init__(self, name: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., input_schema_json: _Optional[str] = ..., output_schema_json: _Optional[str] = ..., hints: _Optional[_Union[ToolHints, _Mapping]] = ..., timeout_ms: _Optional[int] = ..., grpc_method: _Optional[str] = ...) -> None: ...

class ArgumentDescriptor(_message.Message):
    __slots__ = ("name", "description", "required", "completable")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    COMPLETABLE_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    required: bool
    completable: bool
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., required: _Optional[bool] = ..., completable: _Optional[bool] = ...) -> None: ...

class ResourceTemplateDescriptor(_message.Message):
    __slots__ = ("uri_template", "name", "title", "description", "mime_type", "variables", "subscribable")
    URI_TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    MIME_TYPE_FIELD_NUMBER: _ClassVar[int]
    VARIABLES_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIBABLE_FIELD_NUMBER: _ClassVar[int]
    uri_template: str
    name: str
    title: str
    description: str
    mime_type: str
    variables: _containers.RepeatedCompositeFieldContainer[ArgumentDescriptor]
    subscribable: bool
    def __init__(self, uri_template: _Optional[str] = ..., name: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., mime_type: _Optional[str] = ..., variables: _Optional[_Iterable[_Union[ArgumentDescriptor, _Mapping]]] = ..., subscribable: _Optional[bool] = ...) -> None: ...

class PromptDescriptor(_message.Message):
    __slots__ = ("name", "title", "description", "arguments")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ARGUMENTS_FIELD_NUMBER: _ClassVar[int]
    name: str
    title: str
    description: str
    arguments: _containers.RepeatedCompositeFieldContainer[ArgumentDescriptor]
    def __init__(self, name: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., arguments: _Optional[_Iterable[_Union[ArgumentDescriptor, _Mapping]]] = ...) -> None: ...

class Capabilities(_message.Message):
    __slots__ = ("provider", "version", "revision", "tools", "resource_templates", "prompts", "environment", "streams_tools", "watches_catalog")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    TOOLS_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_TEMPLATES_FIELD_NUMBER: _ClassVar[int]
    PROMPTS_FIELD_NUMBER: _ClassVar[int]
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    STREAMS_TOOLS_FIELD_NUMBER: _ClassVar[int]
    WATCHES_CATALOG_FIELD_NUMBER: _ClassVar[int]
    provider: str
    version: str
    revision: str
    tools: _containers.RepeatedCompositeFieldContainer[ToolDescriptor]
    resource_templates: _containers.RepeatedCompositeFieldContainer[ResourceTemplateDescriptor]
    prompts: _containers.RepeatedCompositeFieldContainer[PromptDescriptor]
    environment: str
    streams_tools: bool
    watches_catalog: bool
    def __init__(self, provider: _Optional[str] = ..., version: _Optional[str] = ..., revision: _Optional[str] = ..., tools: _Optional[_Iterable[_Union[ToolDescriptor, _Mapping]]] = ..., resource_templates: _Optional[_Iterable[_Union[ResourceTemplateDescriptor, _Mapping]]] = ..., prompts: _Optional[_Iterable[_Union[PromptDescriptor, _Mapping]]] = ..., environment: _Optional[str] = ..., streams_tools: _Optional[bool] = ..., watches_catalog: _Optional[bool] = ...) -> None: ...

class InvokeToolRequest(_message.Message):
    __slots__ = ("name", "arguments", "arguments_json")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ARGUMENTS_FIELD_NUMBER: _ClassVar[int]
    ARGUMENTS_JSON_FIELD_NUMBER: _ClassVar[int]
    name: str
    arguments: _struct_pb2.Struct
    arguments_json: str
    def __init__(self, name: _Optional[str] = ..., arguments: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., arguments_json: _Optional[str] = ...) -> None: ...

class InvokeToolResponse(_message.Message):
    __slots__ = ("structured", "text", "is_error", "structured_json", "content")
    STRUCTURED_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    IS_ERROR_FIELD_NUMBER: _ClassVar[int]
    STRUCTURED_JSON_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    structured: _struct_pb2.Struct
    text: str
    is_error: bool
    structured_json: str
    content: _containers.RepeatedCompositeFieldContainer[ContentBlock]
    def __init__(self, structured: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., text: _Optional[str] = ..., is_error: _Optional[bool] = ..., structured_json: _Optional[str] = ..., content: _Optional[_Iterable[_Union[ContentBlock, _Mapping]]] = ...) -> None: ...

class ContentBlock(_message.Message):
    __slots__ = ("text", "image", "audio", "resource", "resource_link", "annotations_json")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_LINK_FIELD_NUMBER: _ClassVar[int]
    ANNOTATIONS_JSON_FIELD_NUMBER: _ClassVar[int]
    text: TextContent
    image: MediaContent
    audio: MediaContent
    resource: ResourceContents
    resource_link: ResourceDescriptor
    annotations_json: str
    def __init__(self, text: _Optional[_Union[TextContent, _Mapping]] = ..., image: _Optional[_Union[MediaContent, _Mapping]] = ..., audio: _Optional[_Union[MediaContent, _Mapping]] = ..., resource: _Optional[_Union[ResourceContents, _Mapping]] = ..., resource_link: _Optional[_Union[ResourceDescriptor, _Mapping]] = ..., annotations_json: _Optional[str] = ...) -> None: ...

class TextContent(_message.Message):
    __slots__ = ("text",)
    TEXT_FIELD_NUMBER: _ClassVar[int]
    text: str
    def __init__(self, text: _Optional[str] = ...) -> None: ...

class MediaContent(_message.Message):
    __slots__ = ("data", "mime_type")
    DATA_FIELD_NUMBER: _ClassVar[int]
    MIME_TYPE_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    mime_type: str
    def __init__(self, data: _Optional[bytes] = ..., mime_type: _Optional[str] = ...) -> None: ...

class ToolCallUp(_message.Message):
    __slots__ = ("start", "input_response")
    START_FIELD_NUMBER: _ClassVar[int]
    INPUT_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    start: ToolCallStart
    input_response: InputResponse
    def __init__(self, start: _Optional[_Union[ToolCallStart, _Mapping]] = ..., input_response: _Optional[_Union[InputResponse, _Mapping]] = ...) -> None: ...

class ToolCallStart(_message.Message):
    __slots__ = ("request", "context")
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    request: InvokeToolRequest
    context: CallContext
    def __init__(self, request: _Optional[_Union[InvokeToolRequest, _Mapping]] = ..., context: _Optional[_Union[CallContext, _Mapping]] = ...) -> None: ...

class CallContext(_message.Message):
    __slots__ = ("protocol_version", "client_capabilities_json", "input_mode", "input_responses", "request_state", "progress_requested", "log_level")
    PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    CLIENT_CAPABILITIES_JSON_FIELD_NUMBER: _ClassVar[int]
    INPUT_MODE_FIELD_NUMBER: _ClassVar[int]
    INPUT_RESPONSES_FIELD_NUMBER: _ClassVar[int]
    REQUEST_STATE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    LOG_LEVEL_FIELD_NUMBER: _ClassVar[int]
    protocol_version: str
    client_capabilities_json: str
    input_mode: InputMode
    input_responses: _containers.RepeatedCompositeFieldContainer[InputResponse]
    request_state: str
    progress_requested: bool
    log_level: str
    def __init__(self, protocol_version: _Optional[str] = ..., client_capabilities_json: _Optional[str] = ..., input_mode: _Optional[_Union[InputMode, str]] = ..., input_responses: _Optional[_Iterable[_Union[InputResponse, _Mapping]]] = ..., request_state: _Optional[str] = ..., progress_requested: _Optional[bool] = ..., log_level: _Optional[str] = ...) -> None: ...

class ToolCallDown(_message.Message):
    __slots__ = ("progress", "log", "input_request", "result", "input_required")
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    LOG_FIELD_NUMBER: _ClassVar[int]
    INPUT_REQUEST_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    INPUT_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    progress: Progress
    log: LogMessage
    input_request: InputRequest
    result: InvokeToolResponse
    input_required: InputRequired
    def __init__(self, progress: _Optional[_Union[Progress, _Mapping]] = ..., log: _Optional[_Union[LogMessage, _Mapping]] = ..., input_request: _Optional[_Union[InputRequest, _Mapping]] = ..., result: _Optional[_Union[InvokeToolResponse, _Mapping]] = ..., input_required: _Optional[_Union[InputRequired, _Mapping]] = ...) -> None: ...

class Progress(_message.Message):
    __slots__ = ("progress", "total", "message")
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    progress: float
    total: float
    message: str
    def __init__(self, progress: _Optional[float] = ..., total: _Optional[float] = ..., message: _Optional[str] = ...) -> None: ...

class LogMessage(_message.Message):
    __slots__ = ("level", "logger", "data_json")
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    LOGGER_FIELD_NUMBER: _ClassVar[int]
    DATA_JSON_FIELD_NUMBER: _ClassVar[int]
    level: str
    logger: str
    data_json: str
    def __init__(self, level: _Optional[str] = ..., logger: _Optional[str] = ..., data_json: _Optional[str] = ...) -> None: ...

class InputRequest(_message.Message):
    __slots__ = ("key", "method", "params_json")
    KEY_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    PARAMS_JSON_FIELD_NUMBER: _ClassVar[int]
    key: str
    method: str
    params_json: str
    def __init__(self, key: _Optional[str] = ..., method: _Optional[str] = ..., params_json: _Optional[str] = ...) -> None: ...

class InputResponse(_message.Message):
    __slots__ = ("key", "result_json", "error_code", "error_message")
    KEY_FIELD_NUMBER: _ClassVar[int]
    RESULT_JSON_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    key: str
    result_json: str
    error_code: int
    error_message: str
    def __init__(self, key: _Optional[str] = ..., result_json: _Optional[str] = ..., error_code: _Optional[int] = ..., error_message: _Optional[str] = ...) -> None: ...

class InputRequired(_message.Message):
    __slots__ = ("requests", "request_state")
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_STATE_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[InputRequest]
    request_state: str
    def __init__(self, requests: _Optional[_Iterable[_Union[InputRequest, _Mapping]]] = ..., request_state: _Optional[str] = ...) -> None: ...

class ListResourcesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ResourceDescriptor(_message.Message):
    __slots__ = ("uri", "name", "title", "description", "mime_type", "subscribable")
    URI_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    MIME_TYPE_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIBABLE_FIELD_NUMBER: _ClassVar[int]
    uri: str
    name: str
    title: str
    description: str
    mime_type: str
    subscribable: bool
    def __init__(self, uri: _Optional[str] = ..., name: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., mime_type: _Optional[str] = ..., subscribable: _Optional[bool] = ...) -> None: ...

class ListResourcesResponse(_message.Message):
    __slots__ = ("resources",)
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    resources: _containers.RepeatedCompositeFieldContainer[ResourceDescriptor]
    def __init__(self, resources: _Optional[_Iterable[_Union[ResourceDescriptor, _Mapping]]] = ...) -> None: ...

class ReadResourceRequest(_message.Message):
    __slots__ = ("uri", "context")
    URI_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    uri: str
    context: CallContext
    def __init__(self, uri: _Optional[str] = ..., context: _Optional[_Union[CallContext, _Mapping]] = ...) -> None: ...

class ResourceContents(_message.Message):
    __slots__ = ("uri", "mime_type", "text", "blob")
    URI_FIELD_NUMBER: _ClassVar[int]
    MIME_TYPE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    BLOB_FIELD_NUMBER: _ClassVar[int]
    uri: str
    mime_type: str
    text: str
    blob: bytes
    def __init__(self, uri: _Optional[str] = ..., mime_type: _Optional[str] = ..., text: _Optional[str] = ..., blob: _Optional[bytes] = ...) -> None: ...

class ReadResourceResponse(_message.Message):
    __slots__ = ("contents", "input_required")
    CONTENTS_FIELD_NUMBER: _ClassVar[int]
    INPUT_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    contents: _containers.RepeatedCompositeFieldContainer[ResourceContents]
    input_required: InputRequired
    def __init__(self, contents: _Optional[_Iterable[_Union[ResourceContents, _Mapping]]] = ..., input_required: _Optional[_Union[InputRequired, _Mapping]] = ...) -> None: ...

class GetPromptRequest(_message.Message):
    __slots__ = ("name", "arguments", "context")
    class ArgumentsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    ARGUMENTS_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    name: str
    arguments: _containers.ScalarMap[str, str]
    context: CallContext
    def __init__(self, name: _Optional[str] = ..., arguments: _Optional[_Mapping[str, str]] = ..., context: _Optional[_Union[CallContext, _Mapping]] = ...) -> None: ...

class PromptMessage(_message.Message):
    __slots__ = ("role", "text", "content")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    role: str
    text: str
    content: ContentBlock
    def __init__(self, role: _Optional[str] = ..., text: _Optional[str] = ..., content: _Optional[_Union[ContentBlock, _Mapping]] = ...) -> None: ...

class GetPromptResponse(_message.Message):
    __slots__ = ("description", "messages", "input_required")
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    INPUT_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    description: str
    messages: _containers.RepeatedCompositeFieldContainer[PromptMessage]
    input_required: InputRequired
    def __init__(self, description: _Optional[str] = ..., messages: _Optional[_Iterable[_Union[PromptMessage, _Mapping]]] = ..., input_required: _Optional[_Union[InputRequired, _Mapping]] = ...) -> None: ...

class CompleteRequest(_message.Message):
    __slots__ = ("ref_kind", "ref", "argument", "value", "context")
    class RefKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        REF_KIND_UNSPECIFIED: _ClassVar[CompleteRequest.RefKind]
        REF_KIND_RESOURCE: _ClassVar[CompleteRequest.RefKind]
        REF_KIND_PROMPT: _ClassVar[CompleteRequest.RefKind]
    REF_KIND_UNSPECIFIED: CompleteRequest.RefKind
    REF_KIND_RESOURCE: CompleteRequest.RefKind
    REF_KIND_PROMPT: CompleteRequest.RefKind
    class ContextEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    REF_KIND_FIELD_NUMBER: _ClassVar[int]
    REF_FIELD_NUMBER: _ClassVar[int]
    ARGUMENT_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    ref_kind: CompleteRequest.RefKind
    ref: str
    argument: str
    value: str
    context: _containers.ScalarMap[str, str]
    def __init__(self, ref_kind: _Optional[_Union[CompleteRequest.RefKind, str]] = ..., ref: _Optional[str] = ..., argument: _Optional[str] = ..., value: _Optional[str] = ..., context: _Optional[_Mapping[str, str]] = ...) -> None: ...

class CompleteResponse(_message.Message):
    __slots__ = ("values", "total", "has_more")
    VALUES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[str]
    total: int
    has_more: bool
    def __init__(self, values: _Optional[_Iterable[str]] = ..., total: _Optional[int] = ..., has_more: _Optional[bool] = ...) -> None: ...

class SubscribeResourceUpdatesRequest(_message.Message):
    __slots__ = ("uris", "min_interval_ms")
    URIS_FIELD_NUMBER: _ClassVar[int]
    MIN_INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    uris: _containers.RepeatedScalarFieldContainer[str]
    min_interval_ms: int
    def __init__(self, uris: _Optional[_Iterable[str]] = ..., min_interval_ms: _Optional[int] = ...) -> None: ...

class ResourceUpdate(_message.Message):
    __slots__ = ("uri", "time_ms")
    URI_FIELD_NUMBER: _ClassVar[int]
    TIME_MS_FIELD_NUMBER: _ClassVar[int]
    uri: str
    time_ms: int
    def __init__(self, uri: _Optional[str] = ..., time_ms: _Optional[int] = ...) -> None: ...

class WatchCatalogRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CatalogChanged(_message.Message):
    __slots__ = ("revision", "resources")
    REVISION_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    revision: str
    resources: bool
    def __init__(self, revision: _Optional[str] = ..., resources: _Optional[bool] = ...) -> None: ...
