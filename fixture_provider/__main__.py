"""`python -m fixture_provider [--listen HOST:PORT]`: serve the conformance fixture over gRPC.

Prints one JSON line on stdout when serving: `{"event":"ready","address":"127.0.0.1:PORT"}`.
Plaintext gRPC, so loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Sequence

from fixture_provider.server import create_server

__all__ = ["main"]


async def _serve(listen: str) -> None:
    server, port = await create_server(listen)
    host = listen.rpartition(":")[0]
    print(json.dumps({"event": "ready", "address": f"{host}:{port}"}), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop(grace=1.0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fixture-provider", description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default="127.0.0.1:50070", help="HOST:PORT (port 0: any free port)")
    args = parser.parse_args(argv)
    if args.listen.rpartition(":")[0] not in ("127.0.0.1", "localhost", "[::1]"):
        parser.error("plaintext gRPC: --listen must be a loopback address")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.listen))
    return 0


if __name__ == "__main__":
    sys.exit(main())
