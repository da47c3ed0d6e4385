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
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from contracts.provider.v1 import provider_pb2
from provider.binance.rules import fmt_decimal
from provider.errors import CallerError, InvalidArgument, NotFound
from provider.services.orders import order_from_json

if TYPE_CHECKING:
    from provider.account.state import AccountState
    from provider.app import App

MIME = "text/markdown"
ORDER_STATUSES = ("open", "filled", "canceled", "partially_filled", "new", "expired", "rejected", "expired_in_match")
#: quote assets used to value holdings, in order of preference (the first is the valuation unit).
VALUATION_QUOTE = "USDT"
MAX_ORDER_SYMBOLS = 20
MAX_LISTED_MARKETS = 20
MAX_LISTED_TRADES = 10
MOST_TRADED = 10
#: account resources polled over REST (no live stream) are asked at most this often per URI.
ACCOUNT_POLL_S = 5.0
_POLLED: dict[str, tuple[float, str]] = {}
#: quote assets of an asset's main pair, in order of preference.
MAIN_QUOTES = (VALUATION_QUOTE, "BTC")

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


def stamp(app: App, title: str) -> str:
    now = datetime.fromtimestamp(app.client.server_now_ms() / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"# {title}\n\n_{now} · environment: {app.environment}_\n"


def table(headers: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return "_none_\n"
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out) + "\n"


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def pct(x: Decimal) -> str:
    return f"{x:.2f}%"


async def render_market(app: App, params: dict[str, str]) -> str:
    rules = await app.client.rules(params["SYMBOL"])
    s = rules.symbol
    t = (await app.client.ticker_24hr(s)).data
    book = (await app.client.depth(s, 5)).data
    trades = ((await app.client.trades(s, 10)).data)[::-1]
    bid = Decimal(book["bids"][0][0]) if book["bids"] else Decimal(0)
    ask = Decimal(book["asks"][0][0]) if book["asks"] else Decimal(0)
    lines = [stamp(app, f"{s} market")]
    lines.append("## 24h statistics\n")
    lines.append(
        table(
            ["last", "change", "change %", "high", "low", "volume", "quote volume", "trades"],
            [
                [
                    t["lastPrice"],
                    t["priceChange"],
                    t["priceChangePercent"] + "%",
                    t["highPrice"],
                    t["lowPrice"],
                    t["volume"],
                    t["quoteVolume"],
                    str(t["count"]),
                ]
            ],
        )
    )
    if bid and ask:
        mid = (bid + ask) / 2
        spread = ask - bid
        lines.append(f"\n## Top of book (update id {book['lastUpdateId']})\n")
        lines.append(
            f"best bid {fmt_decimal(bid)} · best ask {fmt_decimal(ask)} · spread {fmt_decimal(spread)} "
            f"({float(spread / mid * 10000):.3g} bps of mid {fmt_decimal(mid)})\n"
        )
        rows = [[b[1], b[0], a[0], a[1]] for b, a in zip(book["bids"], book["asks"], strict=False)]
        lines.append(table(["bid qty", "bid", "ask", "ask qty"], rows))
    lines.append("\n## Recent trades (newest first)\n")
    lines.append(
        table(
            ["time (UTC)", "price", "qty", "aggressor"],
            [[iso(tr["time"]), tr["price"], tr["qty"], "sell" if tr["isBuyerMaker"] else "buy"] for tr in trades],
        )
    )
    return "\n".join(lines)


async def valued_balances(app: App) -> tuple[list[dict[str, Any]], Decimal]:
    """Non-zero balances with their value in VALUATION_QUOTE, largest first, and the total."""
    account = (await app.client.account(omit_zero_balances=True)).data
    prices = {p["symbol"]: Decimal(p["price"]) for p in (await app.client.ticker_price()).data}
    out = []
    for b in account["balances"]:
        free, locked = Decimal(b["free"]), Decimal(b["locked"])
        total = free + locked
        if total == 0:
            continue
        price = asset_price(b["asset"], prices)
        out.append(
            {
                "asset": b["asset"],
                "free": free,
                "locked": locked,
                "total": total,
                "price": price,
                "value": total * price if price is not None else None,
            }
        )
    out.sort(key=lambda r: r["value"] if r["value"] is not None else Decimal(-1), reverse=True)
    grand = sum((r["value"] for r in out if r["value"] is not None), Decimal(0))
    return out, grand


def asset_price(asset: str, prices: dict[str, Decimal], quote: str = VALUATION_QUOTE) -> Decimal | None:
    """Price of one unit of `asset` in `quote`: direct, inverse, or through BTC."""
    if asset == quote:
        return Decimal(1)
    if f"{asset}{quote}" in prices:
        return prices[f"{asset}{quote}"]
    if f"{quote}{asset}" in prices and prices[f"{quote}{asset}"] > 0:
        return 1 / prices[f"{quote}{asset}"]
    if f"{asset}BTC" in prices and f"BTC{quote}" in prices:
        return prices[f"{asset}BTC"] * prices[f"BTC{quote}"]
    return None


async def render_balances(app: App, params: dict[str, str]) -> str:
    rows, grand = await valued_balances(app)
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
                    r["asset"],
                    fmt_decimal(r["free"]),
                    fmt_decimal(r["locked"]),
                    fmt_decimal(r["total"]),
                    fmt_decimal(r["price"]) if r["price"] is not None else "n/a",
                    fmt_decimal(r["value"].quantize(Decimal("0.01"))) if r["value"] is not None else "n/a",
                    pct(r["value"] / grand * 100) if r["value"] is not None and grand else "n/a",
                ]
                for r in rows
            ],
        )
    )
    return "\n".join(lines)


