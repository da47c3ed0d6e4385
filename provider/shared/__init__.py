"""State shared by provider replicas through Redis (issue 19).

With ``PROVIDER_REDIS_URL`` unset nothing here is used: each process keeps its own in-process state,
exactly as a single provider always did. Modules import ``redis`` themselves; this package imports
nothing, so a pure core never drags the client in.
"""

__all__: list[str] = []
