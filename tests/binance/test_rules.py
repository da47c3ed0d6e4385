"""SymbolRules: exchangeInfo parsing, exact Decimal validation, nearest-valid proposals."""

import json
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from provider.binance.rules import (
    ExchangeRules,
    SymbolRules,
    ceil_to_step,
    floor_to_step,
    is_multiple,
)
from provider.errors import UnknownSymbol

EXAMPLES = Path("/work/shared/reference/binance-examples")


def symbol_entry(**overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "symbol": "BTCUSDT", "status": "TRADING", "baseAsset": "BTC", "baseAssetPrecision": 8,
        "quoteAsset": "USDT", "quotePrecision": 8, "quoteAssetPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
        "icebergAllowed": True, "quoteOrderQtyMarketAllowed": True, "isSpotTradingAllowed": True,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": "0.01000000",
             "maxPrice": "1000000.00000000", "tickSize": "0.01000000"},
            {"filterType": "LOT_SIZE", "minQty": "0.00001000", "maxQty": "9000.00000000",
             "stepSize": "0.00001000"},
            {"filterType": "MARKET_LOT_SIZE", "minQty": "0.00000000", "maxQty": "100.00000000",
             "stepSize": "0.00000000"},
            {"filterType": "ICEBERG_PARTS", "limit": 10},
            {"filterType": "NOTIONAL", "minNotional": "5.00000000", "applyMinToMarket": True,
             "maxNotional": "9000000.00000000", "applyMaxToMarket": False, "avgPriceMins": 5},
            {"filterType": "PERCENT_PRICE_BY_SIDE", "bidMultiplierUp": "5",
             "bidMultiplierDown": "0.2", "askMultiplierUp": "5", "askMultiplierDown": "0.2",
             "avgPriceMins": 5},
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5},
        ],
    }
    entry.update(overrides)
    return entry


RULES = SymbolRules.from_exchange_info(symbol_entry())


def limit(**kw: Any) -> list[str]:
    args: dict[str, Any] = {"side": "BUY", "order_type": "LIMIT", "quantity": D("0.001"),
                            "price": D("50000")}
    args.update(kw)
    return [v.filter for v in RULES.validate_order(**args)]


def test_parses_the_documented_example() -> None:
    info = json.loads((EXAMPLES / "rest_exchangeInfo.json").read_text())
    rules = ExchangeRules.from_exchange_info(info)
    bnb = rules.get("bnbbtc")
    assert bnb.base_asset == "BNB" and bnb.quote_asset == "BTC"
    assert bnb.price_filter is not None and bnb.price_filter.tick_size == D("0.000001")
    assert bnb.lot_size is not None and bnb.lot_size.step_size == D("0.001")
    assert rules.request_weight_limit() == (6000, 60)


def test_a_valid_limit_order_passes() -> None:
    assert limit() == []


def test_price_off_tick_explains_and_proposes_both_neighbours() -> None:
    [v] = RULES.validate_order(side="BUY", order_type="LIMIT", quantity=D("1"),
                               price=D("123.456"))
    assert v.filter == "PRICE_FILTER"
    assert v.message == ("price 123.456 is not a multiple of tickSize 0.01; "
                         "nearest valid: 123.45 or 123.46")
    assert v.suggestions == (D("123.45"), D("123.46"))


def test_quantity_off_step_and_below_min() -> None:
    [v] = RULES.validate_order(side="SELL", order_type="LIMIT", quantity=D("0.0010001"),
                               price=D("50000"))
    assert v.filter == "LOT_SIZE" and v.suggestions == (D("0.001"), D("0.00101"))
    [v] = RULES.validate_order(side="SELL", order_type="LIMIT", quantity=D("0.000009"),
                               price=D("999999"))
    assert v.filter == "LOT_SIZE" and v.suggestions == (D("0.00001"),)
    assert v.message == "quantity 0.000009 is below minQty 0.00001; nearest valid: 0.00001"


