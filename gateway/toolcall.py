"""One MCP request forwarded to a provider with what MCP needs mid-call (the I/O shell).

A tools/call runs over `InvokeToolStream` (provider.v1): the gateway sends `start`, then relays
each frame the provider sends until the final one:

- `progress` → `notifications/progress` for the request's progress token (none without one);
- `log`      → `notifications/message` on the request's stream, at or above the client's level:
               the level of `logging/setLevel` for handshake-era sessions (all when never set),
               the request's `_meta` log-level opt-in on 2026-07-28 (none without it);
- `input_request` / `input_required` → see `gateway/interaction.py`;
- `result`   → the CallToolResult (content blocks, structured content, isError).

Rules:
1. The tool's deadline counts only the time spent waiting for the provider; waiting for the
   client's answer is bounded by `input_timeout_s` instead (a person may be typing).
2. A client cancelling the request (`notifications/cancelled`, or closing a 2026 response stream)
   cancels the gRPC call; so does every other way out of a round.
3. Only a provider whose capabilities say `streams_tools` is called with InvokeToolStream; the
   others get unary InvokeTool. One that still answers UNIMPLEMENTED gets InvokeTool from then on
   (until its next discovery); nothing ran, so falling back is safe.
4. UNAVAILABLE before the provider sent any frame is retried once on a fresh channel, for
   read-only or idempotent tools, when a quick health check says the provider is back.
5. A handshake-era client answering an `input_required` result gets at most `MAX_ROUNDS` rounds.

Prompts and resource reads use the same input mapping on unary RPCs (`answer_unary`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc
import grpc.aio
import mcp_types as types
import structlog
from mcp.server.connection import allowed_log_levels
from mcp.server.context import ServerRequestContext
from mcp.shared.exceptions import MCPError

from contracts.provider.v1 import provider_pb2
from gateway.content import content_blocks
from gateway.errors import details_from_metadata, timed_out_result
from gateway.interaction import (
    MISSING_CAPABILITY,
    Answers,
    BadInputRequest,
    BadState,
    InputState,
    ask_client,
    error_response,
    input_mode,
    input_required,
    parse_request,
    question_digest,
    require_capability,
    result_response,
)
from gateway.logforward import MCP_LEVELS, wants
from gateway.providers import ProviderLink, struct_to_dict

__all__ = ["MAX_ROUNDS", "CallSite", "StreamedCall", "answer_unary", "tool_result"]

log = structlog.get_logger("gateway.toolcall")

MAX_ROUNDS = 8
_INVALID_PARAMS = -32602

Ctx = ServerRequestContext[Any, Any]
Outcome = types.CallToolResult | types.InputRequiredResult
R = TypeVar("R")


def _normalize(value: Any) -> Any:
    """Protobuf Struct carries every number as a double; give integral values back as ints."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {k: _normalize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalize(v) for v in value]
    return value


def tool_result(resp: provider_pb2.InvokeToolResponse) -> types.CallToolResult:
    """A provider's tool answer as an MCP result."""
    content = content_blocks(resp.content, resp.text)
    if resp.is_error:
        return types.CallToolResult(content=content, is_error=True)
    structured: dict[str, Any] | None = None
    if resp.structured_json:
        structured = json.loads(resp.structured_json)
    elif resp.HasField("structured"):
        structured = _normalize(struct_to_dict(resp.structured))
    return types.CallToolResult(content=content, structured_content=structured)


def _error(text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=text)], is_error=True)


_CAPS_JSON: dict[int, tuple[types.ClientCapabilities, str]] = {}
_CAPS_JSON_MAX = 1024


def _caps_json(caps: types.ClientCapabilities | None) -> str:
    """A session's capabilities as JSON, dumped once per capabilities object (not once per call)."""
    if caps is None:
        return "{}"
    found = _CAPS_JSON.get(id(caps))
    if found is not None and found[0] is caps:
        return found[1]
    if len(_CAPS_JSON) >= _CAPS_JSON_MAX:
        _CAPS_JSON.clear()
    text = json.dumps(caps.model_dump(by_alias=True, mode="json", exclude_none=True))
    _CAPS_JSON[id(caps)] = (caps, text)
    return text


def _raw_meta(ctx: Ctx) -> Mapping[str, Any]:
    meta = ctx.params.get("_meta") if ctx.params is not None else None
    return meta if isinstance(meta, Mapping) else {}


