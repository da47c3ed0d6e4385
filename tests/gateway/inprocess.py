"""The gateway's own code in the test's process: a started registry and its Gateway, closed after."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from gateway.providers import ProviderRegistry
from gateway.server import Gateway
from gateway.settings import GatewaySettings, ProviderTarget


def one_provider(address: str, name: str = "fake", *, namespace: bool = True) -> GatewaySettings:
    """The settings of a gateway in front of one provider, as the in-process tests start it."""
    return GatewaySettings(providers=(ProviderTarget(name, address, namespace=namespace),), startup_wait_s=5.0,
                           pool_size=2)


@contextlib.asynccontextmanager
async def in_process_gateway(settings: GatewaySettings) -> AsyncIterator[Gateway]:
    registry = ProviderRegistry(settings)
    await registry.start()
    gw = Gateway(registry)
    try:
        yield gw
    finally:
        await gw.close()
        await registry.close()
