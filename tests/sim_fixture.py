"""Start the sandbox exchange as a real subprocess for tests (see the common brief).

    sim = await SimProcess.start("--faults", "--rate", "200")
    sim.info.rest_url, sim.info.ws_url, sim.info.api_key, ...
    await sim.fault("gap", symbol="BTCUSDT")
    book = await sim.ground_truth("BTCUSDT")
    await sim.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parent.parent
READY_TIMEOUT_S = 60.0  # a bound against a hang, not a speed claim: starts on two busy cores can take 20 s


@dataclass(frozen=True)
class SimInfo:
    """The sandbox's ready line."""

    rest_url: str
    ws_url: str
    ws_api_url: str
    api_key: str
    api_secret: str
    ed25519_api_key: str
    ed25519_private_key_file: str


class SimProcess:
    """A running `python -m simulator` subprocess plus helpers for its /sim control API."""

    def __init__(self, proc: asyncio.subprocess.Process, info: SimInfo) -> None:
        self.proc = proc
        self.info = info
        self._stderr_task: asyncio.Task[None] | None = None
        self.stderr_lines: list[str] = []

    @classmethod
    async def start(cls, *extra_cli_args: str) -> SimProcess:
        """Start the sandbox on a free loopback port and wait for its ready line."""
        env = dict(os.environ)
        env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "simulator", "--port", "0", *extra_cli_args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=str(REPO),
            env=env,
        )
        assert proc.stdout is not None
        try:
            line = await asyncio.wait_for(proc.stdout.readline(), READY_TIMEOUT_S)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise RuntimeError("simulator did not become ready") from None
        if not line:
            err = b""
            if proc.stderr is not None:
                err = await proc.stderr.read()
            await proc.wait()
            raise RuntimeError(f"simulator exited: {err.decode(errors='replace')[-2000:]}")
        data = json.loads(line)
        assert data["event"] == "ready", data
        info = SimInfo(**{k: data[k] for k in SimInfo.__dataclass_fields__})
        sim = cls(proc, info)
        sim._stderr_task = asyncio.create_task(sim._drain_stderr())
        return sim

    async def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        while True:
            line = await self.proc.stderr.readline()
            if not line:
                return
            self.stderr_lines.append(line.decode(errors="replace"))
            del self.stderr_lines[:-500]

    async def control(self, method: str, path: str, json: Any = None) -> Any:
        """Call a `/sim/*` control endpoint and return its JSON (raises on HTTP errors)."""
        async with aiohttp.ClientSession() as s, s.request(
            method, self.info.rest_url + path, json=json
        ) as r:
            body = await r.json(content_type=None)
            if r.status >= 400:
                raise RuntimeError(f"{method} {path} -> {r.status}: {body}")
            return body

    async def fault(self, kind: str, **params: Any) -> dict[str, Any]:
        """Arm a fault (`POST /sim/fault`)."""
        result: dict[str, Any] = await self.control("POST", "/sim/fault", {"kind": kind, **params})
        return result

    async def wait_held(self, timeout_s: float = 30.0) -> None:
        """Returns once the sandbox holds a request (a `hold_ms` fault): the call is at the exchange."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while (await self.control("GET", "/sim/held"))["held"] == 0:
            assert loop.time() < deadline, "the request never reached the sandbox"
            await asyncio.sleep(0.05)

    async def ground_truth(self, symbol: str) -> dict[str, Any]:
        """The full book at its current update id (`GET /sim/book`)."""
        result: dict[str, Any] = await self.control("GET", f"/sim/book?symbol={symbol}")
        return result

    async def stop(self) -> None:
        """Terminate the process (SIGTERM, then SIGKILL after 5 s)."""
        if self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 5)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        if self._stderr_task is not None:
            self._stderr_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._stderr_task
