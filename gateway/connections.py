"""Which HTTP connections the gateway keeps: pure bookkeeping, the caller closes what it is told to.

A connection is *busy* while one of its requests is being served (headers complete, response not
yet complete; a GET event stream stays busy for its whole life) and *idle* otherwise: opened
but no complete request headers yet, or kept alive between requests.

Rules:
1. At most `max_per_client` connections per client address and `max_total` in all.
2. A new connection over a limit takes the place of the oldest idle connection that counts
   against that limit (the per-client limit first, then the total); if there is none, the new
   connection is refused. Busy connections are never closed to make room, so a client whose
   requests arrive promptly keeps being served while thousands of header-less (slowloris)
   connections push each other out.
3. Among idle connections, one that has never completed a request's headers goes first (the
   oldest of those), before a kept-alive one that has served requests: a flood of header-less
   connections does not close a working client's pooled connection between its requests.
4. The caller closes the connections `open` returns, and reports every close with `close`.

`ConnectionBook` decides; the shell (`gateway/http.py`) performs and times (header deadlines).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = ["ConnectionBook", "Opened"]

K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class Opened(Generic[K]):
    """The decision on a new connection."""

    admitted: bool
    close: tuple[K, ...] = ()
    """Idle connections to close to make room (empty when refused)."""


@dataclass
class ConnectionBook(Generic[K]):
    """Open connections per client, oldest idle first; pure, no I/O, no clock."""

    max_total: int
    max_per_client: int
    _client: dict[K, str] = field(default_factory=dict)
    _count: dict[str, int] = field(default_factory=dict)
    _idle: OrderedDict[K, None] = field(default_factory=OrderedDict)
    _idle_by_client: dict[str, OrderedDict[K, None]] = field(default_factory=dict)
    _fresh: OrderedDict[K, None] = field(default_factory=OrderedDict)
    """Open connections that never completed a request's headers (rule 3), oldest first."""

    def __post_init__(self) -> None:
        if self.max_total <= 0 or self.max_per_client <= 0:
            raise ValueError("connection limits must be positive")

    def open(self, conn: K, client: str) -> Opened[K]:
        """Admit `conn` from `client` (rule 2); it starts idle."""
        victims: list[K] = []
        if self._count.get(client, 0) >= self.max_per_client:
            victim = self._victim(self._idle_by_client.get(client, OrderedDict()), victims)
            if victim is None:
                return Opened(False)
            victims.append(victim)
        if len(self._client) - len(victims) >= self.max_total:
            victim = next((c for c in self._fresh if c not in victims), None)  # fresh ones are idle
            if victim is None:
                victim = next((c for c in self._idle if c not in victims), None)
            if victim is None:
                return Opened(False)
            victims.append(victim)
        for victim in victims:
            self.close(victim)
        self._client[conn] = client
        self._count[client] = self._count.get(client, 0) + 1
        self._set_idle(conn, client)
        self._fresh[conn] = None
        return Opened(True, tuple(victims))

    def busy(self, conn: K) -> None:
        """A request of `conn` is being served: it may not be closed to make room."""
        client = self._client.get(conn)
        if client is not None:
            self._idle.pop(conn, None)
            self._fresh.pop(conn, None)
            self._idle_by_client.get(client, OrderedDict()).pop(conn, None)

    def idle(self, conn: K) -> None:
        """`conn` waits for its next request: it may be closed to make room (the oldest first)."""
        client = self._client.get(conn)
        if client is not None:
            self._set_idle(conn, client)

    def close(self, conn: K) -> None:
        """Forget `conn` (closed by either side); unknown connections are ignored."""
        client = self._client.pop(conn, None)
        if client is None:
            return
        self._idle.pop(conn, None)
        self._fresh.pop(conn, None)
        by_client = self._idle_by_client.get(client)
        if by_client is not None:
            by_client.pop(conn, None)
            if not by_client:
                del self._idle_by_client[client]
        self._count[client] -= 1
        if self._count[client] == 0:
            del self._count[client]

    def is_idle(self, conn: K) -> bool:
        """True while `conn` is open and not serving a request."""
        return conn in self._idle

    def __len__(self) -> int:
        return len(self._client)

    def count(self, client: str) -> int:
        """Open connections of `client`."""
        return self._count.get(client, 0)

    def _victim(self, idle: OrderedDict[K, None], taken: list[K]) -> K | None:
        """The connection of `idle` to close (rule 3): the oldest never-served one, else the oldest."""
        fallback: K | None = None
        for conn in idle:
            if conn in taken:
                continue
            if conn in self._fresh:
                return conn
            if fallback is None:
                fallback = conn
        return fallback

    def _set_idle(self, conn: K, client: str) -> None:
        self._idle.pop(conn, None)
        self._idle[conn] = None
        self._idle_by_client.setdefault(client, OrderedDict())[conn] = None
