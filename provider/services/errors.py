"""The one place where a `ProviderError` becomes a gRPC status (and anything else an INTERNAL).

`ErrorBoundary`, a server interceptor, wraps every method of the server once (unary-unary,
unary-stream and stream-stream; stream-unary methods, which the contracts do not have, pass as they
are): undecodable request bytes become INVALID_ARGUMENT, the call's correlation id is bound to every
log line, unary calls and request-streaming calls (a tool call's stream: `InvokeToolStream`) are
counted for the drain (`in_flight.py`), and any error raised by a handler (or while a stream yields)
is mapped here. Servicers and handlers have no try/except of their own.

The status message is readable on its own (grpcurl users see it); the same facts travel as JSON in
the trailing metadata `error-details-json` for the gateway. Both are bounded whatever the input
(`MAX_STATUS_BYTES`, `MAX_DETAILS_BYTES`): an error may quote what the caller sent, never all of it.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import time
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import grpc
import structlog
from google.protobuf.message import DecodeError

from provider.errors import InvalidArgument, ProviderError
from provider.services.in_flight import IN_FLIGHT

T = TypeVar("T")
log = structlog.get_logger("provider.rpc")

DETAILS_KEY = "error-details-json"
#: bounds of the status message and of the details trailer, in UTF-8 bytes (together under 2 KB)
MAX_STATUS_BYTES = 900
MAX_DETAILS_BYTES = 1000
#: share of each text inside those bounds
_MESSAGE_BYTES, _BINANCE_MSG_BYTES, _HINT_BYTES, _LOG_FIELD_BYTES = 480, 160, 200, 200


def clip(text: str, limit_bytes: int) -> str:
    """`text` cut to at most `limit_bytes` UTF-8 bytes, saying how long it was."""
    data = text.encode("utf-8", errors="replace")
    if len(data) <= limit_bytes:
        return text
    note = f"... ({len(text)} characters, cut)"
    return data[: max(0, limit_bytes - len(note))].decode("utf-8", errors="ignore") + note


def describe(err: ProviderError) -> str:
    """The status message: message, Binance's code and text, hint, retry advice; at most MAX_STATUS_BYTES."""
    text = clip(err.message, _MESSAGE_BYTES)
    if err.binance_code is not None:
        text += f" (Binance {err.binance_code}: {clip(str(err.binance_msg), _BINANCE_MSG_BYTES)})"
    if err.hint:
        text += f" Hint: {clip(err.hint, _HINT_BYTES)}"
    text += " Retrying is safe." if err.retry_safe else " Do not retry blindly."
    return clip(text, MAX_STATUS_BYTES)


def _clipped(value: Any, limit_bytes: int) -> Any:
    if isinstance(value, str):
        return clip(value, limit_bytes)
    if isinstance(value, dict):
        return {clip(str(k), 80): _clipped(v, limit_bytes) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clipped(v, limit_bytes) for v in value]
    return value


def details_json(err: ProviderError) -> str:
    """The `error-details-json` trailer: every fact of `to_details()`, at most MAX_DETAILS_BYTES.

    Long texts are cut first; when the details are still too long (many filter violations), the
    extras are dropped and `"truncated": true` says so, keeping what a caller acts on.
    """
    details = {**err.to_details(), "message": err.message}
    for limit in (400, 160):
        text = json.dumps(_clipped(details, limit), default=str)
        if len(text.encode()) <= MAX_DETAILS_BYTES:
            return text
    kept = ("kind", "binance_code", "retry_safe", "retry_after_s")
    core: dict[str, Any] = {k: details[k] for k in kept if k in details}
    core |= {"hint": clip(str(err.hint), _HINT_BYTES), "message": clip(err.message, 300), "truncated": True}
    return json.dumps(core, default=str)


