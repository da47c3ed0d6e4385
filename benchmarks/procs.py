"""Start the processes the benchmark and the soak measure, and time how long they take to be ready.

Reuses `tests/stack.py` (provider) and `tests/sim_fixture.py` (sandbox) so the benchmark runs
exactly what the end-to-end tests run. Readiness is polled every few milliseconds here (the test
helpers poll every 100 ms, too coarse to time a cold start).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TextIO

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from tests.stack import ROOT, ProviderProcess, child_env, free_port, gateway_params, wait_serving

__all__ = [
    "EchoServer",
    "mcp_floor_params",
    "mcp_http_session",
    "mcp_stdio_session",
    "start_provider_timed",
    "wait_serving_fast",
]

POLL_S = 0.005


async def wait_serving_fast(address: str, timeout_s: float = 30.0) -> None:
    """Return as soon as gRPC health answers SERVING: `tests.stack.wait_serving` polled every 5 ms.

    Its fresh channel per attempt matters here: a channel that saw the port refused backs off before it
    connects again (even at 5-20 ms options it lagged a server's start by 15-110 ms, median ~45 ms,
    against ~11 ms for a fresh channel), and the floor's poll starts only once its server is up, so
    the provider's start would carry that lag and the floor's would not.
    """
    await wait_serving(address, timeout_s, poll_s=POLL_S, check_timeout_s=0.5)


async def start_provider_timed(env: dict[str, str]) -> tuple[ProviderProcess, float]:
    """Start the provider; return it and the seconds from exec to health SERVING."""
    port = free_port()
    start = time.perf_counter()

    async def serving_after() -> float:
        await wait_serving_fast(f"127.0.0.1:{port}")
        return time.perf_counter() - start

    # Timed by the fast poller itself: ProviderProcess.start's own readiness check polls coarsely.
    poller = asyncio.create_task(serving_after())
    provider = await ProviderProcess.start(env, port=port)
    return provider, await poller


class EchoServer:
    """`benchmarks/echo_server.py` as a subprocess: the bare grpc.aio floor."""

    def __init__(self, proc: asyncio.subprocess.Process, port: int, startup_s: float) -> None:
        self.proc = proc
        self.address = f"127.0.0.1:{port}"
        self.startup_s = startup_s

    @classmethod
    async def start(cls) -> EchoServer:
        start = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "benchmarks" / "echo_server.py"), cwd=str(ROOT), env=child_env({}),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        )
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        port = int(json.loads(line)["port"])
        await wait_serving_fast(f"127.0.0.1:{port}")
        return cls(proc, port, time.perf_counter() - start)

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.terminate()
            await asyncio.wait_for(self.proc.wait(), 10)


def mcp_floor_params(*extra: str) -> StdioServerParameters:
    """stdio command of the trivial MCP server (`benchmarks/mcp_floor_server.py`)."""
    return StdioServerParameters(command=sys.executable,
                                 args=[str(ROOT / "benchmarks" / "mcp_floor_server.py"), *extra],
                                 env=child_env({}), cwd=str(ROOT))


def gateway_stdio_params(provider_address: str, *extra: str) -> StdioServerParameters:
    return gateway_params(provider_address, extra_args=tuple(extra))


@asynccontextmanager
async def mcp_stdio_session(params: StdioServerParameters, errlog: TextIO) -> AsyncIterator[ClientSession]:
    """An initialised MCP client session over stdio to a freshly started server process."""
    async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


@asynccontextmanager
async def http_server(args: list[str], log_path: Path) -> AsyncIterator[str]:
    """Start an MCP server that prints a `{"event":"ready","url":...}` line; yield the URL."""
    with log_path.open("ab") as log:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, *args, cwd=str(ROOT), env=child_env({}),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=log,
        )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        if not line:
            raise RuntimeError(f"{args} exited before ready; see {log_path}")
        yield str(json.loads(line)["url"])
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()


@asynccontextmanager
async def mcp_http_session(url: str) -> AsyncIterator[ClientSession]:
    async with (
        create_mcp_http_client() as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


def rss_kib(pid: int) -> int:
    """Resident set size of a process from /proc (KiB), 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


def describe_machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import os
    import platform
    from importlib.metadata import version

    import grpc as grpc_mod

    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"python": platform.python_version(), "cores": os.cpu_count(), "cpu": cpu,
            "grpcio": grpc_mod.__version__, "mcp": version("mcp")}
