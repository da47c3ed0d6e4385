"""binance package."""
