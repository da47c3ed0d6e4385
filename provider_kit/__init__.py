"""A small kit for writing a provider.v1 provider: tool calls over InvokeToolStream, content blocks.

It depends on nothing but the generated `contracts.provider.v1` and grpcio, so any provider can use
it: the fixture provider (`fixture_provider/`) and the Binance provider (its order confirmation,
`provider/services/confirm.py`) both do, and a provider of another exchange can.
A tool is `async def tool(call: ToolCall, args: dict) -> Reply`:

- `await call.progress(50, 100, "half way")` and `await call.log("info", "text or JSON")`;
- `answer = await call.ask("key", "elicitation/create", {...})` asks the client within the call
  and returns its answer (a JSON object); `InputUnavailable` when the client cannot or will not
  answer. On a 2026-07-28 client the gateway ends the call at the ask and runs the tool again on
  the client's retry, with the answer already known: ask before any side effect;
- `raise InputNeeded({"key": ("elicitation/create", {...})}, state="...")` ends the call asking
  for input; the retry runs the tool again with `call.answers` (key -> answer) and
  `call.request_state` (the `state` given back, verbatim);
- `call.client_capabilities` (MCP ClientCapabilities as JSON) and `call.input_mode` say what
  the client can be asked;
- the tool returns `Reply(content=[text("..."), image(png, "image/png")], structured={...})`,
  or `Reply(..., is_error=True)` when it ran but failed.

`serve_tool_stream` drives one InvokeToolStream RPC; `unary_reply` answers InvokeTool for
gateways that do not stream. Asks within one call are sequential (one answer awaited at a time).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
import grpc.aio
from google.protobuf import json_format

from contracts.provider.v1 import provider_pb2

__all__ = [
    "InputNeeded",
    "InputUnavailable",
    "Reply",
    "ToolCall",
    "ToolHandler",
    "audio",
    "embedded",
    "image",
    "resource_link",
    "serve_tool_stream",
    "text",
    "unary_reply",
]


# -- content blocks ----------------------------------------------------------------------------


def text(value: str) -> provider_pb2.ContentBlock:
    return provider_pb2.ContentBlock(text=provider_pb2.TextContent(text=value))


def image(data: bytes, mime_type: str) -> provider_pb2.ContentBlock:
    return provider_pb2.ContentBlock(image=provider_pb2.MediaContent(data=data, mime_type=mime_type))


def audio(data: bytes, mime_type: str) -> provider_pb2.ContentBlock:
    return provider_pb2.ContentBlock(audio=provider_pb2.MediaContent(data=data, mime_type=mime_type))


def embedded(uri: str, mime_type: str, *, text: str = "", blob: bytes = b"") -> provider_pb2.ContentBlock:
    contents = provider_pb2.ResourceContents(uri=uri, mime_type=mime_type, text=text, blob=blob)
    return provider_pb2.ContentBlock(resource=contents)


def resource_link(uri: str, name: str, *, mime_type: str = "", description: str = "") -> provider_pb2.ContentBlock:
    link = provider_pb2.ResourceDescriptor(uri=uri, name=name, mime_type=mime_type, description=description)
    return provider_pb2.ContentBlock(resource_link=link)


@dataclass
class Reply:
    """What a tool answers."""

    content: Sequence[provider_pb2.ContentBlock] = ()
    structured: Mapping[str, Any] | None = None
    is_error: bool = False

    def response(self) -> provider_pb2.InvokeToolResponse:
        blocks = list(self.content)
        plain = "\n".join(b.text.text for b in blocks if b.WhichOneof("block") == "text")
        return provider_pb2.InvokeToolResponse(
            content=blocks,
            text=plain,
            is_error=self.is_error,
            structured_json=json.dumps(self.structured) if self.structured is not None else "",
        )


# -- asking for input --------------------------------------------------------------------------


class InputNeeded(Exception):
    """Raised by a tool to end the call asking for input (provider.v1 InputRequired)."""

    def __init__(self, requests: Mapping[str, tuple[str, Mapping[str, Any]]], state: str = "") -> None:
        super().__init__(", ".join(requests))
        self.requests = dict(requests)
        self.state = state

    def frame(self) -> provider_pb2.InputRequired:
        return provider_pb2.InputRequired(
            requests=[_request(key, method, params) for key, (method, params) in self.requests.items()],
            request_state=self.state,
        )


class InputUnavailable(Exception):
    """The client could not or would not answer an `ask` (its error code and message)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{message} ({code})")
        self.code = code
        self.message = message


