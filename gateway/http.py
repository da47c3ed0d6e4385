"""Streamable HTTP transport: the SDK's app behind the gateway's own guards.

Connections (`ConnectionGuard`, inside uvicorn's h11 protocol, before any request exists):
1. At most `max_connections_per_client` per client address and `max_connections` in all (kept
   below the file-descriptor limit); over a limit, the oldest idle connection makes room (one that
   never sent a complete request first), and with none idle the new one is closed at once (rules
   in `gateway/connections.py`). The listen backlog (`listen_backlog`) also bounds how many are
   accepted at once before the guard sees them: a flood of connects holds at most about
   `max_connections` + 2 x `listen_backlog` descriptors.
2. A connection has `header_timeout_s` to send a request's complete headers, on connect and again
   between requests (uvicorn has no such deadline: a slowloris connection would live forever);
   an idle kept-alive connection that sends nothing is closed after `keep_alive_s`.
3. Shed connections are logged as one line of counts at most every 10 s, and once more at
   shutdown with what is left.
4. WebSocket upgrades are not served (`ws="none"`): an `Upgrade` request is plain HTTP.

Requests (`HttpGuard`, ASGI, before the SDK sees them), in this order:
1. Host (only when bound to loopback): must name loopback, else 421. Defeats DNS rebinding.
2. Origin (when present): exactly `scheme://host[:port]` with a loopback host, or one of the
   configured origins, else 403 (`http://127.0.0.1:80@evil.example` is refused).
3. `/.well-known/...` (OAuth and OpenID discovery): 404 whatever the token, so a client that got a
   401 does not start an OAuth flow; the gateway takes a static bearer token, nothing else.
4. Bearer token (whenever one is configured; required to start beyond loopback): else 401. The
   scheme is case-insensitive (RFC 7235 §2.1: `bearer x` works); the token is compared in
   constant time.
5. Per-client concurrency: one client may have at most `max_concurrency_per_client` POSTs in
   flight, else 429. The client is the token when one is configured (every connection and session
   presenting it counts together, so stateless requests on fresh connections cannot multiply
   it), else the client address. Long-lived GET streams are not counted.
6. The body is read whole before the SDK sees it: more than `max_request_bytes` is 413, not
   complete within `body_timeout_s` is 408.
Refusals are logged at most once per status and reason every 10 s, with the count suppressed.

SSE streams (handshake-era sessions) carry event ids and a `retry` field; a client that lost
its stream reconnects with `Last-Event-ID` and gets what it missed, from a bounded per-session
window (`gateway/events.py`).

When ready, prints one JSON line on stdout: `{"event":"ready","url":"http://HOST:PORT/mcp"}`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, cast

import structlog
import uvicorn
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from gateway.connections import ConnectionBook
from gateway.events import EventLog, ReplayBudget, SessionEventStore, per_session_stores
from gateway.server import Gateway
from gateway.settings import HttpSettings
from gateway.throttle import LogThrottle

__all__ = ["ConnectionGuard", "HttpGuard", "build_app", "guarded_protocol", "serve_http"]

log = structlog.get_logger("gateway.http")

MCP_PATH = "/mcp"
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
_LOOPBACK_ORIGIN = re.compile(r"https?://(?:127\.0\.0\.1|localhost|\[::1\])(?::[0-9]{1,5})?")
#: file descriptors kept for everything but client connections (gRPC channels, logs, the listener).
_RESERVED_FDS = 256
_LOG_INTERVAL_S = 10.0
#: the SSE `retry` field: how soon a client whose stream broke reconnects (with Last-Event-ID).
SSE_RETRY_MS = 1000


def _host_name(host_header: str) -> str:
    if host_header.startswith("["):
        return host_header.split("]")[0] + "]"
    return host_header.rsplit(":", 1)[0] if ":" in host_header else host_header


def _origin_allowed(origin: str, extra: tuple[str, ...]) -> bool:
    """Exact comparison: a loopback `scheme://host[:port]` and nothing more, or a configured origin."""
    return origin in extra or _LOOPBACK_ORIGIN.fullmatch(origin) is not None


def _bearer_matches(authorization: str, token: bytes) -> bool:
    """True when an Authorization header carries `token` under the Bearer scheme (any case)."""
    scheme, _, credentials = authorization.strip().partition(" ")
    given = credentials.strip().encode()
    # compare_digest runs even for a wrong scheme, so timing says nothing about the token.
    return hmac.compare_digest(given, token) and scheme.lower() == "bearer"


def connection_budget(wanted: int, backlog: int = 0) -> int:
    """`wanted` connections, or fewer so that they fit under the soft file-descriptor limit.

    Under a flood, besides the admitted connections, up to a backlog's worth are accepted and not
    yet seen by the guard, and as many are being closed: two backlogs are kept free for them.
    """
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft - _RESERVED_FDS - 2 * backlog))


# -- connections -----------------------------------------------------------------------------


class ConnectionGuard:
    """Performs `ConnectionBook`'s decisions on uvicorn protocol instances; times header reads."""

    def __init__(self, settings: HttpSettings, max_total: int) -> None:
        self.book: ConnectionBook[Any] = ConnectionBook(max_total, settings.max_connections_per_client)
        self.header_timeout_s = settings.header_timeout_s
        self.shed: Counter[str] = Counter()
        """Connections refused, evicted and timed out since the last log line."""
        self._last_log = -_LOG_INTERVAL_S
        self._flush: asyncio.TimerHandle | None = None

    def opened(self, conn: Any) -> None:
        client = conn.client[0] if conn.client else "unknown"
        decision = self.book.open(conn, client)
        for victim in decision.close:
            victim.close_now()
            self._count("evicted")
        if not decision.admitted:
            conn.close_now()
            self._count("refused")
            return
        conn.arm_deadline(self.header_timeout_s)

    def busy(self, conn: Any) -> None:
        self.book.busy(conn)
        conn.disarm_deadline()

    def idle(self, conn: Any) -> None:
        self.book.idle(conn)
        conn.arm_deadline(self.header_timeout_s)

    def expired(self, conn: Any) -> None:
        if self.book.is_idle(conn):
            conn.close_now()
            self._count("header_timeout")

    def closed(self, conn: Any) -> None:
        self.book.close(conn)

    def _count(self, what: str) -> None:
        self.shed[what] += 1
        if self._flush is not None:
            return
        delay = self._last_log + _LOG_INTERVAL_S - time.monotonic()
        if delay <= 0:
            self._log()
        else:
            self._flush = asyncio.get_running_loop().call_later(delay, self._log)

    def flush(self) -> None:
        """Log what was shed since the last line now (at shutdown: no count is lost)."""
        if self._flush is not None:
            self._flush.cancel()
        self._log()

    def _log(self) -> None:
        self._flush = None
        self._last_log = time.monotonic()
        if self.shed:
            log.warning("http_connections_shed", open=len(self.book), **dict(self.shed))
            self.shed.clear()


