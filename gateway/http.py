"""Streamable HTTP transport: the SDK's app behind the gateway's own guard.

`HttpGuard` checks every request before the SDK sees it, in this order:
1. Host (only when bound to loopback): must name loopback, else 421. Defeats DNS rebinding.
2. Origin (when present): must be a loopback origin or one configured, else 403.
3. `/.well-known/...` (OAuth and OpenID discovery): 404 whatever the token, so a client that got a
   401 does not start an OAuth flow; the gateway takes a static bearer token, nothing else.
4. Bearer token (whenever one is configured; required to start beyond loopback): else 401. The
   scheme is case-insensitive (RFC 7235 §2.1: `bearer x` works); the token is compared in
   constant time.
4. Per-client concurrency: a client (its MCP session id, else its connection) may have at most
   `max_concurrency_per_client` POSTs in flight, else 429. Long-lived GET streams are not counted.
The SDK enforces the request body limit (413).

When ready, prints one JSON line on stdout: `{"event":"ready","url":"http://HOST:PORT/mcp"}`.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import sys
from collections import Counter
from typing import Any

import structlog
import uvicorn
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.server import Gateway
from gateway.settings import HttpSettings

__all__ = ["HttpGuard", "build_app", "serve_http"]

log = structlog.get_logger("gateway.http")

MCP_PATH = "/mcp"
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def _host_name(host_header: str) -> str:
    if host_header.startswith("["):
        return host_header.split("]")[0] + "]"
    return host_header.rsplit(":", 1)[0] if ":" in host_header else host_header


def _origin_allowed(origin: str, extra: tuple[str, ...]) -> bool:
    if origin in extra:
        return True
    for name in _LOOPBACK_NAMES:
        for scheme in ("http://", "https://"):
            base = scheme + name
            if origin == base or origin.startswith(base + ":"):
                return True
    return False


def _bearer_matches(authorization: str, token: bytes) -> bool:
    """True when an Authorization header carries `token` under the Bearer scheme (any case)."""
    scheme, _, credentials = authorization.strip().partition(" ")
    given = credentials.strip().encode()
    # compare_digest runs even for a wrong scheme, so timing says nothing about the token.
    return hmac.compare_digest(given, token) and scheme.lower() == "bearer"


class HttpGuard:
    """ASGI middleware: host, origin, bearer token and per-client concurrency checks."""

    def __init__(self, app: ASGIApp, settings: HttpSettings) -> None:
        self.app = app
        self.settings = settings
        self._token = settings.token.encode() if settings.token else None
        self._in_flight: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            status, text, extra = refusal
            log.info("http_refused", status=status, reason=text, path=scope.get("path"))
            await PlainTextResponse(text, status_code=status, headers=extra)(scope, receive, send)
            return
        if scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        client = self._client_key(scope, headers)
        if self._in_flight[client] >= self.settings.max_concurrency_per_client:
            log.info("http_refused", status=429, reason="concurrency", client=client)
            await PlainTextResponse(
                "Too many concurrent requests from this client",
                status_code=429,
                headers={"Retry-After": "1"},
            )(scope, receive, send)
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

        async def send_and_release(message: Message) -> None:
            # The slot frees when the response is complete, before the app's own cleanup, so a
            # client that got its answer may send the next request at once.
            try:
                await send(message)
            finally:
                if message["type"] == "http.response.body" and not message.get("more_body"):
                    release()

        try:
            await self.app(scope, receive, send_and_release)
        finally:
            release()

    def _refusal(self, scope: Scope, headers: Headers) -> tuple[int, str, dict[str, str]] | None:
        if self.settings.is_loopback:
            host = _host_name(headers.get("host", ""))
            if host not in _LOOPBACK_NAMES:
                return 421, "Invalid Host header", {}
        origin = headers.get("origin")
        if origin and not _origin_allowed(origin, self.settings.allowed_origins):
            return 403, "Invalid Origin header", {}
        if str(scope.get("path", "")).startswith("/.well-known/"):
            return 404, "Not found: this server takes a static bearer token, not OAuth", {}
        if self._token is not None and not _bearer_matches(headers.get("authorization", ""), self._token):
            return 401, "Missing or invalid bearer token", {"WWW-Authenticate": "Bearer"}
        return None

    @staticmethod
    def _client_key(scope: Scope, headers: Headers) -> str:
        session = headers.get("mcp-session-id")
        if session:
            return f"session:{session}"
        peer: Any = scope.get("client")
        # Without a session (2026 stateless requests), the TCP connection stands for the client:
        # keying by IP alone would lump every local client together behind loopback.
        return f"conn:{peer[0]}:{peer[1]}" if peer else "conn:unknown"


def build_app(gateway: Gateway, settings: HttpSettings) -> ASGIApp:
    """The SDK's Streamable HTTP app wrapped in `HttpGuard`."""
    app: Starlette = gateway.server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        max_request_body_size=settings.max_request_bytes,
        # HttpGuard performs host and origin checks itself (also beyond loopback).
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        host=settings.host,
    )
    return HttpGuard(app, settings)


async def serve_http(gateway: Gateway, settings: HttpSettings) -> None:
    """Serve until SIGINT/SIGTERM (uvicorn handles both gracefully)."""
    config = uvicorn.Config(
        build_app(gateway, settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)

    async def announce() -> None:
        # uvicorn has no ready callback; poll its flag briefly.
        while not server.started:
            if server.should_exit:
                return
            await asyncio.sleep(0.02)
        sock = server.servers[0].sockets[0].getsockname()
        host = f"[{sock[0]}]" if ":" in sock[0] else sock[0]
        url = f"http://{host}:{sock[1]}{MCP_PATH}"
        log.info("gateway_ready", transport="http", url=url, token_required=bool(settings.token))
        sys.stdout.write(json.dumps({"event": "ready", "url": url}) + "\n")
        sys.stdout.flush()

    watcher = asyncio.create_task(announce())
    try:
        await server.serve()
    finally:
        watcher.cancel()
