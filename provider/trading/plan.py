"""What one order is, what it needs, and what it can cost at worst; pure (no I/O, no clock).

An :class:`OrderIntent` keeps the caller's decimal text exactly as given: the parameters sent to
the exchange are that text, never a re-rendered number.

Worst-case notional (what the order can move at most, in the symbol's quote asset), rule by rule:

- ``quote_order_qty`` (MARKET): that amount.
- A BUY with a limit price (LIMIT, LIMIT_MAKER, STOP_LOSS_LIMIT, TAKE_PROFIT_LIMIT): price x
  quantity; a buy never pays more than its limit.
- A SELL with a limit price: quantity x the highest of its price, the best bid, and (for the
  ``*_LIMIT`` stops) its stop price; a sell priced below the market fills at the bids.
- MARKET BUY by quantity: the cost of walking the visible asks; refused when they do not hold the
  whole quantity (the cost then has no bound).
- MARKET SELL by quantity: quantity x the best bid.
- STOP_LOSS / TAKE_PROFIT (a market order once triggered): quantity x the stop price.

The cap is counted in one asset (``cap_asset``): a notional in another quote asset is converted
with a conservative rate (the ask of QUOTE/CAP, or 1 / the bid of CAP/QUOTE); no rate, no order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal, localcontext

from provider.binance.rules import fmt_decimal
from provider.errors import InvalidArgument, TradingDisabled

__all__ = [
    "ALLOWED",
    "REQUIRED",
    "CapRate",
    "MarketView",
    "Needs",
    "OrderIntent",
    "check_allowed",
    "check_cap",
    "check_shape",
    "needs",
    "to_cap_asset",
    "worst_case_notional",
]

#: parameters each type needs, and which it may carry (spec §3.1).
REQUIRED: Mapping[str, frozenset[str]] = {
    "LIMIT": frozenset({"quantity", "price"}),
    "MARKET": frozenset(),  # quantity or quote_order_qty, checked apart
    "LIMIT_MAKER": frozenset({"quantity", "price"}),
    "STOP_LOSS": frozenset({"quantity", "stop_price"}),
    "STOP_LOSS_LIMIT": frozenset({"quantity", "price", "stop_price"}),
    "TAKE_PROFIT": frozenset({"quantity", "stop_price"}),
    "TAKE_PROFIT_LIMIT": frozenset({"quantity", "price", "stop_price"}),
}
ALLOWED: Mapping[str, frozenset[str]] = {
    "LIMIT": frozenset({"quantity", "price", "time_in_force"}),
    "MARKET": frozenset({"quantity", "quote_order_qty"}),
    "LIMIT_MAKER": frozenset({"quantity", "price"}),
    "STOP_LOSS": frozenset({"quantity", "stop_price"}),
    "STOP_LOSS_LIMIT": frozenset({"quantity", "price", "stop_price", "time_in_force"}),
    "TAKE_PROFIT": frozenset({"quantity", "stop_price"}),
    "TAKE_PROFIT_LIMIT": frozenset({"quantity", "price", "stop_price", "time_in_force"}),
}
_STOP_MARKET = frozenset({"STOP_LOSS", "TAKE_PROFIT"})
_PREC = 80
_DECIMALS = ("quantity", "quote_order_qty", "price", "stop_price")


@dataclass(frozen=True)
class OrderIntent:
    """One order as the caller asked for it; decimal fields hold the caller's exact text."""

    symbol: str
    side: str
    order_type: str
    client_order_id: str
    quantity: str | None = None
    quote_order_qty: str | None = None
    price: str | None = None
    stop_price: str | None = None
    time_in_force: str | None = None
    response_type: str | None = None

    def dec(self, name: str) -> Decimal | None:
        """A decimal field as ``Decimal`` (exact), or None when absent."""
        text = getattr(self, name)
        return None if text is None else Decimal(text)

    def given(self) -> frozenset[str]:
        """The optional parameters the caller set."""
        names = (*_DECIMALS, "time_in_force")
        return frozenset(n for n in names if getattr(self, n) is not None)

    def params(self) -> dict[str, str]:
        """Binance's parameters for ``POST /api/v3/order``, the decimals exactly as given."""
        out = {"symbol": self.symbol, "side": self.side, "type": self.order_type}
        if "time_in_force" in ALLOWED[self.order_type]:
            out["timeInForce"] = self.time_in_force or "GTC"
        for name, wire in (
            ("quantity", "quantity"),
            ("quote_order_qty", "quoteOrderQty"),
            ("price", "price"),
            ("stop_price", "stopPrice"),
        ):
            value = getattr(self, name)
            if value is not None:
                out[wire] = value
        out["newClientOrderId"] = self.client_order_id
        if self.response_type is not None:
            out["newOrderRespType"] = self.response_type
        return out


