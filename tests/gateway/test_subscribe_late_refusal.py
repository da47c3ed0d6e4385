"""Subscription verdicts that come late or never, and listen streams' verdicts (gateway/subscriptions.py),
in process.

A provider may refuse a URI only after the gateway stopped waiting for its verdict (a slow check), or
when a broken stream is reopened; the subscriber was already told it is subscribed, so it gets one
`resources/updated` and its read shows the refusal. A `resources/subscribe` the client cancels while
the gateway waits subscribes nothing: the provider's stream is closed. A 2026 listen stream's
acknowledgement names only the URIs the provider accepts (what a server will not honour is omitted).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import anyio
import grpc
import grpc.aio
import mcp_types as types
import pytest
from mcp import Client
from mcp.server.subscriptions import ResourceUpdated
from mcp.shared.exceptions import MCPError

from contracts.provider.v1 import provider_pb2
from gateway.server import Gateway
from tests.gateway.conftest import Notifications
from tests.gateway.fake_provider import FakeProvider
from tests.gateway.inprocess import in_process_gateway, one_provider
from tests.waits import until

URI = "fake://quote/BNBUSDT"
pytestmark = pytest.mark.filterwarnings("ignore:resources/.*subscribe is removed")


class RefusesWhenReleased(FakeProvider):
    """Sends no headers; refuses the URI (NOT_FOUND, as a read would) once the test releases it."""

    async def SubscribeResourceUpdates(
        self, request: provider_pb2.SubscribeResourceUpdatesRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[provider_pb2.ResourceUpdate]:
        async with self._changed:
            self.held += 1
            self._changed.notify_all()
        await self.release.wait()
        await context.abort(grpc.StatusCode.NOT_FOUND, f"no such resource: {request.uris[0]}")
        yield provider_pb2.ResourceUpdate()  # never reached: makes this a generator like the real one

    async def wait_asked(self, n: int = 1) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: self.held >= n), 10)


@pytest.fixture
async def refusing() -> AsyncIterator[RefusesWhenReleased]:
    provider = await RefusesWhenReleased().start()
    try:
        yield provider
    finally:
        provider.release.set()
        await provider.stop()


@pytest.fixture
async def gateway(refusing: RefusesWhenReleased) -> AsyncIterator[Gateway]:
    async with in_process_gateway(one_provider(refusing.address)) as gw:
        yield gw


async def test_a_refusal_after_the_verdict_wait_tells_the_subscriber_to_read(
    refusing: RefusesWhenReleased, gateway: Gateway
) -> None:
    notes = Notifications()
    async with Client(gateway.server, mode="legacy", message_handler=notes.handler) as client:
        await client.subscribe_resource(URI)  # no verdict within the wait: taken as accepted
        refusing.release.set()
        await notes.wait_for(types.ResourceUpdatedNotification, uri=URI)
        assert URI not in gateway.subscriptions._watches  # closed, not reopened forever
        with pytest.raises(MCPError):  # re-subscribing now gets the refusal itself
            await client.subscribe_resource(URI)


async def test_a_subscribe_cancelled_while_waiting_subscribes_nothing(
    refusing: RefusesWhenReleased, gateway: Gateway
) -> None:
    async with Client(gateway.server, mode="legacy") as client:
        with anyio.move_on_after(0.5):  # the client gives up before the gateway's verdict wait ends
            async with anyio.create_task_group() as tg:
                tg.start_soon(client.subscribe_resource, URI)
                await refusing.wait_asked()
                await asyncio.sleep(10)
        await until(lambda: URI not in gateway.subscriptions._watches, timeout_s=10)


class RefusesNope(FakeProvider):
    """Refuses `fake://quote/NOPE` at once (NOT_FOUND, as a read would); serves every other URI."""

    async def SubscribeResourceUpdates(
        self, request: provider_pb2.SubscribeResourceUpdatesRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[provider_pb2.ResourceUpdate]:
        if "fake://quote/NOPE" in request.uris:
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such symbol: NOPE")
        async for update in super().SubscribeResourceUpdates(request, context):
            yield update


async def test_a_listen_stream_is_acknowledged_for_the_uris_the_provider_accepts_only() -> None:
    provider = await RefusesNope().start()
    try:
        async with (
            in_process_gateway(one_provider(provider.address)) as gateway,
            Client(gateway.server) as client,
            client.listen(resource_subscriptions=[URI, "fake://quote/NOPE", "unknown://x"]) as sub,
        ):
            assert sub.honored.resource_subscriptions == [URI]
            await provider.wait_subscribed(URI)
            await provider.push_update(URI)
            async with asyncio.timeout(10):
                assert await anext(aiter(sub)) == ResourceUpdated(uri=URI)
            assert "fake://quote/NOPE" not in gateway.subscriptions._watches
        await provider.wait_unsubscribed(URI)
    finally:
        await provider.stop()
