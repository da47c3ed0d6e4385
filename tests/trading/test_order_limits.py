"""Order-rate limits: -1015 holds back new orders only, for its Retry-After."""

from __future__ import annotations

import pytest

from provider.binance.order_limits import OrderRateLimiter, order_limits_from
from provider.errors import OrderRateLimited

RATE_LIMITS = [
    {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 50},
    {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 160000},
]


def test_orders_limits_are_read_from_exchange_info_with_their_header_labels() -> None:
    limits = order_limits_from(RATE_LIMITS)
    assert [(x.label, x.interval_s, x.limit) for x in limits] == [("10s", 10, 50), ("1d", 86400, 160000)]


def test_a_1015_holds_back_new_orders_until_retry_after_only() -> None:
    lim = OrderRateLimiter(order_limits_from(RATE_LIMITS))
    lim.on_rejected(7, "Too many new orders; current limit is 50 orders per 10 SECOND.", now_s=1000.0)
    with pytest.raises(OrderRateLimited) as info:
        lim.check(1003.0)
    assert info.value.retry_after_s == 4.0
    lim.check(1007.0)


def test_a_reported_count_at_the_limit_refuses_until_the_window_ends() -> None:
    lim = OrderRateLimiter(order_limits_from(RATE_LIMITS))
    lim.observe({"10s": 50, "1d": 900}, now_s=1001.0)
    with pytest.raises(OrderRateLimited, match="window ends in 9 s"):
        lim.check(1001.5)
    lim.check(1010.0)  # a new 10-second window
    assert lim.snapshot(1001.5)["order_counts"] == {"10s": 50, "1d": 900}
