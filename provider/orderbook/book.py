"""A sans-I/O local order book: exact prices, cheap ingest, cheap top-N reads, Binance's update rule.

No sockets, no clocks, no awaits: the sync machine (`sync.py`) decides *when* to apply what, and the
manager moves frames. This module only knows how one book changes.

Rules this file implements (Binance spot docs, "How to manage a local order book correctly",
text corrected 2025-11-12; see shared/reference/binance-spot-api.md §7):

- Rule 1. A snapshot replaces the whole book; its ``lastUpdateId`` becomes the local update id.
- Rule 2. A diff event ``[U; u]`` with ``u <= local`` is stale and ignored (duplicates are normal).
- Rule 3. A diff event with ``U > local + 1`` means events were missed: a gap. Nothing is applied.
- Rule 4. Otherwise each ``[price, qty]`` sets the level to ``qty`` (quantities are absolute);
  ``qty == 0`` removes the level (removing an unknown level is normal); local becomes ``u``.
- Rule 5 (ours). Diffs that would leave the book crossed (best bid >= best ask) are reverted and
  reported: the book goes back to its last settled state and the caller resyncs.

How (the ingest path parses nothing):

- Rule 6. An applied event is only *recorded*: its levels go into a pending overlay per side, the
  exchange's own strings, last write wins (quantities are absolute, so only the last one matters).
  That is two ``dict.update`` calls per event, whatever the event holds.
- Rule 7. :meth:`OrderBook.settle` folds the overlay into the book: it parses each changed level
  once (a price string seen before costs a dict lookup), checks every value (a positive price, a
  non-negative quantity, finite, at most 18 decimals, within int64 units), checks that the result
  is not crossed, and only then changes anything. Every read settles first, and so does an
  overlay that grows past ``_PENDING_MAX`` levels; the sync machine settles before it serves.
  A failure (crossed, malformed) leaves the book at its last settled state and is also kept in
  :attr:`OrderBook.failure` until someone takes it.
- Rule 8. Settled levels are exact integers: prices in units of ``10**-price_scale`` and
  quantities in units of ``10**-qty_scale``, the scales being the most decimals seen (a value
  with more decimals rescales the book, exactly). Each side is two ``array('q')`` sorted so that
  the best level is last (asks are stored negated): 16 bytes a level, and an insertion near the
  top moves a few bytes. Reads build :class:`~decimal.Decimal` pairs with the scale's exponent
  (``0.00000010`` keeps its digits), cached per level.
- Rule 9. Two spellings of one price inside one settle window (``"1.0"`` and ``"1.00"``) cannot
  be ordered, so they are refused as malformed (the stream always spells a price one way).

Depth that the book does not know is *marked*, never invented: a snapshot cut at its ``limit`` and
trimming of far levels leave a boundary price (``bid_floor`` / ``ask_ceiling``) beyond which levels
may be missing; :meth:`OrderBook.exact_depth` counts the levels inside it.
"""

from __future__ import annotations

import bisect
import contextlib
import enum
from array import array
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

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
"""A level as Binance sends it: ``["0.00120000", "15.5"]`` (exactly two fields)."""

_ZERO = Decimal(0)
_PENDING_MAX = 512  # overlay levels per side before an ingest settles by itself (Rule 7)
_KEY_CACHE_MAX = 1024  # price strings remembered per side
_READ_CACHE_MAX = 600  # price Decimals remembered per side
_TOP_MAX = 200  # levels a side kept materialised for reads (deeper reads convert)
_MAX_SCALE = 18
_INT64 = 2**63 - 1


class BookError(ValueError):
    """A payload that cannot describe a book (bad number, negative quantity, ids out of order)."""


class Side(enum.Enum):
    """The side of a book."""

    BID = "bid"
    ASK = "ask"


class DiffOutcome(enum.Enum):
    """What :meth:`OrderBook.apply_diff` or :meth:`OrderBook.settle` did (Rules 2-7)."""

    APPLIED = "applied"
    STALE = "stale"
    GAP = "gap"
    CROSSED = "crossed"
    MALFORMED = "malformed"


_APPLIED, _STALE, _GAP = DiffOutcome.APPLIED, DiffOutcome.STALE, DiffOutcome.GAP


class _Rescale(Exception):
    """A value needs more decimals than the book's scale (Rule 8)."""

    def __init__(self, decimals: int, price: bool = False) -> None:
        super().__init__(decimals)
        self.decimals = decimals
        self.price = price


