"""Pure, documented order-book metrics (L1 summary, depth bands, walls, VWAP and slippage).

Inputs are the best levels of each side as ``(price, qty)`` :class:`~decimal.Decimal` pairs, bids
highest first and asks lowest first (what ``BookView.levels(n)`` returns). Prices, quantities and
amounts stay :class:`~decimal.Decimal`; only ratios and basis points are floats. Every metric is
defined once, in ``METRIC_DEFINITIONS``, in words a tool description can reuse verbatim.

Standard definitions on purpose (a prior implementation measured spread against the bid,
microprice from top-20 volumes and imbalance as a raw ratio; see lessons-from-prior-art.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

__all__ = [
    "METRIC_DEFINITIONS",
    "DepthBand",
    "L1Metrics",
    "Level",
    "Vwap",
    "Wall",
    "l1_metrics",
    "vwap",
]

Level = tuple[Decimal, Decimal]

_ZERO = Decimal(0)
_TWO = Decimal(2)
_BPS = Decimal(10_000)

METRIC_DEFINITIONS: Mapping[str, str] = {
    "best_bid": "Highest bid price and the quantity resting there (best_bid_qty).",
    "best_ask": "Lowest ask price and the quantity resting there (best_ask_qty).",
    "mid": "Mid price = (best_bid + best_ask) / 2.",
    "spread": "Spread = best_ask - best_bid, in quote currency.",
    "spread_bps": "Spread in basis points of the mid: (best_ask - best_bid) / mid * 10000.",
    "microprice": (
        "Size-weighted mid from the top of book only: "
        "(best_bid * best_ask_qty + best_ask * best_bid_qty) / (best_bid_qty + best_ask_qty)."
    ),
    "imbalance": (
        "Order-book imbalance over the best N levels per side, in [-1, 1]: "
        "(bid_qty - ask_qty) / (bid_qty + ask_qty); +1 all bids, -1 all asks."
    ),
    "depth_bands": (
        "Resting quantity within X bps of the mid on each side: "
        "bids priced >= mid * (1 - X/10000), asks priced <= mid * (1 + X/10000); "
        "in base units and in quote (sum of price * qty)."
    ),
    "walls": "Largest resting levels per side among the levels examined, by base quantity.",
    "vwap": (
        "Volume-weighted average fill price of a market order of the given base quantity or "
        "quote amount walking the book (buy walks asks, sell walks bids)."
    ),
    "slippage_bps_vs_mid": (
        "VWAP cost against the mid in bps, positive = worse: buy (vwap - mid) / mid * 10000, "
        "sell (mid - vwap) / mid * 10000."
    ),
    "slippage_bps_vs_best": (
        "VWAP cost against the touch in bps, positive = worse: buy (vwap - best_ask) / best_ask "
        "* 10000, sell (best_bid - vwap) / best_bid * 10000."
    ),
    "complete": "Whether the examined levels held enough depth to fill the whole order.",
}


@dataclass(frozen=True, slots=True)
class DepthBand:
    """Resting depth within ``bps`` of the mid (see ``METRIC_DEFINITIONS["depth_bands"]``)."""

    bps: float
    bid_base: Decimal
    bid_quote: Decimal
    ask_base: Decimal
    ask_quote: Decimal


@dataclass(frozen=True, slots=True)
class Wall:
    """One large level: price, base quantity, quote value and distance from the mid in bps."""

    price: Decimal
    qty: Decimal
    quote: Decimal
    distance_bps: float | None


@dataclass(frozen=True, slots=True)
class Vwap:
    """A simulated market order walking one side (see ``METRIC_DEFINITIONS["vwap"]``)."""

    side: Literal["buy", "sell"]
    requested_base: Decimal | None
    requested_quote: Decimal | None
    filled_base: Decimal
    filled_quote: Decimal
    vwap: Decimal | None
    worst_price: Decimal | None
    levels_used: int
    complete: bool
    slippage_bps_vs_mid: float | None
    slippage_bps_vs_best: float | None


@dataclass(frozen=True, slots=True)
class L1Metrics:
    """Top-of-book summary plus depth, walls and optional VWAP (fields as in METRIC_DEFINITIONS)."""

    best_bid: Decimal | None
    best_bid_qty: Decimal | None
    best_ask: Decimal | None
    best_ask_qty: Decimal | None
    mid: Decimal | None
    spread: Decimal | None
    spread_bps: float | None
    microprice: Decimal | None
    imbalance: float | None
    imbalance_levels: int
    depth_bands: tuple[DepthBand, ...]
    bid_walls: tuple[Wall, ...]
    ask_walls: tuple[Wall, ...]
    vwap_buy: Vwap | None
    vwap_sell: Vwap | None


def _bps(num: Decimal, den: Decimal) -> float:
    return float(num / den * _BPS)


def _imbalance(bids: Sequence[Level], asks: Sequence[Level], n: int) -> float | None:
    bid_qty = sum((q for _, q in bids[:n]), _ZERO)
    ask_qty = sum((q for _, q in asks[:n]), _ZERO)
    total = bid_qty + ask_qty
    return None if total == _ZERO else float((bid_qty - ask_qty) / total)


def _band(bids: Sequence[Level], asks: Sequence[Level], mid: Decimal, bps: float) -> DepthBand:
    offset = mid * Decimal(str(bps)) / _BPS
    low, high = mid - offset, mid + offset
    in_bids = [(p, q) for p, q in bids if p >= low]
    in_asks = [(p, q) for p, q in asks if p <= high]
    return DepthBand(
        bps,
        sum((q for _, q in in_bids), _ZERO),
        sum((p * q for p, q in in_bids), _ZERO),
        sum((q for _, q in in_asks), _ZERO),
        sum((p * q for p, q in in_asks), _ZERO),
    )


def _walls(levels: Sequence[Level], mid: Decimal | None, k: int) -> tuple[Wall, ...]:
    ranked = sorted(enumerate(levels), key=lambda il: (-il[1][1], il[0]))[:k]
    return tuple(
        Wall(p, q, p * q, None if mid is None else abs(_bps(p - mid, mid)))
        for _, (p, q) in ranked
    )


def vwap(
    levels: Sequence[Level],
    side: Literal["buy", "sell"],
    *,
    base_qty: Decimal | None = None,
    quote_amount: Decimal | None = None,
    mid: Decimal | None = None,
) -> Vwap:
    """Walk ``levels`` (asks for a buy, bids for a sell) for a base quantity or a quote amount.

    Raises:
        ValueError: not exactly one of ``base_qty`` / ``quote_amount``, or it is not positive.
    """
    if (base_qty is None) == (quote_amount is None):
        raise ValueError("give exactly one of base_qty or quote_amount")
    target = base_qty if base_qty is not None else quote_amount
    assert target is not None
    if target <= _ZERO:
        raise ValueError("the order size must be positive")
    filled_base = filled_quote = _ZERO
    used, worst = 0, None
    for price, qty in levels:
        if base_qty is not None:
            take = min(qty, base_qty - filled_base)
        else:
            take = min(qty, (target - filled_quote) / price)
        if take <= _ZERO:
            break
        filled_base += take
        filled_quote += take * price
        used, worst = used + 1, price
        done = filled_base >= target if base_qty is not None else filled_quote >= target
        if done:
            break
    complete = (filled_base if base_qty is not None else filled_quote) >= target
    avg = filled_quote / filled_base if filled_base > _ZERO else None
    best = levels[0][0] if levels else None
    sign = Decimal(1) if side == "buy" else Decimal(-1)
    vs_mid = None if avg is None or mid is None else _bps(sign * (avg - mid), mid)
    vs_best = None if avg is None or best is None else _bps(sign * (avg - best), best)
    return Vwap(side, base_qty, quote_amount, filled_base, filled_quote, avg, worst, used,
                complete, vs_mid, vs_best)


def l1_metrics(
    bids: Sequence[Level],
    asks: Sequence[Level],
    *,
    imbalance_levels: int = 10,
    bands_bps: Sequence[float] = (10, 50, 100),
    walls_top: int = 3,
    vwap_base_qty: Decimal | None = None,
    vwap_quote_amount: Decimal | None = None,
) -> L1Metrics:
    """Compute every metric of ``METRIC_DEFINITIONS`` over the given best levels.

    Band depth, walls and VWAP only see the levels passed in: pass enough of them.

    Raises:
        ValueError: ``imbalance_levels < 1`` or both VWAP sizes given / not positive.
    """
    if imbalance_levels < 1:
        raise ValueError("imbalance_levels must be >= 1")
    bb, ba = (bids[0] if bids else None), (asks[0] if asks else None)
    mid = spread = micro = None
    spread_bps: float | None = None
    if bb is not None and ba is not None:
        mid = (bb[0] + ba[0]) / _TWO
        spread = ba[0] - bb[0]
        spread_bps = _bps(spread, mid)
        micro = (bb[0] * ba[1] + ba[0] * bb[1]) / (bb[1] + ba[1])
    bands = () if mid is None else tuple(_band(bids, asks, mid, b) for b in bands_bps)
    vwap_buy = vwap_sell = None
    if vwap_base_qty is not None or vwap_quote_amount is not None:
        sizes = {"base_qty": vwap_base_qty, "quote_amount": vwap_quote_amount, "mid": mid}
        vwap_buy = vwap(asks, "buy", **sizes)
        vwap_sell = vwap(bids, "sell", **sizes)
    return L1Metrics(
        best_bid=None if bb is None else bb[0],
        best_bid_qty=None if bb is None else bb[1],
        best_ask=None if ba is None else ba[0],
        best_ask_qty=None if ba is None else ba[1],
        mid=mid,
        spread=spread,
        spread_bps=spread_bps,
        microprice=micro,
        imbalance=_imbalance(bids, asks, imbalance_levels),
        imbalance_levels=imbalance_levels,
        depth_bands=bands,
        bid_walls=_walls(bids, mid, walls_top),
        ask_walls=_walls(asks, mid, walls_top),
        vwap_buy=vwap_buy,
        vwap_sell=vwap_sell,
    )
