"""The WebSocket API (`/ws-api/v3`) over loopback with a real `websockets` client: requests and
Binance's error codes, user data stream subscriptions (HMAC and Ed25519), the events REST trading
and the synthetic market cause, and the `ws_api_*` faults."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, ConnectionClosedError

from tests.sim_fixture import SimProcess
from tests.simulator.helpers import Api, hmac_sign

WAIT_S = 10.0
Event = dict[str, Any]


def ed25519_b64(key_file: str, payload: str) -> str:
    """Base64 Ed25519 signature, not percent-encoded: it travels in JSON (spec §1.9)."""
    key = serialization.load_pem_private_key(Path(key_file).read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return base64.b64encode(key.sign(payload.encode())).decode()


def signed(sim: SimProcess, ed25519: bool = False, **extra: Any) -> dict[str, Any]:
    """apiKey, timestamp and extra params signed per §1.9 (sorted `k=v`, no encoding)."""
    info = sim.info
    params: dict[str, Any] = {"apiKey": info.ed25519_api_key if ed25519 else info.api_key,
                              "timestamp": int(time.time() * 1000), **extra}
    payload = "&".join(f"{k}={params[k]}" for k in sorted(params))
    params["signature"] = (ed25519_b64(info.ed25519_private_key_file, payload) if ed25519
                           else hmac_sign(info.api_secret, payload))
    return params


class Client:
    """Requests by id over one connection; events that arrive in between are kept in order."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.events: deque[Event] = deque()

    async def frame(self) -> Event:
        data: Event = json.loads(await asyncio.wait_for(self.ws.recv(), WAIT_S))
        return data

    async def send(self, body: Any) -> Event:
        """Send a raw frame (text or JSON-able) and return the next response frame."""
        await self.ws.send(body if isinstance(body, str) else json.dumps(body))
        while True:
            frame = await self.frame()
            if "status" in frame:
                return frame
            self.events.append(frame)

    async def call(self, method: str, params: dict[str, Any] | None = None) -> Event:
        rid = next(self.ids)
        body: Event = {"id": rid, "method": method}
        if params is not None:
            body["params"] = params
        reply = await self.send(body)
        assert reply["id"] == rid, reply
        return reply

    async def event(self) -> Event:
        if self.events:
            return self.events.popleft()
        frame = await self.frame()
        assert "status" not in frame, frame
        return frame

    async def until(self, done: Callable[[Event], bool]) -> list[Event]:
        """Events up to and including the first one `done` accepts."""
        got: list[Event] = []
        while not got or not done(got[-1]):
            got.append(await self.event())
        return got

    async def subscribe(self, sim: SimProcess, ed25519: bool = False) -> int:
        reply = await self.call("userDataStream.subscribe.signature", signed(sim, ed25519))
        assert reply["status"] == 200, reply
        sid: int = reply["result"]["subscriptionId"]
        return sid


@pytest.fixture
async def client(sim: SimProcess) -> AsyncIterator[Client]:
    async with connect(sim.info.ws_api_url) as ws:
        yield Client(ws)


@pytest.fixture
async def rest(sim: SimProcess) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(sim, session)


def kind(event: Event) -> str:
    inner = event["event"]
    return str(inner["x"] if inner["e"] == "executionReport" else inner["e"])


def is_position(event: Event) -> bool:
    return bool(event["event"]["e"] == "outboundAccountPosition")


async def best_bid(sim: SimProcess, symbol: str) -> tuple[Decimal, Decimal]:
    book = await sim.ground_truth(symbol)
    price, qty = book["bids"][0]
    return Decimal(price), Decimal(qty)


# ------------------------------------------------------------------ requests


