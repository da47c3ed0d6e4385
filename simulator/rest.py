"""REST shell: one aiohttp handler that runs every `/api/v3/*` request through the same pipeline.

Pipeline (spec §1.4-§1.8): injected fault -> request weight (429/418) -> API key + signature +
timestamp for signed endpoints -> (held by a `hold_ms` fault) -> third recvWindow check before
the matching engine -> endpoint handler -> weight and order-count headers. Every
`ApiError` is rendered once, here, as `{"code","msg"}` with its HTTP status.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiohttp import web
from multidict import CIMultiDict

from simulator import rest_lists, rest_public, rest_trade
from simulator.auth import authenticate, check_timestamp
from simulator.edge import edge_answer, truncate
from simulator.errors import ApiError
from simulator.faults import RestFail
from simulator.params import Params
from simulator.state import Sim

log = structlog.get_logger("simulator.rest")

Handler = Callable[[Sim, Params], Any]
SIM_KEY = web.AppKey("sim", Sim)


SIGNED_PARAMS = frozenset({"timestamp", "signature", "recvWindow"})
SYMBOL_LISTS = ("symbol", "symbols", "symbolStatus")
ORDER_PARAMS = (
    "symbol", "side", "type", "timeInForce", "quantity", "quoteOrderQty", "price",
    "newClientOrderId", "strategyId", "strategyType", "stopPrice", "trailingDelta", "icebergQty",
    "newOrderRespType", "selfTradePreventionMode", "pegPriceType", "pegOffsetValue",
    "pegOffsetType",
)


@dataclass(frozen=True)
class Endpoint:
    """One REST endpoint: security, weight rule, parameters and handler (limits and paths as data)."""

    handler: Handler
    weight: Callable[[Params], int]
    params: tuple[str, ...] = ()
    """The parameters Binance reads (besides timestamp/signature/recvWindow when signed); any
    other one is refused with -1104 in strict mode."""
    signed: bool = False
    order: bool = False
    """Weight is charged only on failure (successful order requests cost 0 since 2026-04-02)."""
    new_order: bool = False
    """Counts toward ORDERS limits and carries X-MBX-ORDER-COUNT-* headers."""

    def reads(self) -> frozenset[str]:
        return frozenset(self.params) | (SIGNED_PARAMS if self.signed else frozenset())


def const(n: int) -> Callable[[Params], int]:
    return lambda _p: n


ENDPOINTS: dict[tuple[str, str], Endpoint] = {
    ("GET", "/api/v3/ping"): Endpoint(rest_public.ping, const(1)),
    ("GET", "/api/v3/time"): Endpoint(rest_public.server_time, const(1)),
    ("GET", "/api/v3/exchangeInfo"): Endpoint(
        rest_public.exchange_info, const(20),
        ("symbol", "symbols", "permissions", "showPermissionSets", "symbolStatus")),
    ("GET", "/api/v3/depth"): Endpoint(
        rest_public.depth, rest_public.depth_weight, ("symbol", "limit", "symbolStatus")),
    ("GET", "/api/v3/trades"): Endpoint(rest_public.trades, const(25), ("symbol", "limit")),
    ("GET", "/api/v3/klines"): Endpoint(
        rest_public.klines, const(2),
        ("symbol", "interval", "startTime", "endTime", "timeZone", "limit")),
    ("GET", "/api/v3/uiKlines"): Endpoint(
        rest_public.klines, const(2),
        ("symbol", "interval", "startTime", "endTime", "timeZone", "limit")),
    ("GET", "/api/v3/avgPrice"): Endpoint(rest_public.avg_price, const(2), ("symbol",)),
    ("GET", "/api/v3/referencePrice"): Endpoint(
        rest_public.reference_price, const(2), ("symbol",)),
    ("GET", "/api/v3/ticker/24hr"): Endpoint(
        rest_public.ticker_24hr, rest_public.ticker_weight(2, 2, 40, 80), (*SYMBOL_LISTS, "type")),
    ("GET", "/api/v3/ticker/price"): Endpoint(
        rest_public.ticker_price, rest_public.ticker_weight(2, 4, 4, 4), SYMBOL_LISTS),
    ("GET", "/api/v3/ticker/bookTicker"): Endpoint(
        rest_public.book_ticker, rest_public.ticker_weight(2, 4, 4, 4), SYMBOL_LISTS),
    ("GET", "/api/v3/account"): Endpoint(
        rest_trade.account, const(20), ("omitZeroBalances",), signed=True),
    ("GET", "/api/v3/myTrades"): Endpoint(
        rest_trade.my_trades, rest_trade.my_trades_weight,
        ("symbol", "orderId", "startTime", "endTime", "fromId", "limit"), signed=True),
    ("POST", "/api/v3/order"): Endpoint(
        rest_trade.new_order, const(1), ORDER_PARAMS, signed=True, order=True, new_order=True),
    ("POST", "/api/v3/order/test"): Endpoint(
        rest_trade.test_order, rest_trade.test_order_weight,
        (*ORDER_PARAMS, "computeCommissionRates"), signed=True),
    ("DELETE", "/api/v3/order"): Endpoint(
        rest_trade.cancel_order, const(1),
        ("symbol", "orderId", "origClientOrderId", "newClientOrderId", "cancelRestrictions"),
        signed=True, order=True),
    ("GET", "/api/v3/order"): Endpoint(
        rest_trade.query_order, const(4), ("symbol", "orderId", "origClientOrderId"),
        signed=True),
    ("GET", "/api/v3/openOrders"): Endpoint(
        rest_trade.open_orders, rest_trade.open_orders_weight, ("symbol",), signed=True),
    ("GET", "/api/v3/allOrders"): Endpoint(
        rest_trade.all_orders, const(20),
        ("symbol", "orderId", "startTime", "endTime", "limit"), signed=True),
    ("DELETE", "/api/v3/openOrders"): Endpoint(
        rest_lists.cancel_open_orders, const(1), ("symbol",), signed=True, order=True),
    # order lists, cancel-replace and amendments count their own orders (rest_lists.py rule 1)
    ("POST", "/api/v3/orderList/oco"): Endpoint(
        rest_lists.new_oco, const(1), rest_lists.OCO_PARAMS, signed=True, order=True),
    ("POST", "/api/v3/orderList/oto"): Endpoint(
        rest_lists.new_oto, const(1), rest_lists.OTO_PARAMS, signed=True, order=True),
    ("POST", "/api/v3/orderList/otoco"): Endpoint(
        rest_lists.new_otoco, const(1), rest_lists.OTOCO_PARAMS, signed=True, order=True),
    ("DELETE", "/api/v3/orderList"): Endpoint(
        rest_lists.cancel_order_list, const(1),
        ("symbol", "orderListId", "listClientOrderId", "newClientOrderId"), signed=True, order=True),
    ("GET", "/api/v3/orderList"): Endpoint(
        rest_lists.query_order_list, const(4), ("orderListId", "origClientOrderId"), signed=True),
    ("GET", "/api/v3/allOrderList"): Endpoint(
        rest_lists.all_order_lists, const(20), ("fromId", "startTime", "endTime", "limit"),
        signed=True),
    ("GET", "/api/v3/openOrderList"): Endpoint(rest_lists.open_order_lists, const(6), signed=True),
    ("POST", "/api/v3/order/cancelReplace"): Endpoint(
        rest_lists.cancel_replace, const(1),
        (*ORDER_PARAMS, "cancelReplaceMode", "cancelNewClientOrderId", "cancelOrigClientOrderId",
         "cancelOrderId", "cancelRestrictions", "orderRateLimitExceededMode"),
        signed=True, order=True),
    ("PUT", "/api/v3/order/amend/keepPriority"): Endpoint(
        rest_lists.amend_keep_priority, const(4),
        ("symbol", "orderId", "origClientOrderId", "newClientOrderId", "newQty"), signed=True),
    ("GET", "/api/v3/order/amendments"): Endpoint(
        rest_lists.order_amendments, const(4), ("symbol", "orderId", "fromExecutionId", "limit"),
        signed=True),
    ("GET", "/sapi/v1/account/apiRestrictions"): Endpoint(
        rest_lists.api_restrictions, const(1), signed=True),
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


@dataclass(frozen=True)
class Incoming:
    """What a request carried, kept whole so it can also run later (fault `execute_after_ms`)."""

    method: str
    path: str
    raw_query: str
    body: str
    headers: CIMultiDict[str]
    arrived_ms: int


@dataclass
class Outcome:
    """The answer an endpoint produced (rendered by `render`, or only logged when run late)."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    now_ms: int | None = None


