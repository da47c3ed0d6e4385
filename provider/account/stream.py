"""The user data stream over the WebSocket API: the shell that feeds :class:`AccountState`.

One authenticated connection per provider (spec §8.1, option B: ``userDataStream.subscribe.signature``
works with every key type). Its life, in order:

1. connect to the environment's WebSocket API URL, subscribe with a signed request;
2. resynchronise: the state buffers events while ``GET /api/v3/account`` and ``GET
   /api/v3/openOrders`` are fetched, then applies them on top (``state.py`` rule 1) and goes LIVE;
3. read events until the connection drops, the exchange ends the subscription, the state finds a
   gap, or the connection nears its lifetime; a renewal opens the next connection and subscribes
   *before* the old one is closed, so no event falls between them (duplicates are dropped by
   execution id); a periodic resync bounds how long a silently lost event can go unnoticed;
4. after anything else, reconnect with jittered backoff and resynchronise before serving again.

Readers wait for changes with :meth:`UserDataStream.wait_for`; nothing here decides what an event
means (that is ``state.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import structlog
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from common.backoff import backoff_delay
from provider.account.state import OPEN_STATUSES, AccountState, Change
from provider.binance.auth import sign_ws_api
from provider.binance.wss import ssl_for
from provider.errors import ProviderError, RateLimited

if TYPE_CHECKING:
    from provider.binance.client import BinanceClient

__all__ = ["StreamHealth", "UserDataStream"]

log = structlog.get_logger("provider.account")

_REQUEST_TIMEOUT_S = 10.0
#: how long a read waits for the stream to show our own last write before it asks REST instead.
_CATCH_UP_S = 1.0


@dataclass(frozen=True)
class StreamHealth:
    """What health tools show of the user data stream (times in ms since epoch, 0 = none)."""

    phase: str
    reason: str
    url: str
    last_event_ms: int
    live_since_ms: int
    events_applied: int
    gaps: int
    connects: int
    renewals: int
    open_orders: int
    last_error: str


class SubscribeFailed(Exception):
    """The exchange refused the subscription (its error code and message are in the text)."""


class UserDataStream:
    """Keeps :attr:`state` live from the exchange's user data stream while :meth:`run` runs.

    Args:
        url: the WebSocket API endpoint (``Environment.ws_api_url``).
        client: the REST client (credentials, server clock, the resync snapshots).
        lifetime_s: renew the connection this long after it opened (Binance closes at 24 h).
        resync_every_s: take a fresh REST snapshot this often while live (0 = never).
    """

    def __init__(
        self,
        url: str,
        client: BinanceClient,
        *,
        lifetime_s: float = 23.5 * 3600,
        resync_every_s: float = 60.0,
        backoff: tuple[float, float] = (0.5, 30.0),
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.url = url
        self.client = client
        self.state = AccountState()
        self.lifetime_s = lifetime_s
        self.resync_every_s = resync_every_s
        self._backoff = backoff
        self._clock = clock
        self._rng = rng or random.Random()
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._readers: dict[ClientConnection, asyncio.Task[None]] = {}
        self._gap = asyncio.Event()
        self._changed = asyncio.Condition()
        self._listeners: list[Callable[[list[Change]], Awaitable[None] | None]] = []
        self._writes: dict[int, tuple[str, Decimal, bool]] = {}
        self.version = 0
        self.connects = 0
        self.renewals = 0
        self.last_error: str | None = None
        self.live_since_ms: int | None = None

    # -- readers ------------------------------------------------------------------------------

    def on_change(self, listener: Callable[[list[Change]], Awaitable[None] | None]) -> None:
        """Calls ``listener`` with every batch of changes (e.g. resource notifications)."""
        self._listeners.append(listener)

    async def wait_for(self, predicate: Callable[[AccountState], bool], timeout_s: float) -> bool:
        """Waits until ``predicate(state)`` holds while live; False at the timeout."""
        async with self._changed:
            try:
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: self.state.live and predicate(self.state)), max(timeout_s, 0)
                )
            except TimeoutError:
                return False
        return True

    def note_write(self, order: dict[str, Any]) -> None:
        """An order answer of our own (placed, canceled): reads wait until the stream has shown it."""
        executed = Decimal(order.get("executedQty", "0") or "0")
        self._writes[int(order["orderId"])] = (str(order["symbol"]), executed, order.get("status") not in OPEN_STATUSES)

    async def caught_up(self, timeout_s: float = _CATCH_UP_S) -> bool:
        """True when live and every write of ours is reflected (read-your-writes); False at the timeout."""

        def reflected(state: AccountState) -> bool:
            for order_id, (symbol, executed, ended) in list(self._writes.items()):
                seen = state.order(symbol, order_id=order_id)
                if seen is None or Decimal(seen["executedQty"]) < executed or (
                    ended and seen["status"] in OPEN_STATUSES
                ):
                    return False
                del self._writes[order_id]
            return True

        if not self.state.live:
            return False
        return reflected(self.state) or await self.wait_for(reflected, timeout_s)

    def health(self) -> StreamHealth:
        """The stream's state for health tools: phase, reason, connects, renewals, last error."""
        state = self.state
        return StreamHealth(
            phase=state.phase.value, reason=state.reason, url=self.url, last_event_ms=state.last_event_ms,
            live_since_ms=(self.live_since_ms or 0) if state.live else 0, events_applied=state.events_applied,
            gaps=state.gaps, connects=self.connects, renewals=self.renewals, open_orders=len(state.open_orders),
            last_error=self.last_error or "",
        )

    # -- the loop -----------------------------------------------------------------------------

    async def run(self) -> None:
        """Connects, resynchronises and reads until cancelled; reconnects after every failure."""
        attempt = 0
        ws: ClientConnection | None = None
        while True:
            try:
                if ws is None:
                    ws = await self._open()
                    await self._resync("subscribed")
                    attempt = 0
                ws = await self._serve(ws)
            except asyncio.CancelledError:
                if ws is not None:
                    await ws.close()
                raise
            except (OSError, ConnectionClosed, InvalidHandshake, InvalidURI, TimeoutError, SubscribeFailed,
                    ProviderError) as exc:
                self.last_error = f"{type(exc).__name__}: {str(exc)[:300]}"
                retry_after = exc.retry_after_s if isinstance(exc, RateLimited) else None
                delay = backoff_delay(attempt, base_s=self._backoff[0], cap_s=self._backoff[1], rng=self._rng,
                                      retry_after_s=retry_after)
                log.warning("account_stream.failed", error=self.last_error, attempt=attempt,
                            retry_in_s=round(delay, 3))
                await self._down(f"disconnected: {self.last_error}")
                if ws is not None:
                    with contextlib.suppress(Exception):
                        await ws.close()
                    ws = None
                await asyncio.sleep(delay)
                attempt += 1

    async def _open(self) -> ClientConnection:
        """A connection with a user data subscription on it, and its reader running."""
        ws = await connect(self.url, proxy=None, max_size=2**22, open_timeout=10, ssl=ssl_for(self.url))
        self.connects += 1
        reader = asyncio.get_running_loop().create_task(self._read(ws))
        self._readers[ws] = reader
        try:
            await self._subscribe(ws)
        except BaseException:
            reader.cancel()
            await ws.close()
            raise
        log.info("account_stream.subscribed", url=self.url, connects=self.connects)
        return ws

    async def _subscribe(self, ws: ClientConnection) -> None:
        key, signer = self.client.ws_api_credentials()
        params = sign_ws_api({"apiKey": key, "timestamp": self.client.server_now_ms()}, signer)
        answer = await self._request(ws, "userDataStream.subscribe.signature", params)
        status = answer.get("status")
        if status != 200:
            error = answer.get("error") or {}
            if status in (418, 429) and isinstance(error, dict):  # wait as long as the exchange says, REST too
                raise self.client.ws_api_refusal("userDataStream.subscribe", status, error)
            raise SubscribeFailed(f"Binance {error.get('code')}: {error.get('msg')}")

    async def _request(self, ws: ClientConnection, method: str, params: dict[str, Any]) -> dict[str, Any]:
        request_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            await ws.send(json.dumps({"id": request_id, "method": method, "params": params}))
            return await asyncio.wait_for(future, _REQUEST_TIMEOUT_S)
        finally:
            self._pending.pop(request_id, None)

    async def _serve(self, ws: ClientConnection) -> ClientConnection:
        """Waits on the connection until it must be renewed (returns the new one) or fails (raises)."""
        opened = self._clock()
        reader = self._readers[ws]
        while True:
            due_renew = opened + self.lifetime_s - self._clock()
            due_resync = self.resync_every_s if self.resync_every_s > 0 else due_renew
            self._gap.clear()
            gap = asyncio.get_running_loop().create_task(self._gap.wait())
            try:
                done, _ = await asyncio.wait({reader, gap}, timeout=max(0.0, min(due_renew, due_resync)),
                                             return_when=asyncio.FIRST_COMPLETED)
            finally:
                gap.cancel()
            if reader in done:
                exc = reader.exception()
                raise exc if isinstance(exc, Exception) else ConnectionClosed(None, None)
            if not self.state.live:  # a gap (state.py rule 2): a fresh subscription and snapshot
                raise SubscribeFailed(self.state.reason)
            if self._clock() >= opened + self.lifetime_s:
                return await self._renew(ws)
            await self._resync("periodic check")

    async def _renew(self, old: ClientConnection) -> ClientConnection:
        """The next connection subscribes before the old one closes: no event falls between them."""
        new = await self._open()
        self.renewals += 1
        self._readers.pop(old).cancel()
        await old.close()
        log.info("account_stream.renewed", renewals=self.renewals)
        return new

    async def _read(self, ws: ClientConnection) -> None:
        """Routes every frame: answers to our requests, events to the state. Ends when the socket does."""
        try:
            async for raw in ws:
                frame = json.loads(raw)
                if not isinstance(frame, dict):
                    continue
                if "event" in frame and isinstance(frame["event"], dict):
                    await self._on_event(frame["event"])
                elif frame.get("id") in self._pending:
                    future = self._pending[frame["id"]]
                    if not future.done():
                        future.set_result(frame)
        finally:
            self._readers.pop(ws, None)

    async def _on_event(self, event: dict[str, Any]) -> None:
        if event.get("e") == "serverShutdown":
            raise ConnectionClosed(None, None)  # the exchange is going away: reconnect elsewhere
        was_live = self.state.live
        changes = self.state.apply(event)
        self._record("e", event)
        if was_live and not self.state.live:
            log.warning("account_stream.gap", reason=self.state.reason)
            self._gap.set()
        await self._publish(changes)

    async def _resync(self, why: str) -> None:
        self.state.begin_resync(why)
        self._record("b", why)
        try:
            # The heavier call first: when the weight limit is down, it fails before the other spends.
            open_orders = (await self.client.open_orders()).data
            account = (await self.client.account()).data
        except ProviderError as exc:
            reason = f"{type(exc).__name__}: {exc.message[:200]}"
            changes = self.state.abort_resync(reason)
            self._record("a", reason)
            await self._publish(changes)
            if not self.state.live:
                raise
            log.warning("account_stream.check_failed", error=exc.message[:300])
            return
        self._writes.clear()  # the snapshot shows every write made before it
        changes = self.state.load_snapshot(account, open_orders)
        self._record("s", {"account": account, "open_orders": open_orders})
        if self.state.live:
            self.live_since_ms = self.client.server_now_ms()
        log.info("account_stream.live", why=why, open_orders=len(self.state.open_orders), live=self.state.live)
        await self._publish(changes)

    async def _down(self, reason: str) -> None:
        self.state.down(reason)
        self._record("d", reason)
        await self._publish([])

    def _record(self, kind: str, payload: Any) -> None:
        """Each input given to :attr:`state`, in order (``b`` begin_resync, ``s`` load_snapshot, ``e``
        apply, ``a`` abort_resync, ``d`` down): replicas sharing one connection publish them
        (``provider/account/shared.py``); one provider alone does nothing here."""

    async def next_change(self, timeout_s: float) -> bool:
        """Waits for the next batch of changes (or a change of phase); False at the timeout."""
        seen = self.version
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: self.version != seen), max(timeout_s, 0))
            except TimeoutError:
                return False
        return True

    async def _publish(self, changes: list[Change]) -> None:
        self.version += 1
        async with self._changed:
            self._changed.notify_all()
        if not changes:
            return
        for listener in self._listeners:
            result = listener(changes)
            if asyncio.iscoroutine(result):
                await result

