"""Review attacks on session 24's error details for MCP clients (7a70b38, gateway/errors.py).

A provider's `error-details-json` is passed on: its unknown facts as a `Details:` JSON line of
a tool error and in a protocol error's data. The provider is hostile here: lone surrogates,
deep nesting, NaN, huge values and keys named like the gateway's own. Whatever it sends, the
client must get an answer its transport can write, within the stated bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import grpc
import grpc.aio
import mcp_types as types
import pytest

from contracts.provider.v1 import provider_pb2
from gateway.errors import MAX_EXTRA_CHARS, details_from_metadata, protocol_error, tool_error_result
from tests.gateway.conftest import gateway_session
from tests.gateway.fake_provider import FakeProvider
from tests.gateway.inprocess import in_process_gateway, one_provider
from tests.waits import until

#: a bound on waiting for the gateway's answer, not a timing assertion: a gateway whose stdout
#: writer died answers never.
ANSWER_BOUND_S = 20.0

LONE_SURROGATE = '{"kind": "Refused", "hint": "\\ud800 hint", "note": "\\udfff"}'
DEEP = '{"kind": "Refused", "nested": ' + "[" * 400 + "]" * 400 + "}"
DEEPER_THAN_JSON_LOADS = '{"kind": "Refused", "nested": ' + "[" * 3000 + "]" * 3000 + "}"


class HostileDetails(FakeProvider):
    """A provider whose failed calls carry the raw `error-details-json` given to it."""

    def __init__(self, raw: str) -> None:
        super().__init__()
        self.raw = raw

    async def InvokeTool(
        self, request: provider_pb2.InvokeToolRequest, context: grpc.aio.ServicerContext
    ) -> provider_pb2.InvokeToolResponse:
        if request.name == "place_thing":
            context.set_trailing_metadata((("error-details-json", self.raw),))
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, "refused")
        return await super().InvokeTool(request, context)


@pytest.fixture
async def hostile(request: pytest.FixtureRequest) -> AsyncIterator[FakeProvider]:
    provider = await HostileDetails(request.param).start()
    try:
        yield provider
    finally:
        await provider.stop()


@pytest.mark.parametrize("hostile", [LONE_SURROGATE], indirect=True, ids=["lone-surrogate"])
async def test_a_stdio_client_gets_a_tool_error_whatever_the_providers_details_hold(hostile: FakeProvider) -> None:
    """A lone surrogate (valid JSON: "\\ud800") reached the result text raw: the SDK's JSON
    serialiser refused it (not UTF-8) and the stdio session closed ("Connection closed"), so one
    hostile error cut the client off from every provider."""
    async with gateway_session(["--provider", f"fake={hostile.address}"]) as s:
        result = await asyncio.wait_for(
            s.call_tool("fake_place_thing", {"symbol": "BTCUSDT", "side": "BUY", "quantity": "1"}), ANSWER_BOUND_S
        )
        alive = await asyncio.wait_for(s.call_tool("fake_echo", {"text": "still here"}), ANSWER_BOUND_S)
    assert result.is_error is True
    assert alive.structured_content == {"text": "still here", "count": 1}


def _rpc_error(raw: str) -> grpc.aio.AioRpcError:
    md = grpc.aio.Metadata(("error-details-json", raw))
    return grpc.aio.AioRpcError(grpc.StatusCode.FAILED_PRECONDITION, grpc.aio.Metadata(), md, details="refused")


def _wire(result: types.CallToolResult | types.ErrorData) -> str:
    """What a transport writes (the SDK's stdio and HTTP transports dump the model to JSON)."""
    return result.model_dump_json(by_alias=True, exclude_none=True).encode("utf-8").decode("utf-8")


@pytest.mark.parametrize("raw", [LONE_SURROGATE, DEEP, DEEPER_THAN_JSON_LOADS],
                         ids=["lone-surrogate", "deep", "deeper-than-json-loads"])
def test_hostile_details_give_a_tool_error_and_a_protocol_error_a_transport_can_write(raw: str) -> None:
    """A lone surrogate, or 400 levels of nesting (past the SDK serialiser's depth limit, within
    json.loads'), made an answer no transport can write; 3,000 levels raised RecursionError out of
    details_from_metadata (it caught only ValueError/TypeError)."""
    exc = _rpc_error(raw)
    result = tool_error_result("fake", "fake.place_thing", exc, idempotent=False)
    assert result.is_error is True
    _wire(result)
    error = protocol_error("Reading fake://x", exc)
    _wire(types.ErrorData(code=error.error.code, message=error.error.message, data=error.error.data))


def test_a_non_finite_number_in_the_details_line_is_still_json() -> None:
    """json.loads accepts NaN/Infinity; the Details line printed them back as NaN, which is not JSON
    (a client parsing the line fails)."""
    details = details_from_metadata((("error-details-json", '{"kind": "Refused", "ratio": NaN, "x": -Infinity}'),))
    assert details is not None
    (line,) = [x for x in details.lines() if x.startswith("Details: ")]
    json.loads(line.removeprefix("Details: "), parse_constant=_no_constant)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def test_the_protocol_errors_data_is_bounded_like_the_details_line() -> None:
    """7a70b38 bounds the Details line at MAX_EXTRA_CHARS but puts every extra, unbounded, into a
    protocol error's data (the line's bound was stated for both)."""
    exc = _rpc_error(json.dumps({"kind": "Refused", "blob": "y" * 50_000}))
    data = protocol_error("Reading fake://x", exc).error.data
    assert len(json.dumps(data)) <= MAX_EXTRA_CHARS + 1_000  # the known fields and grpc_status besides


def test_a_provider_fact_named_grpc_status_does_not_replace_the_gateways() -> None:
    exc = _rpc_error(json.dumps({"kind": "Refused", "grpc_status": "OK", "retry_safe": "yes"}))
    data = protocol_error("Reading fake://x", exc).error.data
    assert data["grpc_status"] == "FAILED_PRECONDITION"
    assert "retry_safe" not in data  # a known name with a value of the wrong type is dropped, not passed on


# --- subscribe cancelled during the verdict wait (5bd669a) ----------------------------------------

URI = "fake://quote/BNBUSDT"


class _Session:
    """The part of a ServerSession the subscriptions use: one client connection."""

    def __init__(self) -> None:
        self.updated: list[str] = []

    async def send_resource_updated(self, uri: str) -> None:
        self.updated.append(uri)


@pytest.mark.parametrize("cancelled", ["second", "first"])
async def test_a_repeated_subscribe_cancelled_while_waiting_leaves_the_other_one_subscribed(
    silent: FakeProvider, cancelled: str
) -> None:
    """One connection sends resources/subscribe twice for a URI (both wait for the verdict) and
    cancels one: its 'subscribed nothing' removed the connection the other had added too, the
    stream closed with nobody left, and the other was still answered 'subscribed' (at the wait's
    end) with no stream behind it: no update ever came."""
    async with in_process_gateway(one_provider(silent.address)) as gw:
        session = _Session()
        first = asyncio.create_task(gw.subscriptions.subscribe(URI, session))  # type: ignore[arg-type]
        await silent.wait_subscribed(URI)
        second = asyncio.create_task(gw.subscriptions.subscribe(URI, session))  # type: ignore[arg-type]
        await asyncio.sleep(0)  # a yield, not a wait: the second is now waiting for the verdict
        gives_up, stays = (second, first) if cancelled == "second" else (first, second)
        gives_up.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await gives_up
        await asyncio.wait_for(stays, ANSWER_BOUND_S)  # answered 'subscribed' (at the latest when the wait ends)
        await silent.wait_subscribed(URI)
        await silent.push_update(URI)
        await until(lambda: URI in session.updated, timeout_s=5)
