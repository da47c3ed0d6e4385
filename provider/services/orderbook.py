"""Live order-book tools: L1 metrics, L2 levels and health, served from the local books."""

from __future__ import annotations

from collections import OrderedDict
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from contracts.binance.v1 import common_pb2, orderbook_pb2
from provider.analytics.l2 import dec_str
from provider.analytics.metrics import Vwap, Wall, l1_metrics
from provider.catalog.jsonmap import with_rows
from provider.catalog.tools import tool_specs
from provider.errors import ExchangeTimeout, FailedPrecondition, InvalidArgument
from provider.orderbook.manager import Books, BookView
from provider.services.registry import tool

if TYPE_CHECKING:
    from provider.app import App

#: levels read for bands, walls and VWAP (band depth and VWAP only see these).
METRIC_LEVELS = 1000
DEFAULT_BANDS_BPS = (10.0, 50.0, 100.0)


def books(app: App) -> Books:
    if app.books is None:
        raise FailedPrecondition(
            "live order books are disabled on this provider",
            hint="Set PROVIDER_ORDERBOOK_ENABLED=true and restart, or use binance.get_orderbook (REST).",
        )
    return app.books


async def book_for(app: App, symbol: str, tool_name: str) -> BookView:
    """The symbol's book, waited for within 80% of the tool's deadline (its contract option)."""
    rules = await app.client.rules(symbol)
    try:
        return await books(app).get_book(rules.symbol, timeout_s=tool_specs()[tool_name].timeout_ms / 1000 * 0.8)
    except TimeoutError:
        raise ExchangeTimeout(f"no book for {rules.symbol} within the deadline (stream and REST both slow)") from None


def freshness(app: App, view: BookView) -> orderbook_pb2.BookFreshness:
    age = view.age_ms
    if view.source == "rest" or view.event_time_ms is None:
        event_time = app.client.server_now_ms() - age
    else:
        event_time = view.event_time_ms
    return orderbook_pb2.BookFreshness(
        environment=app.environment,
        last_update_id=view.last_update_id,
        event_time_ms=event_time,
        age_ms=age,
        source=view.source,
        state=view.state,
        resync_count=view.resync_count,
        synced=view.synced,
        warning=view.warning,
        unsynced_ms=view.unsynced_ms,
    )


def level(price: Decimal | None, qty: Decimal | None) -> common_pb2.PriceLevel | None:
    if price is None or qty is None:
        return None
    return common_pb2.PriceLevel(price=dec_str(price), quantity=dec_str(qty))


def wall(w: Wall) -> common_pb2.PriceLevel:
    return common_pb2.PriceLevel(price=dec_str(w.price), quantity=dec_str(w.qty))


def vwap_estimate(v: Vwap) -> orderbook_pb2.VwapEstimate:
    out = orderbook_pb2.VwapEstimate(
        side=common_pb2.SIDE_BUY if v.side == "buy" else common_pb2.SIDE_SELL,
        filled_base=dec_str(v.filled_base),
        filled_quote=dec_str(v.filled_quote),
        vwap=dec_str(v.vwap) if v.vwap is not None else "",
        complete=v.complete,
    )
    if v.slippage_bps_vs_mid is not None:
        out.slippage_bps_vs_mid = v.slippage_bps_vs_mid
    if v.slippage_bps_vs_best is not None:
        out.slippage_bps_vs_best = v.slippage_bps_vs_best
    return out


