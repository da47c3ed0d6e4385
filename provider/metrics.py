"""Prometheus metrics, collected at the boundaries the provider owns, served on an optional port.

Three sources, none of which needs the client or the order-book code to know about Prometheus:

- `MetricsInterceptor` (a `grpc.aio` server interceptor): latency and status code of every unary RPC,
  labelled by gRPC method and, for tools, the tool name (`provider.v1.Provider/InvokeTool` included).
  Streaming RPCs (resource updates, health Watch, reflection) pass through untimed: their duration is
  a subscription's lifetime, not a latency.
- `MeteredTransport` wraps the REST transport the Binance client sends through: requests by endpoint
  path and HTTP status (or the transport failure's kind), and their latency.
- `HealthCollector` reads `BinanceClient.health()` and `OrderBookManager.book_health()` at scrape time
  (request weight, clock offset, bans, books per state, resyncs, reconnects, stream message rates).
  Per-symbol counts die with an evicted symbol, so `CountAccumulator` folds them into totals that
  only grow, as Prometheus counters must.

Each `Metrics` has its own `CollectorRegistry` (nothing global, so tests and several providers in one
process do not share series). `MetricsServer` serves `/metrics` from an aiohttp app on the event loop,
so scrapes read the live objects on their own thread.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import grpc
import structlog
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

from provider.binance.transport import RestRequest, RestResponse, RestTransport
from provider.catalog.tools import tool_specs
from provider.errors import ProviderError

if TYPE_CHECKING:
    from provider.app import App
    from provider.orderbook.health import BooksHealth

__all__ = [
    "CountAccumulator",
    "HealthCollector",
    "MeteredTransport",
    "Metrics",
    "MetricsInterceptor",
    "MetricsServer",
]

log = structlog.get_logger("provider.metrics")

if TYPE_CHECKING:  # grpc ships no type information; mypy would see the base class as Any
    _ServerInterceptor = object
else:
    _ServerInterceptor = grpc.aio.ServerInterceptor

INVOKE_TOOL = "/provider.v1.Provider/InvokeTool"
#: RPC latency buckets (seconds): tools answer from memory in ~1 ms and from the exchange in 10-1000 ms.
RPC_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The provider's metric objects in one dedicated registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.rpc_duration = Histogram(
            "provider_rpc_duration_seconds", "Latency of unary gRPC calls served by the provider.",
            ["method", "tool"], buckets=RPC_BUCKETS, registry=self.registry,
        )
        self.rpc_total = Counter(
            "provider_rpc", "Unary gRPC calls served, by final status code.",
            ["method", "tool", "code"], registry=self.registry,
        )
        self.exchange_requests = Counter(
            "provider_exchange_requests", "REST requests sent to the exchange, by HTTP status or failure kind.",
            ["endpoint", "method", "status"], registry=self.registry,
        )
        self.exchange_duration = Histogram(
            "provider_exchange_request_duration_seconds", "Latency of REST requests to the exchange.",
            ["endpoint"], buckets=RPC_BUCKETS, registry=self.registry,
        )

    def bind(self, app: App) -> None:
        """Adds the scrape-time collector over the app's client and order books."""
        books = app.books.book_health if app.books is not None else None
        self.registry.register(HealthCollector(lambda: app.client.health().to_dict(), books))

    def render(self) -> bytes:
        """The text exposition format of everything in the registry."""
        return generate_latest(self.registry)


# -- gRPC --------------------------------------------------------------------------------------


def _tool_label(method: str, request: Any) -> str:
    """The tool a call runs ("" for non-tool RPCs); unknown InvokeTool names collapse to one label."""
    specs = tool_specs()
    if method == INVOKE_TOOL:
        name = getattr(request, "name", "")
        return name if name in specs else "unknown"
    for spec in specs.values():
        if spec.grpc_method == method:
            return spec.name
    return ""


