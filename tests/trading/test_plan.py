"""The order plan core: worst cases that bound what an order can move, and the cap in one asset."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provider.errors import InvalidArgument, TradingDisabled
from provider.trading import plan


def intent(**kw: str) -> plan.OrderIntent:
    base = {"symbol": "BTCUSDT", "side": "BUY", "order_type": "LIMIT", "client_order_id": "t-1"}
    return plan.OrderIntent(**{**base, **kw})


def test_a_sell_priced_below_the_market_is_valued_at_the_bids_it_will_fill_against() -> None:
    sell = intent(side="SELL", quantity="0.00781", price="12800.94")
    worst = plan.worst_case_notional(sell, plan.MarketView(best_bid=D("64000.00")))
    assert worst == D("0.00781") * D("64000.00")
    assert worst > D("0.00781") * D("12800.94")


def test_a_buy_never_pays_more_than_its_limit() -> None:
    buy = intent(quantity="0.5", price="100.5")
    assert plan.worst_case_notional(buy, plan.MarketView(best_bid=D("1000"))) == D("50.25")


def test_stop_market_orders_are_valued_at_their_stop_price() -> None:
    stop = intent(order_type="STOP_LOSS", quantity="0.01", stop_price="128000")
    assert plan.worst_case_notional(stop, plan.MarketView()) == D("1280")


def test_a_stop_limit_sell_counts_the_higher_of_price_stop_and_bid() -> None:
    sell = intent(side="SELL", order_type="STOP_LOSS_LIMIT", quantity="1", price="90", stop_price="95")
    assert plan.worst_case_notional(sell, plan.MarketView(best_bid=D("80"))) == D("95")


def test_market_buy_walks_the_asks_and_refuses_when_they_are_too_thin() -> None:
    asks = [(D("10"), D("1")), (D("11"), D("2"))]
    assert plan.worst_case_notional(intent(order_type="MARKET", quantity="2"), plan.MarketView(asks=asks)) == D("21")
    with pytest.raises(TradingDisabled, match="no bound"):
        plan.worst_case_notional(intent(order_type="MARKET", quantity="4"), plan.MarketView(asks=asks))


def test_quote_amount_orders_are_worth_their_quote_amount() -> None:
    order = intent(order_type="MARKET", side="SELL", quote_order_qty="100")
    assert plan.needs(order) == plan.Needs()
    assert plan.worst_case_notional(order, plan.MarketView()) == D("100")


def test_a_sell_without_any_bid_is_refused_rather_than_guessed() -> None:
    with pytest.raises(TradingDisabled, match="no bid"):
        plan.worst_case_notional(intent(side="SELL", quantity="1", price="1"), plan.MarketView())


def test_the_cap_asset_conversion_rounds_against_the_order() -> None:
    book = {"BTCUSDT": (D("60000"), D("60010"))}
    value, rate = plan.to_cap_asset(D("0.5"), "BTC", "USDT", book)
    assert value == D("30005") and "ask" in rate.source
    value, rate = plan.to_cap_asset(D("100"), "TRY", "USDT", {"USDTTRY": (D("40"), D("41"))})
    assert value == D("100") / D("40") and "bid" in rate.source
    with pytest.raises(TradingDisabled, match="no live price"):
        plan.to_cap_asset(D("1"), "DOGE", "USDT", {})


def test_ten_eth_on_ethbtc_is_over_a_cap_of_100_usdt() -> None:
    buy = intent(symbol="ETHBTC", order_type="MARKET", quantity="10")
    notional = plan.worst_case_notional(buy, plan.MarketView(asks=[(D("0.05"), D("100"))]))
    value, _ = plan.to_cap_asset(notional, "BTC", "USDT", {"BTCUSDT": (D("64000"), D("64001"))})
    with pytest.raises(TradingDisabled, match="above this provider's maximum of 100 USDT") as info:
        plan.check_cap(value, D("100"), "USDT", "worst case")
    assert "BINANCE_MAX_ORDER_NOTIONAL" in info.value.hint


def test_params_keep_the_callers_exact_decimal_text() -> None:
    order = intent(quantity="0.0010004", price="64000.10", time_in_force="IOC", response_type="FULL")
    assert order.params() == {
        "symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "IOC", "quantity": "0.0010004",
        "price": "64000.10", "newClientOrderId": "t-1", "newOrderRespType": "FULL",
    }


def test_shape_rules_name_what_is_missing_or_not_allowed() -> None:
    with pytest.raises(InvalidArgument, match="missing price"):
        plan.check_shape(intent(quantity="1"))
    with pytest.raises(InvalidArgument, match="do not take stop_price"):
        plan.check_shape(intent(quantity="1", price="1", stop_price="1"))
    with pytest.raises(InvalidArgument, match="exactly one"):
        plan.check_shape(intent(order_type="MARKET"))


def test_allowed_symbols_and_types_refuse_with_the_variable_to_change() -> None:
    with pytest.raises(TradingDisabled) as info:
        plan.check_allowed("BNBUSDT", None, frozenset({"BTCUSDT"}), frozenset())
    assert "BINANCE_ALLOWED_SYMBOLS" in info.value.hint
    with pytest.raises(TradingDisabled) as info:
        plan.check_allowed("BTCUSDT", "STOP_LOSS", frozenset(), frozenset({"LIMIT"}))
    assert "BINANCE_ALLOWED_ORDER_TYPES" in info.value.hint
    plan.check_allowed("BTCUSDT", None, frozenset({"BTCUSDT"}), frozenset({"LIMIT"}))


prices = st.decimals(min_value=D("0.01"), max_value=D("100000"), places=2)
qtys = st.decimals(min_value=D("0.001"), max_value=D("100"), places=3)


@given(qty=qtys, price=prices, bid=prices, side=st.sampled_from(["BUY", "SELL"]))
def test_a_limit_orders_worst_case_bounds_every_fill_at_or_better_than_its_limit(
    qty: D, price: D, bid: D, side: str
) -> None:
    order = intent(side=side, quantity=str(qty), price=str(price))
    worst = plan.worst_case_notional(order, plan.MarketView(best_bid=bid))
    # a buy fills at <= price; a sell fills at >= price, and at most at the best bid when it crosses
    fill = price if side == "BUY" else max(price, bid)
    assert worst >= qty * fill
