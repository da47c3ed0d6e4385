"""The public order book of one symbol, in integer ticks and lots (sans-I/O).

Rules of this file:
1. A level's visible quantity is synthetic liquidity plus the resting sandbox-account orders at that
   price; both are integer lots of the symbol's step size.
2. Mutations only mark levels dirty; `commit()` assigns the next update id to the whole batch and
   hands the changed levels to listeners. One id space per symbol is shared by REST depth
   `lastUpdateId`, diff-stream `U`/`u` and bookTicker `u` (spec §7, simulator note).
3. The last `HISTORY` commits are kept with the totals they replaced, so the book as it was at a
   recent update id can be rebuilt (`levels_at`): what a REST depth copy that lags the stream
   serves (fault `snapshot_lag`). `mark(now_ms)` notes which id was current when, so a lag in
   milliseconds maps to an update id (`update_id_at`).
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Callable
from enum import Enum

HISTORY = 5000
"""Commits kept for `levels_at` (rule 3)."""


class Side(Enum):
    """Book side."""

    BID = "BID"
    ASK = "ASK"

    @property
    def opposite(self) -> Side:
        return Side.ASK if self is Side.BID else Side.BID


Change = tuple[Side, int, int]
"""(side, tick, new total lots) — total 0 means the level is gone."""
Listener = Callable[[int, list[Change]], None]


class SideLevels:
    """One side: tick -> lots for synthetic and account liquidity, with sorted ticks."""

    def __init__(self, side: Side) -> None:
        self.side = side
        self.synth: dict[int, int] = {}
        self.user: dict[int, int] = {}
        self.ticks: list[int] = []  # ascending, every tick with total > 0

    def total(self, tick: int) -> int:
        return self.synth.get(tick, 0) + self.user.get(tick, 0)

    def best(self) -> int | None:
        if not self.ticks:
            return None
        return self.ticks[-1] if self.side is Side.BID else self.ticks[0]

    def worst(self) -> int | None:
        if not self.ticks:
            return None
        return self.ticks[0] if self.side is Side.BID else self.ticks[-1]

    def iter_best(self) -> list[int]:
        """Ticks from best to worst (a copy: callers may mutate while walking)."""
        return self.ticks[::-1] if self.side is Side.BID else list(self.ticks)

    def top(self, n: int) -> list[tuple[int, int]]:
        ticks = self.ticks[-n:][::-1] if self.side is Side.BID else self.ticks[:n]
        return [(t, self.total(t)) for t in ticks]

    def _reindex(self, tick: int, before: int) -> None:
        after = self.total(tick)
        if before == 0 and after > 0:
            bisect.insort(self.ticks, tick)
        elif before > 0 and after == 0:
            i = bisect.bisect_left(self.ticks, tick)
            del self.ticks[i]

    def set_synth(self, tick: int, lots: int) -> None:
        before = self.total(tick)
        if lots > 0:
            self.synth[tick] = lots
        else:
            self.synth.pop(tick, None)
        self._reindex(tick, before)

    def add_user(self, tick: int, lots: int) -> None:
        before = self.total(tick)
        now = self.user.get(tick, 0) + lots
        if now > 0:
            self.user[tick] = now
        else:
            self.user.pop(tick, None)
        self._reindex(tick, before)


class SimBook:
    """Both sides of one symbol's book plus its update-id sequence."""

    def __init__(self, update_id: int = 1) -> None:
        self.bids = SideLevels(Side.BID)
        self.asks = SideLevels(Side.ASK)
        self.update_id = update_id
        self._dirty: set[tuple[Side, int]] = set()
        self._before: dict[tuple[Side, int], int] = {}
        self.history: deque[tuple[int, list[Change]]] = deque(maxlen=HISTORY)
        """(update id, [(side, tick, total before that commit)]) per commit, oldest first."""
        self.marks: deque[tuple[int, int]] = deque(maxlen=HISTORY)
        """(time ms, update id current then), oldest first (rule 3)."""
        self._listeners: list[Listener] = []
        self.synth_shrunk: Callable[[Side, int, int], None] | None = None
        """Called with (side, tick, new synthetic lots) when synthetic size at a level drops, so
        queue positions of resting account orders behind it can move up."""

    def side(self, side: Side) -> SideLevels:
        return self.bids if side is Side.BID else self.asks

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def set_synth(self, side: Side, tick: int, lots: int) -> None:
        levels = self.side(side)
        before = levels.synth.get(tick, 0)
        self._before.setdefault((side, tick), levels.total(tick))
        levels.set_synth(tick, lots)
        self._dirty.add((side, tick))
        if lots < before and self.synth_shrunk is not None and tick in levels.user:
            self.synth_shrunk(side, tick, lots)

    def add_user(self, side: Side, tick: int, lots: int) -> None:
        self._before.setdefault((side, tick), self.side(side).total(tick))
        self.side(side).add_user(tick, lots)
        self._dirty.add((side, tick))

    def commit(self) -> int | None:
        """Close the current batch: new update id if anything changed, listeners notified."""
        if not self._dirty:
            return None
        self.update_id += 1
        changes = [(s, t, self.side(s).total(t)) for s, t in sorted(
            self._dirty, key=lambda st: (st[0].value, st[1]))]
        before = self._before
        self.history.append((self.update_id, [(s, t, before.get((s, t), 0)) for s, t, _ in changes]))
        self._dirty.clear()
        self._before = {}
        for listener in list(self._listeners):
            listener(self.update_id, changes)
        return self.update_id

    def mark(self, now_ms: int) -> None:
        """Note that `update_id` is current at `now_ms` (rule 3)."""
        if not self.marks or self.marks[-1][1] != self.update_id:
            self.marks.append((now_ms, self.update_id))

    def update_id_at(self, time_ms: int) -> int:
        """The update id that was current at `time_ms` (as far back as the marks go)."""
        found = self.marks[0][1] if self.marks else self.update_id
        for at, update_id in reversed(self.marks):
            if at <= time_ms:
                return update_id
        return found

    def levels_at(self, update_id: int) -> tuple[int, dict[int, int], dict[int, int]]:
        """The book as it was at `update_id` (or the oldest id the history reaches):
        `(id, bid tick -> lots, ask tick -> lots)`."""
        bids = {t: self.bids.total(t) for t in self.bids.ticks}
        asks = {t: self.asks.total(t) for t in self.asks.ticks}
        at = self.update_id
        for commit_id, undo in reversed(self.history):
            if commit_id <= update_id:
                break
            for side, tick, total in undo:
                levels = bids if side is Side.BID else asks
                if total:
                    levels[tick] = total
                else:
                    levels.pop(tick, None)
            at = commit_id - 1
        return at, bids, asks

    def best_bid(self) -> tuple[int, int] | None:
        t = self.bids.best()
        return None if t is None else (t, self.bids.total(t))

    def best_ask(self) -> tuple[int, int] | None:
        t = self.asks.best()
        return None if t is None else (t, self.asks.total(t))
