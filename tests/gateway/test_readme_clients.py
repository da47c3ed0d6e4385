"""The README's MCP client snippets, run as written through a real MCP client.

Each snippet is marked `<!-- client-config: NAME -->`. A stdio snippet's command and arguments are
started exactly (only `/path/to/repo` becomes this checkout and the provider address a fake
provider's); an HTTP snippet's URL and header are used against the gateway started as the
`http-gateway` snippet says (only the port differs), the token substituted the way each client
does (`${VAR}`, `${env:VAR}`, `${input:id}`, `bearer_token_env_var`). The clients themselves
(Claude Code, Cursor, ...) are not run: what is proven is that what each snippet tells its client
to start or reach works, with portable tool names.
"""

from __future__ import annotations

import contextlib
import json
import re
import shlex
import tomllib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from gateway.names import PORTABLE_NAME
from tests.gateway.conftest import ROOT
from tests.gateway.fake_provider import FakeProvider
from tests.gateway.processes import child_env, gateway_process

README_REPO = "/path/to/repo"
README_PROVIDER = "127.0.0.1:50053"
README_URL = "http://127.0.0.1:8765/mcp"
TOKEN = "readme-token-0123456789abcdef"
STDIO = [
    "claude-code-stdio-cli",
    "claude-code-stdio-json",
    "claude-desktop",
    "cursor-stdio",
    "vscode-stdio",
    "codex-stdio",
]
HTTP = ["claude-code-http-cli", "claude-code-http-json", "cursor-http", "vscode-http", "codex-http"]


def snippets() -> dict[str, tuple[str, str]]:
    """Marked snippets of README.md: name -> (language, text)."""
    text = (ROOT / "README.md").read_text()
    found = re.findall(r"<!-- client-config: ([\w-]+) -->\n```(\w+)\n(.*?)```", text, flags=re.S)
    return {name: (lang, body) for name, lang, body in found}


@dataclass
class Server:
    """What a snippet tells its client to start (stdio) or reach (http)."""

    command: str = ""
    args: list[str] = field(default_factory=list)
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)


def _substitute(value: str, inputs: list[dict[str, Any]]) -> str:
    """The token where a client would put it: from its environment, or a VS Code password input."""
    value = value.replace("${MCP_GATEWAY_TOKEN}", TOKEN).replace("${env:MCP_GATEWAY_TOKEN}", TOKEN)
    for ref in re.findall(r"\$\{input:([\w-]+)\}", value):
        [declared] = [i for i in inputs if i.get("id") == ref]
        assert declared["type"] == "promptString" and declared["password"] is True
        value = value.replace("${input:" + ref + "}", TOKEN)
    assert "${" not in value, value
    return value


def _from_json(text: str) -> Server:
    data = json.loads(text)
    servers = data.get("mcpServers", data.get("servers"))
    [(name, entry)] = servers.items()
    assert name == "binance"
    headers = {k: _substitute(v, data.get("inputs", [])) for k, v in entry.get("headers", {}).items()}
    return Server(entry.get("command", ""), list(entry.get("args", [])), entry.get("url", ""), headers)


def _from_toml(text: str) -> Server:
    entry = tomllib.loads(text)["mcp_servers"]["binance"]
    headers = {}
    if "bearer_token_env_var" in entry:
        headers["Authorization"] = "Bearer " + {"MCP_GATEWAY_TOKEN": TOKEN}[entry["bearer_token_env_var"]]
    return Server(entry.get("command", ""), list(entry.get("args", [])), entry.get("url", ""), headers)


def _from_claude_cli(text: str) -> Server:
    """`claude mcp add [options] NAME -- CMD ARGS...` or `... NAME URL`: options come before the name."""
    argv = shlex.split(text.strip())
    assert argv[:3] == ["claude", "mcp", "add"]
    options: dict[str, list[str]] = {}
    rest = argv[3:]
    while rest[0].startswith("--"):
        flag, value, rest = rest[0], rest[1], rest[2:]
        options.setdefault(flag, []).append(value)
    assert options["--scope"] == ["project"] and rest[0] == "binance"
    if options["--transport"] == ["stdio"]:
        assert rest[1] == "--"
        return Server(rest[2], rest[3:])
    assert options["--transport"] == ["http"] and len(rest) == 2
    headers = dict(h.split(": ", 1) for h in options.get("--header", []))
    return Server(url=rest[1], headers={k: _substitute(v, []) for k, v in headers.items()})


def server_of(name: str) -> Server:
    lang, text = snippets()[name]
    if lang == "json":
        return _from_json(text)
    if lang == "toml":
        return _from_toml(text)
    return _from_claude_cli(text)


def test_readme_marks_a_snippet_for_every_client() -> None:
    assert set(snippets()) == {"http-gateway", *STDIO, *HTTP}


async def _check(session: ClientSession) -> None:
    await session.initialize()
    names = [t.name for t in (await session.list_tools()).tools]
    assert names and all(PORTABLE_NAME.match(n) for n in names), names
    result = await session.call_tool("binance_fake_echo", {"text": "readme"})
    assert result.structured_content == {"text": "readme", "count": 1}


@pytest.mark.parametrize("name", STDIO)
async def test_stdio_snippet_starts_a_working_gateway(name: str, fake: FakeProvider) -> None:
    server = server_of(name)
    assert server.command == f"{README_REPO}/.venv/bin/mcp-gateway"
    params = StdioServerParameters(
        command=server.command.replace(README_REPO, str(ROOT)),
        args=[a.replace(README_PROVIDER, fake.address) for a in server.args],
        cwd=str(ROOT),
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await _check(session)


@contextlib.asynccontextmanager
async def _readme_http_gateway(fake: FakeProvider) -> AsyncIterator[str]:
    """The gateway as the `http-gateway` snippet starts it (on a free port); yields its URL."""
    _, text = snippets()["http-gateway"]
    export, start = [line for line in text.splitlines() if line.strip()]
    assert export.startswith("export MCP_GATEWAY_TOKEN=")
    argv = shlex.split(start.replace(README_PROVIDER, fake.address).replace("127.0.0.1:8765", "127.0.0.1:0"))
    assert argv[0] == ".venv/bin/mcp-gateway"
    async with gateway_process([str(ROOT / argv[0]), *argv[1:]], env=child_env(MCP_GATEWAY_TOKEN=TOKEN)) as url:
        yield url


async def test_http_snippets_reach_the_gateway_with_their_token(fake: FakeProvider) -> None:
    async with _readme_http_gateway(fake) as url:
        for name in HTTP:
            server = server_of(name)
            assert server.url == README_URL and server.headers == {"Authorization": f"Bearer {TOKEN}"}, name
            async with (
                create_mcp_http_client(headers=server.headers) as http,
                streamable_http_client(url, http_client=http) as (read, write),
                ClientSession(read, write) as session,
            ):
                await _check(session)
