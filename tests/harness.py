"""An in-process provider for servicer tests: the real App and gRPC server, a scripted exchange.

`ScriptedExchange` implements the client's one narrow interface (`RestTransport.send`) from a table
of handlers by path, and records every request; `InProcessProvider` builds the App on it (no
subprocess, no sandbox), serves it with `create_server` on port 0 and hands out a channel. Use it
for what a servicer decides; the process-level e2e tests stay for what needs processes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import grpc

from provider.app import App
from provider.audit import AuditLog
from provider.binance.client import BinanceClient
from provider.binance.environment import Environment
from provider.binance.transport import RestRequest, RestResponse
from provider.errors import ProviderError
from provider.server import create_server
from provider.settings import from_mapping

Handler = Callable[[RestRequest], RestResponse]

EXCHANGE_INFO = {
    "serverTime": 1_700_000_000_000,
    "rateLimits": [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000}],
    "symbols": [{
        "symbol": "BTCUSDT", "status": "TRADING", "baseAsset": "BTC", "quoteAsset": "USDT",
        "baseAssetPrecision": 8, "quoteAssetPrecision": 8, "quoteOrderQtyMarketAllowed": True,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT",
                       "TAKE_PROFIT_LIMIT"],
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": "0.01", "maxPrice": "1000000", "tickSize": "0.01"},
            {"filterType": "LOT_SIZE", "minQty": "0.00001", "maxQty": "9000", "stepSize": "0.00001"},
            {"filterType": "NOTIONAL", "minNotional": "5", "applyMinToMarket": True, "maxNotional": "9000000",
             "applyMaxToMarket": False, "avgPriceMins": 5},
        ],
    }],
}


#: a key fit for trading: IP-restricted, no withdrawals.
KEY_RESTRICTIONS = {
    "ipRestrict": True, "createTime": 1_700_000_000_000, "enableReading": True, "enableWithdrawals": False,
    "enableInternalTransfer": False, "enableMargin": False, "enableFutures": False,
    "permitsUniversalTransfer": False, "enableVanillaOptions": False, "enableSpotAndMarginTrading": True,
}


def answer(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> RestResponse:
    """A JSON answer as the exchange would send it."""
    return RestResponse(status, dict(headers or {}), json.dumps(body).encode())


def error(status: int, code: int, msg: str) -> RestResponse:
    """A Binance error answer."""
    return answer({"code": code, "msg": msg}, status)


class ScriptedExchange:
    """A `RestTransport` answering from handlers by path; `sent` records every request."""

    def __init__(self, handlers: Mapping[str, Handler | ProviderError]) -> None:
        self.handlers: dict[str, Handler | ProviderError] = {
            "/api/v3/time": lambda r: answer({"serverTime": 1_700_000_000_000}),
            "/api/v3/exchangeInfo": lambda r: answer(EXCHANGE_INFO),
            "/sapi/v1/account/apiRestrictions": lambda r: answer(KEY_RESTRICTIONS),
            **handlers,
        }
        self.sent: list[RestRequest] = []

    def paths(self, method: str | None = None) -> list[str]:
        """Paths of the requests sent (of one HTTP method, when given)."""
        return [r.path for r in self.sent if method is None or r.method == method]

    async def send(self, request: RestRequest) -> RestResponse:
        self.sent.append(request)
        handler = self.handlers.get(request.path)
        if handler is None:
            return error(404, -1, f"no handler for {request.path} in this test")
        if isinstance(handler, ProviderError):
            raise handler
        return handler(request)

    async def close(self) -> None:
        pass


class InProcessProvider:
    """The provider's App and gRPC server in this process, on a scripted exchange."""

    def __init__(self, exchange: ScriptedExchange, tmp: Path, wall_ms: Callable[[], int] | None = None,
                 **env: str) -> None:
        self.exchange = exchange
        self.settings = from_mapping({
            "BINANCE_ENV": "sandbox", "BINANCE_REST_URL": "http://exchange.test", "BINANCE_WS_URL": "ws://exchange.test",
            "BINANCE_API_KEY": "test-key", "BINANCE_API_SECRET": "test-secret",
            "PROVIDER_ORDERBOOK_ENABLED": "false", "PROVIDER_ACCOUNT_STREAM": "false",
            "PROVIDER_AUDIT_LOG": str(tmp / "audit.log"), **env,
        })
        env_ = Environment.custom("http://exchange.test", "ws://exchange.test", name="sandbox")
        extra: dict[str, Any] = {"wall_ms": wall_ms} if wall_ms is not None else {}
        client = BinanceClient(env_, exchange, api_key="test-key", signer=_Signer(), **extra)
        self.app = App(settings=self.settings, client=client, audit=AuditLog(tmp / "audit.log"))
        self.server: grpc.aio.Server | None = None
        self.channel: grpc.aio.Channel | None = None

    async def __aenter__(self) -> grpc.aio.Channel:
        self.server, port, _ = await create_server(self.app, "127.0.0.1:0")
        await self.server.start()
        self.channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        return self.channel

    async def __aexit__(self, *exc: object) -> None:
        if self.channel is not None:
            await self.channel.close()
        if self.server is not None:
            await self.server.stop(0)
        await self.app.close()


class _Signer:
    key_type = "TEST"

    def signature(self, payload: str) -> str:
        return "test-signature"
