"""The sans-I/O connection plan: what the order-book manager's stream connection should do next.

The manager (``manager.py``) owns the sockets, the tasks and the clock; this module owns the
protocol questions it used to answer inside that socket code. Inputs are plain values (symbol
names, depth events, monotonic times read by the shell), outputs are actions the shell performs.
No ``await``, no socket, no clock read here.

Binance's limits (shared/reference/binance-spot-api.md §6, ``web-socket-streams.md``):

- Rule 1. At most ``MAX_STREAMS_PER_CONNECTION`` (1024) streams on one connection: the manager
  refuses more symbols than that (:func:`check_capacity`).
- Rule 2. At most 5 incoming messages a second per connection, pongs and control messages
  included. Control messages go out at ``CONTROL_RATE_PER_S`` (3) a second, the rest is left for
  pongs; each carries at most ``STREAMS_PER_MESSAGE`` streams (:class:`SubscriptionPlan`).
- Rule 3. A symbol is on the connection exactly once: a new connection's URL carries every tracked
  symbol and the pending messages are dropped; later ones are SUBSCRIBEd, evicted ones
  UNSUBSCRIBEd (unsubscribes first, so the 1024 cap holds while symbols are replaced), and one
  tracked then evicted before its SUBSCRIBE went out never costs a message.
- Rule 4 (planned renewal, before the 24 h cut or on ``serverShutdown``). The new connection is
  opened with every symbol before the old one closes. Each symbol keeps following the old
  connection until the new one's events *bridge* its book: the first held event has
  ``U <= local + 1`` (the sync ignores the duplicates). Events of the new connection are held
  until then (at most ``MAX_HELD`` per symbol). A symbol that is not synced has nothing to bridge
  and switches at its first new event. When the switch ends, events still held are handed to the
  sync, which judges them (a gap resyncs that symbol only): no symbol is left uncovered
  (:class:`BridgePlan`). If the new connection closed first it is dropped and the old one kept: a
  failed renewal, retried after a backoff while the old one lives (:class:`KeepOld`).
- Rule 5 (quiet market or dead stream, ``manager.py`` notes). A subscribed, not yet synced symbol
  silent for ``quiet_after_s`` is synced from a snapshot (``sync.py`` Rule 2b). A synced symbol
  is settled every ``SETTLE_EVERY_S``. Synced symbols silent for ``stall_after_s`` are checked
  together, never probed one by one; those half-way silent go along so their schedules align
  (:func:`plan_upkeep`, :func:`plan_silence_check`). A connection with no traffic for
  ``stall_after_s`` is pinged first. Only a symbol whose top of book differs from the exchange's
  and that still sent no event after the grace period is probed with a snapshot
  (:func:`judge_tops`, :func:`plan_probes`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from provider.orderbook.book import OrderBook
from provider.orderbook.sync import DepthEvent, SyncState

__all__ = [
    "CONTROL_RATE_PER_S",
    "INCOMING_MESSAGES_PER_S",
    "MAX_HELD",
    "MAX_STREAMS_PER_CONNECTION",
    "SETTLE_EVERY_S",
    "STREAMS_PER_MESSAGE",
    "BridgePlan",
    "CheckSilent",
    "ControlMessage",
    "Feed",
    "FetchQuiet",
    "KeepOld",
    "ProbeStall",
    "Settle",
    "SilentSymbol",
    "Subscribe",
    "SubscriptionPlan",
    "SwitchOver",
    "SymbolTimes",
    "TopVerdict",
    "Unsubscribe",
    "check_capacity",
    "judge_tops",
    "needs_ping",
    "plan_probes",
    "plan_silence_check",
    "plan_upkeep",
    "renewal_delay",
    "stream_name",
    "top_matches",
    "watch_period",
]

MAX_STREAMS_PER_CONNECTION = 1024
INCOMING_MESSAGES_PER_S = 5
CONTROL_RATE_PER_S = 3.0  # leaves room for pongs under Binance's 5 incoming messages/s
STREAMS_PER_MESSAGE = 200
MAX_HELD = 2000
SETTLE_EVERY_S = 30.0  # readers always settle first; this only bounds how late health learns


def stream_name(symbol: str) -> str:
    """The diff-depth stream of ``symbol`` (``<symbol>@depth@100ms``, lower case)."""
    return f"{symbol.lower()}@depth@100ms"


def check_capacity(max_symbols: int) -> None:
    """Rule 1.

    Raises:
        ValueError: ``max_symbols`` does not fit on one connection.
    """
    if not 1 <= max_symbols <= MAX_STREAMS_PER_CONNECTION:
        raise ValueError(f"max_symbols must be within 1..{MAX_STREAMS_PER_CONNECTION}")


# -- subscriptions (Rules 2-3) ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Subscribe:
    """Send ``{"method": "SUBSCRIBE", "params": streams}`` for these symbols."""

    symbols: tuple[str, ...]

    @property
    def streams(self) -> list[str]:
        """The stream names sent."""
        return [stream_name(s) for s in self.symbols]


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    """Send ``{"method": "UNSUBSCRIBE", "params": streams}`` for these symbols."""

    symbols: tuple[str, ...]

    @property
    def streams(self) -> list[str]:
        """The stream names sent."""
        return [stream_name(s) for s in self.symbols]


ControlMessage = Subscribe | Unsubscribe


class SubscriptionPlan:
    """The control messages owed to the live connection (Rules 2-3); the shell sends them, one
    every ``1 / CONTROL_RATE_PER_S`` seconds."""

    def __init__(self, per_message: int = STREAMS_PER_MESSAGE) -> None:
        if per_message < 1:
            raise ValueError("per_message must be >= 1")
        self._per_message = per_message
        self._sub: list[str] = []
        self._unsub: list[str] = []

    @property
    def pending(self) -> bool:
        """Whether a message is owed."""
        return bool(self._sub or self._unsub)

    def track(self, name: str) -> None:
        """``name`` is newly tracked: subscribe it on the live connection."""
        self._sub.append(name)

    def untrack(self, name: str) -> None:
        """``name`` is no longer tracked: unsubscribe it unless its subscribe never went out."""
        if name in self._sub:
            self._sub.remove(name)
        else:
            self._unsub.append(name)

    def opened(self, tracked: Iterable[str]) -> list[str]:
        """A connection is being opened: its URL carries ``tracked`` (returned as streams), so
        nothing is owed to it."""
        self._sub.clear()
        self._unsub.clear()
        return [stream_name(s) for s in tracked]

    def next_message(self) -> ControlMessage | None:
        """The next message to send, unsubscribes first; None when nothing is owed."""
        if self._unsub:
            names = tuple(self._unsub[: self._per_message])
            del self._unsub[: len(names)]
            return Unsubscribe(names)
        if self._sub:
            names = tuple(self._sub[: self._per_message])
            del self._sub[: len(names)]
            return Subscribe(names)
        return None


# -- planned renewal (Rule 4) -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Feed:
    """Hand ``events`` to ``symbol``'s sync, in order; ``live``: a fresh frame (count it)."""

    symbol: str
    events: tuple[DepthEvent, ...]
    live: bool = False


