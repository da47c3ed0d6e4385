"""Starts the real processes of the product for end-to-end tests and the demo.

`ProviderProcess` runs `python -m provider` against a sandbox, bound to a free port, and waits until
gRPC health says SERVING. `gateway_params` gives the stdio command of `python -m gateway` for the
`mcp` SDK's `stdio_client`. Logs go to files (never to pipes nobody reads), so a chatty process
cannot block.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from mcp import StdioServerParameters

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def sandbox_env(info: Any, *, trading: bool = True, ed25519: bool = False, **extra: str) -> dict[str, str]:
    """Provider environment variables for a running sandbox (`SimProcess.info`)."""
    env = {
        "BINANCE_ENV": "sandbox",
        "BINANCE_REST_URL": info.rest_url,
        "BINANCE_WS_URL": info.ws_url,
        "BINANCE_TRADING_ENABLED": "true" if trading else "false",
    }
    if ed25519:
        env["BINANCE_API_KEY"] = info.ed25519_api_key
        env["BINANCE_PRIVATE_KEY_FILE"] = info.ed25519_private_key_file
    else:
        env["BINANCE_API_KEY"] = info.api_key
        env["BINANCE_API_SECRET"] = info.api_secret
    env.update(extra)
    return env


def child_env(extra: dict[str, str]) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("BINANCE_", "PROVIDER_"))}
    base["PYTHONPATH"] = str(ROOT)
    base["PYTHONUNBUFFERED"] = "1"
    return {**base, **extra}


async def wait_serving(
    address: str,
    timeout_s: float = 60.0,
    credentials: grpc.ChannelCredentials | None = None,
    *,
    poll_s: float = 0.1,
    check_timeout_s: float = 1.0,
) -> None:
    """Poll health until SERVING; `credentials` for a provider that speaks TLS (the benchmark's cold
    row polls every few milliseconds, `benchmarks/procs.py`).

    Each attempt opens a fresh channel (with a local subchannel pool): a channel that saw the port
    refused backs off before it connects again (1 s, then 1.6x more each time), so under load a
    provider that took 10 s to start was seen SERVING only well after, or past the deadline.
    """
    deadline = asyncio.get_running_loop().time() + timeout_s
    options = [("grpc.use_local_subchannel_pool", 1)]
    while True:
        channel = (
            grpc.aio.secure_channel(address, credentials, options=options)
            if credentials is not None
            else grpc.aio.insecure_channel(address, options=options)
        )
        async with channel:
            try:
                stub = health_pb2_grpc.HealthStub(channel)
                reply = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=check_timeout_s)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.aio.AioRpcError:
                pass
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"provider at {address} not SERVING after {timeout_s}s")
        await asyncio.sleep(poll_s)


@dataclass
class ProviderProcess:
    env: dict[str, str]
    port: int = 0
    proc: asyncio.subprocess.Process | None = None
    log_path: Path = field(default_factory=lambda: Path(tempfile.mkstemp(prefix="provider-", suffix=".log")[1]))
    credentials: grpc.ChannelCredentials | None = None
    """Channel credentials the readiness check uses when the provider speaks TLS."""
    ready_timeout_s: float = 60.0
    """How long `launch` waits for SERVING (several processes starting at once on 2 cores need more)."""

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @classmethod
    async def start(
        cls, env: dict[str, str], port: int | None = None, credentials: grpc.ChannelCredentials | None = None
    ) -> ProviderProcess:
        p = cls(env=env, port=port or free_port(), credentials=credentials)
        await p.launch()
        return p

    async def launch(self) -> None:
        env = child_env(
            {
                "PROVIDER_LISTEN": self.address,
                "PROVIDER_AUDIT_LOG": str(self.log_path.with_suffix(".audit")),
                **self.env,
            }
        )
        log = self.log_path.open("ab")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "provider",
            cwd=str(ROOT),
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
        log.close()
        try:
            await wait_serving(self.address, self.ready_timeout_s, credentials=self.credentials)
        except TimeoutError:
            await self.stop()
            raise TimeoutError(f"provider did not start; log:\n{self.logs()[-4000:]}") from None

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def audit(self) -> str:
        path = self.log_path.with_suffix(".audit")
        return path.read_text() if path.exists() else ""

    async def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 15.0) -> int | None:
        if self.proc is None or self.proc.returncode is not None:
            return self.proc.returncode if self.proc else None
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(sig)
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout_s)
        except TimeoutError:
            self.proc.kill()
            return await self.proc.wait()

    async def restart(self) -> None:
        await self.stop()
        await self.launch()


def gateway_params(*providers: str, extra_args: tuple[str, ...] = ()) -> StdioServerParameters:
    """stdio command for `python -m gateway --provider binance=ADDR ...`."""
    args = ["-m", "gateway"]
    for p in providers:
        args += ["--provider", p if "=" in p else f"binance={p}"]
    return StdioServerParameters(command=sys.executable, args=[*args, *extra_args], env=child_env({}), cwd=str(ROOT))
