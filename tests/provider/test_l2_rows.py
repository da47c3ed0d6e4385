"""The L2 handler hands InvokeTool the strings it wrote its levels from (`jsonmap.with_rows`).

That is a second way to the same output: the message must be the one the handler built before,
and InvokeTool's text and JSON must be what reading the levels back out of the message gives,
for any book and for rows that cannot stand for the message (they are ignored).
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.binance.v1 import common_pb2, orderbook_pb2
from contracts.provider.v1 import provider_pb2
from provider.analytics.l2 import dec_str
from provider.catalog import jsonmap
from provider.catalog.jsonmap import StringTable, dumps, to_json_tables, with_rows
from provider.catalog.render import render
from provider.orderbook.book import OrderBook
from provider.orderbook.manager import BookView
from provider.provider_api import ProviderServicer
from provider.services import orderbook

TITLE = "binance.orderbook_l2"


def read_back(msg: orderbook_pb2.GetL2Response) -> tuple[str, str]:
    """InvokeTool's text and JSON from a copy of the message: its levels read out of it."""
    copy = orderbook_pb2.GetL2Response()
    copy.CopyFrom(msg)
    data = to_json_tables(copy)
    return render(TITLE, data), dumps(data)


def invoke_output(msg: orderbook_pb2.GetL2Response) -> tuple[str, str]:
    data = to_json_tables(msg)
    return render(TITLE, data), dumps(data)


def view_of(book: OrderBook) -> BookView:
    return BookView(symbol="BTCUSDT", state="SYNCED", source="stream", last_update_id=7, event_time_ms=1_764_000_000_1,
                    age_ms=4, resync_count=0, bid_levels_known=len(book), ask_levels_known=len(book), _book=book)


def get_l2(book: OrderBook, levels: int) -> orderbook_pb2.GetL2Response:
    """The handler's answer over `book` (the book lookup replaced by the view)."""
    view = view_of(book)

    async def book_for(app: Any, symbol: str, tool_name: str) -> BookView:
        return view

    app: Any = SimpleNamespace(environment="sandbox")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(orderbook, "book_for", book_for)
        return asyncio.run(orderbook.get_l2(app, orderbook_pb2.GetL2Request(symbol="BTCUSDT", levels=levels)))


def built_as_before(book: OrderBook, levels: int) -> orderbook_pb2.GetL2Response:
    """The handler's message as it was built before it wrote the levels in place."""
    view = view_of(book)
    bids, asks = view.levels(levels)
    return orderbook_pb2.GetL2Response(
        symbol=view.symbol,
        bids=[common_pb2.PriceLevel(price=dec_str(p), quantity=dec_str(q)) for p, q in bids],
        asks=[common_pb2.PriceLevel(price=dec_str(p), quantity=dec_str(q)) for p, q in asks],
        book=orderbook.freshness(SimpleNamespace(environment="sandbox"), view),  # type: ignore[arg-type]
    )


#: decimals as the exchange writes them, at several scales (0.00000010 keeps its digits)
amounts = st.builds(lambda units, scale: f"{units * 10**-scale:.{scale}f}" if scale else str(units),
                    st.integers(1, 10**6), st.integers(0, 8))  # within the book's int64 units


@settings(max_examples=150, deadline=None)
@given(prices=st.lists(amounts, min_size=0, max_size=30, unique=True), qtys=st.lists(amounts, min_size=30, max_size=30),
       levels=st.integers(1, 40))
def test_the_handler_builds_the_same_message_and_invoke_tool_the_same_output(
    prices: list[str], qtys: list[str], levels: int
) -> None:
    ordered = sorted(prices, key=float)
    half = len(ordered) // 2  # the low half bids, the high half asks: never crossed
    book = OrderBook()
    book.apply_snapshot(7, list(zip(ordered[:half], qtys, strict=False)), list(zip(ordered[half:], qtys, strict=False)))
    msg = get_l2(book, levels)
    assert msg == built_as_before(book, levels)
    assert invoke_output(msg) == read_back(msg)


def test_invoke_tool_uses_the_handed_rows_and_forgets_them() -> None:
    book = OrderBook()
    book.apply_snapshot(7, [("1.50", "2.00"), ("1.40", "0.10")], [("1.60", "3.00")])
    msg = get_l2(book, 5)
    assert id(msg) in jsonmap._known
    data = to_json_tables(msg)
    assert type(data["bids"]) is StringTable and data["bids"].rows == [("1.50", "2.00"), ("1.40", "0.10")]
    assert id(msg) not in jsonmap._known
    assert (render(TITLE, data), dumps(data)) == read_back(msg)


def side(*rows: tuple[str, str]) -> list[common_pb2.PriceLevel]:
    return [common_pb2.PriceLevel(price=p, quantity=q) for p, q in rows]


@pytest.mark.parametrize(
    "rows",
    [
        [("1.5", "2")],  # another count
        [("1.5", "2"), ("1.4", "")],  # an empty cell
        [("1.5", "2"), ("1.4",)],  # a row of another width
        [],  # no rows
    ],
    ids=["count", "empty cell", "width", "none"],
)
def test_rows_that_cannot_stand_for_the_field_are_ignored(rows: list[tuple[str, ...]]) -> None:
    msg = orderbook_pb2.GetL2Response(symbol="X", bids=side(("1.5", "2"), ("1.4", "3")), asks=side(("1.6", "1")))
    expected = read_back(msg)
    assert invoke_output(with_rows(msg, bids=rows, book=[("a", "b")], symbol=[("a", "b")])) == expected


def test_rows_of_a_message_no_longer_remembered_are_not_used() -> None:
    first = with_rows(orderbook_pb2.GetL2Response(bids=side(("1.5", "2"))), bids=[("9", "9")])
    for _ in range(jsonmap._KNOWN_MAX):
        with_rows(orderbook_pb2.GetL2Response(), bids=[])
    assert id(first) not in jsonmap._known
    assert to_json_tables(first)["bids"].rows == [("1.5", "2")]
    jsonmap._known.clear()


def test_invoke_tool_answers_from_the_handed_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Through InvokeTool itself: the rows are taken (nothing runs between the handler and the
    conversion), and the answer is the text and JSON of the levels read back out of the message."""
    book = OrderBook()
    book.apply_snapshot(7, [("1.50", "2.00"), ("1.40", "0.10")], [("1.60", "3.00")])
    view = view_of(book)
    handed: list[orderbook_pb2.GetL2Response] = []

    async def book_for(app: Any, symbol: str, tool_name: str) -> BookView:
        return view

    def remembering(msg: orderbook_pb2.GetL2Response, **rows: Any) -> orderbook_pb2.GetL2Response:
        handed.append(msg)
        return with_rows(msg, **rows)

    monkeypatch.setattr(orderbook, "book_for", book_for)
    monkeypatch.setattr(orderbook, "with_rows", remembering)
    app: Any = SimpleNamespace(environment="sandbox",
                               settings=SimpleNamespace(trading=SimpleNamespace(confirm=SimpleNamespace(
                                   mode=SimpleNamespace(value="never")))))
    request = provider_pb2.InvokeToolRequest(name=TITLE, arguments_json='{"symbol": "BTCUSDT", "levels": 5}')
    reply = asyncio.run(ProviderServicer(app)._invoke(request))
    assert len(handed) == 1 and id(handed[0]) not in jsonmap._known
    assert (reply.text, reply.structured_json) == read_back(handed[0])
