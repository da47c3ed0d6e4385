"""Review attacks on session 23's subscription verdict (gateway/subscriptions.py), in process.

See tests/e2e/test_review_attacks_session23.py for the attacks through real processes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from mcp import Client

from gateway.server import Gateway
from tests.gateway.fake_provider import FakeProvider
from tests.gateway.inprocess import in_process_gateway, one_provider

URI = "fake://quote/BNBUSDT"


@pytest.fixture
async def gateway(silent: FakeProvider) -> AsyncIterator[Gateway]:
    async with in_process_gateway(one_provider(silent.address)) as gw:
        yield gw


@pytest.mark.filterwarnings("ignore:resources/.*subscribe is removed")
async def test_unsubscribing_before_the_providers_headers_closes_the_providers_stream(
    silent: FakeProvider, gateway: Gateway
) -> None:
    """The last subscriber leaves while the gateway still waits for the provider's headers (a
    provider that sends them only with a first update): the provider's stream must be cancelled,
    not left open with nobody reading it."""
    async with Client(gateway.server, mode="legacy") as client:
        await client.subscribe_resource(URI)  # accepted after the verdict wait
        await silent.wait_subscribed(URI)
        await client.unsubscribe_resource(URI)
        await silent.wait_unsubscribed(URI)
