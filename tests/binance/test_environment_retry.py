"""Environment derives every URL; the retry classifier never retries a mutating call."""

import pytest

from provider.binance.environment import Environment, EnvironmentKind
from provider.binance.retry import Fatal, Reconcile, Retry, classify
from provider.errors import (
    ExchangeTimeout,
    ExchangeUnavailable,
    ExecutionUnknown,
    InvalidArgument,
    RateLimited,
    TimestampRejected,
)


def test_mainnet_and_testnet_derive_rest_and_ws_together() -> None:
    main, test = Environment.mainnet(), Environment.testnet()
    assert (main.rest_url, main.ws_url) == ("https://api.binance.com",
                                            "wss://stream.binance.com:9443")
    assert (test.rest_url, test.ws_url) == ("https://testnet.binance.vision",
                                            "wss://stream.testnet.binance.vision")
    assert main.is_production and not test.is_production
    assert (main.name, test.name) == ("mainnet", "testnet")


def test_custom_environment_takes_explicit_urls_and_a_name() -> None:
    env = Environment.custom("http://127.0.0.1:8080/", "ws://127.0.0.1:8080")
    assert env.kind is EnvironmentKind.CUSTOM and env.name == "sandbox"
    assert env.rest_url == "http://127.0.0.1:8080"
    assert env.ws_stream_url("btcusdt@depth") == "ws://127.0.0.1:8080/ws/btcusdt@depth"
    assert env.ws_stream_url("a", "b") == "ws://127.0.0.1:8080/stream?streams=a/b"


@pytest.mark.parametrize(("rest", "ws"), [("ftp://x", "ws://x"), ("http://x", "http://x"),
                                          ("http://x?a=1", "ws://x"), ("", "ws://x")])
def test_bad_urls_are_refused(rest: str, ws: str) -> None:
    with pytest.raises(ValueError):
        Environment.custom(rest, ws)


def test_from_kind_refuses_urls_for_named_environments() -> None:
    with pytest.raises(ValueError):
        Environment.from_kind("testnet", rest_url="http://127.0.0.1:1")
    with pytest.raises(ValueError):
        Environment.from_kind("custom", rest_url="http://127.0.0.1:1")
    assert Environment.from_kind("mainnet") == Environment.mainnet()


@pytest.mark.parametrize(("exc", "idempotent", "expected"), [
    (TimestampRejected("t"), True, Retry(0.0, resync_clock=True)),
    (TimestampRejected("t"), False, Fatal()),
    (ExchangeUnavailable("u"), False, Fatal()),
    (ExchangeTimeout("t"), False, Fatal()),
    (ExecutionUnknown("u"), False, Reconcile()),
    (RateLimited("r"), True, Fatal()),
    (InvalidArgument("i"), True, Fatal()),
])
def test_classifier_decisions(exc: Exception, idempotent: bool, expected: object) -> None:
    assert classify(exc, idempotent=idempotent) == expected  # type: ignore[arg-type]


def test_reads_retry_transient_failures_only_once() -> None:
    assert isinstance(classify(ExchangeUnavailable("u"), idempotent=True), Retry)
    assert classify(ExchangeUnavailable("u"), idempotent=True, attempt=2) == Fatal()
