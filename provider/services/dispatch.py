"""Binds the tool catalog to handlers and exposes every tool as its typed gRPC method.

The typed servicers (`binance.v1.MarketData`, ...) are built from the generated base classes, one
method per ToolSpec, and `provider.v1.Provider/InvokeTool` calls the very same `invoke`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import grpc
import structlog
from google.protobuf.message import Message

from contracts.binance.v1 import account_pb2_grpc, market_pb2_grpc, orderbook_pb2_grpc, trading_pb2_grpc
from provider.catalog.jsonmap import apply_defaults, validate
from provider.catalog.tools import ToolSpec, tool_specs
from provider.errors import ProviderError
from provider.services.errors import guarded
from provider.services.registry import handlers

if TYPE_CHECKING:
    from provider.app import App

log = structlog.get_logger("provider.rpc")

_GRPC_MODULES = {
    "binance.v1.MarketData": market_pb2_grpc,
    "binance.v1.Account": account_pb2_grpc,
    "binance.v1.Trading": trading_pb2_grpc,
    "binance.v1.OrderBook": orderbook_pb2_grpc,
}


class Unimplemented(ProviderError):
    grpc_status = grpc.StatusCode.UNIMPLEMENTED
    hint = "This provider build does not serve the tool yet."


async def invoke(app: App, spec: ToolSpec, request: Message) -> Message:
    """Validates the request against the contract's rules and runs the tool's handler."""
    handler = handlers().get(spec.name)
    if handler is None:
        raise Unimplemented(f"{spec.name} is not implemented by this provider")
    apply_defaults(request)
    validate(request)
    return await handler(app, request)


def _method(app: App, spec: ToolSpec) -> Any:
    async def rpc(self: Any, request: Message, context: grpc.aio.ServicerContext) -> Message:
        return await guarded(context, spec.grpc_method, lambda: invoke(app, spec, request), tool=spec.name)

    rpc.__name__ = spec.method
    return rpc


def add_typed_services(server: grpc.aio.Server, app: App) -> list[str]:
    """Registers the typed services on the server; returns their full names (for reflection)."""
    by_service: dict[str, list[ToolSpec]] = {}
    for spec in tool_specs().values():
        by_service.setdefault(spec.service, []).append(spec)
    names = []
    for service, specs in by_service.items():
        module = _GRPC_MODULES[service]
        short = service.rsplit(".", 1)[1]
        base = getattr(module, f"{short}Servicer")
        servicer_cls = type(f"{short}Servicer", (base,), {s.method: _method(app, s) for s in specs})
        getattr(module, f"add_{short}Servicer_to_server")(servicer_cls(), server)
        names.append(service)
    return names
