"""The provider kit for the fixture provider's modules (it lives in `provider_kit`, shared with Binance)."""

from __future__ import annotations

from provider_kit import (
    InputNeeded,
    InputUnavailable,
    Reply,
    ToolCall,
    ToolHandler,
    audio,
    embedded,
    image,
    resource_link,
    serve_tool_stream,
    text,
    unary_reply,
)

__all__ = [
    "InputNeeded",
    "InputUnavailable",
    "Reply",
    "ToolCall",
    "ToolHandler",
    "audio",
    "embedded",
    "image",
    "resource_link",
    "serve_tool_stream",
    "text",
    "unary_reply",
]
