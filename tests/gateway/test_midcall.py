"""What MCP needs mid-call, through the gateway to a streaming provider, in both protocol eras.

The provider is the conformance fixture (plus `hold` and `slow_ask`) on loopback gRPC; the client
is `mcp.Client` in-process: `legacy` speaks 2025-11-25 (server-to-client requests within the
call), `auto` speaks 2026-07-28 (input_required results and retries).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from typing import Any, Literal

import mcp_types as types
import pytest
from mcp import Client, MCPError
from mcp.server.subscriptions import PromptsListChanged, ToolsListChanged

from gateway.providers import ProviderRegistry
from gateway.server import Gateway
from gateway.settings import GatewaySettings, ProviderTarget
from tests.gateway.inprocess import in_process_gateway, one_provider
from tests.gateway.stream_provider import StreamProvider

Mode = Literal["auto", "legacy"]
MODES: list[Mode] = ["legacy", "auto"]
MISSING_CAPABILITY = -32021
INVALID_PARAMS = -32602


@pytest.fixture
async def provider() -> AsyncIterator[StreamProvider]:
    sp = await StreamProvider.serve()
    try:
        yield sp
    finally:
        sp.release.set()
        await sp.stop()


@pytest.fixture
async def gateway(provider: StreamProvider) -> AsyncIterator[Gateway]:
    async with in_process_gateway(one_provider(provider.address, "fixture", namespace=False)) as gw:
        yield gw


def _text(result: types.CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, types.TextContent)
    return block.text


class Answers:
    """Client callbacks that answer every kind of input request and count what they were asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def elicit(self, ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        self.asked.append("elicitation")
        assert isinstance(params, types.ElicitRequestFormParams)
        props = params.requested_schema.get("properties", {})
        content = {name: ("Alice" if name in ("name", "response") else "blue") for name in props}
        if "ok" in props:
            content = {"ok": True}
        return types.ElicitResult(action="accept", content=content)

    async def sample(self, ctx: Any, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
        self.asked.append("sampling")
        return types.CreateMessageResult(
            role="assistant", content=types.TextContent(text="hi there"), model="test-model", stop_reason="endTurn"
        )

    async def roots(self, ctx: Any) -> types.ListRootsResult:
        self.asked.append("roots")
        return types.ListRootsResult(roots=[types.Root(uri="file:///tmp/root", name="root")])

    def client(self, gateway: Gateway, mode: Mode, **kwargs: Any) -> Client:
        return Client(
            gateway.server,
            mode=mode,
            elicitation_callback=self.elicit,
            sampling_callback=self.sample,
            list_roots_callback=self.roots,
            **kwargs,
        )


@pytest.mark.parametrize("mode", MODES)
async def test_progress_reaches_the_client_during_the_call(gateway: Gateway, mode: Mode) -> None:
    seen: list[tuple[float, float | None]] = []

    async def progress(value: float, total: float | None, message: str | None) -> None:
        seen.append((value, total))

    async with Client(gateway.server, mode=mode) as client:
        result = await client.call_tool("test_tool_with_progress", {}, progress_callback=progress)
    assert result.is_error is not True
    assert seen == [(0, 100), (50, 100), (100, 100)]


@pytest.mark.parametrize(("mode", "level", "expected"), [("legacy", None, 3), ("auto", "info", 3), ("auto", None, 0)])
async def test_log_messages_reach_the_client_that_asked_for_them(
    gateway: Gateway, mode: Mode, level: types.LoggingLevel | None, expected: int
) -> None:
    logs: list[types.LoggingMessageNotificationParams] = []

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        if params.data in ("Tool execution started", "Tool processing data", "Tool execution completed"):
            logs.append(params)

    async with Client(gateway.server, mode=mode, logging_callback=on_log, log_level=level) as client:
        await client.call_tool("test_tool_with_logging", {})
    # 2026-07-28: only a request whose _meta opts in to a log level gets notifications/message.
    assert [m.level for m in logs] == ["info"] * expected


@pytest.mark.parametrize("mode", MODES)
async def test_an_in_call_elicitation_reaches_the_client_in_both_eras(gateway: Gateway, mode: Mode) -> None:
    answers = Answers()
    async with answers.client(gateway, mode) as client:
        result = await client.call_tool("test_elicitation", {"message": "Your name?"})
    assert answers.asked == ["elicitation"]
    assert _text(result) == 'User response: action=accept, content={"response":"Alice"}'


@pytest.mark.parametrize("mode", MODES)
async def test_input_required_with_sampling_roots_and_elicitation_completes_in_both_eras(
    gateway: Gateway, mode: Mode
) -> None:
    answers = Answers()
    async with answers.client(gateway, mode) as client:
        several = await client.call_tool("test_input_required_result_multiple_inputs", {})
        rounds = await client.call_tool("test_input_required_result_multi_round", {})
        state = await client.call_tool("test_input_required_result_request_state", {})
    assert _text(several) == "Name: Alice; Greeting: hi there; Roots: 1"
    assert _text(rounds) == "Multi-round complete for Alice who likes blue"
    assert _text(state) == "state-ok: requestState validated"
    # multiple_inputs: elicitation, sampling, roots; multi_round: two elicitations; request_state: one.
    assert sorted(answers.asked) == ["elicitation"] * 4 + ["roots", "sampling"]


@pytest.mark.parametrize("mode", MODES)
async def test_a_prompt_that_needs_input_is_rendered_in_both_eras(gateway: Gateway, mode: Mode) -> None:
    answers = Answers()
    async with answers.client(gateway, mode) as client:
        prompt = await client.get_prompt("test_input_required_result_prompt")
    block = prompt.messages[0].content
    assert isinstance(block, types.TextContent) and block.text == "Prompt with context: blue"


async def test_a_2026_client_without_the_capability_gets_32021_naming_it(gateway: Gateway) -> None:
    async with Client(gateway.server) as client:
        with pytest.raises(MCPError) as err:
            await client.call_tool("test_missing_capability", {})
    assert err.value.code == MISSING_CAPABILITY
    assert err.value.data == {"requiredCapabilities": {"sampling": {}}}


async def test_a_handshake_client_without_the_capability_is_never_asked(gateway: Gateway) -> None:
    async with Client(gateway.server, mode="legacy") as client:
        result = await client.call_tool("test_sampling", {"prompt": "hello"})
    # The provider's ask was answered with error -32021 instead; the tool carried on.
    assert _text(result).startswith("Sampling not supported or error: The client did not declare")


async def test_a_tampered_request_state_is_refused(gateway: Gateway) -> None:
    answers = Answers()
    async with answers.client(gateway, "auto") as client:
        first = await client.session.call_tool(
            "test_input_required_result_request_state", {}, allow_input_required=True
        )
        assert isinstance(first, types.InputRequiredResult) and first.request_state
        responses: types.InputResponses = {"confirm": types.ElicitResult(action="accept", content={"ok": True})}
        tampered = first.request_state[:-4] + ("AAAA" if not first.request_state.endswith("AAAA") else "BBBB")
        with pytest.raises(MCPError) as err:
            await client.session.call_tool(
                "test_input_required_result_request_state",
                {},
                input_responses=responses,
                request_state=tampered,
                allow_input_required=True,
            )
        done = await client.session.call_tool(
            "test_input_required_result_request_state",
            {},
            input_responses=responses,
            request_state=first.request_state,
            allow_input_required=True,
        )
    assert err.value.code == INVALID_PARAMS
    assert isinstance(done, types.CallToolResult) and _text(done) == "state-ok: requestState validated"


async def test_the_deadline_does_not_count_the_time_the_client_takes_to_answer(gateway: Gateway) -> None:
    async def slow(ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        # the person typing: longer than the tool's 2 s deadline. (A 200 ms deadline was shorter than the
        # gateway and provider took around the question on a loaded machine: the call failed on its own.)
        await asyncio.sleep(2.5)
        return types.ElicitResult(action="accept", content={"name": "Bob"})

    async with Client(gateway.server, mode="legacy", elicitation_callback=slow) as client:
        result = await client.call_tool("slow_ask", {})
    assert result.is_error is not True and _text(result) == "hello Bob"


@pytest.mark.parametrize("mode", MODES)
async def test_a_cancelled_call_cancels_the_provider_rpc(
    gateway: Gateway, provider: StreamProvider, mode: Mode
) -> None:
    async with Client(gateway.server, mode=mode) as client:
        call = asyncio.create_task(client.call_tool("hold", {}))
        async with asyncio.timeout(10):
            await provider.held.wait()
        call.cancel()
        async with asyncio.timeout(10):
            await provider.cancelled.wait()
    assert call.cancelled()


@pytest.mark.parametrize("mode", MODES)
async def test_every_content_block_kind_reaches_the_client(gateway: Gateway, mode: Mode) -> None:
    async with Client(gateway.server, mode=mode) as client:
        mixed = await client.call_tool("test_multiple_content_types", {})
        audio = await client.call_tool("test_audio_content", {})
        binary = await client.read_resource("test://static-binary")
        image_prompt = await client.get_prompt("test_prompt_with_image")
        embedded_prompt = await client.get_prompt("test_prompt_with_embedded_resource", {"resourceUri": "test://x"})
    text, image, resource = mixed.content
    assert isinstance(text, types.TextContent) and isinstance(image, types.ImageContent)
    assert base64.b64decode(image.data).startswith(b"\x89PNG") and image.mime_type == "image/png"
    assert isinstance(resource, types.EmbeddedResource) and isinstance(resource.resource, types.TextResourceContents)
    assert resource.resource.uri == "test://mixed-content-resource"
    assert isinstance(audio.content[0], types.AudioContent) and audio.content[0].mime_type == "audio/wav"
    blob = binary.contents[0]
    assert isinstance(blob, types.BlobResourceContents) and base64.b64decode(blob.blob).startswith(b"\x89PNG")
    assert isinstance(image_prompt.messages[0].content, types.ImageContent)
    first = embedded_prompt.messages[0].content
    assert isinstance(first, types.EmbeddedResource) and first.resource.uri == "test://x"


async def test_a_catalog_change_reaches_listeners_at_once(gateway: Gateway) -> None:
    async with (
        Client(gateway.server) as client,
        client.listen(tools_list_changed=True, prompts_list_changed=True) as sub,
    ):
        await client.call_tool("test_trigger_tool_change", {})
        async with asyncio.timeout(5):
            tools_event = await anext(aiter(sub))
        await client.call_tool("test_trigger_prompt_change", {})
        async with asyncio.timeout(5):
            prompts_event = await anext(aiter(sub))
        names = {t.name for t in (await client.list_tools()).tools}
    # The provider's WatchCatalog stream made the gateway re-list at once (its periodic re-listing is 30 s).
    assert isinstance(tools_event, ToolsListChanged) and isinstance(prompts_event, PromptsListChanged)
    assert "test_dynamic_tool" in names


@pytest.mark.parametrize("shared", [True, False])
async def test_gateways_sharing_a_state_key_accept_each_others_rounds(provider: StreamProvider, shared: bool) -> None:
    target = ProviderTarget("fixture", provider.address, namespace=False)
    keys = ("k" * 32,)
    gateways = []
    for i in range(2):
        own = keys if shared else (str(i) * 32,)
        registry = ProviderRegistry(GatewaySettings(providers=(target,), startup_wait_s=5.0, state_keys=own))
        await registry.start()
        gateways.append(Gateway(registry))
    try:
        answers = Answers()  # the clients declare elicitation
        async with answers.client(gateways[0], "auto") as first, answers.client(gateways[1], "auto") as second:
            asked = await first.session.call_tool(
                "test_input_required_result_elicitation", {}, allow_input_required=True
            )
            assert isinstance(asked, types.InputRequiredResult)
            answer: types.InputResponses = {"user_name": types.ElicitResult(action="accept", content={"name": "Ann"})}
            retry = second.session.call_tool(
                "test_input_required_result_elicitation",
                {},
                input_responses=answer,
                request_state=asked.request_state,
                allow_input_required=True,
            )
            if shared:
                done = await retry
                assert isinstance(done, types.CallToolResult) and _text(done) == "Hello, Ann!"
            else:
                with pytest.raises(MCPError) as err:
                    await retry
                assert err.value.code == INVALID_PARAMS
    finally:
        for gw in gateways:
            await gw.close()
            await gw.registry.close()
