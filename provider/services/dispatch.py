"""Binds the tool catalog to handlers and exposes every tool as its typed gRPC method.

The typed servicers (`binance.v1.MarketData`, ...) are built from the generated base classes, one
method per ToolSpec, and `provider.v1.Provider/InvokeTool` calls the very same `invoke`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc
import structlog
from google.protobuf.message import Message

from provider.catalog.jsonmap import apply_defaults, validate
from provider.catalog.tools import ToolSpec, tool_specs
from provider.errors import Unimplemented
from provider.services.registry import handlers

if TYPE_CHECKING:
    from provider.app import App

log = structlog.get_logger("provider.rpc")

_SERVICES = ("binance.v1.MarketData", "binance.v1.Account", "binance.v1.Trading", "binance.v1.OrderBook")


async def invoke(app: App, spec: ToolSpec, request: Message, *, checked: bool = False) -> Message:
    """Validates the request against the contract's rules and runs the tool's handler.

    `checked`: the request comes from `from_json`, which has applied the defaults and checked the
    rules already (InvokeTool), so they are not walked a second time.
    """
    handler = handlers().get(spec.name)
    if handler is None:
        raise Unimplemented(f"{spec.name} is not implemented by this provider")
    if not checked:
        apply_defaults(request)
        validate(request)
    return await handler(app, request)


def _handler(app: App, spec: ToolSpec) -> grpc.RpcMethodHandler:
    """The typed RPC of one tool; errors and undecodable bytes are the boundary's (`ErrorBoundary`)."""

    async def rpc(request: Message, context: grpc.aio.ServicerContext) -> Message:
        structlog.contextvars.bind_contextvars(tool=spec.name)  # the call's own task: the boundary logs it too
        return await invoke(app, spec, request)

    rpc.__name__ = spec.method
    return grpc.unary_unary_rpc_method_handler(
        rpc, request_deserializer=spec.request_cls.FromString, response_serializer=spec.response_cls.SerializeToString
    )


def add_typed_services(server: grpc.aio.Server, app: App) -> list[str]:
    """Registers the typed services on the server; returns their full names (for reflection).

    The handlers are built here rather than by the generated `add_*Servicer_to_server`, so every
    tool's RPC is `invoke`; an RPC without a tool option is UNIMPLEMENTED, as before.
    """
    by_service: dict[str, list[ToolSpec]] = {}
    for spec in tool_specs().values():
        by_service.setdefault(spec.service, []).append(spec)
    names = []
    for service, specs in by_service.items():
        if service not in _SERVICES:
            raise ValueError(f"tool specs name an unknown service {service}")
        handlers = {s.method: _handler(app, s) for s in specs}
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, handlers),))
        server.add_registered_method_handlers(service, handlers)
        names.append(service)
    return names
