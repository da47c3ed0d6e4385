"""Review attacks on session 23's changes that run in process (see tests/e2e/test_review_attacks_session23.py)."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import grpc
import pytest

from common.backoff import backoff_delay
from contracts.binance.v1 import trading_pb2, trading_pb2_grpc
from provider.binance.transport import RestResponse
from provider.catalog.render import render, render_time
from provider.content.markdown import iso as markdown_iso
from provider.errors import IpBanned, RateLimited
from provider.services.rails import iso as rails_iso
from tests.binance.test_client_fake import WALL_MS, make
from tests.harness import InProcessProvider, ScriptedExchange, answer, error

#: 0001-01-01T00:00:00.000Z, the first millisecond a date can show
FIRST = -62135596800000


@pytest.mark.parametrize("ms", [FIRST - 1, -10**15, -(10**20)])
def test_a_time_before_year_1_is_shown_as_its_number_not_an_error(ms: int) -> None:
    """The other end of 9fbbddb's fix: a hostile exchange's time far before the epoch raised
    OverflowError/ValueError (a resource read or a trading note would answer INTERNAL)."""
    for shown in (render_time(ms), markdown_iso(ms), rails_iso(ms)):
        assert shown == f"{ms} (ms since epoch; before year 1)"


def test_the_first_date_still_shows_as_a_date() -> None:
    assert render_time(FIRST) == "0001-01-01T00:00:00.000Z"
    assert markdown_iso(FIRST).endswith("-01-01 00:00:00")
    assert markdown_iso(253402300799999) == "9999-12-31 23:59:59"  # the last millisecond a date can show
    assert markdown_iso(1_700_000_000_999) == "2023-11-14 22:13:20"  # never the next second
    assert render("t", {"time_ms": -1}) == "t: time_ms=-1"  # InvokeTool's text leaves times <= 0 as numbers


# --- a hostile Retry-After -----------------------------------------------------------------------


def _answer(status: int, code: int, retry_after: str) -> RestResponse:
    return RestResponse(status, {"retry-after": retry_after}, json.dumps({"code": code, "msg": "refused"}).encode())


@pytest.mark.parametrize("retry_after", ["inf", "nan", "1e400", "-inf"])
async def test_a_non_finite_retry_after_is_taken_as_missing_not_as_a_ban_forever(retry_after: str) -> None:
    """A 418 whose Retry-After is not a number of seconds ("inf") banned every REST call until the
    provider restarted, and the account stream (7b043a4) slept that long; "nan" ignored the ban. It
    is taken as missing: the 2 minutes a ban without Retry-After gets."""
    client, _ = make({"/api/v3/ping": [_answer(418, -1003, retry_after)]})
    with pytest.raises(IpBanned) as banned:
        await client.ping()
    assert banned.value.retry_after_s is None or math.isfinite(banned.value.retry_after_s)
    assert client.health().banned_until == pytest.approx(WALL_MS / 1000 + 120)
    with pytest.raises(IpBanned) as again:  # refused here, not sent
        await client.ping()
    assert again.value.retry_after_s is not None and 0 < again.value.retry_after_s <= 120


async def test_a_retry_after_past_binances_longest_ban_is_cut_to_three_days() -> None:
    """"Retry-After: 1e9" stopped every REST call for 31 years; Binance's bans last at most 3 days."""
    client, _ = make({"/api/v3/ping": [_answer(418, -1003, "1e9")]})
    with pytest.raises(IpBanned):
        await client.ping()
    assert client.health().banned_until == pytest.approx(WALL_MS / 1000 + 3 * 24 * 3600)


@pytest.mark.parametrize("retry_after", ["inf", "nan", "1e400"])
async def test_a_non_finite_retry_after_of_a_429_blocks_until_the_window_ends(retry_after: str) -> None:
    client, _ = make({"/api/v3/ping": [_answer(429, -1003, retry_after)]})
    with pytest.raises(RateLimited) as limited:
        await client.ping()
    assert limited.value.retry_after_s is None or math.isfinite(limited.value.retry_after_s)
    assert math.isfinite(client.health().rate_limited_until or 0.0)


@pytest.mark.parametrize("retry_after", [math.inf, math.nan])
def test_the_account_streams_delay_after_a_non_finite_retry_after_is_its_backoff(retry_after: float) -> None:
    delay = backoff_delay(3, base_s=0.5, cap_s=30.0, rng=random.Random(1), retry_after_s=retry_after)
    assert 0 <= delay <= 30.0


# --- cancel_order's -2011 lookup answered with odd shapes ------------------------------------------

UNKNOWN = error(400, -2011, "Unknown order sent.")
CANCEL = trading_pb2.CancelOrderRequest(symbol="BTCUSDT", client_order_id="r23-odd")


@pytest.mark.parametrize(
    "body",
    [
        {},  # no status at all
        [],  # not an object
        {"symbol": "BTCUSDT", "orderId": 7, "clientOrderId": "r23-odd", "status": "WEIRD"},  # a status nobody knows
        {"symbol": "BTCUSDT", "orderId": 7, "clientOrderId": "r23-odd", "status": None},
    ],
    ids=["empty", "list", "unknown-status", "null-status"],
)
async def test_a_lookup_that_does_not_show_a_closed_order_keeps_not_found(tmp_path: Path, body: Any) -> None:
    """Only an order the lookup shows closed (CANCELED, FILLED, EXPIRED, ...) is answered as one; an
    answer of another shape must neither claim "already ?" nor fail the cancel as INTERNAL."""
    exchange = ScriptedExchange({"/api/v3/order": lambda r: UNKNOWN if r.method == "DELETE" else answer(body)})
    async with InProcessProvider(exchange, tmp_path, BINANCE_TRADING_ENABLED="true") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await trading_pb2_grpc.TradingStub(channel).CancelOrder(CANCEL)
    assert refused.value.code() is grpc.StatusCode.NOT_FOUND, refused.value
    assert "r23-odd" in (refused.value.details() or "")


@pytest.mark.parametrize("body", [[], {"listOrderStatus": "EXECUTING", "symbol": "BTCUSDT", "orders": []}],
                         ids=["list", "executing"])
async def test_a_list_lookup_that_does_not_show_a_closed_list_keeps_not_found(tmp_path: Path, body: Any) -> None:
    unknown = error(400, -2011, "Unknown order list sent.")
    exchange = ScriptedExchange({"/api/v3/orderList": lambda r: unknown if r.method == "DELETE" else answer(body)})
    async with InProcessProvider(exchange, tmp_path, BINANCE_TRADING_ENABLED="true") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await trading_pb2_grpc.TradingStub(channel).CancelOrderList(
                trading_pb2.CancelOrderListRequest(symbol="BTCUSDT", list_client_order_id="r23-odd-list")
            )
    assert refused.value.code() is grpc.StatusCode.NOT_FOUND, refused.value
