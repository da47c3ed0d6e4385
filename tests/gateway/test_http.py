"""The gateway over Streamable HTTP, as a real subprocess, with the SDK's HTTP client."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
import mcp_types as types
from mcp import Client, ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from gateway.http import _LOG_INTERVAL_S
from tests.gateway import processes
from tests.gateway.conftest import ROOT, Notifications
from tests.gateway.fake_provider import FakeProvider

TOKEN = "test-token-123"
_INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "raw", "version": "0"},
    },
}
_MCP_HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


@contextlib.asynccontextmanager
async def http_gateway(
    fake: FakeProvider, *extra: str, errlog: Path | None = None, procs: list[Any] | None = None
) -> AsyncIterator[str]:
    """`python -m gateway --transport http` in front of `fake` on a free port; yields its MCP URL.

    `errlog`: a file for its stderr (JSON log lines); `procs`: a list that gets the process.
    """
    async with processes.http_gateway("--provider", f"fake={fake.address}", *extra, log=errlog, procs=procs) as url:
        yield url


def _client(headers: dict[str, str] | None = None) -> httpx2.AsyncClient:
    return create_mcp_http_client(headers=headers)


async def test_http_refuses_missing_token_bad_origin_bad_host_and_big_bodies(
    fake: FakeProvider,
) -> None:
    auth = {"authorization": f"Bearer {TOKEN}", **_MCP_HEADERS}
    async with (
        http_gateway(fake, "--token", TOKEN, "--max-request-bytes", "2000") as url,
        httpx2.AsyncClient() as http,
    ):
        no_token = await http.post(url, json=_INIT, headers=_MCP_HEADERS)
        wrong = await http.post(url, json=_INIT, headers={**auth, "authorization": "Bearer x"})
        origin = await http.post(url, json=_INIT, headers={**auth, "origin": "http://evil.example"})
        host = await http.post(url, json=_INIT, headers={**auth, "host": "evil.example:80"})
        big = await http.post(url, content=b"{" + b" " * 5000 + b"}", headers=auth)
        ok = await http.post(url, json=_INIT, headers={**auth, "origin": "http://localhost:3000"})
    assert (no_token.status_code, wrong.status_code) == (401, 401)
    assert no_token.headers["www-authenticate"] == "Bearer"
    assert origin.status_code == 403
    assert host.status_code == 421
    assert big.status_code == 413
    assert ok.status_code == 200


async def test_bearer_scheme_is_case_insensitive_and_oauth_discovery_answers_404(fake: FakeProvider) -> None:
    def auth(value: str) -> dict[str, str]:
        return {**_MCP_HEADERS, "authorization": value}

    async with http_gateway(fake, "--token", TOKEN) as url, httpx2.AsyncClient() as http:
        accepted = [
            (await http.post(url, json=_INIT, headers=auth(value))).status_code
            for value in (f"bearer {TOKEN}", f"BEARER  {TOKEN}", f"Bearer {TOKEN}")
        ]
        refused = [
            (await http.post(url, json=_INIT, headers=auth(value))).status_code
            for value in (f"Basic {TOKEN}", f"Bearer{TOKEN}", TOKEN, f"bearer {TOKEN}x")
        ]
        base = url.removesuffix("/mcp")
        discovery = [
            (await http.get(base + path)).status_code
            for path in (
                "/.well-known/oauth-protected-resource",
                "/.well-known/oauth-protected-resource/mcp",
                "/.well-known/oauth-authorization-server",
                "/.well-known/openid-configuration",
            )
        ]
        other = await http.get(base + "/elsewhere")
    assert accepted == [200, 200, 200]
    assert refused == [401, 401, 401, 401]
    assert discovery == [404, 404, 404, 404]
    assert other.status_code == 401  # only discovery is answered without a token


async def test_several_concurrent_clients_in_both_eras(fake: FakeProvider) -> None:
    headers = {"authorization": f"Bearer {TOKEN}"}

    async def modern(i: int) -> list[Any]:
        async with _client(headers) as http, Client(streamable_http_client(url, http_client=http)) as client:
            calls = [client.call_tool("fake_echo", {"text": f"m{i}-{k}"}) for k in range(5)]
            return [r.structured_content for r in await asyncio.gather(*calls)]

    async def legacy(i: int) -> list[Any]:
        async with (
            _client(headers) as http,
            streamable_http_client(url, http_client=http) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            tools = await session.list_tools()
            assert "fake_echo" in {t.name for t in tools.tools}
            calls = [session.call_tool("fake_echo", {"text": f"l{i}-{k}"}) for k in range(5)]
            return [r.structured_content for r in await asyncio.gather(*calls)]

    # One token is one client: its budget of concurrent requests covers all six sessions' 30 calls.
    async with http_gateway(fake, "--token", TOKEN, "--max-concurrency-per-client", "64") as url:
        results = await asyncio.gather(*[modern(i) for i in range(3)], *[legacy(i) for i in range(3)])
    texts = sorted(r["text"] for batch in results for r in batch)
    expected = sorted(
        [f"m{i}-{k}" for i in range(3) for k in range(5)] + [f"l{i}-{k}" for i in range(3) for k in range(5)]
    )
    assert texts == expected


async def test_list_changed_reaches_http_handshake_session(fake: FakeProvider) -> None:
    notes = Notifications()
    async with (
        http_gateway(fake, "--refresh-interval", "0.2") as url,
        _client() as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write, message_handler=notes.handler) as session,
    ):
        await session.initialize()
        await session.list_tools()
        fake.bump_catalog(fake.tools[0].__class__(name="new_one", input_schema_json="{}"))
        await notes.wait_for(types.ToolListChangedNotification)
        assert "fake_new_one" in {t.name for t in (await session.list_tools()).tools}


async def test_per_client_concurrency_limit_answers_429(fake: FakeProvider) -> None:
    async with (
        http_gateway(fake, "--max-concurrency-per-client", "1") as url,
        httpx2.AsyncClient(timeout=20) as http,
    ):
        init = await http.post(url, json=_INIT, headers=_MCP_HEADERS)
        session = {
            **_MCP_HEADERS,
            "mcp-session-id": init.headers["mcp-session-id"],
            "mcp-protocol-version": "2025-11-25",
        }
        await http.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=session)
        held = asyncio.create_task(
            http.post(
                url,
                headers=session,
                json={
                    "jsonrpc": "2.0",
                    "id": 2,
                    "method": "tools/call",
                    "params": {"name": "fake_echo", "arguments": {"text": "__hold__"}},
                },
            )
        )
        async with asyncio.timeout(10):
            await fake.holding.wait()
        second = await http.post(
            url,
            headers=session,
            json={
                "jsonrpc": "2.0",
                "id": 3,
                "method": "tools/list",
            },
        )
        fake.release.set()
        first = await held
        third = await http.post(
            url,
            headers=session,
            json={
                "jsonrpc": "2.0",
                "id": 4,
                "method": "tools/list",
            },
        )
    assert second.status_code == 429
    assert first.status_code == 200 and "__hold__" in first.text
    assert third.status_code == 200


def test_http_beyond_loopback_without_token_does_not_start() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway",
            "--provider",
            "a=127.0.0.1:1",
            "--transport",
            "http",
            "--listen",
            "0.0.0.0:0",
        ],
        cwd=str(ROOT),
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": ""},
    )
    assert proc.returncode == 2
    assert "token" in proc.stderr
    assert proc.stdout == ""


async def test_origin_is_compared_exactly(fake: FakeProvider) -> None:
    refused = [
        "http://127.0.0.1:80@evil.example",
        "http://localhost.evil.example",
        "http://127.0.0.1.evil.example:80",
        "http://localhost:3000/path",
        "http://localhost:99999999",
        "ftp://localhost",
        "null",
    ]
    allowed = ["http://localhost:3000", "https://127.0.0.1", "http://[::1]:8080", "http://127.0.0.1:80"]
    async with http_gateway(fake) as url, httpx2.AsyncClient() as http:
        statuses = {
            origin: (await http.post(url, json=_INIT, headers={**_MCP_HEADERS, "origin": origin})).status_code
            for origin in refused + allowed
        }
    assert statuses == {**{o: 403 for o in refused}, **{o: 200 for o in allowed}}


async def _initialized_session(http: httpx2.AsyncClient, url: str, auth: dict[str, str]) -> dict[str, str]:
    init = await http.post(url, json=_INIT, headers={**_MCP_HEADERS, **auth})
    headers = {
        **_MCP_HEADERS,
        **auth,
        "mcp-session-id": init.headers["mcp-session-id"],
        "mcp-protocol-version": "2025-11-25",
    }
    await http.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers)
    return headers


async def test_concurrency_limit_counts_per_token_across_sessions_and_connections(fake: FakeProvider) -> None:
    auth = {"authorization": f"Bearer {TOKEN}"}
    hold = {"name": "fake_echo", "arguments": {"text": "__hold__"}}
    async with (
        http_gateway(fake, "--token", TOKEN, "--max-concurrency-per-client", "2") as url,
        httpx2.AsyncClient(timeout=20) as http,
    ):
        sessions = [await _initialized_session(http, url, auth) for _ in range(3)]
        held = [
            asyncio.create_task(
                http.post(url, headers=h, json={"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": hold})
            )
            for h in sessions[:2]
        ]
        await fake.wait_held(2)
        listing = {"jsonrpc": "2.0", "id": 3, "method": "tools/list"}
        third = await http.post(url, headers=sessions[2], json=listing)
        async with httpx2.AsyncClient() as other_connection:
            fourth = await other_connection.post(url, headers=sessions[2], json=listing)
        fake.release.set()
        first = await asyncio.gather(*held)
        after = await http.post(url, headers=sessions[2], json=listing)
    assert (third.status_code, fourth.status_code) == (429, 429)
    assert [r.status_code for r in first] == [200, 200]
    assert after.status_code == 200


async def test_a_body_that_does_not_arrive_in_time_is_408(fake: FakeProvider) -> None:
    async with http_gateway(fake, "--token", TOKEN, "--body-timeout", "1") as url:
        parts = urlsplit(url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        head = (
            f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
            "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
            "Content-Length: 100\r\n\r\n"
        )
        writer.write(head.encode() + b'{"jsonrpc"')
        await writer.drain()
        async with asyncio.timeout(15):
            answer = await reader.read()
        writer.close()
    assert answer.startswith(b"HTTP/1.1 408")


async def test_a_websocket_upgrade_is_answered_as_plain_http(fake: FakeProvider) -> None:
    async with http_gateway(fake) as url:
        parts = urlsplit(url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        writer.write(
            b"GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        )
        await writer.drain()
        async with asyncio.timeout(10):
            status = await reader.readline()
        writer.close()
    assert status.startswith(b"HTTP/1.1 ") and not status.startswith(b"HTTP/1.1 101")


def _open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


# The attacker runs as a process of its own, so its 2,000 connects never hold up the test's own
# MCP client: it opens them all at once from eight loopback addresses, each sending part of its
# headers and then nothing, prints "held" once every connect went through, and "closed" once the
# gateway closed every one of them.
_SLOWLORIS = """
import asyncio, contextlib, sys