def correlation_id(context: grpc.aio.ServicerContext) -> str:
    """The id the gateway sent with the call (metadata `x-correlation-id`), or ""."""
    for key, value in context.invocation_metadata() or ():
        if key == "x-correlation-id":
            return str(value)
    return ""


async def guarded(
    context: grpc.aio.ServicerContext, method: str, call: Callable[[], Awaitable[T]], **log_fields: str
) -> T:
    """Runs one call inside a method with extra log fields (e.g. the tool name). The boundary
    (`ErrorBoundary`) maps errors and counts calls; this only adds the fields, bound for the rest of
    the call's own task so the boundary's log line carries them too."""
    structlog.contextvars.bind_contextvars(**{k: clip(v, _LOG_FIELD_BYTES) for k, v in log_fields.items()})
    return await call()


async def _abort(context: grpc.aio.ServicerContext, method: str, exc: Exception) -> None:
    """The mapping: a ProviderError by its status name with the details trailer; anything else INTERNAL."""
    if isinstance(exc, ProviderError):
        log.info(
            "rpc_failed", method=method, kind=exc.kind, binance_code=exc.binance_code, message=clip(exc.message, 2000)
        )
        trailer = ((DETAILS_KEY, details_json(exc)),)
        await context.abort(grpc.StatusCode[exc.status], describe(exc), trailing_metadata=trailer)
    log.error("rpc_crashed", method=method, exc_info=exc)
    await context.abort(grpc.StatusCode.INTERNAL, "internal provider error; see the provider's log")


def bounded(handler: grpc.RpcMethodHandler | None, method: str) -> grpc.RpcMethodHandler | None:
    """`handler` inside the boundary: correlation id, in-flight count, logging, error mapping."""
    handler = tolerant(handler, method)
    if handler is None:
        return handler
    wrap = _BOUNDED.get((handler.request_streaming, handler.response_streaming))
    return handler if wrap is None else wrap(handler, method)