def _request(key: str, method: str, params: Mapping[str, Any]) -> provider_pb2.InputRequest:
    return provider_pb2.InputRequest(key=key, method=method, params_json=json.dumps(dict(params)))


def _answer(response: provider_pb2.InputResponse) -> dict[str, Any]:
    if response.error_code or not response.result_json:
        raise InputUnavailable(response.error_code, response.error_message or "no answer")
    value = json.loads(response.result_json)
    return value if isinstance(value, dict) else {}


@dataclass
class ToolCall:
    """One tool call as a tool sees it."""

    name: str
    context: provider_pb2.CallContext
    _grpc: grpc.aio.ServicerContext[Any, Any] | None = None
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Answers of the previous round's InputNeeded, by key (errors left out)."""

    def __post_init__(self) -> None:
        for response in self.context.input_responses:
            try:
                self.answers[response.key] = _answer(response)
            except (InputUnavailable, ValueError):
                continue

    @property
    def request_state(self) -> str:
        return self.context.request_state

    @property
    def input_mode(self) -> provider_pb2.InputMode:
        return self.context.input_mode

    @property
    def client_capabilities(self) -> dict[str, Any]:
        try:
            caps = json.loads(self.context.client_capabilities_json or "{}")
        except ValueError:
            return {}
        return caps if isinstance(caps, dict) else {}

    async def _send(self, frame: provider_pb2.ToolCallDown) -> None:
        if self._grpc is not None:  # a unary call has nowhere to send it
            await self._grpc.write(frame)

    async def progress(self, progress: float, total: float | None = None, message: str = "") -> None:
        await self._send(
            provider_pb2.ToolCallDown(progress=provider_pb2.Progress(progress=progress, total=total, message=message))
        )

    async def log(self, level: str, data: Any, logger: str = "") -> None:
        frame = provider_pb2.LogMessage(level=level, logger=logger, data_json=json.dumps(data))
        await self._send(provider_pb2.ToolCallDown(log=frame))

    async def ask(self, key: str, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Ask the client for input within the call; its answer as a JSON object.

        Raises:
            InputUnavailable: the client cannot or will not answer (or the call is unary).
        """
        if self._grpc is None:
            raise InputUnavailable(-32021, "input cannot be asked in a unary call")
        await self._grpc.write(provider_pb2.ToolCallDown(input_request=_request(key, method, params)))
        while True:
            up = await self._grpc.read()
            if up is grpc.aio.EOF:
                raise InputUnavailable(-32603, "the gateway closed the call")
            if up.WhichOneof("frame") == "input_response" and up.input_response.key == key:
                return _answer(up.input_response)


ToolHandler = Callable[[ToolCall, dict[str, Any]], Awaitable[Reply]]


async def serve_tool_stream(
    context: grpc.aio.ServicerContext[Any, Any], find: Callable[[str], ToolHandler | None]
) -> None:
    """Serve one InvokeToolStream RPC with the handler `find` returns for the tool's name."""
    first = await context.read()
    if first is grpc.aio.EOF or first.WhichOneof("frame") != "start":
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "the first frame must be start")
    start = first.start
    handler = find(start.request.name)
    if handler is None:
        await context.abort(grpc.StatusCode.NOT_FOUND, f"unknown tool {start.request.name!r}")
        return
    call = ToolCall(start.request.name, start.context, context)
    try:
        reply = await handler(call, _arguments(start.request))
    except InputNeeded as needed:
        await context.write(provider_pb2.ToolCallDown(input_required=needed.frame()))
        return
    await context.write(provider_pb2.ToolCallDown(result=reply.response()))


async def unary_reply(
    request: provider_pb2.InvokeToolRequest,
    context: grpc.aio.ServicerContext[Any, Any],
    find: Callable[[str], ToolHandler | None],
) -> provider_pb2.InvokeToolResponse:
    """Answer InvokeTool (a gateway that does not stream): no progress, logs or input."""
    handler = find(request.name)
    if handler is None:
        await context.abort(grpc.StatusCode.NOT_FOUND, f"unknown tool {request.name!r}")
        raise AssertionError("unreachable")
    try:
        reply = await handler(ToolCall(request.name, provider_pb2.CallContext()), _arguments(request))
    except InputNeeded:
        return Reply([text(f"{request.name} needs input, which this call cannot ask for.")], is_error=True).response()
    return reply.response()


def _arguments(request: provider_pb2.InvokeToolRequest) -> dict[str, Any]:
    if request.arguments_json:
        value = json.loads(request.arguments_json)
        return value if isinstance(value, dict) else {}
    out: dict[str, Any] = json_format.MessageToDict(request.arguments)
    return out
