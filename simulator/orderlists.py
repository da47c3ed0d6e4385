"""Order lists of the sandbox (OCO, OTO, OTOCO): their data and the pure checks of their shape.

Rules of this file (`rest-api.md` "Order lists", `user-data-stream.md` "listStatus"):
1. An OCO is two orders, *above* and *below*: one of LIMIT_MAKER, TAKE_PROFIT, TAKE_PROFIT_LIMIT
   (the profit leg) and one of STOP_LOSS, STOP_LOSS_LIMIT (the stop leg). SELL: the profit leg is
   above, the stop below; BUY: the stop is above, the profit leg below (-1165/-1166/-1196..-1199
   otherwise, -1158 for a type an OCO does not take, -1168 for two profit legs).
2. Prices against the last trade price: SELL `price` of a LIMIT_MAKER/TAKE_PROFIT_LIMIT (the
   `stopPrice` of a TAKE_PROFIT) > last > the stop's `stopPrice`; BUY the other way round; else
   -2010 "The relationship of the prices for the orders is not correct.". A leg with only a
   `trailingDelta` has no price to compare.
3. OTO/OTOCO: the working order is a LIMIT or LIMIT_MAKER; the pending order is any type (an
   OTOCO's pending pair follows rules 1-2 on placement); the whole list is one request.
The engine (`simulator/engine.py`, rules 7-9) does the matching-engine side: locks, activation,
expiry and the `listStatus` events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from simulator import errors

if TYPE_CHECKING:
    from simulator.engine import NewOrder, Order

PROFIT_TYPES = ("LIMIT_MAKER", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT")
STOP_LEG_TYPES = ("STOP_LOSS", "STOP_LOSS_LIMIT")
OCO_TYPES = ("STOP_LOSS_LIMIT", "STOP_LOSS", "LIMIT_MAKER", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT")
"""Types an OCO leg takes (above or below; `belowPrice` names LIMIT_MAKER and a BUY OCO needs it)."""
WORKING_TYPES = ("LIMIT", "LIMIT_MAKER")
BAD_PRICES = "The relationship of the prices for the orders is not correct."


@dataclass
class OrderList:
    """One order list and where it stands (`GET /api/v3/orderList`)."""

    order_list_id: int
    kind: str
    """OCO, OTO or OTOCO (an OTOCO's `contingencyType` on the wire is OTO)."""
    list_client_order_id: str
    symbol: str
    transaction_time: int
    orders: list[Order] = field(default_factory=list)
    status_type: str = "EXEC_STARTED"
    order_status: str = "EXECUTING"

    @property
    def contingency_type(self) -> str:
        return "OCO" if self.kind == "OCO" else "OTO"

    @property
    def is_open(self) -> bool:
        return self.order_status == "EXECUTING"

    @property
    def working(self) -> Order | None:
        """The working order of an OTO/OTOCO (None for an OCO)."""
        return None if self.kind == "OCO" else self.orders[0]

    @property
    def pair(self) -> list[Order]:
        """The two orders that cancel each other: an OCO's legs, an OTOCO's pending orders."""
        if self.kind == "OCO":
            return self.orders
        return self.orders[1:] if self.kind == "OTOCO" else []


def check_oco_types(side: str, above_type: str, below_type: str) -> None:
    """Rule 1: the leg types and their positions."""
    for t in (above_type, below_type):
        if t not in OCO_TYPES:
            raise errors.ApiError(-1158, "Order type not supported in OCO.")
    if above_type in PROFIT_TYPES and below_type in PROFIT_TYPES:
        raise errors.ApiError(-1168, "At least one OCO order must be contingent.")
    if side == "SELL":
        if below_type == "LIMIT_MAKER":
            raise errors.ApiError(-1166, "A limit order in a sell OCO must be above.")
        if below_type in PROFIT_TYPES:
            raise errors.ApiError(-1199, "A take profit order in a sell OCO must be above.")
        if above_type in STOP_LEG_TYPES:
            raise errors.ApiError(-1197, "A stop loss order in a sell OCO must be below.")
        return
    if above_type == "LIMIT_MAKER":
        raise errors.ApiError(-1165, "A limit order in a buy OCO must be below.")
    if above_type in PROFIT_TYPES:
        raise errors.ApiError(-1198, "A take profit order in a buy OCO must be below.")
    if below_type in STOP_LEG_TYPES:
        raise errors.ApiError(-1196, "A stop loss order in a buy OCO must be above.")


def profit_and_stop(above: NewOrder, below: NewOrder) -> tuple[NewOrder, NewOrder]:
    """The (profit leg, stop leg) of an OCO whose types passed :func:`check_oco_types`."""
    return (above, below) if above.type in PROFIT_TYPES else (below, above)


def check_oco_prices(side: str, profit: NewOrder, stop: NewOrder, last: Decimal) -> None:
    """Rule 2: the legs' prices on either side of the last trade price."""
    level = profit.stop_price if profit.type == "TAKE_PROFIT" else profit.price
    trigger = stop.stop_price
    if side == "SELL":
        ok = (level is None or level > last) and (trigger is None or trigger < last)
    else:
        ok = (level is None or level < last) and (trigger is None or trigger > last)
    if not ok:
        raise errors.order_rejected(BAD_PRICES)


def check_working_type(working_type: str) -> None:
    """Rule 3: an OTO's working order rests on the book."""
    if working_type not in WORKING_TYPES:
        raise errors.ApiError(-1116, "Invalid orderType.")


__all__ = [
    "BAD_PRICES",
    "OCO_TYPES",
    "PROFIT_TYPES",
    "STOP_LEG_TYPES",
    "OrderList",
    "check_oco_prices",
    "check_oco_types",
    "check_working_type",
    "profit_and_stop",
]
