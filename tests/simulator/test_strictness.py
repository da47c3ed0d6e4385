"""Binance's strictness about what a request carries: symbol case, unread parameters, precision."""

from __future__ import annotations

from decimal import Decimal

import aiohttp

from tests.sim_fixture import SimProcess
from tests.simulator.helpers import Api

SYMBOL_CHARS = ("Illegal characters found in parameter 'symbol'; legal range is "
                "'^[A-Z0-9-_.]{1,20}$'.")


async def test_lower_case_symbols_and_unread_parameters_are_refused(sim: SimProcess) -> None:
    async with aiohttp.ClientSession() as s:
        api = Api(sim, s)
        status, err, _ = await api.public("/api/v3/depth", symbol="btcusdt")
        assert (status, err) == (400, {"code": -1100, "msg": SYMBOL_CHARS})
        status, err, _ = await api.public("/api/v3/ticker/price", symbols='["BTCUSDT","ethusdt"]')
        assert err["code"] == -1100 and "'symbols'" in err["msg"]
        status, err, _ = await api.signed("GET", "/api/v3/openOrders", symbol="BtcUsdt")
        assert (status, err) == (400, {"code": -1100, "msg": SYMBOL_CHARS})

        status, err, _ = await api.public("/api/v3/depth", symbol="BTCUSDT", foo="1")
        assert (status, err) == (400, {"code": -1104, "msg": "Not all sent parameters were read; "
                                                             "read '1' parameter(s) but was sent '2'."})
        _, bt, _ = await api.public("/api/v3/ticker/bookTicker", symbol="BTCUSDT")
        order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                 "quantity": "0.001", "price": str(Decimal(bt["bidPrice"]) - 100)}
        status, err, _ = await api.order(**order, reduceOnly="true")  # a futures parameter
        sent = len(order) + 3  # + reduceOnly, timestamp, signature
        assert (status, err) == (400, {"code": -1104, "msg": "Not all sent parameters were read; "
                                       f"read '{sent - 1}' parameter(s) but was sent '{sent}'."})
        status, err, _ = await api.order(**order, pegPriceType="PRIMARY_PEG")
        assert err == {"code": -2010, "msg": "Pegged orders are not supported for this symbol."}
        status, err, _ = await api.order(**{**order, "quantity": "0.001000001"})
        assert err == {"code": -1111, "msg": "Parameter 'quantity' has too much precision."}
        status, err, _ = await api.order(**{**order, "price": "60000.000000001"})
        assert err == {"code": -1111, "msg": "Parameter 'price' has too much precision."}
        status, ok, _ = await api.order(**order, recvWindow="5000")
        assert status == 200 and ok["status"] == "NEW"
        assert (await sim.control("GET", "/sim/orders"))["orders"][0]["orderId"] == ok["orderId"]

        await sim.fault("strict", on=False)  # lenient: upper-cases and ignores the unknown
        status, book, _ = await api.public("/api/v3/depth", symbol="btcusdt", foo="1")
        assert status == 200 and book["bids"]
        await sim.fault("clear")
        assert (await api.public("/api/v3/depth", symbol="btcusdt"))[1]["code"] == -1100
