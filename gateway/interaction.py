"""Input a provider asks for mid-request, mapped to what the client's protocol revision offers.

A provider asks for input (elicitation, sampling, roots) in one of two ways (provider.v1):
an `InputRequest` frame answered within the call, or an `InputRequired` result carrying its own
`request_state`. A client offers one of three things, decided by `input_mode(ctx)`:

| client                                  | mode     | an in-call ask               | an InputRequired result          |
|-----------------------------------------|----------|------------------------------|----------------------------------|
| handshake era (<= 2025-11-25), can ask  | IN_CALL  | a server-to-client request   | the gateway asks each request,   |
|                                         |          | within the call              | then calls again with answers    |
| 2026-07-28 (stateless)                  | RESULT   | ends the call: input_required| input_required result; the retry |
|                                         |          | result; the retry re-runs it | brings answers and the state     |
|                                         |          | with the answer given early  |                                  |
| anything else                           | NONE     | answered with an error       | a tool error                     |

Rules:
1. The `requestState` a 2026 client sees is the gateway's `InputState` as JSON, sealed and bound
   to the request (method, name, arguments) by the SDK's `RequestStateBoundary` (AES-GCM, TTL), so
   a client can neither read nor alter it. It carries the provider's own `request_state`, the
   digest of each question asked in the round, and the answers recorded for in-call asks.
2. An answer counts only for the question it answered: a retry's answer is used when its key was
   asked in the previous round with the same digest (method and params); an in-call answer
   recorded in an earlier round is reused when the provider asks the same question again.
   (Answers given ahead of any question: rule 4.)
3. Input the client did not declare a capability for is never asked. On 2026-07-28 the request
   fails with -32021 (MissingRequiredClientCapability, `data.requiredCapabilities`); an older
   client has no such error, so the provider's ask is answered with error -32021 instead.
4. Answers of a retry to keys its state did not ask are ignored. Answers given before any question
   (a request without `requestState`) reach the provider as given: a client that knows a tool may
   answer ahead, and it could invent any answer anyway; the provider validates what it gets.

`InputState`, `question_digest`, `parse_request`, `missing_capability` and `Answers` are pure;
`ask_client` is the shell that sends one request to a handshake-era client.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.validation import wants_sampling_tools
from mcp.shared.exceptions import MCPError
from mcp.shared.message import ServerMessageMetadata
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import BaseModel, TypeAdapter, ValidationError

from contracts.provider.v1 import provider_pb2

__all__ = [
    "MISSING_CAPABILITY",
    "Answers",
    "BadInputRequest",
    "InputState",
    "ask_client",
    "input_mode",
    "missing_capability",
    "parse_request",
    "question_digest",
    "require_capability",
]

#: MissingRequiredClientCapabilityError (MCP 2026-07-28).
MISSING_CAPABILITY = -32021
_INVALID_PARAMS = -32602
_INTERNAL_ERROR = -32603
_STATE_VERSION = 1

Ctx = ServerRequestContext[Any, Any]
_REQUEST_ADAPTER: TypeAdapter[types.InputRequest] = TypeAdapter(types.InputRequest)
_RESPONSE_ADAPTER: TypeAdapter[types.InputResponse] = TypeAdapter(types.InputResponse)


class BadInputRequest(ValueError):
    """A provider's input request is not a valid MCP request of an allowed method."""


def input_mode(ctx: Ctx) -> provider_pb2.InputMode:
    """How input can be asked of the client behind `ctx` (see the table above)."""
    if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
        return provider_pb2.INPUT_MODE_RESULT
    if ctx.session.can_send_request:
        return provider_pb2.INPUT_MODE_IN_CALL
    return provider_pb2.INPUT_MODE_NONE


