"""The floor: a bare grpc.aio server with only the standard health service, nothing else.

Run as a subprocess by `benchmarks/run.py` (same interpreter, same grpcio as the provider), so
`Health/Check` against it is the cheapest unary RPC this stack can make on this machine.
Prints one JSON line `{"event":"ready","port":N}` on stdout, then serves until SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys

import grpc
from grpc_health.v1 import health as grpc_health
from grpc_health.v1 import health_pb2, health_pb2_grpc


async def main() -> None:
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    health = grpc_health.aio.HealthServicer()
    await health.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    sys.stdout.write(json.dumps({"event": "ready", "port": port}) + "\n")
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop(0)


if __name__ == "__main__":
    asyncio.run(main())
