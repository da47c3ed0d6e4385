"""Logging setup: structlog JSON lines on stderr, because stdout belongs to MCP over stdio.

Every structlog event also passes the taps added with `add_tap` (the MCP log forwarder), after
the level filter and before rendering; a failing tap never stops the log line.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

import structlog

__all__ = ["Tap", "add_tap", "configure_logging", "remove_tap"]

Tap = Callable[[str, Mapping[str, Any]], None]
"""`tap(level, event)`: sees each log event (already filtered by level), must not block or raise."""

_TAPS: list[Tap] = []


def add_tap(tap: Tap) -> None:
    """Let `tap` see every log event from now on."""
    _TAPS.append(tap)


def remove_tap(tap: Tap) -> None:
    """Stop showing log events to `tap`."""
    if tap in _TAPS:
        _TAPS.remove(tap)


def _run_taps(logger: Any, method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for tap in list(_TAPS):
        try:
            tap(str(event.get("level", method)), event)
        except Exception:  # a tap must never break logging
            pass
    return event


def configure_logging(level: str = "info") -> None:
    """Send structlog and stdlib logging (the SDK, grpc) as JSON lines to stderr."""
    numeric = logging.getLevelName(level.upper())
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            *shared,
            _run_taps,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.JSONRenderer(),
            ],
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    # The SDK and grpc are chatty at INFO; their warnings and errors are what matters here.
    root.setLevel(max(numeric, logging.WARNING))
