"""MCP logging: `logging/setLevel` per session, and the gateway's own log lines as `notifications/message`.

Rules:
1. A handshake-era session that sent `logging/setLevel` gets every gateway log event at or above
   that level (RFC 5424 order: debug < info < notice < warning < error < critical < alert <
   emergency); a session that never sent it gets none. Events below the gateway's own
   `--log-level` are not produced at all, so they cannot be forwarded either.
2. Forwarding never blocks or fails the code that logs: events wait in a bounded queue (the
   oldest kept, new ones dropped when it is full) and one task sends them.
3. Log lines written while forwarding are not forwarded again (no feedback loop); a session
   whose send fails is dropped.
4. 2026-07-28 clients have no `logging/setLevel` (protocol logging is deprecated there); they read
   the gateway's stderr instead.

`wants(level, threshold)` is the pure decision; `LogForwarder` is the shell that sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any

import mcp_types as types
import structlog
from mcp.server.session import ServerSession

__all__ = ["MCP_LEVELS", "LogForwarder", "mcp_level", "wants"]

log = structlog.get_logger("gateway.logforward")

MCP_LEVELS: tuple[types.LoggingLevel, ...] = (
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
)
_FROM_PYTHON: Mapping[str, types.LoggingLevel] = {
    "debug": "debug",
    "info": "info",
    "warning": "warning",
    "warn": "warning",
    "error": "error",
    "exception": "error",
    "critical": "critical",
    "fatal": "critical",
}
_QUEUE_SIZE = 1000
_forwarding: ContextVar[bool] = ContextVar("gateway_log_forwarding", default=False)


def mcp_level(python_level: str) -> types.LoggingLevel:
    """The MCP level of a Python/structlog level name (unknown names count as info)."""
    return _FROM_PYTHON.get(python_level.lower(), "info")


def wants(level: types.LoggingLevel, threshold: types.LoggingLevel) -> bool:
    """True when an event at `level` reaches a session that asked for `threshold` and above."""
    return MCP_LEVELS.index(level) >= MCP_LEVELS.index(threshold)


def _jsonable(event: Mapping[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(dict(event), default=str))
    return data


class LogForwarder:
    """Sessions' log levels, and the queue and task that send them the gateway's log events."""

    def __init__(self, key_of: Callable[[ServerSession], object]) -> None:
        self._key_of = key_of
        self._levels: dict[object, tuple[ServerSession, types.LoggingLevel]] = {}
        self._queue: asyncio.Queue[tuple[types.LoggingLevel, dict[str, Any]]] = asyncio.Queue(_QUEUE_SIZE)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: int | None = None
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0
        """Events not forwarded because the queue was full."""

    def set_level(self, session: ServerSession, level: types.LoggingLevel) -> None:
        """Record a session's `logging/setLevel` (from then on it gets events at `level` and above)."""
        self._levels[self._key_of(session)] = (session, level)
        if self._task is None:
            self._loop = asyncio.get_running_loop()
            self._thread = threading.get_ident()
            self._task = self._loop.create_task(self._pump(), name="log-forwarder")

    def level_of(self, session: ServerSession) -> types.LoggingLevel | None:
        """The level a session asked for with `logging/setLevel`, if it did."""
        entry = self._levels.get(self._key_of(session))
        return entry[1] if entry is not None else None

    def offer(self, python_level: str, event: Mapping[str, Any]) -> None:
        """Queue one log event for the sessions that want it; never blocks, never raises."""
        if not self._levels or _forwarding.get() or self._loop is None:
            return
        level = mcp_level(python_level)
        if not any(wants(level, threshold) for _, threshold in self._levels.values()):
            return
        item = (level, _jsonable(event))
        if threading.get_ident() == self._thread:
            self._put(item)
        else:
            with contextlib.suppress(RuntimeError):  # the loop is closing
                self._loop.call_soon_threadsafe(self._put, item)

    def _put(self, item: tuple[types.LoggingLevel, dict[str, Any]]) -> None:
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.dropped += 1

    async def _pump(self) -> None:
        _forwarding.set(True)
        while True:
            level, data = await self._queue.get()
            for key, (session, threshold) in list(self._levels.items()):
                if not wants(level, threshold):
                    continue
                notification = types.LoggingMessageNotification(
                    params=types.LoggingMessageNotificationParams(level=level, logger="gateway", data=data)
                )
                try:
                    await session.send_notification(notification)
                except Exception as exc:  # a gone client must not stop the others
                    log.info("log_session_dropped", error=type(exc).__name__)
                    self._levels.pop(key, None)

    async def close(self) -> None:
        """Stop sending."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
