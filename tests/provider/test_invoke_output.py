"""InvokeTool's text and JSON are exactly what they were before book sides became string tables.

`_invoke` writes `render(name, to_json_tables(result))` and `dumps(...)`; before, it wrote the
renderer below (provider/catalog/render.py as of commit 8b19b51) and `json.dumps` over `to_json`.
Every tool's result, filled several ways, and generated books and balances (any text in the cells:
quotes, backslashes, `%`, non-ASCII, empty) must give the same two strings both ways.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.protobuf.message import Message
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.binance.v1 import orderbook_pb2
from provider.catalog.jsonmap import StringTable, dumps, to_json, to_json_tables
from provider.catalog.render import render, render_time
from provider.catalog.tools import tool_specs
from provider.content.markdown import iso as markdown_iso
from tests.provider.test_catalog import fill
from tests.provider.test_jsonmap_compiled import reference_json

SPECS = list(tool_specs().values())


# --- the renderer before string tables, kept as the reference ------------------------------------


def reference_render(title: str, data: dict[str, Any]) -> str:
    lines = [f"{title}: {_pairs(data)}".rstrip(": ")]
    for key, value in data.items():
        if isinstance(value, dict) and value:
            if all(not isinstance(v, dict | list) for v in value.values()):
                lines.append(f"{key}: {_pairs(value)}")
            else:
                lines.append(reference_render(key, value))
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            lines.extend(_table(key, value))
    return "\n".join(line for line in lines if line)


def _pairs(data: dict[str, Any]) -> str:
    parts = []
    for key, value in data.items():
        if isinstance(value, dict):
            continue
        if isinstance(value, list):
            if value and isinstance(value[0], dict):
                continue
            parts.append(f"{key}={','.join(_fmt(key, v) for v in value) or '[]'}")
        else:
            parts.append(f"{key}={_fmt(key, value)}")
    return " ".join(parts)


def _table(name: str, rows: list[dict[str, Any]]) -> list[str]:
    columns: list[str] = []
    nested = False
    for row in rows:
        for key, value in row.items():
            if isinstance(value, dict | list):
                nested = nested or isinstance(value, list)
            elif key not in columns:
                columns.append(key)
    out = [f"{name}[{len(rows)}]: {' '.join(columns)}"]
    for row in rows:
        out.append("  " + " ".join([v if type(v) is str else _fmt(c, v) for c in columns for v in (row.get(c, "-"),)]))
        if nested:
            for key, value in row.items():
                if isinstance(value, list) and value and isinstance(value[0], dict):
                    out.extend("  " + line for line in _table(key, value))
    return out


def _fmt(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and key.endswith("time_ms") and value > 0:
        # the one change since 8b19b51: dates by integer arithmetic, the number itself past year 9999
        return render_time(value)
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e6 else f"{value:.0f}"
    return str(value)


# --- both ways -----------------------------------------------------------------------------------


def before(title: str, msg: Message) -> tuple[str, str]:
    data = to_json(msg)
    return reference_render(title, data), json.dumps(data, separators=(",", ":"))


def now(title: str, msg: Message) -> tuple[str, str]:
    data = to_json_tables(msg)
    return render(title, data), dumps(data)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_every_tools_text_and_json_are_as_before(spec: Any) -> None:
    for variant in range(3):
        msg = fill(spec.response_cls(), variant)
        assert now(spec.name, msg) == before(spec.name, msg)
        data = to_json(msg)
        assert render(spec.name, data) == reference_render(spec.name, data)
    assert now(spec.name, spec.response_cls()) == before(spec.name, spec.response_cls())


def test_a_books_sides_are_string_tables_and_its_freshness_is_not() -> None:
    msg = fill(orderbook_pb2.GetL2Response(), 1)
    for side in (msg.bids, msg.asks):
        del side[:]
        side.add(price="1.5", quantity="0.1")
        side.add(price="1.4", quantity="2")
    data = to_json_tables(msg)
    assert type(data["bids"]) is StringTable and type(data["asks"]) is StringTable
    assert data["bids"].as_json() == to_json(msg)["bids"] and isinstance(data["book"], dict)


cells = st.one_of(
    st.sampled_from(["", "0.00000001", "63999.90000000", '"', "\\", "%s", "%", "a b", "é", "\x7f", "\n", "\U0001f600"]),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),
)
levels = st.lists(st.tuples(cells, cells), max_size=12)


@settings(max_examples=300)
@given(bids=levels, asks=levels, symbol=cells, state=cells)
def test_any_book_gives_the_same_text_and_json_as_before(
    bids: list[tuple[str, str]], asks: list[tuple[str, str]], symbol: str, state: str
) -> None:
    msg = orderbook_pb2.GetL2Response(symbol=symbol, book=orderbook_pb2.BookFreshness(state=state, age_ms=5))
    for side, rows in ((msg.bids, bids), (msg.asks, asks)):
        for price, quantity in rows:
            side.add(price=price, quantity=quantity)
    assert now("binance.orderbook_l2", msg) == before("binance.orderbook_l2", msg)


balances = st.lists(st.tuples(cells, cells, cells, cells), max_size=8)


@settings(max_examples=200)
@given(rows=balances, legs=st.lists(st.tuples(cells, cells, cells), max_size=5))
def test_tables_of_three_and_four_columns_give_the_same_text_and_json_as_before(
    rows: list[tuple[str, str, str, str]], legs: list[tuple[str, str, str]]
) -> None:
    account = tool_specs()["binance.get_account"].response_cls()
    for asset, free, locked, total in rows:
        account.balances.add(asset=asset, free=free, locked=locked, total=total)
    assert now("binance.get_account", account) == before("binance.get_account", account)
    oco = tool_specs()["binance.place_oco"].response_cls()
    for client_order_id, role, notional in legs:
        oco.worst_cases.add(client_order_id=client_order_id, role=role, notional=notional)
    assert now("binance.place_oco", oco) == before("binance.place_oco", oco)


@given(keys=st.lists(cells, min_size=1, max_size=4, unique=True), data=st.data())
def test_dumps_writes_any_string_table_as_the_list_it_stands_for(keys: list[str], data: st.DataObject) -> None:
    rows = data.draw(st.lists(st.tuples(*[cells.filter(bool)] * len(keys)), min_size=1, max_size=6))
    table = StringTable.of(tuple(keys), rows)
    plain = {"before": 1, "rows": table.as_json(), "after": [1.5, "x"]}
    assert dumps({"before": 1, "rows": table, "after": [1.5, "x"]}) == json.dumps(plain, separators=(",", ":"))
    assert render("t", {"before": 1, "rows": table}) == reference_render("t", {"before": 1, "rows": table.as_json()})


@given(bids=levels, asks=levels)
def test_to_json_converts_book_sides_as_the_field_by_field_walk(
    bids: list[tuple[str, str]], asks: list[tuple[str, str]]
) -> None:
    msg = orderbook_pb2.GetL2Response(symbol="BTCUSDT")
    for side, rows in ((msg.bids, bids), (msg.asks, asks)):
        for price, quantity in rows:
            side.add(price=price, quantity=quantity)
    assert to_json(msg) == reference_json(msg)


def test_a_time_past_year_9999_is_shown_as_its_number_not_an_error() -> None:
    """A time no date can show must not fail the call (InvokeTool would answer INTERNAL): the text of
    tools and resources says the number and what it is; the JSON keeps the integer as it is."""
    last = 253402300799999  # 9999-12-31T23:59:59.999Z
    data = {"time_ms": last + 1, "close_time_ms": last, "open_time_ms": 1}
    assert render("t", data) == (
        "t: time_ms=253402300800000 (ms since epoch; beyond year 9999) close_time_ms=9999-12-31T23:59:59.999Z"
        " open_time_ms=1970-01-01T00:00:00.001Z"
    )
    assert json.loads(dumps(data)) == data
    assert render_time(2**63 - 1) == "9223372036854775807 (ms since epoch; beyond year 9999)"
    assert render_time(1_733_000_000_123) == "2024-11-30T20:53:20.123Z"
    assert markdown_iso(253402300800000) == "253402300800000 (ms since epoch; beyond year 9999)"
    assert markdown_iso(1_733_000_000_123) == "2024-11-30 20:53:20"