def _decimal(text: str | Decimal) -> Decimal:
    try:
        value = text if isinstance(text, Decimal) else Decimal(text)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise BookError(f"not a decimal number: {text!r}") from exc
    if not value.is_finite():
        raise BookError(f"not a finite number: {text!r}")
    return value


def _units(text: str | Decimal, scale: int) -> int:
    """``text`` in units of ``10**-scale``, exactly.

    Raises:
        BookError: not a finite decimal, or out of int64 units.
        _Rescale: it has more decimals than ``scale``.
    """
    if type(text) is str:
        dot = text.find(".")
        try:
            if dot > 0 and len(text) - dot - 1 == scale:  # Binance's own spelling: the fast path
                value = int(text.replace(".", "", 1))
            elif dot < 0 and scale == 0:
                value = int(text)
            else:
                value = _units_slow(text, scale)
        except ValueError:
            value = _units_slow(text, scale)
    else:
        value = _units_slow(text, scale)
    if value > _INT64 or value < -_INT64:
        raise BookError(f"out of range: {text!r}")
    return value


def _units_slow(text: str | Decimal, scale: int) -> int:
    value = _decimal(text)
    scaled = value.scaleb(scale)
    if scaled != scaled.to_integral_value():
        exponent = value.normalize().as_tuple().exponent
        assert isinstance(exponent, int)
        if -exponent > _MAX_SCALE:
            raise BookError(f"more than {_MAX_SCALE} decimals: {text!r}")
        raise _Rescale(-exponent)
    return int(scaled)


def parse_levels(raw: Iterable[RawLevel]) -> list[Level]:
    """Parse Binance ``[[price, qty], ...]`` pairs into exact decimals.

    Raises:
        BookError: a field is not a finite decimal, a price is not positive or a qty is negative.
    """
    out: list[Level] = []
    for item in raw:
        if len(item) < 2:
            raise BookError(f"level needs [price, qty]: {item!r}")
        price, qty = _decimal(item[0]), _decimal(item[1])
        if price <= _ZERO:
            raise BookError(f"price must be positive: {item[0]!r}")
        if qty < _ZERO:
            raise BookError(f"quantity must not be negative: {item[1]!r}")
        out.append((price, qty))
    return out


