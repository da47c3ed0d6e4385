"""Order lists (OCO, OTO, OTOCO) as intents: their shape, their parameters, their worst cases; pure.

A list is its orders, each an :class:`~provider.trading.plan.OrderIntent` with a role, plus a list
client order id. Everything ``place_order`` checks is checked on every order (``plan.check_shape``,
the filters, the cap on each order's worst case); this module adds what only lists have
(`rest-api.md` "Order lists"):

- OCO (roles ``above``, ``below``; an OTOCO's ``pending_above``, ``pending_below``): one of
  LIMIT_MAKER, TAKE_PROFIT, TAKE_PROFIT_LIMIT (the profit leg) and one of STOP_LOSS,
  STOP_LOSS_LIMIT (the stop leg), of one side and one quantity. SELL: the profit leg above, the stop
  below; BUY the other way round. Their prices sit on either side of the last price: SELL profit
  price (a TAKE_PROFIT's stop price) > last > the stop's stop price; BUY the reverse.
- OTO / OTOCO: the ``working`` order is a LIMIT or LIMIT_MAKER; the ``pending`` order is any type
  but a MARKET by quote amount; the pending orders are placed when the working order fills.
- The list client order id and the orders' client order ids are all distinct.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from provider.binance.rules import fmt_decimal
from provider.errors import InvalidArgument
from provider.trading.plan import OrderIntent, check_shape

__all__ = [
    "KINDS",
    "PROFIT_TYPES",
    "STOP_LEG_TYPES",
    "ListIntent",
    "check_list_shape",
    "check_pair_prices",
]

PROFIT_TYPES = frozenset({"LIMIT_MAKER", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"})
STOP_LEG_TYPES = frozenset({"STOP_LOSS", "STOP_LOSS_LIMIT"})
WORKING_TYPES = frozenset({"LIMIT", "LIMIT_MAKER"})
KINDS: Mapping[str, tuple[str, ...]] = {
    "OCO": ("above", "below"),
    "OTO": ("working", "pending"),
    "OTOCO": ("working", "pending_above", "pending_below"),
}
#: a role's parameter prefix on the wire
_PREFIX = {
    "above": "above",
    "below": "below",
    "working": "working",
    "pending": "pending",
    "pending_above": "pendingAbove",
    "pending_below": "pendingBelow",
}


@dataclass(frozen=True)
class ListIntent:
    """One order list as the caller asked for it (roles in the order of :data:`KINDS`)."""

    kind: str
    symbol: str
    list_client_order_id: str
    legs: tuple[tuple[str, OrderIntent], ...]
    stp_mode: str | None = None

    def leg(self, role: str) -> OrderIntent:
        return dict(self.legs)[role]

    @property
    def pair(self) -> tuple[OrderIntent, OrderIntent] | None:
        """The (above, below) orders that cancel each other, if the list has them."""
        if self.kind == "OCO":
            return self.leg("above"), self.leg("below")
        if self.kind == "OTOCO":
            return self.leg("pending_above"), self.leg("pending_below")
        return None

    def client_order_ids(self) -> list[str]:
        return [intent.client_order_id for _, intent in self.legs]

    def params(self) -> dict[str, str]:
        """Binance's parameters for ``POST /api/v3/orderList/{oco,oto,otoco}`` (FULL answers)."""
        out = {"symbol": self.symbol, "listClientOrderId": self.list_client_order_id, "newOrderRespType": "FULL"}
        if self.stp_mode is not None:
            out["selfTradePreventionMode"] = self.stp_mode
        pair = self.pair
        if self.kind == "OCO":
            assert pair is not None
            out.update(side=pair[0].side, quantity=str(pair[0].quantity))
        if self.kind == "OTOCO":
            assert pair is not None
            out.update(pendingSide=pair[0].side, pendingQuantity=str(pair[0].quantity))
        for role, intent in self.legs:
            prefix = _PREFIX[role]
            fields = intent.fields(prefix)
            if role in ("above", "below", "pending_above", "pending_below"):
                fields.pop(prefix + "Quantity", None)  # the pair's quantity is the list's
            else:
                fields[prefix + "Side"] = intent.side
            fields[prefix + "Type"] = intent.order_type
            fields[prefix + "ClientOrderId"] = intent.client_order_id
            out.update(fields)
        return out