async def one(host, port, i, opened, all_open, n):
    try:
        reader, writer = await asyncio.open_connection(host, port, local_addr=(f"127.0.0.{2 + i % 8}", 0))
        writer.write(b"POST /mcp HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n")
    finally:
        opened.append(i)
        if len(opened) == n:
            all_open.set()
    with contextlib.suppress(ConnectionError):
        await reader.read()

async def main(host, port, n):
    opened, all_open = [], asyncio.Event()
    tasks = [asyncio.create_task(one(host, port, i, opened, all_open, n)) for i in range(n)]
    await all_open.wait()
    print("held", flush=True)
    await asyncio.gather(*tasks)
    print("closed", flush=True)

asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
"""


async def test_two_thousand_slow_connections_are_held_off_while_every_mcp_call_is_served(
    fake: FakeProvider, tmp_path: Path
) -> None:
    """Issue 13's load case: 2,000 slowloris connections from another process while an
    authenticated MCP client keeps calling a tool. The connection ceiling (`--max-connections`)
    keeps the gateway's descriptors bounded by closing never-served connections (not the client's
    kept-alive one), every call is served, and the header deadline then closes every slow
    connection left; the shedding is logged as a few lines of counts."""
    errlog, procs = tmp_path / "gateway.log", []
    slow_n, ceiling, backlog = 2000, 200, 64
    started = time.monotonic()
    limits = ["--max-connections", str(ceiling), "--max-connections-per-client", "100", "--header-timeout", "2",
              "--listen-backlog", str(backlog)]
    async with (
        http_gateway(fake, "--token", TOKEN, *limits, errlog=errlog, procs=procs) as url,
        _client({"authorization": f"Bearer {TOKEN}"}) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        parts = urlsplit(url)
        pid = procs[0].pid
        baseline = _open_fds(pid)
        attacker = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _SLOWLORIS, str(parts.hostname), str(parts.port), str(slow_n),
            stdout=asyncio.subprocess.PIPE,
        )
        assert attacker.stdout is not None
        held = asyncio.create_task(attacker.stdout.readline())
        texts: list[str] = []
        fds: list[int] = []
        try:
            async with asyncio.timeout(60):
                while not held.done() or len(texts) < 3:  # all through the flood, then 3 calls at least
                    result = await client.call_tool("fake_echo", {"text": f"n{len(texts)}"})
                    assert result.structured_content is not None
                    texts.append(result.structured_content["text"])
                    fds.append(_open_fds(pid))
                assert await held == b"held\n"
                # the header deadline closes the slow connections left
                assert await attacker.stdout.readline() == b"closed\n"
                assert await attacker.wait() == 0
        finally:
            if attacker.returncode is None:
                attacker.kill()
                await attacker.wait()
    assert texts == [f"n{k}" for k in range(len(texts))]
    # never 2,000 descriptors: the admitted ones, plus what is accepted at once or being closed
    assert max(fds) - baseline <= ceiling + 4 * backlog + 10
    lines = [json.loads(line) for line in errlog.read_text().splitlines() if line.startswith("{")]
    shed = [line for line in lines if line.get("event") == "http_connections_shed"]
    # the first at once, then at most one count line per log interval, and the last at shutdown
    # (a loaded machine stretches the flood over more intervals: bound by the time it took)
    intervals = int((time.monotonic() - started) // _LOG_INTERVAL_S) + 1
    assert 2 <= len(shed) <= 2 + intervals
    shed_n = sum(line.get("evicted", 0) + line.get("refused", 0) + line.get("header_timeout", 0) for line in shed)
    assert shed_n >= slow_n and sum(line.get("header_timeout", 0) for line in shed) >= 1
    assert len([line for line in lines if line.get("level") == "warning"]) <= len(shed) + 2
