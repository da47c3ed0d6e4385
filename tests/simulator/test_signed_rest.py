"""Signed endpoints: every authentication rule, error code and order endpoint over loopback."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import aiohttp
import yarl

from tests.sim_fixture import SimProcess
from tests.simulator.helpers import Api, hmac_sign, wait_until
from tests.simulator.test_public_rest import example, same_keys

D = Decimal


async def best(api: Api, symbol: str = "BTCUSDT") -> tuple[Decimal, Decimal]:
    _, bt, _ = await api.public("/api/v3/ticker/bookTicker", symbol=symbol)
    return D(bt["bidPrice"]), D(bt["askPrice"])


async def test_signature_rules(sim: SimProcess) -> None:
    async with aiohttp.ClientSession() as s:
        api = Api(sim, s)
        status, acct, _ = await api.signed("GET", "/api/v3/account")
        assert status == 200
        same_keys(acct, example("rest_account.json"))
        # Ed25519 key, signature in the query
        status, _, _ = await Api(sim, s, ed25519=True).signed("GET", "/api/v3/account")
        assert status == 200
        # signature in the body of a POST, Ed25519 too
        bid, _ = await best(api)
        for ed in (False, True):
            status, body, _ = await Api(sim, s, ed25519=ed).signed(
                "POST", "/api/v3/order/test", in_body=True, symbol="BTCUSDT", side="BUY",
                type="LIMIT", timeInForce="GTC", quantity="0.001", price=str(bid - 100))
            assert (status, body) == (200, {})
        # query + body concatenated without separator (spec §1.8)
        ts = int(time.time() * 1000)
        query = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC"
        body = f"quantity=0.001&price={bid - 100}&timestamp={ts}"
        sig = hmac_sign(sim.info.api_secret, query + body)
        async with s.post(yarl.URL(f"{sim.info.rest_url}/api/v3/order/test?{query}", encoded=True),
                          data=f"{body}&signature={sig}",
                          headers={"X-MBX-APIKEY": sim.info.api_key,
                                   "Content-Type": "application/x-www-form-urlencoded"}) as r:
            assert r.status == 200, await r.text()

        async def raw(headers: dict[str, str], qs: str) -> tuple[int, Any]:
            async with s.get(yarl.URL(f"{sim.info.rest_url}/api/v3/account?{qs}", encoded=True),
                             headers=headers) as r:
                return r.status, await r.json()

        good = {"X-MBX-APIKEY": sim.info.api_key}
        ts = int(time.time() * 1000)
        payload = f"timestamp={ts}"
        assert await raw(good, f"{payload}&signature={'0' * 64}") == (
            400, {"code": -1022, "msg": "Signature for this request is not valid."})
        sig = hmac_sign(sim.info.api_secret, payload)
        assert (await raw(good, f"{payload}&signature={sig.upper()}"))[0] == 200  # hex any case
        assert (await raw({}, f"{payload}&signature={sig}")) == (
            401, {"code": -2014, "msg": "API-key format invalid."})
        assert (await raw({"X-MBX-APIKEY": "x" * 64}, f"{payload}&signature={sig}")) == (
            401, {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."})
        status, err = await raw(good, payload)
        assert status == 400 and err["code"] == -1102 and "signature" in err["msg"]
        status, err = await raw(good, f"signature={hmac_sign(sim.info.api_secret, '')}")
        assert status == 400 and err["code"] == -1102 and "timestamp" in err["msg"]
        # the HMAC secret does not sign for the Ed25519 key
        status, err = await raw({"X-MBX-APIKEY": sim.info.ed25519_api_key},
                                f"{payload}&signature={sig}")
        assert err["code"] == -1022


async def test_timestamp_and_recv_window(sim: SimProcess) -> None:
    async with aiohttp.ClientSession() as s:
        api = Api(sim, s)
        now = int(time.time() * 1000)
        status, err, _ = await api.signed("GET", "/api/v3/account", timestamp=now - 10_000)
        assert (status, err) == (400, example("err_timestamp_outside_recvwindow.json"))
        status, _, _ = await api.signed("GET", "/api/v3/account", timestamp=now - 10_000,
                                        recvWindow="20000")
        assert status == 200
        status, err, _ = await api.signed("GET", "/api/v3/account", timestamp=now + 5_000)
        assert err == {"code": -1021,
                       "msg": "Timestamp for this request was 1000ms ahead of the server's time."}
        status, err, _ = await api.signed("GET", "/api/v3/account", recvWindow="70000")
        assert status == 400 and err["code"] == -1131
        status, _, _ = await api.signed("GET", "/api/v3/account", recvWindow="6000.346")
        assert status == 200
        # server clock skew: our timestamps now look 30 s old
        await sim.fault("clock_skew", ms=30_000)
        status, err, _ = await api.signed("GET", "/api/v3/account")
        assert err["code"] == -1021
        _, t, _ = await api.public("/api/v3/time")
        assert t["serverTime"] - int(time.time() * 1000) > 25_000
        await sim.fault("clear")
        status, _, _ = await api.signed("GET", "/api/v3/account")
        assert status == 200


async def test_order_lifecycle_and_response_types(sim: SimProcess) -> None:
    await sim.control("POST", "/sim/market", {"running": False})
    async with aiohttp.ClientSession() as s:
        api = Api(sim, s)
        bid, ask = await best(api)
        status, o, h = await api.order(symbol="BTCUSDT", side="BUY", type="LIMIT",
                                       timeInForce="GTC", quantity="0.01",
                                       price=str(bid - 100), newClientOrderId="life-1")
        assert status == 200, o
        same_keys({k: v for k, v in o.items() if k != "fills"},
                  {k: v for k, v in example("rest_order_result.json").items()})
        assert o["fills"] == [] and o["status"] == "NEW"
        assert {"X-MBX-ORDER-COUNT-10S", "X-MBX-ORDER-COUNT-1D"} <= set(h)
        status, dup, _ = await api.order(symbol="BTCUSDT", side="BUY", type="LIMIT",
                                         timeInForce="GTC", quantity="0.01",
                                         price=str(bid - 101), newClientOrderId="life-1")
        assert (status, dup) == (400, {"code": -2010, "msg": "Duplicate order sent."})

        _, q, _ = await api.signed("GET", "/api/v3/order", symbol="BTCUSDT",
                                   origClientOrderId="life-1")
        same_keys(q, example("rest_query_order.json"))
        _, acct, _ = await api.signed("GET", "/api/v3/account", omitZeroBalances="true")
        usdt = next(b for b in acct["balances"] if b["asset"] == "USDT")
        assert D(usdt["locked"]) == (bid - 100) * D("0.01")
        _, opens, _ = await api.signed("GET", "/api/v3/openOrders", symbol="BTCUSDT")
        assert [x["orderId"] for x in opens] == [o["orderId"]]

        status, c, _ = await api.signed("DELETE", "/api/v3/order", symbol="BTCUSDT",
                                        orderId=str(o["orderId"]))
        same_keys(c, example("rest_cancel_order.json"))
        assert c["status"] == "CANCELED" and c["origClientOrderId"] == "life-1"
        status, err, _ = await api.signed("DELETE", "/api/v3/order", symbol="BTCUSDT",
                                          orderId=str(o["orderId"]))
        assert (status, err) == (400, {"code": -2011, "msg": "Unknown order sent."})
        status, err, _ = await api.signed("GET", "/api/v3/order", symbol="BTCUSDT",
                                          orderId="999999")
        assert err == {"code": -2013, "msg": "Order does not exist."}
        status, err, _ = await api.signed("DELETE", "/api/v3/order", symbol="BTCUSDT")
        assert err["code"] == -1102
        status, err, _ = await api.signed("DELETE", "/api/v3/openOrders", symbol="BTCUSDT")
        assert err == {"code": -2011, "msg": "Unknown order sent."}

        # MARKET defaults to FULL; LIMIT_MAKER to ACK; explicit RESULT
        status, m, _ = await api.order(symbol="BTCUSDT", side="BUY", type="MARKET",
                                       quantity="0.002")
        same_keys(m, example("rest_order_full.json"))
        assert m["status"] == "FILLED" and m["fills"][0]["commissionAsset"] == "BTC"
        status, lm, _ = await api.order(symbol="BTCUSDT", side="SELL", type="LIMIT_MAKER",
                                        quantity="0.002", price=str(ask + 100))
        same_keys(lm, example("rest_order_ack.json"))
        status, r, _ = await api.order(symbol="BTCUSDT", side="SELL", type="LIMIT_MAKER",
                                       quantity="0.002", price=str(ask + 101),
                                       newOrderRespType="RESULT")
        assert "fills" not in r and r["status"] == "NEW"
        status, err, _ = await api.order(symbol="BTCUSDT", side="SELL", type="LIMIT_MAKER",
                                         quantity="0.002", price=str(bid))
        assert err == {"code": -2010, "msg": "Order would immediately match and take."}
        status, cancelled, _ = await api.signed("DELETE", "/api/v3/openOrders", symbol="BTCUSDT")
        assert len(cancelled) == 2 and all(x["status"] == "CANCELED" for x in cancelled)

        _, trades, _ = await api.signed("GET", "/api/v3/myTrades", symbol="BTCUSDT")
        assert [t["orderId"] for t in trades] == [m["orderId"]] * len(m["fills"])
        same_keys(trades[0], example("rest_myTrades.json")[0])
        _, by_id, _ = await api.signed("GET", "/api/v3/myTrades", symbol="BTCUSDT",
                                       fromId=str(trades[-1]["id"]))
        assert [t["id"] for t in by_id] == [trades[-1]["id"]]
        _, all_o, _ = await api.signed("GET", "/api/v3/allOrders", symbol="BTCUSDT")
        assert [x["orderId"] for x in all_o] == sorted(x["orderId"] for x in all_o)
        assert len(all_o) == 4
        ground = await sim.control("GET", "/sim/orders?symbol=BTCUSDT")
        assert len(ground["orders"]) == 4

        # order/test with commission rates
        status, rates, _ = await api.signed(
            "POST", "/api/v3/order/test", symbol="BTCUSDT", side="BUY", type="MARKET",
            quantity="0.001", computeCommissionRates="true")
        assert rates["standardCommissionForOrder"] == {"maker": "0.00100000",
                                                       "taker": "0.00100000"}


async def test_order_validation_errors(sim: SimProcess) -> None:
    async with aiohttp.ClientSession() as s:
        api = Api(sim, s)
        bid, _ = await best(api)
        p = str(bid - 100)
        base = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                "quantity": "0.01", "price": p}
        cases: list[tuple[dict[str, Any], int, str | None]] = [
            ({"symbol": "XXXUSDT"}, -1121, "Invalid symbol."),
            ({"side": "UP"}, -1117, "Invalid side."),
            ({"type": "ICEBERG"}, -1116, "Invalid orderType."),
            ({"timeInForce": "GTX"}, -1115, "Invalid timeInForce."),
            ({"timeInForce": None}, -1102,
             "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed."),
            ({"price": None}, -1102, None),
            ({"type": "MARKET", "price": None}, -1106,
             "Parameter 'timeInForce' sent when not required."),
            ({"type": "MARKET", "timeInForce": None}, -1106,
             "Parameter 'price' sent when not required."),
            ({"quantity": "0.0100000001"}, -1111, "Parameter 'quantity' has too much precision."),
            ({"quantity": "1e-3"}, -1100, None),
            ({"newClientOrderId": "bad id!"}, -1100, None),
            ({"price": str(bid - D("100.005"))}, -1013, "Filter failure: PRICE_FILTER"),
            ({"quantity": "0.000015"}, -1013, "Filter failure: LOT_SIZE"),
            ({"quantity": "0.00001"}, -1013, "Filter failure: NOTIONAL"),
            ({"price": "100.00"}, -1013, "Filter failure: PERCENT_PRICE_BY_SIDE"),
            ({"quantity": "5"}, -2010, "Account has insufficient balance for requested action."),
            ({"type": "STOP_LOSS_LIMIT", "stopPrice": str(bid - 200)}, -2010,
             "Order would trigger immediately."),
            ({"type": "STOP_LOSS", "timeInForce": None, "price": None}, -1102, None),
        ]
        for change, code, msg in cases:
            params = {k: v for k, v in (base | change).items() if v is not None}
            status, err, _ = await api.order(**params)
            assert status == 400 and err["code"] == code, (change, err)
            if msg is not None:
                assert err["msg"] == msg, (change, err)
        _, err, _ = await api.order(symbol="BTCUSDT", side="BUY", type="MARKET")
        assert err == {"code": -1102, "msg": "Param 'quantity' or 'quoteOrderQty' must be sent, "
                                             "but both were empty/null!"}
        assert (await api.signed("GET", "/api/v3/order", symbol="BTCUSDT",
                                 origClientOrderId=""))[1]["code"] == -1119


async def test_weight_limit_429_then_418(sim: SimProcess) -> None:
    await sim.fault("weight_limit", limit=30)
    async with aiohttp.ClientSession() as s:
        api = Api(sim, s)
        seen = []
        for _ in range(12):
            status, body, h = await api.public("/api/v3/exchangeInfo")  # weight 20
            seen.append((status, body.get("code") if isinstance(body, dict) else None,
                         h.get("Retry-After")))
        statuses = [x[0] for x in seen]
        assert statuses[0] == 200
        first_429 = statuses.index(429)
        assert seen[first_429][1] == -1003 and int(seen[first_429][2]) >= 1
        assert 418 in statuses[first_429:]
        ban = seen[statuses.index(418)]
        assert ban[1] == -1003 and int(ban[2]) >= 60
        status, body, _ = await api.public("/api/v3/ping")
        assert status == 418 and "banned" in body["msg"]
    await sim.fault("clear")
    async with aiohttp.ClientSession() as s:
        assert (await Api(sim, s).public("/api/v3/ping"))[0] == 200


async def test_failed_orders_cost_weight_and_successful_ones_do_not(sim: SimProcess) -> None:
    async with aiohttp.ClientSession() as s:
        api = Api(sim, s)
        bid, _ = await best(api)
        for _ in range(3):
            _, _, before = await api.public("/api/v3/ping")
            _, _o, after = await api.order(symbol="BTCUSDT", side="BUY", type="LIMIT",
                                          timeInForce="GTC", quantity="0.001",
                                          price=str(bid - 100))
            used0, used1 = int(before["X-MBX-USED-WEIGHT-1M"]), int(after["X-MBX-USED-WEIGHT-1M"])
            if used1 >= used0:  # same minute
                assert used1 == used0
                break
        _, _, before = await api.public("/api/v3/ping")
        status, _, after = await api.order(symbol="BTCUSDT", side="BUY", type="LIMIT",
                                           timeInForce="GTC", quantity="0.001", price="1")
        assert status == 400
        used0, used1 = int(before["X-MBX-USED-WEIGHT-1M"]), int(after["X-MBX-USED-WEIGHT-1M"])
        assert used1 in (used0 + 1, 1)


async def test_a_repeat_offender_is_banned_longer(sim: SimProcess) -> None:
    await sim.fault("weight_limit", limit=30, ban_seconds=1)
    async with aiohttp.ClientSession() as s:
        api = Api(sim, s)

        async def ban() -> int:
            for _ in range(12):
                status, _, h = await api.public("/api/v3/exchangeInfo")  # weight 20
                if status == 418:
                    return int(h["Retry-After"])
            raise AssertionError("never banned")

        async def unbanned() -> bool:
            return (await api.public("/api/v3/ping"))[0] != 418

        assert await ban() == 1
        await wait_until(unbanned)
        assert await ban() == 2  # twice as long, up to 3 days
