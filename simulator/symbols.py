"""Seeded market definitions and their exchangeInfo rendering.

Filters follow spec §4 (PRICE_FILTER, LOT_SIZE, ICEBERG_PARTS, MARKET_LOT_SIZE, TRAILING_DELTA,
NOTIONAL, PERCENT_PRICE_BY_SIDE, MAX_NUM_ORDERS, MAX_NUM_ORDER_LISTS, MAX_NUM_ALGO_ORDERS,
MAX_NUM_ICEBERG_ORDERS, MAX_NUM_ORDER_AMENDS); the JSON shape follows `rest_exchangeInfo.json`. Each
price-based filter carries its own `avgPriceMins` (PERCENT_PRICE_BY_SIDE 1 and NOTIONAL 5, like
BTCUSDT on Binance; DOGEBTC's PERCENT_PRICE_BY_SIDE uses 0, the last price).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from simulator.decimals import fmt8

ORDER_TYPES = [
    "LIMIT",
    "LIMIT_MAKER",
    "MARKET",
    "STOP_LOSS",
    "STOP_LOSS_LIMIT",
    "TAKE_PROFIT",
    "TAKE_PROFIT_LIMIT",
]
STP_MODES = ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"]


@dataclass(frozen=True)
class SymbolSpec:
    """One tradable market: assets, increments and the synthetic market's scale."""

    symbol: str
    base: str
    quote: str
    tick_size: Decimal
    step_size: Decimal
    min_qty: Decimal
    max_qty: Decimal
    market_max_qty: Decimal
    min_notional: Decimal
    max_notional: Decimal
    max_price: Decimal
    start_price: Decimal
    depth_levels: int
    """Levels per side the synthetic book is seeded with."""
    typical_lots: int
    """Typical resting size of one synthetic level, in steps."""
    max_num_orders: int = 200
    max_num_algo_orders: int = 5
    max_num_order_lists: int = 20
    max_num_iceberg_orders: int = 5
    max_num_order_amends: int = 10
    iceberg_parts: int = 100
    min_trailing_delta: int = 10
    max_trailing_delta: int = 2000
    status: str = "TRADING"
    bid_multiplier_up: Decimal = Decimal(5)
    bid_multiplier_down: Decimal = Decimal("0.2")
    ask_multiplier_up: Decimal = Decimal(5)
    ask_multiplier_down: Decimal = Decimal("0.2")
    percent_price_mins: int = 1
    """PERCENT_PRICE_BY_SIDE `avgPriceMins` (0 = the last trade price)."""
    notional_mins: int = 5
    """NOTIONAL `avgPriceMins` (0 = the last trade price)."""
    activity: float = 1.0
    """Share of the market loop's steps that act on this book (1: every step). Below 1 each acting
    step is a synthetic trade: a quiet market (1/1200: about a trade a minute at `--rate 20`)."""

    def filters(self) -> list[dict[str, Any]]:
        """Symbol filters in exchangeInfo form (spec §4)."""
        return [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": fmt8(self.tick_size),
                "maxPrice": fmt8(self.max_price),
                "tickSize": fmt8(self.tick_size),
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": fmt8(self.min_qty),
                "maxQty": fmt8(self.max_qty),
                "stepSize": fmt8(self.step_size),
            },
            {"filterType": "ICEBERG_PARTS", "limit": self.iceberg_parts},
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": fmt8(Decimal(0)),
                "maxQty": fmt8(self.market_max_qty),
                "stepSize": fmt8(Decimal(0)),
            },
            {
                "filterType": "TRAILING_DELTA",
                "minTrailingAboveDelta": self.min_trailing_delta,
                "maxTrailingAboveDelta": self.max_trailing_delta,
                "minTrailingBelowDelta": self.min_trailing_delta,
                "maxTrailingBelowDelta": self.max_trailing_delta,
            },
            {
                "filterType": "PERCENT_PRICE_BY_SIDE",
                "bidMultiplierUp": str(self.bid_multiplier_up),
                "bidMultiplierDown": str(self.bid_multiplier_down),
                "askMultiplierUp": str(self.ask_multiplier_up),
                "askMultiplierDown": str(self.ask_multiplier_down),
                "avgPriceMins": self.percent_price_mins,
            },
            {
                "filterType": "NOTIONAL",
                "minNotional": fmt8(self.min_notional),
                "applyMinToMarket": True,
                "maxNotional": fmt8(self.max_notional),
                "applyMaxToMarket": False,
                "avgPriceMins": self.notional_mins,
            },
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": self.max_num_orders},
            {"filterType": "MAX_NUM_ORDER_LISTS", "maxNumOrderLists": self.max_num_order_lists},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": self.max_num_algo_orders},
            {"filterType": "MAX_NUM_ICEBERG_ORDERS",
             "maxNumIcebergOrders": self.max_num_iceberg_orders},
            {"filterType": "MAX_NUM_ORDER_AMENDS", "maxNumOrderAmends": self.max_num_order_amends},
        ]

    def exchange_info(self) -> dict[str, Any]:
        """The `symbols[]` entry of exchangeInfo."""
        return {
            "symbol": self.symbol,
            "status": self.status,
            "baseAsset": self.base,
            "baseAssetPrecision": 8,
            "quoteAsset": self.quote,
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "baseCommissionPrecision": 8,
            "quoteCommissionPrecision": 8,
            "orderTypes": list(ORDER_TYPES),
            "icebergAllowed": True,
            "ocoAllowed": True,
            "otoAllowed": True,
            "opoAllowed": False,
            "quoteOrderQtyMarketAllowed": True,
            "allowTrailingStop": True,
            "cancelReplaceAllowed": True,
            "amendAllowed": True,
            "pegInstructionsAllowed": False,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": self.filters(),
            "permissions": [],
            "permissionSets": [["SPOT"]],
            "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": list(STP_MODES),
        }


