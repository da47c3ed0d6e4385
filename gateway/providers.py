"""Links to providers: health, discovery, rediscovery, and the calls themselves.

A `ProviderLink` owns one provider's control channel (health watch and ListCapabilities) and its
call pool. A `ProviderRegistry` owns every link, merges their snapshots into the routed
`Catalog`, and tells listeners which lists changed.

Rediscovery: each link watches `grpc.health.v1.Health/Watch` on its control channel (falling back
to polling `Check` when Watch is unimplemented). A transition to SERVING re-lists capabilities; a
periodic re-listing catches catalog changes that no health transition announces. A provider that
is down keeps its last catalog: calls to it answer "unreachable" until it returns.

A provider whose capabilities say `watches_catalog` also streams `WatchCatalog` events: each one
re-lists it at once (list-changed notifications follow within milliseconds, not at the next
periodic re-listing).

Concrete resources (`ListResources`) change with the provider's state, so they are re-listed with
the capabilities and, when a client asks for `resources/list`, whenever the last listing is older
than `RESOURCE_LIST_TTL_S`. A failed listing keeps the previous list; a provider that does not
implement ListResources lists none (asked again after its next discovery).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import grpc
import grpc.aio
import structlog
from google.protobuf import json_format, struct_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from common.backoff import Backoff
from contracts.provider.v1 import provider_pb2, provider_pb2_grpc
from gateway.arguments import ArgumentValidator
from gateway.catalog import Catalog, ProviderSnapshot, build_catalog
from gateway.errors import details_from_metadata
from gateway.pool import ChannelPool, channel_factory
from gateway.settings import GatewaySettings, ProviderTarget

__all__ = ["RESOURCE_LIST_TTL_S", "CatalogChange", "ProviderLink", "ProviderRegistry", "correlation_metadata"]

log = structlog.get_logger("gateway.providers")

# The generated stub is untyped; one typed alias keeps mypy's no-untyped-call quiet.
_ProviderStub = cast("Callable[[grpc.aio.Channel], Any]", provider_pb2_grpc.ProviderStub)

CORRELATION_KEY = "x-correlation-id"
_LIST_TIMEOUT_S = 5.0
_QUICK_CHECK_S = 1.0
_LIST_RESOURCES_TIMEOUT_S = 10.0
#: a `resources/list` older than this is re-listed from the providers before it is answered.
RESOURCE_LIST_TTL_S = 10.0
_RETRY = Backoff(base_s=0.25, cap_s=2.0)  # jittered: 0.25, 0.5, 1, 2 s at most
_RNG = random.Random()


def correlation_metadata(correlation_id: str) -> tuple[tuple[str, str], ...]:
    """gRPC metadata carrying the MCP request's correlation id."""
    return ((CORRELATION_KEY, correlation_id),)


@dataclass(frozen=True, slots=True)
class CatalogChange:
    """Which client-visible lists changed in a rebuild."""

    tools: bool
    resources: bool
    prompts: bool

    def __bool__(self) -> bool:
        return self.tools or self.resources or self.prompts


