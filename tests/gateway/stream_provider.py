"""The fixture provider in the test process, plus tools that let tests steer a call from outside.

- `hold` sends progress 1 of 2, signals `held`, waits for `release`, sends progress 2 of 2 and
  answers "released"; when its call is cancelled it signals `cancelled` instead;
- `slow_ask` (deadline 2 s) asks the client for a name and answers with it, so a test can show
  that the time the client takes to answer does not count against the tool's deadline.

Use: `sp = await StreamProvider.serve()`, `sp.address`, `await sp.stop()`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import grpc
import grpc.aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from contracts.provider.v1 import provider_pb2, provider_pb2_grpc
from fixture_provider.server import FixtureProvider
from provider_kit import InputUnavailable, Reply, ToolCall, ToolHandler, text

_NO_ARGS = json.dumps({"type": "object", "properties": {}})


class StreamProvider(FixtureProvider):
    """The fixture's catalog plus `hold` and `slow_ask`."""

    def __init__(self) -> None:
        super().__init__()
        self.held = asyncio.Event()
        self.release = asyncio.Event()
        self.cancelled = asyncio.Event()
        self.port = 0
        self._server: grpc.aio.Server | None = None
        self._extra: dict[str, ToolHandler] = {"hold": self._hold, "slow_ask": self._slow_ask}

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @classmethod
    async def serve(cls) -> StreamProvider:
        provider = cls()
        server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
        add: Any = provider_pb2_grpc.add_ProviderServicer_to_server
        add(provider, server)
        checker = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(checker, server)
        provider.port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        await checker.set("", health_pb2.HealthCheckResponse.SERVING)
        provider._server = server
        return provider

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop(grace=None)

    def _find(self, name: str) -> ToolHandler | None:
        return self._extra.get(name) or super()._find(name)

    async def ListCapabilities(
        self, request: provider_pb2.ListCapabilitiesRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> provider_pb2.Capabilities:
        caps = await super().ListCapabilities(request, context)
        caps.tools.append(provider_pb2.ToolDescriptor(name="hold", description="Holds.", input_schema_json=_NO_ARGS))
        caps.tools.append(
            provider_pb2.ToolDescriptor(
                name="slow_ask", description="Asks, 2 s deadline.", input_schema_json=_NO_ARGS, timeout_ms=2000
            )
        )
        return caps

    async def _hold(self, call: ToolCall, args: dict[str, Any]) -> Reply:
        await call.progress(1, 2, "holding")
        self.held.set()
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        await call.progress(2, 2, "released")
        return Reply([text("released")])

    async def _slow_ask(self, call: ToolCall, args: dict[str, Any]) -> Reply:
        schema = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
        try:
            answer = await call.ask("name", "elicitation/create", {"message": "Name?", "requestedSchema": schema})
        except InputUnavailable as exc:
            return Reply([text(f"no answer: {exc.message}")], is_error=True)
        return Reply([text(f"hello {answer.get('content', {}).get('name')}")])
