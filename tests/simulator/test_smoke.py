"""The sandbox starts, prints its ready line and serves the basic public endpoints."""

from __future__ import annotations

import aiohttp

from tests.sim_fixture import SimProcess


async def test_ready_line_and_basic_public_endpoints(sim: SimProcess) -> None:
    assert sim.info.rest_url.startswith("http://127.0.0.1:")
    assert sim.info.ws_url.startswith("ws://127.0.0.1:")
    async with aiohttp.ClientSession(sim.info.rest_url) as s:
        async with s.get("/api/v3/ping") as r:
            assert r.status == 200
            assert await r.json() == {}
            assert int(r.headers["X-MBX-USED-WEIGHT-1M"]) >= 1
        async with s.get("/api/v3/time") as r:
            assert isinstance((await r.json())["serverTime"], int)
        async with s.get("/api/v3/exchangeInfo", params={"symbol": "BTCUSDT"}) as r:
            info = await r.json()
            assert [x["symbol"] for x in info["symbols"]] == ["BTCUSDT"]
        async with s.get("/api/v3/depth", params={"symbol": "BTCUSDT", "limit": "5"}) as r:
            book = await r.json()
            assert len(book["bids"]) == 5 and len(book["asks"]) == 5
            assert float(book["bids"][0][0]) < float(book["asks"][0][0])
    truth = await sim.ground_truth("BTCUSDT")
    assert len(truth["bids"]) >= 1000
