"""REST fault injection (incl. the unknown-outcome case) and an independent client library
(python-binance) working unchanged against the sandbox."""

from __future__ import annotations

import asyncio
import json
import time
import warnings
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import yarl

from simulator.symbols import DEFAULT_SYMBOLS
from tests.sim_fixture import SimProcess
from tests.simulator.helpers import Api


def binance_client_class(rest_url: str) -> Any:
    """python-binance's AsyncClient with its REST base URL pointed at the sandbox.

    The library builds every URL from the `API_URL` class attribute
    (`"https://api{}.binance.{}/api"`, formatted with `base_endpoint` and `tld`), so a subclass
    with the sandbox URL (no placeholders) is all it takes. Imported lazily: the library emits
    DeprecationWarnings at import time that are not ours.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from binance import AsyncClient

    class SandboxClient(AsyncClient):  # type: ignore[misc]
        API_URL = rest_url + "/api"

    return SandboxClient


async def test_rest_fail_before_and_after_execution(sim: SimProcess) -> None:
    async with aiohttp.ClientSession() as s:
        api = Api(sim, s)
        await sim.fault("rest_fail", path="/api/v3/depth", method="GET", status=503, times=2)
        for _ in range(2):
            status, body, _ = await api.public("/api/v3/depth", symbol="BTCUSDT")
            assert status == 503 and body["code"] == -1008
        assert (await api.public("/api/v3/depth", symbol="BTCUSDT"))[0] == 200

        _, bt, _ = await api.public("/api/v3/ticker/bookTicker", symbol="BTCUSDT")
        price = str(Decimal(bt["bidPrice"]) - 100)
        await sim.fault("rest_fail", path="/api/v3/order", method="POST", code=-1007,
                        after_execute=True)
        status, body, _ = await api.order(symbol="BTCUSDT", side="BUY", type="LIMIT",
                                          timeInForce="GTC", quantity="0.001", price=price,
                                          newClientOrderId="unknown-outcome-1")
        assert status >= 500 and body["code"] == -1007
        # the order was in fact placed: the client must reconcile by its client order id
        status, q, _ = await api.signed("GET", "/api/v3/order", symbol="BTCUSDT",
                                        origClientOrderId="unknown-outcome-1")
        assert status == 200 and q["status"] == "NEW"
        ground = await sim.control("GET", "/sim/orders?symbol=BTCUSDT")
        assert [o["clientOrderId"] for o in ground["orders"]] == ["unknown-outcome-1"]

        # a slow but successful answer (delay only): the client's own timeout decides
        await sim.fault("rest_fail", path="/api/v3/time", delay_ms=300)
        try:
            async with s.get(sim.info.rest_url + "/api/v3/time",
                             timeout=aiohttp.ClientTimeout(total=0.05)):
                raise AssertionError("expected a client-side timeout")
        except TimeoutError:
            pass
        await sim.fault("rest_fail", path="/api/v3/time", delay_ms=100)
        status, body, _ = await api.public("/api/v3/time")
        assert status == 200 and "serverTime" in body
        # executed, then answered late with a gateway timeout
        await sim.fault("rest_fail", path="/api/v3/order", method="POST", status=504,
                        after_execute=True, delay_ms=100)
        status, body, _ = await api.order(symbol="BTCUSDT", side="BUY", type="LIMIT",
                                          timeInForce="GTC", quantity="0.001", price=price,
                                          newClientOrderId="unknown-outcome-2")
        assert status == 504
        ground = await sim.control("GET", "/sim/orders?symbol=BTCUSDT")
        assert "unknown-outcome-2" in [o["clientOrderId"] for o in ground["orders"]]


async def test_set_balances_and_market_pause(sim: SimProcess) -> None:
    await sim.control("POST", "/sim/balances", {"asset": "USDT", "free": "12.5"})
    await sim.control("POST", "/sim/market", {"running": False})
    async with aiohttp.ClientSession() as s:
        api = Api(sim, s)
        _, acct, _ = await api.signed("GET", "/api/v3/account")
        usdt = next(b for b in acct["balances"] if b["asset"] == "USDT")
        assert usdt == {"asset": "USDT", "free": "12.50000000", "locked": "0.00000000"}
        b1 = await sim.ground_truth("BNBUSDT")
        await asyncio.sleep(0.2)
        b2 = await sim.ground_truth("BNBUSDT")
        assert b1["lastUpdateId"] == b2["lastUpdateId"]
    await sim.control("POST", "/sim/market", {"running": True})
    async with asyncio.timeout(10):  # bounded poll of an external process
        moved = False
        while not moved:
            await asyncio.sleep(0.05)
            moved = (await sim.ground_truth("BNBUSDT"))["lastUpdateId"] != b2["lastUpdateId"]


async def test_python_binance_works_unchanged(sim: SimProcess) -> None:
    client_cls = binance_client_class(sim.info.rest_url)
    from binance.exceptions import BinanceAPIException

    client = await client_cls.create(sim.info.api_key, sim.info.api_secret)
    try:
        server = await client.get_server_time()
        assert abs(server["serverTime"] - time.time() * 1000) < 60_000
        info = await client.get_symbol_info("SHIBUSDT")
        assert info is not None and info["quoteAsset"] == "USDT"
        book = await client.get_order_book(symbol="ETHUSDT", limit=10)
        assert len(book["bids"]) == 10
        trades = await client.get_recent_trades(symbol="ETHUSDT", limit=5)
        assert len(trades) == 5
        ticker = await client.get_ticker(symbol="ETHUSDT")
        assert Decimal(ticker["lastPrice"]) > 0
        assert len(await client.get_all_tickers()) == len(DEFAULT_SYMBOLS)  # every market
        klines = await client.get_klines(symbol="ETHUSDT", interval="1h", limit=3)
        assert len(klines) == 3
        bid = Decimal(book["bids"][0][0])
        order = await client.order_limit_buy(symbol="ETHUSDT", quantity="0.01",
                                             price=str(bid - 50))
        assert order["status"] == "NEW"
        got = await client.get_order(symbol="ETHUSDT", orderId=order["orderId"])
        assert got["clientOrderId"] == order["clientOrderId"]
        assert [o["orderId"] for o in await client.get_open_orders(symbol="ETHUSDT")] == [
            order["orderId"]]
        cancelled = await client.cancel_order(symbol="ETHUSDT", orderId=order["orderId"])
        assert cancelled["status"] == "CANCELED"
        filled = await client.order_market_sell(symbol="ETHUSDT", quantity="0.01")
        assert filled["status"] == "FILLED"
        mine = await client.get_my_trades(symbol="ETHUSDT")
        assert {t["orderId"] for t in mine} == {filled["orderId"]}
        balance = await client.get_asset_balance(asset="ETH")
        assert balance is not None and Decimal(balance["free"]) < 20
        try:
            await client.get_order(symbol="ETHUSDT", orderId=123456789)
            raise AssertionError("expected -2013")
        except BinanceAPIException as exc:
            assert exc.code == -2013
    finally:
        await client.close_connection()


async def test_python_binance_ed25519_key() -> None:
    sim = await SimProcess.start()
    try:
        pem = Path(sim.info.ed25519_private_key_file).read_text()  # noqa: ASYNC240
        client_cls = binance_client_class(sim.info.rest_url)
        client = await client_cls.create(sim.info.ed25519_api_key, private_key=pem)
        try:
            account = await client.get_account()
            assert account["canTrade"] is True
        finally:
            await client.close_connection()
    finally:
        await sim.stop()


async def test_answers_from_the_edge_not_the_api(sim: SimProcess) -> None:
    async with aiohttp.ClientSession() as s:
        api = Api(sim, s)
        url = sim.info.rest_url
        await sim.fault("http_error", status=403)  # no path: the next REST request, whatever it is
        async with s.get(url + "/api/v3/ping") as r:
            assert r.status == 403 and r.content_type == "text/html"
            assert "403 ERROR" in await r.text() and "X-MBX-USED-WEIGHT-1M" not in r.headers
        await sim.fault("http_error", path="/api/v3/account", status=451)
        status, body, _ = await api.signed("GET", "/api/v3/account")
        assert (status, body) == (451, {"code": 0, "msg": (
            "Service unavailable from a restricted location according to 'b. Eligibility' in "
            "https://www.binance.com/en/terms. Please contact customer service if you believe you "
            "received this message in error.")})
        for code in (502, 504):
            await sim.fault("http_error", path="/api/v3/time", status=code)
            async with s.get(url + "/api/v3/time") as r:
                assert r.status == code and r.content_type == "text/html"
                assert str(code) in await r.text()

        _, bt, _ = await api.public("/api/v3/ticker/bookTicker", symbol="BTCUSDT")
        price = str(Decimal(bt["bidPrice"]) - 100)

        def order(cid: str) -> dict[str, Any]:
            return {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                    "quantity": "0.001", "price": price, "newClientOrderId": cid}

        async def placed() -> list[str]:
            ground = await sim.control("GET", "/sim/orders?symbol=BTCUSDT")
            return [o["clientOrderId"] for o in ground["orders"]]

        # a proxy's 502 after the order went through: the unknown-outcome case, in HTML
        await sim.fault("http_error", path="/api/v3/order", method="POST", status=502,
                        after_execute=True)
        url, kw = signed_url(api, order("edge-502"))
        async with s.post(url, **kw) as r:
            assert r.status == 502 and "Bad Gateway" in await r.text()
        assert await placed() == ["edge-502"]
        # a 200 whose JSON is cut: executed, unreadable
        await sim.fault("truncated_body", path="/api/v3/order", method="POST")
        url, kw = signed_url(api, order("edge-cut"))
        async with s.post(url, **kw) as r:
            assert r.status == 200 and r.content_type == "application/json"
            text = await r.text()
        try:
            json.loads(text)
            raise AssertionError("expected a cut JSON body")
        except ValueError:
            pass
        assert text.startswith('{"symbol":"BTCUSDT"') and "edge-cut" in await placed()
        # the connection is closed without an answer: before or after execution
        for cid, after in (("edge-reset-1", False), ("edge-reset-2", True)):
            await sim.fault("reset", path="/api/v3/order", method="POST", after_execute=after)
            try:
                await api.order(**order(cid))
                raise AssertionError("expected the connection to be closed")
            except aiohttp.ClientConnectionError:
                pass
            assert (cid in await placed()) is after
        assert (await api.public("/api/v3/ping"))[0] == 200


def signed_url(api: Api, params: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    payload = urlencode({**params, "timestamp": int(time.time() * 1000)})
    url = yarl.URL(f"{api.sim.info.rest_url}/api/v3/order?{payload}&signature={api.sign(payload)}",
                   encoded=True)
    return url, {"headers": {"X-MBX-APIKEY": api.key}}


async def test_a_cancel_reset_after_execution_is_resent_by_aiohttp_as_unknown_order(
    sim: SimProcess,
) -> None:
    """Pins a client hazard the `reset` fault exposes: aiohttp re-sends DELETE after a reset."""
    async with aiohttp.ClientSession() as s:
        api = Api(sim, s)
        _, bt, _ = await api.public("/api/v3/ticker/bookTicker", symbol="BTCUSDT")
        _, o, _ = await api.order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                                  quantity="0.001", price=str(Decimal(bt["bidPrice"]) - 100))
        await sim.fault("reset", path="/api/v3/order", method="DELETE", after_execute=True)
        status, err, _ = await api.signed("DELETE", "/api/v3/order", symbol="BTCUSDT",
                                          orderId=o["orderId"])
        assert (status, err["code"]) == (400, -2011)  # the re-sent copy's answer
        ground = await sim.control("GET", "/sim/orders?symbol=BTCUSDT")
        assert [x["status"] for x in ground["orders"]] == ["CANCELED"]  # the first one's effect
