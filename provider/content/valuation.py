"""Holdings valued in one quote asset, from the typed account and the exchange's last prices."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from contracts.binance.v1 import account_pb2
from provider.services.account import get_account

if TYPE_CHECKING:
    from provider.app import App

#: the unit holdings are valued in.
VALUATION_QUOTE = "USDT"
#: quote assets of an asset's main pair, in order of preference.
MAIN_QUOTES = (VALUATION_QUOTE, "BTC")


@dataclass(frozen=True)
class Holding:
    asset: str
    free: Decimal
    locked: Decimal
    total: Decimal
    #: one unit in VALUATION_QUOTE; None when no market prices it.
    price: Decimal | None

    @property
    def value(self) -> Decimal | None:
        return self.total * self.price if self.price is not None else None


async def holdings(app: App) -> tuple[list[Holding], Decimal]:
    """Non-zero balances with their value in VALUATION_QUOTE, largest first, and the total."""
    account = await get_account(app, account_pb2.GetAccountRequest())
    prices = {p["symbol"]: Decimal(p["price"]) for p in (await app.client.ticker_price()).data}
    out = [
        Holding(b.asset, Decimal(b.free), Decimal(b.locked), Decimal(b.total), asset_price(b.asset, prices))
        for b in account.balances
        if Decimal(b.total) != 0
    ]
    out.sort(key=lambda h: h.value if h.value is not None else Decimal(-1), reverse=True)
    grand = sum((h.value for h in out if h.value is not None), Decimal(0))
    return out, grand


def asset_price(asset: str, prices: dict[str, Decimal], quote: str = VALUATION_QUOTE) -> Decimal | None:
    """Price of one unit of `asset` in `quote`: direct, inverse, or through BTC."""
    if asset == quote:
        return Decimal(1)
    if f"{asset}{quote}" in prices:
        return prices[f"{asset}{quote}"]
    if f"{quote}{asset}" in prices and prices[f"{quote}{asset}"] > 0:
        return 1 / prices[f"{quote}{asset}"]
    if f"{asset}BTC" in prices and f"BTC{quote}" in prices:
        return prices[f"{asset}BTC"] * prices[f"BTC{quote}"]
    return None


def main_pair(asset: str, trading: set[str]) -> str | None:
    """The pair an asset is usually valued in: against USDT, else BTC, if it trades."""
    return next((f"{asset}{q}" for q in MAIN_QUOTES if f"{asset}{q}" in trading), None)
