"""The one place where a `ProviderError` becomes a gRPC status (and anything else an INTERNAL).

The status message is readable on its own (grpcurl users see it); the same facts travel as JSON in
the trailing metadata `error-details-json` for the gateway.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import grpc
import structlog

from provider.errors import ProviderError

T = TypeVar("T")
log = structlog.get_logger("provider.rpc")

DETAILS_KEY = "error-details-json"


class InFlight:
    """Counts unary calls being served, so shutdown can wait for them and not for open streams."""

    def __init__(self) -> None:
        self.count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def enter(self) -> None:
        self.count += 1
        self._idle.clear()

    def exit(self) -> None:
        self.count -= 1
        if self.count == 0:
            self._idle.set()

    async def wait_idle(self, timeout_s: float) -> bool:
        """True when every call finished within the timeout."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout_s)
        except TimeoutError:
            return False
        return True


#: the process's unary calls in flight (one provider server per process).
IN_FLIGHT = InFlight()


def describe(err: ProviderError) -> str:
    text = err.message
    if err.binance_code is not None:
        text += f" (Binance {err.binance_code}: {err.binance_msg})"
    if err.hint:
        text += f" Hint: {err.hint}"
    text += " Retrying is safe." if err.retry_safe else " Do not retry blindly."
    return text


def correlation_id(context: grpc.aio.ServicerContext) -> str:
    """The id the gateway sent with the call (metadata `x-correlation-id`), or ""."""
    for key, value in context.invocation_metadata() or ():
        if key == "x-correlation-id":
            return str(value)
    return ""


async def guarded(
    context: grpc.aio.ServicerContext, method: str, call: Callable[[], Awaitable[T]], **log_fields: str
) -> T:
    """Runs one RPC: binds its correlation id and `log_fields` to every log line, logs it, maps failures."""
    with structlog.contextvars.bound_contextvars(correlation_id=correlation_id(context), **log_fields):
        IN_FLIGHT.enter()
        try:
            return await _mapped(context, method, call)
        finally:
            IN_FLIGHT.exit()


async def _mapped(context: grpc.aio.ServicerContext, method: str, call: Callable[[], Awaitable[T]]) -> T:
    started = time.perf_counter()
    try:
        result = await call()
        log.info("rpc", method=method, ms=round((time.perf_counter() - started) * 1000, 3))
        return result
    except ProviderError as err:
        log.info("rpc_failed", method=method, kind=err.kind, binance_code=err.binance_code, message=err.message)
        details = json.dumps({**err.to_details(), "message": err.message}, default=str)
        await context.abort(err.grpc_status, describe(err), trailing_metadata=((DETAILS_KEY, details),))
        raise  # unreachable: abort raises
    except grpc.aio.AbortError:
        raise
    except Exception:
        log.exception("rpc_crashed", method=method)
        await context.abort(grpc.StatusCode.INTERNAL, "internal provider error; see the provider's log")
        raise
