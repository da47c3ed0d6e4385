"""The pieces every resource and prompt document is made of: its heading, tables and times."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from provider.catalog.render import FIRST_DATE_MS, LAST_DATE_MS, render_time, utc_datetime

if TYPE_CHECKING:
    from provider.app import App


def stamp(app: App, title: str) -> str:
    """The title, then the exchange's time and the environment that answered."""
    now = utc_datetime(app.client.server_now_ms()).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"# {title}\n\n_{now} · environment: {app.environment}_\n"


def table(headers: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return "_none_\n"
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out) + "\n"


def iso(ms: int) -> str:
    if not FIRST_DATE_MS <= ms <= LAST_DATE_MS:  # no date can show it (datetime would raise): the number
        return render_time(ms)
    return utc_datetime(ms).strftime("%Y-%m-%d %H:%M:%S")


def pct(x: Decimal) -> str:
    return f"{x:.2f}%"