def guarded_protocol(guard: ConnectionGuard) -> type[H11Protocol]:
    """uvicorn's h11 protocol, reporting each connection's life to `guard`."""

    class GuardedH11Protocol(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(cast(asyncio.Transport, transport))
            guard.opened(self)

        def connection_lost(self, exc: Exception | None) -> None:
            self.disarm_deadline()
            guard.closed(self)
            super().connection_lost(exc)

        def handle_events(self) -> None:
            cycle = self.cycle
            super().handle_events()
            if self.cycle is not cycle and not self.transport.is_closing():
                guard.busy(self)  # a request's headers are complete

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing() and self.cycle is not None and self.cycle.response_complete:
                guard.idle(self)

        def arm_deadline(self, timeout_s: float) -> None:
            self.disarm_deadline()
            self._deadline = self.loop.call_later(timeout_s, guard.expired, self)

        def disarm_deadline(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def close_now(self) -> None:
            self.disarm_deadline()
            if not self.transport.is_closing():
                self.transport.close()

    return GuardedH11Protocol


class _ThrottledLogFilter(logging.Filter):
    """Lets one record per message template through every 10 s (uvicorn logs each bad request)."""

    def __init__(self) -> None:
        super().__init__()
        self._throttle = LogThrottle(_LOG_INTERVAL_S)

    def filter(self, record: logging.LogRecord) -> bool:
        return self._throttle.note(str(record.msg), time.monotonic()) is not None


# -- requests --------------------------------------------------------------------------------


class HttpGuard:
    """ASGI middleware: host, origin, discovery, bearer token, concurrency and body checks."""

    def __init__(self, app: ASGIApp, settings: HttpSettings) -> None:
        self.app = app
        self.settings = settings
        self._token = settings.token.encode() if settings.token else None
        # The token stands for the client; its digest keys the counter (the token never lands in memory twice).
        self._token_key = "token:" + hashlib.sha256(self._token).hexdigest()[:12] if self._token else None
        self._in_flight: Counter[str] = Counter()
        self._log_throttle = LogThrottle(_LOG_INTERVAL_S)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            await self._refuse(scope, receive, send, *refusal)
            return
        if scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        client = self._client_key(scope)
        if self._in_flight[client] >= self.settings.max_concurrency_per_client:
            await self._refuse(
                scope, receive, send, 429, "Too many concurrent requests from this client", {"Retry-After": "1"}
            )
            return
        self._in_flight[client] += 1
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self._in_flight[client] -= 1
                if self._in_flight[client] <= 0:
                    del self._in_flight[client]

        try:
            await self._serve_post(scope, receive, send, headers, release)
        finally:
            release()

    async def _serve_post(
        self, scope: Scope, receive: Receive, send: Send, headers: Headers, release: Callable[[], None]
    ) -> None:
        body = await self._read_body(headers, receive)
        if isinstance(body, int):
            reason = "Request body too large" if body == 413 else "Request body not received in time"
            await self._refuse(scope, receive, send, body, reason, {"Connection": "close"})
            return
        if body is None:
            return  # the client went away
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def send_and_release(message: Message) -> None:
            # The slot frees when the response is complete, before the app's own cleanup, so a
            # client that got its answer may send the next request at once.
            try:
                await send(message)
            finally:
                if message["type"] == "http.response.body" and not message.get("more_body"):
                    release()

        await self.app(scope, replay, send_and_release)

    async def _read_body(self, headers: Headers, receive: Receive) -> bytes | int | None:
        """The whole body; 413 or 408 when it is too large or too slow; None when the client left."""
        limit = self.settings.max_request_bytes
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return 413
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.settings.body_timeout_s):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return None
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > limit:
                        return 413
                    chunks.append(chunk)
                    if not message.get("more_body"):
                        return b"".join(chunks)
        except TimeoutError:
            return 408

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, status: int, text: str, extra: dict[str, str]
    ) -> None:
        suppressed = self._log_throttle.note(f"{status}:{text}", time.monotonic())
        if suppressed is not None:
            log.info("http_refused", status=status, reason=text, path=scope.get("path"), suppressed=suppressed)
        await PlainTextResponse(text, status_code=status, headers=extra)(scope, receive, send)

    def _refusal(self, scope: Scope, headers: Headers) -> tuple[int, str, dict[str, str]] | None:
        if self.settings.is_loopback:
            host = _host_name(headers.get("host", ""))
            if host not in _LOOPBACK_NAMES:
                return 421, "Invalid Host header", {}
        origin = headers.get("origin")
        if origin is not None and not _origin_allowed(origin, self.settings.allowed_origins):
            return 403, "Invalid Origin header", {}
        if str(scope.get("path", "")).startswith("/.well-known/"):
            return 404, "Not found: this server takes a static bearer token, not OAuth", {}
        if self._token is not None and not _bearer_matches(headers.get("authorization", ""), self._token):
            return 401, "Missing or invalid bearer token", {"WWW-Authenticate": "Bearer"}
        return None

    def _client_key(self, scope: Scope) -> str:
        if self._token_key is not None:
            return self._token_key  # every connection and session presenting the token is one client
        peer: Any = scope.get("client")
        return f"addr:{peer[0]}" if peer else "addr:unknown"


