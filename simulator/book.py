"""The public order book of one symbol, in integer ticks and lots (sans-I/O).

Rules of this file:
1. A level's visible quantity is synthetic liquidity plus the resting sandbox-account orders at that
   price; both are integer lots of the symbol's step size.
2. Mutations only mark levels dirty; `commit()` assigns the next update id to the whole batch and
   hands the changed levels to listeners. One id space per symbol is shared by REST depth
   `lastUpdateId`, diff-stream `U`/`u` and bookTicker `u` (spec §7, simulator note).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from enum import Enum


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
        levels.set_synth(tick, lots)
        self._dirty.add((side, tick))
        if lots < before and self.synth_shrunk is not None and tick in levels.user:
            self.synth_shrunk(side, tick, lots)

    def add_user(self, side: Side, tick: int, lots: int) -> None:
        self.side(side).add_user(tick, lots)
        self._dirty.add((side, tick))

    def commit(self) -> int | None:
        """Close the current batch: new update id if anything changed, listeners notified."""
        if not self._dirty:
            return None
        self.update_id += 1
        changes = [(s, t, self.side(s).total(t)) for s, t in sorted(
            self._dirty, key=lambda st: (st[0].value, st[1]))]
        self._dirty.clear()
        for listener in list(self._listeners):
            listener(self.update_id, changes)
        return self.update_id

    def best_bid(self) -> tuple[int, int] | None:
        t = self.bids.best()
        return None if t is None else (t, self.bids.total(t))

    def best_ask(self) -> tuple[int, int] | None:
        t = self.asks.best()
        return None if t is None else (t, self.asks.total(t))
