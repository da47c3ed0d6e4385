"""Public REST endpoints answer with exactly the shapes of Binance's example payloads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp

from tests.sim_fixture import SimProcess
from tests.simulator.helpers import Api

EXAMPLES = Path("/work/shared/reference/binance-examples")


def example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text())


def same_keys(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    assert list(actual) == list(expected), (list(actual), list(expected))
    for k, v in expected.items():
        assert type(actual[k]) is type(v), (k, actual[k], v)


def is_decimal_string(v: Any) -> bool:
    if not isinstance(v, str):
        return False
    whole, _, frac = v.partition(".")
    return whole.lstrip("-").isdigit() and len(frac) == 8


async def test_market_data_shapes_match_examples(sim: SimProcess) -> None:
    async with aiohttp.ClientSession() as s:
        api = Api(sim, s)
        status, info, headers = await api.public("/api/v3/exchangeInfo")
        assert status == 200 and headers["X-MBX-USED-WEIGHT-1M"] == headers["X-MBX-USED-WEIGHT"]
        ex = example("rest_exchangeInfo.json")
        assert set(ex) - {"sors"} <= set(info)
        names = {x["symbol"] for x in info["symbols"]}
        assert {"BTCUSDT", "ETHUSDT", "BNBUSDT", "ETHBTC", "SHIBUSDT"} <= names
        for sym in info["symbols"]:
            same_keys(sym, ex["symbols"][0] | {})
            kinds = [f["filterType"] for f in sym["filters"]]
            for k in ("PRICE_FILTER", "LOT_SIZE", "MARKET_LOT_SIZE", "NOTIONAL",
                      "PERCENT_PRICE_BY_SIDE", "MAX_NUM_ORDERS"):
                assert k in kinds
        shib = next(x for x in info["symbols"] if x["symbol"] == "SHIBUSDT")
        assert shib["filters"][0]["tickSize"] == "0.00000001"
        assert {r["rateLimitType"] for r in info["rateLimits"]} >= {"REQUEST_WEIGHT", "ORDERS"}

        _, one, _ = await api.public("/api/v3/exchangeInfo", symbol="ETHBTC")
        assert [x["symbol"] for x in one["symbols"]] == ["ETHBTC"]
        _, two, _ = await api.public("/api/v3/exchangeInfo", symbols='["ETHBTC","BTCUSDT"]')
        assert [x["symbol"] for x in two["symbols"]] == ["ETHBTC", "BTCUSDT"]

        _, depth, _ = await api.public("/api/v3/depth", symbol="BTCUSDT", limit="5000")
        same_keys(depth, example("rest_depth.json"))
        assert len(depth["bids"]) >= 1000 and len(depth["asks"]) >= 1000
        prices = [float(p) for p, _ in depth["bids"]]
        assert prices == sorted(prices, reverse=True)
        assert all(is_decimal_string(p) and is_decimal_string(q) for p, q in depth["asks"])
        assert float(depth["bids"][0][0]) < float(depth["asks"][0][0])
        _, d7, _ = await api.public("/api/v3/depth", symbol="SHIBUSDT", limit="7")
        assert len(d7["bids"]) == 7 and d7["bids"][0][0].startswith("0.0000")

        _, trades, _ = await api.public("/api/v3/trades", symbol="BTCUSDT", limit="3")
        assert len(trades) == 3
        for t in trades:
            same_keys(t, example("rest_trades.json")[0])
        assert trades[0]["id"] < trades[1]["id"] < trades[2]["id"]

        _, kl, _ = await api.public("/api/v3/klines", symbol="BTCUSDT", interval="1m",
                                    limit="3")
        assert len(kl) == 3
        for row in kl:
            assert [type(x) for x in row] == [type(x) for x in example("rest_klines.json")[0]]
            assert row[6] == row[0] + 60_000 - 1
        assert kl[1][0] == kl[0][0] + 60_000

        _, avg, _ = await api.public("/api/v3/avgPrice", symbol="BTCUSDT")
        same_keys(avg, example("rest_avgPrice.json"))

        _, t24, _ = await api.public("/api/v3/ticker/24hr", symbol="BNBUSDT")
        same_keys(t24, example("rest_ticker_24hr.json"))
        assert t24["closeTime"] - t24["openTime"] == 86_400_000
        _, mini, _ = await api.public("/api/v3/ticker/24hr", symbol="BNBUSDT", type="MINI")
        assert "bidPrice" not in mini and "lastPrice" in mini
        _, all24, _h = await api.public("/api/v3/ticker/24hr")
        assert isinstance(all24, list) and len(all24) == len(info["symbols"])

        _, prices_all, _ = await api.public("/api/v3/ticker/price")
        for p in prices_all:
            same_keys(p, example("rest_ticker_price.json")[0])
        _, p1, _ = await api.public("/api/v3/ticker/price", symbol="ETHBTC")
        assert p1["symbol"] == "ETHBTC"
        _, bt, _ = await api.public("/api/v3/ticker/bookTicker", symbol="ETHBTC")
        same_keys(bt, example("rest_ticker_bookTicker.json"))
        _, bts, _ = await api.public("/api/v3/ticker/bookTicker", symbols='["ETHBTC","BNBUSDT"]')
        assert [b["symbol"] for b in bts] == ["ETHBTC", "BNBUSDT"]


async def test_klines_time_selection_and_every_interval(sim: SimProcess) -> None:
    async with aiohttp.ClientSession() as s:
        api = Api(sim, s)
        for interval in ("1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h",
                         "12h", "1d", "3d", "1w", "1M"):
            status, rows, _ = await api.public("/api/v3/klines", symbol="ETHUSDT",
                                               interval=interval, limit="2")
            assert status == 200 and len(rows) == 2, interval
            assert rows[0][6] + 1 == rows[1][0]
        start = 1_700_000_000_000
        _, rows, _ = await api.public("/api/v3/klines", symbol="ETHUSDT", interval="1h",
                                      startTime=str(start), limit="5")
        assert rows[0][0] >= start and rows[0][0] - start < 3_600_000 and len(rows) == 5
        _, rows, _ = await api.public("/api/v3/klines", symbol="ETHUSDT", interval="1h",
                                      endTime=str(start), limit="5")
        assert rows[-1][0] <= start and len(rows) == 5
        _, rows, _ = await api.public("/api/v3/klines", symbol="ETHUSDT", interval="1h",
                                      startTime=str(start), endTime=str(start + 3 * 3_600_000))
        assert len(rows) == 3
        again = await api.public("/api/v3/klines", symbol="ETHUSDT", interval="1h",
                                 startTime=str(start), endTime=str(start + 3 * 3_600_000))
        assert again[1] == rows  # history is deterministic
        status, err, _ = await api.public("/api/v3/klines", symbol="ETHUSDT", interval="7m")
        assert status == 400 and err["code"] == -1120


async def test_public_errors_and_weights(sim: SimProcess) -> None:
    async with aiohttp.ClientSession() as s:
        api = Api(sim, s)
        status, err, _ = await api.public("/api/v3/depth", symbol="NOPE")
        assert status == 400 and err == example("err_invalid_symbol.json")
        status, err, _ = await api.public("/api/v3/depth")
        assert status == 400 and err["code"] == -1102
        status, err, _ = await api.public("/api/v3/ticker/24hr", symbol="BTCUSDT", type="X")
        assert err["code"] == -1139
        status, err, _ = await api.public("/api/v3/ticker/price", symbols='["BTCUSDT","BTCUSDT"]')
        assert err["code"] == -1151
        status, err, _ = await api.public("/api/v3/depth", symbol="BTCUSDT", limit="abc")
        assert status == 400 and err["code"] == -1100

        for limit, weight in (("100", 5), ("500", 25), ("1000", 50), ("5000", 250)):
            _, _, before = await api.public("/api/v3/ping")
            _, _, after = await api.public("/api/v3/depth", symbol="BTCUSDT", limit=limit)
            used0, used1 = int(before["X-MBX-USED-WEIGHT-1M"]), int(after["X-MBX-USED-WEIGHT-1M"])
            assert used1 == used0 + weight or used1 == weight  # or a new minute began
