"""The fixture provider's provider.v1 servicer and its gRPC server (health included).

Resources, templates and prompts mirror the conformance suite's fixture server; the tools are in
`fixture_provider/tools.py`. `create_server(listen)` returns the started server and its port.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
import grpc.aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from contracts.provider.v1 import provider_pb2, provider_pb2_grpc
from fixture_provider.tools import DYNAMIC_TOOL, IMAGE_PNG, Tool, catalog_tools
from provider_kit import ToolHandler, embedded, image, serve_tool_stream, text, unary_reply

__all__ = ["PROVIDER_NAME", "FixtureProvider", "create_server"]

PROVIDER_NAME = "fixture"
VERSION = "0.1.0"
WATCHED_URI = "test://watched-resource"
WATCHED_PERIOD_S = 3.0
TEMPLATE = "test://template/{id}/data"


@dataclass(frozen=True)
class _Resource:
    uri: str
    name: str
    title: str
    description: str
    mime_type: str
    text: str = ""
    blob: bytes = b""
    subscribable: bool = False

    def descriptor(self) -> provider_pb2.ResourceDescriptor:
        return provider_pb2.ResourceDescriptor(
            uri=self.uri,
            name=self.name,
            title=self.title,
            description=self.description,
            mime_type=self.mime_type,
            subscribable=self.subscribable,
        )

    def contents(self) -> provider_pb2.ResourceContents:
        return provider_pb2.ResourceContents(uri=self.uri, mime_type=self.mime_type, text=self.text, blob=self.blob)


RESOURCES = (
    _Resource(
        "test://static-text",
        "static-text",
        "Static Text Resource",
        "A static text resource for testing",
        "text/plain",
        text="This is the content of the static text resource.",
    ),
    _Resource(
        "test://static-binary",
        "static-binary",
        "Static Binary Resource",
        "A static binary resource (image) for testing",
        "image/png",
        blob=IMAGE_PNG,
    ),
    _Resource(
        WATCHED_URI,
        "watched-resource",
        "Watched Resource",
        "A resource that changes every 3 seconds while subscribed",
        "text/plain",
        text="Watched resource content",
        subscribable=True,
    ),
    _Resource(
        "test://stateless-static-text",
        "stateless-static-text",
        "Stateless Static Text",
        "A static text resource served on the draft path",
        "text/plain",
        text="Static text content from the stateless draft path.",
    ),
)


def _argument(name: str, description: str) -> provider_pb2.ArgumentDescriptor:
    return provider_pb2.ArgumentDescriptor(name=name, description=description, required=True)


PROMPTS = (
    provider_pb2.PromptDescriptor(
        name="test_simple_prompt", title="Simple Test Prompt", description="A simple prompt without arguments"
    ),
    provider_pb2.PromptDescriptor(
        name="test_prompt_with_arguments",
        title="Prompt With Arguments",
        description="A prompt with required arguments",
        arguments=[_argument("arg1", "First test argument"), _argument("arg2", "Second test argument")],
    ),
    provider_pb2.PromptDescriptor(
        name="test_prompt_with_embedded_resource",
        title="Prompt With Embedded Resource",
        description="A prompt that includes an embedded resource",
        arguments=[_argument("resourceUri", "URI of the resource to embed")],
    ),
    provider_pb2.PromptDescriptor(
        name="test_prompt_with_image", title="Prompt With Image", description="A prompt that includes image content"
    ),
    provider_pb2.PromptDescriptor(
        name="test_input_required_result_prompt", description="MRTR: prompt that requires elicitation input"
    ),
)
DYNAMIC_PROMPT = provider_pb2.PromptDescriptor(
    name="test_dynamic_prompt", description="Appears and disappears with test_trigger_prompt_change"
)


def _user(block: provider_pb2.ContentBlock) -> provider_pb2.PromptMessage:
    return provider_pb2.PromptMessage(role="user", content=block)


def _render(
    name: str, args: dict[str, str], context: provider_pb2.CallContext
) -> provider_pb2.GetPromptResponse | None:
    if name == "test_simple_prompt":
        return provider_pb2.GetPromptResponse(messages=[_user(text("This is a simple prompt for testing."))])
    if name == "test_prompt_with_arguments":
        said = f"Prompt with arguments: arg1='{args.get('arg1')}', arg2='{args.get('arg2')}'"
        return provider_pb2.GetPromptResponse(messages=[_user(text(said))])
    if name == "test_prompt_with_embedded_resource":
        resource = embedded(args.get("resourceUri", ""), "text/plain", text="Embedded resource content for testing.")
        follow = text("Please process the embedded resource above.")
        return provider_pb2.GetPromptResponse(messages=[_user(resource), _user(follow)])
    if name == "test_prompt_with_image":
        messages = [_user(image(IMAGE_PNG, "image/png")), _user(text("Please analyze the image above."))]
        return provider_pb2.GetPromptResponse(messages=messages)
    if name == "test_input_required_result_prompt":
        return _prompt_with_input(context)
    if name == DYNAMIC_PROMPT.name:
        return provider_pb2.GetPromptResponse(messages=[_user(text("Dynamic prompt."))])
    return None


def _prompt_with_input(context: provider_pb2.CallContext) -> provider_pb2.GetPromptResponse:
    for response in context.input_responses:
        if response.key == "user_context" and response.result_json:
            content = json.loads(response.result_json).get("content") or {}
            said = content.get("context") if isinstance(content, dict) else None
            return provider_pb2.GetPromptResponse(
                messages=[_user(text(f"Prompt with context: {said if isinstance(said, str) else 'unknown'}"))]
            )
    schema = {"type": "object", "properties": {"context": {"type": "string"}}, "required": ["context"]}
    request = provider_pb2.InputRequest(
        key="user_context",
        method="elicitation/create",
        params_json=json.dumps({"message": "What context should the prompt use?", "requestedSchema": schema}),
    )
    return provider_pb2.GetPromptResponse(input_required=provider_pb2.InputRequired(requests=[request]))


class FixtureProvider(provider_pb2_grpc.ProviderServicer):
    """provider.v1 for the conformance fixture: tools, resources, prompts, catalog changes."""

    def __init__(self) -> None:
        self._tools: dict[str, Tool] = {t.name: t for t in catalog_tools(self._toggle_tool, self._toggle_prompt)}
        self._dynamic_tool = False
        self._dynamic_prompt = False
        self._revision = 1
        self._watchers: set[asyncio.Queue[provider_pb2.CatalogChanged]] = set()

    # -- catalog -----------------------------------------------------------------------------

    def _find(self, name: str) -> ToolHandler | None:
        tool = self._tools.get(name)
        if tool is None and self._dynamic_tool and name == DYNAMIC_TOOL.name:
            tool = DYNAMIC_TOOL
        return tool.handler if tool is not None else None

    def _changed(self) -> None:
        self._revision += 1
        for queue in self._watchers:
            queue.put_nowait(provider_pb2.CatalogChanged(revision=str(self._revision)))

    def _toggle_tool(self) -> None:
        self._dynamic_tool = not self._dynamic_tool
        self._changed()

    def _toggle_prompt(self) -> None:
        self._dynamic_prompt = not self._dynamic_prompt
        self._changed()

    async def ListCapabilities(
        self, request: provider_pb2.ListCapabilitiesRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> provider_pb2.Capabilities:
        tools = [t.descriptor() for t in self._tools.values()]
        if self._dynamic_tool:
            tools.append(DYNAMIC_TOOL.descriptor())
        prompts = [*PROMPTS, *([DYNAMIC_PROMPT] if self._dynamic_prompt else [])]
        template = provider_pb2.ResourceTemplateDescriptor(
            uri_template=TEMPLATE,
            name="template",
            title="Resource Template",
            description="A resource template with parameter substitution",
            mime_type="application/json",
            variables=[provider_pb2.ArgumentDescriptor(name="id", description="Any id", required=True)],
        )
        return provider_pb2.Capabilities(
            provider=PROVIDER_NAME,
            version=VERSION,
            revision=str(self._revision),
            tools=tools,
            resource_templates=[template],
            prompts=prompts,
            environment="fixture",
            streams_tools=True,
            watches_catalog=True,
        )

    async def WatchCatalog(
        self, request: provider_pb2.WatchCatalogRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[provider_pb2.CatalogChanged]:
        queue: asyncio.Queue[provider_pb2.CatalogChanged] = asyncio.Queue()
        self._watchers.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._watchers.discard(queue)

    # -- tools -------------------------------------------------------------------------------

    async def InvokeToolStream(self, request_iterator: Any, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        await serve_tool_stream(context, self._find)

    async def InvokeTool(
        self, request: provider_pb2.InvokeToolRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> provider_pb2.InvokeToolResponse:
        return await unary_reply(request, context, self._find)

    # -- resources ---------------------------------------------------------------------------

    async def ListResources(
        self, request: provider_pb2.ListResourcesRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> provider_pb2.ListResourcesResponse:
        return provider_pb2.ListResourcesResponse(resources=[r.descriptor() for r in RESOURCES])

    async def ReadResource(
        self, request: provider_pb2.ReadResourceRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> provider_pb2.ReadResourceResponse:
        for resource in RESOURCES:
            if resource.uri == request.uri:
                return provider_pb2.ReadResourceResponse(contents=[resource.contents()])
        prefix, suffix = TEMPLATE.split("{id}")
        if request.uri.startswith(prefix) and request.uri.endswith(suffix):
            item = request.uri[len(prefix) : -len(suffix)]
            data = json.dumps({"id": item, "templateTest": True, "data": f"Data for ID: {item}"})
            contents = provider_pb2.ResourceContents(uri=request.uri, mime_type="application/json", text=data)
            return provider_pb2.ReadResourceResponse(contents=[contents])
        await context.abort(grpc.StatusCode.NOT_FOUND, f"no resource {request.uri}")
        raise AssertionError("unreachable")

    async def SubscribeResourceUpdates(
        self, request: provider_pb2.SubscribeResourceUpdatesRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[provider_pb2.ResourceUpdate]:
        if any(uri != WATCHED_URI for uri in request.uris):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"only {WATCHED_URI} can be subscribed")
        await context.send_initial_metadata(())  # accepted: a gateway need not wait for the first update
        while True:
            await asyncio.sleep(WATCHED_PERIOD_S)
            yield provider_pb2.ResourceUpdate(uri=WATCHED_URI, time_ms=int(time.time() * 1000))

    # -- prompts and completion --------------------------------------------------------------

    async def GetPrompt(
        self, request: provider_pb2.GetPromptRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> provider_pb2.GetPromptResponse:
        if request.name == DYNAMIC_PROMPT.name and not self._dynamic_prompt:
            rendered = None
        else:
            rendered = _render(request.name, dict(request.arguments), request.context)
        if rendered is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no prompt {request.name}")
            raise AssertionError("unreachable")
        return rendered

    async def Complete(
        self, request: provider_pb2.CompleteRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> provider_pb2.CompleteResponse:
        return provider_pb2.CompleteResponse(values=[], total=0, has_more=False)


async def create_server(listen: str = "127.0.0.1:0") -> tuple[grpc.aio.Server, int]:
    """Start the fixture provider on `listen` (port 0: any free port); returns the server and port."""
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    add: Any = provider_pb2_grpc.add_ProviderServicer_to_server
    add(FixtureProvider(), server)
    checker = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(checker, server)
    port = server.add_insecure_port(listen)
    if port == 0:
        raise RuntimeError(f"cannot listen on {listen}")
    await server.start()
    await checker.set("", health_pb2.HealthCheckResponse.SERVING)
    return server, port
