"""Every wss:// connection shares one verifying TLS context (provider/binance/wss.py); ws:// gets none."""

from __future__ import annotations

import ssl

from provider.binance.wss import ssl_for


def test_wss_urls_share_one_verifying_context_with_the_systems_roots() -> None:
    book = ssl_for("wss://stream.binance.com:9443/stream?streams=btcusdt@depth@100ms")
    account = ssl_for("WSS://ws-api.binance.com:443/ws-api/v3")
    assert book is not None and book is account  # built once: no CA bundle load per connection
    assert book.verify_mode == ssl.CERT_REQUIRED and book.check_hostname
    assert book.cert_store_stats() == ssl.create_default_context().cert_store_stats()


def test_plain_ws_urls_get_no_context() -> None:
    # websockets refuses a context for ws:// (the sandbox); None lets it connect in the clear as before
    assert ssl_for("ws://127.0.0.1:8080/stream?streams=btcusdt@depth") is None
