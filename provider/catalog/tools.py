"""The tool catalog: one ToolSpec per RPC that carries a `(binance.v1.tool)` option.

Name, title, hints and deadline come from the option; the description from the RPC's comment; the
input and output schemas from its messages. The same spec serves the typed gRPC method and
`provider.v1.Provider/InvokeTool`.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from google.protobuf.descriptor import FileDescriptor, MethodDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from contracts.binance.v1 import account_pb2, market_pb2, orderbook_pb2, trading_pb2
from contracts.provider.v1 import provider_pb2
from provider.catalog.descriptors import comment, tool_options
from provider.catalog.schema import input_schema, output_schema

SERVICE_FILES: tuple[FileDescriptor, ...] = (
    market_pb2.DESCRIPTOR,
    account_pb2.DESCRIPTOR,
    trading_pb2.DESCRIPTOR,
    orderbook_pb2.DESCRIPTOR,
)


@dataclass(frozen=True)
class ToolSpec:
    name: str
    title: str
    description: str
    service: str  # e.g. "binance.v1.MarketData"
    method: str  # e.g. "GetTicker"
    request_cls: type[Message]
    response_cls: type[Message]
    read_only: bool
    destructive: bool
    idempotent: bool
    open_world: bool
    timeout_ms: int
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]

    @property
    def grpc_method(self) -> str:
        return f"/{self.service}/{self.method}"

    def descriptor(self) -> provider_pb2.ToolDescriptor:
        return provider_pb2.ToolDescriptor(
            name=self.name,
            title=self.title,
            description=self.description,
            input_schema_json=json.dumps(self.input_schema, separators=(",", ":")),
            output_schema_json=json.dumps(self.output_schema, separators=(",", ":")),
            hints=provider_pb2.ToolHints(
                read_only=self.read_only,
                destructive=self.destructive,
                idempotent=self.idempotent,
                open_world=self.open_world,
            ),
            timeout_ms=self.timeout_ms,
            grpc_method=self.grpc_method,
        )


def _spec(method: MethodDescriptor) -> ToolSpec | None:
    opts = tool_options(method)
    if opts is None:
        return None
    return ToolSpec(
        name=opts.name,
        title=opts.title,
        description=comment(method.full_name),
        service=method.containing_service.full_name,
        method=method.name,
        request_cls=GetMessageClass(method.input_type),
        response_cls=GetMessageClass(method.output_type),
        read_only=opts.read_only,
        destructive=opts.destructive,
        idempotent=opts.idempotent,
        open_world=opts.open_world,
        timeout_ms=opts.timeout_ms,
        input_schema=input_schema(method.input_type),
        output_schema=output_schema(method.output_type),
    )


@functools.cache
def tool_specs() -> dict[str, ToolSpec]:
    """Every tool by name, in contract order."""
    specs: dict[str, ToolSpec] = {}
    for file in SERVICE_FILES:
        for service in file.services_by_name.values():
            for method in service.methods:
                spec = _spec(method)
                if spec is not None:
                    specs[spec.name] = spec
    return specs
