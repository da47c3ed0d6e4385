"""Account and order tools through the gateway against the sandbox, with the safety rails.

Numbers are checked against the sandbox itself: balances before and after, fills, trades, and the
sandbox's own list of every order it ever received (`GET /sim/orders`) for duplicate checks.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio
from mcp import ClientSession

from tests.e2e.conftest import HeldSession, call
from tests.sim_fixture import SimProcess
from tests.stack import ProviderProcess, sandbox_env

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def fails(s: ClientSession, name: str, args: dict[str, Any]) -> str:
    result = await s.call_tool(name, args)
    assert result.is_error, f"expected {name} to fail: {result.content[0].text}"
    return result.content[0].text


def nearest(text: str) -> list[Decimal]:
    """The values after the first "nearest valid:" of an error text, as decimals (never compared as text)."""
    match = re.search(r"nearest valid(?: quantity)?: ([0-9.]+)(?: or ([0-9.]+))?", text)
    assert match, text
    return [Decimal(v) for v in match.groups() if v is not None]


async def balances(s: ClientSession) -> dict[str, Decimal]:
    account = await call(s, "binance_get_account", {"include_zero_balances": True})
    return {b["asset"]: Decimal(b["free"]) + Decimal(b["locked"]) for b in account["balances"]}


async def best(s: ClientSession, symbol: str) -> tuple[Decimal, Decimal]:
    book = await call(s, "binance_get_orderbook", {"symbol": symbol, "limit": 1})
    return Decimal(book["bids"][0]["price"]), Decimal(book["asks"][0]["price"])


async def sim_orders(sim: SimProcess, symbol: str) -> list[dict[str, Any]]:
    reply = await sim.control("GET", f"/sim/orders?symbol={symbol}")
    orders: list[dict[str, Any]] = reply["orders"]
    return orders


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def trading(stack_sim: SimProcess, stack_provider: ProviderProcess) -> AsyncIterator[ClientSession]:
    async with HeldSession(stack_provider.address) as s:
        yield s


async def test_limit_order_rests_locks_funds_is_listed_queried_and_canceled(trading: ClientSession) -> None:
    bid, _ = await best(trading, "BTCUSDT")
    price = (bid * Decimal("0.9")).quantize(Decimal("0.01"))
    before = await call(trading, "binance_get_account", {})
    usdt_locked_before = next(Decimal(b["locked"]) for b in before["balances"] if b["asset"] == "USDT")
    placed = await call(
        trading,
        "binance_place_order",
        {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.01", "price": str(price)},
    )
    assert placed["outcome"] == "PLACED" and placed["order_exists"] is True
    order = placed["order"]
    assert order["status"] == "NEW" and Decimal(order["orig_qty"]) == Decimal("0.01")
    cid = placed["client_order_id"]
    assert order["client_order_id"] == cid
    after = await call(trading, "binance_get_account", {})
    usdt_locked = next(Decimal(b["locked"]) for b in after["balances"] if b["asset"] == "USDT")
    assert usdt_locked - usdt_locked_before == price * Decimal("0.01")
    open_orders = await call(trading, "binance_get_open_orders", {"symbol": "btcusdt"})
    assert cid in [o["client_order_id"] for o in open_orders["orders"]]
    got = await call(trading, "binance_get_order", {"symbol": "BTCUSDT", "order_id": order["order_id"]})
    assert got["order"]["client_order_id"] == cid and got["order"]["status"] == "NEW"
    canceled = await call(trading, "binance_cancel_order", {"symbol": "BTCUSDT", "client_order_id": cid})
    assert canceled["order"]["status"] == "CANCELED" and canceled["order"]["order_id"] == order["order_id"]
    final = await call(trading, "binance_get_account", {})
    assert next(Decimal(b["locked"]) for b in final["balances"] if b["asset"] == "USDT") == usdt_locked_before
    history = await call(trading, "binance_get_all_orders", {"symbol": "BTCUSDT"})
    assert any(o["client_order_id"] == cid and o["status"] == "CANCELED" for o in history["orders"])


async def test_market_buy_fills_and_moves_balances_by_the_fills(trading: ClientSession) -> None:
    before = await balances(trading)
    placed = await call(
        trading, "binance_place_order", {"symbol": "ETHUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.5"}
    )
    order = placed["order"]
    assert order["status"] == "FILLED"
    fills = order["fills"]
    assert sum(Decimal(f["qty"]) for f in fills) == Decimal("0.5")
    spent = sum(Decimal(f["price"]) * Decimal(f["qty"]) for f in fills)
    assert Decimal(order["cumulative_quote_qty"]) == spent
    fee_eth = sum(Decimal(f["commission"]) for f in fills if f["commission_asset"] == "ETH")
    after = await balances(trading)
    assert after["ETH"] - before["ETH"] == Decimal("0.5") - fee_eth
    assert before["USDT"] - after["USDT"] == spent
    trades = await call(trading, "binance_get_my_trades", {"symbol": "ETHUSDT", "order_id": order["order_id"]})
    assert sum(Decimal(t["qty"]) for t in trades["trades"]) == Decimal("0.5")
    assert all(t["side"] == "BUY" for t in trades["trades"])


async def test_market_sell_by_quote_amount(trading: ClientSession) -> None:
    placed = await call(
        trading,
        "binance_place_order",
        {"symbol": "ETHUSDT", "side": "SELL", "type": "MARKET", "quote_order_qty": "100"},
    )
    order = placed["order"]
    assert order["status"] in ("FILLED", "EXPIRED")
    assert Decimal(order["cumulative_quote_qty"]) <= Decimal("100")
    assert Decimal(order["cumulative_quote_qty"]) > Decimal("90")


async def test_limit_maker_that_would_take_is_rejected_with_the_exchange_reason(trading: ClientSession) -> None:
    _, ask = await best(trading, "BTCUSDT")
    text = await fails(
        trading,
        "binance_place_order",
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT_MAKER",
            "quantity": "0.001",
            "price": str((ask * Decimal("1.001")).quantize(Decimal("0.01"))),
        },
    )
    assert "-2010" in text and "immediately match" in text


@pytest.mark.parametrize(
    ("order_type", "side", "stop_factor", "limit"),
    [
        ("STOP_LOSS", "SELL", "0.95", False),
        ("STOP_LOSS_LIMIT", "SELL", "0.95", True),
        ("TAKE_PROFIT", "SELL", "1.05", False),
        ("TAKE_PROFIT_LIMIT", "SELL", "1.05", True),
        ("LIMIT_MAKER", "SELL", None, True),
    ],
)
async def test_every_resting_order_type_is_placed_queried_and_canceled(
    trading: ClientSession, order_type: str, side: str, stop_factor: str | None, limit: bool
) -> None:
    bid, ask = await best(trading, "BTCUSDT")
    args: dict[str, Any] = {"symbol": "BTCUSDT", "side": side, "type": order_type, "quantity": "0.001"}
    if stop_factor:
        args["stop_price"] = str((bid * Decimal(stop_factor)).quantize(Decimal("0.01")))
    if limit:
        factor = Decimal(stop_factor) if stop_factor else Decimal("1.02")
        args["price"] = str((ask * factor).quantize(Decimal("0.01")))
    placed = await call(trading, "binance_place_order", args)
    order = placed["order"]
    assert order["type"] == order_type
    got = await call(trading, "binance_get_order", {"symbol": "BTCUSDT", "client_order_id": placed["client_order_id"]})
    assert got["order"]["status"] == "NEW"
    if stop_factor:
        assert Decimal(got["order"]["stop_price"]) == Decimal(args["stop_price"])
    canceled = await call(trading, "binance_cancel_order", {"symbol": "BTCUSDT", "order_id": order["order_id"]})
    assert canceled["order"]["status"] == "CANCELED"


async def test_fok_that_cannot_fill_expires_and_says_why(trading: ClientSession) -> None:
    bid, _ = await best(trading, "BTCUSDT")
    placed = await call(
        trading,
        "binance_place_order",
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "time_in_force": "FOK",
            "quantity": "0.001",
            "price": str((bid * Decimal("0.9")).quantize(Decimal("0.01"))),
        },
    )
    assert placed["order"]["status"] == "EXPIRED"
    assert placed["note"]


async def test_filter_failures_are_explained_with_the_nearest_valid_values(trading: ClientSession) -> None:
    bid, _ = await best(trading, "BTCUSDT")
    price = (bid * Decimal("0.95")).quantize(Decimal("0.01"))
    text = await fails(
        trading,
        "binance_place_order",
        {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.001", "price": f"{price}5"},
    )
    assert "tickSize" in text and nearest(text) == [price, price + Decimal("0.01")]
    # the same values as fields, for an agent that acts on them (the provider's details, via the gateway)
    (details,) = [json.loads(x.removeprefix("Details: ")) for x in text.splitlines() if x.startswith("Details: ")]
    (violation,) = details["violations"]
    assert (violation["filter"], violation["field"]) == ("PRICE_FILTER", "price")
    assert [Decimal(v) for v in violation["suggestions"]] == [price, price + Decimal("0.01")]
    text = await fails(
        trading,
        "binance_place_order",
        {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.0012345", "price": str(price)},
    )
    assert "stepSize" in text and nearest(text) == [Decimal("0.00123"), Decimal("0.00124")]
    text = await fails(
        trading,
        "binance_place_order",
        {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.00001", "price": str(price)},
    )
    assert "otional" in text
    text = await fails(
        trading, "binance_place_order", {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.001"}
    )
    assert "price" in text and "missing" in text


async def test_dry_run_validates_with_the_exchange_and_places_nothing(
    trading: ClientSession, stack_sim: SimProcess
) -> None:
    before = len(await sim_orders(stack_sim, "BTCUSDT"))
    balances_before = await balances(trading)
    bid, _ = await best(trading, "BTCUSDT")
    result = await call(
        trading,
        "binance_place_order",
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "quantity": "0.001",
            "price": str((bid * Decimal("0.99")).quantize(Decimal("0.01"))),
            "validate_only": True,
        },
    )
    assert result["outcome"] == "VALIDATED" and result["order_exists"] is False
    assert result["sent"]["symbol"] == "BTCUSDT" and result["sent"]["timeInForce"] == "GTC"
    assert result["commission_taker"]
    assert len(await sim_orders(stack_sim, "BTCUSDT")) == before
    assert await balances(trading) == balances_before


async def test_lost_answer_after_execution_is_reconciled_and_never_duplicated(
    trading: ClientSession, stack_sim: SimProcess
) -> None:
    bid, _ = await best(trading, "BTCUSDT")
    price = str((bid * Decimal("0.9")).quantize(Decimal("0.01")))
    cid = "e2e-lost-answer-1"
    await stack_sim.fault("rest_fail", path="/api/v3/order", method="POST", status=503, after_execute=True, times=1)
    args = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "quantity": "0.001",
        "price": price,
        "client_order_id": cid,
    }
    first = await call(trading, "binance_place_order", args)
    assert first["outcome"] == "RECONCILED_EXISTS" and first["order_exists"] is True
    assert first["order"]["client_order_id"] == cid
    second = await call(trading, "binance_place_order", args)
    assert second["outcome"] == "RECONCILED_EXISTS" and "not placed again" in second["note"]
    matching = [o for o in await sim_orders(stack_sim, "BTCUSDT") if o["clientOrderId"] == cid]
    assert len(matching) == 1
    await call(trading, "binance_cancel_order", {"symbol": "BTCUSDT", "client_order_id": cid})


async def test_lost_answer_before_execution_is_reported_absent_and_a_retry_places_once(
    trading: ClientSession, stack_sim: SimProcess
) -> None:
    bid, _ = await best(trading, "BTCUSDT")
    cid = "e2e-lost-answer-2"
    args = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "quantity": "0.001",
        "price": str((bid * Decimal("0.9")).quantize(Decimal("0.01"))),
        "client_order_id": cid,
    }
    await stack_sim.fault("rest_fail", path="/api/v3/order", method="POST", code=-1007, after_execute=False, times=1)
    first = await call(trading, "binance_place_order", args)
    assert first["outcome"] == "RECONCILED_ABSENT" and first["order_exists"] is False
    second = await call(trading, "binance_place_order", args)
    assert second["outcome"] == "PLACED"
    assert len([o for o in await sim_orders(stack_sim, "BTCUSDT") if o["clientOrderId"] == cid]) == 1
    await call(trading, "binance_cancel_order", {"symbol": "BTCUSDT", "client_order_id": cid})


async def test_every_mutating_call_is_audited_without_secrets(
    trading: ClientSession, stack_sim: SimProcess, stack_provider: ProviderProcess
) -> None:
    bid, _ = await best(trading, "BTCUSDT")
    placed = await call(
        trading,
        "binance_place_order",
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "quantity": "0.001",
            "price": str((bid * Decimal("0.9")).quantize(Decimal("0.01"))),
        },
    )
    await call(trading, "binance_cancel_order", {"symbol": "BTCUSDT", "order_id": placed["order"]["order_id"]})
    lines = [json.loads(line) for line in stack_provider.audit().splitlines()]
    actions = [(e["action"], e.get("client_order_id") or e.get("sent", {}).get("newClientOrderId")) for e in lines]
    assert ("place_order.send", placed["client_order_id"]) in actions
    assert ("place_order.placed", placed["client_order_id"]) in actions
    assert any(a == "cancel_order.done" for a, _ in actions)
    secret = stack_sim.info.api_secret
    assert secret not in stack_provider.audit()
    assert secret not in stack_provider.logs()


async def test_trading_is_refused_by_default_and_the_refusal_says_how_to_enable(stack_sim: SimProcess) -> None:
    provider = await ProviderProcess.start(sandbox_env(stack_sim.info, trading=False))
    try:
        async with HeldSession(provider.address) as s:
            text = await fails(
                s, "binance_place_order", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001"}
            )
            assert "BINANCE_TRADING_ENABLED=true" in text
            text = await fails(s, "binance_cancel_order", {"symbol": "BTCUSDT", "order_id": 1})
            assert "BINANCE_TRADING_ENABLED" in text
            dry = await call(
                s,
                "binance_place_order",
                {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001", "validate_only": True},
            )
            assert dry["outcome"] == "VALIDATED"
    finally:
        await provider.stop()


async def test_operator_limits_are_enforced(stack_sim: SimProcess) -> None:
    env = sandbox_env(
        stack_sim.info,
        trading=True,
        BINANCE_MAX_ORDER_NOTIONAL="50",
        BINANCE_ALLOWED_SYMBOLS="BTCUSDT,ETHUSDT",
        BINANCE_ALLOWED_ORDER_TYPES="LIMIT,MARKET",
    )
    provider = await ProviderProcess.start(env)
    try:
        async with HeldSession(provider.address) as s:
            text = await fails(
                s, "binance_place_order", {"symbol": "BNBUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.1"}
            )
            assert "BINANCE_ALLOWED_SYMBOLS" in text
            text = await fails(
                s,
                "binance_place_order",
                {"symbol": "BTCUSDT", "side": "BUY", "type": "STOP_LOSS", "quantity": "0.001", "stop_price": "99999"},
            )
            assert "BINANCE_ALLOWED_ORDER_TYPES" in text
            text = await fails(
                s, "binance_place_order", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01"}
            )
            assert "BINANCE_MAX_ORDER_NOTIONAL" in text and "50" in text
    finally:
        await provider.stop()


async def test_wrong_or_missing_keys_give_a_clear_error_without_the_secret(stack_sim: SimProcess) -> None:
    wrong = sandbox_env(stack_sim.info, BINANCE_API_SECRET="not-the-secret-" + "x" * 40)
    missing = {
        k: v for k, v in sandbox_env(stack_sim.info).items() if k not in ("BINANCE_API_KEY", "BINANCE_API_SECRET")
    }
    for env, expected in ((wrong, "-1022"), (missing, "API credentials")):
        provider = await ProviderProcess.start(env)
        try:
            async with HeldSession(provider.address) as s:
                text = await fails(s, "binance_get_account", {})
                assert expected in text, text
                assert "not-the-secret" not in text
            assert "not-the-secret" not in provider.logs()
        finally:
            await provider.stop()


async def test_ed25519_keys_work_end_to_end(stack_sim: SimProcess) -> None:
    provider = await ProviderProcess.start(sandbox_env(stack_sim.info, ed25519=True))
    try:
        async with HeldSession(provider.address) as s:
            account = await call(s, "binance_get_account", {})
            assert account["can_trade"] is True
    finally:
        await provider.stop()
