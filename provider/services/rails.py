"""The rails every mutating order tool runs through, shared by the single-order, order-list and
order-change tools (``trading.py``, ``order_lists.py``, ``order_changes.py``).

In order, each refusing with an explanation before anything is sent:
1. trading enabled in configuration (and, on mainnet, explicitly confirmed), and a clean API key
   (``provider/trading/keys.py``: no withdrawals, an IP whitelist on mainnet; read before the first
   order and every 10 minutes after) - dry runs excepted;
2. the operator's allowed symbols and order types (every order of a list, every order a cancel
   touches);
3. the symbol's filters, exactly, against the reference each filter uses now, counting the orders
   of the same list placed before (MAX_NUM_ORDERS, MAX_NUM_ALGO_ORDERS, MAX_NUM_ICEBERG_ORDERS,
   MAX_NUM_ORDER_LISTS), each failure with the nearest valid value;
4. the cap on each order's worst case (``provider/trading/plan.py``), in one asset.
A lost answer is settled by lookups (``settle``) under the placement state machine.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import structlog

from contracts.binance.v1 import common_pb2, trading_pb2
from provider.account.state import AccountState
from provider.binance import order_calls
from provider.binance.environment import EnvironmentKind
from provider.binance.rules import STOP_TYPES, SymbolRules, Violation, fmt_decimal, refuse_closed_market
from provider.catalog.render import render_time
from provider.errors import (
    FilterViolation,
    NotFound,
    ProviderError,
    TradingDisabled,
    UnexpectedResponse,
)
from provider.trading import keys, plan
from provider.trading.placement import Placement

if TYPE_CHECKING:
    from provider.app import App

log = structlog.get_logger("provider.trading")

#: a placement's own budget: under its contract deadline (30 s), so every answer reaches the caller.
PLACE_BUDGET_S = 27.0
#: an order is sent only with this much budget left: the send (10 s transport timeout, 2 s weight
#: wait) and at least one lookup must fit, or the outcome could not be reported.
SEND_RESERVE_S = 14.0
CLOCK_MARGIN_MS = 1000
#: how long a clean key verdict stands before the permissions are read again; a refusal is re-read
#: after KEY_RECHECK_REFUSED_S (the operator may have fixed the key).
KEY_RECHECK_S = 600.0
KEY_RECHECK_REFUSED_S = 30.0


# -- 1. trading enabled, and a clean key ---------------------------------------------------------


def require_trading(app: App, *, dry_run: bool = False) -> None:
    """The configuration's switches (synchronous part of rail 1)."""
    limits = app.settings.trading
    if dry_run:
        return
    if not limits.enabled:
        raise TradingDisabled(
            "trading is disabled in this provider's configuration",
            hint="Set BINANCE_TRADING_ENABLED=true in the provider's environment (or .env) and restart it. "
            "validate_only=true dry runs work without it.",
        )
    if app.settings.environment.kind is EnvironmentKind.MAINNET and not limits.mainnet_confirmed:
        raise TradingDisabled(
            "trading on mainnet (real money) needs an explicit confirmation",
            hint="Set BINANCE_MAINNET_TRADING=true as well as BINANCE_TRADING_ENABLED=true, and restart.",
        )


_KEY_VERDICTS: dict[int, tuple[weakref.ref[Any], keys.KeyVerdict, float]] = {}
"""Per provider (by id, with a weak reference to tell a reused id apart): the verdict and when it was read."""


async def key_verdict(app: App, *, fresh: bool = False) -> keys.KeyVerdict:
    """What the exchange says the key may do, judged (cached per provider, see KEY_RECHECK_*)."""
    cached = _KEY_VERDICTS.get(id(app))
    if cached is not None and cached[0]() is app and not fresh:
        _, verdict, at = cached
        if time.monotonic() - at < (KEY_RECHECK_S if verdict.allowed else KEY_RECHECK_REFUSED_S):
            return verdict
    mainnet = app.settings.environment.kind is EnvironmentKind.MAINNET
    override = app.settings.trading.allow_risky_key
    try:
        raw = (await order_calls.api_restrictions(app.client)).data
        verdict = keys.judge(
            raw if isinstance(raw, dict) else None,
            mainnet=mainnet,
            override=override,
            error="the answer was not an object",
        )
    except (UnexpectedResponse, NotFound) as exc:  # e.g. the testnet serves no /sapi
        verdict = keys.judge(None, mainnet=mainnet, override=override, error=exc.message)
    if verdict.problems:
        log.warning(
            "key_hygiene", allowed=verdict.allowed, overridden=verdict.overridden, problems=list(verdict.problems)
        )
    for key in [k for k, (ref, _, _) in _KEY_VERDICTS.items() if ref() is None]:
        del _KEY_VERDICTS[key]
    _KEY_VERDICTS[id(app)] = (weakref.ref(app), verdict, time.monotonic())
    return verdict


