"""``BinanceClient``: the facade the provider's services call for every REST request.

It composes the rooms of this package and adds the policies that need all of them:

- every call goes through the shared weight governor (``governor.py``) before it is sent;
- SIGNED calls carry a server-corrected timestamp (``clock.py``) and a signature (``auth.py``);
  the clock is measured at start, re-measured when stale and after any -1021;
- concurrent identical public reads share one request (``singleflight.py``);
- reads are retried at most once on safe errors (``retry.py``); mutating calls never are, and a
  timeout / 5xx / -1007 on one raises :class:`~provider.errors.ExecutionUnknown` carrying the
  client order id, which the caller reconciles;
- exchangeInfo is cached as :class:`~provider.binance.rules.ExchangeRules`.

Results are :class:`BinanceResult`: the parsed JSON exactly as Binance sent it, plus metadata
(environment name, used weight, exchange time). Secrets never reach logs or errors: only the
path, status, weight and timing of a request are logged.
"""

from __future__ import annotations

import asyncio
import contextvars
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, TypeGuard

import structlog

from provider.binance.auth import (
    Ed25519Signer,
    HmacSigner,
    ParamValue,
    Signer,
    encode_params,
    sign,
)
from provider.binance.client_health import ClientHealth, ExchangeFailure
from provider.binance.clock import ClockOffset
from provider.binance.constants import ENDPOINTS, KLINE_INTERVALS, NEW_ORDER_ENDPOINTS, Endpoint, weight_of
from provider.binance.environment import Environment
from provider.binance.governor import AsyncGovernor, WeightGovernor
from provider.binance.order_limits import OrderRateLimiter, order_limits_from
from provider.binance.retry import Reconcile, Retry, classify
from provider.binance.rules import ExchangeRules, SymbolRules
from provider.binance.singleflight import SingleFlight
from provider.binance.transport import (
    AiohttpTransport,
    RestRequest,
    RestResponse,
    RestTransport,
    TransportConfig,
)
from provider.errors import (
    ExchangeTimeout,
    ExchangeUnavailable,
    ExchangeUnreachable,
    ExecutionUnknown,
    FailedPrecondition,
    InvalidArgument,
    IpBanned,
    NotFound,
    OrderRateLimited,
    ProviderError,
    RateLimited,
    TimestampRejected,
    Unauthenticated,
    UnexpectedResponse,
    UnknownSymbol,
    from_binance,
)

__all__ = ["BinanceClient", "BinanceResult", "ClientConfig", "ResponseMeta", "new_client_order_id"]

#: set while a priority call (an order-book snapshot) runs; read where weight is reserved.
_PRIORITY: contextvars.ContextVar[bool] = contextvars.ContextVar("binance_priority_call", default=False)
#: set while the rules are re-read after a lowered limit (governor rule 6): never refused as too heavy.
_REREAD: contextvars.ContextVar[bool] = contextvars.ContextVar("binance_rules_reread", default=False)
_CALLER_MISTAKES = (InvalidArgument, NotFound, FailedPrecondition)
_EXCHANGE_TIME_FIELDS = ("transactTime", "serverTime", "updateTime", "closeTime", "time")


@dataclass(frozen=True)
class ResponseMeta:
    """What came with an answer besides its JSON.

    Attributes:
        environment: name of the environment that answered ("mainnet", "testnet", "sandbox").
        endpoint: our endpoint name, e.g. "depth".
        used_weight_1m: ``X-MBX-USED-WEIGHT-1M`` after this call (None if absent).
        order_count: ``X-MBX-ORDER-COUNT-*`` headers, e.g. ``{"10s": 1, "1d": 7}``.
        exchange_time_ms: a time the exchange stamped on the payload (transactTime, serverTime,
            updateTime or closeTime), if any.
        received_at_ms: server-clock time (local clock + offset) when the answer arrived.
        latency_ms: round trip of the HTTP request.
        coalesced: True if this caller shared another caller's identical in-flight request.
    """

    environment: str
    endpoint: str
    used_weight_1m: int | None
    order_count: Mapping[str, int]
    exchange_time_ms: int | None
    received_at_ms: int
    latency_ms: float
    coalesced: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "environment": self.environment, "endpoint": self.endpoint,
            "used_weight_1m": self.used_weight_1m, "order_count": dict(self.order_count),
            "exchange_time_ms": self.exchange_time_ms, "received_at_ms": self.received_at_ms,
            "latency_ms": round(self.latency_ms, 3), "coalesced": self.coalesced,
        }


@dataclass(frozen=True)
class BinanceResult:
    """Parsed JSON exactly as Binance returned it (dicts/lists, decimal strings) plus metadata."""

    data: Any
    meta: ResponseMeta


