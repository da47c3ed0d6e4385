"""A symbol that is not TRADING takes no new orders, as on Binance: -2010 "Market is closed."

The sandbox's LUNAUSDT is in BREAK (simulator/symbols.py). Every way of placing an order is refused
with Binance's code and message, nothing is placed and no funds are locked; reads still work.
"""

from __future__ import annotations

import aiohttp

from simulator.symbols import BREAK_SYMBOL
from tests.sim_fixture import SimProcess
from tests.simulator.helpers import Api

CLOSED = (400, {"code": -2010, "msg": "Market is closed."})


async def test_every_new_order_on_a_symbol_in_break_is_refused_as_market_closed(sim: SimProcess) -> None:
    async with aiohttp.ClientSession() as s:
        api = Api(sim, s)
        status, ticker, _ = await api.public("/api/v3/ticker/price", symbol=BREAK_SYMBOL)
        assert status == 200
        price = ticker["price"]
        _, before, _ = await api.signed("GET", "/api/v3/account")
        limit = {"symbol": BREAK_SYMBOL, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                 "quantity": "100", "price": price}
        for path, params in [
            ("/api/v3/order", limit),
            ("/api/v3/order/test", limit),
            ("/api/v3/order", {"symbol": BREAK_SYMBOL, "side": "BUY", "type": "MARKET", "quantity": "100"}),
            ("/api/v3/orderList/oto", {
                "symbol": BREAK_SYMBOL, "workingType": "LIMIT", "workingSide": "BUY", "workingPrice": price,
                "workingQuantity": "100", "workingTimeInForce": "GTC", "pendingType": "LIMIT_MAKER",
                "pendingSide": "SELL", "pendingQuantity": "100", "pendingPrice": "0.8000"}),
        ]:
            status, body, _ = await api.signed("POST", path, **params)
            assert (status, body) == CLOSED, path
        _, opened, _ = await api.signed("GET", "/api/v3/openOrders", symbol=BREAK_SYMBOL)
        assert opened == []
        _, after, _ = await api.signed("GET", "/api/v3/account")
        assert after["balances"] == before["balances"]
        # a TRADING symbol is unaffected
        _, eth, _ = await api.public("/api/v3/ticker/bookTicker", symbol="ETHUSDT")
        status, body, _ = await api.signed("POST", "/api/v3/order/test", **{
            **limit, "symbol": "ETHUSDT", "quantity": "0.01", "price": eth["bidPrice"]})
        assert (status, body) == (200, {})