def _spec(
    symbol: str,
    base: str,
    quote: str,
    tick: str,
    step: str,
    price: str,
    *,
    min_notional: str,
    levels: int,
    lots: int,
    max_qty: str = "9000.00000000",
    percent_price_mins: int = 1,
    notional_mins: int = 5,
    activity: float = 1.0,
    status: str = "TRADING",
) -> SymbolSpec:
    d = Decimal
    return SymbolSpec(
        symbol=symbol,
        base=base,
        quote=quote,
        tick_size=d(tick),
        step_size=d(step),
        min_qty=d(step),
        max_qty=d(max_qty),
        market_max_qty=d(max_qty) / 10,
        min_notional=d(min_notional),
        max_notional=d("9000000.00000000"),
        max_price=d("1000000.00000000") if d(price) > 1 else d("1000.00000000"),
        start_price=d(price),
        depth_levels=levels,
        typical_lots=lots,
        percent_price_mins=percent_price_mins,
        notional_mins=notional_mins,
        activity=activity,
        status=status,
    )


DEFAULT_SYMBOLS: dict[str, SymbolSpec] = {
    s.symbol: s
    for s in (
        _spec("BTCUSDT", "BTC", "USDT", "0.01", "0.00001", "64000.00",
              min_notional="5", levels=2500, lots=5000),
        _spec("ETHUSDT", "ETH", "USDT", "0.01", "0.0001", "3200.00",
              min_notional="5", levels=2500, lots=5000),
        _spec("BNBUSDT", "BNB", "USDT", "0.01", "0.001", "580.00",
              min_notional="5", levels=2000, lots=2000),
        _spec("ETHBTC", "ETH", "BTC", "0.00001", "0.0001", "0.05000",
              min_notional="0.0001", levels=1500, lots=3000),
        _spec("SHIBUSDT", "SHIB", "USDT", "0.00000001", "1", "0.00002400",
              min_notional="5", levels=1500, lots=5_000_000, max_qty="90000000000"),
        _spec("DOGEBTC", "DOGE", "BTC", "0.00000001", "1", "0.00000250",
              min_notional="0.0001", levels=200, lots=20000, max_qty="90000000",
              percent_price_mins=0),
    )
}

QUIET_BASES = (
    "ADA", "XRP", "SOL", "DOT", "LINK", "LTC", "TRX", "AVAX", "ATOM", "NEAR", "FIL", "APT",
    "ARB", "OP", "SUI", "INJ", "AAVE", "UNI", "ETC", "XLM", "ALGO", "VET", "ICP", "HBAR",
    "EGLD", "SAND", "MANA", "AXS", "THETA", "FTM", "GRT", "CHZ", "ENJ", "ZIL", "KAVA", "RUNE",
    "CRV", "SNX", "COMP", "MKR", "YFI", "1INCH", "BAT", "ZRX", "KSM", "FLOW", "MINA", "ROSE",
)
"""Quiet markets (`<BASE>USDT`): 40 levels a side, about a trade a minute at `--rate 20`."""
QUIET_ACTIVITY = 1 / 1200
UNICODE_SYMBOL = "币安人生USDT"
"""A symbol with a UTF-8 name (Binance lists such symbols since 2025-12)."""
BREAK_SYMBOL = "LUNAUSDT"
"""A symbol in BREAK status: listed, not trading; its book never moves."""


def _extra_markets() -> list[SymbolSpec]:
    out = []
    for i, base in enumerate(QUIET_BASES):
        price = (Decimal(1) + Decimal(i) * Decimal("0.37")).quantize(Decimal("0.0001"))
        out.append(_spec(f"{base}USDT", base, "USDT", "0.0001", "0.1", str(price),
                         min_notional="5", levels=40, lots=1000, activity=QUIET_ACTIVITY))
    out.append(_spec(UNICODE_SYMBOL, "币安人生", "USDT", "0.00001", "1", "0.15000",
                     min_notional="5", levels=200, lots=20000, max_qty="90000000", activity=0.05))
    out.append(_spec(BREAK_SYMBOL, "LUNA", "USDT", "0.0001", "0.01", "0.4000",
                     min_notional="5", levels=20, lots=1000, activity=0.0, status="BREAK"))
    return out


DEFAULT_SYMBOLS.update((s.symbol, s) for s in _extra_markets())

def rate_limits(weight_limit: int, orders_10s: int, orders_1d: int) -> list[dict[str, Any]]:
    """The `rateLimits` array (spec §1.5), reflecting the configured limits."""
    return [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
         "limit": weight_limit},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": orders_10s},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": orders_1d},
        {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5,
         "limit": 300000},
    ]