class _SideLevels:
    """One side: signed price keys ascending (best last) and their lots, plus the overlay and a
    materialised top (``top_keys`` negated ascending, ``top_levels`` best first) that settling
    patches level by level, so a read after a change converts only what changed."""

    __slots__ = ("bound", "keycache", "keys", "lots", "pending", "pq", "prices", "qq", "sign",
                 "top_keys", "top_levels", "top_n")

    def __init__(self, side: Side) -> None:
        self.sign = 1 if side is Side.BID else -1
        self.keys = array("q")
        self.lots = array("q")
        self.bound: int | None = None  # keys below it may be missing (snapshot cut, trimming)
        self.pending: dict[str | Decimal, str | Decimal] = {}
        self.keycache: dict[str | Decimal, int] = {}
        self.prices: dict[int, Decimal] = {}  # key -> its price as a Decimal (it never changes)
        self.pq = self.qq = Decimal(1)  # one unit of price / quantity (Rule 8)
        self.top_n = 0  # levels materialised (0: none)
        self.top_keys: list[int] = []
        self.top_levels: list[Level] = []

    def find(self, key: int) -> int:
        """Index of ``key``, or -1."""
        keys = self.keys
        i = bisect.bisect_left(keys, key)
        return i if i < len(keys) and keys[i] == key else -1

    def best_after(self, changes: dict[int, int]) -> int | None:
        """The best key once ``changes`` are applied (Rule 5 is checked before applying)."""
        best = max((k for k, v in changes.items() if v), default=None)
        keys, i = self.keys, len(self.keys) - 1
        while i >= 0 and changes.get(keys[i], 1) == 0:
            i -= 1
        if i >= 0 and (best is None or keys[i] > best):
            return keys[i]
        return best

    def level(self, key: int, value: int) -> Level:
        price = self.prices.get(key)
        if price is None:
            if len(self.prices) >= _READ_CACHE_MAX:
                self.prices.clear()
            price = self.prices[key] = Decimal(self.sign * key) * self.pq
        return price, Decimal(value) * self.qq

    def apply(self, changes: dict[int, int]) -> None:
        keys, lots = self.keys, self.lots
        for key, value in changes.items():
            i = bisect.bisect_left(keys, key)
            if i < len(keys) and keys[i] == key:
                if value:
                    lots[i] = value
                else:
                    del keys[i]
                    del lots[i]
            elif value:
                keys.insert(i, key)
                lots.insert(i, value)
        if self.top_n:
            self._patch_top(changes)

    def _patch_top(self, changes: dict[int, int]) -> None:
        """Bring the materialised top in line with the arrays, touching only what changed.

        It always holds the best ``min(top_n, len(keys))`` levels: a new level goes in only
        above its worst entry (or anywhere when it holds the whole side); levels that leave it
        are refilled from the arrays below its worst entry.
        """
        top_keys, top_levels, n = self.top_keys, self.top_levels, self.top_n
        whole_side = len(top_keys) < n
        for key, value in changes.items():
            neg = -key
            i = bisect.bisect_left(top_keys, neg)
            if i < len(top_keys) and top_keys[i] == neg:
                if value:
                    top_levels[i] = self.level(key, value)
                else:
                    del top_keys[i]
                    del top_levels[i]
            elif value and (i < len(top_keys) or whole_side):
                top_keys.insert(i, neg)
                top_levels.insert(i, self.level(key, value))
        if len(top_keys) > n:
            del top_keys[n:]
            del top_levels[n:]
        elif len(top_keys) < n and len(self.keys) > len(top_keys):
            end = len(self.keys) - len(top_keys)
            start = max(end - (n - len(top_keys)), 0)
            for k, v in zip(reversed(self.keys[start:end]), reversed(self.lots[start:end]),
                            strict=True):
                top_keys.append(-k)
                top_levels.append(self.level(k, v))

    def materialise(self, n: int) -> None:
        keys, lots = self.keys, self.lots
        start = max(len(keys) - n, 0)
        pairs = list(zip(keys[start:], lots[start:], strict=True))
        pairs.reverse()
        self.top_keys = [-k for k, _ in pairs]
        self.top_levels = [self.level(k, v) for k, v in pairs]
        self.top_n = n

    def read(self, n: int) -> list[Level]:
        if n <= self.top_n:
            return self.top_levels[:n]
        if n <= _TOP_MAX:
            self.materialise(n)
            return self.top_levels[:]
        start = max(len(self.keys) - n, 0)  # a deep read: convert without keeping it
        head = self.top_levels[:]
        skip = len(head)
        rest = [(Decimal(self.sign * k) * self.pq, Decimal(v) * self.qq) for k, v in zip(
            reversed(self.keys[start:len(self.keys) - skip]),
            reversed(self.lots[start:len(self.lots) - skip]), strict=True)]
        return head + rest

    def forget_top(self) -> None:
        self.top_n = 0
        self.top_keys = []
        self.top_levels = []

    def trim(self, keep: int) -> None:
        extra = len(self.keys) - keep
        if extra > 0:
            worst = self.keys[extra]
            self.bound = worst if self.bound is None else max(self.bound, worst)
            del self.keys[:extra]
            del self.lots[:extra]
            if self.top_n > len(self.keys):
                self.materialise(self.top_n)

    def count_known(self) -> int:
        if self.bound is None:
            return len(self.keys)
        return len(self.keys) - bisect.bisect_left(self.keys, self.bound)

    def copy_into(self, other: _SideLevels) -> None:
        other.keys = array("q", self.keys)
        other.lots = array("q", self.lots)
        other.bound = self.bound
        other.pq, other.qq = self.pq, self.qq
        other.prices = self.prices  # a key's price never changes at one scale: shared
        other.top_n = self.top_n
        other.top_keys = self.top_keys[:]
        other.top_levels = self.top_levels[:]


