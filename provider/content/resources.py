"""Resource templates, the concrete resources worth listing, and their markdown renderings.

Each document starts with its title, the time and the environment that answered; tables are
markdown. Unknown symbols, statuses or URIs raise a clear error (NOT_FOUND / INVALID_ARGUMENT),
which the gateway turns into an MCP error.

Listed resources (`listed`), for clients that never expand templates, each one a URI of a
template above, so it reads like any other:
1. With account access: the balances, and the orders of each status.
2. Markets: symbols with a live book, the main pair of each held asset, the most traded pairs
   (by 24h quote volume, passed in so the caller can cache that costly ranking); trading symbols
   only, at most MAX_LISTED_MARKETS.
3. My trades on each held asset's main pair, at most MAX_LISTED_TRADES.
Titles and descriptions do not depend on why a symbol is listed, so the list changes only when
the set of URIs does. Account access refused (bad key, no permission) lists no account resources;
an exchange outage fails the listing, so a gateway keeps its previous list.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING
from urllib.parse import unquote

from contracts.binance.v1 import account_pb2, market_pb2, trading_pb2
from contracts.provider.v1 import provider_pb2
from provider.binance.rules import fmt_decimal
from provider.content.markdown import iso, pct, stamp, table
from provider.content.valuation import VALUATION_QUOTE, holdings, main_pair
from provider.errors import CallerError, ExchangeError, InvalidArgument, NotFound, Unauthenticated
from provider.services.account import get_account, get_my_trades
from provider.services.market import get_orderbook, get_recent_trades, get_ticker
from provider.services.orders import SIDES, TYPES
from provider.services.trading import get_all_orders, get_open_orders

if TYPE_CHECKING:
    from provider.account.state import AccountState
    from provider.app import App

MIME = "text/markdown"
ORDER_STATUSES = ("open", "filled", "canceled", "partially_filled", "new", "expired", "rejected", "expired_in_match")
MAX_ORDER_SYMBOLS = 20
MAX_LISTED_MARKETS = 20
MAX_LISTED_TRADES = 10
MOST_TRADED = 10
#: account resources polled over REST (no live stream) are asked at most this often per URI.
ACCOUNT_POLL_S = 5.0
_POLLED: dict[str, tuple[float, str]] = {}

Renderer = Callable[["App", dict[str, str]], Awaitable[str]]


@dataclass(frozen=True)
class Template:
    uri_template: str
    name: str
    title: str
    description: str
    variables: tuple[tuple[str, str], ...]
    render: Renderer
    subscribable: bool = False
    needs_key: bool = False
    """It reads the account: without API credentials its reads (and subscriptions) are refused."""

    @property
    def pattern(self) -> re.Pattern[str]:
        regex = re.escape(self.uri_template)
        for var, _ in self.variables:
            regex = regex.replace(re.escape("{" + var + "}"), f"(?P<{var}>[^/]+)")
        return re.compile(f"^{regex}$")

    def descriptor(self) -> provider_pb2.ResourceTemplateDescriptor:
        return provider_pb2.ResourceTemplateDescriptor(
            uri_template=self.uri_template,
            name=self.name,
            title=self.title,
            description=self.description,
            mime_type=MIME,
            subscribable=self.subscribable,
            variables=[
                provider_pb2.ArgumentDescriptor(name=n, description=d, required=True, completable=True)
                for n, d in self.variables
            ],
        )


async def render_market(app: App, params: dict[str, str]) -> str:
    symbol = (await app.client.rules(params["SYMBOL"])).symbol
    t = await get_ticker(app, market_pb2.GetTickerRequest(symbol=symbol))
    book = await get_orderbook(app, market_pb2.GetOrderBookRequest(symbol=symbol, limit=5))
    trades = (await get_recent_trades(app, market_pb2.GetRecentTradesRequest(symbol=symbol, limit=10))).trades
    lines = [stamp(app, f"{symbol} market")]
    lines.append("## 24h statistics\n")
    lines.append(
        table(
            ["last", "change", "change %", "high", "low", "volume", "quote volume", "trades"],
            [
                [
                    t.last_price,
                    t.price_change,
                    t.price_change_percent + "%",
                    t.high_price,
                    t.low_price,
                    t.volume,
                    t.quote_volume,
                    str(t.trade_count),
                ]
            ],
        )
    )
    if book.bids and book.asks:
        bid, ask = Decimal(book.bids[0].price), Decimal(book.asks[0].price)
        mid = (bid + ask) / 2
        spread = ask - bid
        lines.append(f"\n## Top of book (update id {book.last_update_id})\n")
        lines.append(
            f"best bid {fmt_decimal(bid)} · best ask {fmt_decimal(ask)} · spread {fmt_decimal(spread)} "
            f"({float(spread / mid * 10000):.3g} bps of mid {fmt_decimal(mid)})\n"
        )
        rows = [[b.quantity, b.price, a.price, a.quantity] for b, a in zip(book.bids, book.asks, strict=False)]
        lines.append(table(["bid qty", "bid", "ask", "ask qty"], rows))
    lines.append("\n## Recent trades (newest first)\n")
    lines.append(
        table(
            ["time (UTC)", "price", "qty", "aggressor"],
            [[iso(tr.time_ms), tr.price, tr.qty, "sell" if tr.is_buyer_maker else "buy"] for tr in reversed(trades)],
        )
    )
    return "\n".join(lines)


async def render_balances(app: App, params: dict[str, str]) -> str:
    rows, grand = await holdings(app)
    lines = [stamp(app, "Account balances")]
    lines.append(
        f"Total value: **{fmt_decimal(grand.quantize(Decimal('0.01')))} {VALUATION_QUOTE}** "
        f"({len(rows)} assets with a balance)\n"
    )
    lines.append(
        table(
            ["asset", "free", "locked", "total", f"price ({VALUATION_QUOTE})", f"value ({VALUATION_QUOTE})", "weight"],
            [
                [
                    h.asset,
                    fmt_decimal(h.free),
                    fmt_decimal(h.locked),
                    fmt_decimal(h.total),
                    fmt_decimal(h.price) if h.price is not None else "n/a",
                    fmt_decimal(h.value.quantize(Decimal("0.01"))) if h.value is not None else "n/a",
                    pct(h.value / grand * 100) if h.value is not None and grand else "n/a",
                ]
                for h in rows
            ],
        )
    )
    return "\n".join(lines)


async def render_trades(app: App, params: dict[str, str]) -> str:
    rules = await app.client.rules(params["SYMBOL"])
    trades = (await get_my_trades(app, account_pb2.GetMyTradesRequest(symbol=rules.symbol, limit=50))).trades
    lines = [stamp(app, f"My trades on {rules.symbol}")]
    lines.append(f"{len(trades)} most recent trades, newest first.\n")
    lines.append(
        table(
            [
                "time (UTC)",
                "side",
                "price",
                f"qty ({rules.base_asset})",
                f"quote ({rules.quote_asset})",
                "fee",
                "role",
                "order",
            ],
            [
                [
                    iso(t.time_ms),
                    SIDES.by_number[t.side],
                    t.price,
                    t.qty,
                    t.quote_qty,
                    f"{t.commission} {t.commission_asset}",
                    "maker" if t.is_maker else "taker",
                    str(t.order_id),
                ]
                for t in reversed(trades)
            ],
        )
    )
    return "\n".join(lines)


async def order_symbols(app: App) -> list[str]:
    """Symbols searched for closed orders: pairs of held assets, plus symbols with open orders."""
    account = await get_account(app, account_pb2.GetAccountRequest())
    held = {b.asset for b in account.balances}
    rules = await app.client.exchange_rules()
    symbols = sorted(s for s, r in rules.symbols.items() if r.base_asset in held and r.quote_asset in held)
    for o in (await get_open_orders(app, trading_pb2.GetOpenOrdersRequest())).orders:
        if o.symbol not in symbols:
            symbols.append(o.symbol)
    return symbols[:MAX_ORDER_SYMBOLS]


async def orders_with_status(app: App, status: str) -> tuple[list[trading_pb2.Order], list[str]]:
    """The orders with `status` (lower case), newest first, and the symbols searched."""
    if status == "open":
        orders = list((await get_open_orders(app, trading_pb2.GetOpenOrdersRequest())).orders)
        searched = ["all symbols"]
    else:
        searched = await order_symbols(app)
        orders = []
        for symbol in searched:
            found = await get_all_orders(app, trading_pb2.GetAllOrdersRequest(symbol=symbol, limit=100))
            orders += [o for o in found.orders if o.status.lower() == status]
    orders.sort(key=lambda o: o.update_time_ms or o.time_ms, reverse=True)
    return orders, searched


def order_status(params: dict[str, str]) -> str:
    """The STATUS of an orders URI, lower case; InvalidArgument when it is none of ORDER_STATUSES."""
    status = params["STATUS"].lower()
    if status not in ORDER_STATUSES:
        raise InvalidArgument(f"unknown order status {params['STATUS']!r}; one of {', '.join(ORDER_STATUSES)}")
    return status


async def render_orders(app: App, params: dict[str, str]) -> str:
    status = order_status(params)
    orders, searched = await orders_with_status(app, status)
    lines = [stamp(app, f"Orders: {status}")]
    lines.append(f"{len(orders)} orders, newest first; searched: {', '.join(searched) or 'no symbol'}.\n")
    lines.append(
        table(
            [
                "updated (UTC)",
                "symbol",
                "side",
                "type",
                "status",
                "price",
                "stop",
                "qty",
                "filled",
                "avg price",
                "order id",
                "client id",
            ],
            [
                [
                    iso(o.update_time_ms or o.time_ms),
                    o.symbol,
                    SIDES.by_number.get(o.side, "?"),
                    TYPES.by_number.get(o.type, "?"),
                    o.status,
                    o.price,
                    o.stop_price or "-",
                    o.orig_qty,
                    o.executed_qty,
                    o.avg_fill_price or "-",
                    str(o.order_id),
                    o.client_order_id,
                ]
                for o in orders
            ],
        )
    )
    return "\n".join(lines)


TEMPLATES: tuple[Template, ...] = (
    Template(
        "binance://market/{SYMBOL}",
        "market",
        "Market overview",
        "24h statistics, top of book with a few levels, spread, and recent trades of one symbol.",
        (("SYMBOL", "Trading pair, e.g. BTCUSDT"),),
        render_market,
        subscribable=True,
    ),
    Template(
        "binance://account/balances",
        "balances",
        "Account balances",
        f"Non-zero balances, free/locked/total, valued in {VALUATION_QUOTE}, largest first.",
        (),
        render_balances,
        subscribable=True,
        needs_key=True,
    ),
    Template(
        "binance://account/trades/{SYMBOL}",
        "my-trades",
        "My trades",
        "The account's latest trades on one symbol: time, side, price, quantity, quote amount, fee.",
        (("SYMBOL", "Trading pair, e.g. BTCUSDT"),),
        render_trades,
        subscribable=True,
        needs_key=True,
    ),
    Template(
        "binance://orders/{STATUS}",
        "orders",
        "Orders by status",
        "Orders by status: open (all symbols), or filled, canceled, expired, ... (symbols of held assets).",
        (("STATUS", "open, filled, canceled, expired, ..."),),
        render_orders,
        subscribable=True,
        needs_key=True,
    ),
)


@dataclass(frozen=True)
class Listed:
    """One concrete resource for `resources/list`."""

    uri: str
    name: str
    title: str
    description: str

    def descriptor(self) -> provider_pb2.ResourceDescriptor:
        return provider_pb2.ResourceDescriptor(
            uri=self.uri, name=self.name, title=self.title, description=self.description, mime_type=MIME
        )


async def most_traded(app: App, n: int = MOST_TRADED) -> list[str]:
    """The `n` trading symbols with the largest 24h quote volume (one all-symbols ticker: weight 80)."""
    rules = (await app.client.exchange_rules()).symbols
    tickers = (await app.client.ticker_24hr()).data
    trading = [t for t in tickers if t["symbol"] in rules and rules[t["symbol"]].is_trading]
    trading.sort(key=lambda t: (-Decimal(t["quoteVolume"]), t["symbol"]))
    return [t["symbol"] for t in trading[:n]]


async def held_assets(app: App) -> list[str] | None:
    """Assets with a non-zero balance, sorted; None without account access (no key, or refused)."""
    if app.client.credentials_kind == "none":
        return None
    try:
        account = await get_account(app, account_pb2.GetAccountRequest())
    except CallerError:
        return None  # a bad key or missing permission: account resources could not be read either
    return sorted(b.asset for b in account.balances if Decimal(b.total) > 0)


def _market(symbol: str) -> Listed:
    return Listed(
        f"binance://market/{symbol}",
        f"market-{symbol}",
        f"{symbol} market",
        f"24h statistics, top of book, spread and recent trades of {symbol}.",
    )


def _account_resources() -> list[Listed]:
    out = [Listed("binance://account/balances", "balances", "Account balances", TEMPLATES[1].description)]
    for status in ORDER_STATUSES:
        where = "all symbols" if status == "open" else "symbols of held assets"
        description = f"Orders with status {status}, newest first ({where})."
        out.append(Listed(f"binance://orders/{status}", f"orders-{status}", f"Orders: {status}", description))
    return out


async def listed(app: App, popular: list[str]) -> list[Listed]:
    """The concrete resources worth reading now (rules in the module docstring)."""
    rules = (await app.client.exchange_rules()).symbols
    trading = {s for s, r in rules.items() if r.is_trading}
    held = await held_assets(app)
    pairs = [p for p in (main_pair(a, trading) for a in held or []) if p is not None]
    live = sorted(app.books.book_health().symbols) if app.books is not None else []
    markets = [s for s in dict.fromkeys([*live, *pairs, *popular]) if s in trading][:MAX_LISTED_MARKETS]
    out = _account_resources() if held is not None else []
    out += [_market(s) for s in markets]
    out += [
        Listed(
            f"binance://account/trades/{s}",
            f"my-trades-{s}",
            f"My trades on {s}",
            f"The account's latest trades on {s}: time, side, price, quantity, fee.",
        )
        for s in list(dict.fromkeys(pairs))[:MAX_LISTED_TRADES]
    ]
    return out


def match(uri: str) -> tuple[Template, dict[str, str]]:
    """The template of ``uri`` and its variables, percent-decoded: a client expanding a template as
    RFC 6570 says sends a UTF-8 symbol (币安人生USDT) encoded, and no symbol or status holds a %."""
    for template in TEMPLATES:
        m = template.pattern.match(uri)
        if m:
            return template, {k: unquote(v) for k, v in m.groupdict().items()}
    raise NotFound(f"unknown resource {uri!r}; templates: {', '.join(t.uri_template for t in TEMPLATES)}")


async def read(app: App, uri: str) -> tuple[str, str]:
    template, params = match(uri)
    return MIME, await template.render(app, params)


async def check_subscription(app: App, uri: str) -> None:
    """Refuses, with the error a read of ``uri`` gives, a URI whose updates could never fire.

    An unknown URI is NOT_FOUND; a template that cannot be subscribed, an unknown order status or
    symbol INVALID_ARGUMENT, each naming what is allowed (the boundary bounds the quoted URI); one
    that reads the account, without API credentials, UNAUTHENTICATED. Only
    what the URI names is checked: a symbol that cannot be looked up now (the exchange failing) is
    let through, and its polls retry.
    """
    template, params = match(uri)
    if not template.subscribable:
        raise InvalidArgument(
            f"{uri!r} cannot be subscribed; subscribable: "
            + ", ".join(t.uri_template for t in TEMPLATES if t.subscribable)
        )
    if template.needs_key and app.client.credentials_kind == "none":
        raise Unauthenticated(
            f"{template.uri_template} reads the account, which needs API credentials; none are configured"
        )
    if "STATUS" in params:
        order_status(params)
    if "SYMBOL" in params:
        try:
            await app.client.rules(params["SYMBOL"])
        except ExchangeError:
            return


async def fingerprint(app: App, uri: str) -> str:
    """A cheap value that changes when the resource changes.

    From the live state when there is one (the order book for markets, the user data stream for the
    account: no REST weight), else from REST, which the account resources ask at most every
    ``ACCOUNT_POLL_S`` so a subscription cannot spend the weight budget.
    """
    template, params = match(uri)
    if template.name == "market":
        return await _market_fingerprint(app, params["SYMBOL"])
    stream = app.account
    if stream is not None and stream.state.live:
        return _account_fingerprint(stream.state, template.name, params)
    return await _polled_fingerprint(app, uri, template.name, params)


async def _market_fingerprint(app: App, symbol: str) -> str:
    rules = await app.client.rules(symbol)
    books = app.books
    book = books.book_health().symbols.get(rules.symbol) if books is not None else None
    if books is not None and book is not None and book.synced:
        view = await books.get_book(rules.symbol, timeout_s=1.0)
        bids, asks = view.levels(1)
        return f"{bids[:1]}/{asks[:1]}"
    t = (await app.client.book_ticker(rules.symbol)).data
    return f"{t['bidPrice']}/{t['bidQty']}/{t['askPrice']}/{t['askQty']}"


def _account_fingerprint(state: AccountState, kind: str, params: dict[str, str]) -> str:
    if kind == "balances":
        return repr(sorted(state.balances.items()))
    if kind == "my-trades":
        trades = state.trades(params["SYMBOL"].upper())
        return f"{len(trades)}/{trades[-1]['id'] if trades else None}/{state.gaps}"
    status = params["STATUS"].upper()
    orders = state.open_orders_json()
    if status != "OPEN":  # NEW and PARTIALLY_FILLED orders are open ones: look in both
        orders = [o for o in (*orders, *state.closed.values()) if o["status"] == status]
    return repr(sorted((o["orderId"], o["status"], o["executedQty"]) for o in orders)) + f"/{state.gaps}"


async def _polled_fingerprint(app: App, uri: str, kind: str, params: dict[str, str]) -> str:
    now = time.monotonic()
    cached = _POLLED.get(uri)
    if cached is not None and now - cached[0] < ACCOUNT_POLL_S:
        return cached[1]
    if kind == "balances":
        balances = (await get_account(app, account_pb2.GetAccountRequest())).balances
        value = repr(sorted((b.asset, b.free, b.locked) for b in balances))
    elif kind == "my-trades":
        request = account_pb2.GetMyTradesRequest(symbol=params["SYMBOL"], limit=1)
        value = repr([t.id for t in (await get_my_trades(app, request)).trades])
    else:  # the orders themselves: a rendering starts with the time it was read at
        orders, searched = await orders_with_status(app, order_status(params))
        value = repr((searched, sorted((o.order_id, o.status, o.executed_qty) for o in orders)))
    _POLLED[uri] = (now, value)
    return value


async def wait_change(app: App, timeout_s: float) -> None:
    """Returns when the live account changed (push), or after ``timeout_s`` (the polling pace)."""
    stream = app.account
    if stream is None or not stream.state.live:
        await asyncio.sleep(timeout_s)
        return
    await stream.next_change(timeout_s)


async def complete(app: App, ref: str, argument: str, value: str) -> list[str]:
    if argument == "SYMBOL":
        return await complete_symbol(app, value)
    if argument == "STATUS":
        return [s for s in ORDER_STATUSES if s.startswith(value.lower())]
    known = [t.uri_template for t in TEMPLATES]
    if ref not in known:
        raise NotFound(f"unknown resource template {ref!r}; templates: {', '.join(known)}")
    return []


async def complete_symbol(app: App, prefix: str) -> list[str]:
    rules = await app.client.exchange_rules()
    p = prefix.strip().upper()
    trading = [s for s, r in rules.symbols.items() if r.is_trading]
    return sorted(s for s in trading if s.startswith(p))