async def dispatch(request: web.Request) -> web.StreamResponse:
    """Entry point for every `/api/v3/*` route."""
    sim = request.app[SIM_KEY]
    endpoint = ENDPOINTS.get((request.method, request.path))
    if endpoint is None:
        return web.Response(status=404, text="<html><body><h2>404 Not found</h2></body></html>",
                            content_type="text/html")
    inc = Incoming(
        method=request.method,
        path=request.path,
        raw_query=request.raw_path.partition("?")[2],
        body=await request.text() if request.can_read_body else "",
        headers=CIMultiDict(request.headers),
        arrived_ms=sim.clock.now_ms(),
    )
    fault = sim.faults.take_rest_fail(inc.method, inc.path) if sim.config.faults else None
    if fault is None:
        return render(sim, await execute(sim, endpoint, inc))
    return await faulted(sim, endpoint, inc, fault, request)


async def faulted(sim: Sim, endpoint: Endpoint, inc: Incoming, fault: RestFail,
                  request: web.Request) -> web.StreamResponse:
    """Apply an armed `rest_fail`, `http_error`, `truncated_body` or `reset` fault (README)."""
    if fault.answer == "truncated":
        outcome = await execute(sim, endpoint, inc, hold_ms=fault.hold_ms)
        await _pause(fault.delay_ms)
        log.info("fault.truncated_body", path=inc.path, method=inc.method)
        return truncated(sim, outcome)
    if fault.execute_after_ms is not None:
        # The answer is lost at once; the request itself reaches the engine later (or never).
        _spawn(execute_late(sim, endpoint, inc, fault.execute_after_ms))
        await _pause(fault.delay_ms)
        return failure(sim, fault, request)
    if not fault.after_execute:
        await _pause(fault.delay_ms)
        if fault.failing:
            return failure(sim, fault, request)
        return render(sim, await execute(sim, endpoint, inc, hold_ms=fault.hold_ms))
    outcome = await execute(sim, endpoint, inc, hold_ms=fault.hold_ms)
    log.info("fault.rest_fail_after_execute", path=inc.path, method=inc.method)
    await _pause(fault.delay_ms)  # executed; the answer is late
    if fault.failing:
        return failure(sim, fault, request)
    return render(sim, outcome)


