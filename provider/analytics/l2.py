"""L2 slices as Binance-style decimal strings, plus decimal formatting that never uses exponents.

``str(Decimal("0.00000010"))`` is ``"1.0E-7"``; tools must show ``"0.00000010"``. An earlier
implementation scaled prices to integers and dropped every price below one cent: keep decimals.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

__all__ = ["LevelSource", "dec_str", "l2_levels"]

Level = tuple[Decimal, Decimal]


class LevelSource(Protocol):
    """Anything that returns its best ``n`` levels per side: ``OrderBook``, ``BookView``."""

    def levels(self, n: int) -> tuple[list[Level], list[Level]]: ...


def dec_str(value: Decimal) -> str:
    """Plain positional notation, keeping the digits Binance sent (``0.00000010`` stays so)."""
    return f"{value:f}"


def l2_levels(book: LevelSource, n: int) -> dict[str, list[list[str]]]:
    """The best ``n`` levels per side as ``{"bids": [[price, qty], ...], "asks": [...]}``.

    Raises:
        ValueError: ``n < 1``.
    """
    if n < 1:
        raise ValueError("n must be >= 1")
    bids, asks = book.levels(n)
    return {
        "bids": [[dec_str(p), dec_str(q)] for p, q in bids],
        "asks": [[dec_str(p), dec_str(q)] for p, q in asks],
    }
