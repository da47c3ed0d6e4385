"""One user data connection per account, shared by replicas: the pure rules of what travels (issue 19).

The replica holding the account's lease (``book_lease.py``, the same rules as a book's) runs the
user data stream as one provider always did; every input it gives its ``AccountState`` is also
published, in order, to a Redis stream: ``b`` begin_resync(reason), ``s`` load_snapshot(account,
open orders), ``e`` apply(event), ``a`` abort_resync(reason), ``d`` down(reason), and ``h`` a
heartbeat. The others replay those inputs on their own ``AccountState``, which is deterministic, so
they hold the same state without a connection of their own. Rules:

- Rule 1. Each entry carries the holder's fence and a sequence number (1, 2, ... per fence).
- Rule 2. A follower starts replaying at a ``b`` entry (a resync: the whole state is rebuilt from
  the snapshot that follows) and goes on while every entry follows the last (same fence, next
  number). Anything else is a gap: its state goes DOWN (reads fall back to REST, as before the stream
  was live) until the next ``b``, and it asks the holder for a resync.
- Rule 3. Entries of a fence older than one seen are ignored (Redis refuses a stale holder's writes).
- Rule 4 (shell). Nothing heard for ``stale_after_s``, heartbeats included: the state goes DOWN too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["KINDS", "AccountEntry", "AccountFollow", "Gap", "decode", "encode"]

KINDS = frozenset({"b", "s", "e", "a", "d", "h"})


@dataclass(frozen=True, slots=True)
class AccountEntry:
    """One published input of the holder's account state."""

    fence: int
    seq: int
    kind: str
    payload: Any = None


@dataclass(frozen=True, slots=True)
class Gap:
    """The published inputs no longer follow on: the state is not known (Rule 2)."""

    reason: str


def encode(entry: AccountEntry) -> dict[str, str]:
    """The stream entry's fields."""
    return {"f": str(entry.fence), "n": str(entry.seq), "k": entry.kind,
            "p": json.dumps(entry.payload, separators=(",", ":"))}


def decode(fields: Mapping[str, str]) -> AccountEntry:
    """Parse a stream entry.

    Raises:
        ValueError: not an entry this module writes.
    """
    try:
        entry = AccountEntry(int(fields["f"]), int(fields["n"]), fields["k"], json.loads(fields["p"]))
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a published account entry: {exc!r}") from exc
    if entry.kind not in KINDS:
        raise ValueError(f"unknown published account entry kind {entry.kind!r}")
    return entry


class AccountFollow:
    """Which published inputs a follower replays (see the module rules)."""

    def __init__(self) -> None:
        self.fence = 0
        self.seq = 0
        self.replaying = False  # inside a contiguous run that began with a resync
        self.gaps = 0

    def feed(self, entry: AccountEntry) -> AccountEntry | Gap | None:
        """The entry to replay, a :class:`Gap`, or None (nothing to do)."""
        if entry.fence < self.fence:
            return None  # Rule 3
        follows = entry.fence == self.fence and entry.seq == self.seq + 1
        self.fence, self.seq = entry.fence, entry.seq
        if entry.kind == "b":
            self.replaying = True
            return entry
        if not follows:
            was, self.replaying = self.replaying, False
            if was:
                self.gaps += 1
                return Gap(f"published account inputs skipped to {entry.fence}/{entry.seq}")
            return None
        if not self.replaying or entry.kind == "h":
            return None
        return entry

    def lost(self) -> None:
        """The holder went silent or the lease changed: replay again only from the next resync."""
        self.replaying = False
