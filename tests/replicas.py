"""Several provider replicas and several HTTP gateways on one sandbox and one Redis (issue #19).

    async with replica_stack(providers=3, gateways=2) as stack:
        stack.sim, stack.redis.url, stack.providers[i].address, stack.gateways[j].url
        async with stack.client(Dispatch.AFFINITY) as http: ...   # an httpx2 client for MCP

Every gateway is `python -m gateway --transport http` with one provider `binance` at every
provider's address (the gateway balances over them) and the same `MCP_GATEWAY_STATE_KEYS`, as
in the deployment example (deploy/README.md). Providers share the sandbox and Redis
(`PROVIDER_REDIS_URL`); they drain in 1 s so a stop is quick.

The load balancer in front of the gateways is played by an httpx2 transport (`Dispatch`):
- ROUND_ROBIN sends every request to the next gateway: right for 2026-era (stateless) requests;
- AFFINITY sends a request carrying `Mcp-Session-Id` to the gateway that issued that id (learned
  from the response that carried it, as HAProxy's `stick store-response` does) and the others
  round robin: what 2025-era (handshake) sessions need, since their state lives in one gateway.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
import sys
import tempfile
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import grpc
import httpx2

from contracts.provider.v1 import provider_pb2, provider_pb2_grpc
from tests.redis_server import RedisServer
from tests.sim_fixture import SimProcess
from tests.stack import ROOT, ProviderProcess, child_env, free_port, sandbox_env

SESSION_HEADER = "mcp-session-id"
_READY_TIMEOUT_S = 60.0
"""Five Python processes importing gRPC and the MCP SDK at once on 2 busy cores take a while."""


@dataclass
class GatewayProcess:
    """`python -m gateway --transport http` on a free loopback port; `url` is its MCP endpoint."""

    args: tuple[str, ...]
    env: dict[str, str]
    url: str = ""
    proc: asyncio.subprocess.Process | None = None
    log_path: Path = field(default_factory=lambda: Path(tempfile.mkstemp(prefix="gateway-", suffix=".log")[1]))

    async def launch(self) -> None:
        with self.log_path.open("ab") as err:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "gateway",
                "--transport",
                "http",
                "--listen",
                "127.0.0.1:0",
                *self.args,
                cwd=str(ROOT),
                env=child_env(self.env),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=err,
            )
        assert self.proc.stdout is not None
        try:
            async with asyncio.timeout(_READY_TIMEOUT_S):
                line = await self.proc.stdout.readline()
        except TimeoutError:
            await self.stop()
            raise RuntimeError(f"gateway not ready; log:\n{self.logs()[-3000:]}") from None
        if not line:
            raise RuntimeError(f"gateway exited; log:\n{self.logs()[-3000:]}")
        ready = json.loads(line)
        self.url = ready["url"]

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def wait_logged(self, event: str, **fields: str) -> None:
        """Wait until the gateway has logged `event` with `fields` (the caller bounds the wait).

        A log file has no change notification to wait on, so it is re-read every 50 ms.
        """
        while True:
            for e in json_lines(self.logs()):
                if e.get("event") == event and all(e.get(k) == v for k, v in fields.items()):
                    return
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.proc.terminate()
        try:
            await asyncio.wait_for(self.proc.wait(), 10)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


class Dispatch(Enum):
    """How the stand-in load balancer picks a gateway."""

    ROUND_ROBIN = "round_robin"
    AFFINITY = "affinity"


class DispatchTransport(httpx2.AsyncBaseTransport):
    """A load balancer in front of the gateways, in the client process (see the module docstring)."""

    def __init__(self, urls: list[str], dispatch: Dispatch) -> None:
        self._targets = [urlsplit(u) for u in urls]
        self._turn = itertools.cycle(range(len(urls)))
        self._dispatch = dispatch
        self._inner = httpx2.AsyncHTTPTransport()
        self.sessions: dict[str, int] = {}
        """Session id → the gateway that issued it (learned from responses)."""
        self.sent: Counter[int] = Counter()
        """Requests sent to each gateway."""

    def _choose(self, request: httpx2.Request) -> int:
        session = request.headers.get(SESSION_HEADER)
        if self._dispatch is Dispatch.AFFINITY and session is not None and session in self.sessions:
            return self.sessions[session]
        return next(self._turn)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        index = self._choose(request)
        target = self._targets[index]
        request.url = request.url.copy_with(host=target.hostname, port=target.port)
        request.headers["host"] = target.netloc
        self.sent[index] += 1
        response = await self._inner.handle_async_request(request)
        issued = response.headers.get(SESSION_HEADER)
        if issued is not None:
            self.sessions.setdefault(issued, index)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


@dataclass
class ReplicaStack:
    """The running processes; see `replica_stack`."""

    sim: SimProcess
    redis: RedisServer | None
    providers: list[ProviderProcess]
    gateways: list[GatewayProcess]

    @property
    def url(self) -> str:
        """The address clients use (any host: the dispatch transport rewrites it)."""
        return self.gateways[0].url

    def client(self, dispatch: Dispatch, timeout_s: float = 30.0) -> tuple[httpx2.AsyncClient, DispatchTransport]:
        """An httpx2 client for `streamable_http_client`, behind the stand-in load balancer."""
        transport = DispatchTransport([g.url for g in self.gateways], dispatch)
        return httpx2.AsyncClient(transport=transport, timeout=timeout_s), transport

    async def wait_balanced(self, limit_s: float = _READY_TIMEOUT_S) -> None:
        """Wait (bounded) until every gateway has discovered every replica (its `replica_discovered` log)."""
        async with asyncio.timeout(limit_s):
            for gateway in self.gateways:
                for provider in self.providers:
                    await gateway.wait_logged("replica_discovered", address=provider.address)

    def provider_events(self, index: int) -> list[dict[str, Any]]:
        """Provider `index`'s log, one dict a JSON line (other lines skipped)."""
        return json_lines(self.providers[index].logs())


