"""The MCP face of the gateway: a low-level SDK `Server` whose handlers route to providers.

Every handler catches everything. Tool failures become `isError` results that state the cause;
protocol errors (unknown tool, unknown prompt) are `MCPError` -32602; an unknown resource is
-32002 for handshake-era sessions (the spec up to 2025-11-25) and -32602 from 2026-07-28 on
(SEP-2164), with the URI in `data`; anything unexpected is logged with its correlation id and
answered with a bare -32603 that leaks nothing.

Each MCP request gets a fresh correlation id, bound to every log line of the request and sent to
the provider as gRPC metadata `x-correlation-id`.

Change notifications reach both protocol eras: handshake sessions are captured by a middleware
and sent `notifications/*/list_changed`; 2026 listen streams get events from a subscription bus.

`logging/setLevel` (handshake era) is honoured: from then on the session gets the gateway's own
log events at or above that level as `notifications/message` (see `gateway/logforward.py`).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, TypeVar

import grpc.aio
import mcp_types as types
import structlog
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.lowlevel.server import NotificationOptions, Server
from mcp.server.models import InitializationOptions
from mcp.server.request_state import RequestStateBoundary, RequestStateSecurity
from mcp.server.session import ServerSession
from mcp.server.subscriptions import (
    InMemorySubscriptionBus,
    ListenHandler,
    PromptsListChanged,
    ResourcesListChanged,
    ToolsListChanged,
)
from mcp.shared.exceptions import MCPError
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from contracts.provider.v1 import provider_pb2
from gateway import __version__
from gateway.catalog import TemplateRoute, ToolRoute
from gateway.content import prompt_messages, resource_contents
from gateway.errors import protocol_error, tool_error_result
from gateway.logforward import LogForwarder
from gateway.logs import add_tap, remove_tap
from gateway.names import ToolNames
from gateway.providers import CatalogChange, ProviderRegistry
from gateway.subscriptions import ResourceSubscriptions, connection_key
from gateway.toolcall import CallSite, StreamedCall, answer_unary, tool_result

__all__ = ["Gateway", "current_correlation_id"]

log = structlog.get_logger("gateway.server")

INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
#: resource not found up to 2025-11-25; 2026-07-28 retired it for -32602 (SEP-2164).
RESOURCE_NOT_FOUND = -32002
_MAX_COMPLETIONS = 100

_correlation: ContextVar[str | None] = ContextVar("gateway_correlation_id", default=None)

Ctx = ServerRequestContext[Any, Any]
R = TypeVar("R")


def current_correlation_id() -> str:
    """The id of the MCP request being served (a fresh one outside a request)."""
    return _correlation.get() or uuid.uuid4().hex


def _guard(
    what: str,
) -> Callable[[Callable[[Ctx, Any], Awaitable[R]]], Callable[[Ctx, Any], Awaitable[R]]]:
    """Let MCPError through; turn anything else into a logged, leak-free -32603."""

    def wrap(fn: Callable[[Ctx, Any], Awaitable[R]]) -> Callable[[Ctx, Any], Awaitable[R]]:
        async def handler(ctx: Ctx, params: Any) -> R:
            try:
                return await fn(ctx, params)
            except MCPError:
                raise
            except Exception as exc:
                cid = current_correlation_id()
                log.exception("handler_failed", what=what)
                raise MCPError(INTERNAL_ERROR, f"Internal gateway error in {what} (correlation id {cid})") from exc

        return handler

    return wrap


class _GatewayServer(Server[Any]):
    """A low-level Server whose default options advertise list-changed for every list.

    Transports that build the options themselves (in-process client, Streamable HTTP) call
    `create_initialization_options()` without arguments; the gateway's answer must not depend
    on the transport.
    """

    def create_initialization_options(
        self,
        notification_options: NotificationOptions | None = None,
        experimental_capabilities: dict[str, dict[str, Any]] | None = None,
        extensions: dict[str, dict[str, Any]] | None = None,
    ) -> InitializationOptions:
        return super().create_initialization_options(
            notification_options
            or NotificationOptions(tools_changed=True, resources_changed=True, prompts_changed=True),
            experimental_capabilities,
            extensions,
        )

    def get_capabilities(
        self,
        notification_options: NotificationOptions | None = None,
        experimental_capabilities: dict[str, dict[str, Any]] | None = None,
        extensions: dict[str, dict[str, Any]] | None = None,
        *,
        protocol_version: str | None = None,
    ) -> types.ServerCapabilities:
        caps = super().get_capabilities(
            notification_options, experimental_capabilities, extensions, protocol_version=protocol_version
        )
        if protocol_version in MODERN_PROTOCOL_VERSIONS:
            # logging/setLevel is gone in 2026-07-28 (the SDK answers it -32601): do not claim it.
            caps = caps.model_copy(update={"logging": None})
        return caps


class Gateway:
    """Routes MCP requests to providers through the registry's catalog."""

    def __init__(self, registry: ProviderRegistry, *, name: str = "mcp-gateway") -> None:
        self.registry = registry
        self.bus = InMemorySubscriptionBus()
        self._listen = ListenHandler(self.bus)
        self.subscriptions = ResourceSubscriptions(registry, self.bus)
        self._sessions: dict[object, ServerSession] = {}
        registry.add_listener(self._on_catalog_change)
        self.server: Server[Any] = _GatewayServer(
            name,
            version=__version__,
            instructions=self._instructions(),
            on_list_tools=_guard("tools/list")(self._list_tools),
            on_call_tool=self._call_tool,
            on_list_resources=_guard("resources/list")(self._list_resources),
            on_list_resource_templates=_guard("resources/templates/list")(self._list_templates),
            on_read_resource=_guard("resources/read")(self._read_resource),
            on_subscribe_resource=_guard("resources/subscribe")(self._subscribe),
            on_unsubscribe_resource=_guard("resources/unsubscribe")(self._unsubscribe),
            on_subscriptions_listen=self._subscriptions_listen,
            on_list_prompts=_guard("prompts/list")(self._list_prompts),
            on_get_prompt=_guard("prompts/get")(self._get_prompt),
            on_completion=_guard("completion/complete")(self._complete),
            # 2026-07-28 `Mcp-Param-*` header checks (SEP-2243) read the tool's schema from here.
            get_tool_input_schema=self._tool_input_schema,
        )
        # Registered here, not as on_set_logging_level: that argument warns that logging is
        # deprecated in 2026-07-28, but handshake-era clients (Claude Code, the Inspector) use it.
        self.server.add_request_handler("logging/setLevel", types.SetLevelRequestParams, self._set_level)
        self.logs = LogForwarder(connection_key)
        add_tap(self.logs.offer)
        self.server.middleware.append(self._middleware)
        # 2026-07-28 input_required rounds: the requestState a client carries is sealed (AES-GCM,
        # MCP_GATEWAY_STATE_KEYS or a key of this process) and bound to its request, so it can be
        # neither read nor altered.
        keys = registry.settings.state_keys
        security = RequestStateSecurity(keys=list(keys)) if keys else RequestStateSecurity.ephemeral()
        self.server.middleware.append(RequestStateBoundary(security, default_audience=name))

    def initialization_options(self) -> InitializationOptions:
        """Options for `Server.run`, advertising list-changed support for every list."""
        return self.server.create_initialization_options()

    async def close(self) -> None:
        """Close listen streams, provider update streams and log forwarding."""
        remove_tap(self.logs.offer)
        await self.logs.close()
        self._listen.close()
        await self.subscriptions.close()

    def _instructions(self) -> str:
        names = ", ".join(sorted(self.registry.links))
        form = "<provider>.<tool>" if self.registry.settings.tool_names is ToolNames.DOTTED else "<provider>_<tool>"
        return (
            f"Gateway to capability providers ({names}). Tool names are namespaced by provider "
            f"('{form}'); resource URIs use each provider's own scheme."
        )

    # -- middleware: correlation id, request log, session capture --------------------------

    async def _middleware(self, ctx: Ctx, call_next: CallNext) -> HandlerResult:
        if ctx.request_id is None:  # a notification
            if ctx.method == "notifications/initialized":
                self._sessions[connection_key(ctx.session)] = ctx.session
            return await call_next(ctx)
        cid = uuid.uuid4().hex
        token = _correlation.set(cid)
        start = time.perf_counter()
        if ctx.method != "initialize" and ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS:
            self._sessions.setdefault(connection_key(ctx.session), ctx.session)
        with structlog.contextvars.bound_contextvars(correlation_id=cid, method=ctx.method):
            try:
                result = await call_next(ctx)
            except MCPError as exc:
                log.info("mcp_request", ms=_ms(start), error_code=exc.code, error=_log_text(exc.message))
                raise
            except Exception:
                log.exception("mcp_request_failed", ms=_ms(start))
                raise
            finally:
                _correlation.reset(token)
            log.info("mcp_request", ms=_ms(start))
            return result

    async def _set_level(self, ctx: Ctx, params: types.SetLevelRequestParams) -> types.EmptyResult:
        self.logs.set_level(ctx.session, params.level)
        log.info("logging_level_set", level=params.level)
        return types.EmptyResult()

    # -- change notifications --------------------------------------------------------------

    async def _on_catalog_change(self, change: CatalogChange) -> None:
        for key, session in list(self._sessions.items()):
            try:
                if change.tools:
                    await session.send_tool_list_changed()
                if change.resources:
                    await session.send_resource_list_changed()
                if change.prompts:
                    await session.send_prompt_list_changed()
            except Exception as exc:  # a gone client must not stop the others
                log.info("session_dropped", error=type(exc).__name__)
                self._sessions.pop(key, None)
        if change.tools:
            await self.bus.publish(ToolsListChanged())
        if change.resources:
            await self.bus.publish(ResourcesListChanged())
        if change.prompts:
            await self.bus.publish(PromptsListChanged())

    # -- tools -----------------------------------------------------------------------------

    async def _list_tools(self, ctx: Ctx, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[r.tool for r in self.registry.catalog.tools.values()])

    def _tool_input_schema(self, name: str) -> dict[str, Any] | None:
        route = self.registry.catalog.tool(name)
        return route.tool.input_schema if route is not None else None

    async def _call_tool(
        self, ctx: Ctx, params: types.CallToolRequestParams
    ) -> types.CallToolResult | types.InputRequiredResult:
        # Listed name or its other form (binance_get_ticker / binance.get_ticker): see gateway/names.py.
        route = self.registry.catalog.tool(params.name)
        if route is None:
            raise MCPError(
                INVALID_PARAMS,
                f"Unknown tool: {params.name}",
                {"name": params.name, "available": sorted(self.registry.catalog.tools)},
            )
        try:
            return await self._forward_tool(ctx, route, params)
        except MCPError:
            raise  # a bad requestState, a capability the client lacks (2026): protocol errors
        except Exception:
            cid = current_correlation_id()
            log.exception("tool_call_failed", tool=params.name)
            return _error_text(f"{params.name} failed inside the gateway (correlation id {cid}).")

    def _site(self, ctx: Ctx) -> CallSite:
        return CallSite(ctx, self.registry.settings.input_timeout_s, self.logs.level_of(ctx.session))

    async def _forward_tool(
        self, ctx: Ctx, route: ToolRoute, params: types.CallToolRequestParams
    ) -> types.CallToolResult | types.InputRequiredResult:
        name = route.tool.name
        arguments = params.arguments or {}
        problems = route.validator.problems(arguments)
        if problems is not None:
            log.info("tool_arguments_invalid", tool=name)
            return _error_text(f"{name}: {problems}")
        link = self.registry.links[route.provider]
        annotations = route.tool.annotations
        idempotent = bool(annotations and (annotations.read_only_hint or annotations.idempotent_hint))
        timeout_s = self.registry.timeout_s(route.timeout_ms)
        # JSON text, not a Struct: a Struct would turn every number into a double (ids above 2^53 change).
        arguments_json = json.dumps(arguments, allow_nan=False)
        cid = current_correlation_id()

        async def unary() -> types.CallToolResult:
            resp = await link.invoke(route.remote_name, arguments_json, timeout_s, cid, retry_safe=idempotent)
            return tool_result(resp)

        try:
            if not link.streams_tools:
                # What StreamedCall.run does first for such a provider, without building its CallSite.
                return await unary()
            call = StreamedCall(
                link, self._site(ctx), name, route.remote_name, arguments_json, timeout_s, cid, idempotent, unary
            )
            return await call.run(params)
        except grpc.aio.AioRpcError as exc:
            log.info("tool_failed", tool=name, provider=link.name, status=exc.code().name)
            return tool_error_result(link.name, name, exc, idempotent=idempotent)

    # -- resources -------------------------------------------------------------------------

    async def _list_resources(self, ctx: Ctx, params: types.PaginatedRequestParams | None) -> types.ListResourcesResult:
        # Listed resources age with the providers' state: re-list when older than a few seconds.
        await self.registry.fresh_resources()
        return types.ListResourcesResult(resources=[r.resource for r in self.registry.catalog.resources.values()])

    async def _list_templates(
        self, ctx: Ctx, params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(
            resource_templates=[r.template for r in self.registry.catalog.templates]
        )

    def _route_uri(self, ctx: Ctx, uri: str) -> TemplateRoute:
        route = self.registry.catalog.template_for(uri)
        if route is None:
            raise _resource_not_found(ctx, f"Resource not found: {uri}", {"uri": uri})
        return route

    def _reader_of(self, ctx: Ctx, uri: str) -> tuple[str, str | None]:
        """The provider that reads `uri` (a listed resource first, else a template) and its MIME type."""
        listed = self.registry.catalog.resources.get(uri)
        if listed is not None:
            return listed.provider, listed.resource.mime_type
        route = self._route_uri(ctx, uri)
        return route.provider, route.template.mime_type

    async def _read_resource(
        self, ctx: Ctx, params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult | types.InputRequiredResult:
        uri = str(params.uri)
        provider, mime_type = self._reader_of(ctx, uri)
        link = self.registry.links[provider]

        async def read(context: provider_pb2.CallContext) -> provider_pb2.ReadResourceResponse:
            return await link.read_resource(uri, self.registry.timeout_s(0), current_correlation_id(), context)

        try:
            resp = await answer_unary(
                self._site(ctx), params.request_state, params.input_responses, read, _input_required_of
            )
        except grpc.aio.AioRpcError as exc:
            raise _uri_failure(ctx, f"Reading {uri}", uri, exc) from exc
        if isinstance(resp, types.InputRequiredResult):
            return resp
        return types.ReadResourceResult(contents=[resource_contents(c, uri, mime_type) for c in resp.contents])

    async def _subscribe(self, ctx: Ctx, params: types.SubscribeRequestParams) -> types.EmptyResult:
        uri = str(params.uri)
        if self.registry.catalog.subscribable_owner(uri) is None:
            self._reader_of(ctx, uri)  # unknown: resource not found
            raise MCPError(INVALID_PARAMS, f"Resource does not support subscriptions: {uri}", {"uri": uri})
        try:
            await self.subscriptions.subscribe(uri, ctx.session)
        except grpc.aio.AioRpcError as exc:
            raise _uri_failure(ctx, f"Subscribing to {uri}", uri, exc) from exc
        return types.EmptyResult()

    async def _unsubscribe(self, ctx: Ctx, params: types.UnsubscribeRequestParams) -> types.EmptyResult:
        self.subscriptions.unsubscribe(str(params.uri), ctx.session)
        return types.EmptyResult()

    async def _subscriptions_listen(
        self, ctx: Ctx, params: types.SubscriptionsListenRequestParams
    ) -> types.SubscriptionsListenResult:
        asked = [u for u in dict.fromkeys(params.notifications.resource_subscriptions or [])
                 if self.registry.catalog.subscribable_owner(u) is not None]
        listens = [asyncio.ensure_future(self.subscriptions.listen(u)) for u in asked]
        try:
            verdicts = await asyncio.gather(*listens, return_exceptions=True)
        except asyncio.CancelledError:  # the client gave up: the URIs accepted before that are released too
            for done in (t for t in listens if t.done() and not t.cancelled() and t.exception() is None):
                if (release := done.result()) is not None:
                    release()
            raise
        releases = [r for r in verdicts if callable(r)]
        try:
            for failure in (r for r in verdicts if isinstance(r, BaseException)):
                raise failure
            # the acknowledgement names only the URIs that will be honoured (unknown or refused: left out)
            honored = [u for u, r in zip(asked, verdicts, strict=True) if callable(r)]
            notifications = params.notifications.model_copy(update={"resource_subscriptions": honored or None})
            return await self._listen(ctx, params.model_copy(update={"notifications": notifications}))
        finally:
            for release in releases:
                release()

    # -- prompts and completion ------------------------------------------------------------

    async def _list_prompts(self, ctx: Ctx, params: types.PaginatedRequestParams | None) -> types.ListPromptsResult:
        return types.ListPromptsResult(prompts=[r.prompt for r in self.registry.catalog.prompts.values()])

    async def _get_prompt(
        self, ctx: Ctx, params: types.GetPromptRequestParams
    ) -> types.GetPromptResult | types.InputRequiredResult:
        route = self.registry.catalog.prompts.get(params.name)
        if route is None:
            raise MCPError(INVALID_PARAMS, f"Unknown prompt: {params.name}", {"name": params.name})
        args = dict(params.arguments or {})
        missing = [a.name for a in route.prompt.arguments or [] if a.required and a.name not in args]
        if missing:
            raise MCPError(
                INVALID_PARAMS,
                f"Missing required prompt arguments: {missing}",
                {"name": params.name, "missing": missing},
            )
        link = self.registry.links[route.provider]

        async def render(context: provider_pb2.CallContext) -> provider_pb2.GetPromptResponse:
            return await link.get_prompt(
                route.remote_name, args, self.registry.timeout_s(0), current_correlation_id(), context
            )

        try:
            resp = await answer_unary(
                self._site(ctx), params.request_state, params.input_responses, render, _input_required_of
            )
        except grpc.aio.AioRpcError as exc:
            raise protocol_error(f"Prompt {params.name}", exc) from exc
        if isinstance(resp, types.InputRequiredResult):
            return resp
        return types.GetPromptResult(
            description=resp.description or route.prompt.description, messages=prompt_messages(resp.messages)
        )

    async def _complete(self, ctx: Ctx, params: types.CompleteRequestParams) -> types.CompleteResult:
        catalog = self.registry.catalog
        ref = params.ref
        if isinstance(ref, types.PromptReference):
            prompt = catalog.prompts.get(ref.name)
            if prompt is None:
                raise MCPError(INVALID_PARAMS, f"Unknown prompt: {ref.name}", {"name": ref.name})
            provider, remote = prompt.provider, prompt.remote_name
            kind = provider_pb2.CompleteRequest.REF_KIND_PROMPT
        else:
            template = catalog.template_by_uri_template(ref.uri) or catalog.template_for(ref.uri)
            if template is None:
                raise MCPError(INVALID_PARAMS, f"Unknown resource template: {ref.uri}", {"uri": ref.uri})
            provider, kind = template.provider, provider_pb2.CompleteRequest.REF_KIND_RESOURCE
            remote = template.template.uri_template
        request = provider_pb2.CompleteRequest(
            ref_kind=kind,
            ref=remote,
            argument=params.argument.name,
            value=params.argument.value,
            context=dict((params.context.arguments or {}) if params.context else {}),
        )
        try:
            resp = await self.registry.links[provider].complete(
                request, self.registry.timeout_s(0), current_correlation_id()
            )
        except grpc.aio.AioRpcError as exc:
            raise protocol_error("Completion", exc) from exc
        values = list(resp.values)[:_MAX_COMPLETIONS]
        total = resp.total or None
        has_more = resp.has_more or len(resp.values) > len(values)
        return types.CompleteResult(completion=types.Completion(values=values, total=total, has_more=has_more))


def _input_required_of(
    resp: provider_pb2.GetPromptResponse | provider_pb2.ReadResourceResponse,
) -> provider_pb2.InputRequired | None:
    return resp.input_required if resp.HasField("input_required") else None


def _resource_not_found(ctx: Ctx, message: str, data: dict[str, Any]) -> MCPError:
    modern = ctx.protocol_version in MODERN_PROTOCOL_VERSIONS
    return MCPError(INVALID_PARAMS if modern else RESOURCE_NOT_FOUND, message, data)


def _uri_failure(ctx: Ctx, doing: str, uri: str, exc: grpc.aio.AioRpcError) -> MCPError:
    """A provider's failure on a resource URI as the client's error: not found (by protocol era) or
    the status mapped, with the URI in the data."""
    err = protocol_error(doing, exc)
    data = {**(err.data or {}), "uri": uri}
    if exc.code() is grpc.StatusCode.NOT_FOUND:
        return _resource_not_found(ctx, err.message, data)
    return MCPError(err.code, err.message, data)


def _error_text(text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=True)


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)


#: the longest error text a log line carries (a message quoting a client's megabyte URI is cut)
_LOG_TEXT_MAX = 2000


def _log_text(text: str) -> str:
    """``text`` cut for a log line: an error may quote the request (a URI) at any length."""
    if len(text) <= _LOG_TEXT_MAX:
        return text
    half = _LOG_TEXT_MAX // 2
    return f"{text[:half]}...({len(text) - 2 * half} chars cut)...{text[-half:]}"