async def ensure_trading(app: App, *, dry_run: bool = False) -> None:
    """Rail 1 whole: the configuration's switches, then the key's permissions (not for dry runs)."""
    require_trading(app, dry_run=dry_run)
    if dry_run:
        return
    verdict = await key_verdict(app)
    if not verdict.allowed:
        raise TradingDisabled(
            f"this API key is not safe to trade with: {verdict.message()}",
            hint="Fix the key on Binance (API management), or - knowing the risk - set "
            "BINANCE_ALLOW_RISKY_KEY=true and restart. `binance-provider doctor` shows the key's permissions.",
        )


# -- 2. allowed symbols and types -----------------------------------------------------------------


def check_allowed(app: App, symbol: str, order_types: Iterable[str | None]) -> None:
    """The operator's allowed symbols and order types, for every order a call touches."""
    limits = app.settings.trading
    types: list[str | None] = [t for t in order_types if t is not None]
    for order_type in types or [None]:
        plan.check_allowed(symbol, order_type, limits.allowed_symbols, limits.allowed_order_types)


def check_peg_allowed(rules: SymbolRules, intent: plan.OrderIntent) -> None:
    """Pegged orders only where the symbol allows them (`pegInstructionsAllowed`)."""
    if intent.pegged and not rules.peg_allowed:
        raise TradingDisabled(
            f"pegged orders are not allowed on {rules.symbol} (pegInstructionsAllowed false)",
            hint="Give a limit price instead.",
        )


# -- 3. filters ----------------------------------------------------------------------------------


async def reference_price(app: App, symbol: str) -> Decimal | None:
    """The symbol's reference price (``GET /api/v3/referencePrice``), None when it has none.

    An exchange that does not serve the endpoint (HTTP 404) has no reference prices.
    """
    try:
        raw = (await app.client.reference_price(symbol)).data
    except UnexpectedResponse as exc:
        if "HTTP 404" not in exc.message:
            raise
        return None
    value = raw.get("referencePrice") if isinstance(raw, dict) else None
    return Decimal(str(value)) if value not in (None, "") else None


async def window_price(app: App, symbol: str, minutes: int) -> Decimal:
    """The price a filter with ``avgPriceMins = minutes`` uses when there is no reference price:
    the last price for 0, else the volume-weighted average over that many minutes."""
    if minutes == 0:
        return Decimal((await app.client.ticker_price(symbol)).data["price"])
    avg = (await app.client.avg_price(symbol)).data
    if int(avg.get("mins", 0)) == minutes:
        return Decimal(avg["price"])
    candles = (await app.client.klines(symbol, "1m", limit=min(minutes, 1000))).data
    volume = sum((Decimal(c[5]) for c in candles), Decimal(0))
    quote = sum((Decimal(c[7]) for c in candles), Decimal(0))
    return quote / volume if volume > 0 else Decimal(avg["price"])


async def filter_prices(app: App, rules: SymbolRules) -> dict[str, Decimal]:
    """The reference price of each price-dependent filter, as Binance applies them since 2026-05-08."""
    filters = [f for f in (rules.notional, rules.percent_price) if f is not None]
    if not filters:
        return {}
    ref = await reference_price(app, rules.symbol)
    if ref is not None:
        return {f.filter_type: ref for f in filters}
    by_minutes: dict[int, Decimal] = {}
    for f in filters:
        if f.avg_price_mins not in by_minutes:
            by_minutes[f.avg_price_mins] = await window_price(app, rules.symbol, f.avg_price_mins)
    return {f.filter_type: by_minutes[f.avg_price_mins] for f in filters}