def failure(sim: Sim, fault: RestFail, request: web.Request) -> web.StreamResponse:
    """The injected failure answer (or, for `reset`, none: the connection is closed)."""
    if fault.answer == "reset":
        if request.transport is not None:
            request.transport.abort()  # aiohttp then fails to write this answer, quietly
        log.info("fault.reset", path=request.path, method=request.method)
        return web.Response(status=500)
    if fault.answer == "http_error":
        edge = edge_answer(fault.status or 502)
        return web.Response(status=edge.status, text=edge.body, content_type=edge.content_type)
    if fault.answer == "binance" and fault.execute_after_ms is not None and not fault.failing:
        return fault_response(sim, None, None)
    return fault_response(sim, fault.status, fault.code)


def truncated(sim: Sim, outcome: Outcome) -> web.Response:
    """The real answer, cut in half: a 200 (or the real status) whose JSON does not parse."""
    text = truncate(json.dumps(outcome.body, separators=(",", ":")))
    now = sim.clock.now_ms() if outcome.now_ms is None else outcome.now_ms
    used = str(sim.limiter.current(now))
    headers = {"X-MBX-USED-WEIGHT": used, "X-MBX-USED-WEIGHT-1M": used, **outcome.headers}
    return web.Response(status=outcome.status, text=text, content_type="application/json",
                        headers=headers)