async def render_trades(app: App, params: dict[str, str]) -> str:
    rules = await app.client.rules(params["SYMBOL"])
    trades = ((await app.client.my_trades(rules.symbol, limit=50)).data)[::-1]
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
                    iso(t["time"]),
                    "BUY" if t["isBuyer"] else "SELL",
                    t["price"],
                    t["qty"],
                    t["quoteQty"],
                    f"{t['commission']} {t['commissionAsset']}",
                    "maker" if t["isMaker"] else "taker",
                    str(t["orderId"]),
                ]
                for t in trades
            ],
        )
    )
    return "\n".join(lines)


async def order_symbols(app: App) -> list[str]:
    """Symbols searched for closed orders: pairs of held assets, plus symbols with open orders."""
    account = (await app.client.account(omit_zero_balances=True)).data
    held = {b["asset"] for b in account["balances"]}
    rules = await app.client.exchange_rules()
    symbols = sorted(s for s, r in rules.symbols.items() if r.base_asset in held and r.quote_asset in held)
    for o in (await app.client.open_orders(None)).data:
        if o["symbol"] not in symbols:
            symbols.append(o["symbol"])
    return symbols[:MAX_ORDER_SYMBOLS]


async def render_orders(app: App, params: dict[str, str]) -> str:
    status = params["STATUS"].lower()
    if status not in ORDER_STATUSES:
        raise InvalidArgument(f"unknown order status {params['STATUS']!r}; one of {', '.join(ORDER_STATUSES)}")
    searched: list[str]
    if status == "open":
        raw = (await app.client.open_orders(None)).data
        searched = ["all symbols"]
    else:
        searched = await order_symbols(app)
        raw = []
        for symbol in searched:
            raw += [o for o in (await app.client.all_orders(symbol, limit=100)).data if o["status"].lower() == status]
    raw.sort(key=lambda o: o.get("updateTime", o.get("time", 0)), reverse=True)
    orders = [order_from_json(o) for o in raw]
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
                    raw[i]["side"],
                    raw[i]["type"],
                    o.status,
                    o.price,
                    o.stop_price or "-",
                    o.orig_qty,
                    o.executed_qty,
                    o.avg_fill_price or "-",
                    str(o.order_id),
                    o.client_order_id,
                ]
                for i, o in enumerate(orders)
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
    ),
    Template(
        "binance://account/trades/{SYMBOL}",
        "my-trades",
        "My trades",
        "The account's latest trades on one symbol: time, side, price, quantity, quote amount, fee.",
        (("SYMBOL", "Trading pair, e.g. BTCUSDT"),),
        render_trades,
        subscribable=True,
    ),
    Template(
        "binance://orders/{STATUS}",
        "orders",
        "Orders by status",
        "Orders by status: open (all symbols), or filled, canceled, expired, ... (symbols of held assets).",
        (("STATUS", "open, filled, canceled, expired, ..."),),
        render_orders,
        subscribable=True,
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
        account = (await app.client.account(omit_zero_balances=True)).data
    except CallerError:
        return None  # a bad key or missing permission: account resources could not be read either
    return sorted(b["asset"] for b in account["balances"] if Decimal(b["free"]) + Decimal(b["locked"]) > 0)


def main_pair(asset: str, trading: set[str]) -> str | None:
    """The pair an asset is usually valued in: against USDT, else BTC, if it trades."""
    return next((f"{asset}{q}" for q in MAIN_QUOTES if f"{asset}{q}" in trading), None)


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
    for template in TEMPLATES:
        m = template.pattern.match(uri)
        if m:
            return template, m.groupdict()
    raise NotFound(f"unknown resource {uri!r}; templates: {', '.join(t.uri_template for t in TEMPLATES)}")


async def read(app: App, uri: str) -> tuple[str, str]:
    template, params = match(uri)
    return MIME, await template.render(app, params)


def subscribable(uri: str) -> bool:
    try:
        template, _ = match(uri)
    except NotFound:
        return False
    return template.subscribable


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
    orders = state.open_orders_json() if status == "OPEN" else [
        o for o in state.closed.values() if o["status"] == status
    ]
    return repr(sorted((o["orderId"], o["status"], o["executedQty"]) for o in orders)) + f"/{state.gaps}"


async def _polled_fingerprint(app: App, uri: str, kind: str, params: dict[str, str]) -> str:
    now = time.monotonic()
    cached = _POLLED.get(uri)
    if cached is not None and now - cached[0] < ACCOUNT_POLL_S:
        return cached[1]
    if kind == "balances":
        value = repr(sorted((b["asset"], b["free"], b["locked"]) for b in
                            (await app.client.account(omit_zero_balances=True)).data["balances"]))
    elif kind == "my-trades":
        rules = await app.client.rules(params["SYMBOL"])
        value = repr([t["id"] for t in (await app.client.my_trades(rules.symbol, limit=1)).data])
    else:
        value = await render_orders(app, params)
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
