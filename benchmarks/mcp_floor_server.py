"""The MCP floor: the SDK's low-level server with one trivial tool and nothing else.

`benchmarks/run.py` starts it exactly as it starts the gateway (stdio, or Streamable HTTP with
`--http`), so a `tools/call` against it is the cheapest MCP round trip the SDK makes here.
The tool `echo` answers a fixed small text plus structured content, like a real tool result.
With `--http` it prints `{"event":"ready","url":...}` on stdout when listening.

With `--replay FILE` (`{"tool": Tool, "result": CallToolResult}` as JSON) the tool `replay` has that
tool's schemas and answers that stored result on every call: the SDK's own cost of carrying a real
tool's result (the gateway's cached L1, captured in the same run, whose output schema the client SDK
checks each result against), apart from anything the gateway does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import mcp_types as types
import uvicorn
from mcp.server.lowlevel.server import Server
from mcp.server.stdio import stdio_server
from mcp.server.transport_security import TransportSecuritySettings

TOOL = types.Tool(
    name="echo",
    description="Answers its argument.",
    input_schema={"type": "object", "properties": {"text": {"type": "string"}}},
)


Replay = tuple[types.Tool, types.CallToolResult]


def load_replay(path: Path) -> Replay:
    stored = json.loads(path.read_text())
    tool = types.Tool.model_validate({**stored["tool"], "name": "replay"})
    return tool, types.CallToolResult.model_validate(stored["result"])


def build(replay: Replay | None = None) -> Server[Any]:
    async def list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[TOOL, replay[0]] if replay is not None else [TOOL])

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        if params.name == "replay" and replay is not None:
            return replay[1]
        text = str((params.arguments or {}).get("text", ""))
        return types.CallToolResult(content=[types.TextContent(type="text", text=text)],
                                    structured_content={"text": text})

    return Server("mcp-floor", on_list_tools=list_tools, on_call_tool=call_tool)


async def serve_stdio(replay: Replay | None) -> None:
    server = build(replay)
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


async def serve_http(replay: Replay | None) -> None:
    server = build(replay)
    app = server.streamable_http_app(
        streamable_http_path="/mcp",
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        host="127.0.0.1",
    )
    web = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None,
                                        access_log=False, lifespan="on"))

    async def announce() -> None:
        while not web.started:  # noqa: ASYNC110 - uvicorn has no ready callback
            await asyncio.sleep(0.02)
        port = web.servers[0].sockets[0].getsockname()[1]
        sys.stdout.write(json.dumps({"event": "ready", "url": f"http://127.0.0.1:{port}/mcp"}) + "\n")
        sys.stdout.flush()

    watcher = asyncio.create_task(announce())
    try:
        await web.serve()
    finally:
        watcher.cancel()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--http", action="store_true")
    parser.add_argument("--replay", type=Path,
                        help="{tool, result} JSON: the tool `replay` lists that tool's schemas, answers that result")
    args = parser.parse_args()
    stored = load_replay(args.replay) if args.replay else None
    asyncio.run(serve_http(stored) if args.http else serve_stdio(stored))