async def execute(sim: Sim, endpoint: Endpoint, inc: Incoming, *, hold_ms: int = 0,
                  charge: bool = True) -> Outcome:
    """The pipeline of one request: weight, auth, (hold), third recvWindow check, handler.

    Checks 1-2 of the timestamp run at arrival; the third runs just before the matching engine
    (spec §1.7), so a request held or executed late can still expire. `charge=False` (a late
    execution) skips the request weight, already accounted for when the request arrived.
    """
    try:
        params = Params.parse(inc.raw_query, inc.body)
        if charge:
            sim.limiter.reserve(0 if endpoint.order else endpoint.weight(params), inc.arrived_ms)
        if endpoint.signed:
            authenticate(sim, inc.headers, inc.raw_query, inc.body, params, inc.arrived_ms)
        if sim.strict:
            check_all_read(endpoint, params)
        if hold_ms:
            await _hold(sim, hold_ms)
        now = sim.clock.now_ms()
        before_matching_engine(sim, endpoint, params, now)
        result = run_handler(sim, endpoint, params, now)
        if asyncio.iscoroutine(result):
            result = await result
    except ApiError as err:
        if charge and endpoint.order and err.status < 500 and err.code not in (-1003,):
            sim.limiter.add(1, sim.clock.now_ms())
        retry = {"Retry-After": str(err.retry_after)} if err.retry_after is not None else {}
        return Outcome(err.status, err.body(), retry)
    now = sim.clock.now_ms()
    extra = sim.orders.headers(now) if endpoint.new_order else {}
    return Outcome(200, result, extra, now)


def run_handler(sim: Sim, endpoint: Endpoint, params: Params, now_ms: int) -> Any:
    """Call the handler; a new order is counted first, so a fill while it is placed can
    decrement the count it added, and the count is given back if the order is rejected."""
    if not endpoint.new_order:
        return endpoint.handler(sim, params)
    reservation = sim.orders.reserve(now_ms)
    try:
        return endpoint.handler(sim, params)
    except ApiError:
        sim.orders.release(reservation)
        raise


def check_all_read(endpoint: Endpoint, params: Params) -> None:
    """-1104 when a parameter the endpoint does not read was sent (strict mode)."""
    params.check_all_read(endpoint.reads())


def before_matching_engine(sim: Sim, endpoint: Endpoint, params: Params, now_ms: int) -> None:
    """Binance's third recvWindow check, just before a request reaches the matching engine.

    A new order refused here still counts against the unfilled order count [chg 2025-05-22].
    """
    if not (endpoint.signed and endpoint.order):
        return
    try:
        check_timestamp(params, now_ms)
    except ApiError:
        if endpoint.new_order:
            sim.orders.add(now_ms)
        raise


async def execute_late(sim: Sim, endpoint: Endpoint, inc: Incoming, after_ms: int) -> None:
    """Run a request whose answer was already lost, `after_ms` after it arrived."""
    await asyncio.sleep(after_ms / 1000)
    try:
        outcome = await execute(sim, endpoint, inc, charge=False)
    except Exception:  # a background task has nobody to report to but the log
        log.exception("fault.late_execution_crashed", path=inc.path, method=inc.method)
        return
    body = outcome.body if isinstance(outcome.body, dict) else {}
    log.info("fault.late_execution", path=inc.path, method=inc.method,
             executed=outcome.status == 200, status=outcome.status, code=body.get("code"),
             order_id=body.get("orderId"), client_order_id=body.get("clientOrderId"))


async def _hold(sim: Sim, ms: int) -> None:
    sim.faults.held += 1
    try:
        await asyncio.sleep(ms / 1000)
    finally:
        sim.faults.held -= 1


async def _pause(ms: int) -> None:
    if ms:
        await asyncio.sleep(ms / 1000)


_background: set[asyncio.Task[None]] = set()


def _spawn(coro: Coroutine[Any, Any, None]) -> None:
    task = asyncio.get_running_loop().create_task(coro)
    _background.add(task)
    task.add_done_callback(_background.discard)


async def cancel_background() -> None:
    """Drop late executions still pending (server shutdown)."""
    tasks = list(_background)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def render(sim: Sim, outcome: Outcome) -> web.Response:
    return json_response(sim, outcome.status, outcome.body, outcome.headers, outcome.now_ms)


def fault_response(sim: Sim, status: int | None, code: int | None) -> web.Response:
    """The injected failure: Binance-like 5xx (unknown outcome) or a given code."""
    if code is None:
        code = -1008 if status == 503 else -1001
    if status is None:
        status = 503 if code == -1008 else 500
    msg = FAULT_MESSAGES.get(code, "An unknown error occurred while processing the request.")
    return json_response(sim, status, {"code": code, "msg": msg})
