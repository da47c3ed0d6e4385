"""Order-safety behaviours of the sandbox: lost answers executed late, a slow exchange holding
requests, client order id reuse, order-count limits and reference prices."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Any

import aiohttp

from tests.sim_fixture import SimProcess
from tests.simulator.helpers import Api, wait_log, wait_until

D = Decimal
ORDER = "/api/v3/order"


async def bid_price(api: Api, symbol: str = "BTCUSDT") -> Decimal:
    _, bt, _ = await api.public("/api/v3/ticker/bookTicker", symbol=symbol)
    return D(bt["bidPrice"])


def limit_buy(price: Decimal, cid: str, **extra: Any) -> dict[str, Any]:
    return {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
            "quantity": "0.001", "price": str(price), "newClientOrderId": cid, **extra}


async def ids_everywhere(sim: SimProcess, api: Api) -> dict[str, list[str]]:
    """Client order ids as GET openOrders, GET allOrders and /sim/orders show them."""
    _, opens, _ = await api.signed("GET", "/api/v3/openOrders", symbol="BTCUSDT")
    _, every, _ = await api.signed("GET", "/api/v3/allOrders", symbol="BTCUSDT")
    ground = await sim.control("GET", "/sim/orders?symbol=BTCUSDT")
    return {
        "open": [o["clientOrderId"] for o in opens],
        "all": [o["clientOrderId"] for o in every],
        "sim": [o["clientOrderId"] for o in ground["orders"]],
    }


async def test_lost_answer_is_executed_later_within_the_recv_window(sim: SimProcess) -> None:
    await sim.control("POST", "/sim/market", {"running": False})
    async with aiohttp.ClientSession() as s:
        api = Api(sim, s)
        price = await bid_price(api) - 100
        await sim.fault("rest_fail", path=ORDER, method="POST", code=-1007,
                        execute_after_ms=3000)
        status, body, _ = await api.order(**limit_buy(price, "late-1"))
        assert status == 500 and body["code"] == -1007
        # not executed yet: a lookup right now finds nothing
        status, err, _ = await api.signed("GET", ORDER, symbol="BTCUSDT",
                                          origClientOrderId="late-1")
        assert (status, err["code"]) == (400, -2013)
        assert await ids_everywhere(sim, api) == {"open": [], "all": [], "sim": []}

        rec = await wait_log(sim, "fault.late_execution", client_order_id="late-1")
        assert rec["executed"] is True
        status, q, _ = await api.signed("GET", ORDER, symbol="BTCUSDT",
                                        origClientOrderId="late-1")
        assert status == 200 and q["status"] == "NEW" and q["orderId"] == rec["order_id"]
        assert D(q["price"]) == price
        assert await ids_everywhere(sim, api) == {
            "open": ["late-1"], "all": ["late-1"], "sim": ["late-1"]}


async def test_lost_answer_past_the_recv_window_is_never_executed(sim: SimProcess) -> None:
    async with aiohttp.ClientSession() as s:
        api = Api(sim, s)
        price = await bid_price(api) - 100
        await sim.fault("rest_fail", path=ORDER, method="POST", status=503,
                        execute_after_ms=1200)
        status, body, _ = await api.order(**limit_buy(price, "late-2", recvWindow="1000"))
        assert status == 503 and body["code"] == -1008
        rec = await wait_log(sim, "fault.late_execution", path=ORDER)
        assert rec["executed"] is False and rec["code"] == -1021
        status, err, _ = await api.signed("GET", ORDER, symbol="BTCUSDT",
                                          origClientOrderId="late-2")
        assert err["code"] == -2013
        assert await ids_everywhere(sim, api) == {"open": [], "all": [], "sim": []}


async def test_delayed_failure_answer_arrives_after_the_late_execution(sim: SimProcess) -> None:
    async with aiohttp.ClientSession() as s:
        api = Api(sim, s)
        price = await bid_price(api) - 100
        await sim.fault("rest_fail", path=ORDER, method="POST", status=504,
                        execute_after_ms=50, delay_ms=400)
        status, _, _ = await api.order(**limit_buy(price, "late-3"))
        assert status == 504
        # both timers run on the sandbox's loop: the execution (50 ms) precedes the answer
        assert (await ids_everywhere(sim, api))["sim"] == ["late-3"]


async def test_held_requests_are_in_flight_together(sim: SimProcess) -> None:
    async with aiohttp.ClientSession() as s:
        api = Api(sim, s)
        price = await bid_price(api) - 100
        await sim.fault("rest_fail", path=ORDER, method="POST", hold_ms=3000, times=2)
        first = asyncio.create_task(api.order(**limit_buy(price, "same-id")))
        second = asyncio.create_task(api.order(**limit_buy(price - 1, "same-id")))

        async def both_held() -> bool:
            return bool((await sim.control("GET", "/sim/held"))["held"] == 2)

        await wait_until(both_held)
        assert await ids_everywhere(sim, api) == {"open": [], "all": [], "sim": []}
        answers = sorted([(await first)[:2], (await second)[:2]], key=lambda a: a[0])
        assert answers[0][0] == 200 and answers[0][1]["status"] == "NEW"
        assert answers[1] == (400, {"code": -2010, "msg": "Duplicate order sent."})
        assert (await sim.control("GET", "/sim/held"))["held"] == 0
        # a request held past its recvWindow fails the check before the matching engine
        await sim.fault("rest_fail", path=ORDER, method="POST", hold_ms=700)
        status, err, _ = await api.order(**limit_buy(price, "held-late", recvWindow="500"))
        assert (status, err) == (400, {"code": -1021, "msg": "Timestamp for this request is "
                                                            "outside of the recvWindow."})
        assert "held-late" not in (await ids_everywhere(sim, api))["sim"]
        # held GETs answer normally, just later
        await sim.fault("rest_fail", path="/api/v3/time", hold_ms=200)
        t0 = time.monotonic()
        status, body, _ = await api.public("/api/v3/time")
        assert status == 200 and "serverTime" in body and time.monotonic() - t0 >= 0.2


async def test_client_order_id_is_unique_only_among_open_orders(sim: SimProcess) -> None:
    await sim.control("POST", "/sim/market", {"running": False})
    async with aiohttp.ClientSession() as s:
        api = Api(sim, s)
        price = await bid_price(api) - 100
        status, first, _ = await api.order(**limit_buy(price, "reuse"))
        assert status == 200 and first["status"] == "NEW"
        status, dup, _ = await api.order(**limit_buy(price - 1, "reuse"))
        assert (status, dup) == (400, {"code": -2010, "msg": "Duplicate order sent."})
        status, _, _ = await api.signed("DELETE", ORDER, symbol="BTCUSDT",
                                        origClientOrderId="reuse")
        assert status == 200
        # the id of a CANCELED order is free again
        status, second, _ = await api.order(**limit_buy(price - 2, "reuse"))
        assert status == 200 and second["orderId"] != first["orderId"]
        _, q, _ = await api.signed("GET", ORDER, symbol="BTCUSDT", origClientOrderId="reuse")
        assert (q["orderId"], q["status"]) == (second["orderId"], "NEW")
        _, old, _ = await api.signed("GET", ORDER, symbol="BTCUSDT", orderId=first["orderId"],
                                     origClientOrderId="reuse")
        assert old["status"] == "CANCELED"
        _, every, _ = await api.signed("GET", "/api/v3/allOrders", symbol="BTCUSDT")
        assert [(o["clientOrderId"], o["status"]) for o in every] == [
            ("reuse", "CANCELED"), ("reuse", "NEW")]
        status, cancelled, _ = await api.signed("DELETE", ORDER, symbol="BTCUSDT",
                                                origClientOrderId="reuse")
        assert cancelled["orderId"] == second["orderId"]

        # FILLED and EXPIRED ids too
        for _ in range(2):
            status, m, _ = await api.order(symbol="BTCUSDT", side="BUY", type="MARKET",
                                           quantity="0.001", newClientOrderId="mkt")
            assert status == 200 and m["status"] == "FILLED"
        _, q, _ = await api.signed("GET", ORDER, symbol="BTCUSDT", origClientOrderId="mkt")
        assert q["orderId"] == m["orderId"]
        for _ in range(2):
            status, ioc, _ = await api.order(**limit_buy(price, "ioc", timeInForce="IOC"))
            assert status == 200 and ioc["status"] == "EXPIRED"
        _, q, _ = await api.signed("GET", ORDER, symbol="BTCUSDT", origClientOrderId="ioc")
        assert q["orderId"] == ioc["orderId"]


def order_limits(info: dict[str, Any]) -> list[tuple[str, int, int]]:
    return [(r["interval"], r["intervalNum"], r["limit"]) for r in info["rateLimits"]
            if r["rateLimitType"] == "ORDERS"]


async def test_unfilled_order_count_limit_and_fills_decrementing_it(sim: SimProcess) -> None:
    await sim.control("POST", "/sim/market", {"running": False})
    async with aiohttp.ClientSession() as s:
        api = Api(sim, s)
        _, info, _ = await api.public("/api/v3/exchangeInfo")
        assert order_limits(info) == [("SECOND", 10, 50), ("DAY", 1, 160000)]
        await sim.fault("order_limit", limit_1d=3)
        _, info, _ = await api.public("/api/v3/exchangeInfo")
        assert order_limits(info) == [("SECOND", 10, 50), ("DAY", 1, 3)]
        price = await bid_price(api) - 100

        def count_1d(h: Any) -> int:
            return int(h["X-MBX-ORDER-COUNT-1D"])

        status, m, h = await api.order(symbol="BTCUSDT", side="BUY", type="MARKET",
                                       quantity="0.001")
        assert m["status"] == "FILLED" and count_1d(h) == 0  # filled at once: no unfilled order
        _, bt, _ = await api.public("/api/v3/ticker/bookTicker", symbol="BTCUSDT")
        status, maker, h = await api.order(symbol="BTCUSDT", side="SELL", type="LIMIT",
                                           timeInForce="GTC", quantity="0.001",
                                           price=bt["askPrice"])
        assert maker["status"] == "NEW" and count_1d(h) == 1
        status, _, h = await api.order(**limit_buy(price, "rest-1"))
        assert count_1d(h) == 2
        # take the whole best ask level, our resting SELL included (self-trade allowed)
        _, book, _ = await api.public("/api/v3/depth", symbol="BTCUSDT", limit=1)
        level_price, level_qty = book["asks"][0]
        assert D(level_price) == D(bt["askPrice"])
        status, taker, h = await api.order(symbol="BTCUSDT", side="BUY", type="LIMIT",
                                           timeInForce="GTC", quantity=str(D(level_qty)),
                                           price=level_price, selfTradePreventionMode="NONE")
        assert taker["status"] == "FILLED"
        _, q, _ = await api.signed("GET", ORDER, symbol="BTCUSDT", orderId=maker["orderId"])
        assert q["status"] == "FILLED"
        assert count_1d(h) == 1  # +1 for the taker, -1 for its fill, -1 for the maker's fill

        for cid in ("rest-2", "rest-3"):
            status, _, h = await api.order(**limit_buy(price, cid))
            assert status == 200
        assert count_1d(h) == 3
        for _ in range(8):  # a count, not a weight: refusals never become an IP ban
            status, err, h = await api.order(**limit_buy(price, "refused"))
            assert (status, err) == (429, {
                "code": -1015, "msg": "Too many new orders; current limit is 3 orders per 1 DAY."})
            assert 1 <= int(h["Retry-After"]) <= 86_400
        assert "refused" not in (await ids_everywhere(sim, api))["sim"]
        # requests that place no order are never refused by the order count
        assert (await api.signed("GET", ORDER, symbol="BTCUSDT", origClientOrderId="rest-2"))[0] \
            == 200
        assert (await api.signed("DELETE", ORDER, symbol="BTCUSDT",
                                 origClientOrderId="rest-2"))[0] == 200
        assert (await api.public("/api/v3/depth", symbol="BTCUSDT"))[0] == 200
        assert (await api.public("/api/v3/ping"))[0] == 200
        # a cancel does not give the count back
        assert (await api.order(**limit_buy(price, "refused")))[0] == 429

        await sim.fault("clear")
        _, info, _ = await api.public("/api/v3/exchangeInfo")
        assert order_limits(info) == [("SECOND", 10, 50), ("DAY", 1, 160000)]
        status, _, h = await api.order(**limit_buy(price, "after-clear"))
        assert status == 200 and count_1d(h) == 1


async def test_ten_second_order_limit_names_its_window(sim: SimProcess) -> None:
    async with aiohttp.ClientSession() as s:
        api = Api(sim, s)
        price = await bid_price(api) - 100
        await sim.fault("order_limit", limit_10s=1)
        refused = []
        for i in range(3):  # a 10 s boundary can fall between two of them, but not twice
            status, body, h = await api.order(**limit_buy(price, f"ten-{i}"))
            if status == 429:
                refused.append((body, int(h["Retry-After"])))
            else:
                assert int(h["X-MBX-ORDER-COUNT-10S"]) == 1
        assert refused
        body, retry = refused[0]
        assert body == {"code": -1015,
                        "msg": "Too many new orders; current limit is 1 orders per 10 SECOND."}
        assert 1 <= retry <= 10


def filter_of(info: dict[str, Any], symbol: str, kind: str) -> dict[str, Any]:
    sym = next(x for x in info["symbols"] if x["symbol"] == symbol)
    return dict(next(f for f in sym["filters"] if f["filterType"] == kind))


async def test_reference_price_drives_the_price_filters(sim: SimProcess) -> None:
    async with aiohttp.ClientSession() as s:
        api = Api(sim, s)
        _, info, _ = await api.public("/api/v3/exchangeInfo")
        assert filter_of(info, "BTCUSDT", "PERCENT_PRICE_BY_SIDE")["avgPriceMins"] == 1
        assert filter_of(info, "BTCUSDT", "NOTIONAL")["avgPriceMins"] == 5
        assert filter_of(info, "DOGEBTC", "PERCENT_PRICE_BY_SIDE")["avgPriceMins"] == 0
        _, avg, _ = await api.public("/api/v3/avgPrice", symbol="BTCUSDT")
        assert avg["mins"] == 5

        _, _, before = await api.public("/api/v3/ping")
        status, ref, after = await api.public("/api/v3/referencePrice", symbol="BTCUSDT")
        assert status == 200 and ref["symbol"] == "BTCUSDT" and ref["referencePrice"] is None
        assert isinstance(ref["timestamp"], int)
        used0, used1 = int(before["X-MBX-USED-WEIGHT-1M"]), int(after["X-MBX-USED-WEIGHT-1M"])
        assert used1 in (used0 + 2, 2)  # weight 2 (or a new minute began in between)
        status, err, _ = await api.public("/api/v3/referencePrice")
        assert (status, err["code"]) == (400, -1102)
        status, err, _ = await api.public("/api/v3/referencePrice", symbol="NOPEUSDT")
        assert (status, err["code"]) == (400, -1121)

        # inside the VWAP band (5 x ~64000) but above 5 x the reference price
        sell = {"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC",
                "quantity": "0.001", "price": "150000.00"}
        await sim.control("POST", "/sim/reference_price", {"symbol": "BTCUSDT", "price": "20000"})
        _, ref, _ = await api.public("/api/v3/referencePrice", symbol="BTCUSDT")
        assert D(ref["referencePrice"]) == D(20000)
        status, err, _ = await api.order(**sell)
        assert (status, err) == (400, {"code": -1013,
                                       "msg": "Filter failure: PERCENT_PRICE_BY_SIDE"})
        # NOTIONAL of a MARKET order is valued at the reference price too: 0.0001 x 40000 < 5
        await sim.control("POST", "/sim/reference_price", {"symbol": "BTCUSDT", "price": "40000"})
        status, err, _ = await api.order(symbol="BTCUSDT", side="BUY", type="MARKET",
                                         quantity="0.0001")
        assert err == {"code": -1013, "msg": "Filter failure: NOTIONAL"}

        await sim.control("POST", "/sim/reference_price", {"symbol": "BTCUSDT", "price": None})
        _, ref, _ = await api.public("/api/v3/referencePrice", symbol="BTCUSDT")
        assert ref["referencePrice"] is None
        status, placed, _ = await api.order(**sell)
        assert status == 200 and placed["status"] == "NEW"
        status, bought, _ = await api.order(symbol="BTCUSDT", side="BUY", type="MARKET",
                                            quantity="0.0001")
        assert status == 200 and bought["status"] == "FILLED"

        async with s.ws_connect(sim.info.ws_url + "/ws/btcusdt@referencePrice") as ws:
            await sim.control("POST", "/sim/reference_price",
                              {"symbol": "BTCUSDT", "price": "63650.12"})
            async with asyncio.timeout(10):
                while True:
                    event = await ws.receive_json()
                    if event["r"] is not None:
                        break
            assert set(event) == {"e", "s", "r", "t"} and event["e"] == "referencePrice"
            assert (event["s"], D(event["r"])) == ("BTCUSDT", D("63650.12"))
        await sim.fault("clear")
        _, ref, _ = await api.public("/api/v3/referencePrice", symbol="BTCUSDT")
        assert ref["referencePrice"] is None