@dataclass
class OpenState:
    """What is open on a symbol, for the MAX_NUM_* filters and MAX_POSITION."""

    orders: list[dict[str, Any]]
    fetched: bool = False
    """The open orders were read (some MAX_NUM_* filter or MAX_POSITION needs them)."""
    lists: int | None = None
    position: Decimal | None = None

    @property
    def algo(self) -> int:
        return sum(1 for o in self.orders if o.get("type") in STOP_TYPES)

    @property
    def icebergs(self) -> int:
        return sum(1 for o in self.orders if Decimal(o.get("icebergQty") or "0") > 0)


async def open_state(app: App, rules: SymbolRules, *, lists: bool = False, buying: bool = False) -> OpenState:
    """The symbol's open orders (and open order lists, and the position for a BUY when filtered)."""
    needed = rules.max_num_orders or rules.max_num_algo_orders or rules.max_num_iceberg_orders
    state = OpenState([])
    if needed or (rules.max_position is not None and buying):
        state.orders, state.fetched = (await app.client.open_orders(rules.symbol)).data, True
    if lists and rules.max_num_order_lists is not None:
        raw = (await order_calls.open_order_lists(app.client)).data
        state.lists = sum(1 for x in raw if x.get("symbol") == rules.symbol)
    if rules.max_position is not None and buying:
        state.position = await _position(app, rules, state.orders)
    return state


def violations_of(
    rules: SymbolRules,
    intent: plan.OrderIntent,
    prices: dict[str, Decimal],
    state: OpenState,
    added: tuple[int, int, int] = (0, 0, 0),
) -> list[Violation]:
    """Every filter ``intent`` breaks, with ``added`` (orders, stops, icebergs) more open before it;
    a symbol that is not TRADING is refused outright (TradingDisabled: nothing is sent)."""
    refuse_closed_market(rules)
    counted = state.fetched
    return rules.validate_order(
        side=intent.side,
        order_type=intent.order_type,
        quantity=intent.dec("quantity"),
        price=intent.dec("price"),
        stop_price=intent.dec("stop_price"),
        quote_order_qty=intent.dec("quote_order_qty"),
        iceberg_qty=intent.dec("iceberg_qty"),
        trailing_delta=intent.trailing_delta,
        stp_mode=intent.stp_mode,
        ref_prices=prices,
        open_orders=len(state.orders) + added[0] if counted else None,
        open_algo_orders=state.algo + added[1] if counted else None,
        open_iceberg_orders=state.icebergs + added[2] if counted else None,
        position=state.position,
    )


def raise_violations(violations: Sequence[Violation], where: str = "") -> None:
    if violations:
        prefix = f"{where}: " if where else ""
        raise FilterViolation(
            prefix + "; ".join(v.message for v in violations), violations=tuple(v.to_dict() for v in violations)
        )


async def check_filters(app: App, rules: SymbolRules, intent: plan.OrderIntent) -> None:
    """Runs every filter check the exchange would; raises FilterViolation with the nearest valid values."""
    state = await open_state(app, rules, buying=intent.side == "BUY")
    raise_violations(violations_of(rules, intent, await filter_prices(app, rules), state))


async def _position(app: App, rules: SymbolRules, open_orders: list[dict[str, Any]]) -> Decimal:
    """MAX_POSITION's measure: free + locked base asset plus what open BUY orders still buy."""
    balances = (await app.client.account()).data.get("balances", [])
    held = sum(
        (Decimal(b["free"]) + Decimal(b["locked"]) for b in balances if b.get("asset") == rules.base_asset),
        Decimal(0),
    )
    buying = sum(
        (Decimal(o["origQty"]) - Decimal(o["executedQty"]) for o in open_orders if o.get("side") == "BUY"),
        Decimal(0),
    )
    return held + buying


# -- 4. the cap ----------------------------------------------------------------------------------


