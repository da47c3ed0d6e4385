"""Awaiting a grpc.aio call inside the MCP SDK's anyio cancel scopes.

A client may cancel a request in flight (`notifications/cancelled`); the SDK then cancels that
request's anyio cancel scope. grpc.aio answers a cancelled await of a unary call with a
CancelledError of its own, without the message by which anyio's scope knows its cancellations: the
scope lets it through, and it ends the server's task group, that is the whole session (over stdio,
the gateway process). Awaiting the call through a shield makes the caller's own cancellation the one
raised; the RPC is cancelled too, so the provider stops working for nobody.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def awaited(call: Awaitable[T]) -> T:
    """``await call``, except that a cancellation of the caller cancels the call and is raised as is."""
    task = asyncio.ensure_future(call)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        task.cancel()  # grpc.aio's await cancels the RPC when cancelled
        raise
