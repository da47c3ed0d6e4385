"""A tiny Binance-like stream server over real loopback websockets, for the manager's tests.

It speaks the combined endpoint (``/stream?streams=a/b``, ``{"stream","data"}`` wrapping), answers
SUBSCRIBE / UNSUBSCRIBE with ``{"result": null, "id": n}``, and keeps every book version so a test
can check any book the manager served against the truth at that update id. Faults: a gap, a stall,
dropping every connection, ``serverShutdown``, refusing new connections (closed right after the
handshake, as an overloaded server might).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from typing import Any
from urllib.parse import parse_qs, urlparse

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from tests.orderbook.strategies import ReferenceMarket


class FakeExchange:
    """Random-walk markets for a few symbols, streamed as ``depthUpdate`` every ``tick_s``."""

    def __init__(self, symbols: list[str], *, seed: int = 7, tick_s: float = 0.01) -> None:
        self.rng = random.Random(seed)
        self.markets = {s: ReferenceMarket() for s in symbols}
        for market in self.markets.values():
            for tick in range(1, 21):
                market.apply([("b", tick, "1"), ("a", tick + 20, "2")])
        self.tick_s = tick_s
        self.running = True
        self.subs: dict[ServerConnection, set[str]] = {}
        self.skip_next: set[str] = set()
        self.stalled: set[str] = set()
        self.control_messages = 0
        self.refusing = False
        self.refused = 0
        self.snapshot_calls = 0
        self.tops_calls = 0
        self.snapshot_lag = 0  # REST depth serves the book this many update ids behind
        self._server: Server | None = None
        self._ticker: asyncio.Task[None] | None = None

    async def start(self) -> str:
        self._server = await serve(self._handle, "127.0.0.1", 0)
        self._ticker = asyncio.create_task(self._tick())
        port = next(iter(self._server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def fetch_snapshot(self, symbol: str, limit: int) -> dict[str, Any]:
        """What the manager's ``fetch_snapshot`` would get from ``GET /api/v3/depth``."""
        self.snapshot_calls += 1
        await asyncio.sleep(0.005)  # a REST round trip: events keep flowing meanwhile
        if symbol not in self.markets:
            raise LookupError(f"-1121 Invalid symbol: {symbol}")
        market = self.markets[symbol]
        snap = market.snapshot(max(market.update_id - self.snapshot_lag, 0))
        return {"lastUpdateId": snap.last_update_id, "bids": list(snap.bids)[:limit],
                "asks": list(snap.asks)[:limit]}

    async def fetch_tops(self, symbols: list[str]) -> list[dict[str, Any]]:
        """What ``GET /api/v3/ticker/bookTicker?symbols=[...]`` would answer (one call)."""
        self.tops_calls += 1
        await asyncio.sleep(0.005)
        out = []
        for symbol in symbols:
            bids, asks = self.markets[symbol].truth(self.markets[symbol].update_id)
            bid = bids[0] if bids else (0, 0)
            ask = asks[0] if asks else (0, 0)
            out.append({"symbol": symbol, "bidPrice": str(bid[0]), "bidQty": str(bid[1]),
                        "askPrice": str(ask[0]), "askQty": str(ask[1])})
        return out

    # -- faults -------------------------------------------------------------------------------

    async def drop_connections(self) -> None:
        for ws in list(self.subs):
            await ws.close()

    async def server_shutdown(self) -> None:
        payload = json.dumps({"stream": "!serverShutdown",
                              "data": {"e": "serverShutdown", "E": 1}})
        for ws in list(self.subs):
            with contextlib.suppress(ConnectionClosed):
                await ws.send(payload)

    def streams(self) -> set[str]:
        return set().union(*self.subs.values()) if self.subs else set()

    # -- server -------------------------------------------------------------------------------

    async def _handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        if self.refusing:
            self.refused += 1
            await ws.close()
            return
        url = urlparse(ws.request.path)
        assert url.path == "/stream", url.path
        names = parse_qs(url.query).get("streams", [""])[0]
        self.subs[ws] = {n for n in names.split("/") if n}
        try:
            async for raw in ws:
                msg = json.loads(raw)
                self.control_messages += 1
                if msg["method"] == "SUBSCRIBE":
                    self.subs[ws].update(msg["params"])
                elif msg["method"] == "UNSUBSCRIBE":
                    self.subs[ws].difference_update(msg["params"])
                await ws.send(json.dumps({"result": None, "id": msg["id"]}))
        except ConnectionClosed:
            pass
        finally:
            self.subs.pop(ws, None)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            if not self.running:
                continue
            for symbol, market in self.markets.items():
                batches = [self._changes() for _ in range(self.rng.randint(1, 3))]
                event = market.event(batches, event_time_ms=market.update_id)
                if symbol in self.skip_next:
                    self.skip_next.discard(symbol)
                    continue
                if symbol in self.stalled:
                    continue
                stream = f"{symbol.lower()}@depth@100ms"
                payload = json.dumps({"stream": stream, "data": {
                    "e": "depthUpdate", "E": event.event_time_ms, "s": symbol,
                    "U": event.first_update_id, "u": event.final_update_id,
                    "b": event.bids, "a": event.asks}})
                for ws, streams in list(self.subs.items()):
                    if stream in streams:
                        with contextlib.suppress(ConnectionClosed):
                            await ws.send(payload)

    def _changes(self) -> list[tuple[str, int, str]]:
        out = []
        for _ in range(self.rng.randint(1, 3)):
            side = self.rng.choice(["b", "a"])
            tick = self.rng.randint(1, 20) + (0 if side == "b" else 20)
            out.append((side, tick, self.rng.choice(["0", "1", "2.5", "0.00000001", "7"])))
        return out