@dataclass(frozen=True)
class ClientConfig:
    """Tunables of :class:`BinanceClient` (all have production defaults).

    Attributes:
        recv_window_ms: recvWindow sent with SIGNED calls (spec §1.7, max 60000).
        clock_refresh_s: re-measure the server-time offset this often (checked lazily).
        exchange_info_ttl_s: refresh cached exchangeInfo when older than this.
        weight_headroom: fraction of the weight limit the governor leaves unused.
        priority_share: fraction of the weight budget only order-book snapshots may use.
        max_weight_wait_s: longest the governor waits before refusing a call.
        transport: HTTP timeouts and pool size.
    """

    recv_window_ms: int = 5000
    clock_refresh_s: float = 300.0
    exchange_info_ttl_s: float = 900.0
    weight_headroom: float = 0.1
    priority_share: float = 0.1
    max_weight_wait_s: float = 2.0
    transport: TransportConfig = field(default_factory=TransportConfig)


def new_client_order_id() -> str:
    """A fresh client order id: ``mcp-`` and 20 random hex digits (Binance allows 36 of ``[a-zA-Z0-9-_]``)."""
    return "mcp-" + secrets.token_hex(10)


class BinanceClient:
    """Async REST client for one environment; create with :meth:`create`, end with :meth:`close`.

    Use one instance per process and environment: the weight governor and the request
    coalescing only work if every caller shares it.
    """

    def __init__(
        self,
        env: Environment,
        transport: RestTransport,
        *,
        api_key: str | None = None,
        signer: Signer | None = None,
        config: ClientConfig | None = None,
        logger: Any = None,
        wall_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
        monotonic: Callable[[], float] = time.monotonic,
        client_order_id: Callable[[], str] = new_client_order_id,
    ) -> None:
        self.env = env
        self.config = config or ClientConfig()
        self._transport = transport
        self._api_key = api_key
        self._signer = signer
        self._wall_ms = wall_ms
        self._monotonic = monotonic
        self._new_client_order_id = client_order_id
        self._log = (logger or structlog.get_logger("provider.binance")).bind(
            environment=env.name)
        self.clock = ClockOffset(refresh_interval_ms=int(self.config.clock_refresh_s * 1000))
        self.governor = WeightGovernor(headroom=self.config.weight_headroom,
                                       max_wait_s=self.config.max_weight_wait_s,
                                       priority_share=self.config.priority_share)
        self._gov = AsyncGovernor(self.governor, self._server_now_s)
        self.order_limits = OrderRateLimiter()
        self._reads: SingleFlight[BinanceResult] = SingleFlight()
        self._rules: ExchangeRules | None = None
        self._rules_at: float | None = None  # monotonic
        self._last_error: ExchangeFailure | None = None
        self._last_ok_ms: int | None = None
        self._sent = 0
        self._coalesced = 0
        self._rules_task: asyncio.Task[None] | None = None

    # -- lifecycle ---------------------------------------------------------------------
    @classmethod
    async def create(
        cls,
        env: Environment,
        api_key: str | None = None,
        api_secret: str | None = None,
        private_key_pem: bytes | None = None,
        *,
        recv_window_ms: int = 5000,
        logger: Any = None,
        config: ClientConfig | None = None,
        transport: RestTransport | None = None,
    ) -> BinanceClient:
        """Build a client, measure the clock offset and load exchangeInfo.

        Credentials: ``api_key`` plus either ``private_key_pem`` (Ed25519, preferred) or
        ``api_secret`` (HMAC). Without them only public calls work. An unreachable exchange does
        not fail creation: it is logged and shown by :meth:`health`, and retried on first use.

        Raises:
            ValueError: a secret without a key, or a private key that is not Ed25519.
        """
        signer: Signer | None = None
        if private_key_pem:
            signer = Ed25519Signer.from_pem(private_key_pem)
        elif api_secret:
            signer = HmacSigner(api_secret)
        if signer is not None and not api_key:
            raise ValueError("an API secret or private key needs its API key")
        config = replace(config or ClientConfig(), recv_window_ms=recv_window_ms)
        if not 0 < recv_window_ms <= 60000:
            raise ValueError("recv_window_ms must be in 1..60000")
        client = cls(env, transport or AiohttpTransport(env.rest_url, config.transport),
                     api_key=api_key, signer=signer, config=config, logger=logger)
        client._log.info("binance_client_start", rest_url=env.rest_url, ws_url=env.ws_url,
                         credentials=client.credentials_kind)
        try:
            await client.sync_clock()
            await client.refresh_exchange_info()
        except ProviderError as exc:
            client._log.warning("binance_client_start_degraded", kind=exc.kind,
                                error=exc.message)
        return client

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._rules_task is not None:
            self._rules_task.cancel()
        await self._transport.close()

    async def __aenter__(self) -> BinanceClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def credentials_kind(self) -> str:
        """"ed25519", "hmac" or "none" (never the key itself)."""
        if self._signer is None:
            return "none"
        return "ed25519" if isinstance(self._signer, Ed25519Signer) else "hmac"

    # -- time ------------------------------------------------------------------------------
    def _server_now_ms(self) -> int:
        return self.clock.server_now_ms(self._wall_ms())

    def _server_now_s(self) -> float:
        return self._server_now_ms() / 1000.0

    def server_now_ms(self) -> int:
        """The exchange's clock as we estimate it (local clock + measured offset)."""
        return self._server_now_ms()

    def use_governor(self, governor: AsyncGovernor) -> None:
        """Reserve weight through ``governor`` (on this client's cores): replicas share one budget per IP
        through Redis (``provider/shared/budgets.py``)."""
        self._gov = governor

    def clock_error_ms(self) -> int:
        """How far :meth:`server_now_ms` may be off: the last measurement's round trip (1 s if none)."""
        sample = self.clock.sample
        return int(sample.rtt_ms) if sample is not None else 1000

    async def sync_clock(self) -> int:
        """Measure the server-time offset now (``GET /api/v3/time``, midpoint of the RTT).

        Returns the offset in ms (server minus local).
        """
        async def measure() -> BinanceResult:
            sent = self._wall_ms()
            result = await self._once(ENDPOINTS["time"], {})
            sample = self.clock.update(int(result.data["serverTime"]), sent, self._wall_ms())
            self._log.info("clock_offset", offset_ms=sample.offset_ms, rtt_ms=sample.rtt_ms)
            return result

        await self._reads.do(("clock",), measure)
        return self.clock.offset_ms

    async def _ensure_clock(self) -> None:
        if not self.clock.is_due(self._wall_ms()):
            return
        try:
            await self.sync_clock()
        except ProviderError:
            if self.clock.sample is None:
                raise
            # keep the previous offset; a stale one beats none, and -1021 re-measures anyway

    # -- the request pipeline ------------------------------------------------------------
    async def _call(self, name: str, params: Mapping[str, ParamValue | None],
                    *, client_order_id: str | None = None) -> BinanceResult:
        endpoint = ENDPOINTS[name]
        clean = {k: v for k, v in params.items() if v is not None}
        try:
            if endpoint.method == "GET" and not endpoint.signed:
                key = (endpoint.path, encode_params(clean))
                result, joined = await self._reads.do(
                    key, lambda: self._with_retry(endpoint, clean, None))
                if joined:
                    self._coalesced += 1
                    return BinanceResult(result.data, replace(result.meta, coalesced=True))
                return result
            return await self._with_retry(endpoint, clean, client_order_id)
        except ProviderError as exc:
            if not isinstance(exc, _CALLER_MISTAKES):  # health shows exchange trouble, not typos
                self._last_error = ExchangeFailure(exc.kind, name, exc.message, exc.binance_code, self._wall_ms())
            if isinstance(exc, UnknownSymbol):
                enriched = self._with_suggestions(exc, clean.get("symbol"))
                if enriched is not exc:
                    raise enriched from exc
            raise

    def _with_suggestions(self, exc: UnknownSymbol, symbol: object) -> UnknownSymbol:
        if exc.suggestions or self._rules is None or not isinstance(symbol, str):
            return exc
        suggestions = self._rules.suggest(symbol)
        if not suggestions:
            return exc
        return UnknownSymbol(
            f"{exc.message}; did you mean {' or '.join(suggestions)}?",
            suggestions=suggestions, binance_code=exc.binance_code,
            binance_msg=exc.binance_msg)

    async def _with_retry(self, endpoint: Endpoint, params: Mapping[str, ParamValue],
                          client_order_id: str | None) -> BinanceResult:
        attempt = 1
        while True:
            try:
                return await self._once(endpoint, params)
            except ProviderError as exc:
                if isinstance(exc, TimestampRejected):
                    self.clock.invalidate()
                if isinstance(exc, ExecutionUnknown) and client_order_id is not None:
                    exc.client_order_id = client_order_id
                    exc.symbol = str(params.get("symbol"))
                decision = classify(exc, idempotent=not endpoint.mutating, attempt=attempt)
                self._log.info("binance_call_failed", endpoint=endpoint.name, kind=exc.kind,
                               binance_code=exc.binance_code, attempt=attempt,
                               decision=type(decision).__name__)
                if not isinstance(decision, Retry):
                    if isinstance(decision, Reconcile):
                        self._log.warning("execution_unknown", endpoint=endpoint.name,
                                          client_order_id=client_order_id)
                    raise
                if decision.resync_clock:
                    await self.sync_clock()
                if decision.delay_s:
                    await asyncio.sleep(decision.delay_s)
                attempt += 1

    def _require_credentials(self, endpoint: Endpoint) -> tuple[Signer, str]:
        if self._signer is None or not self._api_key:
            raise Unauthenticated(
                f"{endpoint.name} needs API credentials, and none are configured for "
                f"{self.env.name}")
        return self._signer, self._api_key

    def ws_api_credentials(self) -> tuple[str, Signer]:
        """The API key and signer, for the WebSocket API's signed requests (the user data stream).

        Raises:
            Unauthenticated: no key is configured.
        """
        if self._signer is None or not self._api_key:
            raise Unauthenticated(f"the user data stream needs API credentials, and none are configured for "
                                  f"{self.env.name}")
        return self._api_key, self._signer

    def _build(self, endpoint: Endpoint, params: Mapping[str, ParamValue]) -> tuple[RestRequest, int | None]:
        """The request, and the ``timestamp`` it was signed with (None for unsigned calls)."""
        if not endpoint.signed:
            return RestRequest(endpoint.method, endpoint.path, encode_params(params)), None
        signer, api_key = self._require_credentials(endpoint)
        timestamp = self._server_now_ms()
        signed = sign(params, signer, timestamp, self.config.recv_window_ms)
        request = RestRequest(
            endpoint.method, endpoint.path, signed.query, headers={"X-MBX-APIKEY": api_key}, mutating=endpoint.mutating
        )
        return request, timestamp

    def _maybe_refresh_rules(self) -> None:
        """Re-read exchangeInfo in the background when the weight limit may have changed
        (governor rule 6: a limit learned from a -1003, or one below the usual)."""
        if self._rules_task is not None and not self._rules_task.done():
            return
        if self.governor.rules_refresh_due(self._server_now_s()):
            self._rules_task = asyncio.get_running_loop().create_task(self._refresh_rules_quietly())

    async def _refresh_rules_quietly(self) -> None:
        _PRIORITY.set(True)  # this task's own context: under a lowered limit, the call that gives the budget back
        _REREAD.set(True)
        try:
            await self.refresh_exchange_info()
            self._log.info("weight_limit_reread", limit=self.governor.limit)
        except ProviderError as exc:
            self.governor.rules_refresh_failed(self._server_now_s())
            self._log.warning("weight_limit_reread_failed", kind=exc.kind, error=exc.message)

    async def _once(self, endpoint: Endpoint, params: Mapping[str, ParamValue]) -> BinanceResult:
        if endpoint.name != "exchange_info":
            self._maybe_refresh_rules()
        if endpoint.signed:
            self._require_credentials(endpoint)
            await self._ensure_clock()
        weight = weight_of(endpoint, params)
        sent_at = await self._gov.acquire(weight, priority=_PRIORITY.get(), rules_reread=_REREAD.get())
        request, timestamp = self._build(endpoint, params)
        started = self._monotonic()
        try:
            try:
                self._sent += 1
                response = await self._transport.send(request)
            except asyncio.CancelledError:  # a caller's bound or deadline cut it: in flight no more (its weight
                self.governor.release(weight)  # stays counted); else rule 7 waits for an in-flight 0 for good
                raise
            except ProviderError as exc:
                self.governor.release(weight)
                if endpoint.mutating and isinstance(exc, (ExchangeTimeout, ExchangeUnavailable)) \
                        and not isinstance(exc, ExchangeUnreachable):
                    raise ExecutionUnknown(
                        f"{endpoint.name}: {exc.message}; the order may have been executed"
                    ) from exc
                raise
            latency_ms = (self._monotonic() - started) * 1000
            return self._receive(endpoint, weight, sent_at, response, latency_ms)
        except ExecutionUnknown as exc:
            exc.request_timestamp_ms = timestamp
            raise

    def _receive(self, endpoint: Endpoint, weight: int, sent_at: float, response: RestResponse,
                 latency_ms: float) -> BinanceResult:
        now_s = self._server_now_s()
        used = _int_header(response, "x-mbx-used-weight-1m")
        if used is None:
            used = _int_header(response, "x-mbx-used-weight")
        self.governor.observe(weight, used, sent_at, now_s)
        self._log.debug("binance_call", endpoint=endpoint.name, status=response.status,
                        weight=weight, used_weight=used, latency_ms=round(latency_ms, 1))
        if response.status != 200 and not _answers_outcome(endpoint, response):
            raise self._error(endpoint, response, now_s)
        self._last_ok_ms = self._wall_ms()
        if endpoint.name in NEW_ORDER_ENDPOINTS:
            self.order_limits.observe(_order_counts(response), now_s)
        try:
            data = response.json()
        except UnexpectedResponse as exc:
            if endpoint.mutating:
                raise ExecutionUnknown(f"{endpoint.name}: {exc.message}") from exc
            raise ExchangeUnavailable(f"{endpoint.name}: {exc.message}") from exc
        meta = ResponseMeta(
            environment=self.env.name, endpoint=endpoint.name, used_weight_1m=used,
            order_count=_order_counts(response), exchange_time_ms=_exchange_time(data),
            received_at_ms=int(now_s * 1000), latency_ms=latency_ms)
        return BinanceResult(data, meta)

    def _error(self, endpoint: Endpoint, response: RestResponse, now_s: float) -> ProviderError:
        code: int | None = None
        msg: str | None = None
        try:
            body = response.json()
            if isinstance(body, dict):
                code = int(body["code"]) if "code" in body else None
                msg = str(body["msg"])[:500] if "msg" in body else None
        except (UnexpectedResponse, ValueError, TypeError):
            msg = f"HTTP {response.status} with {response.body_kind()}"
        retry_after = _float_header(response, "retry-after")
        err = from_binance(response.status, code, msg, mutating=endpoint.mutating,
                           retry_after_s=retry_after, now_s=now_s)
        return self._refused(err, endpoint.name, retry_after, msg, now_s)

    def _refused(self, err: ProviderError, name: str, retry_after: float | None, msg: str | None,
                 now_s: float) -> ProviderError:
        """``err``, named after the call the exchange refused, once every later call is made to wait out
        the ban or rate limit it stands for."""
        err.message = f"{name}: {err.message}"
        err.args = (err.message,)
        if isinstance(err, IpBanned):
            self.governor.on_banned(retry_after, now_s)
        elif isinstance(err, OrderRateLimited):  # the account's order count, not the IP's weight
            self.order_limits.on_rejected(retry_after, msg, now_s)
        elif isinstance(err, RateLimited):  # 429, and a WAF block: every call waits
            self.governor.on_rate_limited(err.retry_after_s, now_s, msg)
        return err

    def ws_api_refusal(self, method: str, status: int, error: Mapping[str, Any]) -> ProviderError:
        """The error a WebSocket API answer (``{"code", "msg", "data"}``) stands for.

        The WebSocket API counts request weight against the same IP limit as REST, so a 429 or 418
        there holds REST calls too; its ``data.retryAfter`` (epoch ms) is when to try again.
        """
        now_s = self._server_now_s()
        code = error.get("code")
        msg = str(error.get("msg", ""))[:500] or None
        data = error.get("data")
        retry_after: float | None = None
        if isinstance(data, Mapping) and _is_int(data.get("retryAfter")):
            answered_ms = data.get("serverTime")
            answered_s = answered_ms / 1000 if _is_int(answered_ms) else now_s
            retry_after = max(0.0, data["retryAfter"] / 1000 - answered_s)
        err = self._refused(from_binance(status, code if _is_int(code) else None, msg, mutating=False,
                                         retry_after_s=retry_after, now_s=now_s), method, retry_after, msg, now_s)
        if isinstance(err, RateLimited) and err.retry_after_s is None:
            # no data.retryAfter: the stream waits out the hold just put on REST (the governor does not gate it)
            held = self.governor.snapshot(now_s)
            until = max(held.get("rate_limited_until") or 0.0, held.get("banned_until") or 0.0)
            err.retry_after_s = until - now_s if until > now_s else None
        return err

    # -- exchangeInfo and rules ----------------------------------------------------------
    async def refresh_exchange_info(self) -> ExchangeRules:
        """Reload the full exchangeInfo into the rules cache and adopt its weight limit."""
        async def load() -> BinanceResult:
            result = await self._call("exchange_info", {})
            self._store_rules(result.data)
            return result

        await self._reads.do(("exchange_info_refresh",), load)
        assert self._rules is not None
        return self._rules

    def _store_rules(self, info: Mapping[str, Any]) -> None:
        try:
            rules = ExchangeRules.from_exchange_info(info, environment=self.env.name)
        except ValueError as exc:  # a malformed symbol entry: the exchange's fault, not ours (nor INTERNAL)
            raise UnexpectedResponse(f"exchangeInfo could not be read: {str(exc)[:300]}") from exc
        self._rules, self._rules_at = rules, self._monotonic()
        limit = rules.request_weight_limit()
        if limit is not None:
            self.governor.set_limit(*limit)
        self.order_limits.set_limits(order_limits_from(rules.rate_limits))

    async def exchange_rules(self) -> ExchangeRules:
        """The cached exchangeInfo rules, refreshed if older than ``exchange_info_ttl_s``."""
        if self._rules is None or self._rules_at is None or \
                self._monotonic() - self._rules_at > self.config.exchange_info_ttl_s:
            return await self.refresh_exchange_info()
        return self._rules

    async def rules(self, symbol: str) -> SymbolRules:
        """Trading rules of ``symbol`` (any case) from the cache.

        An unknown symbol triggers one refresh (it may be newly listed) if the cache is over a
        minute old.

        Raises:
            UnknownSymbol: not listed; ``suggestions`` names near misses.
        """
        rules = await self.exchange_rules()
        if symbol not in rules and self._rules_at is not None \
                and self._monotonic() - self._rules_at > 60:
            rules = await self.refresh_exchange_info()
        return rules.get(symbol)

    # -- public market data (security NONE) ----------------------------------------------
    async def ping(self) -> BinanceResult:
        """``GET /api/v3/ping`` -> ``{}``."""
        return await self._call("ping", {})

    async def server_time(self) -> BinanceResult:
        """``GET /api/v3/time`` -> ``{"serverTime": ms}``."""
        return await self._call("time", {})

    async def exchange_info(self, symbols: Sequence[str] | None = None) -> BinanceResult:
        """``GET /api/v3/exchangeInfo`` for all symbols, or the listed ones (cache updated)."""
        params: dict[str, ParamValue | None] = {}
        if symbols:
            norm = [_symbol(s) for s in symbols]
            params = {"symbol": norm[0]} if len(norm) == 1 else {"symbols": norm}
        result = await self._call("exchange_info", params)
        if not symbols:
            self._store_rules(result.data)
        return result

    async def depth(self, symbol: str, limit: int | None = None) -> BinanceResult:
        """``GET /api/v3/depth``: ``{"lastUpdateId", "bids": [[p, q]], "asks": [[p, q]]}``."""
        if limit is not None and not 1 <= limit <= 5000:
            raise InvalidArgument(f"depth limit must be 1..5000, got {limit}")
        return await self._call("depth", {"symbol": _symbol(symbol), "limit": limit})

    async def depth_snapshot(self, symbol: str, limit: int = 1000) -> dict[str, Any]:
        """The depth payload alone (for the order-book sync): ``{"lastUpdateId","bids","asks"}``.

        A priority call: it may use the slice of the weight budget that tool calls cannot, so the
        live books keep healing when tools have used up the rest.
        """
        token = _PRIORITY.set(True)
        try:
            result = await self.depth(symbol, limit)
        finally:
            _PRIORITY.reset(token)
        data: dict[str, Any] = result.data
        return data

    async def trades(self, symbol: str, limit: int | None = None) -> BinanceResult:
        """``GET /api/v3/trades``: recent trades, oldest first."""
        _check_limit(limit, 1000)
        return await self._call("trades", {"symbol": _symbol(symbol), "limit": limit})

    async def klines(self, symbol: str, interval: str, start_time: int | None = None,
                     end_time: int | None = None, limit: int | None = None,
                     time_zone: str | None = None) -> BinanceResult:
        """``GET /api/v3/klines``: arrays ``[openTime, open, high, low, close, volume, ...]``."""
        if interval not in KLINE_INTERVALS:
            raise InvalidArgument(
                f"invalid kline interval {interval!r}; use one of "
                f"{' '.join(sorted(KLINE_INTERVALS))}", hint="Intervals are case-sensitive.")
        _check_limit(limit, 1000)
        return await self._call("klines", {
            "symbol": _symbol(symbol), "interval": interval, "startTime": start_time,
            "endTime": end_time, "limit": limit, "timeZone": time_zone})

    async def avg_price(self, symbol: str) -> BinanceResult:
        """``GET /api/v3/avgPrice``: ``{"mins", "price", "closeTime"}``."""
        return await self._call("avg_price", {"symbol": _symbol(symbol)})

    async def reference_price(self, symbol: str) -> BinanceResult:
        """``GET /api/v3/referencePrice``: ``{"symbol", "referencePrice" (null when none), "timestamp"}``."""
        return await self._call("reference_price", {"symbol": _symbol(symbol)})

    async def ticker_24hr(self, symbol: str | None = None, symbols: Sequence[str] | None = None,
                          type: str | None = None) -> BinanceResult:
        """``GET /api/v3/ticker/24hr``: one object for ``symbol``, else a list."""
        return await self._call("ticker_24hr", {**_symbol_params(symbol, symbols),
                                                "type": type})

    async def ticker_price(self, symbol: str | None = None,
                           symbols: Sequence[str] | None = None) -> BinanceResult:
        """``GET /api/v3/ticker/price``: ``{"symbol","price"}`` or a list of them."""
        return await self._call("ticker_price", _symbol_params(symbol, symbols))

    async def book_ticker(self, symbol: str | None = None,
                          symbols: Sequence[str] | None = None) -> BinanceResult:
        """``GET /api/v3/ticker/bookTicker``: best bid/ask with quantities."""
        return await self._call("book_ticker", _symbol_params(symbol, symbols))

    # -- signed: account (USER_DATA) -----------------------------------------------------
    async def account(self, omit_zero_balances: bool = False) -> BinanceResult:
        """``GET /api/v3/account``: commissions, permissions and balances."""
        return await self._call("account", {"omitZeroBalances": omit_zero_balances or None})

    async def my_trades(self, symbol: str, start_time: int | None = None,
                        end_time: int | None = None, from_id: int | None = None,
                        limit: int | None = None, order_id: int | None = None) -> BinanceResult:
        """``GET /api/v3/myTrades``: the account's fills on ``symbol``."""
        _check_limit(limit, 1000)
        return await self._call("my_trades", {
            "symbol": _symbol(symbol), "orderId": order_id, "startTime": start_time,
            "endTime": end_time, "fromId": from_id, "limit": limit})

    async def get_order(self, symbol: str, order_id: int | None = None,
                        orig_client_order_id: str | None = None) -> BinanceResult:
        """``GET /api/v3/order`` by order id or client order id (the reconciliation query)."""
        _one_id(order_id, orig_client_order_id)
        return await self._call("get_order", {
            "symbol": _symbol(symbol), "orderId": order_id,
            "origClientOrderId": orig_client_order_id})

    async def open_orders(self, symbol: str | None = None) -> BinanceResult:
        """``GET /api/v3/openOrders`` for one symbol (weight 6) or all (weight 80)."""
        return await self._call("open_orders",
                                {"symbol": _symbol(symbol) if symbol else None})

    async def all_orders(self, symbol: str, order_id: int | None = None,
                         start_time: int | None = None, end_time: int | None = None,
                         limit: int | None = None) -> BinanceResult:
        """``GET /api/v3/allOrders``: active, cancelled and filled orders on ``symbol``."""
        _check_limit(limit, 1000)
        return await self._call("all_orders", {
            "symbol": _symbol(symbol), "orderId": order_id, "startTime": start_time,
            "endTime": end_time, "limit": limit})

    # -- signed: trading (TRADE) ---------------------------------------------------------
    def _order_params(self, params: Mapping[str, Any]) -> dict[str, ParamValue]:
        out: dict[str, ParamValue] = {}
        for key, value in params.items():
            if value is None:
                continue
            if isinstance(value, float):
                raise InvalidArgument(
                    f"{key} is a float; send prices and quantities as decimal strings",
                    hint="Use strings like '0.001' or decimal.Decimal, never floats.")
            if not isinstance(value, (str, int, Decimal)):
                raise InvalidArgument(f"{key} has unsupported type {type(value).__name__}")
            out[key] = value
        for key in ("symbol", "side", "type"):
            if key not in out:
                raise InvalidArgument(f"new order needs {key!r}")
        out["symbol"] = _symbol(str(out["symbol"]))
        if not out.get("newClientOrderId"):
            out["newClientOrderId"] = self._new_client_order_id()
        return out

    async def new_order(self, params: Mapping[str, Any]) -> BinanceResult:
        """``POST /api/v3/order`` with Binance's own parameter names. Never retried.

        A ``newClientOrderId`` is generated when absent, so the outcome can always be looked up.

        Raises:
            ExecutionUnknown: timeout, 5xx, -1006/-1007 or a dropped connection: the order may
                exist. ``client_order_id`` on the error is the id to reconcile with.
        """
        full = self._order_params(params)
        self.order_limits.check(self._server_now_s())
        return await self._call("new_order", full,
                                client_order_id=str(full["newClientOrderId"]))

    async def test_order(self, params: Mapping[str, Any],
                         compute_commission_rates: bool = False) -> BinanceResult:
        """``POST /api/v3/order/test``: full validation (filters, balance) without placing."""
        full = self._order_params(params)
        if compute_commission_rates:
            full["computeCommissionRates"] = True
        return await self._call("test_order", full)

    async def cancel_order(self, symbol: str, order_id: int | None = None,
                           orig_client_order_id: str | None = None,
                           new_client_order_id: str | None = None) -> BinanceResult:
        """``DELETE /api/v3/order`` by order id or client order id. Never retried."""
        _one_id(order_id, orig_client_order_id)
        return await self._call("cancel_order", {
            "symbol": _symbol(symbol), "orderId": order_id,
            "origClientOrderId": orig_client_order_id,
            "newClientOrderId": new_client_order_id},
            client_order_id=orig_client_order_id)

    async def cancel_open_orders(self, symbol: str) -> BinanceResult:
        """``DELETE /api/v3/openOrders``: cancel every open order on ``symbol``. Never retried."""
        return await self._call("cancel_open_orders", {"symbol": _symbol(symbol)})

    # -- health ----------------------------------------------------------------------------
    def health(self) -> ClientHealth:
        """Environment, clock offset, weight use, bans and the last error; no secrets."""
        sample = self.clock.sample
        now_ms = self._wall_ms()
        now_s = self._server_now_s()
        return ClientHealth(
            environment=self.env.name,
            rest_url=self.env.rest_url,
            ws_url=self.env.ws_url,
            credentials=self.credentials_kind,
            clock_offset_ms=sample.offset_ms if sample else None,
            clock_rtt_ms=sample.rtt_ms if sample else None,
            clock_age_s=round((now_ms - sample.measured_at_ms) / 1000, 3) if sample else None,
            exchange_info_age_s=(round(self._monotonic() - self._rules_at, 3)
                                 if self._rules_at is not None else None),
            symbols=len(self._rules) if self._rules is not None else 0,
            requests_sent=self._sent,
            requests_coalesced=self._coalesced,
            last_error=self._last_error,
            last_ok_at_ms=self._last_ok_ms,
            **_pick(self.governor.snapshot(now_s), _WEIGHT_FIELDS),
            **_pick(self.order_limits.snapshot(now_s), _ORDER_FIELDS),
        )


