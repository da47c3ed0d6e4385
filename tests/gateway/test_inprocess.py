"""The gateway's MCP server in-process, through `mcp.Client` in both protocol eras."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Literal

import mcp_types as types
import pytest
from mcp import Client, MCPError
from mcp.server.subscriptions import ResourceUpdated, ToolsListChanged

from contracts.provider.v1 import provider_pb2
from gateway.providers import ProviderRegistry
from gateway.server import Gateway
from gateway.settings import GatewaySettings, ProviderTarget
from tests.gateway.fake_provider import LISTED, FakeProvider
from tests.gateway.inprocess import in_process_gateway, one_provider

INVALID_PARAMS = -32602


@pytest.fixture
async def gateway(fake: FakeProvider) -> AsyncIterator[Gateway]:
    async with in_process_gateway(one_provider(fake.address)) as gw:
        yield gw


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_both_eras_list_and_call_tools(gateway: Gateway, mode: Literal["auto", "legacy"]) -> None:
    async with Client(gateway.server, mode=mode) as client:
        tools = {t.name for t in (await client.list_tools()).tools}
        result = await client.call_tool("fake_echo", {"text": "yo", "repeat": 2})
        bad = await client.call_tool("fake_add", {"a": "one", "b": 2})
        with pytest.raises(MCPError) as err:
            await client.call_tool("nobody.tool", {})
        with pytest.raises(MCPError) as uri_err:
            await client.read_resource("unknown://x")
    assert {"fake_echo", "fake_add", "fake_place_thing", "fake_slow"} == tools
    assert result.structured_content == {"text": "yo yo", "count": 2}
    assert bad.is_error is True
    assert err.value.code == INVALID_PARAMS
    # Resource not found: -32002 up to 2025-11-25 (legacy), -32602 from 2026-07-28 (SEP-2164).
    assert uri_err.value.code == (-32002 if mode == "legacy" else INVALID_PARAMS)
    assert uri_err.value.data == {"uri": "unknown://x"}


async def test_modern_listen_gets_tools_list_changed(fake: FakeProvider, gateway: Gateway) -> None:
    async with (
        Client(gateway.server) as client,
        client.listen(tools_list_changed=True) as sub,
    ):
        fake.bump_catalog(provider_pb2.ToolDescriptor(name="more", input_schema_json='{"type":"object"}'))
        link = gateway.registry.links["fake"]
        assert await link.discover()
        change = await gateway.registry.rebuild()
        assert change.tools and not change.prompts
        async with asyncio.timeout(10):
            event = await anext(aiter(sub))
        assert isinstance(event, ToolsListChanged)
        assert "fake_more" in {t.name for t in (await client.list_tools()).tools}


async def test_modern_listen_gets_resource_updates(fake: FakeProvider, gateway: Gateway) -> None:
    uri = "fake://quote/BNBUSDT"
    async with (
        Client(gateway.server) as client,
        client.listen(resource_subscriptions=[uri]) as sub,
    ):
        await fake.wait_subscribed(uri)
        await fake.push_update(uri)
        async with asyncio.timeout(10):
            event = await anext(aiter(sub))
        assert event == ResourceUpdated(uri=uri)
    await fake.wait_unsubscribed(uri)


async def test_capabilities_advertise_list_changed_and_subscribe(gateway: Gateway) -> None:
    async with Client(gateway.server, mode="legacy") as client:
        caps = client.server_capabilities
    assert caps.tools == types.ToolsCapability(list_changed=True)
    assert caps.resources == types.ResourcesCapability(subscribe=True, list_changed=True)
    assert caps.prompts == types.PromptsCapability(list_changed=True)
    assert caps.completions is not None
    assert caps.logging is not None


async def test_modern_clients_are_not_offered_logging(gateway: Gateway) -> None:
    async with Client(gateway.server) as client:
        caps = client.server_capabilities
    assert caps.logging is None and caps.tools is not None


async def test_unexpected_failure_is_a_bare_internal_error(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        def template_for(self, uri: str) -> None:
            raise RuntimeError("secret internals")

    monkeypatch.setattr(gateway.registry, "catalog", Broken())
    async with Client(gateway.server, mode="legacy") as client:
        with pytest.raises(MCPError) as err:
            await client.read_resource("fake://quote/BTCUSDT")
    assert err.value.code == -32603
    assert "secret" not in err.value.message


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_both_eras_list_resources(gateway: Gateway, mode: Literal["auto", "legacy"]) -> None:
    async with Client(gateway.server, mode=mode) as client:
        listed = (await client.list_resources()).resources
        note = await client.read_resource("fake://note/readme")
    assert [(r.uri, r.name) for r in listed] == LISTED
    [contents] = note.contents
    assert isinstance(contents, types.TextResourceContents) and contents.text == "# Readme"


async def test_resources_list_is_served_from_a_brief_cache_then_relisted(fake: FakeProvider, gateway: Gateway) -> None:
    assert fake.listed is not None
    gateway.registry.resource_list_ttl_s = 3600.0
    async with Client(gateway.server, mode="legacy") as client:
        await client.list_resources()
        calls = fake.list_calls
        fake.listed.pop()
        cached = (await client.list_resources()).resources
        assert fake.list_calls == calls and len(cached) == len(LISTED)
        gateway.registry.resource_list_ttl_s = 0.0
        fresh = (await client.list_resources()).resources
    assert fake.list_calls == calls + 1 and len(fresh) == len(LISTED) - 1


async def test_a_provider_without_list_resources_lists_none_and_is_not_asked_again(fake: FakeProvider) -> None:
    fake.listed = None
    settings = GatewaySettings(providers=(ProviderTarget("fake", fake.address),), startup_wait_s=5.0)
    registry = ProviderRegistry(settings)
    await registry.start()
    registry.resource_list_ttl_s = 0.0
    gw = Gateway(registry)
    try:
        async with Client(gw.server, mode="legacy") as client:
            first = (await client.list_resources()).resources
            calls = fake.list_calls
            second = (await client.list_resources()).resources
            templates = (await client.list_resource_templates()).resource_templates
    finally:
        await gw.close()
        await registry.close()
    assert first == second == []
    assert calls >= 1 and fake.list_calls == calls
    assert [t.uri_template for t in templates] == ["fake://quote/{symbol}"]