class ProviderLink:
    """One provider: control channel, call pool, last known capabilities and health."""

    def __init__(self, target: ProviderTarget, pool_size: int) -> None:
        self.target = target
        self.name = target.name
        self._open = channel_factory(target)
        self._control = self._open()
        self._health = health_pb2_grpc.HealthStub(self._control)
        self._control_stub = _ProviderStub(self._control)
        self.pool = ChannelPool(pool_size, self._open)
        self.snapshot: ProviderSnapshot | None = None
        self.serving = False
        self.discovered = asyncio.Event()
        self.listed: tuple[provider_pb2.ResourceDescriptor, ...] = ()
        """The concrete resources of the last successful ListResources."""
        self.listing_tried_at: float | None = None
        """Monotonic time of the last ListResources attempt (successful or not)."""
        self.listing_lock = asyncio.Lock()
        self._lists_resources = True
        self.streams_tools = False
        """The provider implements InvokeToolStream (its capabilities say so, and it never answered
        UNIMPLEMENTED since its last discovery)."""

    # -- discovery -------------------------------------------------------------------------

    async def discover(self) -> bool:
        """List capabilities; True when a snapshot was obtained."""
        try:
            caps = await self._control_stub.ListCapabilities(
                provider_pb2.ListCapabilitiesRequest(), timeout=_LIST_TIMEOUT_S, wait_for_ready=True
            )
        except grpc.aio.AioRpcError as exc:
            log.warning(
                "list_capabilities_failed",
                provider=self.name,
                status=exc.code().name,
                detail=exc.details(),
            )
            return False
        self.snapshot = ProviderSnapshot(self.name, caps)
        self._lists_resources = True
        self.streams_tools = caps.streams_tools
        self.discovered.set()
        log.info(
            "provider_discovered",
            provider=self.name,
            version=caps.version,
            revision=caps.revision,
            environment=caps.environment,
            tools=len(caps.tools),
            templates=len(caps.resource_templates),
            prompts=len(caps.prompts),
        )
        return True

    async def list_resources(self) -> None:
        """Re-list the provider's concrete resources; keeps the previous list when that fails."""
        if not self._lists_resources:
            return
        self.listing_tried_at = time.monotonic()
        try:
            resp = await self._control_stub.ListResources(
                provider_pb2.ListResourcesRequest(), timeout=_LIST_RESOURCES_TIMEOUT_S
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() is grpc.StatusCode.UNIMPLEMENTED:
                log.info("list_resources_unimplemented", provider=self.name)
                self._lists_resources = False
                self.listed = ()
            else:
                log.warning("list_resources_failed", provider=self.name, status=exc.code().name, detail=exc.details())
            return
        self.listed = tuple(resp.resources)

    async def quick_check(self) -> bool:
        """Ask health once, briefly; used when a call arrives while the link looks down."""
        try:
            resp = await self._health.Check(
                health_pb2.HealthCheckRequest(service=""),
                timeout=_QUICK_CHECK_S,
                wait_for_ready=True,
            )
        except grpc.aio.AioRpcError:
            return False
        return bool(resp.status == health_pb2.HealthCheckResponse.SERVING)

    async def watch_health(self, on_serving: Callable[[], Awaitable[None]]) -> None:
        """Follow the provider's health forever; call `on_serving` on each transition to SERVING."""
        attempt = 0
        while True:
            try:
                call = self._health.Watch(health_pb2.HealthCheckRequest(service=""), wait_for_ready=True)
                async for resp in call:
                    attempt = 0
                    await self._set_serving(resp.status == health_pb2.HealthCheckResponse.SERVING, on_serving)
            except grpc.aio.AioRpcError as exc:
                if exc.code() is grpc.StatusCode.UNIMPLEMENTED:
                    await self._poll_health(on_serving)
                    return
                log.debug("health_watch_broken", provider=self.name, status=exc.code().name)
            await self._set_serving(False, on_serving)
            await asyncio.sleep(_RETRY.delay(attempt, _RNG))
            attempt += 1

    async def _poll_health(self, on_serving: Callable[[], Awaitable[None]]) -> None:
        while True:
            await self._set_serving(await self.quick_check(), on_serving)
            await asyncio.sleep(1.0)

    async def _set_serving(self, serving: bool, on_serving: Callable[[], Awaitable[None]]) -> None:
        was, self.serving = self.serving, serving
        if serving and not was:
            log.info("provider_serving", provider=self.name, address=self.target.address)
            await on_serving()
        elif was and not serving:
            log.warning("provider_not_serving", provider=self.name, address=self.target.address)

    # -- calls -----------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        request: Any,
        timeout_s: float,
        correlation_id: str,
        *,
        retry_safe: bool = True,
    ) -> Any:
        """One unary call over the pool.

        Calls fail fast when no connection can be made (no wait_for_ready), so a dead provider
        answers "unreachable" at once instead of at the deadline. UNAVAILABLE evicts the channel,
        which resets its reconnect backoff; when the call is safe to repeat and a brief health
        check says the provider is back (a restart), it is retried once on a fresh channel.
        """
        attempts = 2 if retry_safe else 1
        for attempt in range(attempts):
            index, channel = self.pool.acquire()
            try:
                return await getattr(_ProviderStub(channel), method)(
                    request, timeout=timeout_s, metadata=correlation_metadata(correlation_id)
                )
            except grpc.aio.AioRpcError as exc:
                if exc.code() is not grpc.StatusCode.UNAVAILABLE:
                    raise
                self.pool.evict(index, channel)
                if details_from_metadata(exc.trailing_metadata()) is not None:
                    raise  # the provider itself answered UNAVAILABLE (its upstream is down)
                if attempt + 1 >= attempts or not await self.quick_check():
                    raise
                log.info("retrying_after_reconnect", provider=self.name, method=method)
        raise AssertionError("unreachable")

    async def invoke(
        self,
        tool: str,
        arguments: Mapping[str, Any],
        timeout_s: float,
        correlation_id: str,
        *,
        retry_safe: bool,
    ) -> provider_pb2.InvokeToolResponse:
        """Forward one tool call. Raises grpc.aio.AioRpcError on failure.

        `retry_safe`: the tool is read-only or idempotent, so a call lost to a reconnect may be
        repeated once.
        """
        # JSON text, not a Struct: a Struct would turn every number into a double (ids above 2^53 change).
        req = provider_pb2.InvokeToolRequest(name=tool, arguments_json=json.dumps(arguments, allow_nan=False))
        resp: provider_pb2.InvokeToolResponse = await self._call(
            "InvokeTool", req, timeout_s, correlation_id, retry_safe=retry_safe
        )
        return resp

    def open_tool_stream(self, correlation_id: str) -> tuple[Any, int, grpc.aio.Channel]:
        """Open an InvokeToolStream call (a `grpc.aio.StreamStreamCall`) on the next pooled channel.

        No gRPC deadline: the caller bounds the time spent waiting for the provider itself, since
        the time a person takes to answer an elicitation must not count against the tool.
        Returns the call, and the pool index and channel for `evict` on UNAVAILABLE.
        """
        index, channel = self.pool.acquire()
        call = _ProviderStub(channel).InvokeToolStream(metadata=correlation_metadata(correlation_id))
        return call, index, channel

    def evict(self, index: int, channel: grpc.aio.Channel) -> None:
        """Drop a channel whose call failed UNAVAILABLE (its reconnect backoff starts afresh)."""
        self.pool.evict(index, channel)

    async def read_resource(
        self,
        uri: str,
        timeout_s: float,
        correlation_id: str,
        context: provider_pb2.CallContext | None = None,
    ) -> provider_pb2.ReadResourceResponse:
        """Read one resource. Raises grpc.aio.AioRpcError on failure."""
        req = provider_pb2.ReadResourceRequest(uri=uri, context=context)
        resp: provider_pb2.ReadResourceResponse = await self._call("ReadResource", req, timeout_s, correlation_id)
        return resp

    async def get_prompt(
        self,
        name: str,
        arguments: Mapping[str, str],
        timeout_s: float,
        correlation_id: str,
        context: provider_pb2.CallContext | None = None,
    ) -> provider_pb2.GetPromptResponse:
        """Render one prompt. Raises grpc.aio.AioRpcError on failure."""
        req = provider_pb2.GetPromptRequest(name=name, arguments=dict(arguments), context=context)
        resp: provider_pb2.GetPromptResponse = await self._call("GetPrompt", req, timeout_s, correlation_id)
        return resp

    async def complete(
        self, request: provider_pb2.CompleteRequest, timeout_s: float, correlation_id: str
    ) -> provider_pb2.CompleteResponse:
        """Ask for completions. Raises grpc.aio.AioRpcError on failure."""
        resp: provider_pb2.CompleteResponse = await self._call("Complete", request, timeout_s, correlation_id)
        return resp

    def catalog_changes(self) -> AsyncIterator[provider_pb2.CatalogChanged]:
        """The provider's WatchCatalog stream, on the control channel."""
        call: AsyncIterator[provider_pb2.CatalogChanged] = self._control_stub.WatchCatalog(
            provider_pb2.WatchCatalogRequest(), wait_for_ready=True
        )
        return call

    def updates(self, uri: str, correlation_id: str) -> AsyncIterator[provider_pb2.ResourceUpdate]:
        """Open the provider's update stream for one URI (a cancellable streaming call)."""
        _, channel = self.pool.acquire()
        stub = _ProviderStub(channel)
        call: AsyncIterator[provider_pb2.ResourceUpdate] = stub.SubscribeResourceUpdates(
            provider_pb2.SubscribeResourceUpdatesRequest(uris=[uri]),
            metadata=correlation_metadata(correlation_id),
            wait_for_ready=True,
        )
        return call

    async def close(self) -> None:
        """Close the pool and the control channel."""
        await self.pool.close()
        await self._control.close(grace=None)


