"""A fake provider.v1 server for gateway tests: a real `grpc.aio` server on loopback, plus health.

It knows no exchange; its catalog exercises every path of the gateway:
- `fake.echo` (already namespaced, read-only, idempotent) echoes text `repeat` times;
- `add` (not namespaced: the gateway exposes it as `fake.add`) adds two numbers, no extras;
- `place_thing` (destructive) always fails with FAILED_PRECONDITION and `error-details-json`;
- `slow` sleeps longer than its own `timeout_ms`, to exercise deadlines;
- the template `fake://quote/{symbol}` (subscribable, `symbol` completable) and the prompt
  `summarize` with a required `symbol` argument;
- listed resources `fp.listed` (URI, name) pairs: two quotes and `fake://note/readme`, which no
  template matches; set `fp.listed = None` to answer ListResources with UNIMPLEMENTED (an older
  provider). `fp.list_calls` counts ListResources calls.

Use: `fp = await FakeProvider().start()`, `fp.address`, `await fp.restart()`, `await fp.stop()`.
`await fp.push_update(uri)` sends an update to every open stream for `uri`;
`await fp.wait_subscribed(uri)` waits (bounded) until such a stream exists.
`fp.calls` records `(tool, arguments, correlation_id)` for every InvokeTool.
An echo of the text `__hold__` signals `fp.holding` and waits for `fp.release` (concurrency tests);
`await fp.wait_held(n)` waits (bounded) until `n` such calls are waiting.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import grpc
import grpc.aio
from google.protobuf import json_format, struct_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from contracts.provider.v1 import provider_pb2, provider_pb2_grpc

SYMBOLS = ("BNBUSDT", "BTCUSDT", "ETHBTC", "ETHUSDT")
TEMPLATE = "fake://quote/{symbol}"
NOTE_URI = "fake://note/readme"
LISTED = [("fake://quote/BTCUSDT", "quote-BTCUSDT"), ("fake://quote/ETHUSDT", "quote-ETHUSDT"), (NOTE_URI, "readme")]
FAILURE_DETAILS = {
    "kind": "FilterViolation",
    "binance_code": -1013,
    "binance_msg": "Filter failure: LOT_SIZE",
    "hint": "Round the quantity down to a multiple of stepSize 0.001.",
    "retry_safe": False,
    "violations": [{"filter": "LOT_SIZE", "field": "quantity", "nearest_valid": ["0.001"]}],
}

_ECHO_IN = {
    "type": "object",
    "properties": {
        "text": {"type": "string", "description": "Text to echo."},
        "repeat": {"type": "integer", "minimum": 1, "maximum": 5, "description": "Times."},
    },
    "required": ["text"],
    "additionalProperties": False,
}
_ECHO_OUT = {
    "type": "object",
    "properties": {"text": {"type": "string"}, "count": {"type": "integer"}},
    "required": ["text", "count"],
}
_ADD_IN = {
    "type": "object",
    "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
    "required": ["a", "b"],
    "additionalProperties": False,
}
_ADD_OUT = {"type": "object", "properties": {"sum": {"type": "number"}}, "required": ["sum"]}
_PLACE_IN = {
    "type": "object",
    "properties": {
        "symbol": {"type": "string", "pattern": "^[A-Z0-9]{5,20}$"},
        "side": {"type": "string", "enum": ["BUY", "SELL"]},
        "quantity": {"type": "string", "pattern": r"^\d+(\.\d+)?$"},
    },
    "required": ["symbol", "side", "quantity"],
    "additionalProperties": False,
}


def _tool(
    name: str,
    description: str,
    schema_in: dict[str, Any],
    schema_out: dict[str, Any] | None = None,
    *,
    title: str = "",
    timeout_ms: int = 0,
    **hints: bool,
) -> provider_pb2.ToolDescriptor:
    return provider_pb2.ToolDescriptor(
        name=name,
        title=title,
        description=description,
        input_schema_json=json.dumps(schema_in),
        output_schema_json=json.dumps(schema_out) if schema_out else "",
        hints=provider_pb2.ToolHints(**hints),
        timeout_ms=timeout_ms,
    )


def default_tools(name: str = "fake") -> list[provider_pb2.ToolDescriptor]:
    """The fake's standard tool set."""
    return [
        _tool(
            f"{name}.echo",
            "Echo text back.",
            _ECHO_IN,
            _ECHO_OUT,
            title="Echo",
            read_only=True,
            idempotent=True,
        ),
        _tool("add", "Add two numbers.", _ADD_IN, _ADD_OUT, title="Add", read_only=True),
        _tool(
            "place_thing",
            "Place a thing (always rejected).",
            _PLACE_IN,
            title="Place",
            destructive=True,
            open_world=True,
        ),
        _tool("slow", "Sleeps past its deadline.", {"type": "object"}, timeout_ms=200, read_only=True),
    ]


