"""Diff-depth event accumulation for one symbol and one speed (sans-I/O).

Rules (spec §6-§7):
1. Every book commit has an update id; an event covers `[U, u]` = (previous event's u + 1 .. the
   latest committed id) and carries each changed level's final absolute quantity (0 = removed).
2. Consecutive events are contiguous: next `U` == previous `u` + 1 — unless a gap is injected
   (`mark_gap`), in which case the changes of the first id committed *after* the fault are dropped
   and `U` skips it (what a lost packet would look like to a client). What was committed before the
   fault is cut into an event of its own first, so the lost id is newer than any REST snapshot
   served until then: every client whose book was synced when the fault came sees the gap, even
   one synced from a snapshot newer than the stream's last event (dropping the first *pending* id
   instead, which such a snapshot already holds, let its next event bridge: no gap to see).
3. While stalled, nothing is drained: changes accumulate and the first event after the stall
   covers the whole range, contiguous with the one before.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simulator.book import Change, Side


@dataclass
class DiffEvent:
    """The numbers of one `depthUpdate` event (levels as integer ticks and lots)."""

    first_id: int
    final_id: int
    bids: list[tuple[int, int]]
    asks: list[tuple[int, int]]


@dataclass
class DiffAccumulator:
    """Pending level changes since the last emitted event."""

    last_u: int
    latest: int = 0
    gap_pending: bool = False
    pending: dict[tuple[Side, int], tuple[int, int]] = field(default_factory=dict)
    """(side, tick) -> (total lots, id of its last change)."""
    ready: list[DiffEvent] = field(default_factory=list)
    """Events cut by `mark_gap`, emitted before anything newer."""

    def __post_init__(self) -> None:
        self.latest = self.last_u

    def on_commit(self, update_id: int, changes: list[Change]) -> None:
        self.latest = update_id
        for side, tick, total in changes:
            self.pending[(side, tick)] = (total, update_id)

    def mark_gap(self) -> None:
        """Lose the first id committed from now on (rule 2): cut what is pending into an event."""
        if self.latest > self.last_u:
            self.ready.append(self._cut(self.last_u + 1, self.pending))
        self.gap_pending = True

    def drain(self) -> DiffEvent | None:
        """The next event, or None when nothing changed (or a gap waits for more ids)."""
        if self.ready:
            return self.ready.pop(0)
        if self.latest <= self.last_u:
            return None
        first = self.last_u + 1
        items = self.pending
        if self.gap_pending:
            if self.latest == first:
                return None  # need a second id so the event after the gap is not empty
            items = {k: v for k, v in items.items() if v[1] != first}
            first += 1
            self.gap_pending = False
        return self._cut(first, items)

    def _cut(self, first: int, items: dict[tuple[Side, int], tuple[int, int]]) -> DiffEvent:
        bids = sorted(((t, q) for (s, t), (q, _) in items.items() if s is Side.BID), reverse=True)
        asks = sorted((t, q) for (s, t), (q, _) in items.items() if s is Side.ASK)
        event = DiffEvent(first, self.latest, bids, asks)
        self.last_u = self.latest
        self.pending = {}
        return event