def struct_to_dict(value: struct_pb2.Struct) -> dict[str, Any]:
    """A protobuf Struct as plain JSON types."""
    out: dict[str, Any] = json_format.MessageToDict(value)
    return out


CatalogListener = Callable[[CatalogChange], Awaitable[None]]


class ProviderRegistry:
    """Every provider link, the merged catalog, and change notifications."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.links: dict[str, ProviderLink] = {t.name: ProviderLink(t, settings.pool_size) for t in settings.providers}
        self.catalog = Catalog()
        self._validators: dict[str, ArgumentValidator] = {}
        self._listeners: list[CatalogListener] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._rebuild_lock = asyncio.Lock()
        self.resource_list_ttl_s = RESOURCE_LIST_TTL_S
        """`resources/list` re-lists from providers when their last listing is older than this."""

    def add_listener(self, listener: CatalogListener) -> None:
        """Call `listener` after every rebuild that changed a client-visible list."""
        self._listeners.append(listener)

    async def start(self) -> None:
        """Start watching every provider and wait (bounded) for their first discovery."""
        for link in self.links.values():
            self._tasks.append(asyncio.create_task(self._watch(link), name=f"watch-{link.name}"))
            self._tasks.append(asyncio.create_task(self._refresh(link), name=f"refresh-{link.name}"))
            self._tasks.append(asyncio.create_task(self._follow_catalog(link), name=f"catalog-{link.name}"))
        waits = [link.discovered.wait() for link in self.links.values()]
        try:
            await asyncio.wait_for(asyncio.gather(*waits), timeout=self.settings.startup_wait_s)
        except TimeoutError:
            missing = [n for n, link in self.links.items() if link.snapshot is None]
            log.warning(
                "providers_missing_at_start",
                providers=missing,
                waited_s=self.settings.startup_wait_s,
            )
        await self.rebuild()

    async def _watch(self, link: ProviderLink) -> None:
        async def on_serving() -> None:
            if await link.discover():
                await self._list_resources(link)
                await self.rebuild()

        await link.watch_health(on_serving)

    async def _follow_catalog(self, link: ProviderLink) -> None:
        """Re-list at once when a provider that offers WatchCatalog says its catalog changed."""
        attempt = 0
        while True:
            await link.discovered.wait()
            snapshot = link.snapshot
            if snapshot is not None and snapshot.capabilities.watches_catalog:
                try:
                    async for change in link.catalog_changes():
                        attempt = 0
                        log.info("provider_catalog_changed", provider=link.name, revision=change.revision)
                        if await link.discover():
                            await self._list_resources(link)
                            await self.rebuild()
                except grpc.aio.AioRpcError as exc:
                    log.debug("catalog_watch_broken", provider=link.name, status=exc.code().name)
            await asyncio.sleep(_RETRY.delay(attempt, _RNG))
            attempt += 1

    async def _refresh(self, link: ProviderLink) -> None:
        while True:
            await asyncio.sleep(self.settings.refresh_interval_s)
            if link.serving and await link.discover():
                await self._list_resources(link)
                await self.rebuild()

    async def _list_resources(self, link: ProviderLink, max_age_s: float = 0.0) -> bool:
        """List `link`'s resources unless a listing younger than `max_age_s` exists; True if it listed."""
        async with link.listing_lock:  # concurrent askers share one listing
            tried = link.listing_tried_at
            if tried is not None and time.monotonic() - tried < max_age_s:
                return False
            await link.list_resources()
            return True

    async def fresh_resources(self) -> None:
        """Make the listed resources at most `resource_list_ttl_s` old (bounded by the listing timeout)."""
        links = [link for link in self.links.values() if link.snapshot is not None and link.serving]
        listed = await asyncio.gather(*(self._list_resources(link, self.resource_list_ttl_s) for link in links))
        if any(listed):
            await self.rebuild()

    async def rebuild(self) -> CatalogChange:
        """Merge the latest snapshots; notify listeners if a client-visible list changed."""
        async with self._rebuild_lock:
            snaps = [
                ProviderSnapshot(link.name, link.snapshot.capabilities, link.listed, link.target.namespace)
                for link in self.links.values()
                if link.snapshot is not None
            ]
            old = self.catalog
            new = build_catalog(snaps, self._validators, tool_names=self.settings.tool_names)
            for note in new.notes:
                if note not in old.notes:
                    log.warning("catalog_note", note=note)
            for error in new.errors:
                if error not in old.errors:
                    log.error("catalog_error", error=error)
            change = CatalogChange(
                tools=old.tools_key() != new.tools_key(),
                resources=old.templates_key() != new.templates_key() or old.resources_key() != new.resources_key(),
                prompts=old.prompts_key() != new.prompts_key(),
            )
            self.catalog = new
        if change:
            log.info(
                "catalog_changed",
                tools=len(new.tools),
                templates=len(new.templates),
                resources=len(new.resources),
                prompts=len(new.prompts),
                tools_changed=change.tools,
                resources_changed=change.resources,
                prompts_changed=change.prompts,
            )
            for listener in self._listeners:
                try:
                    await listener(change)
                except Exception:
                    log.exception("catalog_listener_failed")
        return change

    def timeout_s(self, timeout_ms: int) -> float:
        """A tool's deadline in seconds (the default when the tool declares none)."""
        return (timeout_ms or self.settings.default_timeout_ms) / 1000.0

    async def close(self) -> None:
        """Stop watching and close every channel."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for link in self.links.values():
            await link.close()
