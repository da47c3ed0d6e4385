"""SSE event ids and bounded replay after `Last-Event-ID` (Streamable HTTP, handshake-era sessions).

The SDK's transport numbers every SSE event it sends through an `EventStore` and, when a client
reconnects with `Last-Event-ID`, replays what that stream sent after it. Rules:

1. One store per session. The SDK hands one store to every session's transport, but its stream
   ids are JSON-RPC request ids ("1", "2", ...) that every session reuses: a shared store would
   replay one client's events to another. `per_session_stores` gives each new session its own.
2. Bounded: a session keeps its last `max_events` events and at most `max_bytes` of their JSON
   (the oldest go first), and all sessions together at most `ReplayBudget.max_bytes`: a session
   over the shared budget drops its own oldest events, and an event that still does not fit
   keeps its id but not its message. A `Last-Event-ID` that fell out of the window (or never
   existed) replays nothing; the client then gets only what comes next.
3. Priming events (no message) get ids, so a client can resume a stream that sent nothing yet,
   and are never replayed.
4. Nothing falls between replay and the live tail. The SDK replays, then sends a priming event,
   then routes new events to the resumed stream; an event stored in between would be neither
   replayed nor sent. So while a stream is being resumed the store sends what it stores itself,
   in order after the replay, and the priming event that ends the replay carries the id of the
   last event sent (not a new one): a client that reconnects again from it misses nothing.

`EventLog` is the pure bookkeeping; `SessionEventStore` is the SDK's `EventStore` over it.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import mcp_types as types
from mcp.server.streamable_http import EventCallback, EventMessage, EventStore, StreamableHTTPServerTransport
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

__all__ = [
    "DEFAULT_MAX_EVENTS",
    "DEFAULT_MAX_EVENT_BYTES",
    "DEFAULT_MAX_TOTAL_EVENT_BYTES",
    "EventLog",
    "ReplayBudget",
    "SessionEventStore",
    "per_session_stores",
]

DEFAULT_MAX_EVENTS = 128
DEFAULT_MAX_EVENT_BYTES = 256 * 1024
DEFAULT_MAX_TOTAL_EVENT_BYTES = 64 * 1024 * 1024


@dataclass
class ReplayBudget:
    """Bytes of event messages kept by all sessions together."""

    max_bytes: int = DEFAULT_MAX_TOTAL_EVENT_BYTES
    used: int = 0


@dataclass(frozen=True, slots=True)
class _Event:
    seq: int
    stream_id: str
    message: Any
    size: int


class EventLog:
    """The last events of one session (rule 2): ids are sequence numbers as text."""

    def __init__(
        self,
        max_events: int = DEFAULT_MAX_EVENTS,
        max_bytes: int = DEFAULT_MAX_EVENT_BYTES,
        budget: ReplayBudget | None = None,
    ) -> None:
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.budget = budget if budget is not None else ReplayBudget()
        self._events: deque[_Event] = deque()
        self._bytes = 0
        self._next = 1

    def __len__(self) -> int:
        return len(self._events)

    def append(self, stream_id: str, message: Any, size: int) -> str:
        """Record one event; returns its id."""
        if size > self.max_bytes:
            message, size = None, 0  # rule 2: the id stays a valid cursor, the message is not kept
        while self._events and (len(self._events) >= self.max_events or self._bytes + size > self.max_bytes):
            self._drop_oldest()
        while self._events and self.budget.used + size > self.budget.max_bytes:
            self._drop_oldest()
        if self.budget.used + size > self.budget.max_bytes:
            message, size = None, 0
        event = _Event(self._next, stream_id, message, size)
        self._next += 1
        self._events.append(event)
        self._bytes += size
        self.budget.used += size
        return str(event.seq)

    def _drop_oldest(self) -> None:
        size = self._events.popleft().size
        self._bytes -= size
        self.budget.used -= size

    def clear(self) -> None:
        """Forget every event (the session ended); gives the bytes back to the shared budget."""
        while self._events:
            self._drop_oldest()

    def after(self, event_id: str) -> tuple[str, list[tuple[str, Any]]] | None:
        """The stream of `event_id` and its later events with messages; None when it is not kept."""
        if not event_id.isdigit():
            return None
        seq = int(event_id)
        found = next((e for e in self._events if e.seq == seq), None)
        if found is None:
            return None
        later = [
            (str(e.seq), e.message)
            for e in self._events
            if e.seq > seq and e.stream_id == found.stream_id and e.message is not None
        ]
        return found.stream_id, later


@dataclass
class _Resuming:
    """A stream being resumed: where its client is, and how to reach it until the SDK takes over."""

    cursor: str
    send: EventCallback
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class SessionEventStore(EventStore):
    """The SDK's `EventStore` for one session (rule 4 is its own)."""

    def __init__(self, log: EventLog) -> None:
        self.log = log
        self._resuming: dict[str, _Resuming] = {}

    async def store_event(self, stream_id: str, message: types.JSONRPCMessage | None) -> str:
        resuming = self._resuming.get(stream_id)
        if message is None and resuming is not None:
            # The priming event of a resumed stream: the SDK goes live after it. Keep the cursor.
            del self._resuming[stream_id]
            return resuming.cursor
        size = len(message.model_dump_json(by_alias=True, exclude_none=True)) if message is not None else 0
        event_id = self.log.append(stream_id, message, size)
        if resuming is not None and message is not None:
            await self._forward(stream_id, resuming, event_id, message)
        return event_id

    async def _forward(self, stream_id: str, resuming: _Resuming, event_id: str, message: Any) -> None:
        async with resuming.lock:
            try:
                await resuming.send(EventMessage(message, event_id))
            except Exception:  # the resumed stream closed before it went live; a reconnect replays it
                self._resuming.pop(stream_id, None)
                return
            resuming.cursor = event_id

    async def replay_events_after(self, last_event_id: str, send_callback: EventCallback) -> str | None:
        found = self.log.after(last_event_id)
        if found is None:
            return None
        stream_id, later = found
        resuming = self._resuming[stream_id] = _Resuming(last_event_id, send_callback)
        async with resuming.lock:  # what is stored meanwhile follows, in order
            for event_id, message in later:
                await send_callback(EventMessage(message, event_id))
                resuming.cursor = event_id
        return stream_id


def per_session_stores(manager: StreamableHTTPSessionManager, make_log: Callable[[], EventLog]) -> None:
    """Give every session the manager opens its own `SessionEventStore` (rule 1).

    The manager must have been built with an event store (any), so that it runs resumable.

    Raises:
        RuntimeError: this SDK version opens sessions differently (no `_admit_session`); serving
            without per-session stores would mix sessions' events, so it refuses to start.
    """
    admit = getattr(manager, "_admit_session", None)
    if admit is None or manager.event_store is None:
        raise RuntimeError("the mcp SDK's session manager has changed: cannot scope SSE event stores per session")

    def admit_with_store(*args: Any, **kwargs: Any) -> StreamableHTTPServerTransport | None:
        transport: StreamableHTTPServerTransport | None = admit(*args, **kwargs)
        if transport is not None:
            log = make_log()
            transport._event_store = SessionEventStore(log)
            # The session's events go with it; their bytes return to the shared budget.
            weakref.finalize(transport, log.clear)
        return transport

    manager.__dict__["_admit_session"] = admit_with_store
