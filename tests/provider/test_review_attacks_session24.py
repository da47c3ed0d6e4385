"""Review attacks on session 24's weight-limit changes (801efa3), in process.

A hostile or odd exchange answers the WebSocket API subscription (``ws_api_refusal``) and REST
with limits and times the happy path never sees.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from contracts.binance.v1 import trading_pb2, trading_pb2_grpc
from provider.binance.governor import WeightGovernor, parse_limit_from_message
from provider.binance.transport import RestRequest, RestResponse
from provider.errors import IpBanned, RateLimited
from tests.binance.test_client_fake import WALL_MS, make
from tests.harness import InProcessProvider, ScriptedExchange, answer, error

SUBSCRIBE = "userDataStream.subscribe"


def _limit_msg(limit: int | str, per: str = "1 MINUTE") -> str:
    return f"Too much request weight used; current limit is {limit} request weight per {per}. Please use WebSocket."


@pytest.mark.parametrize("msg", [_limit_msg(0), _limit_msg(6000, "0 MINUTE"), _limit_msg("9" * 400)],
                         ids=["zero", "zero-window", "400-digits"])
def test_a_ws_api_429_naming_a_zero_or_absurd_limit_is_a_rate_limit_not_a_crash(msg: str) -> None:
    """The governor's set_limit raises ValueError on a limit or window of 0, and a limit of 400
    digits overflows the float budget (OverflowError); a -1003 message naming one escaped
    ws_api_refusal (and a REST 429) as that exception, which the account stream's loop does not
    catch: the stream task died instead of waiting."""
    client, _ = make({})
    error = {"code": -1003, "msg": msg, "data": {"retryAfter": WALL_MS + 5_000, "serverTime": WALL_MS}}
    err = client.ws_api_refusal(SUBSCRIBE, 429, error)
    assert isinstance(err, RateLimited)
    assert 0 < client.governor.limit <= 10**9 and client.governor.interval_s > 0


async def test_a_rest_429_naming_a_zero_limit_is_a_rate_limit_not_internal() -> None:
    body = json.dumps({"code": -1003, "msg": _limit_msg(0)}).encode()
    client, _ = make({"/api/v3/ping": [RestResponse(429, {"retry-after": "5"}, body)]})
    with pytest.raises(RateLimited):
        await client.ping()


def test_a_limit_message_of_5000_digits_is_not_read_as_a_limit() -> None:
    """int() refuses more than 4,300 digits with ValueError (REST cuts its msg first; a caller that
    does not would crash)."""
    assert parse_limit_from_message(_limit_msg("9" * 5000)) is None


def test_a_ws_api_418_whose_ban_is_already_over_does_not_ban_for_two_minutes() -> None:
    """A 418 whose data.retryAfter is not later than its serverTime (the ban is over) gave
    retry_after 0.0, which on_banned read as missing (``0.0 or 120.0``): REST was refused for two
    minutes while the stream, told 0 s, reconnected at once and failed its resync on the hold."""
    client, _ = make({})
    error = {"code": -1003, "msg": "Way too many requests; IP banned.",
             "data": {"retryAfter": WALL_MS - 1_000, "serverTime": WALL_MS}}
    err = client.ws_api_refusal(SUBSCRIBE, 418, error)
    assert isinstance(err, IpBanned)
    assert err.retry_after_s == 0.0
    assert (client.health().banned_until or 0.0) <= WALL_MS / 1000 + 1


def test_a_limit_lowered_below_the_weight_of_exchange_info_is_still_re_read() -> None:
    """The sandbox's weight_limit fault (limit=1) or any -1003 naming a limit under 20: the re-read
    of exchangeInfo (weight 20) is itself 'a call that can never fit', refused before it is sent,
    and retried next window forever, so the provider keeps the provisional limit until restarted
    (every call heavier than it refused) although the exchange restored its limit long ago."""
    gov = WeightGovernor(limit=6000, priority_share=0.1)
    gov.set_limit(6000, 60)
    now = 1_000_020.0
    gov.on_rate_limited(None, now, _limit_msg(1))
    assert gov.limit == 1
    reread_sent = False
    for minute in range(1, 6):
        t = now + 60 * minute + 1
        if gov.rules_refresh_due(t):
            try:
                gov.reserve(20, t, priority=True, rules_reread=True)  # as the client re-reads the rules
            except RateLimited:
                gov.rules_refresh_failed(t)
            else:
                reread_sent = True
                break
    assert reread_sent, "the re-read of the rules was never let out"


# --- order list stubs (42f422b) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "stub",
    [
        {"symbol": "BTCUSDT", "orderId": "²", "clientOrderId": "odd-superscript"},  # isdigit(), but int() refuses
        {"symbol": "BTCUSDT", "orderId": "9" * 30, "clientOrderId": "odd-huge-text"},  # past int64
        {"symbol": "BTCUSDT", "orderId": "9" * 5000, "clientOrderId": "odd-5000-digits"},  # past int()'s guard
        {"symbol": "BTCUSDT", "orderId": 2**70, "clientOrderId": "odd-huge"},
    ],
    ids=["superscript-digit", "huge-text-id", "5000-digit-text-id", "huge-id"],
)
async def test_a_list_stub_with_an_id_no_int64_holds_is_answered_not_internal(tmp_path: Path, stub: Any) -> None:
    """_int_or_none took str.isdigit() for 'int() can read it' ('²' is a digit to isdigit, not to
    int: ValueError), and an id past int64 went into the proto's order_id (ValueError): both
    answered INTERNAL instead of the list, the very failure 42f422b set out to remove."""
    listed = {"orderListId": 5, "contingencyType": "OCO", "listStatusType": "EXEC_STARTED",
              "listOrderStatus": "EXECUTING", "listClientOrderId": "odd-list", "transactionTime": 1,
              "symbol": "BTCUSDT", "orders": [stub]}

    def handle(r: RestRequest) -> RestResponse:
        if r.path == "/api/v3/orderList":
            return answer(listed)
        return error(400, -2013, "Order does not exist.")

    exchange = ScriptedExchange({"/api/v3/orderList": handle, "/api/v3/order": handle})
    async with InProcessProvider(exchange, tmp_path) as channel:
        got = await trading_pb2_grpc.TradingStub(channel).GetOrderList(
            trading_pb2.GetOrderListRequest(list_client_order_id="odd-list"))
    assert got.order_list.list_client_order_id == "odd-list"
    assert [o.client_order_id for o in got.order_list.orders] == [stub["clientOrderId"]]


@pytest.mark.parametrize("status", [429, 418])
def test_a_ws_api_refusal_without_retry_after_names_the_hold_it_put_on_rest(status: int) -> None:
    """A 429/418 on the subscription without data.retryAfter holds REST (until the window ends, or
    2 minutes of ban) but the error named no retry_after: the account stream then retried the
    subscription, which the governor does not gate, at its short backoff, during the very hold (on
    Binance, retrying into a 429 is what earns a 418)."""
    client, _ = make({})
    err = client.ws_api_refusal(SUBSCRIBE, status, {"code": -1003, "msg": "Too many requests."})
    assert isinstance(err, RateLimited)
    health = client.health()
    held_until = max(health.rate_limited_until or 0.0, health.banned_until or 0.0)
    assert held_until > WALL_MS / 1000
    assert err.retry_after_s == pytest.approx(held_until - WALL_MS / 1000)


def test_a_ws_api_429_with_a_boolean_server_time_is_not_read_as_a_time() -> None:
    """isinstance(True, int): a serverTime of true was read as 1 ms since the epoch, so a 429 named
    a hold of 53 years (cut to the 3-day longest ban) on the stream and every REST call."""
    client, _ = make({})
    data = {"retryAfter": WALL_MS + 5_000, "serverTime": True}
    err = client.ws_api_refusal(SUBSCRIBE, 429, {"code": -1003, "msg": "Too many requests.", "data": data})
    assert isinstance(err, RateLimited)
    assert err.retry_after_s is not None and err.retry_after_s <= 60
    assert (client.health().rate_limited_until or 0.0) <= WALL_MS / 1000 + 60
