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
- A trailing STOP_LOSS / TAKE_PROFIT BUY: quantity x where tracking starts (its stop price, else the
  best ask) x (1 + delta / 10000): it triggers once the price rises that much from the lowest trade
  since, which is never above where it started. A trailing SELL: quantity x the higher of its stop
  price and the best bid (what it sells follows the market up; its quantity is what it can move).
  The ``*_LIMIT`` trailing stops follow the limit rules above.
- A pegged order has no price to bound (it follows the book): refused under a cap.

Every order of a list (OCO, OTO, OTOCO) is checked on its own, by these same rules
(``provider/trading/lists.py``).

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
    "STOP_TYPES",
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
    "STOP_LOSS": frozenset({"quantity"}),  # and stop_price or trailing_delta, checked apart
    "STOP_LOSS_LIMIT": frozenset({"quantity", "price"}),
    "TAKE_PROFIT": frozenset({"quantity"}),
    "TAKE_PROFIT_LIMIT": frozenset({"quantity", "price"}),
}
STOP_TYPES = frozenset({"STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"})
ALLOWED: Mapping[str, frozenset[str]] = {
    "LIMIT": frozenset({"quantity", "price", "time_in_force", "iceberg_qty", "peg_price_type", "peg_offset_value"}),
    "MARKET": frozenset({"quantity", "quote_order_qty"}),
    "LIMIT_MAKER": frozenset({"quantity", "price", "iceberg_qty", "peg_price_type", "peg_offset_value"}),
    "STOP_LOSS": frozenset({"quantity", "stop_price", "trailing_delta"}),
    "STOP_LOSS_LIMIT": frozenset({"quantity", "price", "stop_price", "trailing_delta", "time_in_force",
                                  "iceberg_qty", "peg_price_type", "peg_offset_value"}),
    "TAKE_PROFIT": frozenset({"quantity", "stop_price", "trailing_delta"}),
    "TAKE_PROFIT_LIMIT": frozenset({"quantity", "price", "stop_price", "trailing_delta", "time_in_force",
                                    "iceberg_qty", "peg_price_type", "peg_offset_value"}),
}
_STOP_MARKET = frozenset({"STOP_LOSS", "TAKE_PROFIT"})
_PREC = 80
_DECIMALS = ("quantity", "quote_order_qty", "price", "stop_price", "iceberg_qty")
_OPTIONAL = (*_DECIMALS, "time_in_force", "trailing_delta", "peg_price_type", "peg_offset_value")
_WIRE = (("quantity", "quantity"), ("quote_order_qty", "quoteOrderQty"), ("price", "price"),
         ("stop_price", "stopPrice"), ("trailing_delta", "trailingDelta"), ("iceberg_qty", "icebergQty"),
         ("strategy_id", "strategyId"), ("strategy_type", "strategyType"),
         ("peg_price_type", "pegPriceType"), ("peg_offset_value", "pegOffsetValue"))


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
    trailing_delta: int | None = None
    iceberg_qty: str | None = None
    stp_mode: str | None = None
    strategy_id: int | None = None
    strategy_type: int | None = None
    peg_price_type: str | None = None
    peg_offset_value: int | None = None

    @property
    def pegged(self) -> bool:
        return self.peg_price_type is not None

    def dec(self, name: str) -> Decimal | None:
        """A decimal field as ``Decimal`` (exact), or None when absent."""
        text = getattr(self, name)
        return None if text is None else Decimal(text)

    def given(self) -> frozenset[str]:
        """The optional parameters the caller set."""
        return frozenset(n for n in _OPTIONAL if getattr(self, n) is not None)

    def fields(self, prefix: str = "") -> dict[str, str]:
        """The order's own parameters (type-dependent), under a list leg's ``prefix`` when given
        (``abovePrice``, ``pendingTimeInForce``...): decimals exactly as given."""

        def name(wire: str) -> str:
            return prefix + wire[0].upper() + wire[1:] if prefix else wire

        out: dict[str, str] = {}
        if "time_in_force" in ALLOWED[self.order_type]:
            out[name("timeInForce")] = self.time_in_force or "GTC"
        for attr, wire in _WIRE:
            value = getattr(self, attr)
            if value is not None:
                out[name(wire)] = str(value)
        if self.peg_offset_value is not None:
            out[name("pegOffsetType")] = "PRICE_LEVEL"
        return out

    def params(self) -> dict[str, str]:
        """Binance's parameters for ``POST /api/v3/order``, the decimals exactly as given."""
        out = {"symbol": self.symbol, "side": self.side, "type": self.order_type, **self.fields()}
        out["newClientOrderId"] = self.client_order_id
        if self.stp_mode is not None:
            out["selfTradePreventionMode"] = self.stp_mode
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
    if intent.pegged:
        missing -= {"price"}  # a pegged order's price comes from the book
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
    if kind in STOP_TYPES and not given & {"stop_price", "trailing_delta"}:
        raise InvalidArgument(f"{kind} orders need stop_price or trailing_delta (or both)")
    for name in _DECIMALS:
        value = intent.dec(name)
        if value is not None and value <= 0:
            raise InvalidArgument(f"{name} must be greater than zero; got {getattr(intent, name)}")
    _check_extras(intent)


