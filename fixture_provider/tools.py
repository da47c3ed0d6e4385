"""The conformance suite's fixture tools, written against provider.v1 only.

They mirror the suite's own fixture server (`examples/servers/typescript/everything-server.ts`
of modelcontextprotocol/conformance): same names, arguments and answers, so every server
scenario can run through the gateway. Tools that ask for input use both provider.v1 styles:
`call.ask` within the call (test_sampling, test_elicitation*) and `InputNeeded` with request
state (test_input_required_result_*); the gateway maps either to the client's protocol revision.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from contracts.provider.v1 import provider_pb2
from provider_kit import (
    InputNeeded,
    InputUnavailable,
    Reply,
    ToolCall,
    ToolHandler,
    audio,
    embedded,
    image,
    text,
)

__all__ = ["AUDIO_WAV", "DYNAMIC_TOOL", "IMAGE_PNG", "JSON_SCHEMA_2020_12", "Tool", "catalog_tools"]

IMAGE_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)
"""A 1x1 red PNG pixel."""
AUDIO_WAV = base64.b64decode("UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=")
"""A minimal WAV file."""

_NO_ARGS: dict[str, Any] = {"type": "object", "properties": {}}
_STATE_KEY = os.urandom(32)

JSON_SCHEMA_2020_12 = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {
        "address": {
            "$anchor": "addressDef",
            "type": "object",
            "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
        }
    },
    "properties": {
        "name": {"type": "string"},
        "address": {"$ref": "#/$defs/address"},
        "contactMethod": {"type": "string", "enum": ["phone", "email"]},
        "phone": {"type": "string"},
        "email": {"type": "string"},
    },
    "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
    "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
    "then": {"required": ["phone"]},
    "else": {"required": ["email"]},
    "additionalProperties": False,
}


@dataclass(frozen=True)
class Tool:
    """A tool's descriptor and its handler."""

    name: str
    description: str
    handler: ToolHandler
    input_schema: dict[str, Any]

    def descriptor(self) -> provider_pb2.ToolDescriptor:
        return provider_pb2.ToolDescriptor(
            name=self.name, description=self.description, input_schema_json=json.dumps(self.input_schema)
        )


def _string_args(**described: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {name: {"type": "string", "description": d} for name, d in described.items()},
        "required": list(described),
    }


def _elicit(message: str, properties: dict[str, Any], required: list[str]) -> tuple[str, dict[str, Any]]:
    schema = {"type": "object", "properties": properties, "required": required}
    return "elicitation/create", {"message": message, "requestedSchema": schema}


def _sample(prompt: str, max_tokens: int) -> tuple[str, dict[str, Any]]:
    message = {"role": "user", "content": {"type": "text", "text": prompt}}
    return "sampling/createMessage", {"messages": [message], "maxTokens": max_tokens}


def _field(answer: dict[str, Any] | None, name: str) -> str:
    content = (answer or {}).get("content")
    value = content.get(name) if isinstance(content, dict) else None
    return value if isinstance(value, str) else "unknown"


def _signed(payload: dict[str, Any]) -> str:
    """Request state the provider can check itself (the gateway seals it too)."""
    data = json.dumps(payload)
    mac = hmac.new(_STATE_KEY, data.encode(), hashlib.sha256).hexdigest()
    return json.dumps({"data": data, "hmac": mac})


def _verified(raw: str) -> dict[str, Any] | None:
    try:
        wrapper = json.loads(raw)
        data, mac = wrapper["data"], wrapper["hmac"]
        if not hmac.compare_digest(mac, hmac.new(_STATE_KEY, data.encode(), hashlib.sha256).hexdigest()):
            return None
        value = json.loads(data)
    except (ValueError, KeyError, TypeError):
        return None
    return value if isinstance(value, dict) else None


