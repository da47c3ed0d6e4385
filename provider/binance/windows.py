"""Time-window rules of Binance's account history endpoints.

Binance allows at most 24 h between `startTime` and `endTime` on `GET /api/v3/myTrades`,
`GET /api/v3/allOrders` and `GET /api/v3/allOrderList`
(https://developers.binance.com/docs/binance-spot-api-docs/rest-api/account-endpoints).
"""

from __future__ import annotations

from provider.errors import InvalidArgument

DAY_MS = 24 * 60 * 60 * 1000


def check_window(start_ms: int | None, end_ms: int | None) -> None:
    """Reject a window that ends before it starts or spans more than 24 h; an open end is always allowed."""
    if start_ms is not None and end_ms is not None:
        if end_ms < start_ms:
            raise InvalidArgument(f"end_time_ms ({end_ms}) is before start_time_ms ({start_ms})")
        if end_ms - start_ms > DAY_MS:
            raise InvalidArgument("start_time_ms and end_time_ms must be at most 24 h (86400000 ms) apart")
