"""WebSocket market streams (spec §6): raw `/ws/<stream>`, combined `/stream?streams=a/b`, and
bare `/ws` for SUBSCRIBE-only use.

Connection rules enforced here: server ping frames every `ws_ping_interval` seconds and a
disconnect when no pong arrives within `ws_pong_timeout`; at most 5 incoming messages per second;
at most 1024 streams; a maximum connection lifetime (24 h default, fault `conn_lifetime`); a
`serverShutdown` event before a shutdown. Payloads are serialised once per stream and format.

Faults: `stream_burst` holds every market-data frame and releases them together every `ms`
(bursty delivery: the first event of a new subscription arrives late, then many at once; control
replies are never held). Every tick notes each book's current update id (`SimBook.mark`), which
`snapshot_lag {"ms": n}` uses to serve REST depth as it was n ms ago.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import structlog
from aiohttp import WSMsgType, web

from simulator.book import Change
from simulator.decimals import fmt8
from simulator.depthdiff import DiffAccumulator
from simulator.exchange import PublicTrade, SymbolState
from simulator.klines import FIXED_MS, INTERVALS, next_open, open_time
from simulator.rest_public import rolling_24h
from simulator.state import Sim

log = structlog.get_logger("simulator.streams")

MAX_STREAMS = 1024
MAX_INCOMING_PER_S = 5
QUEUE_LIMIT = 20_000
STREAM_RE = re.compile(  # symbols in lower case; Unicode names (Binance, since 2025-12) too
    r"^(?P<sym>[^@/\sA-Z]+)@(?P<kind>trade|aggTrade|bookTicker|ticker|miniTicker|avgPrice|referencePrice|"
    r"depth(?P<levels>5|10|20)?(?P<fast>@100ms|@1000ms)?|kline_(?P<interval>[0-9]+[smhdwM]))$"
)


@dataclass(eq=False)
class Pipe:
    """One WebSocket connection's outgoing queue and liveness (streams and the WebSocket API)."""

    ws: web.WebSocketResponse
    request: web.Request
    opened: float
    queue: asyncio.Queue[str | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    last_pong: float = 0.0
    closing: bool = False

    def send(self, text: str) -> None:
        if self.closing:
            return
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            self.closing = True  # a consumer this slow is disconnected, as Binance does
            self.queue = asyncio.Queue(1)
            self.queue.put_nowait(None)

    def abort(self) -> None:
        """Cut the TCP connection without a close frame, like a network drop."""
        self.closing = True
        transport = self.request.transport
        if transport is not None:
            transport.abort()


@dataclass(eq=False)
class Conn(Pipe):
    """One market-stream connection and its subscriptions."""

    combined: bool = False
    streams: set[str] = field(default_factory=set)
    incoming: deque[float] = field(default_factory=deque)


def parse_stream(name: str, sim: Sim) -> tuple[str, re.Match[str]] | None:
    """(SYMBOL, match) for a stream name the sandbox serves, else None."""
    m = STREAM_RE.match(name)
    if m is None:
        return None
    symbol = m.group("sym").upper()
    if symbol not in sim.market.symbols:
        return None
    if m.group("interval") and m.group("interval") not in INTERVALS:
        return None
    return symbol, m


class StreamHub:
    """Fans market events out to subscribed connections."""

    def __init__(self, sim: Sim) -> None:
        self.sim = sim
        self.conns: set[Conn] = set()
        self.subs: dict[str, set[Conn]] = {}
        self.diffs: dict[tuple[str, int], DiffAccumulator] = {}
        self.last_top: dict[str, tuple[Any, Any]] = {}
        self.kline_open: dict[str, int] = {}
        self.conn_lifetime = sim.config.conn_lifetime
        self.burst_ms = 0
        """Fault `stream_burst`: market frames are held and sent together every `burst_ms`."""
        self.held: list[tuple[Conn, str]] = []
        self.last_burst_ms = 0
        for name, state in sim.market.symbols.items():
            for speed in (100, 1000):
                acc = DiffAccumulator(state.book.update_id)
                self.diffs[(name, speed)] = acc
            state.book.subscribe(self._book_listener(name))
        sim.market.trade_listeners.append(self.on_trades)

    # ------------------------------------------------------------ subscriptions

    def subscribe(self, conn: Conn, names: Iterable[str]) -> None:
        for n in names:
            conn.streams.add(n)
            self.subs.setdefault(n, set()).add(conn)

    def unsubscribe(self, conn: Conn, names: Iterable[str]) -> None:
        for n in names:
            conn.streams.discard(n)
            subs = self.subs.get(n)
            if subs is not None:
                subs.discard(conn)
                if not subs:
                    del self.subs[n]

    def drop(self, conn: Conn) -> None:
        self.unsubscribe(conn, list(conn.streams))
        self.conns.discard(conn)

    def publish(self, stream: str, payload: dict[str, Any]) -> None:
        conns = self.subs.get(stream)
        if not conns:
            return
        raw: str | None = None
        wrapped: str | None = None
        for c in list(conns):
            if c.combined:
                if wrapped is None:
                    wrapped = json.dumps({"stream": stream, "data": payload}, separators=(",", ":"))
                text = wrapped
            else:
                if raw is None:
                    raw = json.dumps(payload, separators=(",", ":"))
                text = raw
            if self.burst_ms > 0:
                self.held.append((c, text))
            else:
                if self.held:  # the fault was just cleared: what it held goes first, in order
                    self.release_burst(0)
                c.send(text)

    def release_burst(self, now_ms: int) -> None:
        """Send the frames held by `stream_burst` once its interval is over (or it was cleared)."""
        if not self.held or (self.burst_ms > 0 and now_ms - self.last_burst_ms < self.burst_ms):
            return
        self.last_burst_ms = now_ms
        held, self.held = self.held, []
        for c, text in held:
            c.send(text)

    def wanted(self, symbol: str, suffix: str) -> bool:
        return f"{symbol.lower()}@{suffix}" in self.subs

    # ------------------------------------------------------------ real-time events

    def _book_listener(self, symbol: str) -> Any:
        def listener(update_id: int, changes: list[Change]) -> None:
            self.diffs[(symbol, 100)].on_commit(update_id, changes)
            self.diffs[(symbol, 1000)].on_commit(update_id, changes)
            self._book_ticker(symbol, update_id)

        return listener

    def _stalled(self, symbol: str) -> bool:
        return self.sim.faults.stalled(symbol, self.sim.clock.now_ms())

    def _book_ticker(self, symbol: str, update_id: int) -> None:
        state = self.sim.market.symbols[symbol]
        top = (state.book.best_bid(), state.book.best_ask())
        if self.last_top.get(symbol) == top:
            return
        self.last_top[symbol] = top
        if not self.wanted(symbol, "bookTicker") or self._stalled(symbol):
            return
        bid, ask = top
        self.publish(f"{symbol.lower()}@bookTicker", {
            "u": update_id,
            "s": symbol,
            "b": fmt8(state.price(bid[0])) if bid else "0.00000000",
            "B": fmt8(state.qty(bid[1])) if bid else "0.00000000",
            "a": fmt8(state.price(ask[0])) if ask else "0.00000000",
            "A": fmt8(state.qty(ask[1])) if ask else "0.00000000",
        })

    def on_trades(self, symbol: str, trades: list[PublicTrade]) -> None:
        if self._stalled(symbol):
            return
        low = symbol.lower()
        now = self.sim.clock.now_ms()
        if self.wanted(symbol, "trade"):
            for t in trades:
                self.publish(f"{low}@trade", {
                    "e": "trade", "E": now, "s": symbol, "t": t.id, "p": fmt8(t.price),
                    "q": fmt8(t.qty), "T": t.time, "m": t.buyer_is_maker, "M": True,
                })
        if self.wanted(symbol, "aggTrade"):
            groups: dict[int, list[PublicTrade]] = {}
            for t in trades:
                groups.setdefault(t.agg_id, []).append(t)
            for agg_id, group in groups.items():
                qty = sum((t.qty for t in group), Decimal(0))
                self.publish(f"{low}@aggTrade", {
                    "e": "aggTrade", "E": now, "s": symbol, "a": agg_id,
                    "p": fmt8(group[0].price), "q": fmt8(qty), "f": group[0].id,
                    "l": group[-1].id, "T": group[0].time, "m": group[0].buyer_is_maker,
                    "M": True,
                })

    # ------------------------------------------------------------ periodic events

    def tick(self, fast_only: bool, kline_due: bool) -> None:
        """Emit periodic streams: every 100 ms (`fast_only`) or every 1000 ms."""
        now = self.sim.clock.now_ms()
        for name, state in self.sim.market.symbols.items():
            state.book.mark(now)
            if self._stalled(name):
                continue
            low = name.lower()
            speeds = (100,) if fast_only else (100, 1000)
            for speed in speeds:
                self._emit_diff(name, state, speed, now)
                suffix = "@100ms" if speed == 100 else ""
                for levels in (5, 10, 20):
                    stream = f"{low}@depth{levels}{suffix}"
                    if stream in self.subs or (speed == 1000 and f"{stream}@1000ms" in self.subs):
                        payload = {
                            "lastUpdateId": state.book.update_id,
                            "bids": _levels(state, state.book.bids.top(levels)),
                            "asks": _levels(state, state.book.asks.top(levels)),
                        }
                        self.publish(stream, payload)
                        if speed == 1000:
                            self.publish(f"{stream}@1000ms", payload)
            if fast_only:
                continue
            self._emit_tickers(name, state, now)
            self._emit_klines(name, state, now, kline_due)
        self.release_burst(now)

    def _emit_diff(self, name: str, state: SymbolState, speed: int, now: int) -> None:
        event = self.diffs[(name, speed)].drain()
        if event is None:
            return
        low = name.lower()
        streams = [f"{low}@depth@100ms"] if speed == 100 else [f"{low}@depth",
                                                               f"{low}@depth@1000ms"]
        if not any(s in self.subs for s in streams):
            return
        payload = {
            "e": "depthUpdate", "E": now, "s": name, "U": event.first_id, "u": event.final_id,
            "b": _levels(state, event.bids), "a": _levels(state, event.asks),
        }
        for s in streams:
            self.publish(s, payload)

    def _emit_tickers(self, name: str, state: SymbolState, now: int) -> None:
        low = name.lower()
        if self.wanted(name, "ticker"):
            r = rolling_24h(self.sim, state, True)
            self.publish(f"{low}@ticker", {
                "e": "24hrTicker", "E": now, "s": name, "p": r["priceChange"],
                "P": r["priceChangePercent"], "w": r["weightedAvgPrice"],
                "x": r["prevClosePrice"], "c": r["lastPrice"], "Q": r["lastQty"],
                "b": r["bidPrice"], "B": r["bidQty"], "a": r["askPrice"], "A": r["askQty"],
                "o": r["openPrice"], "h": r["highPrice"], "l": r["lowPrice"], "v": r["volume"],
                "q": r["quoteVolume"], "O": r["openTime"], "C": r["closeTime"],
                "F": r["firstId"], "L": r["lastId"], "n": r["count"],
            })
        if self.wanted(name, "miniTicker"):
            r = rolling_24h(self.sim, state, False)
            self.publish(f"{low}@miniTicker", {
                "e": "24hrMiniTicker", "E": now, "s": name, "c": r["lastPrice"],
                "o": r["openPrice"], "h": r["highPrice"], "l": r["lowPrice"], "v": r["volume"],
                "q": r["quoteVolume"],
            })
        if self.wanted(name, "avgPrice"):
            self.publish(f"{low}@avgPrice", {
                "e": "avgPrice", "E": now, "s": name, "i": "5m",
                "w": fmt8(self.sim.engine.avg_price(name, now)), "T": state.last_trade_time,
            })
        if self.wanted(name, "referencePrice"):
            ref = state.reference_price
            self.publish(f"{low}@referencePrice", {
                "e": "referencePrice", "s": name, "r": None if ref is None else fmt8(ref), "t": now,
            })

    def _emit_klines(self, name: str, state: SymbolState, now: int, due: bool) -> None:
        low = name.lower()
        for interval in INTERVALS:
            stream = f"{low}@kline_{interval}"
            if stream not in self.subs or (interval != "1s" and not due):
                continue
            current = open_time(interval, now)
            prev = self.kline_open.get(stream)
            if prev is not None and prev != current:
                self.publish(stream, _kline(state, name, interval, prev, now, True))
            self.kline_open[stream] = current
            self.publish(stream, _kline(state, name, interval, current, now, False))

    # ------------------------------------------------------------ control

    def server_shutdown(self) -> None:
        now = self.sim.clock.now_ms()
        payload = {"e": "serverShutdown", "E": now}
        raw = json.dumps(payload, separators=(",", ":"))
        wrapped = json.dumps({"stream": "!serverShutdown", "data": payload},
                             separators=(",", ":"))
        for c in list(self.conns):
            c.send(wrapped if c.combined else raw)

    def mark_gap(self, symbol: str) -> None:
        """Fault `gap`: both diff streams of `symbol` lose the next id committed (depthdiff rule 2)."""
        for speed in (100, 1000):
            self.diffs[(symbol, speed)].mark_gap()

    def drop_all(self, symbol: str | None) -> int:
        """Abort connections (all, or those with a stream of `symbol`) like a network drop."""
        victims = [c for c in self.conns if symbol is None or any(
            s.split("@", 1)[0] == symbol.lower() for s in c.streams)]
        for c in victims:
            c.abort()
        return len(victims)


def _levels(state: SymbolState, levels: list[tuple[int, int]]) -> list[list[str]]:
    return [[fmt8(state.price(t)), fmt8(state.qty(q))] for t, q in levels]


def _kline(state: SymbolState, name: str, interval: str, open_ms: int, now: int,
           closed: bool) -> dict[str, Any]:
    close_ms = next_open(interval, open_ms) - 1
    s = state.series.span(open_ms, min(close_ms, now) + 1)
    z = Decimal(0)
    return {
        "e": "kline", "E": now, "s": name,
        "k": {
            "t": open_ms, "T": close_ms, "s": name, "i": interval,
            "f": s.first_id, "L": s.last_id,
            "o": fmt8(s.open or z), "c": fmt8(s.close or z), "h": fmt8(s.high or z),
            "l": fmt8(s.low or z), "v": fmt8(s.volume), "n": s.count, "x": closed,
            "q": fmt8(s.quote_volume), "V": fmt8(s.taker_buy_volume),
            "Q": fmt8(s.taker_buy_quote), "B": "0",
        },
    }


HUB_KEY = web.AppKey("stream_hub", StreamHub)


class ControlError(Exception):
    """A bad control message: Binance's `{"code","msg"}` for the streams API."""

    def __init__(self, code: int, msg: str) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg


def _check_id(msg: dict[str, Any]) -> Any:
    mid = msg.get("id")
    if mid is None or (isinstance(mid, int) and not isinstance(mid, bool)):
        return mid
    if isinstance(mid, str) and re.fullmatch(r"[A-Za-z0-9]{1,36}", mid):
        return mid
    raise ControlError(2, "Invalid request: request ID must be an unsigned integer or "
                          "an alphanumeric string of at most 36 characters")


def handle_control(hub: StreamHub, conn: Conn, text: str) -> dict[str, Any]:
    """Answer one SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS / *_PROPERTY message."""
    try:
        msg = json.loads(text)
    except ValueError as exc:
        raise ControlError(3, f"Invalid JSON: {exc}") from None
    if not isinstance(msg, dict):
        raise ControlError(3, "Invalid JSON: expected an object")
    mid = _check_id(msg)
    method = msg.get("method")
    params = msg.get("params", [])
    if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
        if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            raise ControlError(2, "Invalid request: params must be an array of strings")
        if method == "SUBSCRIBE":
            if len(conn.streams | set(params)) > MAX_STREAMS:
                raise ControlError(2, f"Invalid request: too many streams (max {MAX_STREAMS})")
            hub.subscribe(conn, params)
        else:
            hub.unsubscribe(conn, params)
        return {"result": None, "id": mid}
    if method == "LIST_SUBSCRIPTIONS":
        return {"result": sorted(conn.streams), "id": mid}
    if method == "SET_PROPERTY":
        if not isinstance(params, list) or len(params) != 2 or params[0] != "combined":
            raise ControlError(0, "Unknown property")
        if not isinstance(params[1], bool):
            raise ControlError(1, "Invalid value type: expected Boolean")
        conn.combined = params[1]
        return {"result": None, "id": mid}
    if method == "GET_PROPERTY":
        if params != ["combined"]:
            raise ControlError(0, "Unknown property")
        return {"result": conn.combined, "id": mid}
    raise ControlError(2, "Invalid request: unknown method")


async def writer(conn: Pipe) -> None:
    """Send queued frames in order; `None` closes a consumer too slow to keep up."""
    while True:
        item = await conn.queue.get()
        if item is None:
            await conn.ws.close(code=1008, message=b"slow consumer")
            return
        await conn.ws.send_str(item)


async def watchdog(sim: Sim, conn: Pipe, lifetime: Callable[[], float]) -> None:
    """Server pings, pong timeout and maximum lifetime (`lifetime()` seconds, read each turn so
    a fault applies to open connections)."""
    loop = asyncio.get_running_loop()
    next_ping = loop.time() + sim.config.ws_ping_interval
    while not conn.ws.closed:
        await asyncio.sleep(min(0.25, sim.config.ws_ping_interval))
        now = loop.time()
        if now - conn.opened >= lifetime():
            log.info("ws.lifetime_exceeded")
            await conn.ws.close(code=1000, message=b"connection lifetime exceeded")
            return
        if now - conn.last_pong > sim.config.ws_pong_timeout:
            log.info("ws.pong_timeout")
            await conn.ws.close(code=1008, message=b"pong timeout")
            return
        if now >= next_ping:
            next_ping = now + sim.config.ws_ping_interval
            await conn.ws.ping(str(sim.clock.now_ms()).encode())


async def ws_handler(request: web.Request) -> web.StreamResponse:
    """`/ws`, `/ws/<s1>/<s2>` (raw) and `/stream?streams=s1/s2` (combined)."""
    hub = request.app[HUB_KEY]
    sim = hub.sim
    combined = request.path.startswith("/stream")
    if combined:
        names = [s for s in request.query.get("streams", "").split("/") if s]
    else:
        tail = request.match_info.get("streams", "")
        names = [s for s in tail.split("/") if s]
    if len(names) > MAX_STREAMS:
        return web.json_response({"code": 2, "msg": "Invalid request: too many streams"},
                                 status=400)
    ws = web.WebSocketResponse(autoping=False, max_msg_size=1 << 20)
    await ws.prepare(request)
    loop = asyncio.get_running_loop()
    conn = Conn(ws=ws, request=request, combined=combined, opened=loop.time(),
                last_pong=loop.time())
    hub.conns.add(conn)
    hub.subscribe(conn, names)
    tasks = (asyncio.create_task(writer(conn)),
             asyncio.create_task(watchdog(sim, conn, lambda: hub.conn_lifetime)))
    try:
        async for msg in ws:
            now = loop.time()
            conn.incoming.append(now)
            while conn.incoming and conn.incoming[0] < now - 1.0:
                conn.incoming.popleft()
            if len(conn.incoming) > MAX_INCOMING_PER_S:
                log.info("ws.too_many_messages")
                await ws.close(code=1008, message=b"too many messages")
                break
            if msg.type == WSMsgType.PING:
                await ws.pong(msg.data)
            elif msg.type == WSMsgType.PONG:
                conn.last_pong = now
            elif msg.type == WSMsgType.TEXT:
                try:
                    reply = handle_control(hub, conn, msg.data)
                except ControlError as err:
                    reply = {"code": err.code, "msg": err.msg}
                    with contextlib.suppress(Exception):
                        reply["id"] = json.loads(msg.data).get("id")
                conn.send(json.dumps(reply, separators=(",", ":")))
            elif msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                break
    finally:
        hub.drop(conn)
        await stop_tasks(tasks)
    return ws


async def stop_tasks(tasks: Iterable[asyncio.Task[None]]) -> None:
    """Cancel a connection's writer and watchdog and wait for them."""
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await task


async def run_periodic(hub: StreamHub) -> None:
    """The 100 ms / 1000 ms / 2000 ms stream clock."""
    n = 0
    while True:
        await asyncio.sleep(0.1)
        n += 1
        try:
            hub.tick(fast_only=n % 10 != 0, kline_due=n % 20 == 0)
        except Exception:  # never let one bad tick kill every stream
            log.exception("streams.tick_failed")


def setup(app: web.Application, sim: Sim) -> StreamHub:
    hub = StreamHub(sim)
    app[HUB_KEY] = hub
    app.router.add_get("/ws", ws_handler)
    app.router.add_get("/ws/{streams:.*}", ws_handler)
    app.router.add_get("/stream", ws_handler)
    return hub


__all__ = ["FIXED_MS", "HUB_KEY", "Pipe", "StreamHub", "setup", "stop_tasks", "watchdog", "writer"]