async def test_ping_time_and_rate_limits(sim: SimProcess, client: Client) -> None:
    pong = await client.call("ping")
    assert pong["status"] == 200 and pong["result"] == {}
    [limit] = pong["rateLimits"]
    assert {k: limit[k] for k in ("rateLimitType", "interval", "intervalNum", "limit")} == {
        "rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000}
    before = int(time.time() * 1000)
    reply = await client.call("v3/time")
    assert before - 1000 <= reply["result"]["serverTime"] <= int(time.time() * 1000) + 1000
    assert reply["rateLimits"][0]["count"] >= limit["count"] + 1
    quiet = await client.call("time", {"returnRateLimits": False})
    assert "rateLimits" not in quiet and quiet["status"] == 200
    async with connect(sim.info.ws_api_url + "?returnRateLimits=false") as ws:
        other = Client(ws)
        assert "rateLimits" not in await other.call("ping")
        assert "rateLimits" in await other.call("ping", {"returnRateLimits": True})
        status = await other.call("session.status")
        assert status["result"]["returnRateLimits"] is False


async def test_past_the_weight_limit_requests_get_429_with_retry_after(
    sim: SimProcess, client: Client
) -> None:
    await sim.fault("weight_limit", limit=3)
    assert (await client.call("ping"))["status"] == 200
    for _ in range(10):  # 1 + 2 fit in a minute's 3; a minute may roll over once on the way
        refused = await client.call("session.status")
        if refused["status"] != 200:
            break
    error = refused["error"]
    assert (refused["status"], error["code"]) == (429, -1003)
    now = error["data"]["serverTime"]
    assert error["data"]["retryAfter"] == (now // 60_000 + 1) * 60_000  # the next minute
    assert refused["rateLimits"][0]["limit"] == 3


async def test_malformed_frames_and_unknown_methods_get_binance_errors(client: Client) -> None:
    assert await client.send("{not json") == {
        "id": None, "status": 400, "error": {"code": -1135, "msg": "Invalid JSON Request"}}
    assert (await client.send("[1, 2]"))["error"]["code"] == -1135
    bad_id = await client.send({"id": "x" * 37, "method": "ping"})
    assert bad_id["id"] is None and bad_id["error"]["code"] == -1135
    bad_params = await client.send({"id": 7, "method": "ping", "params": [1]})
    assert (bad_params["id"], bad_params["error"]["code"]) == (7, -1135)
    no_method = await client.send({"id": "a-1_b", "params": {}})
    assert (no_method["id"], no_method["status"], no_method["error"]["code"]) == ("a-1_b", 400, -1102)
    unknown = await client.call("order.place", {"symbol": "BTCUSDT"})
    assert (unknown["status"], unknown["error"]["code"]) == (400, -1100)
    unread = await client.call("ping", {"extra": 1})
    assert unread["error"] == {
        "code": -1104,
        "msg": "Not all sent parameters were read; read '0' parameter(s) but was sent '1'."}
    assert "rateLimits" in unread  # a method ran: it reports the weight it used
    flag = await client.call("ping", {"returnRateLimits": "sometimes"})
    assert flag["error"]["code"] == -1130


async def test_signature_and_key_errors(sim: SimProcess, client: Client) -> None:
    method = "userDataStream.subscribe.signature"

    async def code(params: dict[str, Any]) -> tuple[int, int]:
        reply = await client.call(method, params)
        return reply["status"], reply["error"]["code"]

    good = signed(sim)
    assert await code({k: v for k, v in good.items() if k != "apiKey"}) == (400, -1102)
    assert await code({k: v for k, v in good.items() if k != "signature"}) == (400, -1102)
    assert await code({k: v for k, v in good.items() if k != "timestamp"}) == (400, -1102)
    assert await code({**good, "signature": "0" * 64}) == (400, -1022)
    ed = signed(sim, ed25519=True)
    encoded = {**ed, "signature": quote(ed["signature"], safe="")}
    assert ed["signature"] != encoded["signature"]  # 64 bytes: base64 always ends in "=="
    assert await code(encoded) == (400, -1022)  # JSON carries it raw, never percent-encoded
    assert await code({**good, "timestamp": good["timestamp"] + 1}) == (400, -1022)  # not signed
    assert await code({**good, "apiKey": "unknownKey123"}) == (401, -2015)
    assert await code({**good, "apiKey": "bad key!"}) == (401, -2014)
    stale = signed(sim, timestamp=int(time.time() * 1000) - 10_000)
    assert await code(stale) == (400, -1021)
    ahead = signed(sim, timestamp=int(time.time() * 1000) + 5_000)
    assert await code(ahead) == (400, -1021)
    assert await code(signed(sim, recvWindow=60_001)) == (400, -1131)
    assert await code(signed(sim, symbol="BTCUSDT")) == (400, -1104)  # signed, but not read
    wide = await client.call(method, signed(sim, recvWindow=15_000,
                                            timestamp=int(time.time() * 1000) - 10_000))
    assert wide["status"] == 200  # inside a wider window
    logon_hmac = await client.call("session.logon", signed(sim))
    assert (logon_hmac["status"], logon_hmac["error"]["code"]) == (400, -1022)  # Ed25519 only


async def test_subscription_errors(sim: SimProcess, client: Client) -> None:
    not_logged_on = await client.call("userDataStream.subscribe")
    assert (not_logged_on["status"], not_logged_on["error"]["code"]) == (401, -1002)
    none = await client.call("userDataStream.unsubscribe")
    assert none["error"] == {"code": -2036, "msg": "User Data Stream subscription not active."}
    assert await client.subscribe(sim) == 0
    again = await client.call("userDataStream.subscribe.signature", signed(sim, ed25519=True))
    assert again["error"] == {"code": -2035, "msg": "User Data Stream subscription already active."}
    wrong = await client.call("userDataStream.unsubscribe", {"subscriptionId": 5})
    assert wrong["error"]["code"] == -2036
    malformed = await client.call("userDataStream.unsubscribe", {"subscriptionId": "x"})
    assert malformed["error"]["code"] == -1100


# ------------------------------------------------------------------ subscriptions


@pytest.mark.parametrize("ed25519", [False, True], ids=["hmac", "ed25519"])
async def test_signature_subscription_with_either_key_type(
    sim: SimProcess, client: Client, ed25519: bool
) -> None:
    status = await client.call("session.status")
    assert status["result"]["userDataStream"] is False and status["result"]["apiKey"] is None
    sid = await client.subscribe(sim, ed25519)
    assert sid == 0
    status = await client.call("session.status")
    assert status["result"]["userDataStream"] is True
    assert status["result"]["apiKey"] is None  # a signature subscription does not log on
    assert (await client.call("session.subscriptions"))["result"] == [{"subscriptionId": 0}]
    bye = await client.call("userDataStream.unsubscribe", {"subscriptionId": 0})
    assert bye["status"] == 200 and bye["result"] == {}
    end = await client.event()
    assert end["subscriptionId"] == 0 and end["event"]["e"] == "eventStreamTerminated"
    assert (await client.call("session.subscriptions"))["result"] == []
    assert await client.subscribe(sim, ed25519) == 1  # ids count on per connection


async def test_logon_subscribe_and_logout(sim: SimProcess, client: Client) -> None:
    before = int(time.time() * 1000)
    logon = await client.call("session.logon", signed(sim, ed25519=True))
    result = logon["result"]
    assert logon["status"] == 200
    assert set(result) == {"apiKey", "authorizedSince", "connectedSince", "returnRateLimits",
                           "serverTime", "userDataStream"}
    assert result["apiKey"] == sim.info.ed25519_api_key and result["userDataStream"] is False
    assert result["connectedSince"] <= result["authorizedSince"] and result["authorizedSince"] >= before - 1000
    sub = await client.call("userDataStream.subscribe")
    assert sub["status"] == 200 and sub["result"] == {"subscriptionId": 0}
    await sim.control("POST", "/sim/balances", {"asset": "BNB", "free": "201"})
    assert kind(await client.event()) == "balanceUpdate"
    assert kind(await client.event()) == "outboundAccountPosition"
    out = await client.call("session.logout")
    assert out["result"]["apiKey"] is None and out["result"]["authorizedSince"] is None
    assert out["result"]["userDataStream"] is False
    end = await client.event()
    assert end == {"subscriptionId": 0, "event": {"e": "eventStreamTerminated", "E": end["event"]["E"]}}
    again = await client.call("userDataStream.subscribe")
    assert again["error"]["code"] == -1002


async def test_logout_keeps_signature_subscriptions(sim: SimProcess, client: Client) -> None:
    await client.call("session.logon", signed(sim, ed25519=True))
    assert await client.subscribe(sim) == 0
    out = await client.call("session.logout")
    assert out["result"]["userDataStream"] is True
    await sim.control("POST", "/sim/balances", {"asset": "BNB", "free": "199"})
    assert kind(await client.event()) == "balanceUpdate"  # no eventStreamTerminated before it


# ------------------------------------------------------------------ events


async def test_limit_order_placed_filled_by_the_market_and_another_cancelled(
    sim: SimProcess, client: Client, rest: Api
) -> None:
    await sim.control("POST", "/sim/market", {"running": False})  # a frozen book
    sid = await client.subscribe(sim)
    bid, _ = await best_bid(sim, "BTCUSDT")
    status, placed, _ = await rest.order(symbol="BTCUSDT", side="BUY", type="LIMIT",
                                         timeInForce="GTC", quantity="0.0002", price=str(bid),
                                         newClientOrderId="joins-bid")
    assert status == 200, placed
    new, pos = await client.until(is_position)
    assert new["subscriptionId"] == sid and kind(new) == "NEW"
    assert (new["event"]["i"], new["event"]["c"], new["event"]["w"]) == (
        placed["orderId"], "joins-bid", True)
    usdt = {b["a"]: b for b in pos["event"]["B"]}["USDT"]
    assert Decimal(usdt["l"]) == bid * Decimal("0.0002")
    _, level_qty = await best_bid(sim, "BTCUSDT")  # the level, our order queued behind
    await sim.control("POST", "/sim/take", {"symbol": "BTCUSDT", "side": "SELL",
                                            "quantity": str(level_qty)})
    fill, pos = await client.until(is_position)
    report = fill["event"]
    assert (kind(fill), report["X"], report["m"], report["w"], report["i"]) == (
        "TRADE", "FILLED", True, False, placed["orderId"])
    assert Decimal(report["L"]) == bid and Decimal(report["l"]) == Decimal("0.0002")
    assert report["N"] == "BTC" and report["t"] > 0
    assets = {b["a"]: b for b in pos["event"]["B"]}
    assert set(assets) == {"BTC", "USDT"} and Decimal(assets["USDT"]["l"]) == 0

    status, far, _ = await rest.order(symbol="BTCUSDT", side="BUY", type="LIMIT",
                                      timeInForce="GTC", quantity="0.0002",
                                      price=str(bid - 100), newClientOrderId="far-below")
    assert status == 200
    assert [kind(e) for e in await client.until(is_position)] == ["NEW", "outboundAccountPosition"]
    status, cancel, _ = await rest.signed("DELETE", "/api/v3/order", symbol="BTCUSDT",
                                          orderId=far["orderId"], newClientOrderId="cxl-1")
    assert status == 200, cancel
    cancelled, pos = await client.until(is_position)
    assert (kind(cancelled), cancelled["event"]["c"], cancelled["event"]["C"]) == (
        "CANCELED", "cxl-1", "far-below")
    assert cancelled["event"]["X"] == "CANCELED" and cancelled["event"]["i"] == far["orderId"]


async def test_market_order_new_then_trade_then_the_balances_the_account_shows(
    sim: SimProcess, client: Client, rest: Api
) -> None:
    await client.subscribe(sim, ed25519=True)
    status, order, _ = await rest.order(symbol="ETHUSDT", side="BUY", type="MARKET",
                                        quantity="0.5", newClientOrderId="mkt-1")
    assert status == 200 and order["status"] == "FILLED", order
    got = await client.until(is_position)
    assert kind(got[0]) == "NEW" and got[0]["event"]["o"] == "MARKET"
    trades = [e["event"] for e in got[1:-1]]
    assert trades and all(kind(e) == "TRADE" for e in got[1:-1])
    assert [t["t"] for t in trades] == [f["tradeId"] for f in order["fills"]]
    assert trades[-1]["X"] == "FILLED" and Decimal(trades[-1]["z"]) == Decimal("0.5")
    assert sum(Decimal(t["l"]) for t in trades) == Decimal("0.5")
    status, account, _ = await rest.signed("GET", "/api/v3/account")
    shown = {b["asset"]: (Decimal(b["free"]), Decimal(b["locked"])) for b in account["balances"]}
    position = got[-1]["event"]
    assert {b["a"] for b in position["B"]} == {"ETH", "USDT"}
    for b in position["B"]:
        assert (Decimal(b["f"]), Decimal(b["l"])) == shown[b["a"]]
    assert position["u"] == account["updateTime"]


async def test_ioc_order_expires_with_its_reason(
    sim: SimProcess, client: Client, rest: Api
) -> None:
    await client.subscribe(sim)
    bid, _ = await best_bid(sim, "BTCUSDT")
    status, order, _ = await rest.order(symbol="BTCUSDT", side="BUY", type="LIMIT",
                                        timeInForce="IOC", quantity="0.0002",
                                        price=str(bid - 100))
    assert status == 200 and order["status"] == "EXPIRED"
    new = await client.event()
    expired = await client.event()
    assert (kind(new), kind(expired)) == ("NEW", "EXPIRED")
    assert expired["event"]["eR"] == "UNFILLED_IOC_QUANTITY_EXPIRED"
    assert expired["event"]["X"] == "EXPIRED"


async def test_sim_balances_is_a_balance_update(sim: SimProcess, client: Client) -> None:
    await client.subscribe(sim)
    await sim.control("POST", "/sim/balances", {"asset": "USDT", "free": "12.5"})
    update, pos = await client.until(is_position)
    assert update["event"]["e"] == "balanceUpdate" and update["event"]["a"] == "USDT"
    assert Decimal(update["event"]["d"]) == Decimal("-99987.5")
    assert update["event"]["T"] == update["event"]["E"]
    assert pos["event"]["B"] == [{"a": "USDT", "f": "12.50000000", "l": "0.00000000"}]


async def test_event_times_use_the_sandbox_clock(sim: SimProcess, client: Client) -> None:
    await client.subscribe(sim)
    await sim.fault("clock_skew", ms=3_600_000)
    await sim.control("POST", "/sim/balances", {"asset": "BNB", "free": "1"})
    update = (await client.event())["event"]
    assert update["E"] - int(time.time() * 1000) > 3_000_000


# ------------------------------------------------------------------ faults


async def test_drop_aborts_connections_without_a_close_frame(sim: SimProcess, client: Client) -> None:
    await client.subscribe(sim)
    assert (await sim.fault("ws_api_drop"))["dropped"] == 1
    with pytest.raises(ConnectionClosedError) as exc:
        await asyncio.wait_for(client.ws.recv(), WAIT_S)
    assert exc.value.rcvd is None  # no close frame: a network drop


async def test_terminate_ends_subscriptions_but_keeps_the_connection(
    sim: SimProcess, client: Client
) -> None:
    await client.subscribe(sim)
    assert (await sim.fault("ws_api_terminate"))["terminated"] == 1
    end = await client.event()
    assert end["subscriptionId"] == 0 and end["event"]["e"] == "eventStreamTerminated"
    status = await client.call("session.status")
    assert status["result"]["userDataStream"] is False
    assert await client.subscribe(sim) == 1
    await sim.control("POST", "/sim/balances", {"asset": "BNB", "free": "2"})
    first = await client.event()
    assert first["subscriptionId"] == 1 and kind(first) == "balanceUpdate"


async def test_delay_holds_events_in_order(sim: SimProcess, client: Client) -> None:
    await client.subscribe(sim)
    await sim.fault("ws_api_delay", ms=400)
    loop = asyncio.get_running_loop()
    start = loop.time()
    for asset, amount in (("BNB", "1"), ("BNB", "2"), ("DOGE", "3")):
        await sim.control("POST", "/sim/balances", {"asset": asset, "free": amount})
    assert (await client.call("ping"))["status"] == 200
    assert not client.events  # the response overtook the held events
    first = await client.event()
    assert loop.time() - start >= 0.4
    rest = [await client.event() for _ in range(5)]
    deltas = [e["event"]["d"] for e in [first, *rest] if e["event"]["e"] == "balanceUpdate"]
    assert [Decimal(d) for d in deltas] == [Decimal(-199), Decimal(1), Decimal(-99997)]
    await sim.fault("clear")
    start = loop.time()
    await sim.control("POST", "/sim/balances", {"asset": "BNB", "free": "5"})
    await client.event()
    assert loop.time() - start < 0.4


async def test_miss_swallows_the_next_events_silently(
    sim: SimProcess, client: Client, rest: Api
) -> None:
    await client.subscribe(sim)
    assert (await sim.fault("ws_api_miss", count=2))["count"] == 2
    bid, _ = await best_bid(sim, "BTCUSDT")
    status, order, _ = await rest.order(symbol="BTCUSDT", side="BUY", type="LIMIT",
                                        timeInForce="GTC", quantity="0.0002",
                                        price=str(bid - 100))
    assert status == 200  # its NEW and position are the two missed events
    await rest.signed("DELETE", "/api/v3/order", symbol="BTCUSDT", orderId=order["orderId"])
    first = await client.event()
    assert kind(first) == "CANCELED" and first["event"]["i"] == order["orderId"]
    await sim.fault("ws_api_miss", count=5)
    await sim.fault("clear")
    await sim.control("POST", "/sim/balances", {"asset": "BNB", "free": "3"})
    assert kind(await client.event()) == "outboundAccountPosition"  # the cancel's, then ours
    assert kind(await client.event()) == "balanceUpdate"


async def test_lifetime_fault_closes_open_connections(sim: SimProcess, client: Client) -> None:
    await client.subscribe(sim)
    await sim.fault("ws_api_lifetime", seconds=0.3)
    with pytest.raises(ConnectionClosed) as exc:
        while True:
            await client.event()
    assert exc.value.rcvd is not None and exc.value.rcvd.code == 1000


async def test_server_shutdown_fault_reaches_ws_api_connections(
    sim: SimProcess, client: Client
) -> None:
    await client.subscribe(sim)
    reply = await sim.fault("server_shutdown", close_after_ms=100)
    assert reply["ws_api_connections"] == 1
    notice = await client.frame()
    assert set(notice) == {"event"} and notice["event"]["e"] == "serverShutdown"
    with pytest.raises(ConnectionClosed) as exc:
        await client.frame()
    assert exc.value.rcvd is not None and exc.value.rcvd.code == 1001


async def test_server_pings_pong_timeout_and_lifetime_flag() -> None:
    sim = await SimProcess.start("--faults", "--ws-ping-interval", "0.2", "--ws-pong-timeout",
                                 "0.6", "--ws-api-lifetime", "2.5")
    try:
        async with aiohttp.ClientSession() as s:
            async with s.ws_connect(sim.info.ws_api_url, autoping=False) as silent:
                async with asyncio.timeout(WAIT_S):
                    while (msg := await silent.receive()).type == aiohttp.WSMsgType.PING:
                        pass
                assert msg.type == aiohttp.WSMsgType.CLOSE and msg.data == 1008  # no pong
            loop = asyncio.get_running_loop()
            opened = loop.time()
            async with s.ws_connect(sim.info.ws_api_url, autoping=False) as polite:
                pings = 0
                async with asyncio.timeout(WAIT_S):
                    while pings < 5:  # 1 s of pings answered: past the pong timeout
                        msg = await polite.receive()
                        assert msg.type == aiohttp.WSMsgType.PING
                        pings += 1
                        await polite.pong(msg.data)
                    await polite.send_json({"id": 1, "method": "ping"})
                    while True:
                        msg = await polite.receive()
                        if msg.type == aiohttp.WSMsgType.PING:
                            await polite.pong(msg.data)
                        elif msg.type == aiohttp.WSMsgType.TEXT:
                            assert json.loads(msg.data)["status"] == 200
                        else:
                            break
                assert msg.type == aiohttp.WSMsgType.CLOSE and msg.data == 1000  # lifetime
                assert loop.time() - opened >= 2.4
    finally:
        await sim.stop()


async def test_sigterm_sends_server_shutdown_before_closing() -> None:
    sim = await SimProcess.start()
    try:
        async with connect(sim.info.ws_api_url) as ws:
            client = Client(ws)
            assert (await client.call("ping"))["status"] == 200
            sim.proc.terminate()
            notice = await client.frame()
            assert set(notice) == {"event"} and notice["event"]["e"] == "serverShutdown"
            with pytest.raises(ConnectionClosed) as exc:
                await client.frame()
            assert exc.value.rcvd is not None and exc.value.rcvd.code == 1001
    finally:
        await sim.stop()
