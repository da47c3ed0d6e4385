"""The confirmation policy, the summary the person sees, and what their answer means (pure)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from provider.settings import SettingsError, from_mapping
from provider.trading.confirm import (
    ConfirmMode,
    ConfirmPolicy,
    Decision,
    LegView,
    OrderSummary,
    decide,
    elicitation_params,
    params_digest,
    parse_policy,
)


def test_the_default_asks_on_mainnet_only() -> None:
    assert parse_policy(None, mainnet=True).mode is ConfirmMode.ALWAYS
    assert parse_policy("", mainnet=False).mode is ConfirmMode.NEVER
    assert parse_policy(" Always ", mainnet=False).mode is ConfirmMode.ALWAYS
    assert parse_policy("never", mainnet=True).mode is ConfirmMode.NEVER


def test_above_takes_a_notional_in_the_cap_asset() -> None:
    policy = parse_policy("above:250.5", mainnet=False)
    assert policy.mode is ConfirmMode.ABOVE and policy.threshold == Decimal("250.5")
    assert not policy.needs([Decimal("250.5"), Decimal("10")])
    assert policy.needs([Decimal("10"), Decimal("250.50000001")])
    assert policy.needs([None]), "an order that cannot be bounded is asked"


@pytest.mark.parametrize("raw", ["sometimes", "above:", "above:-1", "above:abc", "above:NaN", "above:inf", "true"])
def test_an_invalid_policy_is_refused_at_start_naming_the_variable(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_policy(raw, mainnet=False)
    with pytest.raises(SettingsError, match="BINANCE_CONFIRM_ORDERS"):
        from_mapping({"BINANCE_CONFIRM_ORDERS": raw})


def test_settings_carry_the_policy() -> None:
    assert from_mapping({"BINANCE_CONFIRM_ORDERS": "above:100"}).trading.confirm == ConfirmPolicy(
        ConfirmMode.ABOVE, Decimal("100")
    )
    assert from_mapping({}).trading.confirm.mode is ConfirmMode.NEVER  # testnet by default


@pytest.mark.parametrize(
    ("answer", "decision"),
    [
        ({"action": "accept", "content": {"approve": True}}, Decision.APPROVED),
        ({"action": "accept", "content": {"approve": False}}, Decision.DECLINED),
        ({"action": "accept", "content": {"approve": "true"}}, Decision.DECLINED),
        ({"action": "accept"}, Decision.DECLINED),
        ({"action": "decline"}, Decision.DECLINED),
        ({"action": "cancel"}, Decision.CANCELLED),
        ({}, Decision.DECLINED),
    ],
)
def test_only_an_explicit_approve_true_approves(answer: dict[str, object], decision: Decision) -> None:
    assert decide(answer) is decision


def _summary() -> OrderSummary:
    legs = (
        LegView("above", "SELL", "LIMIT_MAKER", "tp-1", quantity="0.5", price="110", worst_case=Decimal("55")),
        LegView("below", "SELL", "STOP_LOSS_LIMIT", "sl-1", quantity="0.5", price="89", stop_price="90",
                worst_case=Decimal("50")),
    )
    return OrderSummary("place_oco", "BTCUSDT", legs, "USDT", list_client_order_id="oco-1",
                        bid=Decimal("99"), ask=Decimal("101"), taker_rate=Decimal("0.001"))


def test_the_summary_shows_every_leg_its_prices_distance_from_mid_worst_case_and_fee() -> None:
    text = elicitation_params(_summary())["message"]
    for part in (
        "BTCUSDT", "oco-1", "above: SELL 0.5 LIMIT_MAKER", "client order id tp-1", "price 110 (+10.00% from mid 100)",
        "below: SELL 0.5 STOP_LOSS_LIMIT", "stop price 90 (-10.00% from mid 100)", "worst-case notional 55 USDT",
        "estimated fee at most 0.055 USDT", "largest worst case: 55 USDT", "bid 99 / ask 101",
    ):
        assert part in text, part


def test_unknown_market_and_fee_are_said_plainly() -> None:
    leg = LegView("", "BUY", "MARKET", "m-1", quote_order_qty="20")
    text = OrderSummary("place_order", "ETHUSDT", (leg,), "USDT").text()
    assert "estimated fee unknown" in text and "bid/ask unknown" in text and "worst-case notional not bounded" in text


def test_the_question_defaults_to_not_approving() -> None:
    schema = elicitation_params(_summary())["requestedSchema"]
    assert schema["properties"]["approve"] == {**schema["properties"]["approve"], "type": "boolean", "default": False}
    assert schema["required"] == ["approve"]


def test_an_approval_is_bound_to_the_exact_parameters() -> None:
    a = {"symbol": "BTCUSDT", "quantity": "0.5", "newClientOrderId": "x"}
    assert params_digest(a) == params_digest(dict(reversed(a.items())))
    assert params_digest(a) != params_digest({**a, "quantity": "0.50"})
    assert params_digest(a) != params_digest({**a, "newClientOrderId": "y"})
