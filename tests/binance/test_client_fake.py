"""BinanceClient policies that the sandbox cannot provoke safely, through a fake transport.

The fake implements the same ``RestTransport`` interface as the aiohttp transport (STYLE §4);
it answers from a script so an IP ban (418) or a dropped connection can be replayed exactly.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from provider.binance.client import BinanceClient
from provider.binance.environment import Environment
from provider.binance.transport import RestRequest, RestResponse
from provider.errors import (
    ExchangeUnavailable,
    ExchangeUnreachable,
    ExecutionUnknown,
    IpBanned,
    ProviderError,
    RateLimited,
)

Answer = RestResponse | ProviderError
WALL_MS = 1_700_000_010_000


def ok(body: Any, used: int | None = None) -> RestResponse:
    headers = {"x-mbx-used-weight-1m": str(used)} if used is not None else {}
    return RestResponse(200, headers, json.dumps(body).encode())


def err(status: int, code: int | None, msg: str, retry_after: int | None = None) -> RestResponse:
    headers = {"retry-after": str(retry_after)} if retry_after is not None else {}
    return RestResponse(status, headers, json.dumps({"code": code, "msg": msg}).encode())


class FakeTransport:
    """Answers by path from a script; records every request it was asked to send."""

    def __init__(self, script: dict[str, list[Answer]]) -> None:
        self.script = script
        self.sent: list[RestRequest] = []

    async def send(self, request: RestRequest) -> RestResponse:
        self.sent.append(request)
        answers = self.script[request.path]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, ProviderError):
            raise answer
        return answer

    async def close(self) -> None:
        pass


def make(script: dict[str, list[Answer]], **kw: Any) -> tuple[BinanceClient, FakeTransport]:
    fake = FakeTransport({"/api/v3/time": [ok({"serverTime": WALL_MS})], **script})
    wall: Callable[[], int] = lambda: WALL_MS  # noqa: E731
    client = BinanceClient(Environment.custom("http://fake", "ws://fake", name="fake"), fake,
                           api_key="key", signer=_Signer(), wall_ms=wall, **kw)
    return client, fake


class _Signer:
    key_type = "TEST"

    def signature(self, payload: str) -> str:
        return "sig"


async def test_418_stops_every_rest_call_until_the_ban_ends() -> None:
    client, fake = make({"/api/v3/ping": [err(418, -1003, "IP banned until 1.", 120)]})
    with pytest.raises(IpBanned) as first:
        await client.ping()
    assert first.value.retry_after_s == 120
    before = len(fake.sent)
    with pytest.raises(IpBanned) as second:
        await client.depth("BTCUSDT")
    assert len(fake.sent) == before  # refused fast, nothing sent
    assert second.value.banned_until_s == pytest.approx(WALL_MS / 1000 + 120)
    assert client.health().banned_until == pytest.approx(WALL_MS / 1000 + 120)


async def test_429_blocks_calls_until_retry_after() -> None:
    client, fake = make({"/api/v3/ping": [err(429, -1003, "Too much request weight used; "
                                               "current limit is 100 request weight per 1 "
                                               "MINUTE.", 30)]})
    with pytest.raises(RateLimited) as exc:
        await client.ping()
    assert exc.value.binance_code == -1003 and exc.value.retry_after_s == 30
    sent = len(fake.sent)
    with pytest.raises(RateLimited) as local:
        await client.ping()
    assert local.value.binance_code is None and len(fake.sent) == sent
    assert client.governor.limit == 100


async def test_dropped_connection_on_an_order_is_execution_unknown_with_its_id() -> None:
    client, fake = make({"/api/v3/order": [ExchangeUnavailable("server disconnected")]},
                        client_order_id=lambda: "fixed-id")
    with pytest.raises(ExecutionUnknown) as exc:
        await client.new_order({"symbol": "btcusdt", "side": "BUY", "type": "MARKET",
                                "quantity": "1"})
    assert exc.value.client_order_id == "fixed-id" and exc.value.symbol == "BTCUSDT"
    assert [r.path for r in fake.sent].count("/api/v3/order") == 1
    assert "newClientOrderId=fixed-id" in fake.sent[-1].query


async def test_connect_failure_on_an_order_is_known_not_to_have_run() -> None:
    client, _ = make({"/api/v3/order": [ExchangeUnreachable("connect refused")]})
    with pytest.raises(ExchangeUnreachable):
        await client.new_order({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET",
                                "quantity": "1"})


async def test_signed_request_carries_key_header_timestamp_and_signature() -> None:
    client, fake = make({"/api/v3/account": [ok({"balances": []})]})
    await client.account()
    request = fake.sent[-1]
    assert request.headers == {"X-MBX-APIKEY": "key"}
    assert request.query == f"recvWindow=5000&timestamp={WALL_MS}&signature=sig"
    assert "key" not in repr(request)


async def test_floats_are_refused_for_order_parameters() -> None:
    client, fake = make({})
    with pytest.raises(ProviderError) as exc:
        await client.new_order({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                "quantity": 0.1, "price": "1"})
    assert exc.value.kind == "InvalidArgument" and fake.sent == []


async def test_an_html_page_instead_of_json_is_named_and_the_read_retried_once() -> None:
    page = RestResponse(200, {}, b"<html><body>maintenance</body></html>")
    client, fake = make({"/api/v3/ping": [page, page]})
    with pytest.raises(ExchangeUnavailable, match="HTML page"):
        await client.ping()
    assert len(fake.sent) == 2


async def test_weight_of_each_call_follows_the_documented_table() -> None:
    client, _ = make({"/api/v3/depth": [ok({"lastUpdateId": 1, "bids": [], "asks": []})],
                      "/api/v3/openOrders": [ok([])]})
    await client.depth("BTCUSDT", 5000)
    assert client.governor.used == 250
    await client.open_orders()
    assert client.governor.used == 250 + 80 + 1  # + the clock measurement


async def test_used_weight_header_corrects_the_estimate() -> None:
    client, _ = make({"/api/v3/depth": [ok({"lastUpdateId": 1, "bids": [], "asks": []}, 7)]})
    result = await client.depth("BTCUSDT", 5000)
    assert client.governor.used == 7 and result.meta.used_weight_1m == 7


async def test_a_malformed_exchange_info_is_an_unexpected_answer_not_a_crash() -> None:
    from provider.errors import UnexpectedResponse

    broken = ok({"symbols": [{"symbol": "BTCUSDT", "filters": [{"filterType": "PRICE_FILTER", "tickSize": "x"}]}]})
    client, _ = make({"/api/v3/exchangeInfo": [broken]})
    with pytest.raises(UnexpectedResponse, match="exchangeInfo could not be read"):
        await client.refresh_exchange_info()


async def test_exchange_info_is_refreshed_when_the_injected_clock_says_it_is_old() -> None:
    info = ok({"symbols": [], "rateLimits": []})
    now = [1000.0]
    client, fake = make({"/api/v3/exchangeInfo": [info, info]}, monotonic=lambda: now[0])
    await client.exchange_rules()
    await client.exchange_rules()
    assert sum(1 for r in fake.sent if r.path == "/api/v3/exchangeInfo") == 1
    now[0] += client.config.exchange_info_ttl_s + 1
    await client.exchange_rules()
    assert sum(1 for r in fake.sent if r.path == "/api/v3/exchangeInfo") == 2