@dataclass(frozen=True, slots=True)
class SwitchOver:
    """The new connection becomes the live one: hand ``feeds`` (never bridged) to the syncs, which
    judge them (a gap resyncs that symbol), then close the old connection."""

    feeds: tuple[Feed, ...]


@dataclass(frozen=True, slots=True)
class KeepOld:
    """The new connection closed during the switch: close it, keep the old one; ``backoff``: the
    renewal failed with the old connection alive, so wait before the next attempt."""

    backoff: bool


def renewal_delay(opened_at: float, now: float, *, lifetime_s: float) -> float:
    """Seconds until a connection opened at ``opened_at`` is renewed (Binance cuts at 24 h)."""
    return max(opened_at + lifetime_s - now, 0.0)


@dataclass
class BridgePlan:
    """One planned renewal: which symbols follow the new connection yet, and what it holds back.

    Args:
        carried: the streams the new connection was opened with.
    """

    carried: frozenset[str]
    held: dict[str, list[DepthEvent]] = field(default_factory=dict)
    bridged: set[str] = field(default_factory=set)

    def on_new_event(self, name: str, event: DepthEvent, *, synced: bool,
                     last_update_id: int | None) -> list[Feed]:
        """An event of ``name`` on the new connection: feed it, or hold it until it bridges."""
        if name in self.bridged or not synced:
            self.bridged.add(name)
            return [Feed(name, (event,), live=True)]
        held = self.held.setdefault(name, [])
        if len(held) < MAX_HELD:
            held.append(event)
        return self.drain(name, last_update_id)

    def drain(self, name: str, last_update_id: int | None) -> list[Feed]:
        """``name``'s book is at ``last_update_id``: switch it if its held events bridge it."""
        held = self.held.get(name)
        if not held or last_update_id is None:
            return []
        # The new connection's first event starting at or before local + 1 proves its stream is
        # contiguous with the book from here on (duplicates included; the sync ignores them).
        if held[0].first_update_id <= last_update_id + 1:
            self.bridged.add(name)
            return [Feed(name, tuple(self.held.pop(name)))]
        return []

    def complete(self, tracked: Iterable[str]) -> bool:
        """Every tracked symbol the new connection carries follows it.

        Symbols tracked after it opened are not on it yet (they are subscribed on it once the
        switch is done), so only the ones it carries need to bridge.
        """
        return self.bridged >= {n for n in tracked if stream_name(n) in self.carried}

    def end(self, *, new_closed: bool, old_closed: bool) -> SwitchOver | KeepOld:
        """The switch stops waiting (all bridged, a connection closed, or the time is up)."""
        if new_closed:
            # Old alive: a failure to back off from (the old connection is past its age and would
            # otherwise be renewed again at once, a hot loop of connection attempts). Old dead
            # too: reconnect without delay.
            self.held.clear()
            return KeepOld(backoff=not old_closed)
        return SwitchOver(tuple(self.leftovers()))

    def leftovers(self) -> list[Feed]:
        """The switch is over: what never bridged goes to the sync, which judges it."""
        feeds = [Feed(name, tuple(events)) for name, events in self.held.items()]
        self.held.clear()
        return feeds


