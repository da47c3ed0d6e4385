"""Account tools: balances with free/locked/total, commission rates, own trades."""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import TYPE_CHECKING

from contracts.binance.v1 import account_pb2, common_pb2
from provider.binance.rules import fmt_decimal
from provider.binance.windows import check_window
from provider.services.fields import optional
from provider.services.freshness import freshness
from provider.services.registry import tool

if TYPE_CHECKING:
    from provider.app import App


@tool("binance.get_account")
async def get_account(app: App, req: account_pb2.GetAccountRequest) -> account_pb2.GetAccountResponse:
    if app.account is not None and await app.account.caught_up():
        a, fresh = app.account.state.account_json(), stream_freshness(app)
    else:
        a = (await app.client.account(omit_zero_balances=not req.include_zero_balances)).data
        fresh = freshness(app, None)
    balances = []
    for b in a["balances"]:
        total = Decimal(b["free"]) + Decimal(b["locked"])
        if total == 0 and not req.include_zero_balances:
            continue
        balances.append(
            account_pb2.Balance(asset=b["asset"], free=b["free"], locked=b["locked"], total=fmt_decimal(total))
        )
    rates = a.get("commissionRates", {})
    return account_pb2.GetAccountResponse(
        account_type=a.get("accountType", ""),
        can_trade=a.get("canTrade", False),
        can_withdraw=a.get("canWithdraw", False),
        can_deposit=a.get("canDeposit", False),
        commission_rates=account_pb2.CommissionRates(
            maker=rates.get("maker", ""),
            taker=rates.get("taker", ""),
            buyer=rates.get("buyer", ""),
            seller=rates.get("seller", ""),
        ),
        balances=balances,
        permissions=a.get("permissions", []),
        update_time_ms=a.get("updateTime", 0),
        freshness=fresh,
    )


def stream_freshness(app: App) -> common_pb2.Freshness:
    """Freshness of an answer from the live account: the last event's time (or when it went live)."""
    assert app.account is not None
    state = app.account.state
    return freshness(app, state.last_event_ms or app.account.live_since_ms, source="stream")


@tool("binance.account_stream_health")
async def account_stream_health(
    app: App, req: account_pb2.GetAccountStreamHealthRequest
) -> account_pb2.GetAccountStreamHealthResponse:
    if app.account is None:
        reason = "no API key configured" if app.client.credentials_kind == "none" else "PROVIDER_ACCOUNT_STREAM=false"
        return account_pb2.GetAccountStreamHealthResponse(enabled=False, phase="DOWN", reason=reason)
    return account_pb2.GetAccountStreamHealthResponse(enabled=True, **asdict(app.account.health()))


@tool("binance.get_my_trades")
async def get_my_trades(app: App, req: account_pb2.GetMyTradesRequest) -> account_pb2.GetMyTradesResponse:
    rules = await app.client.rules(req.symbol)
    check_window(optional(req, "start_time_ms"), optional(req, "end_time_ms"))
    raw = (
        await app.client.my_trades(
            rules.symbol,
            order_id=optional(req, "order_id"),
            start_time=optional(req, "start_time_ms"),
            end_time=optional(req, "end_time_ms"),
            from_id=optional(req, "from_id"),
            limit=req.limit,
        )
    ).data
    trades = [
        account_pb2.MyTrade(
            id=t["id"],
            order_id=t["orderId"],
            symbol=t["symbol"],
            side=common_pb2.SIDE_BUY if t["isBuyer"] else common_pb2.SIDE_SELL,
            price=t["price"],
            qty=t["qty"],
            quote_qty=t["quoteQty"],
            commission=t["commission"],
            commission_asset=t["commissionAsset"],
            time_ms=t["time"],
            is_maker=t["isMaker"],
        )
        for t in raw
    ]
    last = raw[-1]["time"] if raw else None
    return account_pb2.GetMyTradesResponse(symbol=rules.symbol, trades=trades, freshness=freshness(app, last))