def check_list_shape(intent: ListIntent) -> None:
    """Every order's own shape, the list's roles, types and positions, distinct ids.

    Raises:
        InvalidArgument: what is wrong and what the list takes.
    """
    roles = tuple(role for role, _ in intent.legs)
    if roles != KINDS[intent.kind]:
        raise InvalidArgument(f"an {intent.kind} list has the orders {', '.join(KINDS[intent.kind])}")
    for role, leg in intent.legs:
        try:
            check_shape(leg)
        except InvalidArgument as err:
            raise InvalidArgument(f"{role}: {err.message}") from None
        if leg.pegged:
            raise InvalidArgument(f"{role}: pegged orders are not offered in order lists")
    if intent.kind != "OCO":
        working = intent.leg("working")
        if working.order_type not in WORKING_TYPES:
            raise InvalidArgument(f"the working order must be LIMIT or LIMIT_MAKER, not {working.order_type}")
    pair = intent.pair
    if pair is not None:
        _check_pair_types(pair[0], pair[1])
    ids = [intent.list_client_order_id, *intent.client_order_ids()]
    if len(set(ids)) != len(ids):
        raise InvalidArgument("the list client order id and the orders' client order ids must all differ")


def _check_pair_types(above: OrderIntent, below: OrderIntent) -> None:
    for where, leg in (("above", above), ("below", below)):
        if leg.order_type not in PROFIT_TYPES | STOP_LEG_TYPES:
            raise InvalidArgument(
                f"the {where} order of an OCO is LIMIT_MAKER, TAKE_PROFIT, TAKE_PROFIT_LIMIT, STOP_LOSS or "
                f"STOP_LOSS_LIMIT, not {leg.order_type}"
            )
    kinds = {above.order_type in PROFIT_TYPES, below.order_type in PROFIT_TYPES}
    if kinds != {True, False}:
        raise InvalidArgument(
            "an OCO is one profit order (LIMIT_MAKER, TAKE_PROFIT, TAKE_PROFIT_LIMIT) and one stop order "
            "(STOP_LOSS, STOP_LOSS_LIMIT)"
        )
    side = above.side
    profit_above = above.order_type in PROFIT_TYPES
    if side == "SELL" and not profit_above:
        raise InvalidArgument("a SELL OCO has its profit order above the price and its stop below")
    if side == "BUY" and profit_above:
        raise InvalidArgument("a BUY OCO has its stop above the price and its profit order below")


def check_pair_prices(above: OrderIntent, below: OrderIntent, last: Decimal) -> None:
    """The pair's prices on either side of the last price (Binance refuses the list otherwise, -2010).

    Raises:
        InvalidArgument: which price is on the wrong side, and the last price.
    """
    profit, stop = (above, below) if above.order_type in PROFIT_TYPES else (below, above)
    level = profit.dec("stop_price") if profit.order_type == "TAKE_PROFIT" else profit.dec("price")
    trigger = stop.dec("stop_price")
    wrong: list[str] = []
    if profit.side == "SELL":
        if level is not None and level <= last:
            wrong.append(f"the profit order's {fmt_decimal(level)} must be above")
        if trigger is not None and trigger >= last:
            wrong.append(f"the stop price {fmt_decimal(trigger)} must be below")
    else:
        if level is not None and level >= last:
            wrong.append(f"the profit order's {fmt_decimal(level)} must be below")
        if trigger is not None and trigger <= last:
            wrong.append(f"the stop price {fmt_decimal(trigger)} must be above")
    if wrong:
        raise InvalidArgument(
            f"{' and '.join(wrong)} the last price {fmt_decimal(last)} "
            f"(Binance: 'The relationship of the prices for the orders is not correct.')"
        )
