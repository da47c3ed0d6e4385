"""REST shell: one aiohttp handler that runs every `/api/v3/*` request through the same pipeline.

Pipeline (spec §1.4-§1.8): injected fault -> request weight (429/418) -> API key + signature +
timestamp for signed endpoints -> endpoint handler -> weight and order-count headers. Every
`ApiError` is rendered once, here, as `{"code","msg"}` with its HTTP status.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from aiohttp import web

from simulator import rest_public, rest_trade
from simulator.auth import authenticate
from simulator.errors import ApiError
from simulator.params import Params
from simulator.state import Sim

log = structlog.get_logger("simulator.rest")

Handler = Callable[[Sim, Params], Any]
SIM_KEY = web.AppKey("sim", Sim)


@dataclass(frozen=True)
class Endpoint:
    """One REST endpoint: security, weight rule and handler (limits and paths as data)."""

    handler: Handler
    weight: Callable[[Params], int]
    signed: bool = False
    order: bool = False
    """Weight is charged only on failure (successful order requests cost 0 since 2026-04-02)."""
    new_order: bool = False
    """Counts toward ORDERS limits and carries X-MBX-ORDER-COUNT-* headers."""


def const(n: int) -> Callable[[Params], int]:
    return lambda _p: n


ENDPOINTS: dict[tuple[str, str], Endpoint] = {
    ("GET", "/api/v3/ping"): Endpoint(rest_public.ping, const(1)),
    ("GET", "/api/v3/time"): Endpoint(rest_public.server_time, const(1)),
    ("GET", "/api/v3/exchangeInfo"): Endpoint(rest_public.exchange_info, const(20)),
    ("GET", "/api/v3/depth"): Endpoint(rest_public.depth, rest_public.depth_weight),
    ("GET", "/api/v3/trades"): Endpoint(rest_public.trades, const(25)),
    ("GET", "/api/v3/klines"): Endpoint(rest_public.klines, const(2)),
    ("GET", "/api/v3/uiKlines"): Endpoint(rest_public.klines, const(2)),
    ("GET", "/api/v3/avgPrice"): Endpoint(rest_public.avg_price, const(2)),
    ("GET", "/api/v3/ticker/24hr"): Endpoint(
        rest_public.ticker_24hr, rest_public.ticker_weight(2, 2, 40, 80)),
    ("GET", "/api/v3/ticker/price"): Endpoint(
        rest_public.ticker_price, rest_public.ticker_weight(2, 4, 4, 4)),
    ("GET", "/api/v3/ticker/bookTicker"): Endpoint(
        rest_public.book_ticker, rest_public.ticker_weight(2, 4, 4, 4)),
    ("GET", "/api/v3/account"): Endpoint(rest_trade.account, const(20), signed=True),
    ("GET", "/api/v3/myTrades"): Endpoint(
        rest_trade.my_trades, rest_trade.my_trades_weight, signed=True),
    ("POST", "/api/v3/order"): Endpoint(
        rest_trade.new_order, const(1), signed=True, order=True, new_order=True),
    ("POST", "/api/v3/order/test"): Endpoint(
        rest_trade.test_order, rest_trade.test_order_weight, signed=True),
    ("DELETE", "/api/v3/order"): Endpoint(
        rest_trade.cancel_order, const(1), signed=True, order=True),
    ("GET", "/api/v3/order"): Endpoint(rest_trade.query_order, const(4), signed=True),
    ("GET", "/api/v3/openOrders"): Endpoint(
        rest_trade.open_orders, rest_trade.open_orders_weight, signed=True),
    ("GET", "/api/v3/allOrders"): Endpoint(rest_trade.all_orders, const(20), signed=True),
    ("DELETE", "/api/v3/openOrders"): Endpoint(
        rest_trade.cancel_open_orders, const(1), signed=True, order=True),
}


def register(method: str, path: str, endpoint: Endpoint) -> None:
    """Add an endpoint to the table (used by the signed/trade modules)."""
    ENDPOINTS[(method, path)] = endpoint


TIMEOUT_MSG = (
    "Timeout waiting for response from backend server. Send status unknown; "
    "execution status unknown."
)
FAULT_MESSAGES = {
    -1000: "An unknown error occurred while processing the request.",
    -1001: "Internal error; unable to process your request. Please try again.",
    -1006: "An unexpected response was received from the message bus. Execution status unknown.",
    -1007: TIMEOUT_MSG,
    -1008: "Server is currently overloaded with other requests. Please try again in a few minutes.",
}


def json_response(sim: Sim, status: int, body: Any, extra: dict[str, str] | None = None,
                  now_ms: int | None = None) -> web.Response:
    now = sim.clock.now_ms() if now_ms is None else now_ms
    used = str(sim.limiter.current(now))
    headers = {"X-MBX-USED-WEIGHT": used, "X-MBX-USED-WEIGHT-1M": used}
    if extra:
        headers.update(extra)
    return web.Response(
        status=status,
        text=json.dumps(body, separators=(",", ":")),
        content_type="application/json",
        headers=headers,
    )


def error_response(sim: Sim, err: ApiError) -> web.Response:
    extra = {"Retry-After": str(err.retry_after)} if err.retry_after is not None else None
    return json_response(sim, err.status, err.body(), extra)


async def dispatch(request: web.Request) -> web.StreamResponse:
    """Entry point for every `/api/v3/*` route."""
    sim = request.app[SIM_KEY]
    path = request.path
    endpoint = ENDPOINTS.get((request.method, path))
    if endpoint is None:
        return web.Response(status=404, text="<html><body><h2>404 Not found</h2></body></html>",
                            content_type="text/html")
    raw_query = request.raw_path.partition("?")[2]
    body = await request.text() if request.can_read_body else ""
    fault = sim.faults.take_rest_fail(request.method, path) if sim.config.faults else None
    # Only a delay (no code, no status or 200): a slow but normal answer.
    failing = fault is not None and (fault.code is not None or fault.status not in (None, 200))
    if fault is not None and not fault.after_execute:
        if fault.delay_ms:
            await asyncio.sleep(fault.delay_ms / 1000)
        if failing:
            return fault_response(sim, fault.status, fault.code)
    try:
        params = Params.parse(raw_query, body)
        now = sim.clock.now_ms()
        weight = endpoint.weight(params)
        sim.limiter.reserve(0 if endpoint.order else weight, now)
        if endpoint.signed:
            authenticate(sim, request.headers, raw_query, body, params, now)
        if endpoint.new_order:
            sim.orders.check(now)
        result = endpoint.handler(sim, params)
        if asyncio.iscoroutine(result):
            result = await result
    except ApiError as err:
        if endpoint.order and err.status < 500 and err.code not in (-1003,):
            sim.limiter.add(1, sim.clock.now_ms())
        if fault is not None and fault.after_execute:
            if fault.delay_ms:
                await asyncio.sleep(fault.delay_ms / 1000)
            if failing:
                return fault_response(sim, fault.status, fault.code)
        return error_response(sim, err)
    now = sim.clock.now_ms()
    extra: dict[str, str] = {}
    if endpoint.new_order:
        sim.orders.add(now)
        extra = sim.orders.headers(now)
    if fault is not None and fault.after_execute:
        log.info("fault.rest_fail_after_execute", path=path, method=request.method)
        if fault.delay_ms:
            await asyncio.sleep(fault.delay_ms / 1000)  # executed; the answer is late
        if failing:
            return fault_response(sim, fault.status, fault.code)
    return json_response(sim, 200, result, extra, now)


def fault_response(sim: Sim, status: int | None, code: int | None) -> web.Response:
    """The injected failure: Binance-like 5xx (unknown outcome) or a given code."""
    if code is None:
        code = -1008 if status == 503 else -1001
    if status is None:
        status = 503 if code == -1008 else 500
    msg = FAULT_MESSAGES.get(code, "An unknown error occurred while processing the request.")
    return json_response(sim, status, {"code": code, "msg": msg})