@dataclass
class CallSite:
    """The MCP request behind a forwarded call, and what its client can receive."""

    ctx: Ctx
    input_timeout_s: float
    session_log_level: types.LoggingLevel | None = None
    """`logging/setLevel` of a handshake-era session, if it sent one."""
    mode: provider_pb2.InputMode = field(init=False)
    log_level: types.LoggingLevel | None = field(init=False)
    """Lowest level forwarded to the client; None forwards nothing."""

    def __post_init__(self) -> None:
        self.mode = input_mode(self.ctx)
        if self.mode == provider_pb2.INPUT_MODE_RESULT:
            allowed = allowed_log_levels(self.ctx.protocol_version, _raw_meta(self.ctx))
            self.log_level = next((lv for lv in MCP_LEVELS if lv in allowed), None)
        else:
            self.log_level = self.session_log_level or "debug"

    @property
    def caps(self) -> types.ClientCapabilities | None:
        return self.ctx.session.client_capabilities

    def context(self, responses: list[provider_pb2.InputResponse], provider_state: str) -> provider_pb2.CallContext:
        return provider_pb2.CallContext(
            protocol_version=self.ctx.protocol_version,
            client_capabilities_json=_caps_json(self.caps),
            input_mode=self.mode,
            input_responses=responses,
            request_state=provider_state,
            progress_requested=_raw_meta(self.ctx).get("progressToken") is not None,
            log_level=self.log_level or "",
        )

    def answers(self, request_state: str | None, responses: Mapping[str, types.InputResponse] | None) -> Answers:
        """What a 2026 retry brought (nothing for other clients).

        Raises:
            MCPError: -32602 for a state this gateway did not mint.
        """
        if self.mode != provider_pb2.INPUT_MODE_RESULT:
            return Answers.of(InputState(), None)
        try:
            return Answers.of(InputState.decode(request_state), responses)
        except BadState as exc:
            raise MCPError(_INVALID_PARAMS, "Invalid or expired requestState") from exc

    async def progress(self, frame: provider_pb2.Progress) -> None:
        total = frame.total if frame.HasField("total") else None
        await self.ctx.session.report_progress(frame.progress, total, frame.message or None)

    async def log(self, frame: provider_pb2.LogMessage) -> None:
        level: types.LoggingLevel = frame.level if frame.level in MCP_LEVELS else "info"
        if self.log_level is None or not wants(level, self.log_level):
            return
        try:
            data = json.loads(frame.data_json) if frame.data_json else None
        except ValueError:
            data = frame.data_json
        params = types.LoggingMessageNotificationParams(level=level, logger=frame.logger or None, data=data)
        await self.ctx.session.send_notification(
            types.LoggingMessageNotification(params=params), related_request_id=self.ctx.request_id
        )

    async def fulfil(
        self, required: provider_pb2.InputRequired, answers: Answers, budget: _Budget | None = None
    ) -> types.InputRequiredResult | list[provider_pb2.InputResponse] | str:
        """Act on a provider's InputRequired.

        Returns the 2026 result, the answers to call again with (handshake era), or the text of
        a failure.

        Raises:
            MCPError: -32021 when a 2026 client lacks a needed capability.
        """
        try:
            requests = {r.key: parse_request(r) for r in required.requests}
        except BadInputRequest as exc:
            return f"the provider asked for invalid input: {exc}"
        if self.mode == provider_pb2.INPUT_MODE_RESULT:
            for request in requests.values():
                require_capability(request, self.caps)
            asked = {key: question_digest(request) for key, request in requests.items()}
            return input_required(requests, answers.next_state(required.request_state, asked))
        if self.mode == provider_pb2.INPUT_MODE_NONE or not requests:
            return "the provider needs input that this client cannot give"
        with budget.paused() if budget is not None else contextlib.nullcontext():
            return [await ask_client(self.ctx, key, request, self.input_timeout_s) for key, request in requests.items()]

    async def answer(
        self, frame: provider_pb2.InputRequest, answers: Answers, provider_state: str, budget: _Budget
    ) -> provider_pb2.InputResponse | types.InputRequiredResult:
        """Answer an in-call ask, or (2026) end the round asking the client for it."""
        try:
            request = parse_request(frame)
        except BadInputRequest as exc:
            return error_response(frame.key, _INVALID_PARAMS, str(exc))
        if self.mode == provider_pb2.INPUT_MODE_IN_CALL:
            with budget.paused():
                return await ask_client(self.ctx, frame.key, request, self.input_timeout_s)
        if self.mode == provider_pb2.INPUT_MODE_NONE:
            return error_response(frame.key, MISSING_CAPABILITY, "this client cannot be asked for input")
        digest = question_digest(request)
        known = answers.in_call(frame.key, digest)
        if known is not None:
            return result_response(frame.key, known)
        require_capability(request, self.caps)
        return input_required({frame.key: request}, answers.next_state(provider_state, {frame.key: digest}))


class _Budget:
    """The tool's deadline, paused while the client is being asked (rule 1)."""

    def __init__(self, seconds: float) -> None:
        self._deadline = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self._deadline - time.monotonic())

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        finally:
            self._deadline += time.monotonic() - start


class _Unimplemented(Exception):
    """The provider has no InvokeToolStream."""


class _TimedOut(Exception):
    """The provider sent nothing within the remaining budget."""