def check_shape(intent: OrderIntent) -> None:
    """The type's required and forbidden parameters, and positive amounts.

    Raises:
        InvalidArgument: what is missing or not allowed, and what the type takes.
    """
    kind, given = intent.order_type, intent.given()
    missing = REQUIRED[kind] - given
    if missing:
        raise InvalidArgument(
            f"{kind} orders need {', '.join(sorted(REQUIRED[kind]))}; missing {', '.join(sorted(missing))}"
        )
    extra = given - ALLOWED[kind]
    if extra:
        raise InvalidArgument(
            f"{kind} orders do not take {', '.join(sorted(extra))}; allowed: {', '.join(sorted(ALLOWED[kind]))}"
        )
    if kind == "MARKET" and len(given & {"quantity", "quote_order_qty"}) != 1:
        raise InvalidArgument("MARKET orders need exactly one of quantity (base) or quote_order_qty (quote)")
    for name in _DECIMALS:
        value = intent.dec(name)
        if value is not None and value <= 0:
            raise InvalidArgument(f"{name} must be greater than zero; got {getattr(intent, name)}")


def check_allowed(
    symbol: str, order_type: str | None, allowed_symbols: frozenset[str], allowed_types: frozenset[str]
) -> None:
    """The operator's allowed symbols and order types (empty sets allow everything).

    Raises:
        TradingDisabled: the symbol or type is outside what the operator allows.
    """
    if allowed_symbols and symbol not in allowed_symbols:
        raise TradingDisabled(
            f"{symbol} is not among the symbols this provider may trade: {', '.join(sorted(allowed_symbols))}",
            hint="The operator limits tradable symbols with BINANCE_ALLOWED_SYMBOLS.",
        )
    if order_type is not None and allowed_types and order_type not in allowed_types:
        raise TradingDisabled(
            f"{order_type} orders are not allowed here; allowed: {', '.join(sorted(allowed_types))}",
            hint="The operator limits order types with BINANCE_ALLOWED_ORDER_TYPES.",
        )


@dataclass(frozen=True)
class Needs:
    """Market data the worst case needs: the best bid, or the asks to walk."""

    best_bid: bool = False
    asks: bool = False


@dataclass(frozen=True)
class MarketView:
    """The market data a worst case was computed from (asks best first, as (price, qty))."""

    best_bid: Decimal | None = None
    asks: Sequence[tuple[Decimal, Decimal]] = ()


def needs(intent: OrderIntent) -> Needs:
    """What :func:`worst_case_notional` needs to know about the market for ``intent``."""
    if intent.quote_order_qty is not None or intent.order_type in _STOP_MARKET:
        return Needs()
    if intent.order_type == "MARKET":
        return Needs(asks=intent.side == "BUY", best_bid=intent.side == "SELL")
    return Needs(best_bid=intent.side == "SELL")