def build_app(gateway: Gateway, settings: HttpSettings) -> ASGIApp:
    """The SDK's Streamable HTTP app wrapped in `HttpGuard`."""
    budget = ReplayBudget()
    app: Starlette = gateway.server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        max_request_body_size=settings.max_request_bytes,
        # HttpGuard performs host and origin checks itself (also beyond loopback).
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        host=settings.host,
        # SSE event ids and replay after Last-Event-ID; each session gets its own store below.
        event_store=SessionEventStore(EventLog(budget=budget)),
        retry_interval=SSE_RETRY_MS,
    )
    per_session_stores(gateway.server.session_manager, lambda: EventLog(budget=budget))
    return HttpGuard(app, settings)


class _Server(uvicorn.Server):
    """uvicorn's server, logging the shed connections still uncounted when it shuts down (after
    a signal uvicorn raises it again as soon as `serve` returns: a `finally` would come too late)."""

    def __init__(self, config: uvicorn.Config, guard: ConnectionGuard) -> None:
        super().__init__(config)
        self._guard = guard

    async def shutdown(self, sockets: list[Any] | None = None) -> None:
        await super().shutdown(sockets)
        self._guard.flush()


async def serve_http(gateway: Gateway, settings: HttpSettings) -> None:
    """Serve until SIGINT/SIGTERM (uvicorn handles both gracefully)."""
    max_total = connection_budget(settings.max_connections, settings.listen_backlog)
    if max_total < settings.max_connections:
        log.warning("max_connections_lowered", wanted=settings.max_connections, allowed=max_total)
    guard = ConnectionGuard(settings, max_total)
    logging.getLogger("uvicorn.error").addFilter(_ThrottledLogFilter())
    config = uvicorn.Config(
        build_app(gateway, settings),
        host=settings.host,
        port=settings.port,
        http=guarded_protocol(guard),
        # No WebSocket endpoint exists; an upgrade would also move a connection out of the guard's book.
        ws="none",
        timeout_keep_alive=max(1, round(settings.keep_alive_s)),
        log_config=None,
        access_log=False,
        lifespan="on",
        # Also how many connections asyncio accepts in one go, before the guard sees them.
        backlog=settings.listen_backlog,
    )
    server = _Server(config, guard)

    async def announce() -> None:
        # uvicorn has no ready callback; poll its flag briefly.
        while not server.started:
            if server.should_exit:
                return
            await asyncio.sleep(0.02)
        sock = server.servers[0].sockets[0].getsockname()
        host = f"[{sock[0]}]" if ":" in sock[0] else sock[0]
        url = f"http://{host}:{sock[1]}{MCP_PATH}"
        log.info(
            "gateway_ready",
            transport="http",
            url=url,
            token_required=bool(settings.token),
            max_connections=max_total,
        )
        sys.stdout.write(json.dumps({"event": "ready", "url": url}) + "\n")
        sys.stdout.flush()

    watcher = asyncio.create_task(announce())
    try:
        await server.serve()
    finally:
        watcher.cancel()
