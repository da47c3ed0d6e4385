"""BINANCE_ALLOWED_SYMBOLS takes the UTF-8 symbol names Binance lists since 2025-12, as the tool
contracts do, and still refuses what is no symbol."""

from __future__ import annotations

import pytest

from provider.settings import SettingsError, from_mapping


def test_allowed_symbols_take_utf8_names_and_refuse_junk() -> None:
    s = from_mapping({"BINANCE_ALLOWED_SYMBOLS": "币安人生usdt, BTCUSDT"})
    assert s.trading.allowed_symbols == {"币安人生USDT", "BTCUSDT"}
    for junk in ("BTC USDT", "😀USDT", "币安人生" + "X" * 20):
        with pytest.raises(SettingsError, match=r"^BINANCE_ALLOWED_SYMBOLS: "):
            from_mapping({"BINANCE_ALLOWED_SYMBOLS": junk})
