"""The gateway's logging: the shared set-up (`common/logs.py`, stderr only: stdout belongs to MCP
over stdio) plus taps.

Every structlog event also passes the taps added with `add_tap` (the MCP log forwarder), after
the level filter and before rendering; a failing tap never stops the log line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

from common.logs import configure_logging as _configure

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
    """Send structlog and stdlib logging (the SDK, grpc) to stderr, through the taps."""
    _configure(level, taps=[_run_taps])