def test_min_notional_proposes_the_smallest_sufficient_quantity() -> None:
    [v] = RULES.validate_order(side="BUY", order_type="LIMIT", quantity=D("0.0001"),
                               price=D("30000"))
    assert v.filter == "NOTIONAL"
    assert v.suggestions == (D("0.00017"),)  # 5 / 30000 = 0.0001666.. rounded up to step
    assert v.suggestions[0] * D("30000") >= D("5")


def test_market_notional_uses_the_average_price_when_applied_to_market() -> None:
    assert "NOTIONAL" in [v.filter for v in RULES.validate_order(
        side="BUY", order_type="MARKET", quantity=D("0.0001"), ref_price=D("30000"))]
    assert RULES.validate_order(side="BUY", order_type="MARKET",
                                quantity=D("0.0001"), ref_price=None) == []
    assert "NOTIONAL" in [v.filter for v in RULES.validate_order(
        side="BUY", order_type="MARKET", quote_order_qty=D("1"))]


def test_market_lot_size_max_applies_to_market_orders_only() -> None:
    assert "MARKET_LOT_SIZE" in [v.filter for v in RULES.validate_order(
        side="SELL", order_type="MARKET", quantity=D("101"))]
    assert "MARKET_LOT_SIZE" not in limit(quantity=D("101"), price=D("100"))


def test_percent_price_by_side_bounds_against_the_average_price() -> None:
    [v] = RULES.validate_order(side="BUY", order_type="LIMIT", quantity=D("1"),
                               price=D("100"), ref_price=D("1000.003"))
    assert v.filter == "PERCENT_PRICE_BY_SIDE"
    assert v.suggestions == (D("200.01"),)  # 1000.003 * 0.2 = 200.0006, up to tick
    [v] = RULES.validate_order(side="SELL", order_type="LIMIT", quantity=D("1"),
                               price=D("6000"), ref_price=D("1000"))
    assert v.suggestions == (D("5000"),)


def test_max_num_orders_counts_the_new_order() -> None:
    assert "MAX_NUM_ORDERS" in limit(open_orders=200)
    assert "MAX_NUM_ORDERS" not in limit(open_orders=199)
    assert "MAX_NUM_ALGO_ORDERS" in [v.filter for v in RULES.validate_order(
        side="SELL", order_type="STOP_LOSS_LIMIT", quantity=D("1"), price=D("100"),
        stop_price=D("101"), open_algo_orders=5, open_orders=0)]


def test_status_order_type_and_missing_parameters() -> None:
    halted = SymbolRules.from_exchange_info(symbol_entry(status="HALT"))
    assert "SYMBOL_STATUS" in [v.filter for v in halted.validate_order(
        side="BUY", order_type="LIMIT", quantity=D("1"), price=D("100"))]
    assert "ORDER_TYPES" in limit(order_type="STOP_LOSS")
    assert "PARAMETERS" in limit(price=None)
    assert "PARAMETERS" in [v.filter for v in RULES.validate_order(
        side="BUY", order_type="MARKET", quantity=D("1"), quote_order_qty=D("10"))]
    assert "SIDE" in limit(side="buy")


def test_iceberg_parts_limit() -> None:
    assert "ICEBERG_PARTS" in limit(quantity=D("1"), iceberg_qty=D("0.05"), price=D("100"))
    assert "ICEBERG_PARTS" not in limit(quantity=D("1"), iceberg_qty=D("0.1"), price=D("100"))


def test_legacy_min_notional_and_percent_price_filters() -> None:
    rules = SymbolRules.from_exchange_info(symbol_entry(filters=[
        {"filterType": "MIN_NOTIONAL", "minNotional": "10", "applyToMarket": False,
         "avgPriceMins": 5},
        {"filterType": "PERCENT_PRICE", "multiplierUp": "1.3", "multiplierDown": "0.7",
         "avgPriceMins": 5}]))
    out = rules.validate_order(side="BUY", order_type="LIMIT", quantity=D("1"), price=D("5"),
                               ref_price=D("10"))
    assert [v.filter for v in out] == ["MIN_NOTIONAL", "PERCENT_PRICE"]
    assert rules.validate_order(side="BUY", order_type="MARKET", quantity=D("1"),
                                ref_price=D("5")) == []


