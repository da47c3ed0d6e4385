"""WebSocket API shell: `/ws-api/v3` connections, and user data events fanned out to them.

Requests are answered by the sans-I/O core in `simulator/wsapi.py`; this module only moves
frames. Connection rules as for the market streams (`simulator/streams.py`): server ping frames
every `ws_ping_interval`, a disconnect when no pong arrives within `ws_pong_timeout`, a maximum
lifetime (`--ws-api-lifetime`, 24 h; fault `ws_api_lifetime`), a `serverShutdown` event before a
shutdown. Connecting costs 2 request weight (`web-socket-api.md`, IP limits).

Events (spec §8.3) come from the engine's `event_listeners` in engine order and go to every
active subscription as `{"subscriptionId": N, "event": {...}}`. Faults: `ws_api_miss` swallows
the next N events (while anyone is subscribed), `ws_api_delay` holds events N ms in one FIFO so
their order is kept, `ws_api_drop` cuts every connection, `ws_api_terminate` ends every
subscription with `eventStreamTerminated`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiohttp import WSMsgType, web

from simulator import userdata, wsapi
from simulator.state import Sim
from simulator.streams import Pipe, stop_tasks, watchdog, writer

log = structlog.get_logger("simulator.wsapi")

PATH = "/ws-api/v3"
CONNECT_WEIGHT = 2


def dumps(body: Any) -> str:
    return json.dumps(body, separators=(",", ":"))


@dataclass(eq=False)
class WsApiConn(Pipe):
    """One WebSocket API connection and its session."""

    session: wsapi.WsApiSession = field(default_factory=lambda: wsapi.WsApiSession(0))

    def send_event(self, sid: int, event: dict[str, Any]) -> None:
        self.send(dumps({"subscriptionId": sid, "event": event}))


class WsApiHub:
    """The open WebSocket API connections, event delivery and the `ws_api_*` faults."""

    def __init__(self, sim: Sim) -> None:
        self.sim = sim
        self.conns: set[WsApiConn] = set()
        self.lifetime = sim.config.ws_api_lifetime
        self.delay_ms = 0
        """Fault `ws_api_delay`: events are delivered this late."""
        self.miss = 0
        """Fault `ws_api_miss`: this many more events are never delivered."""
        self.delayed: deque[tuple[float, dict[str, Any]]] = deque()
        self.wake = asyncio.Event()
        sim.engine.event_listeners.append(self.on_event)

    def subscribed(self) -> bool:
        return any(c.session.subscriptions for c in self.conns)

    def on_event(self, event: dict[str, Any]) -> None:
        """An engine event: swallowed (`ws_api_miss`), held (`ws_api_delay`) or delivered."""
        if self.miss > 0 and self.subscribed():
            self.miss -= 1
            log.info("ws_api.event_missed", e=event["e"], left=self.miss)
            return
        if self.delay_ms > 0 or self.delayed:
            # Behind the ones already held, whatever their delay, so the order is kept.
            self.delayed.append((time.monotonic() + self.delay_ms / 1000, event))
            self.wake.set()
            return
        self.deliver(event)

    def deliver(self, event: dict[str, Any]) -> None:
        for c in list(self.conns):
            for sid in sorted(c.session.subscriptions):
                c.send_event(sid, event)

    async def run_delayed(self) -> None:
        """Deliver held events when their time comes, oldest first."""
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.delayed:
                due, event = self.delayed[0]
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                self.delayed.popleft()
                self.deliver(event)

    def terminate_all(self) -> int:
        """Fault `ws_api_terminate`: end every subscription; connections stay open."""
        now = self.sim.clock.now_ms()
        ended = 0
        for c in list(self.conns):
            for sid in c.session.end():
                c.send_event(sid, userdata.event_stream_terminated(now))
                ended += 1
        return ended

    def drop_all(self) -> int:
        """Fault `ws_api_drop`: abort every connection without a close frame."""
        victims = list(self.conns)
        for c in victims:
            c.abort()
        return len(victims)

    def server_shutdown(self) -> int:
        """`{"event": {"e": "serverShutdown", "E": ...}}` to every connection (no subscription id)."""
        text = dumps({"event": userdata.server_shutdown(self.sim.clock.now_ms())})
        for c in list(self.conns):
            c.send(text)
        return len(self.conns)

    async def close_all(self) -> None:
        for c in list(self.conns):
            await c.ws.close(code=1001, message=b"server shutdown")


WS_API_KEY = web.AppKey("ws_api_hub", WsApiHub)


def answer(hub: WsApiHub, conn: WsApiConn, text: str) -> None:
    """Answer one request frame; ended subscriptions get `eventStreamTerminated` after it."""
    now = hub.sim.clock.now_ms()
    result = wsapi.handle(hub.sim, conn.session, text, now)
    conn.send(dumps(result.frame))
    for sid in result.terminated:
        conn.send_event(sid, userdata.event_stream_terminated(now))


async def ws_api_handler(request: web.Request) -> web.StreamResponse:
    """`/ws-api/v3[?returnRateLimits=false]`."""
    hub = request.app[WS_API_KEY]
    sim = hub.sim
    ws = web.WebSocketResponse(autoping=False, max_msg_size=1 << 20)
    await ws.prepare(request)
    sim.limiter.add(CONNECT_WEIGHT, sim.clock.now_ms())
    loop = asyncio.get_running_loop()
    session = wsapi.WsApiSession(
        connected_since=sim.clock.now_ms(),
        return_rate_limits=request.query.get("returnRateLimits", "true").lower() != "false",
    )
    conn = WsApiConn(ws=ws, request=request, opened=loop.time(), last_pong=loop.time(),
                     session=session)
    hub.conns.add(conn)
    tasks = (asyncio.create_task(writer(conn)),
             asyncio.create_task(watchdog(sim, conn, lambda: hub.lifetime)))
    try:
        async for msg in ws:
            if msg.type == WSMsgType.PING:
                await ws.pong(msg.data)
            elif msg.type == WSMsgType.PONG:
                conn.last_pong = loop.time()
            elif msg.type == WSMsgType.TEXT:
                answer(hub, conn, msg.data)
            elif msg.type == WSMsgType.BINARY:
                answer(hub, conn, "")  # requests are JSON text frames: refused like bad JSON
            elif msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                break
    finally:
        hub.conns.discard(conn)
        await stop_tasks(tasks)
    return ws


def setup(app: web.Application, sim: Sim) -> WsApiHub:
    hub = WsApiHub(sim)
    app[WS_API_KEY] = hub
    app.router.add_get(PATH, ws_api_handler)
    return hub


__all__ = ["PATH", "WS_API_KEY", "WsApiHub", "setup"]
