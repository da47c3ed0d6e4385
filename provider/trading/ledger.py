"""Per client order id: one lock, and the last placement while its outcome still matters.

Two calls with one client order id (concurrent, or a client's retry while the exchange is slow)
must never both send: the whole check-then-place runs under the id's lock. The placement runs as
a task of its own, so a caller that gives up (its gRPC deadline, a cancelled MCP request) cannot
cancel it halfway and free the lock while an order is on the wire.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from provider.trading.placement import Placement, State

__all__ = ["LockTimeout", "PlacementLedger", "placement_from_json", "placement_to_json"]

T = TypeVar("T")


class LockTimeout(Exception):
    """Another call kept the client order id's lock past this call's budget."""


def placement_to_json(placement: Placement) -> str:
    """The placement as JSON, for a ledger that keeps it outside this process (``provider/shared/ledger.py``)."""
    return json.dumps({
        "client_order_id": placement.client_order_id, "recv_window_ms": placement.recv_window_ms,
        "margin_ms": placement.margin_ms, "state": placement.state.value, "known_at_ms": placement.known_at_ms,
        "lookups": placement.lookups, "history": [s.value for s in placement.history],
    }, separators=(",", ":"))


def placement_from_json(text: str | bytes) -> Placement:
    """The placement :func:`placement_to_json` wrote.

    Raises:
        ValueError: not such a placement (a foreign or damaged value).
    """
    try:
        d = json.loads(text)
        return Placement(
            str(d["client_order_id"]), int(d["recv_window_ms"]), int(d["margin_ms"]), State(d["state"]),
            None if d["known_at_ms"] is None else int(d["known_at_ms"]), int(d["lookups"]),
            [State(s) for s in d["history"]],
        )
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a stored placement: {exc}") from exc


class PlacementLedger:
    """Locks by client order id, remembered placements, and the tasks that run them.

    This is the in-process ledger of a single provider; ``provider/shared/ledger.py`` extends it so the
    lock and the placements live in Redis when replicas share them.
    """

    def __init__(self, keep_ms: int = 300_000) -> None:
        self.keep_ms = keep_ms
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiters: dict[str, int] = {}
        self._placements: dict[str, tuple[Placement, int]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    @asynccontextmanager
    async def hold(self, client_order_id: str, timeout_s: float) -> AsyncIterator[None]:
        """Holds the id's lock; raises :class:`LockTimeout` when another call keeps it past ``timeout_s``."""
        lock = self._locks.setdefault(client_order_id, asyncio.Lock())
        self._waiters[client_order_id] = self._waiters.get(client_order_id, 0) + 1
        try:
            try:
                await asyncio.wait_for(lock.acquire(), max(timeout_s, 0.001))
            except TimeoutError as exc:
                raise LockTimeout(client_order_id) from exc
            try:
                yield
            finally:
                lock.release()
        finally:
            self._waiters[client_order_id] -= 1
            if self._waiters[client_order_id] == 0:
                del self._waiters[client_order_id]
                del self._locks[client_order_id]

    def busy(self, client_order_id: str) -> bool:
        """True while a call holds or waits for the id's lock."""
        return client_order_id in self._locks

    def remember(self, placement: Placement, now_ms: int) -> None:
        """Keeps ``placement`` so a later call with its id continues from what is known."""
        self._placements[placement.client_order_id] = (placement, now_ms + self.keep_ms)
        for cid, (_, until) in list(self._placements.items()):
            if until < now_ms:
                del self._placements[cid]

    def recall(self, client_order_id: str, now_ms: int) -> Placement | None:
        """The remembered placement of the id, if it is recent enough to matter."""
        entry = self._placements.get(client_order_id)
        if entry is None or entry[1] < now_ms:
            return None
        return entry[0]

    def detach(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Runs ``coro`` as a task that a cancelled caller cannot cancel; await it shielded."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def run_to_end(self, coro: Coroutine[Any, Any, T]) -> T:
        """Runs ``coro`` detached and awaits it shielded: a caller that gives up (its client left, its
        deadline struck) cannot stop a send halfway, before its answer is recorded."""
        return await asyncio.shield(self.detach(coro))

    async def drain(self, timeout_s: float) -> None:
        """Waits (bounded) for placements still running, e.g. at shutdown."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout_s)
