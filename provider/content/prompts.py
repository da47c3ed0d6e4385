"""Prompts filled with live data. MCP prompts have only `user` and `assistant` roles.

`trading-analysis`: 24h statistics, klines of the timeframe and order-book L1 metrics of a symbol.
`portfolio-risk`: holdings valued in USDT with weights, concentration and 24h moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from contracts.binance.v1 import common_pb2, market_pb2, orderbook_pb2
from contracts.provider.v1 import provider_pb2
from provider.binance.rules import fmt_decimal
from provider.catalog.descriptors import enum_wire
from provider.catalog.jsonmap import apply_defaults, to_json
from provider.catalog.render import render
from provider.content.markdown import iso, stamp, table
from provider.content.resources import complete_symbol
from provider.content.valuation import VALUATION_QUOTE, holdings
from provider.errors import InvalidArgument, NotFound
from provider.services.market import get_klines, get_ticker
from provider.services.orderbook import get_l1

if TYPE_CHECKING:
    from provider.app import App

_INTERVALS = enum_wire(common_pb2.KlineInterval.DESCRIPTOR)
INTERVALS = _INTERVALS.names
RISK_LEVELS = ("low", "medium", "high")
KLINES_PER_ANALYSIS = 48


@dataclass(frozen=True)
class Argument:
    name: str
    description: str
    required: bool
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Prompt:
    name: str
    title: str
    description: str
    arguments: tuple[Argument, ...]

    def descriptor(self) -> provider_pb2.PromptDescriptor:
        return provider_pb2.PromptDescriptor(
            name=self.name,
            title=self.title,
            description=self.description,
            arguments=[
                provider_pb2.ArgumentDescriptor(
                    name=a.name, description=a.description, required=a.required, completable=True
                )
                for a in self.arguments
            ],
        )


PROMPTS: tuple[Prompt, ...] = (
    Prompt(
        "trading-analysis",
        "Trading analysis",
        "Analyse one symbol from live data: 24h statistics, klines of the timeframe, order-book metrics.",
        (
            Argument("symbol", "Trading pair, e.g. BTCUSDT", True),
            Argument(
                "timeframe", f"Kline interval, one of {', '.join(INTERVALS)} (default 1h)", False, tuple(INTERVALS)
            ),
        ),
    ),
    Prompt(
        "portfolio-risk",
        "Portfolio risk",
        f"Assess the account's risk from live holdings valued in {VALUATION_QUOTE}: weights, concentration, 24h moves.",
        (Argument("risk_tolerance", "low, medium or high (default medium)", False, RISK_LEVELS),),
    ),
)


def _prompt(name: str) -> Prompt:
    for p in PROMPTS:
        if p.name == name:
            return p
    raise NotFound(f"unknown prompt {name!r}; prompts: {', '.join(p.name for p in PROMPTS)}")


def _check_args(prompt: Prompt, args: dict[str, str]) -> dict[str, str]:
    known = {a.name: a for a in prompt.arguments}
    unknown = sorted(set(args) - set(known))
    if unknown:
        raise InvalidArgument(f"unknown argument {', '.join(unknown)} for {prompt.name}; allowed: {', '.join(known)}")
    for a in prompt.arguments:
        value = args.get(a.name, "").strip()
        if a.required and not value:
            raise InvalidArgument(f"{prompt.name} needs '{a.name}': {a.description}")
        if value and a.choices and value not in a.choices:
            folded = [c for c in a.choices if c.lower() == value.lower()]
            if len(folded) != 1:
                raise InvalidArgument(f"'{a.name}' must be one of {', '.join(a.choices)}; got {value!r}")
            args[a.name] = folded[0]
    return args


async def get(app: App, name: str, args: dict[str, str]) -> tuple[str, list[tuple[str, str]]]:
    prompt = _prompt(name)
    args = _check_args(prompt, dict(args))
    if prompt.name == "trading-analysis":
        return prompt.description, await trading_analysis(app, args["symbol"], args.get("timeframe") or "1h")
    return prompt.description, await portfolio_risk(app, args.get("risk_tolerance") or "medium")


async def trading_analysis(app: App, symbol: str, timeframe: str) -> list[tuple[str, str]]:
    s = (await app.client.rules(symbol)).symbol
    t = await get_ticker(app, market_pb2.GetTickerRequest(symbol=s))
    interval = _INTERVALS.by_name[timeframe]
    klines = (
        await get_klines(app, market_pb2.GetKlinesRequest(symbol=s, interval=interval, limit=KLINES_PER_ANALYSIS))  # type: ignore[arg-type]
    ).klines
    l1_req = orderbook_pb2.GetL1Request(symbol=s)
    apply_defaults(l1_req)
    l1 = render("orderbook_l1", to_json(await get_l1(app, l1_req)))
    closes = [Decimal(k.close) for k in klines]
    change = (closes[-1] / closes[0] - 1) * 100 if closes and closes[0] else Decimal(0)
    data = [stamp(app, f"{s} analysis data ({timeframe})")]
    data.append("## 24h statistics\n")
    data.append(
        table(
            ["last", "change %", "high", "low", "volume", "quote volume", "trades"],
            [
                [
                    t.last_price,
                    t.price_change_percent,
                    t.high_price,
                    t.low_price,
                    t.volume,
                    t.quote_volume,
                    str(t.trade_count),
                ]
            ],
        )
    )
    data.append(f"\n## Last {len(klines)} klines of {timeframe} (oldest first; close-to-close change {change:.2f}%)\n")
    data.append(
        table(
            ["open time (UTC)", "open", "high", "low", "close", "volume", "trades"],
            [[iso(k.open_time_ms), k.open, k.high, k.low, k.close, k.volume, str(k.trade_count)] for k in klines],
        )
    )
    data.append("\n## Order book metrics (live)\n")
    data.append("```\n" + l1 + "\n```\n")
    ask = (
        f"Using only the data above, analyse {s} on the {timeframe} timeframe: trend and momentum from the "
        "klines, volatility and range, liquidity and order-book pressure from spread, imbalance and depth, "
        "and levels that matter. Give a neutral assessment with the numbers you rely on, the main risks, "
        "and what would change your view. Do not place orders."
    )
    return [("user", "\n".join(data)), ("user", ask)]


async def portfolio_risk(app: App, tolerance: str) -> list[tuple[str, str]]:
    rows, grand = await holdings(app)
    tickers: dict[str, market_pb2.GetTickerResponse] = {}
    listed = (await app.client.exchange_rules()).symbols
    for h in rows:
        pair = f"{h.asset}{VALUATION_QUOTE}"
        if h.asset != VALUATION_QUOTE and pair in listed:  # no direct market: the 24h move stays unknown
            tickers[h.asset] = await get_ticker(app, market_pb2.GetTickerRequest(symbol=pair))
    weights = {h.asset: (h.value / grand if grand and h.value is not None else Decimal(0)) for h in rows}
    hhi = sum((w * w for w in weights.values()), Decimal(0))
    top = max(weights.items(), key=lambda kv: kv[1]) if weights else ("-", Decimal(0))
    move = sum((weights[a] * Decimal(t.price_change_percent) for a, t in tickers.items()), Decimal(0))
    data = [stamp(app, "Portfolio risk data")]
    data.append(
        f"Total value {fmt_decimal(grand.quantize(Decimal('0.01')))} {VALUATION_QUOTE}; "
        f"largest holding {top[0]} at {top[1] * 100:.1f}%; concentration (Herfindahl) {hhi:.3f} "
        f"(1 = a single asset); value-weighted 24h move {move:.2f}%.\n"
    )
    data.append(
        table(
            ["asset", "total", f"value ({VALUATION_QUOTE})", "weight", "24h change", "24h high", "24h low"],
            [
                [
                    h.asset,
                    fmt_decimal(h.total),
                    fmt_decimal(h.value.quantize(Decimal("0.01"))) if h.value is not None else "n/a",
                    f"{weights[h.asset] * 100:.1f}%",
                    (tickers[h.asset].price_change_percent + "%")
                    if h.asset in tickers
                    else ("0%" if h.asset == VALUATION_QUOTE else "n/a"),
                    tickers[h.asset].high_price if h.asset in tickers else "-",
                    tickers[h.asset].low_price if h.asset in tickers else "-",
                ]
                for h in rows
            ],
        )
    )
    ask = (
        f"My risk tolerance is {tolerance}. Using only the data above, assess this portfolio's risk: "
        "concentration, exposure to volatile assets, the 24h moves, and liquidity. Say what a "
        f"{tolerance}-tolerance investor should consider changing and why, with numbers. Do not place orders."
    )
    return [("user", "\n".join(data)), ("user", ask)]


async def complete(app: App, ref: str, argument: str, value: str) -> list[str]:
    prompt = _prompt(ref)
    arg = next((a for a in prompt.arguments if a.name == argument), None)
    if arg is None:
        raise InvalidArgument(f"{ref} has no argument {argument!r}")
    if argument == "symbol":
        return await complete_symbol(app, value)
    return [c for c in arg.choices if c.lower().startswith(value.lower())]
