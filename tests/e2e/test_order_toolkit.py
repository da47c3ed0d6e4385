"""The order toolkit beyond single orders, through the gateway against the sandbox (market paused, so
fills come only from `POST /sim/take`): order lists, cancel-replace, cancel-all, amendments, trailing
stops and icebergs, each checked on its numbers (balances, fills, list statuses); the rails on lists
(allowed types, the cap on every order, dry runs, one list per list client order id, lost answers);
and key hygiene.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio
from mcp import ClientSession

from tests.e2e.conftest import HeldSession, call, rest
from tests.sim_fixture import SimProcess
from tests.stack import ProviderProcess, sandbox_env

pytestmark = pytest.mark.asyncio(loop_scope="module")

D = Decimal
FEE = D("0.001")
EIGHT = D("0.00000001")


async def fails(s: ClientSession, name: str, args: dict[str, Any]) -> str:
    result = await s.call_tool(name, args)
    assert result.is_error, f"expected {name} to fail: {result.content[0].text}"
    return result.content[0].text


def fee(amount: Decimal) -> Decimal:
    return (amount * FEE).quantize(EIGHT, rounding="ROUND_UP")


async def holdings(s: ClientSession) -> dict[str, tuple[Decimal, Decimal]]:
    account = await call(s, "binance_get_account", {"include_zero_balances": True})
    return {b["asset"]: (D(b["free"]), D(b["locked"])) for b in account["balances"]}


async def locked(s: ClientSession, asset: str) -> Decimal:
    return (await holdings(s))[asset][1]


async def total(s: ClientSession, asset: str) -> Decimal:
    free, held = (await holdings(s))[asset]
    return free + held


async def last_price(sim: SimProcess, symbol: str) -> Decimal:
    return D((await rest(sim, f"/api/v3/ticker/price?symbol={symbol}"))["price"])


async def book(sim: SimProcess, symbol: str) -> dict[str, Any]:
    return dict(await sim.control("GET", f"/sim/book?symbol={symbol}"))


async def take(sim: SimProcess, symbol: str, side: str, quantity: Decimal) -> None:
    await sim.control("POST", "/sim/take", {"symbol": symbol, "side": side, "quantity": str(quantity)})


async def sim_orders(sim: SimProcess, symbol: str) -> list[dict[str, Any]]:
    return list((await sim.control("GET", f"/sim/orders?symbol={symbol}"))["orders"])


def q(value: Decimal, tick: str = "0.01") -> str:
    return str(value.quantize(D(tick)))


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def sim() -> AsyncIterator[SimProcess]:
    process = await SimProcess.start("--faults", "--rate", "50")
    await process.control("POST", "/sim/market", {"running": False})
    try:
        yield process
    finally:
        await process.stop()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def provider(sim: SimProcess) -> AsyncIterator[ProviderProcess]:
    process = await ProviderProcess.start(sandbox_env(sim.info, trading=True))
    try:
        yield process
    finally:
        await process.stop()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def s(provider: ProviderProcess) -> AsyncIterator[ClientSession]:
    async with HeldSession(provider.address) as session:
        yield session


# -- order lists -----------------------------------------------------------------------------------


async def test_oco_sell_limit_leg_fills_the_stop_expires_and_the_balances_move_by_the_fill(
    s: ClientSession, sim: SimProcess
) -> None:
    last = await last_price(sim, "BTCUSDT")
    asks = [(D(p), D(qty)) for p, qty in (await book(sim, "BTCUSDT"))["asks"]]
    above = next(p for p, _ in asks if p > last)
    ahead = sum((qty for p, qty in asks if p <= above), D(0))  # lower levels, and the size queued first at ours
    stop = (last * D("0.98")).quantize(D("0.01"))
    btc_before, usdt_before, btc_locked = await total(s, "BTC"), await total(s, "USDT"), await locked(s, "BTC")
    placed = await call(
        s,
        "binance_place_oco",
        {
            "symbol": "BTCUSDT",
            "side": "SELL",
            "quantity": "0.01",
            "list_client_order_id": "e2e-oco-fill",
            "above": {"type": "LIMIT_MAKER", "price": str(above), "client_order_id": "e2e-oco-tp"},
            "below": {
                "type": "STOP_LOSS_LIMIT",
                "stop_price": str(stop),
                "price": str(stop - 10),
                "time_in_force": "GTC",
            },
        },
    )
    lst = placed["order_list"]
    assert (placed["outcome"], placed["list_exists"], lst["contingency_type"], lst["list_order_status"]) == (
        "PLACED",
        True,
        "OCO",
        "EXECUTING",
    )
    assert [o["status"] for o in lst["orders"]] == ["NEW", "NEW"] and lst["orders"][0][
        "client_order_id"
    ] == "e2e-oco-tp"
    assert {o["order_list_id"] for o in lst["orders"]} == {lst["order_list_id"]}
    assert await locked(s, "BTC") - btc_locked == D("0.01")  # one lock for the pair
    opened = await call(s, "binance_get_open_order_lists", {"symbol": "btcusdt"})
    assert [x["list_client_order_id"] for x in opened["order_lists"]] == ["e2e-oco-fill"]

    await take(sim, "BTCUSDT", "BUY", ahead + D("0.01"))
    after = (await call(s, "binance_get_order_list", {"list_client_order_id": "e2e-oco-fill"}))["order_list"]
    tp, sl = after["orders"]
    assert after["list_order_status"] == "ALL_DONE"
    assert (tp["status"], D(tp["executed_qty"]), D(tp["avg_fill_price"])) == ("FILLED", D("0.01"), above)
    assert (sl["status"], sl["expiry_reason"]) == ("EXPIRED", "OCO_TRIGGER")
    proceeds = above * D("0.01")
    assert await total(s, "BTC") == btc_before - D("0.01")
    assert await total(s, "USDT") == usdt_before + proceeds - fee(proceeds)
    assert await locked(s, "BTC") == btc_locked
    trades = await call(s, "binance_get_my_trades", {"symbol": "BTCUSDT", "order_id": tp["order_id"]})
    assert [(D(t["qty"]), D(t["price"])) for t in trades["trades"]] == [(D("0.01"), above)]


async def test_oto_pending_order_is_placed_when_the_working_order_fills(s: ClientSession, sim: SimProcess) -> None:
    bid, bid_qty = (D(x) for x in (await book(sim, "ETHUSDT"))["bids"][0])
    sell_at = (await last_price(sim, "ETHUSDT") * D("1.05")).quantize(D("0.01"))
    eth_before, usdt_locked = await total(s, "ETH"), await locked(s, "USDT")
    placed = await call(
        s,
        "binance_place_oto",
        {
            "symbol": "ETHUSDT",
            "list_client_order_id": "e2e-oto",
            "working": {"type": "LIMIT", "side": "BUY", "price": str(bid), "quantity": "0.1"},
            "pending": {"type": "LIMIT_MAKER", "side": "SELL", "price": str(sell_at), "quantity": "0.1"},
        },
    )
    assert [o["status"] for o in placed["order_list"]["orders"]] == ["NEW", "PENDING_NEW"]
    assert "PENDING_NEW until the working order" in placed["note"]
    assert await locked(s, "USDT") - usdt_locked == bid * D("0.1")
    await take(sim, "ETHUSDT", "SELL", bid_qty + D("0.1"))
    after = await call(s, "binance_get_order_list", {"order_list_id": placed["order_list"]["order_list_id"]})
    working, pending = after["order_list"]["orders"]
    assert (working["status"], pending["status"], after["order_list"]["list_order_status"]) == (
        "FILLED",
        "NEW",
        "ALL_DONE",
    )
    assert await locked(s, "ETH") == D("0.1")  # the pending SELL locks what the working order bought
    assert await total(s, "ETH") == eth_before + D("0.1") - fee(D("0.1"))
    assert await locked(s, "USDT") == usdt_locked
    await call(s, "binance_cancel_order", {"symbol": "ETHUSDT", "order_id": pending["order_id"]})


async def test_otoco_is_canceled_whole_and_listed_newest_first(s: ClientSession, sim: SimProcess) -> None:
    last = await last_price(sim, "BNBUSDT")
    usdt_locked = await locked(s, "USDT")
    placed = await call(
        s,
        "binance_place_otoco",
        {
            "symbol": "BNBUSDT",
            "list_client_order_id": "e2e-otoco",
            "working": {"type": "LIMIT", "side": "BUY", "price": q(last * D("0.95")), "quantity": "1"},
            "pending_side": "SELL",
            "pending_quantity": "1",
            "pending_above": {"type": "LIMIT_MAKER", "price": q(last * D("1.05"))},
            "pending_below": {"type": "STOP_LOSS", "stop_price": q(last * D("0.9")), "trailing_delta": 150},
        },
    )
    orders = placed["order_list"]["orders"]
    assert placed["order_list"]["contingency_type"] == "OTO"
    assert [o["status"] for o in orders] == ["NEW", "PENDING_NEW", "PENDING_NEW"]
    assert orders[2]["trailing_delta"] == 150
    canceled = await call(s, "binance_cancel_order_list", {"symbol": "BNBUSDT", "list_client_order_id": "e2e-otoco"})
    assert [o["status"] for o in canceled["order_list"]["orders"]] == ["CANCELED"] * 3
    assert canceled["order_list"]["list_order_status"] == "ALL_DONE"
    assert await locked(s, "USDT") == usdt_locked
    every = await call(s, "binance_get_all_order_lists", {})
    ids = [x["order_list_id"] for x in every["order_lists"]]
    assert ids == sorted(ids, reverse=True) and placed["order_list"]["order_list_id"] == ids[0]
    text = await fails(s, "binance_cancel_order_list", {"symbol": "BNBUSDT", "list_client_order_id": "e2e-otoco"})
    assert "-2011" in text


# -- cancel-replace, cancel-all, amend --------------------------------------------------------------


async def test_cancel_replace_reports_both_halves_and_moves_the_lock(s: ClientSession, sim: SimProcess) -> None:
    bid, ask = (D(b[0][0]) for b in ((await book(sim, "ETHBTC"))["bids"], (await book(sim, "ETHBTC"))["asks"]))
    btc_locked = await locked(s, "BTC")
    old_price, new_price = (bid * D("0.9")).quantize(D("0.00001")), (bid * D("0.8")).quantize(D("0.00001"))
    await call(
        s,
        "binance_place_order",
        {
            "symbol": "ETHBTC",
            "side": "BUY",
            "type": "LIMIT",
            "quantity": "0.1",
            "price": str(old_price),
            "client_order_id": "e2e-cr-old",
        },
    )
    both = await call(
        s,
        "binance_cancel_replace_order",
        {
            "symbol": "ETHBTC",
            "cancel_client_order_id": "e2e-cr-old",
            "mode": "STOP_ON_FAILURE",
            "side": "BUY",
            "type": "LIMIT",
            "quantity": "0.2",
            "price": str(new_price),
            "client_order_id": "e2e-cr-new",
        },
    )
    assert (both["cancel_result"], both["new_order_result"], both["outcome"]) == ("SUCCESS", "SUCCESS", "PLACED")
    assert (both["canceled_order"]["status"], both["canceled_order"]["client_order_id"]) == ("CANCELED", "e2e-cr-old")
    assert (both["new_order"]["status"], both["new_order"]["client_order_id"]) == ("NEW", "e2e-cr-new")
    assert await locked(s, "BTC") - btc_locked == new_price * D("0.2")

    half = await call(
        s,
        "binance_cancel_replace_order",
        {
            "symbol": "ETHBTC",
            "cancel_client_order_id": "e2e-cr-new",
            "mode": "STOP_ON_FAILURE",
            "side": "BUY",
            "type": "LIMIT_MAKER",
            "quantity": "0.1",
            "price": str(ask),
        },
    )
    assert (half["cancel_result"], half["new_order_result"]) == ("SUCCESS", "FAILURE")
    assert "-2010" in half["new_order_error"] and "Nothing replaces the canceled order" in half["note"]
    assert await locked(s, "BTC") == btc_locked

    before = len(await sim_orders(sim, "ETHBTC"))
    text = await fails(
        s,
        "binance_cancel_replace_order",
        {
            "symbol": "ETHBTC",
            "cancel_client_order_id": "e2e-cr-new",
            "mode": "STOP_ON_FAILURE",
            "side": "BUY",
            "type": "LIMIT",
            "quantity": "0.1",
            "price": str(new_price),
        },
    )
    assert "STOP_ON_FAILURE would change nothing" in text
    allowed = await call(
        s,
        "binance_cancel_replace_order",
        {
            "symbol": "ETHBTC",
            "cancel_client_order_id": "e2e-cr-new",
            "mode": "ALLOW_FAILURE",
            "side": "BUY",
            "type": "LIMIT",
            "quantity": "0.1",
            "price": str(new_price),
        },
    )
    assert (allowed["cancel_result"], allowed["new_order_result"]) == ("FAILURE", "SUCCESS")
    assert "-2011" in allowed["cancel_error"]
    assert len(await sim_orders(sim, "ETHBTC")) == before + 1
    await call(s, "binance_cancel_order", {"symbol": "ETHBTC", "order_id": allowed["new_order"]["order_id"]})


async def test_amend_reduces_keeps_the_order_and_releases_the_lock(s: ClientSession, sim: SimProcess) -> None:
    bid = D((await book(sim, "SHIBUSDT"))["bids"][0][0])
    price = (bid * D("0.9")).quantize(EIGHT)
    usdt_locked = await locked(s, "USDT")
    placed = await call(
        s,
        "binance_place_order",
        {"symbol": "SHIBUSDT", "side": "BUY", "type": "LIMIT", "quantity": "1000000", "price": str(price)},
    )
    order_id = placed["order"]["order_id"]
    dry = await call(
        s,
        "binance_amend_order",
        {"symbol": "SHIBUSDT", "order_id": order_id, "new_quantity": "400000", "validate_only": True},
    )
    assert dry["outcome"] == "VALIDATED" and "Local dry run" in dry["note"]
    amended = await call(
        s,
        "binance_amend_order",
        {"symbol": "SHIBUSDT", "order_id": order_id, "new_quantity": "400000", "new_client_order_id": "e2e-amended"},
    )
    assert (amended["outcome"], amended["order"]["order_id"], D(amended["order"]["orig_qty"])) == (
        "AMENDED",
        order_id,
        D("400000"),
    )
    assert amended["order"]["client_order_id"] == "e2e-amended" and amended["execution_id"] > 0
    assert await locked(s, "USDT") - usdt_locked == price * D("400000")
    got = await call(s, "binance_get_order", {"symbol": "SHIBUSDT", "client_order_id": "e2e-amended"})
    assert got["order"]["order_id"] == order_id and D(got["order"]["orig_qty"]) == D("400000")
    text = await fails(s, "binance_amend_order", {"symbol": "SHIBUSDT", "order_id": order_id, "new_quantity": "500000"})
    assert "must be below" in text
    qty = 400000
    for _ in range(9):  # ten amendments in all
        qty -= 1000
        await call(s, "binance_amend_order", {"symbol": "SHIBUSDT", "order_id": order_id, "new_quantity": str(qty)})
    text = await fails(
        s, "binance_amend_order", {"symbol": "SHIBUSDT", "order_id": order_id, "new_quantity": str(qty - 1000)}
    )
    assert "MAX_NUM_ORDER_AMENDS" in text
    await call(s, "binance_cancel_order", {"symbol": "SHIBUSDT", "order_id": order_id})
    assert await locked(s, "USDT") == usdt_locked


async def test_cancel_open_orders_cancels_orders_and_lists_and_a_dry_run_only_lists_them(
    s: ClientSession, sim: SimProcess
) -> None:
    last = await last_price(sim, "DOGEBTC")
    doge_locked, btc_locked = await locked(s, "DOGE"), await locked(s, "BTC")
    await call(
        s,
        "binance_place_order",
        {
            "symbol": "DOGEBTC",
            "side": "BUY",
            "type": "LIMIT",
            "quantity": "1000",
            "price": q(last * D("0.9"), "0.00000001"),
        },
    )
    await call(
        s,
        "binance_place_oco",
        {
            "symbol": "DOGEBTC",
            "side": "SELL",
            "quantity": "1000",
            "above": {"type": "LIMIT_MAKER", "price": q(last * D("1.1"), "0.00000001")},
            "below": {"type": "STOP_LOSS", "stop_price": q(last * D("0.9"), "0.00000001")},
        },
    )
    assert await locked(s, "DOGE") - doge_locked == D("1000")
    dry = await call(s, "binance_cancel_open_orders", {"symbol": "DOGEBTC", "validate_only": True})
    assert (len(dry["canceled_orders"]), len(dry["canceled_order_lists"])) == (1, 1) and "Dry run" in dry["note"]
    assert await locked(s, "DOGE") - doge_locked == D("1000")
    done = await call(s, "binance_cancel_open_orders", {"symbol": "DOGEBTC"})
    assert [o["status"] for o in done["canceled_orders"]] == ["CANCELED"]
    assert [[o["status"] for o in x["orders"]] for x in done["canceled_order_lists"]] == [["CANCELED", "CANCELED"]]
    assert (await locked(s, "DOGE"), await locked(s, "BTC")) == (doge_locked, btc_locked)
    empty = await call(s, "binance_cancel_open_orders", {"symbol": "DOGEBTC"})
    assert "No open orders" in empty["note"]


# -- place_order: trailing stops, icebergs, strategy, self-trade prevention --------------------------


async def test_place_order_takes_trailing_stops_icebergs_strategies_and_stp(s: ClientSession, sim: SimProcess) -> None:
    trailing = await call(
        s,
        "binance_place_order",
        {
            "symbol": "BTCUSDT",
            "side": "SELL",
            "type": "STOP_LOSS",
            "quantity": "0.001",
            "trailing_delta": 200,
            "strategy_id": 42,
            "strategy_type": 1000042,
        },
    )
    order = trailing["order"]
    assert (order["trailing_delta"], order["strategy_id"], order["strategy_type"]) == (200, 42, 1000042)
    assert order["trailing_time_ms"] > 0  # no stop price: it tracks from placement
    ask = D((await book(sim, "BTCUSDT"))["asks"][0][0])
    price = (ask * D("1.013")).quantize(D("0.01"))
    shown_before = {D(p): D(qty) for p, qty in (await book(sim, "BTCUSDT"))["asks"]}.get(price, D(0))
    iceberg = await call(
        s,
        "binance_place_order",
        {
            "symbol": "BTCUSDT",
            "side": "SELL",
            "type": "LIMIT",
            "quantity": "0.01",
            "price": str(price),
            "iceberg_qty": "0.002",
            "self_trade_prevention_mode": "EXPIRE_BOTH",
        },
    )
    assert D(iceberg["order"]["iceberg_qty"]) == D("0.002")
    assert iceberg["order"]["self_trade_prevention_mode"] == "EXPIRE_BOTH"
    shown = {D(p): D(qty) for p, qty in (await book(sim, "BTCUSDT"))["asks"]}[price]
    assert shown - shown_before == D("0.002")  # only the visible part is in the book
    text = await fails(
        s,
        "binance_place_order",
        {"symbol": "BTCUSDT", "side": "SELL", "type": "STOP_LOSS", "quantity": "0.001", "trailing_delta": 5},
    )
    assert "TRAILING_DELTA" in text and "nearest valid: 10" in text
    text = await fails(
        s,
        "binance_place_order",
        {
            "symbol": "BTCUSDT",
            "side": "SELL",
            "type": "LIMIT",
            "quantity": "0.01",
            "price": str(price),
            "iceberg_qty": "0.00001",
        },
    )
    assert "ICEBERG_PARTS" in text and "nearest valid: 0.0001" in text
    text = await fails(
        s,
        "binance_place_order",
        {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.01", "peg_price_type": "PRIMARY_PEG"},
    )
    assert "pegInstructionsAllowed" in text
    for placed in (trailing, iceberg):
        await call(s, "binance_cancel_order", {"symbol": "BTCUSDT", "order_id": placed["order"]["order_id"]})


# -- the rails on lists ------------------------------------------------------------------------------


async def test_a_list_client_order_id_places_one_list_and_a_lost_answer_is_reconciled(
    s: ClientSession, sim: SimProcess, provider: ProviderProcess
) -> None:
    last = await last_price(sim, "ETHUSDT")
    args = {
        "symbol": "ETHUSDT",
        "side": "SELL",
        "quantity": "0.1",
        "list_client_order_id": "e2e-oco-once",
        "above": {"type": "LIMIT_MAKER", "price": q(last * D("1.1"))},
        "below": {"type": "STOP_LOSS", "stop_price": q(last * D("0.9"))},
    }
    await sim.fault("rest_fail", path="/api/v3/orderList/oco", method="POST", status=503, after_execute=True, times=1)
    first = await call(s, "binance_place_oco", args)
    assert first["outcome"] == "RECONCILED_EXISTS" and first["list_exists"] is True
    assert [o["status"] for o in first["order_list"]["orders"]] == ["NEW", "NEW"]
    second = await call(s, "binance_place_oco", args)
    assert second["outcome"] == "RECONCILED_EXISTS" and "not placed again" in second["note"]
    list_id = first["order_list"]["order_list_id"]
    assert len([o for o in await sim_orders(sim, "ETHUSDT") if o["orderListId"] == list_id]) == 2
    await call(s, "binance_cancel_order_list", {"symbol": "ETHUSDT", "order_list_id": list_id})
    actions = [json.loads(line)["action"] for line in provider.audit().splitlines()]
    assert {
        "order_list.send",
        "order_list.reconciled",
        "order_list.duplicate_refused",
        "cancel_order_list.done",
    } <= set(actions)


async def test_a_list_whose_request_never_executed_is_absent_and_then_placed_once(
    s: ClientSession, sim: SimProcess
) -> None:
    last = await last_price(sim, "BNBUSDT")
    args = {
        "symbol": "BNBUSDT",
        "list_client_order_id": "e2e-oto-lost",
        "working": {"type": "LIMIT", "side": "BUY", "price": q(last * D("0.9")), "quantity": "0.1"},
        "pending": {"type": "LIMIT", "side": "SELL", "price": q(last * D("1.1")), "quantity": "0.1"},
    }
    await sim.fault("rest_fail", path="/api/v3/orderList/oto", method="POST", code=-1007, times=1)
    first = await call(s, "binance_place_oto", args)
    assert first["outcome"] == "RECONCILED_ABSENT" and first["list_exists"] is False
    second = await call(s, "binance_place_oto", args)
    assert second["outcome"] == "PLACED"
    lists = (await call(s, "binance_get_all_order_lists", {}))["order_lists"]
    assert [x["list_client_order_id"] for x in lists].count("e2e-oto-lost") == 1
    await call(s, "binance_cancel_order_list", {"symbol": "BNBUSDT", "list_client_order_id": "e2e-oto-lost"})


async def test_lists_obey_allowed_types_the_cap_on_every_order_and_dry_runs_send_nothing(sim: SimProcess) -> None:
    env = sandbox_env(
        sim.info, trading=True, BINANCE_MAX_ORDER_NOTIONAL="100", BINANCE_ALLOWED_ORDER_TYPES="LIMIT,LIMIT_MAKER,MARKET"
    )
    provider = await ProviderProcess.start(env)
    try:
        async with HeldSession(provider.address) as session:
            last = await last_price(sim, "BTCUSDT")
            text = await fails(
                session,
                "binance_place_oco",
                {
                    "symbol": "BTCUSDT",
                    "side": "SELL",
                    "quantity": "0.001",
                    "above": {"type": "LIMIT_MAKER", "price": q(last * D("1.1"))},
                    "below": {"type": "STOP_LOSS", "stop_price": q(last * D("0.9"))},
                },
            )
            assert "BINANCE_ALLOWED_ORDER_TYPES" in text and "list_client_order_id=" in text
            before = len(await sim_orders(sim, "BTCUSDT"))
            oto = {
                "symbol": "BTCUSDT",
                "working": {"type": "LIMIT", "side": "BUY", "price": q(last * D("0.9")), "quantity": "0.001"},
                "pending": {"type": "LIMIT_MAKER", "side": "SELL", "price": q(last * D("1.1")), "quantity": "0.001"},
            }
            dry = await call(session, "binance_place_oto", {**oto, "validate_only": True})
            assert dry["outcome"] == "VALIDATED" and "no test endpoint for order lists" in dry["note"]
            worst = {w["role"]: D(w["notional"]) for w in dry["worst_cases"]}
            assert worst == {
                "working": D(q(last * D("0.9"))) * D("0.001"),
                "pending": D(q(last * D("1.1"))) * D("0.001"),
            }
            assert D(dry["worst_case_notional"]) == max(worst.values()) and dry["worst_case_asset"] == "USDT"
            assert len(await sim_orders(sim, "BTCUSDT")) == before
            big = {**oto, "pending": {**oto["pending"], "quantity": "0.01"}}  # the pending order alone is over 100
            text = await fails(session, "binance_place_oto", big)
            assert "above this provider's maximum of 100 USDT" in text
            assert len(await sim_orders(sim, "BTCUSDT")) == before
    finally:
        await provider.stop()


# -- key hygiene ---------------------------------------------------------------------------------------


async def test_a_key_that_can_withdraw_is_refused_unless_the_operator_overrides(sim: SimProcess) -> None:
    await sim.fault("api_restrictions", enableWithdrawals=True)
    try:
        for override, refused in (("false", True), ("true", False)):
            provider = await ProviderProcess.start(
                sandbox_env(sim.info, trading=True, BINANCE_ALLOW_RISKY_KEY=override)
            )
            try:
                async with HeldSession(provider.address) as session:
                    args = {
                        "symbol": "BTCUSDT",
                        "side": "BUY",
                        "type": "LIMIT",
                        "quantity": "0.001",
                        "price": q(await last_price(sim, "BTCUSDT") * D("0.9")),
                    }
                    if refused:
                        text = await fails(session, "binance_place_order", args)
                        assert "WITHDRAW" in text and "BINANCE_ALLOW_RISKY_KEY" in text
                        text = await fails(session, "binance_cancel_open_orders", {"symbol": "BTCUSDT"})
                        assert "WITHDRAW" in text
                        dry = await call(session, "binance_place_order", {**args, "validate_only": True})
                        assert dry["outcome"] == "VALIDATED"  # dry runs send nothing: no key check
                    else:
                        placed = await call(session, "binance_place_order", args)
                        assert placed["outcome"] == "PLACED"
                        await call(
                            session,
                            "binance_cancel_order",
                            {"symbol": "BTCUSDT", "order_id": placed["order"]["order_id"]},
                        )
                assert ("key_hygiene" in provider.logs()) is True
            finally:
                await provider.stop()
    finally:
        await sim.fault("clear")
        await sim.control("POST", "/sim/market", {"running": False})


async def test_one_list_client_order_id_sent_concurrently_places_one_list(s: ClientSession, sim: SimProcess) -> None:
    last = await last_price(sim, "ETHUSDT")
    args = {"symbol": "ETHUSDT", "side": "SELL", "quantity": "0.1", "list_client_order_id": "e2e-oco-twice",
            "above": {"type": "LIMIT_MAKER", "price": q(last * D("1.2"))},
            "below": {"type": "STOP_LOSS", "stop_price": q(last * D("0.8"))}}
    await sim.fault("rest_fail", path="/api/v3/orderList/oco", method="POST", hold_ms=1500, times=2)
    first, second = await asyncio.gather(call(s, "binance_place_oco", args), call(s, "binance_place_oco", args))
    assert sorted([first["outcome"], second["outcome"]]) == ["PLACED", "RECONCILED_EXISTS"]
    listed = [x for x in (await call(s, "binance_get_all_order_lists", {}))["order_lists"]
              if x["list_client_order_id"] == "e2e-oco-twice"]
    assert len(listed) == 1
    await call(s, "binance_cancel_order_list", {"symbol": "ETHUSDT", "list_client_order_id": "e2e-oco-twice"})
    await sim.fault("clear")


async def test_a_cancel_replace_whose_answer_is_lost_is_settled_by_looking_both_orders_up(
    s: ClientSession, sim: SimProcess
) -> None:
    bid = D((await book(sim, "ETHBTC"))["bids"][0][0])
    price = (bid * D("0.85")).quantize(D("0.00001"))
    await call(s, "binance_place_order", {"symbol": "ETHBTC", "side": "BUY", "type": "LIMIT", "quantity": "0.1",
                                          "price": str(price), "client_order_id": "e2e-lost-cr-old"})
    await sim.fault("rest_fail", path="/api/v3/order/cancelReplace", method="POST", status=503, after_execute=True,
                    times=1)
    done = await call(s, "binance_cancel_replace_order", {
        "symbol": "ETHBTC", "cancel_client_order_id": "e2e-lost-cr-old", "mode": "STOP_ON_FAILURE",
        "side": "BUY", "type": "LIMIT", "quantity": "0.1", "price": str(price - D("0.0001")),
        "client_order_id": "e2e-lost-cr-new"})
    assert (done["outcome"], done["cancel_result"], done["new_order_result"]) == ("RECONCILED_EXISTS", "SUCCESS",
                                                                                 "SUCCESS")
    assert done["new_order"]["client_order_id"] == "e2e-lost-cr-new" and "answer was lost" in done["note"]
    assert len([o for o in await sim_orders(sim, "ETHBTC") if o["clientOrderId"] == "e2e-lost-cr-new"]) == 1
    await call(s, "binance_cancel_order", {"symbol": "ETHBTC", "client_order_id": "e2e-lost-cr-new"})


async def test_amending_an_oco_leg_changes_the_pair_and_a_lost_amend_answer_is_reconciled(
    s: ClientSession, sim: SimProcess
) -> None:
    last = await last_price(sim, "BNBUSDT")
    bnb_locked = await locked(s, "BNB")
    placed = await call(s, "binance_place_oco", {
        "symbol": "BNBUSDT", "side": "SELL", "quantity": "2", "list_client_order_id": "e2e-oco-amend",
        "above": {"type": "LIMIT_MAKER", "price": q(last * D("1.2"))},
        "below": {"type": "STOP_LOSS", "stop_price": q(last * D("0.8"))}})
    above_id = placed["order_list"]["orders"][0]["order_id"]
    amended = await call(s, "binance_amend_order", {"symbol": "BNBUSDT", "order_id": above_id, "new_quantity": "1.5"})
    assert amended["outcome"] == "AMENDED" and amended["order_list"]["list_client_order_id"] == "e2e-oco-amend"
    now = (await call(s, "binance_get_order_list", {"list_client_order_id": "e2e-oco-amend"}))["order_list"]
    assert [D(o["orig_qty"]) for o in now["orders"]] == [D("1.5"), D("1.5")]
    assert await locked(s, "BNB") - bnb_locked == D("1.5")
    await sim.fault("rest_fail", path="/api/v3/order/amend/keepPriority", method="PUT", status=503,
                    after_execute=True, times=1)
    lost = await call(s, "binance_amend_order", {"symbol": "BNBUSDT", "order_id": above_id, "new_quantity": "1",
                                                 "new_client_order_id": "e2e-amend-lost"})
    assert lost["outcome"] == "RECONCILED_AMENDED" and D(lost["order"]["orig_qty"]) == D("1")
    assert lost["order"]["client_order_id"] == "e2e-amend-lost"
    assert await locked(s, "BNB") - bnb_locked == D("1")
    await call(s, "binance_cancel_order_list", {"symbol": "BNBUSDT", "list_client_order_id": "e2e-oco-amend"})
    assert await locked(s, "BNB") == bnb_locked
