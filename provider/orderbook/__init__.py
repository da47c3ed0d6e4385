"""orderbook package."""