@dataclass
class StreamedCall:
    """One tools/call over InvokeToolStream, all its rounds."""

    link: ProviderLink
    site: CallSite
    tool: str
    """The name the client called, for messages."""
    remote_name: str
    arguments_json: str
    timeout_s: float
    correlation_id: str
    retry_safe: bool
    unary: Callable[[], Awaitable[types.CallToolResult]]
    """The unary fallback (rule 3)."""

    async def run(self, params: types.CallToolRequestParams) -> Outcome:
        if not self.link.streams_tools:
            return await self.unary()
        answers = self.site.answers(params.request_state, params.input_responses)
        responses, state = answers.for_provider(), answers.state.provider_state
        budget = _Budget(self.timeout_s)
        for _ in range(MAX_ROUNDS):
            try:
                outcome = await self._round(responses, state, answers, budget)
            except _Unimplemented:
                log.info("tool_stream_unimplemented", provider=self.link.name)
                self.link.streams_tools = False
                return await self.unary()
            except _TimedOut:
                return timed_out_result(self.link.name, self.tool, idempotent=self.retry_safe)
            if not isinstance(outcome, provider_pb2.InputRequired):
                return outcome
            asked = await self.site.fulfil(outcome, answers, budget)
            if isinstance(asked, str):
                return _error(f"{self.tool}: {asked}.")
            if isinstance(asked, types.InputRequiredResult):
                return asked
            responses, state = asked, outcome.request_state
        return _error(f"{self.tool}: the provider still needed input after {MAX_ROUNDS} rounds.")

    async def _round(
        self, responses: list[provider_pb2.InputResponse], state: str, answers: Answers, budget: _Budget
    ) -> Outcome | provider_pb2.InputRequired:
        start = provider_pb2.ToolCallStart(
            request=provider_pb2.InvokeToolRequest(name=self.remote_name, arguments_json=self.arguments_json),
            context=self.site.context(responses, state),
        )
        attempts = 2 if self.retry_safe else 1
        for attempt in range(attempts):
            call, index, channel = self.link.open_tool_stream(self.correlation_id)
            received = False
            try:
                await call.write(provider_pb2.ToolCallUp(start=start))
                while True:
                    frame = await self._read(call, budget)
                    received = True
                    outcome = await self._relay(call, frame, answers, state, budget)
                    if outcome is not None:
                        return outcome
            except grpc.aio.AioRpcError as exc:
                if exc.code() is grpc.StatusCode.UNIMPLEMENTED and not received:
                    raise _Unimplemented from exc
                if exc.code() is not grpc.StatusCode.UNAVAILABLE or received:
                    raise
                self.link.evict(index, channel)
                if details_from_metadata(exc.trailing_metadata()) is not None:
                    raise  # the provider itself answered UNAVAILABLE
                if attempt + 1 >= attempts or not await self.link.quick_check():
                    raise
                log.info("retrying_after_reconnect", provider=self.link.name, method="InvokeToolStream")
            finally:
                call.cancel()  # rule 2; a no-op once the call is over
        raise AssertionError("unreachable")

    async def _read(self, call: Any, budget: _Budget) -> provider_pb2.ToolCallDown:
        try:
            async with asyncio.timeout(budget.remaining()):
                frame = await call.read()
        except TimeoutError as exc:
            raise _TimedOut from exc
        if frame is grpc.aio.EOF:  # a failed call raises instead: this one ended OK, with no result
            raise grpc.aio.AioRpcError(
                grpc.StatusCode.INTERNAL,
                grpc.aio.Metadata(),
                grpc.aio.Metadata(),
                details="the provider ended the call without a result",
            )
        result: provider_pb2.ToolCallDown = frame
        return result

    async def _relay(
        self, call: Any, frame: provider_pb2.ToolCallDown, answers: Answers, state: str, budget: _Budget
    ) -> Outcome | provider_pb2.InputRequired | None:
        kind = frame.WhichOneof("frame")
        if kind == "progress":
            await self.site.progress(frame.progress)
        elif kind == "log":
            await self.site.log(frame.log)
        elif kind == "input_request":
            answer = await self.site.answer(frame.input_request, answers, state, budget)
            if isinstance(answer, types.InputRequiredResult):
                return answer
            await call.write(provider_pb2.ToolCallUp(input_response=answer))
        elif kind == "result":
            return tool_result(frame.result)
        elif kind == "input_required":
            return frame.input_required
        return None


async def answer_unary(
    site: CallSite,
    request_state: str | None,
    responses: Mapping[str, types.InputResponse] | None,
    call: Callable[[provider_pb2.CallContext], Awaitable[R]],
    required_of: Callable[[R], provider_pb2.InputRequired | None],
) -> R | types.InputRequiredResult:
    """Run a unary RPC that may answer InputRequired (prompts/get, resources/read).

    Raises:
        MCPError: -32602 for a bad requestState or bad input request, -32021 for a missing
            capability (2026), -32603 when a handshake-era client exhausts `MAX_ROUNDS`.
        grpc.aio.AioRpcError: the RPC failed.
    """
    answers = site.answers(request_state, responses)
    context = site.context(answers.for_provider(), answers.state.provider_state)
    for _ in range(MAX_ROUNDS):
        resp = await call(context)
        required = required_of(resp)
        if required is None:
            return resp
        asked = await site.fulfil(required, answers)
        if isinstance(asked, str):
            raise MCPError(_INVALID_PARAMS, asked[0].upper() + asked[1:])
        if isinstance(asked, types.InputRequiredResult):
            return asked
        context = site.context(asked, required.request_state)
    raise MCPError(-32603, f"The provider still needed input after {MAX_ROUNDS} rounds")
