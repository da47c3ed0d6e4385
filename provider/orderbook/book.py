"""A sans-I/O local order book: exact prices, cheap top-N reads, Binance's update rule.

No sockets, no clocks, no awaits: the sync machine (`sync.py`) decides *when* to apply what, and the
manager moves frames. This module only knows how one book changes.

Rules this file implements (Binance spot docs, "How to manage a local order book correctly",
text corrected 2025-11-12; see shared/reference/binance-spot-api.md §7):

- Rule 1. A snapshot replaces the whole book; its ``lastUpdateId`` becomes the local update id.
- Rule 2. A diff event ``[U; u]`` with ``u <= local`` is stale and ignored (duplicates are normal).
- Rule 3. A diff event with ``U > local + 1`` means events were missed: a gap. Nothing is applied.
- Rule 4. Otherwise each ``[price, qty]`` sets the level to ``qty`` (quantities are absolute);
  ``qty == 0`` removes the level (removing an unknown level is normal); local becomes ``u``.
- Rule 5 (ours). A diff that would leave the book crossed (best bid >= best ask) is reverted and
  reported: the book stays at its last good state and the caller resyncs.

Prices and quantities are :class:`decimal.Decimal`, parsed from Binance's strings, so a price like
``0.00000001`` keeps its exact value. Each side keeps a dict ``price -> qty`` and an ascending
list of the same price objects (bids read from its end), kept sorted with :mod:`bisect`: a top-N
read is a slice plus N dict lookups; an update is an ``O(log n)`` search plus an ``O(n)`` memmove,
microseconds at 5000 levels (see benchmarks/orderbook_bench.py).

Depth that the book does not know is *marked*, never invented: a snapshot cut at its ``limit`` and
trimming of far levels leave a boundary price (``bid_floor`` / ``ask_ceiling``) beyond which levels
may be missing; :meth:`OrderBook.exact_depth` counts the levels inside it.
"""

from __future__ import annotations

import bisect
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

__all__ = [
    "BookError",
    "DiffOutcome",
    "Level",
    "OrderBook",
    "RawLevel",
    "Side",
    "parse_levels",
]

Level = tuple[Decimal, Decimal]
"""One price level: ``(price, quantity)``."""

RawLevel = Sequence[str | Decimal]
"""A level as Binance sends it: ``["0.00120000", "15.5"]`` (extra fields are ignored)."""

_ZERO = Decimal(0)


class BookError(ValueError):
    """A payload that cannot describe a book (bad number, negative quantity, ids out of order)."""


class Side(enum.Enum):
    """The side of a book."""

    BID = "bid"
    ASK = "ask"


class DiffOutcome(enum.Enum):
    """What :meth:`OrderBook.apply_diff` did with one event (Rules 2-5 of this module)."""

    APPLIED = "applied"
    STALE = "stale"
    GAP = "gap"
    CROSSED = "crossed"


def _parse_decimal(text: str | Decimal) -> Decimal:
    try:
        value = text if isinstance(text, Decimal) else Decimal(text)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise BookError(f"not a decimal number: {text!r}") from exc
    if not value.is_finite():
        raise BookError(f"not a finite number: {text!r}")
    return value


def parse_levels(raw: Iterable[RawLevel]) -> list[Level]:
    """Parse Binance ``[[price, qty], ...]`` pairs into exact decimals.

    Raises:
        BookError: a field is not a finite decimal, a price is not positive or a qty is negative.
    """
    out: list[Level] = []
    for item in raw:
        if len(item) < 2:
            raise BookError(f"level needs [price, qty]: {item!r}")
        price, qty = _parse_decimal(item[0]), _parse_decimal(item[1])
        if price <= _ZERO:
            raise BookError(f"price must be positive: {item[0]!r}")
        if qty < _ZERO:
            raise BookError(f"quantity must not be negative: {item[1]!r}")
        out.append((price, qty))
    return out