class L1Cache:
    """Metrics of one book state, by (symbol, update id, request): a book changes about every 100 ms,
    and many readers ask between two changes, so each state's metrics are computed once."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self.entries: OrderedDict[tuple[Any, ...], orderbook_pb2.GetL1Response] = OrderedDict()

    def get(self, key: tuple[Any, ...]) -> orderbook_pb2.GetL1Response | None:
        found = self.entries.get(key)
        if found is not None:
            self.entries.move_to_end(key)
        return found

    def put(self, key: tuple[Any, ...], value: orderbook_pb2.GetL1Response) -> None:
        self.entries[key] = value
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)


_L1_CACHE = L1Cache()


@tool("binance.orderbook_l1")
async def get_l1(app: App, req: orderbook_pb2.GetL1Request) -> orderbook_pb2.GetL1Response:
    if req.HasField("vwap_base_qty") and req.HasField("vwap_quote_amount"):
        raise InvalidArgument("give vwap_base_qty or vwap_quote_amount, not both")
    view = await book_for(app, req.symbol, "binance.orderbook_l1")
    key = (app.environment, view.symbol, view.source, view.last_update_id, req.SerializeToString(deterministic=True))
    cached = _L1_CACHE.get(key) if view.source == "stream" else None
    if cached is not None:
        out = orderbook_pb2.GetL1Response()
        out.CopyFrom(cached)
        out.book.CopyFrom(freshness(app, view))
        return out
    out = compute_l1(view, req)
    if view.source == "stream":
        _L1_CACHE.put(key, out)
    result = orderbook_pb2.GetL1Response()
    result.CopyFrom(out)
    result.book.CopyFrom(freshness(app, view))
    return result


def compute_l1(view: BookView, req: orderbook_pb2.GetL1Request) -> orderbook_pb2.GetL1Response:
    bids, asks = view.levels(METRIC_LEVELS)
    # Only the levels the book knows exactly (past the snapshot's depth, diffs may leave holes).
    bids, asks = bids[: max(1, view.bid_levels_known)], asks[: max(1, view.ask_levels_known)]
    size: dict[str, Any] = {}
    for name in ("vwap_base_qty", "vwap_quote_amount"):
        if req.HasField(name):
            value = Decimal(getattr(req, name))
            if value <= 0:
                raise InvalidArgument(f"{name} must be greater than zero")
            size[name] = value
    m = l1_metrics(
        bids,
        asks,
        imbalance_levels=req.imbalance_levels,
        bands_bps=tuple(req.bands_bps) or DEFAULT_BANDS_BPS,
        walls_top=req.walls,
        **size,
    )
    out = orderbook_pb2.GetL1Response(symbol=view.symbol, imbalance_levels=m.imbalance_levels)
    if (bid := level(m.best_bid, m.best_bid_qty)) is not None:
        out.best_bid.CopyFrom(bid)
    if (ask := level(m.best_ask, m.best_ask_qty)) is not None:
        out.best_ask.CopyFrom(ask)
    if m.mid is not None and m.spread is not None:
        out.mid, out.spread = dec_str(m.mid.normalize()), dec_str(m.spread)
    if m.spread_bps is not None:
        out.spread_bps = m.spread_bps
    if m.microprice is not None:
        out.microprice = dec_str(m.microprice.quantize(Decimal(1).scaleb(-12)).normalize())
    if m.imbalance is not None:
        out.imbalance = m.imbalance
    for band in m.depth_bands:
        out.depth_bands.add(
            bps=band.bps,
            bid_base=dec_str(band.bid_base.normalize()),
            bid_quote=dec_str(band.bid_quote.normalize()),
            ask_base=dec_str(band.ask_base.normalize()),
            ask_quote=dec_str(band.ask_quote.normalize()),
        )
    out.bid_walls.extend(wall(w) for w in m.bid_walls)
    out.ask_walls.extend(wall(w) for w in m.ask_walls)
    out.vwap.extend(vwap_estimate(v) for v in (m.vwap_buy, m.vwap_sell) if v is not None)
    return out


@tool("binance.orderbook_l2")
async def get_l2(app: App, req: orderbook_pb2.GetL2Request) -> orderbook_pb2.GetL2Response:
    view = await book_for(app, req.symbol, "binance.orderbook_l2")
    bids, asks = view.levels(req.levels)
    out = orderbook_pb2.GetL2Response(symbol=view.symbol, book=freshness(app, view))
    bid_rows = [(dec_str(p), dec_str(q)) for p, q in bids]
    ask_rows = [(dec_str(p), dec_str(q)) for p, q in asks]
    for side, rows in ((out.bids, bid_rows), (out.asks, ask_rows)):
        add = side.add  # in place: a PriceLevel built apart and then copied in costs twice as much
        for price, quantity in rows:
            add(price=price, quantity=quantity)
    # InvokeTool renders the sides from these strings instead of reading 2 x levels back out of `out`
    return with_rows(out, bids=bid_rows, asks=ask_rows)


@tool("binance.orderbook_health")
async def get_health(app: App, req: orderbook_pb2.GetHealthRequest) -> orderbook_pb2.GetHealthResponse:
    h = books(app).book_health()
    wanted = req.symbol.upper() if req.HasField("symbol") else None
    symbols = []
    for name, s in sorted(h.symbols.items()):
        if wanted and name != wanted:
            continue
        symbols.append(
            orderbook_pb2.SymbolHealth(
                symbol=name,
                state=s.state,
                last_update_id=s.last_update_id or 0,
                age_ms=s.age_ms or 0,
                resync_count=s.resync_count,
                messages_per_second=s.messages_per_s,
                last_error=s.last_error or "",  # cleared once the symbol is SYNCED again
                last_resync_reason=s.last_resync_reason or "",
                stale_snapshots=s.stale_snapshots,
                quiet_checks=s.quiet_checks,
            )
        )
    if wanted and not symbols:
        raise InvalidArgument(f"{wanted} is not tracked; tracked: {', '.join(sorted(h.symbols)) or 'none'}")
    states = [s.state for s in h.symbols.values()]
    overall = "IDLE" if not states else ("OK" if all(st == "SYNCED" for st in states) else "DEGRADED")
    return orderbook_pb2.GetHealthResponse(
        environment=app.environment,
        overall=overall,
        connection=("connected" if h.connected else h.status),
        books_tracked=len(h.symbols),
        max_books=h.max_symbols,
        reconnects=h.reconnects,
        symbols=symbols,
    )