def parse_request(request: provider_pb2.InputRequest) -> types.InputRequest:
    """The MCP request a provider asks for.

    Raises:
        BadInputRequest: the method is not elicitation/create, sampling/createMessage or
            roots/list, or its params are not valid for it.
    """
    try:
        params = json.loads(request.params_json) if request.params_json else {}
    except ValueError as exc:
        raise BadInputRequest(f"params of {request.key!r} are not JSON") from exc
    if not isinstance(params, dict):
        raise BadInputRequest(f"params of {request.key!r} are not a JSON object")
    wire: dict[str, Any] = {"method": request.method}
    if params or request.method != "roots/list":
        wire["params"] = params
    try:
        return _REQUEST_ADAPTER.validate_python(wire)
    except ValidationError as exc:
        raise BadInputRequest(f"{request.key!r} is not a valid {request.method or 'input'} request") from exc


def question_digest(request: types.InputRequest) -> str:
    """Pins an answer to the exact question asked (method and params, canonical JSON)."""
    wire = request.model_dump(by_alias=True, mode="json", exclude_none=True)
    text = json.dumps(wire, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def missing_capability(request: types.InputRequest, caps: types.ClientCapabilities | None) -> dict[str, Any] | None:
    """The `requiredCapabilities` the client lacks for `request`, or None when it can answer."""
    if isinstance(request, types.ElicitRequest):
        elicitation = caps.elicitation if caps is not None else None
        url_mode = isinstance(request.params, types.ElicitRequestURLParams)
        if elicitation is not None:
            # A bare `elicitation: {}` (before modes existed) means form mode.
            if url_mode and elicitation.url is not None:
                return None
            if not url_mode and (elicitation.form is not None or elicitation.url is None):
                return None
        return {"elicitation": {"url": {}} if url_mode else {"form": {}}}
    if isinstance(request, types.CreateMessageRequest):
        sampling = caps.sampling if caps is not None else None
        tools = wants_sampling_tools(request.params.tools, request.params.tool_choice)
        if sampling is not None and (not tools or sampling.tools is not None):
            return None
        return {"sampling": {"tools": {}} if tools else {}}
    if caps is not None and caps.roots is not None:
        return None
    return {"roots": {}}


def require_capability(request: types.InputRequest, caps: types.ClientCapabilities | None) -> None:
    """Raise the 2026-07-28 error when the client cannot answer `request` (rule 3).

    Raises:
        MCPError: -32021 with `data.requiredCapabilities`.
    """
    required = missing_capability(request, caps)
    if required is not None:
        raise MCPError(
            MISSING_CAPABILITY,
            f"The client did not declare the capability {request.method} needs",
            {"requiredCapabilities": required},
        )


def error_response(key: str, code: int, message: str) -> provider_pb2.InputResponse:
    """An answer saying that no answer could be had."""
    return provider_pb2.InputResponse(key=key, error_code=code, error_message=message)


def result_response(key: str, result: Mapping[str, Any] | BaseModel) -> provider_pb2.InputResponse:
    """An answer carrying the client's result."""
    wire = result.model_dump(by_alias=True, mode="json", exclude_none=True) if isinstance(result, BaseModel) else result
    return provider_pb2.InputResponse(key=key, result_json=json.dumps(wire, separators=(",", ":")))


# -- the state a 2026 client carries between rounds ------------------------------------------


class BadState(ValueError):
    """A `requestState` that the gateway did not mint (never expected behind the SDK's seal)."""


@dataclass(frozen=True, slots=True)
class Recorded:
    """An in-call ask answered in an earlier round."""

    digest: str
    answer: dict[str, Any]


@dataclass(frozen=True, slots=True)
class InputState:
    """What one round of a 2026 request hands to the next (rule 1)."""

    provider_state: str = ""
    asked: Mapping[str, str] = field(default_factory=dict)
    """Key -> digest of each question asked in the round."""
    recorded: Mapping[str, Recorded] = field(default_factory=dict)

    def encode(self) -> str:
        return json.dumps(
            {
                "v": _STATE_VERSION,
                "p": self.provider_state,
                "q": dict(self.asked),
                "r": {k: {"d": r.digest, "a": r.answer} for k, r in self.recorded.items()},
            },
            separators=(",", ":"),
        )

    @classmethod
    def decode(cls, raw: str | None) -> InputState:
        """The state of a retry (empty for a first round).

        Raises:
            BadState: `raw` is not a state this gateway minted.
        """
        if not raw:
            return cls()
        try:
            data = json.loads(raw)
            if data["v"] != _STATE_VERSION or not isinstance(data["p"], str):
                raise BadState("unknown state version")
            asked = {str(k): str(v) for k, v in data["q"].items()}
            recorded = {str(k): Recorded(str(v["d"]), dict(v["a"])) for k, v in data["r"].items()}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BadState("malformed state") from exc
        return cls(data["p"], asked, recorded)


@dataclass
class Answers:
    """Answers available to one round: recorded in-call answers and the retry's fresh ones (rule 2)."""

    state: InputState
    fresh: Mapping[str, dict[str, Any]]
    recorded: dict[str, Recorded] = field(init=False)

    def __post_init__(self) -> None:
        self.recorded = dict(self.state.recorded)

    @classmethod
    def of(cls, state: InputState, responses: Mapping[str, types.InputResponse] | None) -> Answers:
        fresh = {
            key: r.model_dump(by_alias=True, mode="json", exclude_none=True)
            for key, r in (responses or {}).items()
            if not state.asked or key in state.asked  # rule 4
        }
        return cls(state, fresh)

    def for_provider(self) -> list[provider_pb2.InputResponse]:
        """The fresh answers as `CallContext.input_responses`."""
        return [result_response(key, answer) for key, answer in self.fresh.items()]

    def in_call(self, key: str, digest: str) -> dict[str, Any] | None:
        """The answer to an in-call ask, recorded for later rounds; None when it must be asked."""
        recorded = self.recorded.get(key)
        if recorded is not None and recorded.digest == digest:
            return recorded.answer
        answer = self.fresh.get(key)
        if answer is not None and (not self.state.asked or self.state.asked.get(key) == digest):
            self.recorded[key] = Recorded(digest, answer)
            return answer
        return None

    def next_state(self, provider_state: str, asked: Mapping[str, str]) -> InputState:
        return InputState(provider_state, dict(asked), dict(self.recorded))


def input_required(requests: Mapping[str, types.InputRequest], state: InputState) -> types.InputRequiredResult:
    """The 2026 result asking the client for `requests`."""
    return types.InputRequiredResult(input_requests=dict(requests), request_state=state.encode())


# -- asking a handshake-era client -----------------------------------------------------------


def _result_type(request: types.InputRequest) -> type[BaseModel]:
    if isinstance(request, types.ElicitRequest):
        return types.ElicitResult
    if isinstance(request, types.CreateMessageRequest):
        if wants_sampling_tools(request.params.tools, request.params.tool_choice):
            return types.CreateMessageResultWithTools
        return types.CreateMessageResult
    return types.ListRootsResult


async def ask_client(ctx: Ctx, key: str, request: types.InputRequest, timeout_s: float) -> provider_pb2.InputResponse:
    """Send one request to a handshake-era client within the MCP request; never raises for its answer."""
    required = missing_capability(request, ctx.session.client_capabilities)
    if required is not None:
        message = f"The client did not declare the capability {request.method} needs"
        return error_response(key, MISSING_CAPABILITY, message)
    try:
        result = await ctx.session.send_request(
            request,
            _result_type(request),
            request_read_timeout_seconds=timeout_s,
            metadata=ServerMessageMetadata(related_request_id=ctx.request_id),
        )
    except MCPError as exc:
        return error_response(key, exc.code, exc.message)
    except ValidationError:
        return error_response(key, _INVALID_PARAMS, f"The client's answer to {request.method} is not valid")
    except Exception as exc:  # no back-channel, the client went away, ...
        return error_response(key, _INTERNAL_ERROR, f"The client could not be asked ({type(exc).__name__})")
    return result_response(key, result)


def parse_response(raw: str) -> types.InputResponse:
    """A provider-side helper: the client's answer as an MCP model.

    Raises:
        ValueError: `raw` is not a valid input response.
    """
    return _RESPONSE_ADAPTER.validate_json(raw)
