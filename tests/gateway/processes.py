"""Real processes for gateway tests: the fixture provider, an HTTP gateway, the pinned Node tools.

`fixture_provider()` runs `python -m fixture_provider` on a free port; `http_gateway(*args)` runs
`python -m gateway --transport http` and yields its URL (`gateway_process(argv)`: any such command);
`node_bin()` installs (once) and returns the directory of the pinned Node tools (`scripts/node-tools`),
or skips the test when Node cannot be installed here, unless `MCP_REQUIRE_NODE_TOOLS=1` (CI) makes
that a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REQUIRE_ENV = "MCP_REQUIRE_NODE_TOOLS"
_INSTALL_TIMEOUT_S = 600


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BINANCE_", "PROVIDER_", "MCP_GATEWAY_"))}
    return {**env, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", **extra}


async def _ready_line(proc: asyncio.subprocess.Process, what: str, limit_s: float = 60.0) -> dict[str, str]:
    assert proc.stdout is not None
    try:
        async with asyncio.timeout(limit_s):
            line = await proc.stdout.readline()
    except TimeoutError:
        raise AssertionError(f"{what} printed no ready line within {limit_s:g} s") from None
    if not line:
        raise AssertionError(f"{what} exited before it was ready (code {await proc.wait()})")
    ready: dict[str, str] = json.loads(line)
    assert ready["event"] == "ready", ready
    return ready


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            async with asyncio.timeout(10):
                await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()


@contextlib.asynccontextmanager
async def fixture_provider(log: Path) -> AsyncIterator[str]:
    """The conformance fixture provider on a free loopback port; yields its gRPC address."""
    with log.open("wb") as err:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "fixture_provider",
            "--listen",
            "127.0.0.1:0",
            cwd=str(ROOT),
            env=child_env(),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=err,
        )
    try:
        ready = await _ready_line(proc, "fixture provider")
        yield ready["address"]
    finally:
        await _stop(proc)


@contextlib.asynccontextmanager
async def gateway_process(
    argv: Sequence[str], *, log: Path | None = None, env: dict[str, str] | None = None,
    procs: list[asyncio.subprocess.Process] | None = None,
) -> AsyncIterator[str]:
    """Runs ``argv`` (a gateway over HTTP), yields the URL its ready line gives, stops it.

    ``log``: a file for its stderr (JSON log lines); ``env``: its environment (default `child_env()`);
    ``procs``: a list that gets the process.
    """
    with log.open("wb") if log is not None else contextlib.nullcontext() as err:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=str(ROOT),
            env=child_env() if env is None else env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL if err is None else err,
        )
    if procs is not None:
        procs.append(proc)
    try:
        ready = await _ready_line(proc, "gateway")
        yield ready["url"]
    finally:
        await _stop(proc)


@contextlib.asynccontextmanager
async def http_gateway(
    *args: str, log: Path | None = None, procs: list[asyncio.subprocess.Process] | None = None
) -> AsyncIterator[str]:
    """`python -m gateway --transport http --listen 127.0.0.1:0 ARGS`; yields its MCP URL."""
    argv = (sys.executable, "-m", "gateway", "--transport", "http", "--listen", "127.0.0.1:0", *args)
    async with gateway_process(argv, log=log, procs=procs) as url:
        yield url


def fixture_config(path: Path, address: str) -> Path:
    """A gateway TOML config with the fixture provider, its tool names kept as given."""
    path.write_text(f'[[providers]]\nname = "fixture"\naddress = "{address}"\nnamespace = false\n')
    return path


_installed: Path | None = None


def node_bin() -> Path:
    """The pinned Node tools' bin directory (installed once per test session by scripts/node-tools)."""
    global _installed
    if _installed is not None:
        return _installed
    try:
        done = subprocess.run(
            [str(ROOT / "scripts" / "node-tools")],
            cwd=str(ROOT),
            capture_output=True,
            text=True,
            timeout=_INSTALL_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        _missing(f"scripts/node-tools did not finish: {exc}")
    if done.returncode != 0:
        _missing(f"scripts/node-tools failed (exit {done.returncode}): {done.stderr.strip()[-1500:]}")
    _installed = ROOT / done.stdout.strip().splitlines()[-1] / "node_modules" / ".bin"
    return _installed


def _missing(why: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"Node tools are required here ({REQUIRE_ENV}=1): {why}")
    pytest.skip(f"Node 22 tools unavailable, so this test cannot run here: {why}")


def node_env(bin_dir: Path, **extra: str) -> dict[str, str]:
    """An environment whose `node` is the pinned Node 22 (the tools' `#!/usr/bin/env node` find it)."""
    env = child_env(**extra)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["NO_COLOR"] = "1"
    return env
