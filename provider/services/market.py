"""Market-data tools: thin mappings from Binance's JSON to the typed responses."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from contracts.binance.v1 import common_pb2, market_pb2
from provider.binance.rules import SymbolRules, fmt_decimal
from provider.catalog.descriptors import enum_wire
from provider.services.freshness import freshness
from provider.services.registry import tool

if TYPE_CHECKING:
    from provider.app import App

_INTERVALS = enum_wire(common_pb2.KlineInterval.DESCRIPTOR)


def levels(raw: list[list[str]]) -> list[common_pb2.PriceLevel]:
    return [common_pb2.PriceLevel(price=p, quantity=q) for p, q, *_ in raw]


@tool("binance.get_ticker")
async def get_ticker(app: App, req: market_pb2.GetTickerRequest) -> market_pb2.GetTickerResponse:
    rules = await app.client.rules(req.symbol)
    t: dict[str, Any] = (await app.client.ticker_24hr(rules.symbol)).data
    return market_pb2.GetTickerResponse(
        symbol=t["symbol"],
        last_price=t["lastPrice"],
        last_qty=t["lastQty"],
        price_change=t["priceChange"],
        price_change_percent=t["priceChangePercent"],
        weighted_avg_price=t["weightedAvgPrice"],
        open_price=t["openPrice"],
        high_price=t["highPrice"],
        low_price=t["lowPrice"],
        volume=t["volume"],
        quote_volume=t["quoteVolume"],
        bid_price=t["bidPrice"],
        bid_qty=t["bidQty"],
        ask_price=t["askPrice"],
        ask_qty=t["askQty"],
        open_time_ms=t["openTime"],
        close_time_ms=t["closeTime"],
        trade_count=t["count"],
        freshness=freshness(app, t["closeTime"]),
    )


@tool("binance.get_orderbook")
async def get_orderbook(app: App, req: market_pb2.GetOrderBookRequest) -> market_pb2.GetOrderBookResponse:
    rules = await app.client.rules(req.symbol)
    book = (await app.client.depth(rules.symbol, req.limit)).data
    return market_pb2.GetOrderBookResponse(
        symbol=rules.symbol,
        last_update_id=book["lastUpdateId"],
        bids=levels(book["bids"]),
        asks=levels(book["asks"]),
        freshness=freshness(app, None),
    )


@tool("binance.get_recent_trades")
async def get_recent_trades(app: App, req: market_pb2.GetRecentTradesRequest) -> market_pb2.GetRecentTradesResponse:
    rules = await app.client.rules(req.symbol)
    raw = (await app.client.trades(rules.symbol, req.limit)).data
    trades = [
        market_pb2.Trade(
            id=t["id"],
            price=t["price"],
            qty=t["qty"],
            quote_qty=t["quoteQty"],
            time_ms=t["time"],
            is_buyer_maker=t["isBuyerMaker"],
        )
        for t in raw
    ]
    last = raw[-1]["time"] if raw else None
    return market_pb2.GetRecentTradesResponse(symbol=rules.symbol, trades=trades, freshness=freshness(app, last))


@tool("binance.get_klines")
async def get_klines(app: App, req: market_pb2.GetKlinesRequest) -> market_pb2.GetKlinesResponse:
    rules = await app.client.rules(req.symbol)
    raw = (
        await app.client.klines(
            rules.symbol,
            _INTERVALS.by_number[req.interval],
            start_time=req.start_time_ms if req.HasField("start_time_ms") else None,
            end_time=req.end_time_ms if req.HasField("end_time_ms") else None,
            limit=req.limit,
        )
    ).data
    klines = [
        market_pb2.Kline(
            open_time_ms=k[0],
            open=k[1],
            high=k[2],
            low=k[3],
            close=k[4],
            volume=k[5],
            close_time_ms=k[6],
            quote_volume=k[7],
            trade_count=k[8],
            taker_buy_base_volume=k[9],
            taker_buy_quote_volume=k[10],
        )
        for k in raw
    ]
    last = raw[-1][6] if raw else None
    return market_pb2.GetKlinesResponse(
        symbol=rules.symbol, interval=req.interval, klines=klines, freshness=freshness(app, last)
    )


@tool("binance.get_exchange_info")
async def get_exchange_info(app: App, req: market_pb2.GetExchangeInfoRequest) -> market_pb2.GetExchangeInfoResponse:
    symbols = [await app.client.rules(s) for s in dict.fromkeys(s.upper() for s in req.symbols)]
    limits = (await app.client.exchange_rules()).rate_limits
    return market_pb2.GetExchangeInfoResponse(
        symbols=[symbol_info(r) for r in symbols],
        rate_limits=[
            market_pb2.RateLimit(
                type=r["rateLimitType"], interval=r["interval"], interval_num=r["intervalNum"], limit=r["limit"]
            )
            for r in limits
        ],
        freshness=freshness(app, None),
    )


def symbol_info(r: SymbolRules) -> market_pb2.SymbolInfo:
    info = market_pb2.SymbolInfo(
        symbol=r.symbol,
        status=r.status,
        base_asset=r.base_asset,
        quote_asset=r.quote_asset,
        base_asset_precision=r.base_asset_precision,
        quote_asset_precision=r.quote_asset_precision,
        order_types=sorted(r.order_types),
        quote_order_qty_market_allowed=r.quote_order_qty_market_allowed,
        filters=[readable_filter(f) for f in r.raw.get("filters", ())],
    )
    if r.price_filter:
        info.tick_size = fmt_decimal(r.price_filter.tick_size)
        info.min_price = fmt_decimal(r.price_filter.min_price)
        info.max_price = fmt_decimal(r.price_filter.max_price)
    if r.lot_size:
        info.step_size = fmt_decimal(r.lot_size.step_size)
        info.min_qty = fmt_decimal(r.lot_size.min_qty)
        info.max_qty = fmt_decimal(r.lot_size.max_qty)
    if r.market_lot_size and r.market_lot_size.max_qty > 0:
        info.market_max_qty = fmt_decimal(r.market_lot_size.max_qty)
    if r.notional:
        info.min_notional = fmt_decimal(r.notional.min_notional)
        if r.notional.max_notional > 0:
            info.max_notional = fmt_decimal(r.notional.max_notional)
    if r.max_num_orders:
        info.max_num_orders = r.max_num_orders.limit
    return info


def readable_filter(f: dict[str, Any]) -> str:
    """One line per filter, numbers without trailing zeros, e.g. "LOT_SIZE: minQty=0.00001 ..."."""
    parts = []
    for key, value in f.items():
        if key == "filterType":
            continue
        if isinstance(value, str):
            try:
                value = fmt_decimal(Decimal(value))
            except ArithmeticError:
                pass
        parts.append(f"{key}={value}")
    return f"{f.get('filterType', '?')}: {' '.join(parts)}"


@tool("binance.get_avg_price")
async def get_avg_price(app: App, req: market_pb2.GetAvgPriceRequest) -> market_pb2.GetAvgPriceResponse:
    rules = await app.client.rules(req.symbol)
    a = (await app.client.avg_price(rules.symbol)).data
    return market_pb2.GetAvgPriceResponse(
        symbol=rules.symbol,
        mins=a["mins"],
        price=a["price"],
        close_time_ms=a["closeTime"],
        freshness=freshness(app, a["closeTime"]),
    )