def _check_extras(intent: OrderIntent) -> None:
    """Icebergs (GTC, below the quantity), pegs (offset needs a type; no MARKET_PEG on LIMIT_MAKER),
    strategy types (>= 1000000)."""
    iceberg, qty = intent.dec("iceberg_qty"), intent.dec("quantity")
    if iceberg is not None:
        if intent.time_in_force not in (None, "GTC"):
            raise InvalidArgument("an iceberg order needs time_in_force GTC")
        if qty is not None and iceberg >= qty:
            raise InvalidArgument(f"iceberg_qty {intent.iceberg_qty} must be below the quantity {intent.quantity}")
    if intent.peg_offset_value is not None and not intent.pegged:
        raise InvalidArgument("peg_offset_value needs peg_price_type")
    if intent.peg_price_type == "MARKET_PEG" and intent.order_type == "LIMIT_MAKER":
        raise InvalidArgument("a LIMIT_MAKER order cannot use MARKET_PEG (it would take); use PRIMARY_PEG")
    if intent.strategy_type is not None and intent.strategy_type < 1_000_000:
        raise InvalidArgument(f"strategy_type must be 1000000 or more; got {intent.strategy_type}")


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
    if intent.trailing_delta is not None and intent.order_type in _STOP_MARKET:
        # where tracking starts: its stop price, else the best ask (BUY); a SELL is valued at the bid
        return Needs(asks=intent.side == "BUY" and intent.stop_price is None, best_bid=intent.side == "SELL")
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
    if intent.pegged:
        raise TradingDisabled(
            f"a pegged order's price follows the {intent.symbol} book, so its worst case has no bound",
            hint="Give a limit price instead, or ask the operator to run without BINANCE_MAX_ORDER_NOTIONAL.",
        )
    qty, price, stop = intent.dec("quantity"), intent.dec("price"), intent.dec("stop_price")
    assert qty is not None  # check_shape ran: every other shape has a quantity
    with localcontext() as ctx:
        ctx.prec = _PREC
        if intent.order_type in _STOP_MARKET and intent.trailing_delta is not None:
            return _trailing_market(intent, qty, stop, market)
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


def _trailing_market(intent: OrderIntent, qty: Decimal, stop: Decimal | None, market: MarketView) -> Decimal:
    """A trailing STOP_LOSS / TAKE_PROFIT (market once triggered; rules in the module docstring)."""
    assert intent.trailing_delta is not None
    if intent.side == "BUY":
        start = stop if stop is not None else (market.asks[0][0] if market.asks else None)
        if start is None:
            raise TradingDisabled(
                f"no ask is known on {intent.symbol}, so where this trailing BUY starts tracking is unknown",
                hint="Give stop_price (tracking starts there), or try again when the book has asks.",
            )
        return qty * start * (1 + Decimal(intent.trailing_delta) / 10_000)
    bid = market.best_bid
    if bid is None or bid <= 0:
        raise TradingDisabled(
            f"no bid is known on {intent.symbol}, so the worst case of this SELL cannot be bounded",
            hint="The cap needs a live price; try again when the book has bids.",
        )
    return qty * max(bid, stop or bid)


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
