"""A real `redis-server` for tests: free loopback port, temp dir, no persistence; can be killed and restarted.

A first start marks the providers' default prefixes known-empty (`provider/shared/ledger.py` rule 6, as an
operator would for a new Redis), so orders are not held back; a relaunch after `kill`/`restart` does not:
that is a lost Redis, as in production.

`scripts/setup` installs the server (Debian's `redis-server`); `REDIS_SERVER` names another binary.
Readiness is a PING answered, never a sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from provider.shared.ledger import mark_known_empty
from provider.shared.redis_conn import client
from tests.stack import free_port

#: the prefixes a fresh test server is marked known-empty for (`binance-mcp:<BINANCE_ENV>:`)
DEFAULT_PREFIXES = ("binance-mcp:sandbox:", "binance-mcp:testnet:")


def server_binary() -> str:
    """Path of redis-server, or an error saying how to install it."""
    found = os.environ.get("REDIS_SERVER") or shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(found).is_file():
        raise RuntimeError(
            "redis-server not found: run scripts/setup (installs Debian's redis-server) or set REDIS_SERVER"
        )
    return found


async def _pong(port: int) -> bool:
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    try:
        writer.write(b"PING\r\n")
        await writer.drain()
        return (await asyncio.wait_for(reader.readline(), 2)).startswith(b"+PONG")
    except (OSError, TimeoutError):
        return False
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


@dataclass
class RedisServer:
    """One redis-server process on 127.0.0.1:`port`; `url` is what PROVIDER_REDIS_URL takes."""

    port: int = field(default_factory=free_port)
    dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="redis-")))
    proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @classmethod
    async def start(cls, known_empty: tuple[str, ...] = DEFAULT_PREFIXES) -> RedisServer:
        """A first start: nothing can be in flight, so the `known_empty` prefixes hold no order back."""
        server = cls()
        await server.launch()
        try:
            for prefix in known_empty:
                await server.mark_known_empty(prefix)
        except BaseException:
            await server.close()
            raise
        return server

    async def mark_known_empty(self, prefix: str) -> None:
        """What an operator runs on a new Redis (`python -m provider.shared.ledger known-empty`)."""
        conn = client(self.url)
        try:
            await mark_known_empty(conn, prefix)
        finally:
            await conn.aclose()

    async def launch(self, timeout_s: float = 10.0) -> None:
        """Start the process (again, on the same port) and wait until it answers PING."""
        log = (self.dir / "redis.log").open("ab")
        self.proc = await asyncio.create_subprocess_exec(
            server_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
            "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes",
            stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
        )
        log.close()
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not await _pong(self.port):
            if self.proc.returncode is not None or asyncio.get_running_loop().time() > deadline:
                await self.stop()
                raise RuntimeError(f"redis-server did not start; log:\n{self.logs()[-2000:]}")
            await asyncio.sleep(0.02)

    def logs(self) -> str:
        path = self.dir / "redis.log"
        return path.read_text(errors="replace") if path.exists() else ""

    async def kill(self) -> None:
        """SIGKILL: the abrupt loss the failure tests need (state is gone, as with a lost host)."""
        await self.stop(signal.SIGKILL)

    async def restart(self) -> None:
        """Stop and start again: empty, and not marked known-empty (a lost Redis)."""
        await self.stop()
        await self.launch()

    async def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(sig)
        try:
            await asyncio.wait_for(self.proc.wait(), 10)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()

    async def close(self) -> None:
        await self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.asynccontextmanager
async def running_redis() -> AsyncIterator[RedisServer]:
    """A started server, stopped and its directory removed afterwards."""
    server = await RedisServer.start()
    try:
        yield server
    finally:
        await server.close()
