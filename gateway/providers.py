"""Links to providers: health, discovery, rediscovery, and the calls themselves.

A `ProviderLink` owns one provider: a `Replica` per address (its control channel for the health
watch and ListCapabilities, and its call pool), the catalog the replicas agree on and the choice
of replica per call (`gateway/balance.py`). A `ProviderRegistry` owns every link, merges their
agreed snapshots into the routed `Catalog`, and tells listeners which lists changed.

Rediscovery: each replica's `grpc.health.v1.Health/Watch` is followed on its control channel
(falling back to polling `Check` when Watch is unimplemented). A transition to SERVING re-lists
that replica's capabilities; a periodic re-listing catches catalog changes that no health
transition announces. A provider that is down keeps its last catalog: calls to it answer
"unreachable" until a replica returns.

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
from gateway.balance import ReplicaBook
from gateway.cancellation import awaited
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


Slot = tuple[int, int]
"""Where a call ran: (replica index, pool slot); handed back to `ProviderLink.evict`."""


def catalog_key(caps: provider_pb2.Capabilities) -> bytes:
    """What replicas must agree on: the capabilities, except the build version."""
    copy = provider_pb2.Capabilities()
    copy.CopyFrom(caps)
    copy.version = ""
    key: bytes = copy.SerializeToString(deterministic=True)
    return key


class Replica:
    """One address of a provider: its control channel (health, discovery) and its call pool."""

    def __init__(self, target: ProviderTarget, address: str, pool_size: int) -> None:
        self.name = target.name
        self.address = address
        self._open = channel_factory(target, address)
        self._control = self._open()
        self.health = health_pb2_grpc.HealthStub(self._control)
        self.control_stub = _ProviderStub(self._control)
        self.pool = ChannelPool(pool_size, self._open)
        self._stubs: dict[int, tuple[grpc.aio.Channel, Any]] = {}
        self.caps: provider_pb2.Capabilities | None = None
        """The capabilities this replica presented at its last discovery."""

    def next_stub(self) -> tuple[int, grpc.aio.Channel, Any]:
        """The pool's next slot, its channel and a stub on that channel.

        One stub per channel, kept until its slot holds another channel: building a stub makes a
        callable for every RPC of the service, which showed in the gateway's per-call profile.
        """
        pool_index, channel = self.pool.acquire()
        kept = self._stubs.get(pool_index)
        if kept is None or kept[0] is not channel:
            kept = (channel, _ProviderStub(channel))
            self._stubs[pool_index] = kept
        return pool_index, channel, kept[1]

    async def list_capabilities(self) -> provider_pb2.Capabilities | None:
        """Its capabilities now, or None (logged) when it cannot answer."""
        try:
            caps: provider_pb2.Capabilities = await self.control_stub.ListCapabilities(
                provider_pb2.ListCapabilitiesRequest(), timeout=_LIST_TIMEOUT_S, wait_for_ready=True
            )
        except grpc.aio.AioRpcError as exc:
            log.warning(
                "list_capabilities_failed",
                provider=self.name,
                address=self.address,
                status=exc.code().name,
                detail=exc.details(),
            )
            return None
        self.caps = caps
        return caps

    async def quick_check(self) -> bool:
        """Ask health once, briefly."""
        try:
            resp = await self.health.Check(
                health_pb2.HealthCheckRequest(service=""), timeout=_QUICK_CHECK_S, wait_for_ready=True
            )
        except grpc.aio.AioRpcError:
            return False
        return bool(resp.status == health_pb2.HealthCheckResponse.SERVING)

    def catalog_changes(self) -> AsyncIterator[provider_pb2.CatalogChanged]:
        """The replica's WatchCatalog stream, on the control channel."""
        call: AsyncIterator[provider_pb2.CatalogChanged] = self.control_stub.WatchCatalog(
            provider_pb2.WatchCatalogRequest(), wait_for_ready=True
        )
        return call

    async def close(self) -> None:
        await self.pool.close()
        await self._control.close(grace=None)


