"""Reading proto request fields: optional fields as values or None, and the order a request names."""

from __future__ import annotations

from typing import Any

from google.protobuf.message import Message

from provider.errors import InvalidArgument


def optional(req: Message, name: str) -> Any:
    """An optional field's value, or None when the caller did not set it."""
    return getattr(req, name) if req.HasField(name) else None


def order_ref(order_id: int | None, client_order_id: str | None, missing: str) -> dict[str, Any]:
    """The ``get_order``/``cancel_order`` keywords naming one order: by exchange id (with the client id
    too when given, which Binance then also checks), else by client order id.

    Raises:
        InvalidArgument: neither id was given (``missing`` says which fields to give).
    """
    if order_id is not None:
        return {"order_id": order_id, "orig_client_order_id": client_order_id}
    if client_order_id is not None:
        return {"orig_client_order_id": client_order_id}
    raise InvalidArgument(missing)
