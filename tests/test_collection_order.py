"""The long modules that `tests/conftest.py` sends first all exist (a renamed one would go last again)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import LONG_MODULES

ROOT = Path(__file__).resolve().parents[1]


def test_every_long_module_named_first_exists() -> None:
    assert [m for m in LONG_MODULES if not (ROOT / m).is_file()] == []