def _state(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _nonce() -> str:
    return uuid.uuid4().hex


# -- content --------------------------------------------------------------------------------


async def simple_text(call: ToolCall, args: dict[str, Any]) -> Reply:
    return Reply([text("This is a simple text response for testing.")])


async def image_content(call: ToolCall, args: dict[str, Any]) -> Reply:
    return Reply([image(IMAGE_PNG, "image/png")])


async def audio_content(call: ToolCall, args: dict[str, Any]) -> Reply:
    return Reply([audio(AUDIO_WAV, "audio/wav")])


async def embedded_resource(call: ToolCall, args: dict[str, Any]) -> Reply:
    return Reply([embedded("test://embedded-resource", "text/plain", text="This is an embedded resource content.")])


async def multiple_content_types(call: ToolCall, args: dict[str, Any]) -> Reply:
    data = json.dumps({"test": "data", "value": 123})
    return Reply(
        [
            text("Multiple content types test:"),
            image(IMAGE_PNG, "image/png"),
            embedded("test://mixed-content-resource", "application/json", text=data),
        ]
    )


async def error_handling(call: ToolCall, args: dict[str, Any]) -> Reply:
    return Reply([text("This tool intentionally returns an error for testing")], is_error=True)


async def header_parameter(call: ToolCall, args: dict[str, Any]) -> Reply:
    return Reply([text(f"Region: {args.get('region')}")])


async def json_schema_tool(call: ToolCall, args: dict[str, Any]) -> Reply:
    return Reply([text(f"JSON Schema 2020-12 tool called with: {json.dumps(args)}")])


# -- mid-call notifications -----------------------------------------------------------------


async def with_logging(call: ToolCall, args: dict[str, Any]) -> Reply:
    for message in ("Tool execution started", "Tool processing data", "Tool execution completed"):
        await call.log("info", message)
    return Reply([text("Tool with logging executed successfully")])


async def with_progress(call: ToolCall, args: dict[str, Any]) -> Reply:
    for step in (0, 50, 100):
        await call.progress(step, 100, f"Completed step {step} of 100")
    return Reply([text("Progress reported: 0, 50, 100 of 100")])


async def streaming_elicitation(call: ToolCall, args: dict[str, Any]) -> Reply:
    await call.progress(50, 100)
    return Reply([text("Streaming complete")])


async def logging_tool(call: ToolCall, args: dict[str, Any]) -> Reply:
    await call.log("info", "Diagnostic trace logging activated")
    return Reply([text("Logging evaluated")])


async def reconnection(call: ToolCall, args: dict[str, Any]) -> Reply:
    return Reply(
        [
            text(
                "Reconnection test completed successfully. If you received this, the client properly "
                "reconnected after stream closure."
            )
        ]
    )


# -- input within the call ------------------------------------------------------------------


async def sampling(call: ToolCall, args: dict[str, Any]) -> Reply:
    method, params = _sample(str(args.get("prompt", "")), 100)
    try:
        answer = await call.ask("sampling", method, params)
    except InputUnavailable as exc:
        return Reply([text(f"Sampling not supported or error: {exc.message}")])
    content = answer.get("content")
    reply = content.get("text") if isinstance(content, dict) else None
    return Reply([text(f"LLM response: {reply or 'No response'}")])


async def _elicitation_reply(call: ToolCall, method: str, params: dict[str, Any], head: str) -> Reply:
    try:
        answer = await call.ask("elicitation", method, params)
    except InputUnavailable as exc:
        return Reply([text(f"Elicitation not supported or error: {exc.message}")])
    content = json.dumps(answer.get("content") or {}, separators=(",", ":"))
    return Reply([text(f"{head}: action={answer.get('action')}, content={content}")])


async def elicitation(call: ToolCall, args: dict[str, Any]) -> Reply:
    method, params = _elicit(
        str(args.get("message", "")), {"response": {"type": "string", "description": "User's response"}}, ["response"]
    )
    return await _elicitation_reply(call, method, params, "User response")


async def elicitation_defaults(call: ToolCall, args: dict[str, Any]) -> Reply:
    properties = {
        "name": {"type": "string", "description": "User name", "default": "John Doe"},
        "age": {"type": "integer", "description": "User age", "default": 30},
        "score": {"type": "number", "description": "User score", "default": 95.5},
        "status": {
            "type": "string",
            "description": "User status",
            "enum": ["active", "inactive", "pending"],
            "default": "active",
        },
        "verified": {"type": "boolean", "description": "Verification status", "default": True},
    }
    method, params = _elicit("Please review and update the form fields with defaults", properties, [])
    return await _elicitation_reply(call, method, params, "Elicitation completed")


async def elicitation_enums(call: ToolCall, args: dict[str, Any]) -> Reply:
    def titled(prefix: str, names: tuple[str, ...]) -> list[dict[str, str]]:
        return [{"const": f"value{i}", "title": f"{n} {prefix}"} for i, n in enumerate(names, 1)]

    ordinals = ("First", "Second", "Third")
    properties = {
        "untitledSingle": {
            "type": "string",
            "description": "Select one option",
            "enum": ["option1", "option2", "option3"],
        },
        "titledSingle": {
            "type": "string",
            "description": "Select one option with titles",
            "oneOf": titled("Option", ordinals),
        },
        "legacyEnum": {
            "type": "string",
            "description": "Select one option (legacy)",
            "enum": ["opt1", "opt2", "opt3"],
            "enumNames": ["Option One", "Option Two", "Option Three"],
        },
        "untitledMulti": {
            "type": "array",
            "description": "Select multiple options",
            "minItems": 1,
            "maxItems": 3,
            "items": {"type": "string", "enum": ["option1", "option2", "option3"]},
        },
        "titledMulti": {
            "type": "array",
            "description": "Select multiple options with titles",
            "minItems": 1,
            "maxItems": 3,
            "items": {"anyOf": titled("Choice", ordinals)},
        },
    }
    method, params = _elicit("Please select options from the enum fields", properties, [])
    return await _elicitation_reply(call, method, params, "Elicitation completed")


# -- input as a result (input_required and request state) -----------------------------------

_NAME = {"name": {"type": "string"}}
_OK = {"ok": {"type": "boolean"}}


async def missing_capability(call: ToolCall, args: dict[str, Any]) -> Reply:
    if "sample" not in call.answers:
        raise InputNeeded({"sample": _sample("Say hello", 10)})
    return Reply([text("Success")])


async def ir_elicitation(call: ToolCall, args: dict[str, Any]) -> Reply:
    if "user_name" in call.answers:
        return Reply([text(f"Hello, {_field(call.answers['user_name'], 'name')}!")])
    raise InputNeeded({"user_name": _elicit("What is your name?", _NAME, ["name"])})


async def ir_sampling(call: ToolCall, args: dict[str, Any]) -> Reply:
    answer = call.answers.get("sample_request")
    if answer is not None:
        content = answer.get("content")
        said = content.get("text") if isinstance(content, dict) else None
        return Reply([text(f"Sampling result: {said if isinstance(said, str) else 'no response'}")])
    raise InputNeeded({"sample_request": _sample("What is the capital of France?", 100)})


async def ir_list_roots(call: ToolCall, args: dict[str, Any]) -> Reply:
    answer = call.answers.get("roots_request")
    if answer is not None:
        roots = answer.get("roots")
        return Reply([text(f"Found {len(roots) if isinstance(roots, list) else 0} root(s)")])
    raise InputNeeded({"roots_request": ("roots/list", {})})


async def ir_request_state(call: ToolCall, args: dict[str, Any]) -> Reply:
    confirm = call.answers.get("confirm")
    if call.request_state and confirm is not None:
        content = confirm.get("content")
        if _state(call.request_state).get("kind") == "request-state" and isinstance(content, dict):
            if content.get("ok") is True:
                return Reply([text("state-ok: requestState validated")])
    state = json.dumps({"kind": "request-state", "nonce": _nonce()})
    raise InputNeeded({"confirm": _elicit("Please confirm", _OK, ["ok"])}, state)


async def ir_multiple_inputs(call: ToolCall, args: dict[str, Any]) -> Reply:
    got = call.answers
    if _state(call.request_state).get("kind") == "multiple-inputs" and {"user_name", "greeting", "client_roots"} <= set(
        got
    ):
        greeting = got["greeting"].get("content")
        said = greeting.get("text") if isinstance(greeting, dict) else None
        roots = got["client_roots"].get("roots")
        count = len(roots) if isinstance(roots, list) else 0
        name = _field(got["user_name"], "name")
        said = said if isinstance(said, str) else "Hello there!"
        return Reply([text(f"Name: {name}; Greeting: {said}; Roots: {count}")])
    requests = {
        "user_name": _elicit("What is your name?", _NAME, ["name"]),
        "greeting": _sample("Generate a greeting", 50),
        "client_roots": ("roots/list", {}),
    }
    raise InputNeeded(requests, json.dumps({"kind": "multiple-inputs", "nonce": _nonce()}))


async def ir_multi_round(call: ToolCall, args: dict[str, Any]) -> Reply:
    state = _state(call.request_state)
    step1 = {"step1": _elicit("Step 1: What is your name?", _NAME, ["name"])}
    if state.get("round") == 1 and "step1" in call.answers:
        name = _field(call.answers["step1"], "name")
        color = {"color": {"type": "string"}}
        next_state = json.dumps({"round": 2, "name": name, "nonce": _nonce()})
        raise InputNeeded({"step2": _elicit("Step 2: What is your favorite color?", color, ["color"])}, next_state)
    if state.get("round") == 2 and "step2" in call.answers:
        known = state.get("name")
        name = known if isinstance(known, str) else "friend"
        color_answer = _field(call.answers["step2"], "color")
        return Reply([text(f"Multi-round complete for {name} who likes {color_answer}")])
    raise InputNeeded(step1, json.dumps({"round": 1, "nonce": _nonce()}))


async def ir_tampered_state(call: ToolCall, args: dict[str, Any]) -> Reply:
    if call.request_state:
        verified = _verified(call.request_state)
        if verified is None:
            return Reply([text("requestState integrity check failed")], is_error=True)
        if verified.get("kind") == "tamper-test" and "confirm" in call.answers:
            return Reply([text("integrity-ok: state verified")])
    state = _signed({"kind": "tamper-test", "nonce": _nonce()})
    raise InputNeeded({"confirm": _elicit("Please confirm", _OK, ["ok"])}, state)


async def ir_capabilities(call: ToolCall, args: dict[str, Any]) -> Reply:
    if call.answers:
        return Reply([text(f"capabilities-ok: received {','.join(call.answers)}")])
    caps = call.client_capabilities
    requests: dict[str, tuple[str, dict[str, Any]]] = {}
    if caps.get("elicitation") is not None:
        requests["elicit_input"] = _elicit("Elicitation input", {"value": {"type": "string"}}, ["value"])
    if caps.get("sampling") is not None:
        requests["sample_input"] = _sample("Sample request", 50)
    if not requests:
        return Reply([text("No supported capabilities declared")])
    raise InputNeeded(requests, _signed({"kind": "capabilities-test", "nonce": _nonce()}))


def catalog_tools(trigger_tools: Callable[[], None], trigger_prompts: Callable[[], None]) -> list[Tool]:
    """Every fixture tool; the two triggers change the provider's tool or prompt list."""

    async def tool_change(call: ToolCall, args: dict[str, Any]) -> Reply:
        trigger_tools()
        return Reply([text("Mutation triggered")])

    async def prompt_change(call: ToolCall, args: dict[str, Any]) -> Reply:
        trigger_prompts()
        return Reply([text("Mutation triggered")])

    plain = [
        ("test_simple_text", "Tests simple text content response", simple_text),
        ("test_image_content", "Tests image content response", image_content),
        ("test_audio_content", "Tests audio content response", audio_content),
        ("test_embedded_resource", "Tests embedded resource content response", embedded_resource),
        (
            "test_multiple_content_types",
            "Tests response with multiple content types (text, image, resource)",
            multiple_content_types,
        ),
        ("test_tool_with_logging", "Tests tool that emits log messages during execution", with_logging),
        ("test_tool_with_progress", "Tests tool that reports progress notifications", with_progress),
        ("test_error_handling", "Tests error response handling", error_handling),
        ("test_reconnection", "Tests SSE stream disconnection and client reconnection (SEP-1699)", reconnection),
        (
            "test_elicitation_sep1034_defaults",
            "Tests elicitation with default values per SEP-1034",
            elicitation_defaults,
        ),
        (
            "test_elicitation_sep1330_enums",
            "Tests elicitation with enum schema improvements per SEP-1330",
            elicitation_enums,
        ),
        ("test_missing_capability", "Test tool requiring sampling", missing_capability),
        (
            "test_input_required_result_elicitation",
            "MRTR: returns InputRequiredResult with elicitation request",
            ir_elicitation,
        ),
        ("test_input_required_result_sampling", "MRTR: returns InputRequiredResult with sampling request", ir_sampling),
        (
            "test_input_required_result_list_roots",
            "MRTR: returns InputRequiredResult with roots/list request",
            ir_list_roots,
        ),
        (
            "test_input_required_result_request_state",
            "MRTR: returns InputRequiredResult with requestState",
            ir_request_state,
        ),
        (
            "test_input_required_result_multiple_inputs",
            "MRTR: returns InputRequiredResult with multiple input requests",
            ir_multiple_inputs,
        ),
        ("test_input_required_result_multi_round", "MRTR: multi-round InputRequiredResult workflow", ir_multi_round),
        (
            "test_input_required_result_tampered_state",
            "MRTR: HMAC-signed requestState integrity test",
            ir_tampered_state,
        ),
        (
            "test_input_required_result_capabilities",
            "MRTR: respects client capabilities in inputRequests",
            ir_capabilities,
        ),
        ("test_streaming_elicitation", "Diagnostic tool validating response progress streams", streaming_elicitation),
        ("test_logging_tool", "Diagnostic logging validator tool", logging_tool),
        ("test_trigger_tool_change", "Changes the tool list (test_dynamic_tool comes or goes)", tool_change),
        ("test_trigger_prompt_change", "Changes the prompt list (test_dynamic_prompt comes or goes)", prompt_change),
    ]
    tools = [Tool(name, description, handler, _NO_ARGS) for name, description, handler in plain]
    tools += [
        Tool(
            "test_sampling",
            "Tests server-initiated sampling (LLM completion request)",
            sampling,
            _string_args(prompt="The prompt to send to the LLM"),
        ),
        Tool(
            "test_elicitation",
            "Tests server-initiated elicitation (user input request)",
            elicitation,
            _string_args(message="The message to show the user"),
        ),
        Tool(
            "test_header_parameter",
            "Tool whose region argument is mirrored in an Mcp-Param-Region header (SEP-2243)",
            header_parameter,
            {
                "type": "object",
                "properties": {"region": {"type": "string", "description": "Any region", "x-mcp-header": "Region"}},
                "required": ["region"],
            },
        ),
        Tool(
            "json_schema_2020_12_tool",
            "Tool with JSON Schema 2020-12 features for conformance testing (SEP-1613)",
            json_schema_tool,
            JSON_SCHEMA_2020_12,
        ),
    ]
    return tools


async def dynamic_tool(call: ToolCall, args: dict[str, Any]) -> Reply:
    return Reply([text("Dynamic tool called")])


DYNAMIC_TOOL = Tool("test_dynamic_tool", "Appears and disappears with test_trigger_tool_change", dynamic_tool, _NO_ARGS)
