"""The shared logging set-up: stdlib records and structlog events alike, JSON off a terminal, never stdout."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator, MutableMapping
from typing import Any

import pytest
import structlog

from common.logs import configure_logging
from gateway import logs as gateway_logs
from provider import logs as provider_logs


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Put structlog's and the root logger's configuration back after each test."""
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    structlog.configure(**saved)
    root.handlers[:] = handlers
    root.setLevel(level)


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def test_stdlib_records_and_structlog_events_are_json_lines_when_not_on_a_terminal() -> None:
    out = io.StringIO()
    configure_logging("info", stream=out)
    logging.getLogger("grpc._cython").warning("channel %s closed", "x")
    logging.getLogger("grpc._cython").info("chatty")  # stdlib shows WARNING and above only
    structlog.get_logger("test").info("order_placed", symbol="BTCUSDT")
    first, second = json_lines(out.getvalue())
    assert (first["event"], first["level"], first["logger"]) == ("channel x closed", "warning", "grpc._cython")
    assert (second["event"], second["level"], second["symbol"]) == ("order_placed", "info", "BTCUSDT")
    assert "timestamp" in first and "timestamp" in second


def test_an_exception_becomes_text_in_the_json_line() -> None:
    out = io.StringIO()
    configure_logging("info", stream=out)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("aiohttp").exception("failed")
        structlog.get_logger("test").exception("failed_too")
    stdlib, own = json_lines(out.getvalue())
    assert "RuntimeError: boom" in stdlib["exception"] and "RuntimeError: boom" in own["exception"]


def test_readable_lines_when_asked_and_the_level_filters_structlog_events() -> None:
    out = io.StringIO()
    configure_logging("warning", stream=out, json=False)
    structlog.get_logger("test").info("hidden")
    structlog.get_logger("test").warning("shown", symbol="ETHUSDT")
    text = out.getvalue()
    assert "hidden" not in text and "shown" in text and "symbol=ETHUSDT" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


def test_an_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown log level"):
        configure_logging("loud", stream=io.StringIO())


def test_the_provider_renders_stdlib_logs_as_json_on_stderr_and_nothing_on_stdout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    provider_logs.configure("info")
    logging.getLogger("grpc").error("stdlib line")
    structlog.get_logger("provider.test").info("structlog_line")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert [line["event"] for line in json_lines(captured.err)] == ["stdlib line", "structlog_line"]


def test_the_gateway_taps_see_events_and_a_failing_tap_never_stops_the_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    seen: list[tuple[str, str]] = []

    def tap(level: str, event: MutableMapping[str, Any]) -> None:
        seen.append((level, str(event["event"])))

    def broken(level: str, event: MutableMapping[str, Any]) -> None:
        raise RuntimeError("tap failed")

    gateway_logs.add_tap(broken)
    gateway_logs.add_tap(tap)
    try:
        gateway_logs.configure_logging("info")
        structlog.get_logger("gateway.test").info("tool_called", tool="x")
    finally:
        gateway_logs.remove_tap(tap)
        gateway_logs.remove_tap(broken)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert seen == [("info", "tool_called")]
    assert json_lines(captured.err)[0]["tool"] == "x"
