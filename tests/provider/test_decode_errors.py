"""The error boundary (`ErrorBoundary`, one interceptor for the whole server): bytes that are no
protobuf message are INVALID_ARGUMENT (never grpc's UNKNOWN), a handler's ProviderError becomes its
status with the details trailer, in unary calls and in streams alike, and anything else INTERNAL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from google.protobuf.wrappers_pb2 import StringValue

from provider.errors import FilterViolation, RateLimited
from provider.services.errors import DETAILS_KEY, ErrorBoundary

GARBAGE = b"\xff\xff\xff\xff"


async def _echo(request: StringValue, context: grpc.aio.ServicerContext) -> StringValue:
    return StringValue(value=request.value)


async def _stream(request: StringValue, context: grpc.aio.ServicerContext) -> AsyncIterator[StringValue]:
    yield StringValue(value=request.value)


async def _written(request: StringValue, context: grpc.aio.ServicerContext) -> None:
    await context.write(StringValue(value=request.value))


async def _refused(request: StringValue, context: grpc.aio.ServicerContext) -> StringValue:
    raise FilterViolation("price is not a multiple of tickSize", violations=({"filter": "PRICE_FILTER"},))


async def _limited_stream(request: StringValue, context: grpc.aio.ServicerContext) -> AsyncIterator[StringValue]:
    yield StringValue(value="first")
    raise RateLimited("rate limited", retry_after_s=3.0)


async def _crash(request: StringValue, context: grpc.aio.ServicerContext) -> StringValue:
    raise KeyError("a bug")


def _handlers() -> grpc.GenericRpcHandler:
    parse, dump = StringValue.FromString, StringValue.SerializeToString
    return grpc.method_handlers_generic_handler(
        "test.Echo",
        {
            "Echo": grpc.unary_unary_rpc_method_handler(_echo, parse, dump),
            "Stream": grpc.unary_stream_rpc_method_handler(_stream, parse, dump),
            "Written": grpc.unary_stream_rpc_method_handler(_written, parse, dump),
            "Refused": grpc.unary_unary_rpc_method_handler(_refused, parse, dump),
            "LimitedStream": grpc.unary_stream_rpc_method_handler(_limited_stream, parse, dump),
            "Crash": grpc.unary_unary_rpc_method_handler(_crash, parse, dump),
        },
    )


@pytest.fixture
async def channel() -> AsyncIterator[grpc.aio.Channel]:
    server = grpc.aio.server(interceptors=[ErrorBoundary()], options=[("grpc.so_reuseport", 0)])
    server.add_generic_rpc_handlers((_handlers(),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
            yield ch
    finally:
        await server.stop(0)


async def _call(channel: grpc.aio.Channel, method: str, payload: bytes) -> Any:
    if method in ("Echo", "Refused", "Crash"):
        return await channel.unary_unary(f"/test.Echo/{method}")(payload, timeout=5)
    return [item async for item in channel.unary_stream(f"/test.Echo/{method}")(payload, timeout=5)]


@pytest.mark.parametrize("method", ["Echo", "Stream", "Written"])
async def test_garbage_is_refused_as_an_invalid_argument_with_details(channel: grpc.aio.Channel, method: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await _call(channel, method, GARBAGE)
    assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "not a valid protobuf message" in (err.value.details() or "")
    assert DETAILS_KEY in dict(err.value.trailing_metadata() or ())


@pytest.mark.parametrize("method", ["Echo", "Stream", "Written"])
async def test_a_valid_request_is_served_unchanged(channel: grpc.aio.Channel, method: str) -> None:
    answer = await _call(channel, method, StringValue(value="hi").SerializeToString())
    items = [answer] if method == "Echo" else answer
    assert [StringValue.FromString(item).value for item in items] == ["hi"]


async def test_a_domain_error_becomes_its_status_with_machine_readable_details(channel: grpc.aio.Channel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await _call(channel, "Refused", StringValue(value="x").SerializeToString())
    assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    details = json.loads(dict(err.value.trailing_metadata() or ())[DETAILS_KEY])
    assert details["kind"] == "FilterViolation" and details["violations"] == [{"filter": "PRICE_FILTER"}]


async def test_an_error_while_a_stream_yields_is_mapped_too(channel: grpc.aio.Channel) -> None:
    call = channel.unary_stream("/test.Echo/LimitedStream")(StringValue(value="x").SerializeToString(), timeout=5)
    seen = []
    with pytest.raises(grpc.aio.AioRpcError) as err:
        async for item in call:
            seen.append(StringValue.FromString(item).value)
    assert seen == ["first"] and err.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert json.loads(dict(err.value.trailing_metadata() or ())[DETAILS_KEY])["retry_after_s"] == 3.0


async def test_anything_else_is_internal_without_its_text(channel: grpc.aio.Channel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await _call(channel, "Crash", StringValue(value="x").SerializeToString())
    assert err.value.code() is grpc.StatusCode.INTERNAL and "a bug" not in (err.value.details() or "")