class MetricsInterceptor(_ServerInterceptor):
    """Times unary RPCs and counts them by status code (an abort's code, UNKNOWN for a crash)."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        method = handler_call_details.method
        behavior = handler.unary_unary
        metrics = self._metrics

        async def observed(request: Any, context: grpc.aio.ServicerContext) -> Any:
            started = time.perf_counter()
            code = "UNKNOWN"
            try:
                response = behavior(request, context)
                if inspect.isawaitable(response):
                    response = await response
                code = _code_name(context.code(), "OK")
                return response
            except grpc.aio.AbortError:
                code = _code_name(context.code(), "UNKNOWN")
                raise
            except BaseException as exc:  # CancelledError included: the client went away
                code = "CANCELLED" if type(exc).__name__ == "CancelledError" else "UNKNOWN"
                raise
            finally:
                tool = _tool_label(method, request)
                metrics.rpc_duration.labels(method, tool).observe(time.perf_counter() - started)
                metrics.rpc_total.labels(method, tool, code).inc()

        return grpc.unary_unary_rpc_method_handler(
            observed,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def _code_name(code: Any, default: str) -> str:
    if isinstance(code, grpc.StatusCode):
        return str(code.name)
    if isinstance(code, int):  # some grpc versions keep the raw integer
        for status in grpc.StatusCode:
            if status.value[0] == code:
                return str(status.name)
    return default


# -- exchange REST -----------------------------------------------------------------------------


class MeteredTransport:
    """A `RestTransport` that counts and times what it forwards to the real one.

    Labels use the request's path (a fixed set: Binance's endpoints), never its query, which holds
    parameters and signatures.
    """

    def __init__(self, inner: RestTransport, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics

    async def send(self, request: RestRequest) -> RestResponse:
        started = time.perf_counter()
        status = "error"
        try:
            response = await self._inner.send(request)
            status = str(response.status)
            return response
        except ProviderError as exc:
            status = exc.kind
            raise
        finally:
            self._metrics.exchange_requests.labels(request.path, request.method, status).inc()
            self._metrics.exchange_duration.labels(request.path).observe(time.perf_counter() - started)

    async def close(self) -> None:
        await self._inner.close()


# -- scrape-time health ------------------------------------------------------------------------


class CountAccumulator:
    """Turns per-key counts that may vanish or restart (an evicted, re-added symbol) into a total.

    `update({key: count})` adds each key's growth since the last update; a count lower than before
    means the key started again from zero, so all of it is new.
    """

    def __init__(self) -> None:
        self.total = 0
        self._last: dict[str, int] = {}

    def update(self, counts: Mapping[str, int]) -> int:
        for key, value in counts.items():
            previous = self._last.get(key, 0)
            self.total += value - previous if value >= previous else value
        self._last = dict(counts)
        return self.total


class HealthCollector(Collector):
    """Reads the exchange client's `health()` and the order-book manager's `book_health()` at scrape time."""

    def __init__(
        self,
        client_health: Callable[[], Mapping[str, Any]],
        books_health: Callable[[], BooksHealth] | None = None,
    ) -> None:
        self._client_health = client_health
        self._books_health = books_health
        self._resyncs = CountAccumulator()

    def describe(self) -> Iterable[Metric]:
        return []  # families depend on live state; nothing to pre-register

    def collect(self) -> Iterator[Metric]:
        yield from self._client(self._client_health())
        if self._books_health is not None:
            yield from self._books(self._books_health())

    def _client(self, h: Mapping[str, Any]) -> Iterator[Metric]:
        env = str(h.get("environment", ""))
        yield _gauge("binance_used_weight", "Request weight used in the current window (governor's view).",
                     h.get("used_weight"), env)
        yield _gauge("binance_weight_limit", "Request weight limit per window (from exchangeInfo).",
                     h.get("weight_limit"), env)
        if h.get("last_used_weight_header") is not None:
            yield _gauge("binance_used_weight_header", "Last X-MBX-USED-WEIGHT-1M the exchange reported.",
                         h["last_used_weight_header"], env)
        if h.get("clock_offset_ms") is not None:
            yield _gauge("binance_clock_offset_ms", "Exchange time minus local time, last measurement (ms).",
                         h["clock_offset_ms"], env)
        yield _gauge("binance_rate_limited", "1 while the exchange asked us to back off (429).",
                     1 if h.get("rate_limited_until") else 0, env)
        yield _gauge("binance_banned", "1 while the IP is banned (418).", 1 if h.get("banned_until") else 0, env)
        sent = CounterMetricFamily("binance_client_requests", "REST requests the client sent (incl. retries).",
                                   labels=["environment"])
        sent.add_metric([env], float(h.get("requests_sent") or 0))
        yield sent
        coalesced = CounterMetricFamily("binance_client_coalesced_requests",
                                        "Identical concurrent reads answered by one request.", labels=["environment"])
        coalesced.add_metric([env], float(h.get("requests_coalesced") or 0))
        yield coalesced

    def _books(self, h: BooksHealth) -> Iterator[Metric]:
        symbols = h.symbols
        tracked = GaugeMetricFamily("provider_orderbook_books", "Order books tracked, by sync state.",
                                    labels=["state"])
        states: dict[str, int] = {}
        for sym in symbols.values():
            states[sym.state] = states.get(sym.state, 0) + 1
        for state, count in sorted(states.items()):
            tracked.add_metric([state], count)
        yield tracked
        yield GaugeMetricFamily("provider_orderbook_books_tracked", "Order books tracked (all states).",
                                value=len(symbols))
        yield GaugeMetricFamily("provider_orderbook_connected", "1 while the stream connection is open.",
                                value=1 if h.connected else 0)
        yield GaugeMetricFamily("provider_orderbook_streams", "Streams subscribed on the connection.",
                                value=float(h.streams))
        resyncs = self._resyncs.update({k: v.resync_count for k, v in symbols.items()})
        yield CounterMetricFamily("provider_orderbook_resyncs", "Book resyncs (gaps, drops, stalls), all symbols.",
                                  value=resyncs)
        yield CounterMetricFamily("provider_orderbook_reconnects", "Stream reconnects after a failure.",
                                  value=float(h.reconnects))
        yield CounterMetricFamily("provider_orderbook_renewals", "Planned stream connection renewals.",
                                  value=float(h.renewals))
        rates = GaugeMetricFamily("provider_orderbook_stream_messages_per_second",
                                  "Depth stream messages per second, by symbol.", labels=["symbol"])
        for name, sym in sorted(symbols.items()):
            rates.add_metric([name], sym.messages_per_s)
        yield rates


def _gauge(name: str, doc: str, value: Any, environment: str) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=["environment"])
    family.add_metric([environment], float(value or 0))
    return family


# -- HTTP --------------------------------------------------------------------------------------


class MetricsServer:
    """`GET /metrics` on an aiohttp site in the provider's event loop; `start` returns the bound port."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._runner: web.AppRunner | None = None

    async def _scrape(self, request: web.Request) -> web.Response:
        body = self._metrics.render()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def start(self, listen: str) -> int:
        host, _, port = listen.rpartition(":")
        app = web.Application()
        app.router.add_get("/metrics", self._scrape)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host.strip("[]"), int(port))
        await site.start()
        server = site._server  # aiohttp exposes the bound sockets only here
        sockets = getattr(server, "sockets", None) or ()
        bound = int(sockets[0].getsockname()[1]) if sockets else int(port)
        log.info("metrics_serving", listen=f"{host}:{bound}")
        return bound

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
