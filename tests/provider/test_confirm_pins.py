"""A 2026 retry places the order that was shown: the client ids of the round that asked are pinned."""

from __future__ import annotations

import json

from contracts.binance.v1 import trading_pb2
from contracts.provider.v1 import provider_pb2
from provider.services import confirm
from provider_kit import ToolCall


def _retry(state: dict[str, object]) -> ToolCall:
    context = provider_pb2.CallContext(
        input_mode=provider_pb2.INPUT_MODE_RESULT, request_state=json.dumps(state)
    )
    return ToolCall("binance.place_oco", context)


def test_generated_ids_of_the_asking_round_fill_only_what_the_caller_left_out() -> None:
    ids = {"list_client_order_id": "L-1", "above.client_order_id": "A-1", "below.client_order_id": "B-1"}
    req = trading_pb2.PlaceOcoRequest(symbol="BTCUSDT", below=trading_pb2.OcoLeg(client_order_id="mine"))
    with confirm.streaming(_retry({"v": 1, "d": "x", "ids": ids, "at": 0})):
        confirm.pin_ids(req)
    assert (req.list_client_order_id, req.above.client_order_id, req.below.client_order_id) == ("L-1", "A-1", "mine")


def test_nothing_is_pinned_without_a_state_of_ours_or_outside_a_2026_retry() -> None:
    for call in (
        _retry({"v": 2, "d": "x", "ids": {"client_order_id": "X"}, "at": 0}),
        ToolCall("binance.place_order", provider_pb2.CallContext(input_mode=provider_pb2.INPUT_MODE_RESULT,
                                                                  request_state="not json")),
        ToolCall("binance.place_order", provider_pb2.CallContext(
            input_mode=provider_pb2.INPUT_MODE_IN_CALL,
            request_state=json.dumps({"v": 1, "d": "x", "ids": {"client_order_id": "X"}, "at": 0}))),
    ):
        req = trading_pb2.PlaceOrderRequest(symbol="BTCUSDT")
        with confirm.streaming(call):
            confirm.pin_ids(req)
        assert not req.HasField("client_order_id")
    req = trading_pb2.PlaceOrderRequest(symbol="BTCUSDT")
    confirm.pin_ids(req)  # a typed or unary call: no tool call to read a state from
    assert not req.HasField("client_order_id")
