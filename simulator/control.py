"""Fault-injection and ground-truth endpoints under `/sim/*` (only with `--faults`, loopback only).

POST /sim/fault {"kind": ...}; GET /sim/book?symbol=X; POST /sim/market {"running": bool};
POST /sim/balances {"asset","free"}; GET /sim/orders?symbol=X; GET /sim/held;
POST /sim/reference_price {"symbol","price"|null}; POST /sim/take {"symbol","side","quantity"};
GET /sim/streams (market-stream connections, subscribers per stream, user data subscriptions).
See simulator/README.md.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import structlog
from aiohttp import web

from simulator.book import Side
from simulator.decimals import fmt8, to_units
from simulator.faults import RestFail
from simulator.rest_trade import render_query
from simulator.state import DEFAULT_API_RESTRICTIONS, Sim
from simulator.streams import HUB_KEY, Pipe
from simulator.wsapi_hub import WS_API_KEY

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
        except (KeyError, ValueError, TypeError, ArithmeticError) as exc:
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
        result = await handler(sim, request.app, body)
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

    async def balances(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        asset = str(body["asset"]).upper()
        free = Decimal(str(body["free"])) if "free" in body else None
        locked = Decimal(str(body["locked"])) if "locked" in body else None
        # Through the engine, so user data streams see a balanceUpdate (spec §8.3).
        sim.engine.set_balance(asset, free, locked, sim.clock.now_ms())
        acct = sim.engine.account
        return _ok({"asset": asset, "free": fmt8(acct.free[asset]),
                    "locked": fmt8(acct.locked[asset])})

    async def orders(request: web.Request) -> web.StreamResponse:
        name = request.query.get("symbol")
        rows = [o for o in sim.engine.orders.values()
                if name is None or o.symbol == name.upper()]
        return _ok({"orders": [render_query(o) for o in rows]})

    async def reference_price(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        name = _symbol(sim, body, True)
        assert name is not None
        price = body.get("price")
        ref = None if price is None else Decimal(str(price))
        if ref is not None and (not ref.is_finite() or ref <= 0):
            raise ValueError("price must be a positive decimal or null")
        sim.market.symbols[name].reference_price = ref
        log.info("reference_price.set", symbol=name, price=None if ref is None else str(ref))
        return _ok({"symbol": name, "referencePrice": None if ref is None else fmt8(ref)})

    async def held(request: web.Request) -> web.StreamResponse:
        return _ok({"held": sim.faults.held})

    async def take(request: web.Request) -> web.StreamResponse:
        """One synthetic taker order now (the market flow's own code path), so a test can fill
        a resting account order deterministically, e.g. with the market paused."""
        body = await request.json()
        name = _symbol(sim, body, True)
        assert name is not None
        side = str(body["side"]).upper()
        if side not in ("BUY", "SELL"):
            raise ValueError("side must be BUY or SELL")
        state = sim.market.symbols[name]
        lots = to_units(Decimal(str(body["quantity"])), state.spec.step_size)
        if lots is None or lots <= 0:
            raise ValueError("quantity must be a positive multiple of the step size")
        before = state.next_trade_id
        sim.engine.synthetic_take(name, Side.BID if side == "BUY" else Side.ASK, lots,
                                  sim.clock.now_ms())
        state.book.commit()
        return _ok({"symbol": name, "side": side, "trades": state.next_trade_id - before})

    async def streams(request: web.Request) -> web.StreamResponse:
        """How many market-stream connections are open and how many subscribe each stream (replicas
        sharing one ingester per book must show one subscriber per depth stream)."""
        hub = request.app[HUB_KEY]
        ws_api = request.app[WS_API_KEY]
        return _ok({"connections": len(hub.conns),
                    "subscribers": {name: len(conns) for name, conns in sorted(hub.subs.items())},
                    "user_data_subscriptions": sum(len(c.session.subscriptions) for c in ws_api.conns)})

    statuses: Counter[int] = Counter()

    @web.middleware
    async def count_statuses(request: web.Request, handler: ControlHandler) -> web.StreamResponse:
        response = await handler(request)
        statuses[response.status] += 1
        return response

    async def statuses_seen(request: web.Request) -> web.StreamResponse:
        """HTTP statuses answered so far (replica tests: no 429 or 418 at all) and this minute's weight."""
        now_ms = sim.clock.now_ms()
        return _ok({"statuses": {str(code): n for code, n in sorted(statuses.items())},
                    "weight": {"used": sim.limiter.current(now_ms), "limit": sim.limiter.limit}})

    app.middlewares.append(count_statuses)
    app.router.add_get("/sim/statuses", _loopback_only(statuses_seen))
    app.router.add_get("/sim/streams", _loopback_only(streams))
    app.router.add_get("/sim/held", _loopback_only(held))
    app.router.add_post("/sim/take", _loopback_only(take))
    app.router.add_post("/sim/reference_price", _loopback_only(reference_price))
    app.router.add_post("/sim/balances", _loopback_only(balances))
    app.router.add_get("/sim/orders", _loopback_only(orders))
    app.router.add_post("/sim/fault", _loopback_only(fault))
    app.router.add_get("/sim/book", _loopback_only(book))
    app.router.add_post("/sim/market", _loopback_only(market))


FaultFn = Callable[[Sim, web.Application, dict[str, Any]], Awaitable[dict[str, Any]]]


async def _rest_fail(sim: Sim, app: web.Application, body: dict[str, Any],
                     answer: str = "binance") -> dict[str, Any]:
    path = body.get("path")
    f = RestFail(
        path=None if path is None else str(path),
        method=body.get("method"),
        status=body.get("status"),
        code=body.get("code"),
        after_execute=bool(body.get("after_execute", False)),
        times=int(body.get("times", 1)),
        delay_ms=int(body.get("delay_ms", 0)),
        hold_ms=int(body.get("hold_ms", 0)),
        execute_after_ms=_int_or_none(body.get("execute_after_ms")),
        answer=answer,
    )
    if f.execute_after_ms is not None and f.execute_after_ms < 0:
        raise ValueError("execute_after_ms must be >= 0")
    sim.faults.rest_fail.append(f)
    return {}


async def _http_error(sim: Sim, app: web.Application, body: dict[str, Any]) -> dict[str, Any]:
    if "status" not in body:
        raise KeyError("status")
    return await _rest_fail(sim, app, {**body, "code": None}, "http_error")


async def _truncated_body(sim: Sim, app: web.Application, body: dict[str, Any]) -> dict[str, Any]:
    return await _rest_fail(sim, app, body, "truncated")


async def _reset(sim: Sim, app: web.Application, body: dict[str, Any]) -> dict[str, Any]:
    return await _rest_fail(sim, app, body, "reset")


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


async def _weight_limit(sim: Sim, app: web.Application, body: dict[str, Any]) -> dict[str, Any]:
    sim.limiter.reset(int(body["limit"]))
    if "ban_seconds" in body:
        sim.limiter.ban_seconds = float(body["ban_seconds"])
    return {"limit": sim.limiter.limit}


async def _order_limit(sim: Sim, app: web.Application, body: dict[str, Any]) -> dict[str, Any]:
    orders = sim.orders
    limit_10s = int(body.get("limit_10s", orders.limit_10s))
    limit_1d = int(body.get("limit_1d", orders.limit_1d))
    if limit_10s < 0 or limit_1d < 0:
        raise ValueError("limits must be >= 0")
    orders.set_limits(limit_10s, limit_1d)
    return {"limit_10s": orders.limit_10s, "limit_1d": orders.limit_1d}


async def _strict(sim: Sim, app: web.Application, body: dict[str, Any]) -> dict[str, Any]:
    on = body.get("on", True)
    if not isinstance(on, bool):
        raise ValueError("on must be true or false")
    sim.strict = on
    return {"on": sim.strict}


async def _clock_skew(sim: Sim, app: web.Application, body: dict[str, Any]) -> dict[str, Any]:
    sim.clock.skew_ms = int(body["ms"])
    return {"ms": sim.clock.skew_ms}


async def _api_restrictions(sim: Sim, app: web.Application, body: dict[str, Any]) -> dict[str, Any]:
    """Set what `GET /sapi/v1/account/apiRestrictions` answers (booleans by Binance's names)."""
    for name, value in body.items():
        if name == "kind":
            continue
        if name not in DEFAULT_API_RESTRICTIONS or not isinstance(value, bool) or name == "createTime":
            raise ValueError(f"{name}: not a boolean field of apiRestrictions")
        sim.api_restrictions[name] = value
    return dict(sim.api_restrictions)


async def _clear(sim: Sim, app: web.Application, body: dict[str, Any]) -> dict[str, Any]:
    sim.faults.clear()
    sim.api_restrictions = dict(DEFAULT_API_RESTRICTIONS)
    sim.clock.skew_ms = 0
    sim.limiter.reset(sim.config.weight_limit)
    sim.limiter.ban_seconds = sim.config.ban_seconds
    sim.orders.set_limits(sim.config.orders_10s, sim.config.orders_1d)
    sim.strict = sim.config.strict
    for state in sim.market.symbols.values():
        state.reference_price = None
    hub = app[HUB_KEY]
    hub.conn_lifetime = sim.config.conn_lifetime
    hub.burst_ms = 0
    for acc in hub.diffs.values():
        acc.gap_pending = False
    api = app[WS_API_KEY]
    api.lifetime = sim.config.ws_api_lifetime
    api.delay_ms = 0
    api.miss = 0
    return {}


def _symbol(sim: Sim, body: dict[str, Any], required: bool) -> str | None:
    name = body.get("symbol")
    if name is None:
        if required:
            raise KeyError("symbol")
        return None
    name = str(name).upper()
    if name not in sim.market.symbols:
        raise ValueError(f"unknown symbol {name}")
    return name


async def _drop_streams(sim: Sim, app: web.Application, body: dict[str, Any]) -> dict[str, Any]:
    return {"dropped": app[HUB_KEY].drop_all(_symbol(sim, body, False))}


async def _gap(sim: Sim, app: web.Application, body: dict[str, Any]) -> dict[str, Any]:
    name = _symbol(sim, body, True)
    assert name is not None
    app[HUB_KEY].mark_gap(name)
    return {"symbol": name}


async def _stall(sim: Sim, app: web.Application, body: dict[str, Any]) -> dict[str, Any]:
    name = _symbol(sim, body, False) or "*"
    until = int(sim.clock.now_ms() + float(body.get("seconds", 5)) * 1000)  # the clock streams judge it by
    sim.faults.stall_until_ms[name] = until
    return {"symbol": name, "until_ms": until}


async def _server_shutdown(sim: Sim, app: web.Application, body: dict[str, Any]) -> dict[str, Any]:
    hub = app[HUB_KEY]
    hub.server_shutdown()
    api_hub = app[WS_API_KEY]
    api_hub.server_shutdown()
    conns: list[Pipe] = [*hub.conns, *api_hub.conns]
    delay = float(body.get("close_after_ms", 200)) / 1000

    async def close_later() -> None:
        await asyncio.sleep(delay)
        for c in conns:
            await c.ws.close(code=1001, message=b"server shutdown")

    task = asyncio.get_running_loop().create_task(close_later())
    _background.add(task)
    task.add_done_callback(_background.discard)
    return {"connections": len(hub.conns), "ws_api_connections": len(api_hub.conns)}


async def _snapshot_lag(sim: Sim, app: web.Application, body: dict[str, Any]) -> dict[str, Any]:
    name = _symbol(sim, body, False) or "*"
    kinds = [k for k in ("ms", "updates") if k in body]
    if len(kinds) != 1:
        raise ValueError("give ms or updates")
    n = _non_negative(body, kinds[0])
    sim.faults.snapshot_lag[name] = (kinds[0], n)
    return {"symbol": name, kinds[0]: n}


async def _stream_burst(sim: Sim, app: web.Application, body: dict[str, Any]) -> dict[str, Any]:
    ms = _non_negative(body, "ms")
    app[HUB_KEY].burst_ms = ms
    return {"ms": ms}


async def _conn_lifetime(sim: Sim, app: web.Application, body: dict[str, Any]) -> dict[str, Any]:
    app[HUB_KEY].conn_lifetime = float(body["seconds"])
    return {"seconds": float(body["seconds"])}


async def _ws_api_drop(sim: Sim, app: web.Application, body: dict[str, Any]) -> dict[str, Any]:
    return {"dropped": app[WS_API_KEY].drop_all()}


async def _ws_api_terminate(sim: Sim, app: web.Application, body: dict[str, Any]) -> dict[str, Any]:
    return {"terminated": app[WS_API_KEY].terminate_all()}


async def _ws_api_delay(sim: Sim, app: web.Application, body: dict[str, Any]) -> dict[str, Any]:
    ms = _non_negative(body, "ms")
    app[WS_API_KEY].delay_ms = ms
    return {"ms": ms}


async def _ws_api_miss(sim: Sim, app: web.Application, body: dict[str, Any]) -> dict[str, Any]:
    count = _non_negative(body, "count")
    app[WS_API_KEY].miss = count
    return {"count": count}


async def _ws_api_lifetime(sim: Sim, app: web.Application, body: dict[str, Any]) -> dict[str, Any]:
    seconds = float(body["seconds"])
    if not seconds > 0:
        raise ValueError("seconds must be > 0")
    app[WS_API_KEY].lifetime = seconds
    return {"seconds": seconds}


def _non_negative(body: dict[str, Any], name: str) -> int:
    value = int(body[name])
    if value < 0:
        raise ValueError(f"{name} must be >= 0")
    return value


_background: set[asyncio.Task[None]] = set()


FAULTS: dict[str, FaultFn] = {
    "rest_fail": _rest_fail,
    "http_error": _http_error,
    "truncated_body": _truncated_body,
    "reset": _reset,
    "weight_limit": _weight_limit,
    "order_limit": _order_limit,
    "strict": _strict,
    "clock_skew": _clock_skew,
    "clear": _clear,
    "api_restrictions": _api_restrictions,
    "drop_streams": _drop_streams,
    "gap": _gap,
    "stall": _stall,
    "server_shutdown": _server_shutdown,
    "conn_lifetime": _conn_lifetime,
    "snapshot_lag": _snapshot_lag,
    "stream_burst": _stream_burst,
    "ws_api_drop": _ws_api_drop,
    "ws_api_terminate": _ws_api_terminate,
    "ws_api_delay": _ws_api_delay,
    "ws_api_miss": _ws_api_miss,
    "ws_api_lifetime": _ws_api_lifetime,
}
