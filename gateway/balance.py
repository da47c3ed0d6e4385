"""Which replica of one provider serves the next call: pure bookkeeping, no I/O, no clock.

One provider name may have several addresses (replicas sharing state through Redis, issue #19).
`ReplicaBook` decides; `gateway/providers.py` watches health, discovers and performs the calls.

Rules:
1. A replica is *eligible* when its health says SERVING, no call to it failed UNAVAILABLE since
   (a *suspect* replica waits for a health check to clear it), and its catalog is the agreed one.
2. Calls rotate over the eligible replicas in address order, so load spreads evenly.
3. The agreed catalog is the one most serving replicas present (all replicas with a catalog when
   none is serving); a tie goes to the catalog of the first address. A replica presenting another
   catalog gets no calls until it agrees (a rolling upgrade: the majority's catalog is served, the
   clients see one list change when the majority moves, including when a replica going down
   moves it).
4. With no eligible replica the rotation still names one (the next in order): the call then fails
   fast as "unreachable", or reaches a replica that is just back, exactly as with one address.
5. A retry after UNAVAILABLE goes to another eligible replica when there is one (`pick(avoid=…)`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field

__all__ = ["ReplicaBook"]


@dataclass
class ReplicaBook:
    """Health, suspicion and catalog key of each replica of one provider; picks the next one."""

    size: int
    _serving: list[bool] = field(init=False)
    _suspect: list[bool] = field(init=False)
    _keys: list[bytes | None] = field(init=False)
    _agreed: bytes | None = field(init=False, default=None)
    _next: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        if self.size <= 0:
            raise ValueError("a provider needs at least one address")
        self._serving = [False] * self.size
        self._suspect = [False] * self.size
        self._keys = [None] * self.size

    # -- facts reported by the shell -----------------------------------------------------------

    def set_serving(self, index: int, serving: bool) -> None:
        """Health said SERVING (or not); a SERVING answer also clears suspicion (rule 1)."""
        self._serving[index] = serving
        if serving:
            self._suspect[index] = False
        self._agree()

    def suspect(self, index: int) -> None:
        """A call to `index` failed UNAVAILABLE: no calls until health clears it."""
        self._suspect[index] = True

    def health(self, index: int) -> bool:
        """The replica's last health answer (SERVING or not), suspicion aside."""
        return self._serving[index]

    def is_suspect(self, index: int) -> bool:
        """True while a failed call's suspicion has not been cleared by a health answer."""
        return self._suspect[index]

    def catalog(self, index: int) -> bytes | None:
        """The replica's last catalog key, None before its first discovery."""
        return self._keys[index]

    def set_catalog(self, index: int, key: bytes) -> None:
        """The replica's latest catalog (its comparison key)."""
        self._keys[index] = key
        self._agree()

    # -- decisions ------------------------------------------------------------------------------

    @property
    def agreed(self) -> bytes | None:
        """The catalog key calls are served under (rule 3); None before any discovery."""
        return self._agreed

    def agreeing(self) -> list[int]:
        """Replicas whose catalog is the agreed one, in address order."""
        return [i for i, k in enumerate(self._keys) if k is not None and k == self._agreed]

    def differing(self) -> list[int]:
        """Replicas with a catalog other than the agreed one (they get no calls)."""
        return [i for i, k in enumerate(self._keys) if k is not None and k != self._agreed]

    def eligible(self, index: int) -> bool:
        """Rule 1."""
        return self._serving[index] and not self._suspect[index] and self._keys[index] == self._agreed

    def any_eligible(self, avoid: Collection[int] = ()) -> bool:
        """True when some replica outside `avoid` may take a call now."""
        return any(self.eligible(i) for i in range(self.size) if i not in avoid)

    def serving(self) -> bool:
        """True when at least one replica's health says SERVING."""
        return any(self._serving)

    def pick(self, avoid: Collection[int] = ()) -> int:
        """The replica for the next call (rules 2, 4 and 5)."""
        chosen = self.peek(avoid)
        self._next = (chosen + 1) % self.size
        return chosen

    def peek(self, avoid: Collection[int] = ()) -> int:
        """The replica `pick` would choose, without moving the rotation (for control-plane reads)."""
        order = [(self._next + k) % self.size for k in range(self.size)]
        chosen = next((i for i in order if self.eligible(i) and i not in avoid), None)
        if chosen is None:
            chosen = next((i for i in order if i not in avoid), order[0])
        return chosen

    def _agree(self) -> None:
        serving = [k for k, up in zip(self._keys, self._serving, strict=True) if k is not None and up]
        voters = serving or [k for k in self._keys if k is not None]
        if not voters:
            return  # keep the last agreement: replicas that are down keep their last catalog
        votes = Counter(voters)
        best = max(votes.values())
        # Ties go to the first address among the voters' replicas (rule 3).
        self._agreed = next(k for k in voters if votes[k] == best)
