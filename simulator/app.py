"""aiohttp application factory and the background market loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import structlog
from aiohttp import web

from simulator.config import SimConfig
from simulator.rest import SIM_KEY, cancel_background, dispatch
from simulator.state import Sim

log = structlog.get_logger("simulator")

LOOP_INTERVAL_S = 0.01


async def run_market(sim: Sim) -> None:
    """Drive every symbol's market maker at `config.rate` events per second."""
    loop = asyncio.get_running_loop()
    last = loop.time()
    credit = 0.0
    names = sorted(sim.market.symbols)
    while True:
        await asyncio.sleep(LOOP_INTERVAL_S)
        now = loop.time()
        credit += (now - last) * sim.config.rate
        last = now
        steps = int(credit)
        credit -= steps
        if not sim.market_running:
            credit = 0.0
            continue
        steps = min(steps, max(1, int(sim.config.rate)))
        now_ms = sim.clock.now_ms()
        for _ in range(steps):
            for name in names:
                sim.on_market_step(name, now_ms)


def create_app(config: SimConfig) -> web.Application:
    """The sandbox web app (REST under /api/v3, streams under /ws and /stream, the WebSocket API
    under /ws-api/v3, faults under /sim)."""
    sim = Sim.create(config)
    app = web.Application()
    app[SIM_KEY] = sim
    app.router.add_route("*", "/api/v3/{tail:.*}", dispatch)
    app.router.add_route("*", "/sapi/v1/{tail:.*}", dispatch)  # only the key's apiRestrictions
    from simulator import control, streams, wsapi_hub

    hub = streams.setup(app, sim)
    api_hub = wsapi_hub.setup(app, sim)
    if config.faults:
        control.setup(app, sim)

    async def background(app: web.Application) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(run_market(sim)), asyncio.create_task(streams.run_periodic(hub)),
                 asyncio.create_task(api_hub.run_delayed())]
        yield
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await cancel_background()

    async def close_streams(app: web.Application) -> None:
        """Tell stream and WebSocket API clients the server is going away (`serverShutdown`),
        then close."""
        hub.server_shutdown()
        api_hub.server_shutdown()
        await asyncio.sleep(0.05)
        for conn in list(hub.conns):
            await conn.ws.close(code=1001, message=b"server shutdown")
        await api_hub.close_all()

    app.cleanup_ctx.append(background)
    app.on_shutdown.append(close_streams)
    return app
