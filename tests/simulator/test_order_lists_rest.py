"""Order lists, cancel-replace, amendments and cancel-all over REST, and their events on the WebSocket
API user data stream, against a sandbox process on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from websockets.asyncio.client import connect

from tests.sim_fixture import SimProcess
from tests.simulator.helpers import Api
from tests.simulator.test_ws_api import Client, kind

D = Decimal
SYM = "BTCUSDT"


@pytest.fixture
async def api(sim: SimProcess) -> AsyncIterator[Api]:
    await sim.control("POST", "/sim/market", {"running": False})  # a frozen book: prices stay put
    async with aiohttp.ClientSession() as session:
        yield Api(sim, session)


async def last_price(api: Api) -> Decimal:
    _, t, _ = await api.public("/api/v3/ticker/price", symbol=SYM)
    return D(t["price"])


async def call(api: Api, method: str, path: str, **params: Any) -> Any:
    status, body, _ = await api.signed(method, path, **params)
    assert status == 200, body
    return body


def q(price: Decimal) -> str:
    return str(price.quantize(D("0.01")))


async def test_oco_is_placed_queried_listed_and_canceled_with_binances_payloads(sim: SimProcess, api: Api) -> None:
    p = await last_price(api)
    placed = await call(
        api,
        "POST",
        "/api/v3/orderList/oco",
        symbol=SYM,
        side="SELL",
        quantity="0.01",
        aboveType="LIMIT_MAKER",
        abovePrice=q(p * D("1.02")),
        aboveClientOrderId="tp-1",
        belowType="STOP_LOSS_LIMIT",
        belowStopPrice=q(p * D("0.98")),
        belowPrice=q(p * D("0.97")),
        belowTimeInForce="GTC",
        listClientOrderId="my-oco",
        aboveStrategyId="7",
        aboveStrategyType="1000000",
    )
    assert set(placed) == {
        "orderListId",
        "contingencyType",
        "listStatusType",
        "listOrderStatus",
        "listClientOrderId",
        "transactionTime",
        "symbol",
        "orders",
        "orderReports",
    }
    assert (
        placed["contingencyType"],
        placed["listStatusType"],
        placed["listOrderStatus"],
        placed["listClientOrderId"],
    ) == ("OCO", "EXEC_STARTED", "EXECUTING", "my-oco")
    above, below = placed["orderReports"]
    assert (above["type"], above["status"], above["clientOrderId"], above["strategyId"]) == (
        "LIMIT_MAKER",
        "NEW",
        "tp-1",
        7,
    )
    assert (below["type"], below["workingTime"], D(below["stopPrice"])) == ("STOP_LOSS_LIMIT", -1, D(q(p * D("0.98"))))
    assert {r["orderListId"] for r in placed["orderReports"]} == {placed["orderListId"]}
    assert above["fills"] == []  # FULL by default
    list_id = placed["orderListId"]
    by_id = await call(api, "GET", "/api/v3/orderList", orderListId=list_id)
    by_client = await call(api, "GET", "/api/v3/orderList", origClientOrderId="my-oco")
    assert by_id == by_client and "orderReports" not in by_id
    assert [o["orderId"] for o in by_id["orders"]] == [above["orderId"], below["orderId"]]
    assert [x["orderListId"] for x in await call(api, "GET", "/api/v3/openOrderList")] == [list_id]
    opened = await call(api, "GET", "/api/v3/openOrders", symbol=SYM)
    assert {o["orderListId"] for o in opened} == {list_id}
    account = await call(api, "GET", "/api/v3/account")
    assert D(next(b["locked"] for b in account["balances"] if b["asset"] == "BTC")) == D("0.01")
    canceled = await call(
        api, "DELETE", "/api/v3/orderList", symbol=SYM, orderListId=list_id, newClientOrderId="cxl-list"
    )
    assert (canceled["listStatusType"], canceled["listOrderStatus"]) == ("ALL_DONE", "ALL_DONE")
    assert [(r["status"], r["clientOrderId"], r["origClientOrderId"]) for r in canceled["orderReports"]] == [
        ("CANCELED", "cxl-list", "tp-1"),
        ("CANCELED", "cxl-list", below["clientOrderId"]),
    ]
    assert await call(api, "GET", "/api/v3/openOrderList") == []
    status, err, _ = await api.signed("DELETE", "/api/v3/orderList", symbol=SYM, orderListId=list_id)
    assert (status, err) == (400, {"code": -2011, "msg": "Unknown order list sent."})
    status, err, _ = await api.signed("GET", "/api/v3/orderList", orderListId=999)
    assert (status, err) == (400, {"code": -2018, "msg": "Order list does not exist."})
    every = await call(api, "GET", "/api/v3/allOrderList")
    assert [x["orderListId"] for x in every] == [list_id]


async def test_oco_refusals_and_the_unfilled_order_count_of_two(sim: SimProcess, api: Api) -> None:
    p = await last_price(api)
    base = {
        "symbol": SYM,
        "side": "SELL",
        "quantity": "0.01",
        "aboveType": "LIMIT_MAKER",
        "abovePrice": q(p * D("1.02")),
        "belowType": "STOP_LOSS",
        "belowStopPrice": q(p * D("0.98")),
    }
    status, err, _ = await api.signed("POST", "/api/v3/orderList/oco", **{**base, "belowStopPrice": q(p * 2)})
    assert (status, err["code"]) == (400, -2010) and "relationship of the prices" in err["msg"]
    status, err, _ = await api.signed(
        "POST", "/api/v3/orderList/oco", **{**base, "aboveType": "TAKE_PROFIT", "aboveStopPrice": q(p * 2)}
    )
    assert err == {"code": -1106, "msg": "Parameter 'abovePrice' sent when not required."}
    status, err, _ = await api.signed("POST", "/api/v3/orderList/oco", **{**base, "belowType": "LIMIT"})
    assert err["code"] == -1158
    status, err, _ = await api.signed("POST", "/api/v3/orderList/oco", **{**base, "belowStopPrice": None})
    assert err == {
        "code": -1102,
        "msg": "Param 'belowStopPrice' or 'belowTrailingDelta' must be sent, but both were empty/null!",
    }
    await sim.fault("order_limit", limit_10s=1)
    status, err, headers = await api.signed("POST", "/api/v3/orderList/oco", **base)
    assert (status, err["code"]) == (429, -1015) and int(headers["Retry-After"]) >= 1
    assert (await sim.control("GET", f"/sim/orders?symbol={SYM}"))["orders"] == []
    await sim.fault("order_limit", limit_10s=2)
    assert (await api.signed("POST", "/api/v3/orderList/oco", **base))[0] == 200


async def test_oto_and_otoco_pending_orders_are_pending_new_until_the_working_order_fills(
    sim: SimProcess, api: Api
) -> None:
    p = await last_price(api)
    book = await sim.ground_truth(SYM)
    bid = D(book["bids"][0][0])
    oto = await call(
        api,
        "POST",
        "/api/v3/orderList/oto",
        symbol=SYM,
        newOrderRespType="RESULT",
        workingType="LIMIT",
        workingSide="BUY",
        workingPrice=str(bid),
        workingQuantity="0.002",
        workingTimeInForce="GTC",
        workingClientOrderId="w1",
        pendingType="LIMIT_MAKER",
        pendingSide="SELL",
        pendingPrice=q(p * D("1.05")),
        pendingQuantity="0.002",
        pendingClientOrderId="p1",
    )
    assert oto["contingencyType"] == "OTO"
    assert [r["status"] for r in oto["orderReports"]] == ["NEW", "PENDING_NEW"]
    assert "fills" not in oto["orderReports"][0]
    pending = await call(api, "GET", "/api/v3/order", symbol=SYM, origClientOrderId="p1")
    assert (pending["status"], pending["isWorking"], pending["orderListId"]) == (
        "PENDING_NEW",
        False,
        oto["orderListId"],
    )
    await sim.control("POST", "/sim/take", {"symbol": SYM, "side": "SELL", "quantity": book["bids"][0][1]})
    await sim.control("POST", "/sim/take", {"symbol": SYM, "side": "SELL", "quantity": "0.002"})
    assert (await call(api, "GET", "/api/v3/order", symbol=SYM, origClientOrderId="w1"))["status"] == "FILLED"
    assert (await call(api, "GET", "/api/v3/order", symbol=SYM, origClientOrderId="p1"))["status"] == "NEW"
    done = await call(api, "GET", "/api/v3/orderList", orderListId=oto["orderListId"])
    assert done["listOrderStatus"] == "ALL_DONE"

    otoco = await call(
        api,
        "POST",
        "/api/v3/orderList/otoco",
        symbol=SYM,
        workingType="LIMIT_MAKER",
        workingSide="BUY",
        workingPrice=q(p * D("0.9")),
        workingQuantity="0.001",
        pendingSide="SELL",
        pendingQuantity="0.001",
        pendingAboveType="LIMIT_MAKER",
        pendingAbovePrice=q(p * D("1.1")),
        pendingBelowType="STOP_LOSS",
        pendingBelowTrailingDelta="300",
        pendingBelowClientOrderId="trail-leg",
    )
    assert otoco["contingencyType"] == "OTO" and len(otoco["orders"]) == 3
    trail = otoco["orderReports"][2]
    assert (trail["status"], trail["trailingDelta"], trail["trailingTime"]) == ("PENDING_NEW", 300, -1)
    result = await call(api, "DELETE", "/api/v3/openOrders", symbol=SYM)
    lists = [x for x in result if "orderListId" in x and "orderReports" in x]
    singles = [x for x in result if "orderReports" not in x]
    assert [x["orderListId"] for x in lists] == [otoco["orderListId"]]
    assert [r["status"] for r in lists[0]["orderReports"]] == ["CANCELED"] * 3
    assert [x["origClientOrderId"] for x in singles] == ["p1"]  # the OTO's placed pending order, alone now


async def test_cancel_replace_modes_and_partial_outcomes(sim: SimProcess, api: Api) -> None:
    book = await sim.ground_truth(SYM)
    bid, ask = D(book["bids"][0][0]), D(book["asks"][0][0])
    old = await call(
        api,
        "POST",
        "/api/v3/order",
        symbol=SYM,
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.001",
        price=str(bid - 100),
        newClientOrderId="old",
    )
    new = {
        "symbol": SYM,
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.002",
        "price": str(bid - 50),
    }
    both = await call(
        api,
        "POST",
        "/api/v3/order/cancelReplace",
        **new,
        cancelReplaceMode="STOP_ON_FAILURE",
        cancelOrderId=old["orderId"],
        newClientOrderId="new-1",
        cancelNewClientOrderId="cx-1",
    )
    assert (both["cancelResult"], both["newOrderResult"]) == ("SUCCESS", "SUCCESS")
    assert (both["cancelResponse"]["status"], both["cancelResponse"]["clientOrderId"]) == ("CANCELED", "cx-1")
    assert (both["newOrderResponse"]["status"], both["newOrderResponse"]["clientOrderId"]) == ("NEW", "new-1")

    status, err, _ = await api.signed(
        "POST", "/api/v3/order/cancelReplace", **new, cancelReplaceMode="STOP_ON_FAILURE", cancelOrigClientOrderId="old"
    )
    assert (status, err["code"], err["msg"]) == (400, -2022, "Order cancel-replace failed.")
    assert err["data"] == {
        "cancelResult": "FAILURE",
        "newOrderResult": "NOT_ATTEMPTED",
        "cancelResponse": {"code": -2011, "msg": "Unknown order sent."},
        "newOrderResponse": None,
    }

    status, err, _ = await api.signed(
        "POST",
        "/api/v3/order/cancelReplace",
        **new,
        cancelReplaceMode="ALLOW_FAILURE",
        cancelOrigClientOrderId="old",
        newClientOrderId="new-2",
    )
    assert (status, err["code"], err["msg"]) == (409, -2021, "Order cancel-replace partially failed.")
    assert (err["data"]["cancelResult"], err["data"]["newOrderResult"]) == ("FAILURE", "SUCCESS")
    assert err["data"]["newOrderResponse"]["clientOrderId"] == "new-2"

    taker = {**new, "type": "LIMIT_MAKER", "price": str(ask + 1)}
    taker.pop("timeInForce")
    status, err, _ = await api.signed(
        "POST",
        "/api/v3/order/cancelReplace",
        **taker,
        cancelReplaceMode="STOP_ON_FAILURE",
        cancelOrigClientOrderId="new-2",
    )
    assert (status, err["code"]) == (409, -2021)
    assert (err["data"]["cancelResult"], err["data"]["newOrderResult"]) == ("SUCCESS", "FAILURE")
    assert err["data"]["cancelResponse"]["status"] == "CANCELED"
    assert err["data"]["newOrderResponse"] == {"code": -2010, "msg": "Order would immediately match and take."}

    status, err, _ = await api.signed(
        "POST",
        "/api/v3/order/cancelReplace",
        **{**new, "price": f"{bid - 50:.2f}5"},
        cancelReplaceMode="STOP_ON_FAILURE",
        cancelOrigClientOrderId="new-1",
    )
    assert (status, err) == (400, {"code": -1013, "msg": "Filter failure: PRICE_FILTER"})
    assert (await call(api, "GET", "/api/v3/order", symbol=SYM, origClientOrderId="new-1"))["status"] == "NEW"


async def test_amend_keep_priority_payload_and_history(sim: SimProcess, api: Api) -> None:
    book = await sim.ground_truth(SYM)
    bid = D(book["bids"][0][0])
    placed = await call(
        api,
        "POST",
        "/api/v3/order",
        symbol=SYM,
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.005",
        price=str(bid),
        newClientOrderId="big",
    )
    amended = await call(
        api,
        "PUT",
        "/api/v3/order/amend/keepPriority",
        symbol=SYM,
        orderId=placed["orderId"],
        newQty="0.003",
        newClientOrderId="smaller",
    )
    order = amended["amendedOrder"]
    assert set(amended) == {"transactTime", "executionId", "amendedOrder"}
    assert (order["origClientOrderId"], order["clientOrderId"], D(order["qty"]), order["status"]) == (
        "big",
        "smaller",
        D("0.003"),
        "NEW",
    )
    assert D(order["executedQty"]) == 0 and "workingTime" in order
    history = await call(api, "GET", "/api/v3/order/amendments", symbol=SYM, orderId=placed["orderId"])
    assert [(h["origClientOrderId"], h["newClientOrderId"], D(h["origQty"]), D(h["newQty"])) for h in history] == [
        ("big", "smaller", D("0.005"), D("0.003"))
    ]
    assert history[0]["executionId"] == amended["executionId"]
    status, err, _ = await api.signed(
        "PUT", "/api/v3/order/amend/keepPriority", symbol=SYM, orderId=placed["orderId"], newQty="0.004"
    )
    assert (status, err) == (400, {"code": -2038, "msg": "Order amend (quantity increase) is not supported."})
    queried = await call(api, "GET", "/api/v3/order", symbol=SYM, orderId=placed["orderId"])
    assert D(queried["origQty"]) == D("0.003") and queried["clientOrderId"] == "smaller"


async def test_list_events_on_the_user_data_stream(sim: SimProcess, api: Api) -> None:
    p = await last_price(api)
    async with connect(sim.info.ws_api_url) as ws:
        client = Client(ws)
        await client.subscribe(sim)
        placed = await call(
            api,
            "POST",
            "/api/v3/orderList/oco",
            symbol=SYM,
            side="SELL",
            quantity="0.01",
            aboveType="LIMIT_MAKER",
            abovePrice=q(p * D("1.02")),
            belowType="STOP_LOSS",
            belowStopPrice=q(p * D("0.98")),
            belowTrailingDelta="200",
            listClientOrderId="ev",
        )
        got = await client.until(lambda e: e["event"]["e"] == "outboundAccountPosition")
        assert [kind(e) for e in got] == ["NEW", "NEW", "listStatus", "outboundAccountPosition"]
        stop_report = got[1]["event"]
        assert (stop_report["d"], stop_report["D"], stop_report["g"]) == (200, -1, placed["orderListId"])
        status = got[2]["event"]
        assert (status["l"], status["L"], status["C"], status["c"]) == ("EXEC_STARTED", "EXECUTING", "ev", "OCO")
        await call(
            api,
            "PUT",
            "/api/v3/order/amend/keepPriority",
            symbol=SYM,
            orderId=placed["orders"][0]["orderId"],
            newQty="0.004",
            newClientOrderId="renamed",
        )
        got = await client.until(lambda e: e["event"]["e"] == "outboundAccountPosition")
        assert [kind(e) for e in got] == ["REPLACED", "REPLACED", "listStatus", "outboundAccountPosition"]
        assert got[2]["event"]["l"] == "UPDATED" and got[2]["event"]["O"][0]["c"] == "renamed"
        await call(api, "DELETE", "/api/v3/orderList", symbol=SYM, listClientOrderId="ev")
        got = await client.until(lambda e: e["event"]["e"] == "outboundAccountPosition")
        assert [kind(e) for e in got] == ["CANCELED", "CANCELED", "listStatus", "outboundAccountPosition"]
        assert (got[2]["event"]["l"], got[2]["event"]["L"]) == ("ALL_DONE", "ALL_DONE")
