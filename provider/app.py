"""The provider's long-lived parts, built from Settings and closed in reverse order.

Handlers reach the exchange client, the live order books, the trading rails and the audit log
through one `App`, passed explicitly (no globals), so tests can build one against the sandbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import structlog

from provider.account.stream import UserDataStream
from provider.audit import AuditLog
from provider.binance.client import BinanceClient, ClientConfig
from provider.binance.transport import AiohttpTransport
from provider.settings import Settings
from provider.trading.ledger import PlacementLedger

if TYPE_CHECKING:
    from provider.metrics import Metrics
    from provider.orderbook.manager import Books
    from provider.shared.replica import SharedState

log = structlog.get_logger("provider")


@dataclass
class App:
    settings: Settings
    client: BinanceClient
    audit: AuditLog
    books: Books | None = None
    metrics: Metrics | None = None
    ledger: PlacementLedger = field(default_factory=PlacementLedger)
    account: UserDataStream | None = None
    shared: SharedState | None = None
    """Replicas' shared state through Redis (PROVIDER_REDIS_URL); None = this process alone."""
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    started_at: float = field(default_factory=time.time)

    @property
    def environment(self) -> str:
        return self.settings.environment.name

    @classmethod
    async def create(cls, settings: Settings) -> App:
        # metrics only when they are served: the REST transport is wrapped to count requests
        metrics = None
        transport = None
        if settings.metrics_listen:  # prometheus and aiohttp.web imported only then (provider start time)
            from provider.metrics import MeteredTransport, Metrics

            metrics = Metrics()
            transport = MeteredTransport(
                AiohttpTransport(settings.environment.rest_url, ClientConfig().transport), metrics
            )
        client = await BinanceClient.create(
            settings.environment,
            api_key=settings.api_key,
            api_secret=settings.api_secret,
            private_key_pem=settings.private_key_pem,
            recv_window_ms=settings.recv_window_ms,
            transport=transport,
        )
        books = _books(settings, client) if settings.orderbook_enabled else None
        shared = None
        if settings.redis_url:  # replicas: budgets and order locks in Redis (provider/shared)
            from provider.shared.replica import open_shared

            shared = await open_shared(settings, client)
        account = None
        if settings.account_stream_enabled and client.credentials_kind != "none":
            account = _account_stream(settings, client)
        app = cls(
            settings=settings, client=client, audit=AuditLog(settings.audit_log), books=books, metrics=metrics,
            account=account, shared=shared, ledger=shared.ledger if shared is not None else PlacementLedger(),
        )
        if account is not None:
            app._tasks.append(asyncio.get_running_loop().create_task(account.run()))
        if settings.trading.enabled and client.credentials_kind != "none":
            app._tasks.append(asyncio.get_running_loop().create_task(app._check_key()))
        if metrics is not None:
            metrics.bind(app)
        return app

    async def _check_key(self) -> None:
        """Reads the key's permissions at start (key hygiene), so a key that can withdraw is refused and
        logged before the first order rather than at it; the verdict is cached for the order rails."""
        from provider.services.rails import key_verdict

        try:
            verdict = await key_verdict(self)
        except Exception as exc:  # the exchange may be unreachable at start; the first order reads it again
            log.warning("key_check_deferred", error=str(exc)[:300])
            return
        log.info("key_check", allowed=verdict.allowed, problems=list(verdict.problems))

    async def close(self) -> None:
        await self.ledger.drain(timeout_s=10.0)  # a placement in flight finishes and is reported
        await self.audit.flush()  # and so does every line whose caller went away
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.books is not None:
            await self.books.close()
        if self.shared is not None:
            await self.shared.close()
        await self.client.close()
        await self.ledger.drain(timeout_s=2.0)  # one the drain gave up on ends with the client: it records how
        await self.audit.flush()


def _books(settings: Settings, client: BinanceClient) -> Books:
    """One manager with its own stream; with PROVIDER_REDIS_URL, replicas sharing one ingester per book."""
    from provider.orderbook.manager import BookObserver, OrderBookManager, tops_via

    def manager(observer: BookObserver | None = None) -> OrderBookManager:
        return OrderBookManager(
            settings.environment.ws_url,
            client.depth_snapshot,
            max_symbols=settings.orderbook_max_symbols,
            fetch_tops=tops_via(client.book_ticker),
            observer=observer,
        )

    if settings.redis_url is None:
        return manager()
    from provider.orderbook.replicated import ReplicatedBooks
    from provider.shared.book_redis import BookBus
    from provider.shared.redis_conn import client as redis_client

    bus = BookBus(redis_client(settings.redis_url), settings.redis_prefix)
    return ReplicatedBooks(bus, manager, client.depth_snapshot, max_symbols=settings.orderbook_max_symbols)


def _account_stream(settings: Settings, client: BinanceClient) -> UserDataStream:
    """The user data stream; with PROVIDER_REDIS_URL, one connection per account across the replicas."""
    url, every = settings.environment.ws_api_url, settings.account_resync_s
    if settings.redis_url is None:
        return UserDataStream(url, client, resync_every_s=every)
    import hashlib

    from provider.account.shared import SharedUserDataStream
    from provider.shared.book_redis import BookBus
    from provider.shared.redis_conn import client as redis_client

    bus = BookBus(redis_client(settings.redis_url), settings.redis_prefix, namespace="account")
    name = hashlib.sha256((settings.api_key or "").encode()).hexdigest()[:16]  # never the key itself
    return SharedUserDataStream(url, client, bus=bus, account=name, resync_every_s=every)