def worst_case_notional(intent: OrderIntent, market: MarketView) -> Decimal:
    """The most ``intent`` can move, in its quote asset (rules in the module docstring).

    Raises:
        TradingDisabled: the market data cannot bound it (no bid, asks too thin).
    """
    quote = intent.dec("quote_order_qty")
    if quote is not None:
        return quote
    qty, price, stop = intent.dec("quantity"), intent.dec("price"), intent.dec("stop_price")
    assert qty is not None  # check_shape ran: every other shape has a quantity
    with localcontext() as ctx:
        ctx.prec = _PREC
        if intent.order_type in _STOP_MARKET:
            assert stop is not None
            return qty * stop
        if intent.order_type == "MARKET" and intent.side == "BUY":
            return _walk_asks(qty, market.asks, intent.symbol)
        bid = market.best_bid
        if intent.side == "SELL" and (bid is None or bid <= 0):
            raise TradingDisabled(
                f"no bid is known on {intent.symbol}, so the worst case of this SELL cannot be bounded",
                hint="The cap needs a live price; try again when the book has bids.",
            )
        if intent.order_type == "MARKET":
            assert bid is not None
            return qty * bid
        assert price is not None
        if intent.side == "BUY":
            return qty * price
        assert bid is not None
        return qty * max(price, bid, stop or price)


def _walk_asks(qty: Decimal, asks: Sequence[tuple[Decimal, Decimal]], symbol: str) -> Decimal:
    left, cost = qty, Decimal(0)
    for price, size in asks:
        take = min(left, size)
        cost += take * price
        left -= take
        if left <= 0:
            return cost
    raise TradingDisabled(
        f"the visible asks on {symbol} hold {fmt_decimal(qty - left)} of the {fmt_decimal(qty)} this MARKET BUY "
        "asks for, so its cost has no bound",
        hint="Use quote_order_qty (spend at most that much) or a LIMIT order.",
    )


@dataclass(frozen=True)
class CapRate:
    """How one unit of a quote asset converts into the cap asset, and from which market."""

    rate: Decimal
    source: str


def to_cap_asset(
    notional: Decimal, quote_asset: str, cap_asset: str, book: Mapping[str, tuple[Decimal, Decimal]]
) -> tuple[Decimal, CapRate]:
    """Converts ``notional`` (in ``quote_asset``) into ``cap_asset``, rounding against the order.

    Args:
        book: best ``(bid, ask)`` by symbol, for the conversion markets that exist
            (``QUOTE+CAP`` and/or ``CAP+QUOTE``).

    Raises:
        TradingDisabled: no market converts the two assets, or it shows no price.
    """
    if quote_asset == cap_asset:
        return notional, CapRate(Decimal(1), "same asset")
    with localcontext() as ctx:
        ctx.prec = _PREC
        direct = book.get(quote_asset + cap_asset)
        if direct is not None and direct[1] > 0:
            rate = CapRate(direct[1], f"{quote_asset}{cap_asset} ask {fmt_decimal(direct[1])}")
            return notional * rate.rate, rate
        inverse = book.get(cap_asset + quote_asset)
        if inverse is not None and inverse[0] > 0:
            rate = CapRate(1 / inverse[0], f"1 / {cap_asset}{quote_asset} bid {fmt_decimal(inverse[0])}")
            return notional * rate.rate, rate
    raise TradingDisabled(
        f"the order cap is counted in {cap_asset}, and no live price converts {quote_asset} into it",
        hint=f"Trade a {cap_asset} pair, or ask the operator to set BINANCE_CAP_ASSET.",
    )


def check_cap(value: Decimal, cap: Decimal, cap_asset: str, how: str) -> None:
    """Refuses an order whose worst case in the cap asset is above the cap.

    Raises:
        TradingDisabled: over the cap, with the figures.
    """
    if value > cap:
        shown = fmt_decimal(value.quantize(Decimal("0.00000001"), rounding=ROUND_CEILING))
        raise TradingDisabled(
            f"this order can move up to {shown} {cap_asset} "
            f"({how}), above this provider's maximum of {fmt_decimal(cap)} {cap_asset} per order",
            hint="Place a smaller order; the operator sets the cap with BINANCE_MAX_ORDER_NOTIONAL "
            "(in BINANCE_CAP_ASSET).",
        )
