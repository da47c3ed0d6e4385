"""Decimal formatting and tick/step conversions shared by the sandbox.

Binance renders prices and quantities as 8-decimal strings ("0.00100000"); we compute in integer
ticks/lots or `Decimal` and only format at the edge.
"""

from __future__ import annotations

import re
from decimal import ROUND_DOWN, ROUND_UP, Decimal, InvalidOperation

EIGHT = Decimal("0.00000001")
ZERO = Decimal(0)
DECIMAL_RE = re.compile(r"^([0-9]{1,20})(\.[0-9]{1,20})?$")


def fmt8(value: Decimal) -> str:
    """Format with exactly 8 decimals, truncating anything finer."""
    return f"{value.quantize(EIGHT, rounding=ROUND_DOWN):f}"


def fmt8_up(value: Decimal) -> str:
    """Format with exactly 8 decimals, rounding up (commission is never under-charged)."""
    return f"{value.quantize(EIGHT, rounding=ROUND_UP):f}"


def parse_decimal(text: str) -> Decimal | None:
    """Parse a request decimal (spec §1.2 regex); `None` when malformed."""
    if not DECIMAL_RE.match(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the regex already guards this
        return None


def to_units(value: Decimal, unit: Decimal) -> int | None:
    """`value / unit` as an int when `value` is an exact multiple of `unit`, else None."""
    q, r = divmod(value, unit)
    if r != 0:
        return None
    return int(q)


def from_units(units: int, unit: Decimal) -> Decimal:
    """Back from integer ticks or lots to a Decimal."""
    return unit * units
