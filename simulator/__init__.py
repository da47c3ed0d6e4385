"""Binance-compatible sandbox exchange on loopback (see simulator/README.md)."""

__all__: list[str] = []
