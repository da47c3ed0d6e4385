"""The error boundary covers stream-stream methods (a tool call's stream, `InvokeToolStream`): each
message is served, a ProviderError becomes its status with the details trailer, anything else
INTERNAL, undecodable bytes INVALID_ARGUMENT, and the call counts as in flight until it ends."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterable, AsyncIterator

import grpc
import pytest
from google.protobuf.wrappers_pb2 import StringValue

from provider.errors import FilterViolation, RateLimited
from provider.services.errors import DETAILS_KEY, ErrorBoundary
from provider.services.in_flight import IN_FLIGHT

GARBAGE = b"\xff\xff\xff\xff"
#: set by `_talk` when it ends, however it ends
ENDED: asyncio.Event | None = None


async def _talk(requests: AsyncIterable[StringValue], context: grpc.aio.ServicerContext) -> AsyncIterator[StringValue]:
    """Echoes each message; `count` answers the calls in flight, `refuse` and `crash` fail."""
    try:
        async for request in requests:
            if request.value == "refuse":
                raise FilterViolation("price is not a multiple of tickSize", violations=({"filter": "PRICE_FILTER"},))
            if request.value == "crash":
                raise KeyError("a bug")
            yield StringValue(value=str(IN_FLIGHT.count) if request.value == "count" else request.value)
    finally:
        if ENDED is not None:
            ENDED.set()


async def _written(requests: AsyncIterable[StringValue], context: grpc.aio.ServicerContext) -> None:
    """Answers through `context.write`, then is rate limited."""
    await context.write(StringValue(value="first"))
    raise RateLimited("rate limited", retry_after_s=3.0)


@pytest.fixture
async def channel() -> AsyncIterator[grpc.aio.Channel]:
    parse, dump = StringValue.FromString, StringValue.SerializeToString
    handlers = grpc.method_handlers_generic_handler(
        "test.Chat",
        {
            "Talk": grpc.stream_stream_rpc_method_handler(_talk, parse, dump),
            "Written": grpc.stream_stream_rpc_method_handler(_written, parse, dump),
        },
    )
    server = grpc.aio.server(interceptors=[ErrorBoundary()], options=[("grpc.so_reuseport", 0)])
    server.add_generic_rpc_handlers((handlers,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
            yield ch
    finally:
        await server.stop(0)


def _open(channel: grpc.aio.Channel, method: str = "Talk") -> grpc.aio.StreamStreamCall:
    return channel.stream_stream(f"/test.Chat/{method}")(timeout=5)


async def _say(call: grpc.aio.StreamStreamCall, text: str) -> str:
    await call.write(StringValue(value=text).SerializeToString())
    return StringValue.FromString(await call.read()).value


async def _in_flight_back_to(before: int) -> int:
    """The in-flight count once the server side has ended the call: the client may see the status
    before the handler's wrapper has run its last step, so the count is waited for (bounded)."""
    async with asyncio.timeout(5):
        while IN_FLIGHT.count != before:  # noqa: ASYNC110 - an event only for zero, and other tests may hold calls
            await asyncio.sleep(0.01)
    return IN_FLIGHT.count


async def test_each_message_is_served_and_the_call_is_in_flight_until_it_ends(channel: grpc.aio.Channel) -> None:
    before = IN_FLIGHT.count
    call = _open(channel)
    assert await _say(call, "hi") == "hi"
    assert await _say(call, "count") == str(before + 1)
    await call.done_writing()
    assert await call.read() is grpc.aio.EOF
    assert await call.code() is grpc.StatusCode.OK
    assert await _in_flight_back_to(before) == before


async def test_a_domain_error_mid_stream_becomes_its_status_with_details(channel: grpc.aio.Channel) -> None:
    before = IN_FLIGHT.count
    call = _open(channel)
    assert await _say(call, "hi") == "hi"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await _say(call, "refuse")
    assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    details = json.loads(dict(err.value.trailing_metadata() or ())[DETAILS_KEY])
    assert details["kind"] == "FilterViolation" and details["violations"] == [{"filter": "PRICE_FILTER"}]
    assert await _in_flight_back_to(before) == before


async def test_anything_else_is_internal_without_its_text(channel: grpc.aio.Channel) -> None:
    call = _open(channel)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await _say(call, "crash")
    assert err.value.code() is grpc.StatusCode.INTERNAL and "a bug" not in (err.value.details() or "")


async def test_undecodable_bytes_after_a_good_message_are_an_invalid_argument(channel: grpc.aio.Channel) -> None:
    call = _open(channel)
    assert await _say(call, "hi") == "hi"
    await call.write(GARBAGE)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call.read()
    assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "not a valid protobuf message" in (err.value.details() or "")
    assert DETAILS_KEY in dict(err.value.trailing_metadata() or ())


async def test_a_handler_that_writes_with_the_context_is_mapped_too(channel: grpc.aio.Channel) -> None:
    call = _open(channel, "Written")
    assert StringValue.FromString(await call.read()).value == "first"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call.read()
    assert err.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert json.loads(dict(err.value.trailing_metadata() or ())[DETAILS_KEY])["retry_after_s"] == 3.0


async def test_a_call_the_client_cancels_ends_the_handler_and_leaves_the_in_flight_count(
    channel: grpc.aio.Channel,
) -> None:
    global ENDED
    ENDED = asyncio.Event()
    before = IN_FLIGHT.count
    call = _open(channel)
    assert await _say(call, "count") == str(before + 1)
    call.cancel()
    await asyncio.wait_for(ENDED.wait(), timeout=5)
    assert await call.code() is grpc.StatusCode.CANCELLED
    assert await _in_flight_back_to(before) == before
