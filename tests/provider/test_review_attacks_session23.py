"""Review attacks on session 23's changes that run in process (see tests/e2e/test_review_attacks_session23.py)."""

from __future__ import annotations

import pytest

from provider.catalog.render import render, render_time
from provider.content.markdown import iso as markdown_iso
from provider.services.rails import iso as rails_iso

#: 0001-01-01T00:00:00.000Z, the first millisecond a date can show
FIRST = -62135596800000


@pytest.mark.parametrize("ms", [FIRST - 1, -10**15, -(10**20)])
def test_a_time_before_year_1_is_shown_as_its_number_not_an_error(ms: int) -> None:
    """The other end of 9fbbddb's fix: a hostile exchange's time far before the epoch raised
    OverflowError/ValueError (a resource read or a trading note would answer INTERNAL)."""
    for shown in (render_time(ms), markdown_iso(ms), rails_iso(ms)):
        assert shown == f"{ms} (ms since epoch; before year 1)"


def test_the_first_date_still_shows_as_a_date() -> None:
    assert render_time(FIRST) == "0001-01-01T00:00:00.000Z"
    assert markdown_iso(FIRST).endswith("-01-01 00:00:00")
    assert render("t", {"time_ms": -1}) == "t: time_ms=-1"  # InvokeTool's text leaves times <= 0 as numbers