async def market_view(app: App, rules: SymbolRules, needs: Iterable[plan.Needs]) -> plan.MarketView:
    wanted = list(needs)
    if not any(n.best_bid or n.asks for n in wanted):
        return plan.MarketView()
    depth = (await app.client.depth(rules.symbol, 100)).data
    bids = depth.get("bids") or []
    asks = [(Decimal(p), Decimal(q)) for p, q in depth.get("asks") or []]
    return plan.MarketView(best_bid=Decimal(bids[0][0]) if bids else None, asks=asks)


async def _conversion_book(app: App, quote_asset: str, cap_asset: str) -> dict[str, tuple[Decimal, Decimal]]:
    """Best (bid, ask) of the markets that convert ``quote_asset`` into ``cap_asset``."""
    if quote_asset == cap_asset:
        return {}
    listed = await app.client.exchange_rules()
    book: dict[str, tuple[Decimal, Decimal]] = {}
    for symbol in (quote_asset + cap_asset, cap_asset + quote_asset):
        if symbol in listed:
            t = (await app.client.book_ticker(symbol)).data
            book[symbol] = (Decimal(t.get("bidPrice") or "0"), Decimal(t.get("askPrice") or "0"))
    return book


async def cap_values(app: App, rules: SymbolRules, intents: Sequence[plan.OrderIntent]) -> list[Decimal] | None:
    """Each order's worst case in the cap asset, refusing the first over the cap (None: no cap)."""
    limits = app.settings.trading
    if limits.max_order_notional is None:
        return None
    market = await market_view(app, rules, [plan.needs(i) for i in intents])
    book = await _conversion_book(app, rules.quote_asset, limits.cap_asset)
    values = []
    for intent in intents:
        notional = plan.worst_case_notional(intent, market)
        value, rate = plan.to_cap_asset(notional, rules.quote_asset, limits.cap_asset, book)
        how = f"worst case {fmt_decimal(notional)} {rules.quote_asset}"
        if rules.quote_asset != limits.cap_asset:
            how += f" at {rate.source}"
        plan.check_cap(value, limits.max_order_notional, limits.cap_asset, how)
        values.append(value)
    return values


async def worst_cases(app: App, rules: SymbolRules, intents: Sequence[plan.OrderIntent]) -> list[Decimal | None]:
    """Each order's worst case in the cap asset with no cap applied, None where it has no bound (a
    pegged order, asks too thin, no conversion rate): what a person approving the orders is shown."""
    cap_asset = app.settings.trading.cap_asset
    try:
        market = await market_view(app, rules, [plan.needs(i) for i in intents])
        book = await _conversion_book(app, rules.quote_asset, cap_asset)
    except ProviderError:
        return [None for _ in intents]
    values: list[Decimal | None] = []
    for intent in intents:
        try:
            notional = plan.worst_case_notional(intent, market)
            values.append(plan.to_cap_asset(notional, rules.quote_asset, cap_asset, book)[0])
        except ProviderError:
            values.append(None)
    return values


async def check_cap(app: App, rules: SymbolRules, intent: plan.OrderIntent) -> Decimal | None:
    """Refuses an order whose worst case exceeds the operator's cap; returns it in the cap asset."""
    values = await cap_values(app, rules, [intent])
    return None if values is None else values[0]


def fmt_cap(value: Decimal) -> str:
    return fmt_decimal(value.quantize(Decimal("0.00000001")))


# -- settling a lost answer ----------------------------------------------------------------------