class ProviderLink:
    """One provider: its replicas (one per address), the catalog they agree on, and the calls.

    Every call goes to one eligible replica, in rotation (`gateway/balance.py`). A call that
    fails UNAVAILABLE before the provider answered anything makes its replica suspect (no calls
    until a health check clears it); a read-only or idempotent call is then retried on another
    replica. A call that may have changed something (an order) is never retried here: its
    outcome is the provider's to reconcile by client order id.
    """

    def __init__(self, target: ProviderTarget, pool_size: int) -> None:
        self.target = target
        self.name = target.name
        self.replicas = [Replica(target, address, pool_size) for address in target.addresses]
        self.book = ReplicaBook(len(self.replicas))
        self.snapshot: ProviderSnapshot | None = None
        """The agreed catalog (see `ReplicaBook`), None before any discovery."""
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
        self._rechecks: dict[int, asyncio.Task[None]] = {}
        self._differing: tuple[str, ...] = ()
        self._changed = asyncio.Event()
        self.on_catalog: Callable[[], Awaitable[object]] | None = None
        """Called when a replica going down changed the agreed catalog (the registry rebuilds)."""

    def _bump(self) -> None:
        """The book changed: wake whoever waits in `wait_until`."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_until(self, predicate: Callable[[ReplicaBook], bool]) -> None:
        """Wait until `predicate(book)` holds (the caller bounds the wait)."""
        while True:
            changed = self._changed
            if predicate(self.book):
                return
            await changed.wait()

    @property
    def serving(self) -> bool:
        """True when at least one replica's health says SERVING."""
        return self.book.serving()

    # -- discovery -------------------------------------------------------------------------

    async def discover(self) -> bool:
        """List every replica's capabilities; True when the agreed catalog could be obtained."""
        found = await asyncio.gather(*(self.discover_replica(i, agree=False) for i in range(len(self.replicas))))
        self._adopt()
        return any(found)

    async def discover_replica(self, index: int, *, agree: bool = True) -> bool:
        """List one replica's capabilities; True when it answered."""
        caps = await self.replicas[index].list_capabilities()
        if caps is None:
            return False
        key = catalog_key(caps)
        if key != self.book.catalog(index):
            log.info(
                "replica_discovered", provider=self.name, address=self.replicas[index].address, revision=caps.revision
            )
        self.book.set_catalog(index, key)
        self._bump()
        if agree:
            self._adopt()
        return True

    def _adopt(self) -> None:
        """Serve the agreed catalog; say which replicas present another one (they get no calls)."""
        agreeing = self.book.agreeing()
        if not agreeing:
            return
        caps = self.replicas[agreeing[0]].caps
        assert caps is not None
        previous = self.snapshot
        self.snapshot = ProviderSnapshot(self.name, caps)
        if previous is None or catalog_key(previous.capabilities) != catalog_key(caps):
            self._lists_resources = True
            self.streams_tools = caps.streams_tools
        self.discovered.set()
        differing = tuple(self.replicas[i].address for i in self.book.differing())
        if differing and differing != self._differing:
            log.warning(
                "replica_catalog_differs",
                provider=self.name,
                differing=list(differing),
                served_from=[self.replicas[i].address for i in agreeing],
            )
        self._differing = differing
        if previous is None or previous.capabilities.revision != caps.revision:
            log.info(
                "provider_discovered",
                provider=self.name,
                version=caps.version,
                revision=caps.revision,
                environment=caps.environment,
                tools=len(caps.tools),
                templates=len(caps.resource_templates),
                prompts=len(caps.prompts),
                replicas=len(agreeing),
            )

    async def list_resources(self) -> None:
        """Re-list the provider's concrete resources; keeps the previous list when that fails."""
        if not self._lists_resources:
            return
        self.listing_tried_at = time.monotonic()
        replica = self.replicas[self.book.peek()]  # a listing does not take a call's turn
        try:
            resp = await replica.control_stub.ListResources(
                provider_pb2.ListResourcesRequest(), timeout=_LIST_RESOURCES_TIMEOUT_S
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() is grpc.StatusCode.UNIMPLEMENTED:
                log.info("list_resources_unimplemented", provider=self.name)
                self._lists_resources = False
                self.listed = ()
            else:
                log.warning(
                    "list_resources_failed",
                    provider=self.name,
                    address=replica.address,
                    status=exc.code().name,
                    detail=exc.details(),
                )
            return
        self.listed = tuple(resp.resources)

    async def quick_check(self) -> bool:
        """May a retry reach a serving replica now? Asks health (briefly) only when none is known."""
        if self.book.any_eligible():
            return True
        answers = await asyncio.gather(*(r.quick_check() for r in self.replicas))
        for index, serving in enumerate(answers):
            if serving:
                self.book.set_serving(index, True)
                self._bump()
        return any(answers)

    async def watch_health(self, index: int, on_serving: Callable[[], Awaitable[None]]) -> None:
        """Follow one replica's health forever; call `on_serving` on each transition to SERVING."""
        replica = self.replicas[index]
        attempt = 0
        while True:
            try:
                call = replica.health.Watch(health_pb2.HealthCheckRequest(service=""), wait_for_ready=True)
                async for resp in call:
                    attempt = 0
                    await self._set_serving(index, resp.status == health_pb2.HealthCheckResponse.SERVING, on_serving)
            except grpc.aio.AioRpcError as exc:
                if exc.code() is grpc.StatusCode.UNIMPLEMENTED:
                    await self._poll_health(index, on_serving)
                    return
                log.debug("health_watch_broken", provider=self.name, address=replica.address, status=exc.code().name)
            await self._set_serving(index, False, on_serving)
            await asyncio.sleep(_RETRY.delay(attempt, _RNG))
            attempt += 1

    async def _poll_health(self, index: int, on_serving: Callable[[], Awaitable[None]]) -> None:
        while True:
            await self._set_serving(index, await self.replicas[index].quick_check(), on_serving)
            await asyncio.sleep(1.0)

    async def _set_serving(self, index: int, serving: bool, on_serving: Callable[[], Awaitable[None]]) -> None:
        was, agreed = self.book.health(index), self.book.agreed
        self.book.set_serving(index, serving)
        self._bump()
        address = self.replicas[index].address
        if serving and not was:
            log.info("provider_serving", provider=self.name, address=address)
            await on_serving()
        elif was and not serving:
            log.warning("provider_not_serving", provider=self.name, address=address)
            if self.book.agreed != agreed:  # the replicas left serving agree on another catalog
                self._adopt()
                if self.on_catalog is not None:
                    await self.on_catalog()

    def _suspect(self, index: int) -> None:
        """A call to replica `index` failed UNAVAILABLE: no calls until a health check clears it."""
        self.book.suspect(index)
        self._bump()
        if index not in self._rechecks:
            task = asyncio.get_running_loop().create_task(self._recheck(index), name=f"recheck-{self.name}-{index}")
            self._rechecks[index] = task
            task.add_done_callback(lambda _t: self._rechecks.pop(index, None))

    async def _recheck(self, index: int) -> None:
        """Ask a suspect replica's health until it answers SERVING (its health watch may stay silent)."""
        attempt = 0
        while self.book.is_suspect(index):
            if await self.replicas[index].quick_check():
                self.book.set_serving(index, True)
                self._bump()
                log.info("replica_cleared", provider=self.name, address=self.replicas[index].address)
                return
            await asyncio.sleep(_RETRY.delay(attempt, _RNG))
            attempt += 1

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
        """One unary call to one replica.

        Calls fail fast when no connection can be made (no wait_for_ready), so a dead provider
        answers "unreachable" at once instead of at the deadline. UNAVAILABLE evicts the channel
        (its reconnect backoff starts afresh) and makes the replica suspect; a call that is safe
        to repeat is retried on another eligible replica, or, when none is known, on one that a
        brief health check finds back (a restart).
        """
        attempts = max(2, len(self.replicas)) if retry_safe else 1
        tried: list[int] = []
        for attempt in range(attempts):
            index = self.book.pick(avoid=tried)
            pool_index, channel, stub = self.replicas[index].next_stub()
            try:
                return await awaited(
                    getattr(stub, method)(request, timeout=timeout_s, metadata=correlation_metadata(correlation_id))
                )
            except grpc.aio.AioRpcError as exc:
                if exc.code() is not grpc.StatusCode.UNAVAILABLE:
                    raise
                self.evict((index, pool_index), channel)
                if details_from_metadata(exc.trailing_metadata()) is not None:
                    raise  # the provider itself answered UNAVAILABLE (its upstream is down)
                tried.append(index)
                if attempt + 1 >= attempts or not await self.quick_check():
                    raise
                failed = self.replicas[index].address
                log.info("retrying_after_unavailable", provider=self.name, method=method, failed=failed)
        raise AssertionError("unreachable")

    async def invoke(
        self,
        tool: str,
        arguments: Mapping[str, Any] | str,
        timeout_s: float,
        correlation_id: str,
        *,
        retry_safe: bool,
    ) -> provider_pb2.InvokeToolResponse:
        """Forward one tool call. Raises grpc.aio.AioRpcError on failure.

        `arguments`: a mapping, or its JSON text when the caller already has it.
        `retry_safe`: the tool is read-only or idempotent, so a call lost to a reconnect may be
        repeated (on another replica when there is one).
        """
        # JSON text, not a Struct: a Struct would turn every number into a double (ids above 2^53 change).
        text = arguments if isinstance(arguments, str) else json.dumps(arguments, allow_nan=False)
        req = provider_pb2.InvokeToolRequest(name=tool, arguments_json=text)
        resp: provider_pb2.InvokeToolResponse = await self._call(
            "InvokeTool", req, timeout_s, correlation_id, retry_safe=retry_safe
        )
        return resp

    def open_tool_stream(self, correlation_id: str) -> tuple[Any, Slot, grpc.aio.Channel]:
        """Open an InvokeToolStream call (a `grpc.aio.StreamStreamCall`) on the next replica's pool.

        No gRPC deadline: the caller bounds the time spent waiting for the provider itself, since
        the time a person takes to answer an elicitation must not count against the tool.
        Returns the call, and the slot and channel for `evict` on UNAVAILABLE.
        """
        index = self.book.pick()
        pool_index, channel, stub = self.replicas[index].next_stub()
        call = stub.InvokeToolStream(metadata=correlation_metadata(correlation_id))
        return call, (index, pool_index), channel

    def evict(self, slot: Slot, channel: grpc.aio.Channel) -> None:
        """Drop a channel whose call failed UNAVAILABLE; its replica gets no calls until health clears it."""
        index, pool_index = slot
        self.replicas[index].pool.evict(pool_index, channel)
        self._suspect(index)

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

    def updates(
        self, uri: str, correlation_id: str
    ) -> grpc.aio.UnaryStreamCall[provider_pb2.SubscribeResourceUpdatesRequest, provider_pb2.ResourceUpdate]:
        """Open one replica's update stream for one URI (a cancellable streaming call; its response
        headers mean the provider accepted the URI).

        When that replica goes away the stream breaks and the subscriber reopens it: the next
        pick is another replica.
        """
        _, _, stub = self.replicas[self.book.pick()].next_stub()
        call: grpc.aio.UnaryStreamCall[
            provider_pb2.SubscribeResourceUpdatesRequest, provider_pb2.ResourceUpdate
        ] = stub.SubscribeResourceUpdates(
            provider_pb2.SubscribeResourceUpdatesRequest(uris=[uri]),
            metadata=correlation_metadata(correlation_id),
            wait_for_ready=True,
        )
        return call

    async def close(self) -> None:
        """Stop the health re-checks; close every replica's channels."""
        for task in list(self._rechecks.values()):
            task.cancel()
        for replica in self.replicas:
            await replica.close()


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
        for link in self.links.values():
            link.on_catalog = self.rebuild
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
        """Start watching every replica of every provider and wait (bounded) for their first discovery."""
        for link in self.links.values():
            for index, replica in enumerate(link.replicas):
                tag = f"{link.name}-{replica.address}"
                self._tasks.append(asyncio.create_task(self._watch(link, index), name=f"watch-{tag}"))
                self._tasks.append(asyncio.create_task(self._refresh(link, index), name=f"refresh-{tag}"))
                self._tasks.append(asyncio.create_task(self._follow_catalog(link, index), name=f"catalog-{tag}"))
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

    async def _rediscover(self, link: ProviderLink, index: int) -> None:
        if await link.discover_replica(index):
            await self._list_resources(link)
            await self.rebuild()

    async def _watch(self, link: ProviderLink, index: int) -> None:
        async def on_serving() -> None:
            await self._rediscover(link, index)

        await link.watch_health(index, on_serving)

    async def _follow_catalog(self, link: ProviderLink, index: int) -> None:
        """Re-list at once when a replica that offers WatchCatalog says its catalog changed."""
        replica = link.replicas[index]
        attempt = 0
        while True:
            await link.discovered.wait()
            caps = replica.caps
            if caps is not None and caps.watches_catalog:
                try:
                    async for change in replica.catalog_changes():
                        attempt = 0
                        log.info(
                            "provider_catalog_changed",
                            provider=link.name,
                            address=replica.address,
                            revision=change.revision,
                        )
                        await self._rediscover(link, index)
                except grpc.aio.AioRpcError as exc:
                    log.debug("catalog_watch_broken", provider=link.name, status=exc.code().name)
            await asyncio.sleep(_RETRY.delay(attempt, _RNG))
            attempt += 1

    async def _refresh(self, link: ProviderLink, index: int) -> None:
        while True:
            await asyncio.sleep(self.settings.refresh_interval_s)
            if link.book.health(index):
                await self._rediscover(link, index)

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
