"""Subscribing to a resource URI whose read would be refused, through a real provider and the sandbox.

Such a subscription used to be accepted and then only logged failed polls forever. provider.v1
SubscribeResourceUpdates now refuses it at once with the error a read of the URI gives (code and
kind), bounded however long the URI is.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
import pytest_asyncio
from mcp.shared.exceptions import MCPError

from contracts.provider.v1 import provider_pb2, provider_pb2_grpc
from tests.e2e.conftest import error_details, mcp_session
from tests.stack import ProviderProcess

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(120)]

#: the error boundary's bounds (provider/services/errors.py): status text and details trailer
MAX_STATUS_BYTES, MAX_DETAILS_BYTES = 900, 1000


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def stub(stack_provider: ProviderProcess) -> AsyncIterator[provider_pb2_grpc.ProviderStub]:
    async with grpc.aio.insecure_channel(stack_provider.address) as ch:
        yield provider_pb2_grpc.ProviderStub(ch)


def details(err: grpc.aio.AioRpcError) -> dict[str, Any]:
    return error_details(err, max_bytes=MAX_DETAILS_BYTES)


async def subscribe_refused(stub: provider_pb2_grpc.ProviderStub, *uris: str) -> grpc.aio.AioRpcError:
    """Opens a subscription that must end with an error before its first update."""
    call = stub.SubscribeResourceUpdates(provider_pb2.SubscribeResourceUpdatesRequest(uris=list(uris)))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        async for update in call:
            raise AssertionError(f"the subscription was accepted and sent {update}")
    assert len((refused.value.details() or "").encode()) <= MAX_STATUS_BYTES
    return refused.value


async def read_refused(stub: provider_pb2_grpc.ProviderStub, uri: str) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.ReadResource(provider_pb2.ReadResourceRequest(uri=uri))
    return refused.value


@pytest.mark.parametrize(
    ("uri", "code", "kind", "names"),
    [
        ("binance://orders/bogus", grpc.StatusCode.INVALID_ARGUMENT, "InvalidArgument", "filled"),
        ("binance://account/trades/NOSUCH", grpc.StatusCode.INVALID_ARGUMENT, "UnknownSymbol", "NOSUCH"),
        ("binance://market/NOSUCH", grpc.StatusCode.INVALID_ARGUMENT, "UnknownSymbol", "NOSUCH"),
        ("binance://nothing/here", grpc.StatusCode.NOT_FOUND, "NotFound", "binance://market/{SYMBOL}"),
    ],
)
async def test_a_uri_whose_read_is_refused_is_refused_at_subscribe_time_with_the_reads_error(
    stub: provider_pb2_grpc.ProviderStub, uri: str, code: grpc.StatusCode, kind: str, names: str
) -> None:
    refused = await subscribe_refused(stub, uri)
    assert refused.code() == code, refused
    assert details(refused)["kind"] == kind
    assert names in (refused.details() or ""), refused.details()
    read = await read_refused(stub, uri)
    assert (read.code(), details(read)["kind"]) == (refused.code(), kind)


async def test_an_accepted_subscription_says_so_at_once_and_a_refused_one_ends(
    stub: provider_pb2_grpc.ProviderStub,
) -> None:
    """The response headers of an accepted subscription come before any update: a gateway can wait
    for them to know the subscription stands (a refused one ends with its error instead)."""
    accepted = stub.SubscribeResourceUpdates(
        provider_pb2.SubscribeResourceUpdatesRequest(uris=["binance://market/BTCUSDT", "binance://orders/OPEN"])
    )
    try:
        await accepted.initial_metadata()
        assert not accepted.done()
    finally:
        accepted.cancel()
    refused = stub.SubscribeResourceUpdates(
        provider_pb2.SubscribeResourceUpdatesRequest(uris=["binance://orders/bogus"])
    )
    await refused.initial_metadata()
    assert await refused.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_one_bad_uri_refuses_the_whole_subscription(stub: provider_pb2_grpc.ProviderStub) -> None:
    refused = await subscribe_refused(stub, "binance://market/BTCUSDT", "binance://orders/bogus")
    assert refused.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "bogus" in (refused.details() or "")


@pytest.mark.parametrize("template", ["binance://market/{}", "binance://orders/{}", "binance://{}"])
async def test_a_megabyte_uri_is_refused_with_a_bounded_error(
    stub: provider_pb2_grpc.ProviderStub, stack_provider: ProviderProcess, template: str
) -> None:
    uri = template.format("X" * 1_000_000)
    refused = await subscribe_refused(stub, uri)
    assert refused.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND), refused
    assert "cut" in (refused.details() or ""), refused.details()
    details(refused)  # bounded (checked inside)
    assert refused.code() == (await read_refused(stub, uri)).code()
    assert "X" * 5000 not in stack_provider.logs()


@pytest.mark.filterwarnings("ignore:resources/.*subscribe is removed")  # the handshake era Claude Code speaks
async def test_the_gateway_answers_resources_subscribe_with_the_providers_refusal(
    stack_provider: ProviderProcess,
) -> None:
    async with mcp_session(stack_provider.address) as s:
        for uri, names in (
            ("binance://orders/bogus", "unknown order status"),
            ("binance://account/trades/NOSUCH", "NOSUCH"),
            ("binance://market/NOSUCH", "NOSUCH"),
        ):
            with pytest.raises(MCPError) as refused:
                await s.subscribe_resource(uri)
            assert refused.value.error.code == -32602, refused.value.error
            assert names in refused.value.error.message, refused.value.error
        await s.subscribe_resource("binance://market/BTCUSDT")  # a good one still is
        await s.unsubscribe_resource("binance://market/BTCUSDT")
