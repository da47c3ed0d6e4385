"""`python -m gateway` over stdio, spoken to line by line (JSON-RPC), so a test controls exactly which
messages the gateway gets and when (e.g. `notifications/cancelled` while a call is in flight)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.stack import gateway_params

WAIT_S = 30.0


class RawStdio:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls, address: str, capabilities: dict[str, Any] | None = None) -> RawStdio:
        """Starts the gateway and completes the 2025-era handshake with ``capabilities``."""
        params = gateway_params(address)
        proc = await asyncio.create_subprocess_exec(
            params.command, *params.args, env=params.env, cwd=params.cwd, limit=2**24,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        )
        gateway = cls(proc)
        await gateway.send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": capabilities or {},
            "clientInfo": {"name": "raw", "version": "1"}}})
        assert (await gateway.answer(1)) is not None
        await gateway.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return gateway

    async def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(message) + "\n").encode())
        await self.proc.stdin.drain()

    async def next_message(self) -> dict[str, Any] | None:
        """The next message the gateway writes; None when it closed stdout."""
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), WAIT_S)
        return json.loads(line) if line else None

    async def answer(self, request_id: int) -> dict[str, Any] | None:
        """The answer to ``request_id``, skipping other messages; None when the gateway closed stdout."""
        while True:
            message = await self.next_message()
            if message is None or (message.get("id") == request_id and "method" not in message):
                return message

    async def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), 15)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
