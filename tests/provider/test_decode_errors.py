"""Bytes that are no protobuf message are refused as INVALID_ARGUMENT (with the details trailer),
never grpc's UNKNOWN: the tolerant deserializer, installed per handler or by `DecodeErrors`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from google.protobuf.wrappers_pb2 import StringValue

from provider.services.errors import DETAILS_KEY, DecodeErrors

GARBAGE = b"\xff\xff\xff\xff"


async def _echo(request: StringValue, context: grpc.aio.ServicerContext) -> StringValue:
    return StringValue(value=request.value)


async def _stream(request: StringValue, context: grpc.aio.ServicerContext) -> AsyncIterator[StringValue]:
    yield StringValue(value=request.value)


async def _written(request: StringValue, context: grpc.aio.ServicerContext) -> None:
    await context.write(StringValue(value=request.value))


def _handlers() -> grpc.GenericRpcHandler:
    parse, dump = StringValue.FromString, StringValue.SerializeToString
    return grpc.method_handlers_generic_handler(
        "test.Echo",
        {
            "Echo": grpc.unary_unary_rpc_method_handler(_echo, parse, dump),
            "Stream": grpc.unary_stream_rpc_method_handler(_stream, parse, dump),
            "Written": grpc.unary_stream_rpc_method_handler(_written, parse, dump),
        },
    )


@pytest.fixture
async def channel() -> AsyncIterator[grpc.aio.Channel]:
    server = grpc.aio.server(interceptors=[DecodeErrors()])
    server.add_generic_rpc_handlers((_handlers(),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
            yield ch
    finally:
        await server.stop(0)


async def _call(channel: grpc.aio.Channel, method: str, payload: bytes) -> Any:
    if method == "Echo":
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
