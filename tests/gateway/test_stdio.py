"""The gateway as a real subprocess over stdio, driven by the SDK's ClientSession."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import mcp_types as types
import pytest
from mcp import MCPError

from gateway.names import PORTABLE_NAME
from tests.gateway.conftest import ROOT, LogMessages, Notifications, free_port, gateway_session
from tests.gateway.fake_provider import FAILURE_DETAILS, LISTED, TEMPLATE, FakeProvider

INVALID_PARAMS = -32602
RESOURCE_NOT_FOUND = -32002  # what a 2025-11-25 session (this stdio client) is answered

# resources/subscribe and logging/setLevel are deprecated in 2026-07-28 but are what
# handshake-era clients use.
_LEGACY_SUBSCRIBE = _LEGACY_LOGGING = pytest.mark.filterwarnings("ignore::mcp.MCPDeprecationWarning")


def _args(fake: FakeProvider, *extra: str) -> list[str]:
    return ["--provider", f"fake={fake.address}", *extra]


def _text(result: types.CallToolResult) -> str:
    assert len(result.content) == 1
    block = result.content[0]
    assert isinstance(block, types.TextContent)
    return block.text


async def test_lists_tools_with_namespaced_names_schemas_and_annotations(
    fake: FakeProvider,
) -> None:
    async with gateway_session(_args(fake)) as s:
        tools = {t.name: t for t in (await s.list_tools()).tools}
    assert set(tools) == {"fake_echo", "fake_add", "fake_place_thing", "fake_slow"}
    echo = tools["fake_echo"]
    assert echo.title == "Echo"
    assert echo.input_schema["required"] == ["text"]
    assert echo.input_schema["properties"]["repeat"]["maximum"] == 5
    assert echo.output_schema is not None and echo.output_schema["required"] == ["text", "count"]
    assert echo.annotations == types.ToolAnnotations(
        title="Echo",
        read_only_hint=True,
        destructive_hint=False,
        idempotent_hint=True,
        open_world_hint=False,
    )
    place = tools["fake_place_thing"]
    assert place.annotations is not None
    assert place.annotations.destructive_hint is True
    assert place.annotations.open_world_hint is True
    assert place.output_schema is None


async def test_tools_are_listed_under_portable_names_and_called_under_either_form(fake: FakeProvider) -> None:
    async with gateway_session(_args(fake)) as s:
        names = [t.name for t in (await s.list_tools()).tools]
        portable = await s.call_tool("fake_echo", {"text": "p"})
        dotted = await s.call_tool("fake.echo", {"text": "d"})
    assert names and all(PORTABLE_NAME.match(n) for n in names)
    assert (portable.structured_content, dotted.structured_content) == (
        {"text": "p", "count": 1},
        {"text": "d", "count": 1},
    )
    assert [c[0] for c in fake.calls] == ["fake.echo", "fake.echo"]


async def test_tool_names_dotted_lists_canonical_names_and_still_accepts_portable_ones(fake: FakeProvider) -> None:
    async with gateway_session(_args(fake, "--tool-names", "dotted")) as s:
        names = {t.name for t in (await s.list_tools()).tools}
        result = await s.call_tool("fake_add", {"a": 1, "b": 2})
    assert names == {"fake.echo", "fake.add", "fake.place_thing", "fake.slow"}
    assert result.structured_content == {"sum": 3}


async def test_lists_templates_and_prompts_and_reads_renders_completes(fake: FakeProvider) -> None:
    async with gateway_session(_args(fake)) as s:
        templates = (await s.list_resource_templates()).resource_templates
        prompts = (await s.list_prompts()).prompts
        resource = await s.read_resource("fake://quote/BTCUSDT")
        prompt = await s.get_prompt("summarize", {"symbol": "ETHBTC"})
        completion = await s.complete(
            types.ResourceTemplateReference(type="ref/resource", uri=TEMPLATE),
            {"name": "symbol", "value": "bt"},
        )
        prompt_completion = await s.complete(
            types.PromptReference(type="ref/prompt", name="summarize"),
            {"name": "symbol", "value": "ETH"},
        )
    assert [(t.uri_template, t.name, t.mime_type) for t in templates] == [(TEMPLATE, "quote", "text/markdown")]
    assert templates[0].description == "A quote for one symbol."
    assert [p.name for p in prompts] == ["summarize"]
    assert prompts[0].description == "Summarize one symbol."
    assert prompts[0].arguments == [
        types.PromptArgument(name="symbol", description="Symbol to summarize", required=True)
    ]
    [contents] = resource.contents
    assert isinstance(contents, types.TextResourceContents)
    assert contents.uri == "fake://quote/BTCUSDT"
    assert contents.text.startswith("# BTCUSDT")
    assert [m.role for m in prompt.messages] == ["user", "assistant"]
    first = prompt.messages[0].content
    assert isinstance(first, types.TextContent) and first.text == "Summarize ETHBTC."
    assert completion.completion.values == ["BTCUSDT"]
    assert prompt_completion.completion.values == ["ETHBTC", "ETHUSDT"]


async def test_resources_list_shows_the_listed_resources_and_every_one_reads(fake: FakeProvider) -> None:
    async with gateway_session(_args(fake)) as s:
        listed = (await s.list_resources()).resources
        reads = [await s.read_resource(r.uri) for r in listed]
    assert [(r.uri, r.name) for r in listed] == LISTED
    assert all(r.mime_type == "text/markdown" and r.title and r.description for r in listed)
    for resource, read in zip(listed, reads, strict=True):
        [contents] = read.contents
        assert isinstance(contents, types.TextResourceContents)
        assert contents.uri == resource.uri and contents.text.startswith("# ")


async def test_a_changed_resource_list_is_notified_and_listed(fake: FakeProvider) -> None:
    notes = Notifications()
    async with gateway_session(_args(fake, "--refresh-interval", "0.2"), notes) as s:
        assert len((await s.list_resources()).resources) == len(LISTED)
        assert fake.listed is not None
        fake.listed.append(("fake://quote/BNBUSDT", "quote-BNBUSDT"))
        await notes.wait_for(types.ResourceListChangedNotification)
        uris = [r.uri for r in (await s.list_resources()).resources]
    assert uris[-1] == "fake://quote/BNBUSDT" and len(uris) == len(LISTED) + 1


async def test_calls_tools_with_structured_content_and_correlation_ids(fake: FakeProvider) -> None:
    async with gateway_session(_args(fake)) as s:
        echo = await s.call_tool("fake_echo", {"text": "hi", "repeat": 3})
        add = await s.call_tool("fake_add", {"a": 1.5, "b": 2})
    assert echo.is_error is False
    assert echo.structured_content == {"text": "hi hi hi", "count": 3}
    assert _text(echo) == "hi hi hi (x3)"
    assert add.structured_content == {"sum": 3.5}
    # The provider got its own tool name (not the namespaced one) and a fresh correlation id.
    names = [c[0] for c in fake.calls]
    assert names == ["fake.echo", "add"]
    ids = [c[2] for c in fake.calls]
    assert all(ids) and len(set(ids)) == 2


async def test_schema_violation_is_a_tool_error_that_says_what_is_allowed(
    fake: FakeProvider,
) -> None:
    async with gateway_session(_args(fake)) as s:
        bad = await s.call_tool("fake_echo", {"text": 5, "repeat": 9, "colour": "red"})
        missing = await s.call_tool("fake_add", {"a": 1})
    assert bad.is_error is True
    text = _text(bad)
    assert "arguments.text" in text and "not of type 'string'" in text
    assert "arguments.repeat" in text and "maximum" in text
    assert "colour" in text
    assert "- text (string, required)" in text and "- repeat (integer, optional)" in text
    assert missing.is_error is True and "'b' is a required property" in _text(missing)
    assert fake.calls == []  # nothing invalid was forwarded


async def test_unknown_tool_and_unknown_resource_are_protocol_errors_resource_not_found_is_32002(
    fake: FakeProvider,
) -> None:
    async with gateway_session(_args(fake)) as s:
        with pytest.raises(MCPError) as tool_err:
            await s.call_tool("nope", {})
        with pytest.raises(MCPError) as uri_err:
            await s.read_resource("other://thing/1")
        with pytest.raises(MCPError) as provider_not_found:
            await s.read_resource("fake://quote/NOPE")
        with pytest.raises(MCPError) as prompt_err:
            await s.get_prompt("nope", {})
    assert tool_err.value.code == INVALID_PARAMS
    assert uri_err.value.code == RESOURCE_NOT_FOUND
    assert uri_err.value.data == {"uri": "other://thing/1"}
    assert provider_not_found.value.code == RESOURCE_NOT_FOUND
    assert provider_not_found.value.data["uri"] == "fake://quote/NOPE"
    assert prompt_err.value.code == INVALID_PARAMS


async def test_provider_failure_is_a_tool_error_with_code_hint_and_retry_safety(
    fake: FakeProvider,
) -> None:
    async with gateway_session(_args(fake)) as s:
        result = await s.call_tool("fake_place_thing", {"symbol": "BTCUSDT", "side": "BUY", "quantity": "0.0001"})
        slow = await s.call_tool("fake_slow", {})
    assert result.is_error is True
    text = _text(result)
    assert "FAILED_PRECONDITION" in text
    assert str(FAILURE_DETAILS["binance_code"]) in text
    assert str(FAILURE_DETAILS["hint"]) in text
    assert "Retry safe: no" in text
    # the provider's other facts reach the agent as JSON, by the provider's own names
    (details,) = [line.removeprefix("Details: ") for line in text.splitlines() if line.startswith("Details: ")]
    assert json.loads(details) == {"violations": FAILURE_DETAILS["violations"]}
    assert slow.is_error is True and "timed out" in _text(slow)


async def test_provider_down_is_an_unreachable_tool_error(fake: FakeProvider) -> None:
    async with gateway_session(_args(fake)) as s:
        await fake.stop()
        result = await s.call_tool("fake_echo", {"text": "x"})
    assert result.is_error is True
    assert "unreachable" in _text(result)


async def test_provider_down_at_start_is_picked_up_with_list_changed() -> None:
    port = free_port()
    notes = Notifications()
    late = FakeProvider()
    args = ["--provider", f"fake=127.0.0.1:{port}", "--startup-wait", "0.5"]
    try:
        async with gateway_session(args, notes) as s:
            assert (await s.list_tools()).tools == []
            await late.start(port)
            await notes.wait_for(types.ToolListChangedNotification)
            names = {t.name for t in (await s.list_tools()).tools}
            assert "fake_echo" in names
            result = await s.call_tool("fake_echo", {"text": "late"})
            assert result.structured_content == {"text": "late", "count": 1}
    finally:
        await late.stop()


async def test_provider_restart_mid_session_next_call_works(fake: FakeProvider) -> None:
    async with gateway_session(_args(fake, "--pool-size", "2")) as s:
        for _ in range(3):  # touch every pooled channel
            assert (await s.call_tool("fake_echo", {"text": "a"})).is_error is False
        await fake.restart()
        result = await s.call_tool("fake_echo", {"text": "again"})
        assert result.is_error is False, _text(result)
        assert result.structured_content == {"text": "again", "count": 1}


async def test_catalog_change_is_rediscovered_and_notified(fake: FakeProvider) -> None:
    notes = Notifications()
    async with gateway_session(_args(fake, "--refresh-interval", "0.2"), notes) as s:
        fake.bump_catalog(
            fake.tools[0].__class__(name="extra", description="Extra tool.", input_schema_json='{"type":"object"}')
        )
        await notes.wait_for(types.ToolListChangedNotification)
        names = {t.name for t in (await s.list_tools()).tools}
    assert "fake_extra" in names


@_LEGACY_SUBSCRIBE
async def test_resource_subscription_delivers_updates_and_unsubscribe_closes(
    fake: FakeProvider,
) -> None:
    uri = "fake://quote/BTCUSDT"
    notes = Notifications()
    async with gateway_session(_args(fake), notes) as s:
        await s.subscribe_resource(uri)
        await fake.wait_subscribed(uri)
        assert await fake.push_update(uri) == 1
        got = await notes.wait_for(types.ResourceUpdatedNotification, uri=uri)
        assert got.params.uri == uri
        await s.unsubscribe_resource(uri)
        await fake.wait_unsubscribed(uri)
        with pytest.raises(MCPError) as err:
            await s.subscribe_resource("nothing://here")
    assert err.value.code == RESOURCE_NOT_FOUND


@_LEGACY_SUBSCRIBE
async def test_resource_subscription_survives_provider_restart(fake: FakeProvider) -> None:
    uri = "fake://quote/ETHUSDT"
    notes = Notifications()
    async with gateway_session(_args(fake), notes) as s:
        await s.subscribe_resource(uri)
        await fake.wait_subscribed(uri)
        await fake.restart()
        await fake.wait_subscribed(uri)
        await fake.push_update(uri)
        await notes.wait_for(types.ResourceUpdatedNotification, uri=uri)


def _bad_lines() -> list[tuple[int, str]]:
    """64 requests the SDK cannot parse or refuses, each with its own id (the fuzz cases of issue 13)."""
    hi, lo = r"\ud800", r"\udfff"
    templates = [
        '{"jsonrpc":"2.0","id":ID,"method":"tools/call","params":{"name":"fake_echo","arguments":{"text":"S"}}}',
        '{"jsonrpc":"2.0","id":ID,"method":"tools/S","params":{}}',
        '{"jsonrpc":"2.0","id":ID,"method":"tools/call","params":{"name":"S","arguments":{}}}',
        '{"jsonrpc":"2.0","id":ID,"method":"resources/read","params":{"uri":"fake://quote/S"}}',
        '{"jsonrpc":"2.0","method":"tools/list","params":{"S":1},"id":ID}',
        '{"jsonrpc":"2.0","id":ID,"method":"tools/call","params":{"name":"fake_echo","arguments":{"S":"x"}}}',
        '{"jsonrpc":"2.0","id":ID,"method":"tools/call","params":{"name":"fake_echo","arguments":{"text":["S"]}}}',
        '{"jsonrpc":"2.0","id":ID,"method":"prompts/get","params":{"name":"summarize","arguments":{"symbol":"S"}}}',
    ]
    lines = [t.replace("S", s) for t in templates for s in (hi, lo, hi + "a", "a" + lo)]
    for depth in (200, 256, 1000, 5000):
        arrays, objects = "[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth
        call = '{"jsonrpc":"2.0","id":ID,"method":"tools/call","params":{"name":"fake_echo","arguments":'
        lines += [
            call + '{"n":' + arrays + "}}}",
            call + objects + "}}",
            '{"jsonrpc":"2.0","params":' + arrays + ',"id":ID,"method":"tools/list"}',
            '{"jsonrpc":"2.0","id":ID,"method":"resources/read","params":{"uri":"x","_meta":' + objects + "}}",
        ]
    lines += [
        '{"jsonrpc":"2.0","id":ID,"method":5}',
        '{"jsonrpc":"2.0","id":ID,"method":null}',
        '{"jsonrpc":"2.0","id":ID,"method":["tools/list"]}',
        '{"jsonrpc":"1.0","id":ID,"method":"tools/list"}',
        '{"id":ID,"method":"tools/list"}',
        '{"jsonrpc":2,"id":ID,"method":"tools/list"}',
        '{"jsonrpc":"2.0","id":ID,"method":"tools/call","params":"fake_echo"}',
        '{"jsonrpc":"2.0","id":ID,"method":"tools/call","params":[1,2]}',
        '{"jsonrpc":"2.0","id":ID,"method":"tools/call","params":{"name":5}}',
        '{"jsonrpc":"2.0","id":ID,"method":"tools/call","params":{"name":"fake_echo","arguments":[1]}}',
        '{"jsonrpc":"2.0","id":ID,"method":"resources/read","params":{"uri":7}}',
        '{"jsonrpc":"2.0","id":ID,"method":"no/such/method"}',
        '{"jsonrpc":"2.0","id":ID,"method":"tools/list"} trailing',
        '{"jsonrpc":"2.0","id":ID,"method":"tools/list",}',
        '{"jsonrpc":"2.0","id":ID,"method":"tools/list","params":{"cursor":NaN}}',
        '{"jsonrpc":"2.0","id":ID,"method":"tools/call","params":{"name":"fake_echo","arguments":{"text":"x"}}',
    ]
    return [(i, line.replace("ID", str(i))) for i, line in enumerate(lines, start=100)]


async def test_every_malformed_request_line_gets_an_answer_and_the_session_goes_on(fake: FakeProvider) -> None:
    bad = _bad_lines()
    assert len(bad) == 64
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway",
        *_args(fake),
        cwd=str(ROOT),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        limit=2**20,
    )
    assert proc.stdin is not None and proc.stdout is not None
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
    }
    lines = [json.dumps(init), '{"jsonrpc":"2.0","method":"notifications/initialized"}']
    lines += [line for _, line in bad] + ['{"jsonrpc":"2.0","id":999,"method":"tools/list"}']
    proc.stdin.write("".join(line + "\n" for line in lines).encode())
    await proc.stdin.drain()
    answers: dict[int, dict[str, Any]] = {}
    try:
        async with asyncio.timeout(30):
            while len(answers) < len(bad) + 2:
                raw = await proc.stdout.readline()
                assert raw, f"gateway closed stdout; unanswered: {sorted({i for i, _ in bad} - set(answers))}"
                message = json.loads(raw)
                answers[message["id"]] = message
    finally:
        proc.stdin.close()
        async with asyncio.timeout(10):
            await proc.wait()
    assert set(answers) == {1, 999} | {i for i, _ in bad}
    assert all("error" in answers[i] for i, _ in bad)
    assert {answers[i]["error"]["code"] for i, _ in bad} <= {-32700, -32600, -32602, -32601}
    assert len(answers[999]["result"]["tools"]) == 4


async def test_stdout_carries_only_json_rpc(fake: FakeProvider) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway",
        *_args(fake),
        cwd=str(ROOT),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "raw", "version": "0"},
        },
    }
    messages = [
        init,
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "fake_echo", "arguments": {"text": "x"}},
        },
    ]
    proc.stdin.write("".join(json.dumps(m) + "\n" for m in messages).encode())
    await proc.stdin.drain()
    lines: list[dict[str, Any]] = []
    async with asyncio.timeout(60):
        while not any(m.get("id") == 2 for m in lines):
            raw = await proc.stdout.readline()
            assert raw, "gateway closed stdout early"
            lines.append(json.loads(raw))
        proc.stdin.close()
        rest, stderr = await proc.communicate()
    lines += [json.loads(x) for x in rest.decode().splitlines() if x.strip()]
    assert all(m.get("jsonrpc") == "2.0" for m in lines)
    assert lines[-1]["result"]["structuredContent"] == {"text": "x", "count": 1}
    # Logs went to stderr as JSON lines.
    log_lines = [json.loads(x) for x in stderr.decode().splitlines() if x.strip()]
    assert any(entry.get("event") == "gateway_ready" for entry in log_lines)
    assert proc.returncode == 0


@_LEGACY_LOGGING
async def test_set_level_info_forwards_the_gateways_log_lines_from_then_on(fake: FakeProvider) -> None:
    logs = LogMessages()
    async with gateway_session(_args(fake), logs=logs) as s:
        caps = s.server_capabilities
        await s.call_tool("fake_echo", {"text": "before"})
        await s.set_logging_level("info")
        await s.call_tool("fake_echo", {"text": "after"})
        request = await logs.wait_for(event="mcp_request", method="tools/call")
    assert caps is not None and caps.logging is not None
    # Nothing before setLevel: the first message is the level change itself.
    assert isinstance(logs.seen[0].data, dict) and logs.seen[0].data["event"] == "logging_level_set"
    assert request.level == "info" and request.logger == "gateway"
    assert isinstance(request.data, dict) and len(request.data["correlation_id"]) == 32


@_LEGACY_LOGGING
async def test_set_level_warning_forwards_warnings_and_nothing_below(fake: FakeProvider) -> None:
    logs = LogMessages()
    async with gateway_session(_args(fake), logs=logs) as s:
        await s.set_logging_level("warning")
        await s.call_tool("fake_echo", {"text": "x"})  # info lines only
        await fake.stop()  # the health watch logs provider_not_serving at warning
        warning = await logs.wait_for(event="provider_not_serving")
    # One sender, in order: an info line logged before the warning would have arrived first.
    assert warning.level == "warning"
    assert all(m.level in ("warning", "error", "critical") for m in logs.seen)
