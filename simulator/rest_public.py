"""Public market-data endpoints (security NONE), spec §2. Handlers return JSON-able data."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from simulator import errors
from simulator.decimals import fmt8
from simulator.exchange import SymbolState
from simulator.klines import INTERVALS, parse_timezone
from simulator.params import Params
from simulator.state import Sim
from simulator.symbols import rate_limits

SYMBOL_STATUSES = ("TRADING", "HALT", "BREAK", "END_OF_DAY", "CANCEL_ONLY")


SYMBOL_RANGE = "^[A-Z0-9-_.]{1,20}$"


def symbol_state(sim: Sim, params: Params) -> str:
    """The required `symbol` parameter, validated against the listed markets (-1121).

    Binance does not upper-case symbols: a lower-case one is refused with -1100 (strict mode).
    """
    raw = params.str_req("symbol")
    if sim.strict and raw != raw.upper():
        raise errors.illegal_chars("symbol", SYMBOL_RANGE)
    name = raw.upper()
    if name not in sim.market.symbols:
        raise errors.invalid_symbol()
    return name


def selected_symbols(sim: Sim, params: Params) -> tuple[list[str], bool]:
    """`symbol` xor `symbols` xor none -> (names, single)."""
    if params.has("symbol") and params.has("symbols"):
        raise errors.ApiError(-1128, "Combination of optional parameters invalid.")
    if params.has("symbol"):
        return [symbol_state(sim, params)], True
    names = params.symbols_opt(strict=sim.strict)
    if names is None:
        return sorted(sim.market.symbols), False
    for n in names:
        if n not in sim.market.symbols:
            raise errors.invalid_symbol()
    return names, False


def check_symbol_status(sim: Sim, params: Params, names: list[str], single: bool) -> list[str]:
    """Apply `symbolStatus` (-1122 bad value; -1220 mismatch for one symbol; lists filter)."""
    status = params.str_opt("symbolStatus")
    if status is None:
        return names
    if status not in SYMBOL_STATUSES:
        raise errors.ApiError(-1122, "Invalid symbolStatus.")
    kept = [n for n in names if sim.market.symbols[n].spec.status == status]
    if single and not kept:
        raise errors.ApiError(-1220, "The symbol's status does not match the requested symbolStatus.")
    return kept


def ping(sim: Sim, params: Params) -> Any:
    return {}


def server_time(sim: Sim, params: Params) -> Any:
    return {"serverTime": sim.clock.now_ms()}


def exchange_info(sim: Sim, params: Params) -> Any:
    names, _ = selected_symbols(sim, params)
    perms = params.str_opt("permissions")
    if perms is not None and (params.has("symbol") or params.has("symbols")):
        raise errors.ApiError(-1128, "Combination of optional parameters invalid.")
    status = params.str_opt("symbolStatus")
    if status is not None:
        if params.has("symbol") or params.has("symbols"):
            raise errors.ApiError(-1128, "Combination of optional parameters invalid.")
        if status not in SYMBOL_STATUSES:
            raise errors.ApiError(-1122, "Invalid symbolStatus.")
    show_sets = params.bool_opt("showPermissionSets", True)
    symbols = []
    for n in names:
        spec = sim.market.symbols[n].spec
        if status is not None and spec.status != status:
            continue
        if perms is not None and "SPOT" not in perms:
            continue
        info = spec.exchange_info()
        if not show_sets:
            info["permissionSets"] = []
        symbols.append(info)
    return {
        "timezone": "UTC",
        "serverTime": sim.clock.now_ms(),
        "rateLimits": rate_limits(sim.limiter.limit, sim.orders.limit_10s, sim.orders.limit_1d),
        "exchangeFilters": [],
        "symbols": symbols,
    }


def depth_limit(params: Params) -> int:
    limit = params.int_opt("limit")
    if limit is None:
        return 100
    if limit < 1:
        raise errors.ApiError(-1100, "Illegal characters found in parameter 'limit'; legal range is '1'.")
    return min(limit, 5000)


def depth_weight(params: Params) -> int:
    try:
        limit = depth_limit(params)
    except errors.ApiError:
        return 5
    return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250


def depth(sim: Sim, params: Params) -> Any:
    name = symbol_state(sim, params)
    check_symbol_status(sim, params, [name], True)
    limit = depth_limit(params)
    state = sim.market.symbols[name]
    book = state.book
    lag = sim.faults.lag(name)
    if lag is not None:  # fault snapshot_lag: a REST copy behind the stream
        return lagged_depth(state, lag, sim.clock.now_ms(), limit)
    return {
        "lastUpdateId": book.update_id,
        "bids": [[fmt_p(state, t), fmt_q(state, q)] for t, q in book.bids.top(limit)],
        "asks": [[fmt_p(state, t), fmt_q(state, q)] for t, q in book.asks.top(limit)],
    }


def lagged_depth(state: SymbolState, lag: tuple[str, int], now_ms: int, limit: int) -> dict[str, Any]:
    """The depth answer as the book was `lag` (`("updates", n)` or `("ms", n)`) ago."""
    book = state.book
    kind, n = lag
    target = book.update_id - n if kind == "updates" else book.update_id_at(now_ms - n)
    at, bids, asks = book.levels_at(target)
    return {
        "lastUpdateId": at,
        "bids": [[fmt_p(state, t), fmt_q(state, bids[t])] for t in sorted(bids, reverse=True)[:limit]],
        "asks": [[fmt_p(state, t), fmt_q(state, asks[t])] for t in sorted(asks)[:limit]],
    }


def fmt_p(state: SymbolState, tick: int) -> str:
    return fmt8(state.price(tick))


def fmt_q(state: SymbolState, lots: int) -> str:
    return fmt8(state.qty(lots))


def limit_param(params: Params, default: int, maximum: int) -> int:
    limit = params.int_opt("limit")
    if limit is None:
        return default
    if limit < 1:
        raise errors.ApiError(-1100, "Illegal characters found in parameter 'limit'; legal range is '1'.")
    return min(limit, maximum)


def trades(sim: Sim, params: Params) -> Any:
    state = sim.market.symbols[symbol_state(sim, params)]
    limit = limit_param(params, 500, 1000)
    tape = list(state.trades)[-limit:]
    return [
        {
            "id": t.id,
            "price": fmt8(t.price),
            "qty": fmt8(t.qty),
            "quoteQty": fmt8(t.quote_qty),
            "time": t.time,
            "isBuyerMaker": t.buyer_is_maker,
            "isBestMatch": True,
        }
        for t in tape
    ]


def klines(sim: Sim, params: Params) -> Any:
    state = sim.market.symbols[symbol_state(sim, params)]
    interval = params.str_req("interval")
    if interval not in INTERVALS:
        raise errors.ApiError(-1120, "Invalid interval.")
    tz = parse_timezone(params.str_opt("timeZone"))
    if tz is None:
        raise errors.invalid_param("timeZone")
    start, end = params.int_opt("startTime"), params.int_opt("endTime")
    if start is not None and end is not None and start > end:
        raise errors.ApiError(-1023, "Start time is greater than end time.")
    limit = limit_param(params, 500, 1000)
    now = sim.clock.now_ms()
    opens = state.series.kline_opens(interval, now, start, end, limit, tz)
    return [state.series.kline(interval, t, tz) for t in opens]


def avg_price(sim: Sim, params: Params) -> Any:
    name = symbol_state(sim, params)
    state = sim.market.symbols[name]
    now = sim.clock.now_ms()
    return {
        "mins": 5,
        "price": fmt8(sim.engine.avg_price(name, now)),
        "closeTime": state.last_trade_time,
    }


def reference_price(sim: Sim, params: Params) -> Any:
    """`GET /api/v3/referencePrice`: the symbol's reference price, or null when it has none."""
    name = symbol_state(sim, params)
    ref = sim.market.symbols[name].reference_price
    return {
        "symbol": name,
        "referencePrice": None if ref is None else fmt8(ref),
        "timestamp": sim.clock.now_ms(),
    }


