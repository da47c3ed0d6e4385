"""One logging set-up for both processes: structlog and stdlib logs alike, on stderr.

JSON lines when stderr is not a terminal (a service, a pipe, a test), readable lines on a terminal.
Standard-library records (grpc, the MCP SDK, aiohttp, websockets) go through the same processors
and renderer as structlog events, so a log collector sees one format. Nothing is written to stdout:
it belongs to MCP over stdio in the gateway.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import TextIO

import structlog
from structlog.typing import Processor

__all__ = ["configure_logging"]


def configure_logging(
    level: str = "info",
    *,
    stream: TextIO | None = None,
    json: bool | None = None,
    taps: Sequence[Processor] = (),
) -> None:
    """Configure structlog and the root stdlib logger.

    Args:
        level: the lowest structlog level shown; stdlib loggers show WARNING and above at least
            (grpc and the SDK are chatty at INFO).
        stream: where lines go; ``sys.stderr`` (as it is at call time) by default.
        json: force JSON (True) or readable lines (False); None decides by ``stream.isatty()``.
        taps: structlog processors that see each event after the level filter, before rendering.

    Raises:
        ValueError: an unknown level name.
    """
    out = sys.stderr if stream is None else stream
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    use_json = not out.isatty() if json is None else json
    # ConsoleRenderer formats exceptions itself; JSON needs them turned into text first.
    render: list[Processor] = (
        [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
        if use_json
        else [structlog.dev.ConsoleRenderer(colors=False)]
    )
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, *taps, *render],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *render],
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(numeric, logging.WARNING))