class FakeProvider(provider_pb2_grpc.ProviderServicer):
    """provider.v1 servicer plus the server that hosts it."""

    #: send a subscription's response headers when it is accepted (False: only with a first update,
    #: as providers did before the gateway waited for that verdict)
    headers_at_once = True

    def __init__(self, name: str = "fake", tls: tuple[bytes, bytes] | None = None) -> None:
        """`tls`: (private key PEM, certificate chain PEM) to serve TLS instead of plaintext."""
        self.name = name
        self.tls = tls
        self.tools = default_tools(name)
        self.revision = 1
        self.calls: list[tuple[str, dict[str, Any], str | None]] = []
        self.listed: list[tuple[str, str]] | None = list(LISTED)
        self.list_calls = 0
        self.port = 0
        self._server: grpc.aio.Server | None = None
        self._health: health.aio.HealthServicer | None = None
        self._streams: dict[str, set[asyncio.Queue[str | None]]] = {}
        self._changed = asyncio.Condition()
        self.holding = asyncio.Event()
        self.release = asyncio.Event()
        self.held = 0
        self._held_changed = asyncio.Condition()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self, port: int | None = None) -> FakeProvider:
        """Serve on `port` (default: the previous port, or a fresh one)."""
        server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
        add_servicer: Any = provider_pb2_grpc.add_ProviderServicer_to_server
        add_servicer(self, server)
        self._health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        where = f"127.0.0.1:{self.port if port is None else port}"
        if self.tls is None:
            bound = server.add_insecure_port(where)
        else:
            bound = server.add_secure_port(where, grpc.ssl_server_credentials([self.tls]))
        if bound == 0:
            raise RuntimeError("could not bind the fake provider")
        self.port = bound
        await server.start()
        await self._health.set("", health_pb2.HealthCheckResponse.SERVING)
        self._server = server
        return self

    async def stop(self) -> None:
        """Stop at once (streams are cut, as in a crash or restart)."""
        if self._server is not None:
            for queues in self._streams.values():
                for q in queues:
                    q.put_nowait(None)
            await self._server.stop(grace=None)
            self._server = None

    async def restart(self) -> None:
        """Stop, then serve again on the same port."""
        await self.stop()
        await self.start()

    def bump_catalog(self, tool: provider_pb2.ToolDescriptor) -> None:
        """Add a tool and change the revision."""
        self.tools.append(tool)
        self.revision += 1

    async def wait_subscribed(self, uri: str, limit_s: float = 10.0) -> None:
        """Wait until some stream watches `uri`."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: bool(self._streams.get(uri))), limit_s)

    async def wait_unsubscribed(self, uri: str, limit_s: float = 10.0) -> None:
        """Wait until no stream watches `uri`."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: not self._streams.get(uri)), limit_s)

    async def wait_held(self, n: int, limit_s: float = 10.0) -> None:
        """Wait until `n` `__hold__` echoes are waiting for `release`."""
        async with self._held_changed:
            await asyncio.wait_for(self._held_changed.wait_for(lambda: self.held >= n), limit_s)

    async def push_update(self, uri: str) -> int:
        """Send an update for `uri` to every open stream; returns how many got it."""
        queues = self._streams.get(uri, set())
        for q in queues:
            q.put_nowait(uri)
        return len(queues)

    # -- provider.v1 -----------------------------------------------------------------------

    async def ListCapabilities(
        self, request: provider_pb2.ListCapabilitiesRequest, context: grpc.aio.ServicerContext
    ) -> provider_pb2.Capabilities:
        return provider_pb2.Capabilities(
            provider=self.name,
            version="0.0.1",
            revision=str(self.revision),
            environment="sandbox",
            tools=self.tools,
            resource_templates=[
                provider_pb2.ResourceTemplateDescriptor(
                    uri_template=TEMPLATE,
                    name="quote",
                    title="Quote",
                    description="A quote for one symbol.",
                    mime_type="text/markdown",
                    variables=[
                        provider_pb2.ArgumentDescriptor(
                            name="symbol", description="Symbol", required=True, completable=True
                        )
                    ],
                    subscribable=True,
                )
            ],
            prompts=[
                provider_pb2.PromptDescriptor(
                    name="summarize",
                    title="Summarize",
                    description="Summarize one symbol.",
                    arguments=[
                        provider_pb2.ArgumentDescriptor(
                            name="symbol",
                            description="Symbol to summarize",
                            required=True,
                            completable=True,
                        )
                    ],
                )
            ],
        )

    async def InvokeTool(
        self, request: provider_pb2.InvokeToolRequest, context: grpc.aio.ServicerContext
    ) -> provider_pb2.InvokeToolResponse:
        # Gateways send JSON text (arguments_json); older ones a Struct.
        args = (
            json.loads(request.arguments_json)
            if request.arguments_json
            else json_format.MessageToDict(request.arguments)
        )
        md = dict(context.invocation_metadata() or ())
        self.calls.append((request.name, args, md.get("x-correlation-id")))
        if request.name == f"{self.name}.echo":
            if args.get("text") == "__hold__":
                async with self._held_changed:
                    self.held += 1
                    self._held_changed.notify_all()
                self.holding.set()
                await self.release.wait()
            count = int(args.get("repeat", 1))
            text = " ".join([args["text"]] * count)
            return _response({"text": text, "count": count}, f"{text} (x{count})")
        if request.name == "add":
            total = args["a"] + args["b"]
            return _response({"sum": total}, f"sum={total}")
        if request.name == "place_thing":
            context.set_trailing_metadata((("error-details-json", json.dumps(FAILURE_DETAILS)),))
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, "Filter failure: LOT_SIZE")
        if request.name == "slow":
            await asyncio.sleep(5)
            return _response({}, "done")
        await context.abort(grpc.StatusCode.NOT_FOUND, f"no tool {request.name}")
        raise AssertionError("unreachable")

    async def ListResources(
        self, request: provider_pb2.ListResourcesRequest, context: grpc.aio.ServicerContext
    ) -> provider_pb2.ListResourcesResponse:
        self.list_calls += 1
        if self.listed is None:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, "Method not implemented!")
        return provider_pb2.ListResourcesResponse(
            resources=[
                provider_pb2.ResourceDescriptor(
                    uri=uri, name=name, title=name.title(), description=f"{name}.", mime_type="text/markdown"
                )
                for uri, name in self.listed or []
            ]
        )

    async def ReadResource(
        self, request: provider_pb2.ReadResourceRequest, context: grpc.aio.ServicerContext
    ) -> provider_pb2.ReadResourceResponse:
        if request.uri == NOTE_URI:
            return provider_pb2.ReadResourceResponse(
                contents=[provider_pb2.ResourceContents(uri=NOTE_URI, mime_type="text/markdown", text="# Readme")]
            )
        m = re.fullmatch(r"fake://quote/([A-Z0-9]+)", request.uri)
        if not m or m.group(1) not in SYMBOLS:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"unknown symbol in {request.uri}")
            raise AssertionError("unreachable")
        return provider_pb2.ReadResourceResponse(
            contents=[
                provider_pb2.ResourceContents(
                    uri=request.uri,
                    mime_type="text/markdown",
                    text=f"# {m.group(1)}\n\nprice 1.2300",
                )
            ]
        )

    async def GetPrompt(
        self, request: provider_pb2.GetPromptRequest, context: grpc.aio.ServicerContext
    ) -> provider_pb2.GetPromptResponse:
        if request.name != "summarize":
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no prompt {request.name}")
        symbol = request.arguments.get("symbol", "?")
        return provider_pb2.GetPromptResponse(
            description=f"Summary of {symbol}",
            messages=[
                provider_pb2.PromptMessage(role="user", text=f"Summarize {symbol}."),
                provider_pb2.PromptMessage(role="assistant", text="Reading fake://quote/..."),
            ],
        )

    async def Complete(
        self, request: provider_pb2.CompleteRequest, context: grpc.aio.ServicerContext
    ) -> provider_pb2.CompleteResponse:
        values = [s for s in SYMBOLS if s.startswith(request.value.upper())]
        return provider_pb2.CompleteResponse(values=values, total=len(values))

    async def SubscribeResourceUpdates(
        self,
        request: provider_pb2.SubscribeResourceUpdatesRequest,
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[provider_pb2.ResourceUpdate]:
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        uris = list(request.uris)
        async with self._changed:
            for uri in uris:
                self._streams.setdefault(uri, set()).add(queue)
            self._changed.notify_all()
        if self.headers_at_once:
            await context.send_initial_metadata(())  # accepted (as the Binance provider says it)
        try:
            while (uri := await queue.get()) is not None:
                yield provider_pb2.ResourceUpdate(uri=uri, time_ms=1_700_000_000_000)
        finally:
            async with self._changed:
                for uri in uris:
                    self._streams.get(uri, set()).discard(queue)
                self._changed.notify_all()


def _response(structured: dict[str, Any], text: str) -> provider_pb2.InvokeToolResponse:
    s = struct_pb2.Struct()
    s.update(structured)
    return provider_pb2.InvokeToolResponse(structured=s, text=text)