def _bound_unary_unary(handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
    inner = handler.unary_unary

    async def unary_unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
        with structlog.contextvars.bound_contextvars(correlation_id=clip(correlation_id(context), 80)):
            IN_FLIGHT.enter()
            started = time.perf_counter()
            try:
                result = await inner(request, context)
                log.info("rpc", method=method, ms=round((time.perf_counter() - started) * 1000, 3))
                return result
            except grpc.aio.AbortError:
                raise
            except Exception as exc:
                await _abort(context, method, exc)
                raise
            finally:
                IN_FLIGHT.exit()

    return grpc.unary_unary_rpc_method_handler(
        unary_unary, request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


async def _streamed(
    items: AsyncGenerator[Any, None], context: grpc.aio.ServicerContext, method: str
) -> AsyncGenerator[Any, None]:
    """What a streaming handler yields (see `_later`), its errors mapped."""
    with structlog.contextvars.bound_contextvars(correlation_id=clip(correlation_id(context), 80)):
        try:
            async with contextlib.aclosing(items):
                async for item in items:
                    yield item
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            await _abort(context, method, exc)
            raise


def _bound_unary_stream(handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
    inner = handler.unary_stream

    async def unary_stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        # the handler is called inside the generator so that even its first step is mapped
        async with contextlib.aclosing(_streamed(_later(inner, request, context), context, method)) as items:
            async for item in items:
                yield item

    return grpc.unary_stream_rpc_method_handler(
        unary_stream, request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


def _bound_stream_stream(handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
    inner = handler.stream_stream

    async def stream_stream(requests: AsyncIterable[Any], context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        IN_FLIGHT.enter()  # a tool call that streams: the drain waits for it as for a unary call
        try:
            async with contextlib.aclosing(_streamed(_later(inner, requests, context), context, method)) as items:
                async for item in items:
                    yield item
        finally:
            IN_FLIGHT.exit()

    return grpc.stream_stream_rpc_method_handler(
        stream_stream, request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


async def _later(
    handler: Callable[..., Any], request: Any, context: grpc.aio.ServicerContext
) -> AsyncGenerator[Any, None]:
    """Calls `handler` on first iteration (so a handler that raises before its first yield, or one
    that writes with `context.write`, fails inside the boundary) and yields what it streams.

    Every generator level is closed explicitly (`aclosing`) so that a call that ends early runs the
    handler's cleanup at once rather than whenever the event loop finalizes abandoned generators.
    """
    result = handler(request, context)
    if inspect.isasyncgen(result):
        async with contextlib.aclosing(result):  # the handler's finally runs when the call ends
            async for item in result:
                yield item
    else:
        await result


_BOUNDED: dict[tuple[bool, bool], Callable[[grpc.RpcMethodHandler, str], grpc.RpcMethodHandler]] = {
    (False, False): _bound_unary_unary,
    (False, True): _bound_unary_stream,
    (True, True): _bound_stream_stream,
}


# -- requests whose bytes do not parse ----------------------------------------------------------


class Undecodable:
    """Stands for a request whose bytes did not parse (corrupt, truncated, nested too deep).

    grpc answers UNKNOWN when a deserializer raises; the tolerant deserializer returns this instead,
    so the call is refused as INVALID_ARGUMENT through `guarded` like any other bad argument.
    """

    def __init__(self, error: str) -> None:
        self.error = error

    def refuse(self, method: str) -> InvalidArgument:
        return InvalidArgument(
            f"the request to {clip(method, 200)} is not a valid protobuf message: {clip(self.error, 200)}"
        )


def tolerant(handler: grpc.RpcMethodHandler | None, method: str) -> grpc.RpcMethodHandler | None:
    """`handler` with a deserializer that never raises: undecodable bytes become INVALID_ARGUMENT.

    In a request stream the refusal comes when the handler reaches the undecodable message (the
    messages before it are served); a handler reading with `context.read()` sees `Undecodable`.
    """
    if handler is None or handler.request_deserializer is None:
        return handler
    parse = handler.request_deserializer

    def deserialize(data: bytes) -> Any:
        try:
            return parse(data)
        except DecodeError as exc:
            return Undecodable(str(exc))

    async def refuse(request: Undecodable, context: grpc.aio.ServicerContext) -> Any:
        raise request.refuse(method)

    if handler.unary_unary is not None:
        inner = handler.unary_unary

        async def unary_unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
            if isinstance(request, Undecodable):
                return await refuse(request, context)
            return await inner(request, context)

        return grpc.unary_unary_rpc_method_handler(
            unary_unary, request_deserializer=deserialize, response_serializer=handler.response_serializer
        )
    if handler.unary_stream is not None:
        inner_stream = handler.unary_stream

        async def unary_stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            if isinstance(request, Undecodable):
                await refuse(request, context)
                return
            result = inner_stream(request, context)
            if inspect.isasyncgen(result):
                async for item in result:
                    yield item
            else:  # a handler that writes with context.write
                await result

        return grpc.unary_stream_rpc_method_handler(
            unary_stream, request_deserializer=deserialize, response_serializer=handler.response_serializer
        )
    if handler.stream_stream is not None:
        inner_bidi = handler.stream_stream

        async def checked(requests: AsyncIterable[Any]) -> AsyncIterator[Any]:
            async for request in requests:
                if isinstance(request, Undecodable):
                    raise request.refuse(method)
                yield request

        async def stream_stream(requests: AsyncIterable[Any], context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            result = inner_bidi(checked(requests), context)
            if inspect.isasyncgen(result):
                async for item in result:
                    yield item
            else:  # a handler that writes with context.write
                await result

        return grpc.stream_stream_rpc_method_handler(
            stream_stream, request_deserializer=deserialize, response_serializer=handler.response_serializer
        )
    return handler


class ErrorBoundary(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Puts every method of the server inside the boundary (`bounded`), once."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        return bounded(handler, handler_call_details.method)
