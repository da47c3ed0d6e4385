"""Compact text renderings of tool results, for a model's context window.

The structured result carries everything; the text is what a model reads first, so it is dense and
plain: `key=value` pairs on one line, nested objects on one line each, lists of objects as a header
plus one whitespace-separated row per item, times in ISO 8601. No pretty-printed JSON walls.
A `StringTable` (from `to_json_tables`) renders as the list of objects it stands for.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from provider.catalog.jsonmap import StringTable

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: the last millisecond a date can show (9999-12-31T23:59:59.999Z); a later time is shown as its number
LAST_DATE_MS = (datetime.max.replace(tzinfo=UTC) - _EPOCH) // timedelta(milliseconds=1)
#: the first millisecond a date can show (0001-01-01T00:00:00.000Z); an earlier time is shown as its number
FIRST_DATE_MS = (datetime.min.replace(tzinfo=UTC) - _EPOCH) // timedelta(milliseconds=1)


def render(title: str, data: dict[str, Any]) -> str:
    lines = [f"{title}: {_pairs(data)}".rstrip(": ")]
    for key, value in data.items():
        if isinstance(value, dict) and value:
            if all(not isinstance(v, dict | list) for v in value.values()):
                lines.append(f"{key}: {_pairs(value)}")
            else:
                lines.append(render(key, value))
        elif type(value) is StringTable:
            lines.append(_string_table(key, value))
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            lines.extend(_table(key, value))
    return "\n".join(line for line in lines if line)


def _string_table(name: str, table: StringTable) -> str:
    """The lines `_table` would give, as one string: the cells are strings, each row already joined."""
    return f"{name}[{len(table.rows)}]: {' '.join(table.keys)}\n  " + "\n  ".join(table.lines)


def _pairs(data: dict[str, Any]) -> str:
    parts = []
    for key, value in data.items():
        if isinstance(value, dict) or type(value) is StringTable:
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
    nested = False  # any list in a row (tables inside rows); a book's levels have none
    for row in rows:
        for key, value in row.items():
            if isinstance(value, dict | list):
                nested = nested or isinstance(value, list)
            elif key not in columns:
                columns.append(key)
    out = [f"{name}[{len(rows)}]: {' '.join(columns)}"]
    for row in rows:
        # hundreds of rows for a book: strings (prices, quantities) need no formatting
        out.append("  " + " ".join([v if type(v) is str else _fmt(c, v) for c in columns for v in (row.get(c, "-"),)]))
        if nested:
            for key, value in row.items():
                if isinstance(value, list) and value and isinstance(value[0], dict):
                    out.extend("  " + line for line in _table(key, value))
    return out


def render_time(ms: int) -> str:
    """A time in ms since the epoch as ISO 8601 UTC; past year 9999 or before year 1 (no date can show
    it), the number."""
    if ms > LAST_DATE_MS:
        return f"{ms} (ms since epoch; beyond year 9999)"
    if ms < FIRST_DATE_MS:
        return f"{ms} (ms since epoch; before year 1)"
    return utc_datetime(ms).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_datetime(ms: int) -> datetime:
    """The UTC datetime of ``ms`` since the epoch (FIRST_DATE_MS..LAST_DATE_MS), by integer arithmetic:
    the float ``ms / 1000`` can show the millisecond (or second) before."""
    return _EPOCH + timedelta(milliseconds=ms)


def _fmt(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and key.endswith("time_ms") and value > 0:
        return render_time(value)
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e6 else f"{value:.0f}"
    return str(value)