async def invoke(address: str, tool: str, arguments: dict[str, Any], timeout_s: float = 15.0) -> dict[str, Any]:
    """Call one replica's tool directly over provider.v1 (no gateway); returns its structured result.

    Raises:
        AssertionError: the tool answered an error.
    """
    request = provider_pb2.InvokeToolRequest(name=tool, arguments_json=json.dumps(arguments))
    async with grpc.aio.insecure_channel(address) as channel:
        stub = cast(Any, provider_pb2_grpc.ProviderStub)(channel)
        reply: provider_pb2.InvokeToolResponse = await stub.InvokeTool(request, timeout=timeout_s)
    assert not reply.is_error, reply.text
    result: dict[str, Any] = json.loads(reply.structured_json)
    return result


def json_lines(text: str) -> list[dict[str, Any]]:
    """The JSON objects of a log, one a line; lines that are not JSON objects are skipped."""
    out: list[dict[str, Any]] = []
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            value = json.loads(line)
            if isinstance(value, dict):
                out.append(value)
    return out


def provider_env(sim: SimProcess, redis: RedisServer | None, **extra: str) -> dict[str, str]:
    """A replica's environment: the shared sandbox and Redis, a quick drain."""
    env = sandbox_env(sim.info, trading=True, PROVIDER_GRACE_S="1")
    if redis is not None:
        env["PROVIDER_REDIS_URL"] = redis.url
    return {**env, **extra}


@contextlib.asynccontextmanager
async def replica_stack(
    providers: int = 3,
    gateways: int = 2,
    *,
    redis: bool = True,
    sim_args: tuple[str, ...] = ("--faults",),
    provider_extra: dict[str, str] | None = None,
) -> AsyncIterator[ReplicaStack]:
    """Start the sandbox, Redis, `providers` replicas and `gateways` HTTP gateways; stop them after.

    Gateways start alongside the providers (their addresses are chosen first): a gateway waits
    for the first replica to serve and discovers the others as they come.
    """
    sim, server = await _sandbox_and_redis(sim_args, redis)
    env = provider_env(sim, server, **(provider_extra or {}))
    procs = [ProviderProcess(env=env, port=free_port(), ready_timeout_s=_READY_TIMEOUT_S) for _ in range(providers)]
    spec = "binance=" + ",".join(p.address for p in procs)
    state_key = secrets.token_urlsafe(32)
    gws = [GatewayProcess(("--provider", spec), {"MCP_GATEWAY_STATE_KEYS": state_key}) for _ in range(gateways)]
    try:
        started = await asyncio.gather(*(p.launch() for p in procs), *(g.launch() for g in gws), return_exceptions=True)
        failed = [r for r in started if isinstance(r, BaseException)]
        if failed:
            raise failed[0]
        stack = ReplicaStack(sim, server, procs, gws)
        await stack.wait_balanced()
        yield stack
    finally:
        await asyncio.gather(*(g.stop() for g in gws), *(p.stop() for p in procs), return_exceptions=True)
        if server is not None:
            await server.close()
        await sim.stop()


async def _sandbox_and_redis(sim_args: tuple[str, ...], redis: bool) -> tuple[SimProcess, RedisServer | None]:
    """Both at once; neither is left running when the other fails to start."""
    started = await asyncio.gather(
        SimProcess.start(*sim_args), RedisServer.start() if redis else _none(), return_exceptions=True
    )
    sim, server = started
    if isinstance(sim, BaseException) or isinstance(server, BaseException):
        if isinstance(server, RedisServer):
            await server.close()
        if isinstance(sim, SimProcess):
            await sim.stop()
        raise next(r for r in started if isinstance(r, BaseException))
    return sim, server


async def _none() -> None:
    return None
