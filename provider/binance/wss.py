"""One TLS context for every WebSocket connection to the exchange.

Given no context, websockets (through asyncio) builds a new ``ssl.create_default_context()`` for each
``wss://`` connection, loading the system CA bundle each time: ~45 ms of CPU on the event loop's
thread for every book connection, renewal and user data stream, during which no call is served. One
verifying context, built on first use, serves them all (an ``SSLContext`` is made to be shared).
"""

from __future__ import annotations

import functools
import ssl
from urllib.parse import urlsplit

__all__ = ["ssl_for"]


@functools.cache
def _verifying() -> ssl.SSLContext:
    return ssl.create_default_context()


def ssl_for(url: str) -> ssl.SSLContext | None:
    """The context for ``url``: the shared verifying one for ``wss://``, None for ``ws://`` (the sandbox)."""
    return _verifying() if urlsplit(url).scheme.lower() == "wss" else None