class _SideLevels:
    """One side: ``price -> qty`` plus the same price objects in an ascending list.

    Bids read the list from its end, so both containers share one Decimal per level.
    """

    __slots__ = ("_desc", "_keys", "_qty")

    def __init__(self, side: Side) -> None:
        self._desc = side is Side.BID
        self._keys: list[Decimal] = []
        self._qty: dict[Decimal, Decimal] = {}

    def __len__(self) -> int:
        return len(self._keys)

    def clear(self) -> None:
        self._keys.clear()
        self._qty.clear()

    def get(self, price: Decimal) -> Decimal | None:
        return self._qty.get(price)

    def set(self, price: Decimal, qty: Decimal) -> Decimal | None:
        """Set (or with ``qty == 0`` remove) a level; return the previous quantity."""
        old = self._qty.get(price)
        if qty == _ZERO:
            if old is not None:
                del self._qty[price]
                del self._keys[bisect.bisect_left(self._keys, price)]
            return old
        if old is None:
            bisect.insort(self._keys, price)
        self._qty[price] = qty
        return old

    def best(self) -> Level | None:
        if not self._keys:
            return None
        price = self._keys[-1] if self._desc else self._keys[0]
        return price, self._qty[price]

    def top(self, n: int) -> list[Level]:
        if n <= 0:
            return []
        qty = self._qty
        keys = self._keys[: -n - 1 : -1] if self._desc else self._keys[:n]
        return [(price, qty[price]) for price in keys]

    def count_within(self, bound: Decimal | None) -> int:
        """Levels at or better than ``bound`` (all levels when ``bound`` is None)."""
        if bound is None:
            return len(self._keys)
        if self._desc:
            return len(self._keys) - bisect.bisect_left(self._keys, bound)
        return bisect.bisect_right(self._keys, bound)

    def worst(self) -> Decimal | None:
        if not self._keys:
            return None
        return self._keys[0] if self._desc else self._keys[-1]

    def trim(self, keep: int) -> Decimal | None:
        """Drop levels beyond the best ``keep``; return the worst kept price if any were dropped."""
        extra = len(self._keys) - keep
        if extra <= 0:
            return None
        dropped = self._keys[:extra] if self._desc else self._keys[keep:]
        for price in dropped:
            del self._qty[price]
        if self._desc:
            del self._keys[:extra]
        else:
            del self._keys[keep:]
        return self.worst()

    def copy_into(self, other: _SideLevels) -> None:
        other._keys = self._keys.copy()
        other._qty = self._qty.copy()


@dataclass(frozen=True, slots=True)
class _Undo:
    """Previous quantities of the levels one diff touched, to revert a crossing diff."""

    last_update_id: int
    bids: list[tuple[Decimal, Decimal | None]]
    asks: list[tuple[Decimal, Decimal | None]]