async def find_order(app: App, symbol: str, client_order_id: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = (await app.client.get_order(symbol, orig_client_order_id=client_order_id)).data
    except NotFound:
        return None
    return found


Lookup = Callable[[], Awaitable[dict[str, Any] | None]]
StreamLookup = Callable[[AccountState], dict[str, Any] | None]


async def settle_by(
    app: App,
    placement: Placement,
    deadline: float,
    lookup: Lookup,
    in_stream: StreamLookup | None = None,
    *,
    confirm: bool = False,
) -> dict[str, Any] | None:
    """Looks a request whose answer was lost up (``lookup``) until its outcome is final or the budget
    (``deadline``, monotonic) ends; returns what was found. The live account's events (``in_stream``)
    settle it at once, with what the stream shows, or (``confirm``) with a lookup then; REST stays
    the fallback."""
    while True:
        sent_at = app.client.server_now_ms()
        try:
            found = await asyncio.wait_for(lookup(), max(deadline - time.monotonic(), 0.05))
        except (ProviderError, TimeoutError) as exc:
            log.info("reconcile_lookup_failed", client_order_id=placement.client_order_id, error=str(exc))
            placement.lookup_failed()
        else:
            placement.looked_up(found is not None, sent_at)
            if found is not None:
                return found
        if placement.final:
            return None
        wait_s = placement.next_lookup_in_ms(app.client.server_now_ms()) / 1000
        if time.monotonic() + wait_s >= deadline:
            return None
        if in_stream is None or app.account is None:
            await asyncio.sleep(wait_s)
        elif await _stream_shows(app, in_stream, wait_s):
            shown = await lookup_quietly(lookup) if confirm else in_stream(app.account.state)
            if shown is not None:
                placement.looked_up(True, app.client.server_now_ms())
                return shown


#: how long a cancel's lookup after -2011 may take: past it the cancel's own answer stands, so a lookup
#: the exchange holds (or the weight governor delays) cannot push that answer past the caller's deadline
CANCEL_LOOKUP_WAIT_S = 2.0


async def lookup_quietly(lookup: Lookup, within_s: float | None = None) -> dict[str, Any] | None:
    """What ``lookup`` finds, None when it fails (or takes longer than ``within_s``, when given)."""
    if within_s is None:
        try:
            return await lookup()
        except ProviderError:
            return None
    try:
        async with asyncio.timeout(within_s):
            return await lookup()
    except (ProviderError, TimeoutError):
        return None


async def settle(app: App, symbol: str, placement: Placement, deadline: float) -> dict[str, Any] | None:
    """:func:`settle_by` for one order, looked up by its client order id."""
    cid = placement.client_order_id
    return await settle_by(
        app, placement, deadline, lambda: find_order(app, symbol, cid), lambda st: st.order(symbol, client_order_id=cid)
    )


async def _stream_shows(app: App, in_stream: StreamLookup, wait_s: float) -> bool:
    """Waits up to ``wait_s`` for the live account to show it; False when it does not (or is not live:
    then after ``wait_s``)."""
    stream = app.account
    if stream is None or not stream.state.live:
        await asyncio.sleep(wait_s)
        return False
    return await stream.wait_for(lambda st: in_stream(st) is not None, wait_s)


def new_placement(app: App, key: str) -> Placement:
    """A placement of the request keyed ``key``, remembered so a retry continues from what is known."""
    placement = Placement(
        key, recv_window_ms=app.client.config.recv_window_ms, margin_ms=CLOCK_MARGIN_MS + app.client.clock_error_ms()
    )
    app.ledger.remember(placement, app.client.server_now_ms())
    return placement


def iso(ms: int | None) -> str:
    return render_time(ms) if ms else "an unknown time"


class NotSentTooSlow(TradingDisabled):
    """Not sent: the call's remaining budget could not cover a send and the lookup after it."""

    retry_safe = True
    hint = "Nothing was sent; place the order again (the exchange is slow right now)."


def with_id(err: ProviderError, client_order_id: str, name: str = "client_order_id") -> ProviderError:
    """Adds an id to an error's message (so it reaches the caller whatever the path)."""
    if client_order_id not in err.message:
        err.message = f"{err.message} [{name}={client_order_id}]"
        err.args = (err.message,)
    return err


def expiry_note(order: trading_pb2.Order) -> str:
    if order.status == "EXPIRED" and order.expiry_reason == "INSUFFICIENT_LIQUIDITY":
        return (
            "The order expired: the book did not hold enough liquidity to fill it; the filled part "
            f"({order.executed_qty}) stands. Use a LIMIT order or a smaller size."
        )
    if order.status == "EXPIRED":
        kind = (
            "IOC/FOK"
            if order.time_in_force in (common_pb2.TIME_IN_FORCE_IOC, common_pb2.TIME_IN_FORCE_FOK)
            else "MARKET"
        )
        return (
            f"The order expired ({order.expiry_reason or 'no reason given'}): a {kind} order's unfilled part "
            f"is not kept; executed {order.executed_qty} of {order.orig_qty}."
        )
    return ""
