"""Binance REST endpoints, their security types and request weights, as data (spec §2, §9).

Endpoint modules and the client only look things up here; the governor charges
:func:`weight_of` before a request goes out. Weights are the documented ones (read
2026-07). Successful order placement/cancel costs 0 since 2026-04-02, but a failed one still
costs the documented weight, so we reserve that and let the used-weight header correct us.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "ENDPOINTS",
    "KLINE_INTERVALS",
    "NEW_ORDER_ENDPOINTS",
    "Endpoint",
    "Security",
    "weight_of",
]

KLINE_INTERVALS = frozenset(
    {"1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w",
     "1M"}
)


class Security(enum.Enum):
    """Spec §1.6: NONE is public; TRADE and USER_DATA need the key header and a signature."""

    NONE = "NONE"
    TRADE = "TRADE"
    USER_DATA = "USER_DATA"


@dataclass(frozen=True)
class Endpoint:
    """One REST endpoint.

    Attributes:
        name: our short name (also the log field).
        method, path: HTTP method and path under the REST base.
        security: whether the call is signed.
        weight: documented request weight (the base case; see :func:`weight_of`).
        mutating: changes exchange state; never retried automatically.
    """

    name: str
    method: str
    path: str
    security: Security
    weight: int
    mutating: bool = False

    @property
    def signed(self) -> bool:
        return self.security is not Security.NONE


def _ep(name: str, method: str, path: str, security: Security, weight: int,
        mutating: bool = False) -> tuple[str, Endpoint]:
    return name, Endpoint(name, method, path, security, weight, mutating)


ENDPOINTS: Mapping[str, Endpoint] = dict(
    [
        _ep("ping", "GET", "/api/v3/ping", Security.NONE, 1),
        _ep("time", "GET", "/api/v3/time", Security.NONE, 1),
        _ep("exchange_info", "GET", "/api/v3/exchangeInfo", Security.NONE, 20),
        _ep("depth", "GET", "/api/v3/depth", Security.NONE, 5),
        _ep("trades", "GET", "/api/v3/trades", Security.NONE, 25),
        _ep("klines", "GET", "/api/v3/klines", Security.NONE, 2),
        _ep("avg_price", "GET", "/api/v3/avgPrice", Security.NONE, 2),
        _ep("reference_price", "GET", "/api/v3/referencePrice", Security.NONE, 2),
        _ep("ticker_24hr", "GET", "/api/v3/ticker/24hr", Security.NONE, 2),
        _ep("ticker_price", "GET", "/api/v3/ticker/price", Security.NONE, 2),
        _ep("book_ticker", "GET", "/api/v3/ticker/bookTicker", Security.NONE, 2),
        _ep("account", "GET", "/api/v3/account", Security.USER_DATA, 20),
        _ep("my_trades", "GET", "/api/v3/myTrades", Security.USER_DATA, 20),
        _ep("new_order", "POST", "/api/v3/order", Security.TRADE, 1, mutating=True),
        _ep("test_order", "POST", "/api/v3/order/test", Security.TRADE, 1),
        _ep("cancel_order", "DELETE", "/api/v3/order", Security.TRADE, 1, mutating=True),
        _ep("get_order", "GET", "/api/v3/order", Security.USER_DATA, 4),
        _ep("open_orders", "GET", "/api/v3/openOrders", Security.USER_DATA, 6),
        _ep("all_orders", "GET", "/api/v3/allOrders", Security.USER_DATA, 20),
        _ep("cancel_open_orders", "DELETE", "/api/v3/openOrders", Security.TRADE, 1,
            mutating=True),
        _ep("new_oco", "POST", "/api/v3/orderList/oco", Security.TRADE, 1, mutating=True),
        _ep("new_oto", "POST", "/api/v3/orderList/oto", Security.TRADE, 1, mutating=True),
        _ep("new_otoco", "POST", "/api/v3/orderList/otoco", Security.TRADE, 1, mutating=True),
        _ep("cancel_order_list", "DELETE", "/api/v3/orderList", Security.TRADE, 1, mutating=True),
        _ep("get_order_list", "GET", "/api/v3/orderList", Security.USER_DATA, 4),
        _ep("all_order_lists", "GET", "/api/v3/allOrderList", Security.USER_DATA, 20),
        _ep("open_order_lists", "GET", "/api/v3/openOrderList", Security.USER_DATA, 6),
        _ep("cancel_replace", "POST", "/api/v3/order/cancelReplace", Security.TRADE, 1,
            mutating=True),
        _ep("amend_order", "PUT", "/api/v3/order/amend/keepPriority", Security.TRADE, 4,
            mutating=True),
        _ep("order_amendments", "GET", "/api/v3/order/amendments", Security.USER_DATA, 4),
        # wallet API (its own weight budget on Binance; counted in ours, a slight over-count)
        _ep("api_restrictions", "GET", "/sapi/v1/account/apiRestrictions", Security.USER_DATA, 1),
    ]
)

NEW_ORDER_ENDPOINTS = frozenset({"new_order", "new_oco", "new_oto", "new_otoco", "cancel_replace"})
"""Calls that count against the account's unfilled order count (and answer its headers)."""

# (upper bound inclusive, weight) tiers; the first tier whose bound >= n applies.
DEPTH_WEIGHT_TIERS: tuple[tuple[int, int], ...] = ((100, 5), (500, 25), (1000, 50), (5000, 250))
TICKER_24HR_SYMBOLS_TIERS: tuple[tuple[int, int], ...] = ((20, 2), (100, 40), (10**9, 80))
TICKER_24HR_ALL_WEIGHT = 80
TICKER_LIST_WEIGHT = 4  # ticker/price and ticker/bookTicker with symbols or none
OPEN_ORDERS_ALL_WEIGHT = 80
MY_TRADES_BY_ORDER_WEIGHT = 5
TEST_ORDER_WITH_COMMISSION_WEIGHT = 20


def _tier(tiers: tuple[tuple[int, int], ...], n: int) -> int:
    for bound, weight in tiers:
        if n <= bound:
            return weight
    return tiers[-1][1]


def weight_of(endpoint: Endpoint, params: Mapping[str, object]) -> int:
    """The documented weight of one call of ``endpoint`` with ``params`` (spec §2 table)."""
    name = endpoint.name
    if name == "depth":
        limit = params.get("limit")
        return _tier(DEPTH_WEIGHT_TIERS, int(str(limit)) if limit is not None else 100)
    if name == "ticker_24hr":
        if params.get("symbol") is not None:
            return endpoint.weight
        symbols = params.get("symbols")
        if isinstance(symbols, (list, tuple)):
            return _tier(TICKER_24HR_SYMBOLS_TIERS, len(symbols))
        return TICKER_24HR_ALL_WEIGHT
    if name in ("ticker_price", "book_ticker"):
        return endpoint.weight if params.get("symbol") is not None else TICKER_LIST_WEIGHT
    if name == "open_orders":
        return endpoint.weight if params.get("symbol") is not None else OPEN_ORDERS_ALL_WEIGHT
    if name == "my_trades" and params.get("orderId") is not None:
        return MY_TRADES_BY_ORDER_WEIGHT
    if name == "test_order" and params.get("computeCommissionRates") in (True, "true"):
        return TEST_ORDER_WITH_COMMISSION_WEIGHT
    return endpoint.weight
