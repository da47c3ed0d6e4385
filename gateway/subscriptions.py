"""Resource subscriptions: one provider update stream per URI, fanned out to MCP clients.

Two kinds of subscriber share one stream per URI:
- handshake-era sessions (`resources/subscribe`), notified with `notifications/resources/updated`
  through `send_resource_updated(uri)`;
- 2026-era listen streams (`subscriptions/listen` with resource URIs), notified by publishing
  `ResourceUpdated(uri)` on the subscription bus.

The stream opens with the first subscriber and closes with the last. A broken stream (provider
restart) is reopened with a short backoff, re-resolving which provider owns the URI each time.

A provider refuses a URI whose read it would refuse (NOT_FOUND, INVALID_ARGUMENT, UNAUTHENTICATED)
by ending the stream before its response headers; it sends the headers at once when it accepts. `subscribe` waits
for that verdict (at most `VERDICT_WAIT_S`: a provider that sends its headers only with its first
update is taken as accepting, as before) and raises the refusal, so the client's
`resources/subscribe` fails instead of a stream that can never fire being reopened forever. A
refusal that comes after the subscribers were told they are subscribed (past the wait, or when a
broken stream is reopened and the URI is now refused) cannot fail their request any more: they get
one `resources/updated` for the URI, so that they read it and get the read's error, and the stream
is closed (`subscription_refused_late` in the log). A `resources/subscribe` cancelled while waiting
subscribes nothing. A 2026 listen stream (`listen`) waits for the same verdicts: its acknowledgement
names only the URIs the provider accepts.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc
import grpc.aio
import structlog
from mcp.server.session import ServerSession
from mcp.server.subscriptions import ResourceUpdated, SubscriptionBus

from common.backoff import Backoff
from gateway.providers import ProviderRegistry

__all__ = ["ResourceSubscriptions", "connection_key"]

log = structlog.get_logger("gateway.subscriptions")

#: a broken stream is reopened after a jittered 0.25, 0.5, 1, 2, 4, 5, 5... s at most.
_REOPEN = Backoff(base_s=0.25, cap_s=5.0)
#: how long `subscribe` waits for the provider's verdict on a new stream (see the module docstring).
VERDICT_WAIT_S = 2.0
#: the statuses that refuse a subscription for good (what a read of the URI would answer; UNAUTHENTICATED:
#: an account URI of a provider without API credentials).
_REFUSALS = frozenset({grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.UNAUTHENTICATED})


def connection_key(session: ServerSession) -> object:
    """A stable identity for the client connection behind a per-request `ServerSession`.

    The SDK builds a new `ServerSession` per request around one connection object; subscribe and
    unsubscribe arrive in different requests, so the connection is the key.
    """
    return getattr(session, "_connection", session)


@dataclass
class _UriWatch:
    sessions: dict[object, ServerSession] = field(default_factory=dict)
    listeners: int = 0
    #: a connection's subscribes still waiting for the verdict
    waiting: dict[object, int] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None
    #: the provider's verdict on the stream: None accepted, else its refusal (set once)
    verdict: asyncio.Future[grpc.aio.AioRpcError | None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    def settle(self, refusal: grpc.aio.AioRpcError | None) -> None:
        if not self.verdict.done():
            self.verdict.set_result(refusal)

    @property
    def empty(self) -> bool:
        return not self.sessions and self.listeners == 0


class ResourceSubscriptions:
    """Subscribers per URI and the provider stream that feeds them."""

    def __init__(self, registry: ProviderRegistry, bus: SubscriptionBus, *, rng: random.Random | None = None) -> None:
        self._registry = registry
        self._bus = bus
        self._rng = rng or random.Random()  # reopen jitter
        self._watches: dict[str, _UriWatch] = {}

    async def subscribe(self, uri: str, session: ServerSession, wait_s: float = VERDICT_WAIT_S) -> None:
        """Add a handshake-era session as a subscriber of `uri` once the provider accepts it.

        Raises:
            grpc.aio.AioRpcError: the provider refused the URI (NOT_FOUND, INVALID_ARGUMENT, UNAUTHENTICATED).
        """
        watch = self._ensure(uri)
        key = connection_key(session)
        # A connection may repeat its subscribe: one that gives up (or is refused) removes the
        # connection only if it was not subscribed before and no other of its subscribes still waits.
        held = key in watch.sessions and not watch.waiting.get(key)
        watch.sessions[key] = session
        watch.waiting[key] = watch.waiting.get(key, 0) + 1

        def done() -> int:
            left = watch.waiting.pop(key, 1) - 1
            if left:
                watch.waiting[key] = left
            return left

        def leave() -> None:
            if done() == 0 and not held:
                watch.sessions.pop(key, None)
            self._maybe_close(uri, watch)

        refusal = await self._verdict(watch, wait_s, leave)
        if refusal is not None:
            leave()
            raise refusal
        done()

    def unsubscribe(self, uri: str, session: ServerSession) -> None:
        """Remove a handshake-era session; closes the stream when nobody is left."""
        watch = self._watches.get(uri)
        if watch is not None:
            watch.sessions.pop(connection_key(session), None)
            self._maybe_close(uri, watch)

    async def listen(self, uri: str, wait_s: float = VERDICT_WAIT_S) -> Callable[[], None] | None:
        """Count a 2026 listen stream as a subscriber of `uri` once the provider accepts it; returns the
        release function, or None when the provider refuses the URI (the stream's acknowledgement then
        leaves it out: what a server will not honour is omitted, says the protocol)."""
        watch = self._ensure(uri)
        watch.listeners += 1
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                watch.listeners -= 1
                self._maybe_close(uri, watch)

        if await self._verdict(watch, wait_s, release) is not None:
            release()
            return None
        return release

    @staticmethod
    async def _verdict(
        watch: _UriWatch, wait_s: float, leave: Callable[[], None]
    ) -> grpc.aio.AioRpcError | None:
        """The provider's refusal of the watched URI, or None when it accepts it (or says nothing
        within `wait_s`: no headers before a first update is taken as accepting). A caller cancelled
        while waiting `leave`s: it subscribed nothing."""
        try:
            return await asyncio.wait_for(asyncio.shield(watch.verdict), wait_s)
        except TimeoutError:
            watch.settle(None)
            return None
        except asyncio.CancelledError:
            leave()
            raise

    async def close(self) -> None:
        """Close every stream."""
        tasks = [w.task for w in self._watches.values() if w.task is not None]
        self._watches.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _ensure(self, uri: str) -> _UriWatch:
        watch = self._watches.get(uri)
        if watch is None:
            watch = self._watches[uri] = _UriWatch()
            watch.task = asyncio.create_task(self._pump(uri, watch), name=f"updates-{uri}")
            log.info("subscription_opened", uri=uri)
        return watch

    def _drop(self, uri: str, watch: _UriWatch) -> None:
        """Forget a refused stream (its pump ends): the next subscriber opens a new one."""
        if self._watches.get(uri) is watch:
            del self._watches[uri]

    def _maybe_close(self, uri: str, watch: _UriWatch) -> None:
        if watch.empty and self._watches.get(uri) is watch:
            del self._watches[uri]
            if watch.task is not None:
                watch.task.cancel()
            log.info("subscription_closed", uri=uri)

    async def _pump(self, uri: str, watch: _UriWatch) -> None:
        attempt = 0
        while True:
            owner = self._registry.catalog.subscribable_owner(uri)
            link = self._registry.links.get(owner) if owner else None
            if link is None:
                watch.settle(None)  # nothing to ask: accepted, as before
                log.warning("subscription_unroutable", uri=uri)
            else:
                correlation_id = uuid.uuid4().hex
                call = link.updates(uri, correlation_id)
                headers = False
                try:
                    await call.initial_metadata()  # headers: accepted; a refusal ends the call before them
                    if not call.done():
                        headers = True
                        watch.settle(None)
                    async for update in call:
                        attempt = 0
                        watch.settle(None)
                        await self._deliver(update.uri or uri, watch)
                    log.info("subscription_stream_ended", uri=uri, provider=link.name)
                except grpc.aio.AioRpcError as exc:
                    if exc.code() in _REFUSALS and not headers:
                        await self._refused(uri, watch, link.name, exc)
                        return
                    watch.settle(None)  # broken, not refused: reopened below, as before
                    log.warning(
                        "subscription_stream_broken",
                        uri=uri,
                        provider=link.name,
                        status=exc.code().name,
                        detail=exc.details(),
                        correlation_id=correlation_id,
                    )
                finally:
                    # this task cancelled while awaiting the headers (the last subscriber left) does not
                    # cancel the call, unlike one cancelled while reading: the provider's stream stayed open
                    call.cancel()
            await asyncio.sleep(_REOPEN.delay(attempt, self._rng))
            attempt += 1

    async def _refused(self, uri: str, watch: _UriWatch, provider: str, exc: grpc.aio.AioRpcError) -> None:
        """The provider refuses the URI: fail the waiting `subscribe`, or, when its subscribers were
        already told they are subscribed, send them one update so their read shows the refusal."""
        self._drop(uri, watch)
        if not watch.verdict.done():
            log.info("subscription_refused", uri=uri, provider=provider, status=exc.code().name)
            watch.settle(exc)
            return
        log.warning("subscription_refused_late", uri=uri, provider=provider, status=exc.code().name,
                    detail=(exc.details() or "")[:300])
        await self._deliver(uri, watch)

    async def _deliver(self, uri: str, watch: _UriWatch) -> None:
        for key, session in list(watch.sessions.items()):
            try:
                await session.send_resource_updated(uri)
            except Exception as exc:  # a closed client must not stop the others
                log.info("subscriber_dropped", uri=uri, error=type(exc).__name__)
                watch.sessions.pop(key, None)
        if watch.listeners:
            await self._bus.publish(ResourceUpdated(uri=uri))