# -- quiet markets and stalls (Rule 5) --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SymbolTimes:
    """What the plan needs to know of one symbol: its state and its monotonic times."""

    name: str
    state: SyncState
    subscribed_at: float | None
    last_event: float
    last_probe: float
    last_settle: float


@dataclass(frozen=True, slots=True)
class FetchQuiet:
    """Rule 2b of ``sync.py``: call ``on_quiet`` on ``symbol``'s sync."""

    symbol: str


@dataclass(frozen=True, slots=True)
class Settle:
    """Settle ``symbol``'s book (``book.py`` Rule 7) so health learns of a crossed book."""

    symbol: str


@dataclass(frozen=True, slots=True)
class CheckSilent:
    """Check these silent symbols together (one ping, one top-of-book call); stamp their probe
    time with the plan's ``now``."""

    symbols: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ProbeStall:
    """Call ``on_stall`` on ``symbol``'s sync (a snapshot probe)."""

    symbol: str


def watch_period(stall_after_s: float, quiet_after_s: float) -> float:
    """How often the shell runs a round of :func:`plan_upkeep` and :func:`plan_silence_check`."""
    return max(min(stall_after_s / 4, quiet_after_s / 2, 1.0), 0.05)


def plan_upkeep(now: float, symbols: Iterable[SymbolTimes], *,
                quiet_after_s: float) -> list[FetchQuiet | Settle]:
    """Per-symbol upkeep of one round: quiet fetches and periodic settles."""
    actions: list[FetchQuiet | Settle] = []
    for sym in symbols:
        if sym.state in (SyncState.BUFFERING, SyncState.RESYNCING):
            since = max(sym.subscribed_at or now, sym.last_event)
            if now - since >= quiet_after_s:
                actions.append(FetchQuiet(sym.name))
        elif sym.state is SyncState.SYNCED and now - sym.last_settle >= SETTLE_EVERY_S:
            actions.append(Settle(sym.name))
    return actions


def plan_silence_check(now: float, symbols: Iterable[SymbolTimes], *, stall_after_s: float,
                       check_running: bool) -> CheckSilent | None:
    """A combined check when a synced symbol is silent for ``stall_after_s`` and none runs.

    ``symbols`` are read after the upkeep actions were performed (a settle may have resynced one).
    """
    silent = [s for s in symbols if s.state is SyncState.SYNCED
              and now - max(s.last_event, s.last_probe) >= stall_after_s / 2]
    due = any(now - max(s.last_event, s.last_probe) >= stall_after_s for s in silent)
    if not due or check_running:
        return None
    return CheckSilent(tuple(s.name for s in silent))


def needs_ping(now: float, last_traffic: float, *, stall_after_s: float) -> bool:
    """The whole connection was silent too: prove it alive before blaming the market."""
    return now - last_traffic >= stall_after_s


@dataclass(frozen=True, slots=True)
class SilentSymbol:
    """A checked symbol as the top-of-book answer came back."""

    name: str
    synced: bool
    last_event: float
    book: OrderBook | None


@dataclass(frozen=True, slots=True)
class TopVerdict:
    """Which checked symbols are quiet (top matches) and which are suspects (top differs)."""

    quiet: tuple[str, ...]
    suspects: tuple[str, ...]


def judge_tops(started: float, symbols: Iterable[SilentSymbol],
               tops: Sequence[Any]) -> TopVerdict:
    """Compare each still-silent synced book with the exchange's ``ticker/bookTicker`` answer.

    A symbol that got an event since ``started``, or is no longer synced, is neither.
    """
    by_name = {str(t.get("symbol", "")): t for t in tops if isinstance(t, Mapping)}
    quiet: list[str] = []
    suspects: list[str] = []
    for sym in symbols:
        if sym.last_event > started or not sym.synced:
            continue
        (quiet if top_matches(sym.book, by_name.get(sym.name)) else suspects).append(sym.name)
    return TopVerdict(tuple(quiet), tuple(suspects))


def plan_probes(started: float, suspects: Iterable[tuple[str, float]]) -> list[ProbeStall]:
    """After the grace period: probe each suspect ``(name, last_event)`` still silent."""
    return [ProbeStall(name) for name, last_event in suspects if last_event <= started]


def top_matches(book: OrderBook | None, top: Mapping[str, Any] | None) -> bool:
    """The book's best bid and ask (price and quantity) equal the exchange's, as values."""
    if top is None or book is None:
        return False
    try:
        theirs = [Decimal(str(top[k])) for k in ("bidPrice", "bidQty", "askPrice", "askQty")]
    except (KeyError, InvalidOperation, ValueError):
        return False
    zero = Decimal(0)
    bid, ask = book.best_bid() or (zero, zero), book.best_ask() or (zero, zero)
    return [bid[0], bid[1], ask[0], ask[1]] == theirs
