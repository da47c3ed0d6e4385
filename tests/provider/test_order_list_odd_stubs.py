"""An order list whose order stubs lack their ids (the real App and gRPC server on a scripted exchange).

The orders' current states are looked up by symbol and order id; a stub without them is shown as the
exchange sent it instead of failing the whole answer with INTERNAL (on a reconciled placement that
would hide that the list exists).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from contracts.binance.v1 import trading_pb2, trading_pb2_grpc
from provider.binance.transport import RestRequest, RestResponse
from provider.services import trading  # noqa: F401  (the order services are imported through it, as the server does)
from provider.services.order_lists import note_reports
from provider.services.orders import order_list_from_json
from tests.harness import InProcessProvider, ScriptedExchange, answer

ODD_STUBS: list[Any] = [
    {"symbol": "BTCUSDT", "clientOrderId": "odd-no-id"},
    {"symbol": "BTCUSDT", "orderId": "not-a-number", "clientOrderId": "odd-bad-id"},
    {"orderId": 12, "clientOrderId": "odd-no-symbol"},
    "not an object",
]


@pytest.mark.parametrize("stub", ODD_STUBS, ids=["no-id", "bad-id", "no-symbol", "not-an-object"])
async def test_a_list_with_an_odd_order_stub_is_answered_not_internal(tmp_path: Path, stub: Any) -> None:
    listed = {"orderListId": 5, "contingencyType": "OCO", "listStatusType": "EXEC_STARTED",
              "listOrderStatus": "EXECUTING", "listClientOrderId": "odd-list", "transactionTime": 1,
              "symbol": "BTCUSDT", "orders": [stub]}

    def handle(r: RestRequest) -> RestResponse:
        return answer(listed)

    exchange = ScriptedExchange({"/api/v3/orderList": handle})
    async with InProcessProvider(exchange, tmp_path) as channel:
        got = await trading_pb2_grpc.TradingStub(channel).GetOrderList(
            trading_pb2.GetOrderListRequest(list_client_order_id="odd-list"))
    assert got.order_list.list_client_order_id == "odd-list"
    assert got.order_list.list_order_status == "EXECUTING"
    shown = [(o.client_order_id, o.order_id) for o in got.order_list.orders]
    assert shown == ([(stub["clientOrderId"], 12 if "symbol" not in stub else 0)] if isinstance(stub, dict) else [])
    assert "/api/v3/order" not in exchange.paths("GET")  # nothing to look up for an odd stub



def test_a_placement_answer_whose_reports_lack_their_order_ids_still_converts() -> None:
    """A list placement's answer carries `orderReports` as the exchange sent them (no lookup)."""
    placed = {"orderListId": 6, "contingencyType": "OCO", "listOrderStatus": "EXECUTING",
              "listClientOrderId": "odd-reports", "symbol": "BTCUSDT",
              "orders": [{"symbol": "BTCUSDT", "orderId": 12, "clientOrderId": "leg"}],
              "orderReports": [{"symbol": "BTCUSDT", "status": "NEW"}, "not an object",
                               {"symbol": "BTCUSDT", "orderId": "x", "status": "NEW"}]}
    converted = order_list_from_json(placed)
    assert [(o.client_order_id, o.order_id) for o in converted.orders] == [("leg", 12)]


def test_read_your_writes_notes_only_reports_with_an_order_id() -> None:
    """After a list placement the live account waits for its orders; a report it cannot name (or an
    `orderReports` that is no list) must not fail the answer of a list that was placed."""
    noted: list[dict[str, Any]] = []
    app: Any = SimpleNamespace(account=SimpleNamespace(note_write=noted.append))
    good = {"symbol": "BTCUSDT", "orderId": 5, "status": "NEW", "executedQty": "0"}
    note_reports(app, {"orderReports": [{"symbol": "BTCUSDT", "status": "NEW"}, "not an object", good]})
    note_reports(app, {"orderReports": None})
    assert noted == [good]