class OrderBook:
    """One symbol's local book: snapshot, diffs with Binance's id rule, top-N reads.

    Args:
        max_levels: keep at most this many levels per side (far levels are trimmed and the
            boundary is marked); None keeps everything the stream sends.
    """

    __slots__ = ("_ask_ceiling", "_asks", "_bid_floor", "_bids", "_last_update_id", "max_levels")

    def __init__(self, *, max_levels: int | None = None) -> None:
        if max_levels is not None and max_levels < 1:
            raise ValueError("max_levels must be >= 1")
        self.max_levels = max_levels
        self._bids = _SideLevels(Side.BID)
        self._asks = _SideLevels(Side.ASK)
        self._last_update_id: int | None = None
        self._bid_floor: Decimal | None = None
        self._ask_ceiling: Decimal | None = None

    # -- state -------------------------------------------------------------------------------

    @property
    def last_update_id(self) -> int | None:
        """The update id the book reflects; None before the first snapshot."""
        return self._last_update_id

    @property
    def bid_floor(self) -> Decimal | None:
        """Bids below this price may be missing (snapshot cut or trimming); None: none missing."""
        return self._bid_floor

    @property
    def ask_ceiling(self) -> Decimal | None:
        """Asks above this price may be missing; None: none missing."""
        return self._ask_ceiling

    def __len__(self) -> int:
        return len(self._bids) + len(self._asks)

    def depth(self, side: Side) -> int:
        """Number of levels held on ``side``."""
        return len(self._side(side))

    def exact_depth(self, side: Side) -> int:
        """Number of best levels on ``side`` with no unknown level among them."""
        bound = self._bid_floor if side is Side.BID else self._ask_ceiling
        return self._side(side).count_within(bound)

    # -- writes ------------------------------------------------------------------------------

    def apply_snapshot(
        self,
        last_update_id: int,
        bids: Iterable[RawLevel],
        asks: Iterable[RawLevel],
        *,
        depth_limit: int | None = None,
    ) -> None:
        """Replace the book with a REST ``/api/v3/depth`` snapshot (Rule 1).

        Args:
            depth_limit: the ``limit`` the snapshot was requested with; a side that came back
                that full is assumed cut, so its worst price becomes the known-depth boundary.

        Raises:
            BookError: a level is malformed, or the snapshot itself is crossed.
        """
        parsed_bids, parsed_asks = parse_levels(bids), parse_levels(asks)
        self._bids.clear()
        self._asks.clear()
        for price, qty in parsed_bids:
            self._bids.set(price, qty)
        for price, qty in parsed_asks:
            self._asks.set(price, qty)
        self._last_update_id = last_update_id
        cut_bids = depth_limit is not None and len(parsed_bids) >= depth_limit
        cut_asks = depth_limit is not None and len(parsed_asks) >= depth_limit
        self._bid_floor = self._bids.worst() if cut_bids else None
        self._ask_ceiling = self._asks.worst() if cut_asks else None
        self._trim()
        if self.is_crossed():
            self.clear()
            raise BookError("snapshot is crossed")

    def apply_diff(
        self,
        first_update_id: int,
        final_update_id: int,
        bids: Iterable[RawLevel],
        asks: Iterable[RawLevel],
    ) -> DiffOutcome:
        """Apply one ``depthUpdate`` event ``[U; u]`` following Rules 2-5.

        Raises:
            BookError: no snapshot yet, ``U > u``, or a malformed level (book left unchanged).
        """
        local = self._last_update_id
        if local is None:
            raise BookError("apply_diff before the first snapshot")
        if first_update_id > final_update_id:
            raise BookError(f"U={first_update_id} > u={final_update_id}")
        if final_update_id <= local:
            return DiffOutcome.STALE
        if first_update_id > local + 1:
            return DiffOutcome.GAP
        parsed_bids, parsed_asks = parse_levels(bids), parse_levels(asks)
        undo = _Undo(
            local,
            [(p, self._bids.set(p, q)) for p, q in parsed_bids],
            [(p, self._asks.set(p, q)) for p, q in parsed_asks],
        )
        self._last_update_id = final_update_id
        if self.is_crossed():
            self._revert(undo)
            return DiffOutcome.CROSSED
        self._trim()
        return DiffOutcome.APPLIED

    def clear(self) -> None:
        """Forget everything (no snapshot)."""
        self._bids.clear()
        self._asks.clear()
        self._last_update_id = None
        self._bid_floor = self._ask_ceiling = None

    def _revert(self, undo: _Undo) -> None:
        # Undo in reverse so a price repeated within one event ends at its first old value.
        for price, old in reversed(undo.bids):
            self._bids.set(price, _ZERO if old is None else old)
        for price, old in reversed(undo.asks):
            self._asks.set(price, _ZERO if old is None else old)
        self._last_update_id = undo.last_update_id

    def _trim(self) -> None:
        if self.max_levels is None:
            return
        worst_bid = self._bids.trim(self.max_levels)
        if worst_bid is not None:
            self._bid_floor = worst_bid if self._bid_floor is None else max(
                self._bid_floor, worst_bid
            )
        worst_ask = self._asks.trim(self.max_levels)
        if worst_ask is not None:
            self._ask_ceiling = worst_ask if self._ask_ceiling is None else min(
                self._ask_ceiling, worst_ask
            )

    # -- reads -------------------------------------------------------------------------------

    def _side(self, side: Side) -> _SideLevels:
        return self._bids if side is Side.BID else self._asks

    def best_bid(self) -> Level | None:
        """Highest bid, or None on an empty side."""
        return self._bids.best()

    def best_ask(self) -> Level | None:
        """Lowest ask, or None on an empty side."""
        return self._asks.best()

    def is_crossed(self) -> bool:
        """True when best bid >= best ask, which a correct book never shows."""
        bid, ask = self._bids.best(), self._asks.best()
        return bid is not None and ask is not None and bid[0] >= ask[0]

    def bids(self, n: int) -> list[Level]:
        """The best ``n`` bids, highest price first."""
        return self._bids.top(n)

    def asks(self, n: int) -> list[Level]:
        """The best ``n`` asks, lowest price first."""
        return self._asks.top(n)

    def levels(self, n: int) -> tuple[list[Level], list[Level]]:
        """The best ``n`` levels of each side: ``(bids, asks)``."""
        return self._bids.top(n), self._asks.top(n)

    def quantity(self, side: Side, price: Decimal) -> Decimal | None:
        """The quantity at ``price`` on ``side``, or None when there is no such level."""
        return self._side(side).get(price)

    def copy(self) -> OrderBook:
        """An independent copy (O(levels), no parsing): what readers hold while the book moves."""
        other = OrderBook(max_levels=self.max_levels)
        self._bids.copy_into(other._bids)
        self._asks.copy_into(other._asks)
        other._last_update_id = self._last_update_id
        other._bid_floor, other._ask_ceiling = self._bid_floor, self._ask_ceiling
        return other
