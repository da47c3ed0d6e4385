"""Review attacks on the 2026 listen stream's verdict wait (9c2f336), in process.

A hostile MCP client names several URIs in one `subscriptions/listen`, one of them served by a
provider that sends no headers (the gateway waits up to its verdict bound for it), and gives up
while the gateway still waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import anyio
import grpc
import grpc.aio
import pytest
from mcp import Client

from contracts.provider.v1 import provider_pb2
from tests.gateway.fake_provider import FakeProvider
from tests.gateway.inprocess import in_process_gateway, one_provider
from tests.waits import until

FAST = "fake://quote/BNBUSDT"
SLOW = "fake://quote/BTCUSDT"


class SlowToAnswerOne(FakeProvider):
    """Accepts every URI at once, except `SLOW`: no headers for it (the gateway's verdict wait runs out)."""

    headers_at_once = False

    async def SubscribeResourceUpdates(
        self, request: provider_pb2.SubscribeResourceUpdatesRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[provider_pb2.ResourceUpdate]:
        if SLOW not in request.uris:
            await context.send_initial_metadata(())
        async for update in super().SubscribeResourceUpdates(request, context):
            yield update


async def test_a_listen_cancelled_while_one_verdict_is_pending_closes_the_streams_already_accepted() -> None:
    """The acknowledgement waits for every URI's verdict at once (asyncio.gather); a listen cancelled
    while one verdict is still pending cancels the gather, and the release functions of the URIs
    already accepted (the gather's finished results) were never called: their listener count stayed
    at 1, so the provider's stream for them was never closed (a leak per cancelled listen)."""
    provider = await SlowToAnswerOne().start()
    try:
        async with in_process_gateway(one_provider(provider.address)) as gateway, Client(gateway.server) as client:

            async def listen() -> None:
                async with client.listen(resource_subscriptions=[FAST, SLOW]):
                    await asyncio.sleep(30)  # never reached: cancelled before the acknowledgement

            with anyio.move_on_after(10):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(listen)
                    await provider.wait_subscribed(FAST)
                    await provider.wait_subscribed(SLOW)
                    await until(lambda: gateway.subscriptions._watches[FAST].verdict.done(), timeout_s=5)
                    tg.cancel_scope.cancel()
            await until(lambda: SLOW not in gateway.subscriptions._watches, timeout_s=10)
            await until(lambda: FAST not in gateway.subscriptions._watches, timeout_s=5)
            await provider.wait_unsubscribed(FAST, limit_s=5)
            await provider.wait_unsubscribed(SLOW, limit_s=5)
    finally:
        await provider.stop()


@pytest.mark.parametrize("duplicates", [2, 50], ids=["twice", "fifty-times"])
async def test_a_uri_named_many_times_in_one_listen_is_one_stream_released_once(duplicates: int) -> None:
    """Guard: duplicates are asked once and counted once, so closing the listen closes the stream."""
    provider = await FakeProvider().start()
    try:
        async with in_process_gateway(one_provider(provider.address)) as gateway, Client(gateway.server) as client:
            async with client.listen(resource_subscriptions=[FAST] * duplicates) as sub:
                assert sub.honored.resource_subscriptions == [FAST]
                assert gateway.subscriptions._watches[FAST].listeners == 1
            await until(lambda: FAST not in gateway.subscriptions._watches, timeout_s=5)
            await provider.wait_unsubscribed(FAST, limit_s=5)
    finally:
        await provider.stop()
