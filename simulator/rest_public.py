"""Public market-data endpoints (security NONE), spec §2. Handlers return JSON-able data."""

from __future__ import annotations

from typing import Any

from simulator import errors
from simulator.params import Params
from simulator.state import Sim
from simulator.symbols import rate_limits

SYMBOL_STATUSES = ("TRADING", "HALT", "BREAK", "END_OF_DAY", "CANCEL_ONLY")


def symbol_state(sim: Sim, params: Params) -> str:
    """The required `symbol` parameter, validated against the listed markets (-1121)."""
    name = params.str_req("symbol").upper()
    if name not in sim.market.symbols:
        raise errors.invalid_symbol()
    return name


def selected_symbols(sim: Sim, params: Params) -> tuple[list[str], bool]:
    """`symbol` xor `symbols` xor none -> (names, single)."""
    if params.has("symbol") and params.has("symbols"):
        raise errors.ApiError(-1128, "Combination of optional parameters invalid.")
    if params.has("symbol"):
        return [symbol_state(sim, params)], True
    names = params.symbols_opt()
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
    return {
        "lastUpdateId": book.update_id,
        "bids": [[fmt_p(state, t), fmt_q(state, q)] for t, q in book.bids.top(limit)],
        "asks": [[fmt_p(state, t), fmt_q(state, q)] for t, q in book.asks.top(limit)],
    }


def fmt_p(state: Any, tick: int) -> str:
    from simulator.decimals import fmt8

    return fmt8(state.price(tick))


def fmt_q(state: Any, lots: int) -> str:
    from simulator.decimals import fmt8

    return fmt8(state.qty(lots))