class OrderBook:
    """One symbol's local book: snapshot, diffs with Binance's id rule, top-N reads.

    Args:
        max_levels: keep at most this many levels per side (far levels are trimmed and the
            boundary is marked); None keeps everything the stream sends.
    """

    __slots__ = ("_ask_pending", "_asks", "_bid_pending", "_bids", "_last_update_id", "_pq", "_qq",
                 "_record_asks", "_record_bids", "_settled_id", "failure", "max_levels", "price_scale",
                 "qty_scale")

    def __init__(self, *, max_levels: int | None = None) -> None:
        if max_levels is not None and max_levels < 1:
            raise ValueError("max_levels must be >= 1")
        self.max_levels = max_levels
        self._bids = _SideLevels(Side.BID)
        self._asks = _SideLevels(Side.ASK)
        # Rule 6 in one C call a side; the overlays are cleared, never replaced.
        self._bid_pending, self._ask_pending = self._bids.pending, self._asks.pending
        self._record_bids: Callable[[Any], None] = self._bid_pending.update
        self._record_asks: Callable[[Any], None] = self._ask_pending.update
        self._last_update_id: int | None = None
        self._settled_id: int | None = None
        self.price_scale = self.qty_scale = 0
        self._pq = self._qq = Decimal(1)
        self.failure: DiffOutcome | None = None
        """The last settle that failed (Rule 7), kept until :meth:`take_failure`."""

    # -- state -------------------------------------------------------------------------------

    @property
    def last_update_id(self) -> int | None:
        """The update id the book reflects (pending levels included); None before a snapshot."""
        return self._last_update_id

    @property
    def pending(self) -> int:
        """Levels recorded and not settled yet (Rule 6)."""
        return len(self._bids.pending) + len(self._asks.pending)

    @property
    def bid_floor(self) -> Decimal | None:
        """Bids below this price may be missing (snapshot cut or trimming); None: none missing."""
        self.settle()
        bound = self._bids.bound
        return None if bound is None else Decimal(bound) * self._pq

    @property
    def ask_ceiling(self) -> Decimal | None:
        """Asks above this price may be missing; None: none missing."""
        self.settle()
        bound = self._asks.bound
        return None if bound is None else Decimal(-bound) * self._pq

    def __len__(self) -> int:
        self.settle()
        return len(self._bids.keys) + len(self._asks.keys)

    def depth(self, side: Side) -> int:
        """Number of levels held on ``side``."""
        self.settle()
        return len(self._side(side).keys)

    def exact_depth(self, side: Side) -> int:
        """Number of best levels on ``side`` with no unknown level among them."""
        self.settle()
        return self._side(side).count_known()

    def take_failure(self) -> DiffOutcome | None:
        """The failure of the last settle, once (Rule 7)."""
        failure, self.failure = self.failure, None
        return failure

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
        raw_bids, raw_asks = _pairs(bids), _pairs(asks)
        self.clear()
        try:
            self._load(raw_bids, raw_asks)
        except BookError:
            self.clear()
            raise
        self._last_update_id = self._settled_id = last_update_id
        for side, raw in ((self._bids, raw_bids), (self._asks, raw_asks)):
            if depth_limit is not None and len(raw) >= depth_limit and side.keys:
                side.bound = side.keys[0]
        if self.max_levels is not None:
            self._bids.trim(self.max_levels)
            self._asks.trim(self.max_levels)
        if self._crossed():
            self.clear()
            raise BookError("snapshot is crossed")

    def restore(
        self,
        last_update_id: int,
        bids: Iterable[RawLevel],
        asks: Iterable[RawLevel],
        *,
        bid_floor: Decimal | None,
        ask_ceiling: Decimal | None,
    ) -> None:
        """Replace the book with a copy another replica published: its levels and the bounds of
        its known depth (``bid_floor`` / ``ask_ceiling`` as that book reported them).

        Raises:
            BookError: a level or bound is malformed, or the copy is crossed.
        """
        self.apply_snapshot(last_update_id, bids, asks)
        for side, bound in ((self._bids, bid_floor), (self._asks, ask_ceiling)):
            if bound is None:
                continue
            try:
                side.bound = side.sign * _units(bound, self.price_scale)
            except _Rescale as exc:
                self.clear()
                raise BookError(f"bound {bound} is finer than the book's prices") from exc

    def _load(self, bids: list[tuple[str | Decimal, str | Decimal]],
              asks: list[tuple[str | Decimal, str | Decimal]]) -> None:
        first = next(iter(bids or asks), None)
        if first is not None:  # Binance spells every price (and quantity) of a symbol alike
            self._set_scales(_decimals_of(first[0]), price=True)
            self._set_scales(_decimals_of(first[1]), price=False)
        while True:
            try:
                sides = [self._parse_side(side, raw) for side, raw in ((self._bids, bids),
                                                                       (self._asks, asks))]
                break
            except _Rescale as need:
                self._set_scales(need.decimals, price=need.price)
        for side, levels in zip((self._bids, self._asks), sides, strict=True):
            levels.sort()
            side.keys = array("q", [k for k, _ in levels])
            side.lots = array("q", [v for _, v in levels])

    def _parse_side(self, side: _SideLevels, raw: list[tuple[str | Decimal, str | Decimal]]
                    ) -> list[tuple[int, int]]:
        merged: dict[int, int] = {}
        for price, qty in raw:
            key, value = self._parse_level(side, price, qty)
            if value:
                merged[key] = value
            else:
                merged.pop(key, None)
        return list(merged.items())

    def _parse_level(self, side: _SideLevels, price: str | Decimal, qty: str | Decimal
                     ) -> tuple[int, int]:
        key = side.keycache.get(price)
        if key is None:
            try:
                units = _units(price, self.price_scale)
            except _Rescale as need:
                raise _Rescale(need.decimals, price=True) from None
            if units <= 0:
                raise BookError(f"price must be positive: {price!r}")
            key = side.sign * units
            if len(side.keycache) >= _KEY_CACHE_MAX:
                side.keycache.clear()
            side.keycache[price] = key
        value = _units(qty, self.qty_scale)
        if value < 0:
            raise BookError(f"quantity must not be negative: {qty!r}")
        return key, value

    def apply_diff(
        self,
        first_update_id: int,
        final_update_id: int,
        bids: Iterable[RawLevel],
        asks: Iterable[RawLevel],
    ) -> DiffOutcome:
        """Apply one ``depthUpdate`` event ``[U; u]`` following Rules 2-4 and 6.

        Returns APPLIED (recorded), STALE or GAP; CROSSED or MALFORMED when the overlay reached
        its bound and settling it failed (the book is then back at its last settled state).

        Raises:
            BookError: no snapshot yet, ``U > u``, or a level that is not a pair (the book goes
                back to its last settled state).
        """
        local = self._last_update_id
        # The common case first: the next event of a contiguous stream.
        if local is None or first_update_id != local + 1 or final_update_id < first_update_id:
            if local is None:
                raise BookError("apply_diff before the first snapshot")
            if first_update_id > final_update_id:
                raise BookError(f"U={first_update_id} > u={final_update_id}")
            if final_update_id <= local:
                return _STALE
            if first_update_id > local + 1:
                return _GAP
        try:
            self._record_bids(bids)
            self._record_asks(asks)
        except (TypeError, ValueError) as exc:
            self._discard_pending()
            raise BookError(f"a level is not a [price, qty] pair: {exc}") from exc
        self._last_update_id = final_update_id
        if len(self._bid_pending) > _PENDING_MAX or len(self._ask_pending) > _PENDING_MAX:
            return self.settle()
        return _APPLIED

    def settle(self) -> DiffOutcome:
        """Fold the pending levels into the book (Rule 7): APPLIED, or CROSSED / MALFORMED with
        the book back at its last settled state (the failure is also kept in :attr:`failure`)."""
        bids, asks = self._bids, self._asks
        if not bids.pending and not asks.pending:
            return DiffOutcome.APPLIED
        try:
            while True:
                try:
                    bid_changes = self._parse_pending(bids)
                    ask_changes = self._parse_pending(asks)
                    break
                except _Rescale as need:
                    self._set_scales(need.decimals, price=need.price)
        except BookError:
            return self._fail(DiffOutcome.MALFORMED)
        best_bid, best_ask = bids.best_after(bid_changes), asks.best_after(ask_changes)
        if best_bid is not None and best_ask is not None and best_bid >= -best_ask:
            return self._fail(DiffOutcome.CROSSED)
        bids.apply(bid_changes)
        asks.apply(ask_changes)
        bids.pending.clear()
        asks.pending.clear()
        if self.max_levels is not None:
            bids.trim(self.max_levels)
            asks.trim(self.max_levels)
        self._settled_id = self._last_update_id
        return DiffOutcome.APPLIED

    def _parse_pending(self, side: _SideLevels) -> dict[int, int]:
        changes: dict[int, int] = {}
        keycache, scale = side.keycache, self.qty_scale
        for price, qty in side.pending.items():
            key = keycache.get(price)
            value = -1
            if key is not None and isinstance(qty, str):
                dot = qty.find(".")
                if dot > 0 and len(qty) - dot - 1 == scale:  # the common case, inlined
                    with contextlib.suppress(ValueError):
                        value = int(qty.replace(".", "", 1))
            if key is None or value < 0 or value > _INT64:  # anything else: the careful path
                key, value = self._parse_level(side, price, qty)
            if key in changes:
                raise BookError(f"two spellings of one price: {price!r}")  # Rule 9
            changes[key] = value
        return changes

    def _fail(self, outcome: DiffOutcome) -> DiffOutcome:
        self._discard_pending()
        self.failure = outcome
        return outcome

    def _discard_pending(self) -> None:
        self._bids.pending.clear()
        self._asks.pending.clear()
        self._last_update_id = self._settled_id

    def _set_scales(self, decimals: int, *, price: bool) -> None:
        """Rescale prices (or quantities) so that ``decimals`` fit (Rule 8); exact, or BookError."""
        price_up = max(decimals - self.price_scale, 0) if price else 0
        qty_up = 0 if price else max(decimals - self.qty_scale, 0)
        if not price_up and not qty_up:
            return
        for side in (self._bids, self._asks):
            try:
                if price_up:
                    side.keys = array("q", [k * 10**price_up for k in side.keys])
                if qty_up:
                    side.lots = array("q", [v * 10**qty_up for v in side.lots])
            except OverflowError as exc:
                raise BookError(f"values out of range at {decimals} decimals") from exc
            if price_up and side.bound is not None:
                side.bound *= 10**price_up
            side.keycache = {}
            side.prices = {}
            side.forget_top()
        self.price_scale += price_up
        self.qty_scale += qty_up
        self._pq = Decimal(1).scaleb(-self.price_scale)
        self._qq = Decimal(1).scaleb(-self.qty_scale)
        for side in (self._bids, self._asks):
            side.pq, side.qq = self._pq, self._qq

    def clear(self) -> None:
        """Forget everything (no snapshot)."""
        for side in (self._bids, self._asks):
            side.keys = array("q")
            side.lots = array("q")
            side.bound = None
            side.pending.clear()
            side.keycache = {}
            side.prices = {}
            side.pq = side.qq = Decimal(1)
            side.forget_top()
        self._last_update_id = self._settled_id = None
        self.price_scale = self.qty_scale = 0
        self._pq = self._qq = Decimal(1)

    # -- reads -------------------------------------------------------------------------------

    def _side(self, side: Side) -> _SideLevels:
        return self._bids if side is Side.BID else self._asks

    def _crossed(self) -> bool:
        bids, asks = self._bids.keys, self._asks.keys
        return bool(bids) and bool(asks) and bids[-1] >= -asks[-1]

    def _top(self, side: _SideLevels, n: int) -> list[Level]:
        self.settle()
        if n <= 0:
            return []
        return side.read(n)

    def best_bid(self) -> Level | None:
        """Highest bid, or None on an empty side."""
        top = self._top(self._bids, 1)
        return top[0] if top else None

    def best_ask(self) -> Level | None:
        """Lowest ask, or None on an empty side."""
        top = self._top(self._asks, 1)
        return top[0] if top else None

    def is_crossed(self) -> bool:
        """True when best bid >= best ask, which a correct book never shows."""
        self.settle()
        return self._crossed()

    def bids(self, n: int) -> list[Level]:
        """The best ``n`` bids, highest price first."""
        return self._top(self._bids, n)

    def asks(self, n: int) -> list[Level]:
        """The best ``n`` asks, lowest price first."""
        return self._top(self._asks, n)

    def levels(self, n: int) -> tuple[list[Level], list[Level]]:
        """The best ``n`` levels of each side: ``(bids, asks)``."""
        return self._top(self._bids, n), self._top(self._asks, n)

    def quantity(self, side: Side, price: Decimal) -> Decimal | None:
        """The quantity at ``price`` on ``side``, or None when there is no such level."""
        self.settle()
        levels = self._side(side)
        try:
            key = levels.sign * _units(price, self.price_scale)
        except (_Rescale, BookError):
            return None
        i = levels.find(key)
        return None if i < 0 else Decimal(levels.lots[i]) * self._qq

    def copy(self) -> OrderBook:
        """An independent, settled copy (two array copies a side): what readers hold."""
        self.settle()
        other = OrderBook(max_levels=self.max_levels)
        self._bids.copy_into(other._bids)
        self._asks.copy_into(other._asks)
        other._last_update_id = other._settled_id = self._last_update_id
        other.price_scale, other.qty_scale = self.price_scale, self.qty_scale
        other._pq, other._qq = self._pq, self._qq
        return other


def _decimals_of(text: str | Decimal) -> int:
    """Decimals as spelled (``"0.00120000"``: 8); 0 for anything else (parsing will tell)."""
    if isinstance(text, str):
        dot = text.find(".")
        return len(text) - dot - 1 if 0 < dot and text[dot + 1:].isdigit() else 0
    return 0


def _pairs(raw: Iterable[RawLevel]) -> list[tuple[str | Decimal, str | Decimal]]:
    out = []
    for item in raw:
        if len(item) != 2:
            raise BookError(f"level needs [price, qty]: {item!r}")
        out.append((item[0], item[1]))
    return out
