"""The pure cores of the order toolkit beyond single orders: trailing stops, icebergs and pegs in the
plan, order-list intents (shape, parameters, pair prices), the list/amend/trailing/iceberg filter
rules with their proposed fixes, and the key-hygiene verdict."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provider.binance.rules import SymbolRules
from provider.errors import InvalidArgument, TradingDisabled
from provider.trading import keys, lists, plan


def intent(**kw: Any) -> plan.OrderIntent:
    base = {"symbol": "BTCUSDT", "side": "BUY", "order_type": "LIMIT", "client_order_id": "t-1"}
    return plan.OrderIntent(**{**base, **kw})


# -- the plan: trailing stops, icebergs, pegs --------------------------------------------------------


def test_a_stop_needs_a_stop_price_or_a_trailing_delta() -> None:
    with pytest.raises(InvalidArgument, match="stop_price or trailing_delta"):
        plan.check_shape(intent(order_type="STOP_LOSS", quantity="1"))
    plan.check_shape(intent(order_type="STOP_LOSS", quantity="1", trailing_delta=100))
    with pytest.raises(InvalidArgument, match="do not take trailing_delta"):
        plan.check_shape(intent(quantity="1", price="1", trailing_delta=100))


def test_an_iceberg_is_gtc_and_below_its_quantity() -> None:
    plan.check_shape(intent(quantity="1", price="1", iceberg_qty="0.1"))
    with pytest.raises(InvalidArgument, match="GTC"):
        plan.check_shape(intent(quantity="1", price="1", iceberg_qty="0.1", time_in_force="IOC"))
    with pytest.raises(InvalidArgument, match="below the quantity"):
        plan.check_shape(intent(quantity="1", price="1", iceberg_qty="1"))
    with pytest.raises(InvalidArgument, match="do not take iceberg_qty"):
        plan.check_shape(intent(order_type="MARKET", quantity="1", iceberg_qty="0.1"))


def test_params_carry_the_new_fields_exactly_as_given() -> None:
    order = intent(
        order_type="STOP_LOSS_LIMIT",
        side="SELL",
        quantity="0.0100",
        price="90.10",
        stop_price="95",
        trailing_delta=250,
        iceberg_qty="0.0020",
        stp_mode="EXPIRE_BOTH",
        strategy_id=7,
        strategy_type=1_000_001,
    )
    assert order.params() == {
        "symbol": "BTCUSDT",
        "side": "SELL",
        "type": "STOP_LOSS_LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.0100",
        "price": "90.10",
        "stopPrice": "95",
        "trailingDelta": "250",
        "icebergQty": "0.0020",
        "strategyId": "7",
        "strategyType": "1000001",
        "newClientOrderId": "t-1",
        "selfTradePreventionMode": "EXPIRE_BOTH",
    }
    pegged = intent(quantity="1", peg_price_type="PRIMARY_PEG", peg_offset_value=2)
    plan.check_shape(pegged)  # the price comes from the book
    assert pegged.params()["pegOffsetType"] == "PRICE_LEVEL"


def test_a_trailing_buy_is_worth_where_it_starts_tracking_plus_its_delta() -> None:
    with_stop = intent(order_type="STOP_LOSS", quantity="2", stop_price="100", trailing_delta=500)
    assert plan.needs(with_stop) == plan.Needs()
    assert plan.worst_case_notional(with_stop, plan.MarketView()) == D("210")
    from_ask = intent(order_type="TAKE_PROFIT", quantity="2", trailing_delta=100)
    assert plan.needs(from_ask) == plan.Needs(asks=True)
    view = plan.MarketView(asks=[(D("50"), D("1"))])
    assert plan.worst_case_notional(from_ask, view) == D("101")
    with pytest.raises(TradingDisabled, match="no ask"):
        plan.worst_case_notional(from_ask, plan.MarketView())


def test_a_trailing_sell_is_worth_the_higher_of_its_stop_and_the_bid() -> None:
    sell = intent(order_type="STOP_LOSS", side="SELL", quantity="2", stop_price="90", trailing_delta=100)
    assert plan.needs(sell) == plan.Needs(best_bid=True)
    assert plan.worst_case_notional(sell, plan.MarketView(best_bid=D("100"))) == D("200")
    assert plan.worst_case_notional(sell, plan.MarketView(best_bid=D("80"))) == D("180")


def test_a_pegged_order_has_no_bound_under_a_cap() -> None:
    with pytest.raises(TradingDisabled, match="pegged"):
        plan.worst_case_notional(intent(quantity="1", peg_price_type="MARKET_PEG"), plan.MarketView())


# -- order lists ------------------------------------------------------------------------------------


def oco(
    side: str = "SELL", above: dict[str, Any] | None = None, below: dict[str, Any] | None = None, **kw: Any
) -> lists.ListIntent:
    a = intent(
        **{
            "side": side,
            "quantity": "0.5",
            "order_type": "LIMIT_MAKER",
            "price": "110",
            "client_order_id": "a",
            **(above or {}),
        }
    )
    b = intent(
        **{
            "side": side,
            "quantity": "0.5",
            "order_type": "STOP_LOSS_LIMIT",
            "price": "89",
            "stop_price": "90",
            "client_order_id": "b",
            **(below or {}),
        }
    )
    return lists.ListIntent("OCO", "BTCUSDT", kw.get("list_id", "L"), (("above", a), ("below", b)), "NONE")


def test_an_oco_renders_binances_prefixed_parameters() -> None:
    params = oco(below={"trailing_delta": 300, "iceberg_qty": "0.1"}).params()
    assert params == {
        "symbol": "BTCUSDT",
        "listClientOrderId": "L",
        "newOrderRespType": "FULL",
        "selfTradePreventionMode": "NONE",
        "side": "SELL",
        "quantity": "0.5",
        "aboveType": "LIMIT_MAKER",
        "abovePrice": "110",
        "aboveClientOrderId": "a",
        "belowType": "STOP_LOSS_LIMIT",
        "belowTimeInForce": "GTC",
        "belowPrice": "89",
        "belowStopPrice": "90",
        "belowTrailingDelta": "300",
        "belowIcebergQty": "0.1",
        "belowClientOrderId": "b",
    }
    lists.check_list_shape(oco())


@pytest.mark.parametrize(
    ("side", "above", "below", "match"),
    [
        ("SELL", {"order_type": "STOP_LOSS", "price": None, "stop_price": "110"}, {}, "one profit order"),
        ("BUY", {}, {}, "BUY OCO has its stop above"),
        ("SELL", {"order_type": "LIMIT", "time_in_force": "GTC"}, {}, "LIMIT_MAKER, TAKE_PROFIT"),
    ],
)
def test_oco_types_and_positions_are_checked_before_sending(
    side: str, above: dict[str, Any], below: dict[str, Any], match: str
) -> None:
    with pytest.raises(InvalidArgument, match=match):
        lists.check_list_shape(oco(side, above, below))


def test_oco_prices_must_straddle_the_last_price() -> None:
    a, b = oco().pair or (None, None)
    assert a is not None and b is not None
    lists.check_pair_prices(a, b, D("100"))
    with pytest.raises(InvalidArgument, match="must be above the last price 120"):
        lists.check_pair_prices(a, b, D("120"))
    with pytest.raises(InvalidArgument, match="stop price 90 must be below"):
        lists.check_pair_prices(a, b, D("85"))


def test_oto_working_order_is_limit_or_limit_maker_and_ids_are_distinct() -> None:
    working = intent(quantity="1", price="100", client_order_id="w", time_in_force="GTC")
    pending = intent(side="SELL", order_type="MARKET", quantity="1", client_order_id="p")
    oto = lists.ListIntent("OTO", "BTCUSDT", "L", (("working", working), ("pending", pending)))
    lists.check_list_shape(oto)
    params = oto.params()
    assert (
        params["workingType"],
        params["workingSide"],
        params["workingQuantity"],
        params["pendingType"],
        params["pendingSide"],
        params["pendingQuantity"],
    ) == ("LIMIT", "BUY", "1", "MARKET", "SELL", "1")
    bad = lists.ListIntent("OTO", "BTCUSDT", "L", (("working", pending), ("pending", working)))
    with pytest.raises(InvalidArgument, match="LIMIT or LIMIT_MAKER"):
        lists.check_list_shape(bad)
    same = lists.ListIntent("OTO", "BTCUSDT", "w", (("working", working), ("pending", pending)))
    with pytest.raises(InvalidArgument, match="must all differ"):
        lists.check_list_shape(same)


def test_otoco_pending_pair_takes_the_pending_side_and_quantity() -> None:
    working = intent(quantity="1", price="100", client_order_id="w")
    up = intent(side="SELL", order_type="LIMIT_MAKER", quantity="1", price="120", client_order_id="u")
    down = intent(side="SELL", order_type="STOP_LOSS", quantity="1", stop_price="90", client_order_id="d")
    otoco = lists.ListIntent(
        "OTOCO", "BTCUSDT", "L", (("working", working), ("pending_above", up), ("pending_below", down))
    )
    lists.check_list_shape(otoco)
    params = otoco.params()
    assert (
        params["pendingSide"],
        params["pendingQuantity"],
        params["pendingAboveType"],
        params["pendingAbovePrice"],
        params["pendingBelowStopPrice"],
    ) == ("SELL", "1", "LIMIT_MAKER", "120", "90")
    assert "pendingAboveQuantity" not in params and "pendingAboveSide" not in params


# -- filter rules ------------------------------------------------------------------------------------


def symbol(**overrides: Any) -> SymbolRules:
    entry: dict[str, Any] = {
        "symbol": "BTCUSDT",
        "status": "TRADING",
        "baseAsset": "BTC",
        "quoteAsset": "USDT",
        "orderTypes": [
            "LIMIT",
            "LIMIT_MAKER",
            "MARKET",
            "STOP_LOSS",
            "STOP_LOSS_LIMIT",
            "TAKE_PROFIT",
            "TAKE_PROFIT_LIMIT",
        ],
        "icebergAllowed": True,
        "ocoAllowed": True,
        "otoAllowed": True,
        "allowTrailingStop": True,
        "amendAllowed": True,
        "cancelReplaceAllowed": True,
        "allowedSelfTradePreventionModes": ["NONE", "EXPIRE_MAKER"],
        "filters": [
            {"filterType": "LOT_SIZE", "minQty": "0.001", "maxQty": "100", "stepSize": "0.001"},
            {"filterType": "ICEBERG_PARTS", "limit": 10},
            {
                "filterType": "TRAILING_DELTA",
                "minTrailingAboveDelta": 10,
                "maxTrailingAboveDelta": 2000,
                "minTrailingBelowDelta": 20,
                "maxTrailingBelowDelta": 1000,
            },
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 5},
            {"filterType": "MAX_NUM_ORDER_LISTS", "maxNumOrderLists": 2},
            {"filterType": "MAX_NUM_ICEBERG_ORDERS", "maxNumIcebergOrders": 1},
            {"filterType": "MAX_NUM_ORDER_AMENDS", "maxNumOrderAmends": 3},
        ],
    }
    entry.update(overrides)
    return SymbolRules.from_exchange_info(entry)


def test_trailing_delta_uses_the_above_or_below_bounds_and_proposes_the_nearest() -> None:
    rules = symbol()
    above = rules.validate_order(side="BUY", order_type="STOP_LOSS", quantity=D("1"), trailing_delta=15)
    assert above == []  # BUY stop-loss: the Above bounds 10..2000
    below = rules.validate_order(side="SELL", order_type="STOP_LOSS", quantity=D("1"), trailing_delta=15)
    assert [(v.filter, v.suggestions) for v in below] == [("TRAILING_DELTA", (D(20),))]
    high = rules.validate_order(side="SELL", order_type="STOP_LOSS", quantity=D("1"), trailing_delta=5000)
    assert high[0].suggestions == (D(1000),)
    off = symbol(allowTrailingStop=False).validate_order(
        side="SELL", order_type="STOP_LOSS", quantity=D("1"), trailing_delta=100
    )
    assert [v.filter for v in off] == ["TRAILING_STOP"]


@settings(max_examples=200, deadline=None)
@given(qty_steps=st.integers(min_value=11, max_value=100_000), ice_steps=st.integers(min_value=1, max_value=100_000))
def test_the_proposed_iceberg_quantity_passes_iceberg_parts(qty_steps: int, ice_steps: int) -> None:
    rules = symbol()
    qty, ice = D(qty_steps) * D("0.001"), D(ice_steps) * D("0.001")
    found = [
        v
        for v in rules.validate_order(side="BUY", order_type="LIMIT", quantity=qty, price=D("1"), iceberg_qty=ice)
        if v.filter == "ICEBERG_PARTS"
    ]
    for v in found:
        (fix,) = v.suggestions
        again = rules.validate_order(side="BUY", order_type="LIMIT", quantity=qty, price=D("1"), iceberg_qty=fix)
        assert "ICEBERG_PARTS" not in [x.filter for x in again]


def test_list_and_iceberg_counts_and_stp_modes() -> None:
    rules = symbol()
    assert rules.validate_list("OCO", 1) == []
    assert [v.filter for v in rules.validate_list("OTO", 2)] == ["MAX_NUM_ORDER_LISTS"]
    assert [v.filter for v in symbol(ocoAllowed=False).validate_list("OCO", 0)] == ["ORDER_LISTS"]
    icebergs = rules.validate_order(
        side="BUY",
        order_type="LIMIT",
        quantity=D("1"),
        price=D("1"),
        iceberg_qty=D("0.5"),
        open_orders=0,
        open_iceberg_orders=1,
    )
    assert [v.filter for v in icebergs] == ["MAX_NUM_ICEBERG_ORDERS"]
    stp = rules.validate_order(side="BUY", order_type="LIMIT", quantity=D("1"), price=D("1"), stp_mode="EXPIRE_BOTH")
    assert [v.filter for v in stp] == ["SELF_TRADE_PREVENTION"]


def test_an_amendment_reduces_on_the_step_and_is_capped() -> None:
    rules = symbol()
    assert rules.validate_amend(D("0.5"), D("1"), 0) == []
    grow = rules.validate_amend(D("2"), D("1"), 0)
    assert grow[0].filter == "AMEND" and grow[0].suggestions == (D("0.999"),)
    assert [v.filter for v in rules.validate_amend(D("0.0005"), D("1"), 0)] == ["LOT_SIZE"]
    assert [v.filter for v in rules.validate_amend(D("0.5"), D("1"), 3)] == ["MAX_NUM_ORDER_AMENDS"]


# -- key hygiene ------------------------------------------------------------------------------------

CLEAN = {"enableSpotAndMarginTrading": True, "enableWithdrawals": False, "ipRestrict": True, "enableReading": True}


@pytest.mark.parametrize(
    ("changes", "mainnet", "override", "allowed", "problems"),
    [
        ({}, True, False, True, 0),
        ({"enableWithdrawals": True}, False, False, False, 1),
        ({"enableWithdrawals": True}, False, True, True, 1),
        ({"ipRestrict": False}, True, False, False, 1),
        ({"ipRestrict": False}, False, False, True, 0),
        ({"ipRestrict": False, "enableWithdrawals": True}, True, True, True, 2),
        ({"enableSpotAndMarginTrading": False}, False, True, False, 1),
    ],
)
def test_key_verdicts(changes: dict[str, bool], mainnet: bool, override: bool, allowed: bool, problems: int) -> None:
    verdict = keys.judge({**CLEAN, **changes}, mainnet=mainnet, override=override)
    assert (verdict.allowed, len(verdict.problems)) == (allowed, problems)
    assert verdict.overridden == (override and problems > 0 and allowed)


def test_unreadable_permissions_refuse_on_mainnet_only() -> None:
    assert keys.judge(None, mainnet=False, override=False, error="HTTP 404").allowed
    refused = keys.judge(None, mainnet=True, override=False, error="HTTP 404")
    assert not refused.allowed and "could not be read" in refused.message()
    assert keys.judge(None, mainnet=True, override=True, error="HTTP 404").allowed
