"""Order lists, cancel-replace, amendments and the key's permissions: the endpoint group split out of
``client.py`` (style: one module per endpoint group past ~800 lines).

Each function builds one request and returns the :class:`~provider.binance.client.BinanceResult`
through the client's pipeline (weight, signature, clock, error model). Mutating calls are never
retried; a lost answer raises :class:`~provider.errors.ExecutionUnknown` carrying the id to settle
it by: the list client order id (order lists), the new order's client order id (cancel-replace),
the order's new client order id (amendments).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from provider.binance.auth import ParamValue
from provider.errors import InvalidArgument

if TYPE_CHECKING:
    from provider.binance.client import BinanceClient, BinanceResult

__all__ = [
    "LIST_ENDPOINTS",
    "all_order_lists",
    "amend_order",
    "api_restrictions",
    "cancel_order_list",
    "cancel_replace",
    "get_order_list",
    "new_order_list",
    "open_order_lists",
    "order_amendments",
]

LIST_ENDPOINTS: Mapping[str, str] = {"OCO": "new_oco", "OTO": "new_oto", "OTOCO": "new_otoco"}


def _params(params: Mapping[str, Any], required: tuple[str, ...]) -> dict[str, ParamValue]:
    """Binance's parameters as given (decimal strings, ints); floats and missing ids refused."""
    out: dict[str, ParamValue] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, float) or not isinstance(value, (str, int, Decimal)):
            raise InvalidArgument(f"{key} must be a decimal string or an integer, not {type(value).__name__}")
        out[key] = value
    for key in required:
        if not out.get(key):
            raise InvalidArgument(f"{key} is required")
    out["symbol"] = str(out["symbol"]).strip().upper()
    return out


def _check_order_limits(client: BinanceClient) -> None:
    client.order_limits.check(client.server_now_ms() / 1000)


async def new_order_list(client: BinanceClient, kind: str, params: Mapping[str, Any]) -> BinanceResult:
    """``POST /api/v3/orderList/{oco,oto,otoco}`` with Binance's parameter names. Never retried.

    Raises:
        ExecutionUnknown: the answer was lost; ``client_order_id`` is the list client order id.
    """
    full = _params(params, ("symbol", "listClientOrderId"))
    _check_order_limits(client)
    return await client._call(LIST_ENDPOINTS[kind], full, client_order_id=str(full["listClientOrderId"]))


async def cancel_order_list(
    client: BinanceClient, symbol: str, order_list_id: int | None = None, list_client_order_id: str | None = None
) -> BinanceResult:
    """``DELETE /api/v3/orderList``: every open order of the list. Never retried."""
    if order_list_id is None and not list_client_order_id:
        raise InvalidArgument("pass order_list_id or list_client_order_id")
    return await client._call(
        "cancel_order_list",
        _params(
            {"symbol": symbol, "orderListId": order_list_id, "listClientOrderId": list_client_order_id}, ("symbol",)
        ),
        client_order_id=list_client_order_id,
    )


async def get_order_list(
    client: BinanceClient, order_list_id: int | None = None, list_client_order_id: str | None = None
) -> BinanceResult:
    """``GET /api/v3/orderList`` by id or list client order id (``origClientOrderId`` on the wire)."""
    if order_list_id is None and not list_client_order_id:
        raise InvalidArgument("pass order_list_id or list_client_order_id")
    return await client._call(
        "get_order_list", {"orderListId": order_list_id, "origClientOrderId": list_client_order_id}
    )


async def all_order_lists(
    client: BinanceClient,
    from_id: int | None = None,
    start_time: int | None = None,
    end_time: int | None = None,
    limit: int | None = None,
) -> BinanceResult:
    """``GET /api/v3/allOrderList``."""
    if limit is not None and not 1 <= limit <= 1000:
        raise InvalidArgument(f"limit must be 1..1000, got {limit}")
    return await client._call(
        "all_order_lists", {"fromId": from_id, "startTime": start_time, "endTime": end_time, "limit": limit}
    )


async def open_order_lists(client: BinanceClient) -> BinanceResult:
    """``GET /api/v3/openOrderList`` (every symbol)."""
    return await client._call("open_order_lists", {})


async def cancel_replace(client: BinanceClient, params: Mapping[str, Any]) -> BinanceResult:
    """``POST /api/v3/order/cancelReplace``. Never retried. A -2021/-2022 answer is returned as the
    result (``{"code", "msg", "data"}``: what each half did), not raised.

    Raises:
        ExecutionUnknown: the answer was lost; ``client_order_id`` is the new order's.
    """
    full = _params(params, ("symbol", "side", "type", "cancelReplaceMode", "newClientOrderId"))
    _check_order_limits(client)
    return await client._call("cancel_replace", full, client_order_id=str(full["newClientOrderId"]))


async def amend_order(
    client: BinanceClient,
    symbol: str,
    new_qty: str,
    new_client_order_id: str,
    order_id: int | None = None,
    orig_client_order_id: str | None = None,
) -> BinanceResult:
    """``PUT /api/v3/order/amend/keepPriority``. Never retried.

    Raises:
        ExecutionUnknown: the answer was lost; ``client_order_id`` is the order's new client order id.
    """
    if order_id is None and not orig_client_order_id:
        raise InvalidArgument("pass order_id or orig_client_order_id")
    full = _params(
        {
            "symbol": symbol,
            "orderId": order_id,
            "origClientOrderId": orig_client_order_id,
            "newClientOrderId": new_client_order_id,
            "newQty": new_qty,
        },
        ("symbol", "newQty"),
    )
    return await client._call("amend_order", full, client_order_id=new_client_order_id)


async def order_amendments(
    client: BinanceClient, symbol: str, order_id: int, from_execution_id: int | None = None, limit: int | None = None
) -> BinanceResult:
    """``GET /api/v3/order/amendments``: one order's amendments, oldest first."""
    return await client._call(
        "order_amendments",
        {"symbol": symbol.strip().upper(), "orderId": order_id, "fromExecutionId": from_execution_id, "limit": limit},
    )


async def api_restrictions(client: BinanceClient) -> BinanceResult:
    """``GET /sapi/v1/account/apiRestrictions``: what the API key may do (withdrawals, IP whitelist...)."""
    return await client._call("api_restrictions", {})
