"""The provider's logging: the shared set-up of both processes (``common/logs.py``).

JSON lines on stderr when not on a terminal, readable lines on a terminal, stdlib records included.
"""

from __future__ import annotations

from common.logs import configure_logging

__all__ = ["configure"]


def configure(level: str = "info") -> None:
    """Configure structlog and stdlib logging at ``level`` (see :func:`common.logs.configure_logging`)."""
    configure_logging(level)
