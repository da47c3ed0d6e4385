"""Small pure helpers both processes use (the gateway never imports the provider, so they live here).

Each module has one job and imports nothing of ``provider``, ``gateway`` or ``simulator``:
``backoff`` (retry delays) and ``logs`` (structlog and stdlib logging set-up).
"""

__all__: list[str] = []