# -- small helpers ---------------------------------------------------------------------------

#: the governor's and the order limiter's snapshot keys that ClientHealth names (a key added there
#: shows in health once it is named here and in ClientHealth; it never breaks health meanwhile).
_WEIGHT_FIELDS = ("used_weight", "weight_limit", "weight_budget", "interval_s", "weight_limit_source",
                  "last_used_weight_header", "rate_limited_until", "banned_until")
_ORDER_FIELDS = ("order_limits", "order_counts", "orders_held_until")


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)  # JSON true is no time


def _pick(snapshot: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    return {name: snapshot[name] for name in names if name in snapshot}



def _symbol(symbol: str) -> str:
    norm = symbol.strip().upper()
    if not norm:
        raise InvalidArgument("symbol must not be empty")
    return norm


def _symbol_params(symbol: str | None,
                   symbols: Sequence[str] | None) -> dict[str, ParamValue | None]:
    if symbol and symbols:
        raise InvalidArgument("pass symbol or symbols, not both")
    if symbols:
        return {"symbols": [_symbol(s) for s in symbols]}
    return {"symbol": _symbol(symbol) if symbol else None}


def _check_limit(limit: int | None, maximum: int) -> None:
    if limit is not None and not 1 <= limit <= maximum:
        raise InvalidArgument(f"limit must be 1..{maximum}, got {limit}")


def _one_id(order_id: int | None, client_order_id: str | None) -> None:
    if order_id is None and not client_order_id:
        raise InvalidArgument("pass order_id or orig_client_order_id")


def _answers_outcome(endpoint: Endpoint, response: RestResponse) -> bool:
    """A cancel-replace refused in part or whole (-2021 / -2022) answers what each half did in
    ``data``: that body is the call's result, not an error (the caller reads it)."""
    if endpoint.name != "cancel_replace" or response.status not in (400, 409, 429):
        return False
    try:
        body = response.json()
    except UnexpectedResponse:
        return False
    return isinstance(body, dict) and body.get("code") in (-2021, -2022) and isinstance(body.get("data"), dict)


def _int_header(response: RestResponse, name: str) -> int | None:
    value = response.header(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _float_header(response: RestResponse, name: str) -> float | None:
    value = response.header(name)
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _order_counts(response: RestResponse) -> dict[str, int]:
    prefix = "x-mbx-order-count-"
    out: dict[str, int] = {}
    for name, value in response.headers.items():
        if name.startswith(prefix):
            try:
                out[name[len(prefix):]] = int(value)
            except ValueError:
                continue
    return out


def _exchange_time(data: Any) -> int | None:
    if isinstance(data, dict):
        for key in _EXCHANGE_TIME_FIELDS:
            value = data.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                return value
    return None

