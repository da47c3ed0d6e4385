"""Reading proto request fields: optional fields as values or None."""

from __future__ import annotations

from typing import Any

from google.protobuf.message import Message


def optional(req: Message, name: str) -> Any:
    """An optional field's value, or None when the caller did not set it."""
    return getattr(req, name) if req.HasField(name) else None
