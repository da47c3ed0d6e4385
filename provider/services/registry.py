"""Tool handlers by tool name: one async function per tool, shared by gRPC and InvokeTool.

A handler takes the provider's `App` and a validated request message and returns the response
message. It raises only `ProviderError`s; translation to gRPC statuses happens once, in
`provider/services/errors.py`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from google.protobuf.message import Message

if TYPE_CHECKING:
    from provider.app import App

Handler = Callable[["App", Any], Awaitable[Message]]
H = TypeVar("H", bound=Handler)

_HANDLERS: dict[str, Handler] = {}


def tool(name: str) -> Callable[[H], H]:
    def register(fn: H) -> H:
        if name in _HANDLERS:
            raise RuntimeError(f"tool {name} registered twice")
        _HANDLERS[name] = fn
        return fn

    return register


def handlers() -> dict[str, Handler]:
    # Importing the modules registers their handlers.
    from provider.services import account, market, orderbook, trading  # noqa: F401

    return _HANDLERS
