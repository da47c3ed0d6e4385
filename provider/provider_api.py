"""`provider.v1.Provider`: the generic contract the gateway speaks.

Tools run through the same `invoke` as the typed services; resources and prompts come from
`provider/content/`, built on those services' handlers. When the operator wants orders approved by a
person (`BINANCE_CONFIRM_ORDERS` other than never), the capabilities say `streams_tools` and
every tool call comes through InvokeToolStream, where an order tool can ask the client
(`provider/services/confirm.py`); other tools answer there exactly as through InvokeTool (one
result frame, the same errors). With `never` nothing changes: gateways call unary InvokeTool.
Failures use gRPC statuses with the `error-details-json` trailer (see `services/errors.py`); an
unknown tool, resource or prompt is NOT_FOUND so the gateway can answer with a protocol error.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import grpc
import structlog

from contracts.provider.v1 import provider_pb2, provider_pb2_grpc
from provider.catalog.jsonmap import dumps, from_json, parse_arguments_json, struct_arguments, to_json_tables
from provider.catalog.render import render
from provider.catalog.tools import tool_specs
from provider.content import prompts, resources
from provider.errors import InvalidArgument, NotFound
from provider.services import confirm
from provider.services.dispatch import invoke
from provider.services.errors import Undecodable, guarded
from provider_kit import InputNeeded, ToolCall

if TYPE_CHECKING:
    from provider.app import App

log = structlog.get_logger("provider.api")

PROVIDER_NAME = "binance"
VERSION = "0.1.0"
MIN_UPDATE_INTERVAL_MS = 250
DEFAULT_UPDATE_INTERVAL_MS = 1000
#: how long the most-traded ranking (an all-symbols 24h ticker, weight 80) is reused by ListResources.
MOST_TRADED_TTL_S = 300.0


def capabilities(environment: str, *, streams_tools: bool = False) -> provider_pb2.Capabilities:
    caps = provider_pb2.Capabilities(
        provider=PROVIDER_NAME,
        version=VERSION,
        environment=environment,
        streams_tools=streams_tools,
        tools=[spec.descriptor() for spec in tool_specs().values()],
        resource_templates=[t.descriptor() for t in resources.TEMPLATES],
        prompts=[p.descriptor() for p in prompts.PROMPTS],
    )
    digest = hashlib.sha256(caps.SerializeToString(deterministic=True)).hexdigest()[:16]
    caps.revision = digest
    return caps


class ProviderServicer(provider_pb2_grpc.ProviderServicer):
    def __init__(self, app: App) -> None:
        self.app = app
        asks = app.settings.trading.confirm.mode.value != "never"
        self._capabilities = capabilities(app.environment, streams_tools=asks)
        self._most_traded: tuple[float, list[str]] | None = None

    async def ListCapabilities(
        self, request: provider_pb2.ListCapabilitiesRequest, context: grpc.aio.ServicerContext
    ) -> provider_pb2.Capabilities:
        return self._capabilities

    async def InvokeTool(
        self, request: provider_pb2.InvokeToolRequest, context: grpc.aio.ServicerContext
    ) -> provider_pb2.InvokeToolResponse:
        return await guarded(context, "InvokeTool", lambda: self._invoke(request), tool=request.name)

    async def _invoke(self, request: provider_pb2.InvokeToolRequest) -> provider_pb2.InvokeToolResponse:
        spec = tool_specs().get(request.name)
        if spec is None:
            raise NotFound(f"unknown tool {request.name!r}; known: {', '.join(tool_specs())}")
        raw = request.arguments_json
        args = parse_arguments_json(raw) if raw else struct_arguments(request.arguments)
        message = from_json(args, spec.request_cls)
        result = await invoke(self.app, spec, message, checked=True)  # from_json checked it
        data = to_json_tables(result)  # a book side stays rows of strings for both forms below
        return provider_pb2.InvokeToolResponse(text=render(spec.name, data), structured_json=dumps(data))

    async def InvokeToolStream(self, request_iterator: object, context: grpc.aio.ServicerContext) -> None:
        """One tool call that may ask the client for input (an order's approval): provider.v1's stream.

        The first frame is `start`; the answer is one `result` frame, or `input_required` (a 2026
        client is asked by result); errors end the call with the same status and details trailer
        as InvokeTool (the error boundary maps them). An order's `input_request` frames are sent by
        `confirm.gate`.
        """
        first = await context.read()
        if isinstance(first, Undecodable):
            raise first.refuse("/provider.v1.Provider/InvokeToolStream")
        if first is grpc.aio.EOF or first.WhichOneof("frame") != "start":
            raise InvalidArgument("the first frame of InvokeToolStream must be start")
        start = first.start
        structlog.contextvars.bind_contextvars(tool=start.request.name[:200])
        call = ToolCall(start.request.name, start.context, context)
        try:
            with confirm.streaming(call):
                reply = await self._invoke(start.request)
        except InputNeeded as needed:
            await context.write(provider_pb2.ToolCallDown(input_required=needed.frame()))
            return
        await context.write(provider_pb2.ToolCallDown(result=reply))

    async def ListResources(
        self, request: provider_pb2.ListResourcesRequest, context: grpc.aio.ServicerContext
    ) -> provider_pb2.ListResourcesResponse:
        async def call() -> provider_pb2.ListResourcesResponse:
            found = await resources.listed(self.app, await self._popular(time.monotonic()))
            return provider_pb2.ListResourcesResponse(resources=[r.descriptor() for r in found])

        return await guarded(context, "ListResources", call)

    async def _popular(self, now: float) -> list[str]:
        if self._most_traded is None or now - self._most_traded[0] > MOST_TRADED_TTL_S:
            self._most_traded = (now, await resources.most_traded(self.app))
        return self._most_traded[1]

    async def ReadResource(
        self, request: provider_pb2.ReadResourceRequest, context: grpc.aio.ServicerContext
    ) -> provider_pb2.ReadResourceResponse:
        async def call() -> provider_pb2.ReadResourceResponse:
            mime, text = await resources.read(self.app, request.uri)
            return provider_pb2.ReadResourceResponse(
                contents=[provider_pb2.ResourceContents(uri=request.uri, mime_type=mime, text=text)]
            )

        return await guarded(context, "ReadResource", call, uri=request.uri)

    async def GetPrompt(
        self, request: provider_pb2.GetPromptRequest, context: grpc.aio.ServicerContext
    ) -> provider_pb2.GetPromptResponse:
        async def call() -> provider_pb2.GetPromptResponse:
            description, messages = await prompts.get(self.app, request.name, dict(request.arguments))
            return provider_pb2.GetPromptResponse(
                description=description,
                messages=[provider_pb2.PromptMessage(role=role, text=text) for role, text in messages],
            )

        return await guarded(context, "GetPrompt", call, prompt=request.name)

    async def Complete(
        self, request: provider_pb2.CompleteRequest, context: grpc.aio.ServicerContext
    ) -> provider_pb2.CompleteResponse:
        async def call() -> provider_pb2.CompleteResponse:
            if request.ref_kind == provider_pb2.CompleteRequest.REF_KIND_RESOURCE:
                values = await resources.complete(self.app, request.ref, request.argument, request.value)
            elif request.ref_kind == provider_pb2.CompleteRequest.REF_KIND_PROMPT:
                values = await prompts.complete(self.app, request.ref, request.argument, request.value)
            else:
                raise InvalidArgument("ref_kind must be REF_KIND_RESOURCE or REF_KIND_PROMPT")
            shown = values[:100]
            return provider_pb2.CompleteResponse(values=shown, total=len(values), has_more=len(values) > len(shown))

        return await guarded(context, "Complete", call)

    async def SubscribeResourceUpdates(
        self, request: provider_pb2.SubscribeResourceUpdatesRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[provider_pb2.ResourceUpdate]:
        """Yields when a URI's fingerprint changes: checked on every live-account change (push) and at
        least every interval; never more often than the minimum interval (the bounded rate).

        A URI whose read would be refused (unknown, not subscribable, an unknown symbol or status) is
        refused here with the same error (the boundary maps it), instead of polling in vain forever.
        Once every URI is accepted the response headers go out at once (not with the first update),
        so a caller can tell an accepted subscription from a refused one without waiting for a change.
        """
        interval_ms = max(MIN_UPDATE_INTERVAL_MS, request.min_interval_ms or DEFAULT_UPDATE_INTERVAL_MS)
        uris = list(dict.fromkeys(request.uris))
        for uri in uris:
            await resources.check_subscription(self.app, uri)
        await context.send_initial_metadata(())
        last: dict[str, str] = {}
        while True:
            for uri in uris:
                try:
                    fingerprint = await resources.fingerprint(self.app, uri)
                except Exception as exc:  # a failed poll is retried on the next tick, and logged
                    log.info("subscription_poll_failed", uri=uri, error=str(exc))
                    continue
                if uri in last and fingerprint != last[uri]:
                    yield provider_pb2.ResourceUpdate(uri=uri, time_ms=int(time.time() * 1000))
                last[uri] = fingerprint
            await asyncio.sleep(MIN_UPDATE_INTERVAL_MS / 1000)
            await resources.wait_change(self.app, (interval_ms - MIN_UPDATE_INTERVAL_MS) / 1000)
