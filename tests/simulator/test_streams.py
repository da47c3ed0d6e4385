"""Market streams: the §7 local-book procedure rebuilds the ground truth; gaps, control messages,
connection rules and stream faults behave as Binance documents them."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from tests.sim_fixture import SimProcess
from tests.simulator.test_public_rest import example, same_keys

WAIT_S = 10.0


class LocalBook:
    """A reference client of spec §7 (buffer, snapshot, bridge, apply, detect gaps)."""

    def __init__(self) -> None:
        self.bids: dict[str, str] = {}
        self.asks: dict[str, str] = {}
        self.update_id = 0
        self.gaps = 0

    def load(self, snap: dict[str, Any]) -> None:
        self.bids = {p: q for p, q in snap["bids"]}
        self.asks = {p: q for p, q in snap["asks"]}
        self.update_id = snap["lastUpdateId"]

    def apply(self, ev: dict[str, Any]) -> bool:
        """False when a gap means the book must be rebuilt."""
        if ev["u"] < self.update_id:
            return True
        if ev["U"] > self.update_id + 1:
            self.gaps += 1
            return False
        for side, levels in ((self.bids, ev["b"]), (self.asks, ev["a"])):
            for p, q in levels:
                if Decimal(q) == 0:
                    side.pop(p, None)
                else:
                    side[p] = q
        self.update_id = ev["u"]
        return True

    def as_truth(self) -> dict[str, Any]:
        return {
            "bids": sorted(([p, q] for p, q in self.bids.items()), key=lambda x: -Decimal(x[0])),
            "asks": sorted(([p, q] for p, q in self.asks.items()), key=lambda x: Decimal(x[0])),
        }


async def sync_book(ws: aiohttp.ClientWebSocketResponse, session: aiohttp.ClientSession,
                    rest_url: str, symbol: str, book: LocalBook) -> None:
    """Steps 1-7 of spec §7 on an open diff-stream connection."""
    buffered = [await asyncio.wait_for(ws.receive_json(), WAIT_S)]
    while True:
        async with session.get(f"{rest_url}/api/v3/depth",
                               params={"symbol": symbol, "limit": "5000"}) as r:
            snap = await r.json()
        if snap["lastUpdateId"] >= buffered[0]["U"]:
            break
        buffered.append(await asyncio.wait_for(ws.receive_json(), WAIT_S))
    while buffered[-1]["u"] <= snap["lastUpdateId"]:
        buffered.append(await asyncio.wait_for(ws.receive_json(), WAIT_S))
    pending = [e for e in buffered if e["u"] > snap["lastUpdateId"]]
    assert pending[0]["U"] <= snap["lastUpdateId"] + 1 <= pending[0]["u"]
    book.load(snap)
    for e in pending:
        assert book.apply(e)


async def catch_up(ws: aiohttp.ClientWebSocketResponse, book: LocalBook, target: int) -> None:
    while book.update_id < target:
        ev = await asyncio.wait_for(ws.receive_json(), WAIT_S)
        assert book.apply(ev), "unexpected gap"


async def test_diff_stream_plus_snapshot_rebuilds_the_ground_truth(sim: SimProcess) -> None:
    async with aiohttp.ClientSession() as s, s.ws_connect(
        sim.info.ws_url + "/ws/btcusdt@depth@100ms"
    ) as ws:
        book = LocalBook()
        await sync_book(ws, s, sim.info.rest_url, "BTCUSDT", book)
        for _ in range(20):  # keep applying live events for a while
            assert book.apply(await asyncio.wait_for(ws.receive_json(), WAIT_S))
        await sim.control("POST", "/sim/market", {"running": False})
        truth = await sim.ground_truth("BTCUSDT")
        await catch_up(ws, book, truth["lastUpdateId"])
        assert book.update_id == truth["lastUpdateId"]
        assert book.as_truth() == {"bids": truth["bids"], "asks": truth["asks"]}
        assert len(truth["bids"]) > 1000
        # REST snapshot and bookTicker share the same id space
        async with s.get(f"{sim.info.rest_url}/api/v3/depth",
                         params={"symbol": "BTCUSDT", "limit": "1"}) as r:
            assert (await r.json())["lastUpdateId"] == truth["lastUpdateId"]


async def test_injected_gap_is_seen_and_resync_recovers(sim: SimProcess) -> None:
    async with aiohttp.ClientSession() as s, s.ws_connect(
        sim.info.ws_url + "/ws/ethusdt@depth@100ms"
    ) as ws:
        book = LocalBook()
        await sync_book(ws, s, sim.info.rest_url, "ETHUSDT", book)
        await sim.fault("gap", symbol="ETHUSDT")
        for _ in range(100):
            ev = await asyncio.wait_for(ws.receive_json(), WAIT_S)
            if not book.apply(ev):
                break
        assert book.gaps == 1
        fresh = LocalBook()
        await sync_book(ws, s, sim.info.rest_url, "ETHUSDT", fresh)
        await sim.control("POST", "/sim/market", {"running": False})
        truth = await sim.ground_truth("ETHUSDT")
        await catch_up(ws, fresh, truth["lastUpdateId"])
        assert fresh.as_truth() == {"bids": truth["bids"], "asks": truth["asks"]}


async def test_a_gap_is_seen_even_by_a_book_synced_from_a_snapshot_newer_than_the_stream(
    sim: SimProcess,
) -> None:
    """The race behind the intermittent `gap` fault, made certain: while the stream is stalled the
    REST book runs ahead of the stream's last event; a book synced from such a snapshot (as any book
    is right after a resync) must still meet the injected gap, not bridge over it."""
    async with aiohttp.ClientSession() as s, s.ws_connect(
        sim.info.ws_url + "/ws/ethusdt@depth@100ms"
    ) as ws:

        async def snapshot() -> dict[str, Any]:
            async with s.get(f"{sim.info.rest_url}/api/v3/depth",
                             params={"symbol": "ETHUSDT", "limit": "5000"}) as r:
                body: dict[str, Any] = await r.json()
                return body

        await asyncio.wait_for(ws.receive_json(), WAIT_S)  # the stream is live
        await sim.fault("stall", symbol="ETHUSDT", seconds=60)
        stalled_at = (await snapshot())["lastUpdateId"]  # >= the stream's last event from now on
        await sim.control("POST", "/sim/take", {"symbol": "ETHUSDT", "side": "BUY", "quantity": "0.01"})
        snap = await snapshot()
        assert snap["lastUpdateId"] > stalled_at
        book = LocalBook()
        book.load(snap)  # ahead of the stream: ids the stream has not sent yet are in it
        await sim.fault("gap", symbol="ETHUSDT")
        await sim.fault("stall", symbol="ETHUSDT", seconds=0)
        for _ in range(50):
            if not book.apply(await asyncio.wait_for(ws.receive_json(), WAIT_S)):
                break
        assert book.gaps == 1


async def test_stream_payload_shapes(sim: SimProcess) -> None:
    wanted = {
        "bnbusdt@trade": "ws_trade.json",
        "bnbusdt@aggTrade": "ws_aggTrade.json",
        "bnbusdt@bookTicker": "ws_bookTicker.json",
        "bnbusdt@depth": "ws_depthUpdate.json",
        "bnbusdt@depth5@100ms": "ws_partialDepth.json",
        "bnbusdt@kline_1s": "ws_kline.json",
        "bnbusdt@ticker": "ws_24hrTicker.json",
    }
    url = sim.info.ws_url + "/stream?streams=" + "/".join(wanted)
    seen: dict[str, Any] = {}
    async with aiohttp.ClientSession() as s, s.ws_connect(url) as ws:
        async with asyncio.timeout(WAIT_S):
            while len(seen) < len(wanted):
                msg = await ws.receive_json()
                assert set(msg) == {"stream", "data"}
                seen.setdefault(msg["stream"], msg["data"])
    for stream, name in wanted.items():
        ex = example(name)
        same_keys(seen[stream], ex)
    assert len(seen["bnbusdt@depth5@100ms"]["bids"]) == 5
    same_keys(seen["bnbusdt@kline_1s"]["k"], example("ws_kline.json")["k"])


async def test_raw_stream_and_subscribe_control(sim: SimProcess) -> None:
    async with aiohttp.ClientSession() as s:
        async with s.ws_connect(sim.info.ws_url + "/ws/ethbtc@trade") as ws:
            ev = await asyncio.wait_for(ws.receive_json(), WAIT_S)
            assert ev["e"] == "trade" and ev["s"] == "ETHBTC"
        async with s.ws_connect(sim.info.ws_url + "/ws") as ws:
            await ws.send_json({"method": "SUBSCRIBE",
                                "params": ["ethbtc@bookTicker", "ethbtc@aggTrade"], "id": 1})
            replies: list[Any] = []
            events: list[Any] = []
            async with asyncio.timeout(WAIT_S):
                while not replies or len(events) < 2:
                    m = await ws.receive_json()
                    (replies if "id" in m and "result" in m else events).append(m)
            assert replies[0] == {"result": None, "id": 1}
            assert "stream" not in events[0]  # raw connection: unwrapped payloads
            await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": "abc"})
            await ws.send_json({"method": "UNSUBSCRIBE", "params": ["ethbtc@aggTrade"], "id": 2})
            await ws.send_json({"method": "GET_PROPERTY", "params": ["combined"], "id": 3})
            await ws.send_str("{not json")
            got: dict[Any, Any] = {}
            async with asyncio.timeout(WAIT_S):
                while len(got) < 4:
                    m = await ws.receive_json()
                    if "code" in m:
                        got["err"] = m
                    elif m.get("id") in ("abc", 2, 3):
                        got[m["id"]] = m
            assert got["abc"] == {"result": ["ethbtc@aggTrade", "ethbtc@bookTicker"], "id": "abc"}
            assert got[2] == {"result": None, "id": 2}
            assert got[3] == {"result": False, "id": 3}
            assert got["err"]["code"] == 3


async def test_too_many_messages_or_streams_are_refused(sim: SimProcess) -> None:
    async with aiohttp.ClientSession() as s:
        async with s.ws_connect(sim.info.ws_url + "/ws") as ws:
            params = [f"btcusdt@kline_{i}m" for i in range(1025)]
            await ws.send_json({"method": "SUBSCRIBE", "params": params, "id": 9})
            reply = await asyncio.wait_for(ws.receive_json(), WAIT_S)
            assert reply["code"] == 2 and reply["id"] == 9
        async with s.ws_connect(sim.info.ws_url + "/ws") as ws:
            for i in range(8):
                await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": i})
            async with asyncio.timeout(WAIT_S):
                while (await ws.receive()).type not in (aiohttp.WSMsgType.CLOSE,
                                                         aiohttp.WSMsgType.CLOSED):
                    pass
            assert ws.closed


@pytest.mark.parametrize("kind", ["server_shutdown", "drop_streams", "conn_lifetime"])
async def test_connection_ending_faults(sim: SimProcess, kind: str) -> None:
    async with aiohttp.ClientSession() as s, s.ws_connect(
        sim.info.ws_url + "/stream?streams=btcusdt@trade"
    ) as ws:
        await asyncio.wait_for(ws.receive_json(), WAIT_S)
        params: dict[str, Any] = {"seconds": 0.5} if kind == "conn_lifetime" else {}
        await sim.fault(kind, **params)
        shutdown_seen = False
        async with asyncio.timeout(WAIT_S):
            while True:
                msg = await ws.receive()
                if msg.type != aiohttp.WSMsgType.TEXT:
                    break
                data = json.loads(msg.data)
                if data.get("stream") == "!serverShutdown":
                    assert data["data"]["e"] == "serverShutdown"
                    shutdown_seen = True
        assert ws.closed or msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                                         aiohttp.WSMsgType.ERROR)
        assert shutdown_seen == (kind == "server_shutdown")


async def test_stall_pauses_a_symbol_without_breaking_continuity(sim: SimProcess) -> None:
    async with aiohttp.ClientSession() as s, s.ws_connect(
        sim.info.ws_url + "/ws/ethusdt@depth@100ms"
    ) as ws:
        first = await asyncio.wait_for(ws.receive_json(), WAIT_S)
        await sim.fault("stall", symbol="ETHUSDT", seconds=0.6)
        loop = asyncio.get_running_loop()
        last = first
        longest_silence = 0.0
        t_prev = loop.time()
        for _ in range(12):
            ev = await asyncio.wait_for(ws.receive_json(), WAIT_S)
            now = loop.time()
            longest_silence = max(longest_silence, now - t_prev)
            t_prev = now
            assert ev["U"] <= last["u"] + 1  # contiguous across the stall: no lost ids
            last = ev
        assert longest_silence > 0.3


async def test_server_pings_and_pong_timeout() -> None:
    sim = await SimProcess.start("--faults", "--ws-ping-interval", "0.2",
                                 "--ws-pong-timeout", "1")
    try:
        async with aiohttp.ClientSession() as s:
            # aiohttp answers pings by itself: the connection stays up past the timeout
            async with s.ws_connect(sim.info.ws_url + "/ws/btcusdt@trade") as ws:
                await asyncio.sleep(1.5)
                assert not ws.closed
            async with s.ws_connect(sim.info.ws_url + "/ws/btcusdt@trade", autoping=False) as ws:
                pings = 0
                async with asyncio.timeout(WAIT_S):
                    while True:
                        msg = await ws.receive()
                        if msg.type == aiohttp.WSMsgType.PING:
                            pings += 1
                        elif msg.type != aiohttp.WSMsgType.TEXT:
                            break
                assert pings >= 2 and msg.type in (aiohttp.WSMsgType.CLOSE,
                                                   aiohttp.WSMsgType.CLOSED)
    finally:
        await sim.stop()


@pytest.mark.parametrize("lag", [{"updates": 25}, {"ms": 600}])
async def test_a_lagging_rest_copy_serves_a_past_book_that_the_procedure_still_rebuilds(
    sim: SimProcess, lag: dict[str, int]
) -> None:
    await sim.fault("snapshot_lag", symbol="BTCUSDT", **lag)
    await sim.fault("stream_burst", ms=300)
    async with aiohttp.ClientSession() as s, s.ws_connect(
        sim.info.ws_url + "/ws/btcusdt@depth@100ms"
    ) as ws:
        book = LocalBook()
        await sync_book(ws, s, sim.info.rest_url, "BTCUSDT", book)
        await sim.control("POST", "/sim/market", {"running": False})
        truth = await sim.ground_truth("BTCUSDT")
        async with s.get(f"{sim.info.rest_url}/api/v3/depth",
                         params={"symbol": "BTCUSDT", "limit": "5000"}) as r:
            lagged = await r.json()
        if "updates" in lag:  # a copy exactly that many update ids behind
            assert lagged["lastUpdateId"] == truth["lastUpdateId"] - lag["updates"]
        else:
            assert lagged["lastUpdateId"] <= truth["lastUpdateId"]
        await catch_up(ws, book, truth["lastUpdateId"])
        assert book.as_truth() == {"bids": truth["bids"], "asks": truth["asks"]}
    await sim.fault("clear")
    async with aiohttp.ClientSession() as s, s.get(
        f"{sim.info.rest_url}/api/v3/depth", params={"symbol": "BTCUSDT", "limit": "1"}
    ) as r:
        assert (await r.json())["lastUpdateId"] == truth["lastUpdateId"]  # cleared: current


async def test_many_markets_a_unicode_name_quiet_ones_and_one_in_break(sim: SimProcess) -> None:
    from urllib.parse import quote

    async with aiohttp.ClientSession() as s:
        async with s.get(f"{sim.info.rest_url}/api/v3/exchangeInfo") as r:
            info = await r.json()
        by_name = {x["symbol"]: x for x in info["symbols"]}
        assert len(by_name) >= 50
        assert by_name["LUNAUSDT"]["status"] == "BREAK" and by_name["币安人生USDT"]["status"] == "TRADING"

        async def update_id(symbol: str) -> int:
            async with s.get(f"{sim.info.rest_url}/api/v3/depth",
                             params={"symbol": symbol, "limit": "5"}) as r:
                return int((await r.json())["lastUpdateId"])

        before = {n: await update_id(n) for n in ("LUNAUSDT", "BTCUSDT")}
        async with s.ws_connect(sim.info.ws_url + "/ws/btcusdt@depth@100ms") as ws:
            await asyncio.wait_for(ws.receive_json(), WAIT_S)  # BTCUSDT has moved meanwhile
        assert await update_id("BTCUSDT") > before["BTCUSDT"]
        assert await update_id("LUNAUSDT") == before["LUNAUSDT"]  # BREAK: never moves
        name = quote("币安人生usdt@depth@100ms", safe="@")
        async with s.ws_connect(f"{sim.info.ws_url}/ws/{name}") as ws:
            book = LocalBook()
            await sync_book(ws, s, sim.info.rest_url, "币安人生USDT", book)
            await sim.control("POST", "/sim/market", {"running": False})
            truth = await sim.ground_truth("币安人生USDT")
            await catch_up(ws, book, truth["lastUpdateId"])
            assert book.as_truth() == {"bids": truth["bids"], "asks": truth["asks"]}
        await sim.control("POST", "/sim/market", {"running": True})
        async with s.ws_connect(f"{sim.info.ws_url}/stream?streams={name}") as ws:
            frame = await asyncio.wait_for(ws.receive_json(), WAIT_S)
            assert frame["stream"] == "币安人生usdt@depth@100ms" and frame["data"]["s"] == "币安人生USDT"