def test_lookup_is_case_insensitive_and_suggests_near_misses() -> None:
    rules = ExchangeRules({"BTCUSDT": RULES,
                           "ETHUSDT": SymbolRules.from_exchange_info(symbol_entry(
                               symbol="ETHUSDT", baseAsset="ETH"))}, environment="sandbox")
    assert rules.get(" btcusdt ").symbol == "BTCUSDT"
    with pytest.raises(UnknownSymbol) as err:
        rules.get("BTCUSTD")
    assert err.value.suggestions[0] == "BTCUSDT"
    assert "did you mean BTCUSDT" in err.value.message
    with pytest.raises(UnknownSymbol) as err:
        rules.get("btc-usdt")
    assert "BTCUSDT" in err.value.suggestions
    with pytest.raises(UnknownSymbol) as err:
        rules.get("ZZZZ")
    assert err.value.suggestions == ()


def test_malformed_entry_raises_value_error() -> None:
    with pytest.raises(ValueError):
        SymbolRules.from_exchange_info({"symbol": "X"})


# -- properties ------------------------------------------------------------------------------

steps = st.sampled_from([D("1"), D("0.1"), D("0.01"), D("0.00001"), D("0.00000001"), D("0.5"),
                         D("0.25"), D("5"), D("10")])
values = st.decimals(min_value=D("0.00000001"), max_value=D("10000000"), places=10,
                     allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(value=values, step=steps)
def test_rounding_gives_the_nearest_multiples_on_each_side(value: D, step: D) -> None:
    lo, hi = floor_to_step(value, step), ceil_to_step(value, step)
    assert is_multiple(lo, step) and is_multiple(hi, step)
    assert lo <= value <= hi and hi - lo in (D(0), step)


def rules_with(tick: D, step: D, min_notional: D) -> SymbolRules:
    return SymbolRules.from_exchange_info(symbol_entry(filters=[
        {"filterType": "PRICE_FILTER", "minPrice": str(tick), "maxPrice": "10000000",
         "tickSize": str(tick)},
        {"filterType": "LOT_SIZE", "minQty": str(step), "maxQty": "100000",
         "stepSize": str(step)},
        {"filterType": "NOTIONAL", "minNotional": str(min_notional), "applyMinToMarket": True,
         "maxNotional": "0", "applyMaxToMarket": False, "avgPriceMins": 5},
    ]))


@settings(max_examples=300, deadline=None)
@given(tick=steps, step=steps, price=values, qty=values,
       min_notional=st.sampled_from([D("0"), D("1"), D("10"), D("5.5")]))
def test_every_proposed_fix_passes_the_filter_that_proposed_it(
        tick: D, step: D, price: D, qty: D, min_notional: D) -> None:
    assume(price <= D("10000000") and qty <= D("100000"))
    rules = rules_with(tick, step, min_notional)
    for v in rules.validate_order(side="BUY", order_type="LIMIT", quantity=qty, price=price):
        for fix in v.suggestions:
            if v.field == "price":
                again = rules.validate_order(side="BUY", order_type="LIMIT", quantity=qty,
                                             price=fix)
                assert "PRICE_FILTER" not in [x.filter for x in again if x.field == "price"]
            elif v.field == "quantity":
                again = rules.validate_order(side="BUY", order_type="LIMIT", quantity=fix,
                                             price=price)
                assert "LOT_SIZE" not in [x.filter for x in again]
            elif v.field == "notional":
                valid_price = rules.round_price(price) or tick
                assert fix * price >= min_notional
                assert is_multiple(fix, step)
                assert valid_price > 0


@settings(max_examples=300, deadline=None)
@given(tick=steps, step=steps, price=values, qty=values)
def test_rounded_orders_pass_tick_and_step(tick: D, step: D, price: D, qty: D) -> None:
    rules = rules_with(tick, step, D("0"))
    p, q = rules.round_price(price, up=True), rules.round_quantity(qty, up=True)
    assume(p <= D("10000000") and q <= D("100000"))
    assert rules.validate_order(side="SELL", order_type="LIMIT", quantity=q, price=p) == []
