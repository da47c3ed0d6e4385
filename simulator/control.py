"""Fault-injection and ground-truth endpoints under `/sim/*` (only with `--faults`, loopback only).

POST /sim/fault {"kind": ...}; GET /sim/book?symbol=X; POST /sim/market {"running": bool};
POST /sim/balances {"asset","free"}; GET /sim/orders?symbol=X. See the common brief.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiohttp import web

from simulator.decimals import fmt8
from simulator.faults import RestFail
from simulator.state import Sim

log = structlog.get_logger("simulator.control")

ControlHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _loopback_only(handler: ControlHandler) -> ControlHandler:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        remote = request.remote or ""
        try:
            loop = ipaddress.ip_address(remote).is_loopback
        except ValueError:
            loop = False
        if not loop:
            return web.json_response({"error": "loopback only"}, status=403)
        try:
            return await handler(request)
        except (KeyError, ValueError, TypeError) as exc:
            return web.json_response({"error": f"bad request: {exc}"}, status=400)

    return wrapped


def _ok(body: dict[str, Any]) -> web.Response:
    return web.Response(text=json.dumps(body), content_type="application/json")


def setup(app: web.Application, sim: Sim) -> None:
    async def fault(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        kind = body.get("kind")
        handler = FAULTS.get(kind)
        if handler is None:
            return web.json_response({"error": f"unknown fault kind {kind!r}",
                                      "kinds": sorted(FAULTS)}, status=400)
        result = await handler(sim, body)
        log.info("fault.armed", kind=kind)
        return _ok({"ok": True, "kind": kind, **result})

    async def book(request: web.Request) -> web.StreamResponse:
        name = request.query["symbol"].upper()
        state = sim.market.symbols[name]
        b = state.book
        return _ok({
            "symbol": name,
            "lastUpdateId": b.update_id,
            "bids": [[fmt8(state.price(t)), fmt8(state.qty(q))]
                     for t, q in b.bids.top(len(b.bids.ticks))],
            "asks": [[fmt8(state.price(t)), fmt8(state.qty(q))]
                     for t, q in b.asks.top(len(b.asks.ticks))],
        })

    async def market(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        sim.market_running = bool(body["running"])
        return _ok({"running": sim.market_running})

    app.router.add_post("/sim/fault", _loopback_only(fault))
    app.router.add_get("/sim/book", _loopback_only(book))
    app.router.add_post("/sim/market", _loopback_only(market))


FaultFn = Callable[[Sim, dict[str, Any]], Awaitable[dict[str, Any]]]


async def _rest_fail(sim: Sim, body: dict[str, Any]) -> dict[str, Any]:
    f = RestFail(
        path=str(body["path"]),
        method=body.get("method"),
        status=body.get("status"),
        code=body.get("code"),
        after_execute=bool(body.get("after_execute", False)),
        times=int(body.get("times", 1)),
        delay_ms=int(body.get("delay_ms", 0)),
    )
    sim.faults.rest_fail.append(f)
    return {}


async def _weight_limit(sim: Sim, body: dict[str, Any]) -> dict[str, Any]:
    sim.limiter.reset(int(body["limit"]))
    if "ban_seconds" in body:
        sim.limiter.ban_seconds = float(body["ban_seconds"])
    return {"limit": sim.limiter.limit}


async def _clock_skew(sim: Sim, body: dict[str, Any]) -> dict[str, Any]:
    sim.clock.skew_ms = int(body["ms"])
    return {"ms": sim.clock.skew_ms}


async def _clear(sim: Sim, body: dict[str, Any]) -> dict[str, Any]:
    sim.faults.clear()
    sim.clock.skew_ms = 0
    sim.limiter.reset(sim.config.weight_limit)
    sim.limiter.ban_seconds = sim.config.ban_seconds
    return {}


FAULTS: dict[str, FaultFn] = {
    "rest_fail": _rest_fail,
    "weight_limit": _weight_limit,
    "clock_skew": _clock_skew,
    "clear": _clear,
}