def ticker_weight(single: int, few: int, many: int, most: int) -> Any:
    def weight(params: Params) -> int:
        if params.has("symbol"):
            return single
        try:
            names = params.symbols_opt()
        except errors.ApiError:
            return single
        if names is None:
            return most
        n = len(names)
        return few if n <= 20 else many if n <= 100 else most

    return weight


def _many(sim: Sim, params: Params, render: Any) -> Any:
    names, single = selected_symbols(sim, params)
    names = check_symbol_status(sim, params, names, single)
    out = [render(sim.market.symbols[n]) for n in names]
    return out[0] if single else out


def _book_top(state: SymbolState) -> tuple[str, str, str, str]:
    bid, ask = state.book.best_bid(), state.book.best_ask()
    zero = fmt8(Decimal(0))
    return (
        fmt_p(state, bid[0]) if bid else zero,
        fmt_q(state, bid[1]) if bid else zero,
        fmt_p(state, ask[0]) if ask else zero,
        fmt_q(state, ask[1]) if ask else zero,
    )


def rolling_24h(sim: Sim, state: SymbolState, full: bool) -> dict[str, Any]:
    """Rolling 24 h statistics (ticker/24hr FULL or MINI, and the @ticker stream)."""
    now = sim.clock.now_ms()
    open_ms = now - 86_400_000
    s = state.series.span(open_ms, now + 1)
    open_p = s.open or state.last_price
    last = state.last_price
    last_id = state.next_trade_id - 1
    count = s.count
    body: dict[str, Any] = {"symbol": state.spec.symbol}
    if full:
        change = last - open_p
        pct = (change / open_p * 100) if open_p else Decimal(0)
        wavg = (s.quote_volume / s.volume) if s.volume else last
        bid_p, bid_q, ask_p, ask_q = _book_top(state)
        body.update({
            "priceChange": fmt8(change) if change >= 0 else "-" + fmt8(-change),
            "priceChangePercent": f"{pct.quantize(Decimal('0.001'))}",
            "weightedAvgPrice": fmt8(wavg),
            "prevClosePrice": fmt8(state.series.close_before(open_ms)),
            "lastPrice": fmt8(last),
            "lastQty": fmt8(state.last_qty),
            "bidPrice": bid_p,
            "bidQty": bid_q,
            "askPrice": ask_p,
            "askQty": ask_q,
        })
    body.update({
        "openPrice": fmt8(open_p),
        "highPrice": fmt8(s.high or last),
        "lowPrice": fmt8(s.low or last),
    })
    if not full:
        body["lastPrice"] = fmt8(last)
    body.update({
        "volume": fmt8(s.volume),
        "quoteVolume": fmt8(s.quote_volume),
        "openTime": open_ms,
        "closeTime": now,
        "firstId": last_id - count + 1,
        "lastId": last_id,
        "count": count,
    })
    return body


def ticker_24hr(sim: Sim, params: Params) -> Any:
    kind = params.str_opt("type") or "FULL"
    if kind not in ("FULL", "MINI"):
        raise errors.ApiError(-1139, "Invalid ticker type.")
    return _many(sim, params, lambda st: rolling_24h(sim, st, kind == "FULL"))


def ticker_price(sim: Sim, params: Params) -> Any:
    return _many(sim, params, lambda st: {"symbol": st.spec.symbol, "price": fmt8(st.last_price)})


def book_ticker(sim: Sim, params: Params) -> Any:
    def render(st: SymbolState) -> dict[str, Any]:
        bp, bq, ap, aq = _book_top(st)
        return {"symbol": st.spec.symbol, "bidPrice": bp, "bidQty": bq, "askPrice": ap,
                "askQty": aq}

    return _many(sim, params, render)
