"""REST transport: the one place that does HTTP; ``send(RestRequest) -> RestResponse``.

Callers above (the client) never see aiohttp: its exceptions are translated here, once, into
the provider error tree (STYLE §7). A failed connect becomes
:class:`~provider.errors.ExchangeUnreachable` (the request never left, so even an order call
is known not to have run); a timeout becomes :class:`~provider.errors.ExchangeTimeout`; any other
transport failure after sending becomes :class:`~provider.errors.ExchangeUnavailable`. The
client upgrades the latter two to ``ExecutionUnknown`` for mutating calls.

Queries arrive already percent-encoded and signed, so the URL is passed with ``encoded=True``:
re-encoding would change the bytes the signature covers (spec §1.8).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
from yarl import URL

from provider.errors import (
    ExchangeTimeout,
    ExchangeUnavailable,
    ExchangeUnreachable,
    UnexpectedResponse,
)

__all__ = ["AiohttpTransport", "RestRequest", "RestResponse", "RestTransport", "TransportConfig"]


@dataclass(frozen=True)
class RestRequest:
    """One HTTP request relative to the environment's REST base.

    Attributes:
        method: GET, POST, PUT or DELETE.
        path: e.g. ``/api/v3/depth``.
        query: percent-encoded query string without ``?`` (signed queries end in ``signature=``).
        body: ``application/x-www-form-urlencoded`` body, usually empty.
        headers: extra headers (e.g. ``X-MBX-APIKEY``); never logged.
        timeout_s: total timeout override for this call.
        mutating: the call changes exchange state; the transport never resends it by itself.
    """

    method: str
    path: str
    query: str = ""
    body: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout_s: float | None = None
    mutating: bool = False

    def __repr__(self) -> str:  # headers hold the API key: keep them out of reprs and logs
        return f"RestRequest({self.method} {self.path})"


@dataclass(frozen=True)
class RestResponse:
    """An HTTP answer: status, headers (names lower-cased) and the raw body."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        """Header value by case-insensitive name."""
        return self.headers.get(name.lower())

    def json(self) -> Any:
        """Decode the JSON body.

        Raises:
            UnexpectedResponse: if the body is not JSON (e.g. an HTML error page, a cut answer).
        """
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise UnexpectedResponse(f"HTTP {self.status} with {self.body_kind()}") from exc

    def body_kind(self) -> str:
        """What the body is when it is not the JSON Binance sends, in words for an operator."""
        text = self.body.lstrip()[:200].lower()
        if not text:
            return "an empty body"
        if text.startswith((b"<!doctype html", b"<html")) or b"<html" in text or b"<body" in text:
            return f"an HTML page ({len(self.body)} bytes), not the exchange's JSON: a proxy, CDN or firewall answered"
        if text.startswith((b"{", b"[")):
            return f"JSON cut short or malformed ({len(self.body)} bytes): the answer was truncated"
        return f"a non-JSON body ({len(self.body)} bytes)"


class RestTransport(Protocol):
    """What the client needs from HTTP. Implemented with aiohttp, and by fakes in tests."""

    async def send(self, request: RestRequest) -> RestResponse:
        """Send one request and return the answer, whatever its HTTP status."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


@dataclass(frozen=True)
class TransportConfig:
    """Timeouts and pool limits for :class:`AiohttpTransport`.

    Attributes:
        total_timeout_s: whole request, connect to last byte (Binance's own limit is 10 s, §1.3).
        connect_timeout_s: TCP + TLS connect.
        max_connections: pool size per environment.
        keepalive_s: idle time before a pooled connection is closed.
    """

    total_timeout_s: float = 10.0
    connect_timeout_s: float = 5.0
    max_connections: int = 32
    keepalive_s: float = 30.0


class AiohttpTransport:
    """HTTP over one keep-alive aiohttp session per environment (created on first use)."""

    def __init__(self, base_url: str, config: TransportConfig | None = None,
                 user_agent: str = "binance-mcp-provider/0.1") -> None:
        self.base_url = base_url.rstrip("/")
        self.config = config or TransportConfig()
        self._user_agent = user_agent
        self._session: aiohttp.ClientSession | None = None
        self._mutating_session: aiohttp.ClientSession | None = None

    def _new_session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=self.config.max_connections, keepalive_timeout=self.config.keepalive_s)
        return aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=self.config.total_timeout_s, connect=self.config.connect_timeout_s),
            headers={"User-Agent": self._user_agent},
            auto_decompress=True,
        )

    def _get_session(self, mutating: bool = False) -> aiohttp.ClientSession:
        if not mutating:
            if self._session is None or self._session.closed:
                self._session = self._new_session()
            return self._session
        if self._mutating_session is None or self._mutating_session.closed:
            session = self._new_session()
            # aiohttp resends a DELETE/PUT once when a reused connection is reset; a cancel that ran
            # would then come back as "unknown order". A mutating call is sent once, or reconciled.
            session._retry_connection = False
            self._mutating_session = session
        return self._mutating_session

    async def send(self, request: RestRequest) -> RestResponse:
        url = self.base_url + request.path + (f"?{request.query}" if request.query else "")
        headers = dict(request.headers)
        data: bytes | None = None
        if request.body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            data = request.body.encode("ascii")
        extra: dict[str, Any] = {}
        if request.timeout_s is not None:
            extra["timeout"] = aiohttp.ClientTimeout(
                total=request.timeout_s, connect=self.config.connect_timeout_s
            )
        where = f"{request.method} {request.path}"
        try:
            async with self._get_session(request.mutating).request(
                request.method, URL(url, encoded=True), headers=headers, data=data,
                allow_redirects=False, **extra,
            ) as resp:
                body = await resp.read()
                return RestResponse(
                    status=resp.status,
                    headers={k.lower(): v for k, v in resp.headers.items()},
                    body=body,
                )
        except (aiohttp.ClientConnectorError, aiohttp.ClientConnectorCertificateError) as exc:
            raise ExchangeUnreachable(
                f"{where}: cannot connect to {self.base_url} ({type(exc).__name__})"
            ) from exc
        except TimeoutError as exc:
            raise ExchangeTimeout(f"{where}: no answer from {self.base_url} in time") from exc
        except aiohttp.ClientError as exc:
            raise ExchangeUnavailable(
                f"{where}: transport failure talking to {self.base_url} ({type(exc).__name__})"
            ) from exc

    async def close(self) -> None:
        for session in (self._session, self._mutating_session):
            if session is not None and not session.closed:
                await session.close()
        self._session = self._mutating_session = None
