"""gRPC failures translated into MCP, once, at the gateway boundary.

    grpc.aio.AioRpcError (from a provider)
    ├── tools/call        → CallToolResult(isError=True, text stating the cause)
    │   ├── UNAVAILABLE without details → "provider unreachable"
    │   ├── DEADLINE_EXCEEDED           → "timed out; outcome unknown for non-idempotent tools"
    │   └── anything else               → status + provider's `error-details-json`
    │                                     (binance code/msg, hint, retry safety)
    │   (a streamed call past its deadline, the time spent waiting for the client aside,
    │    gets the same timed-out result)
    └── resources/read, prompts/get, completion/complete
        ├── NOT_FOUND, INVALID_ARGUMENT → MCPError(-32602 INVALID_PARAMS)
        └── anything else               → MCPError(-32603 INTERNAL_ERROR)

Protocol errors the gateway raises itself (unknown tool, unknown resource URI) are `MCPError`
with -32602, never tool results. The provider attaches trailing metadata `error-details-json` =
`{"kind","binance_code","binance_msg","hint","retry_safe", ...}` to failed calls; every other fact in
it (a provider's own: the nearest valid values of a violated rule, when to retry, an order's status)
is passed on as it came, as JSON on a `Details:` line and in a protocol error's data, without the
gateway knowing what it means.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import grpc
import grpc.aio
import mcp_types as types
from mcp.shared.exceptions import MCPError

__all__ = [
    "DETAILS_KEY",
    "ErrorDetails",
    "details_from_metadata",
    "protocol_error",
    "timed_out_result",
    "tool_error_result",
    "unreachable_result",
]

DETAILS_KEY = "error-details-json"

_INVALID_PARAMS = -32602
_INTERNAL_ERROR = -32603
_KNOWN = ("kind", "message", "binance_code", "binance_msg", "hint", "retry_safe")
#: the provider bounds its details (1,000 bytes); this bounds what any provider's extras add to a result.
MAX_EXTRA_CHARS = 4000
#: deeper provider facts are cut: the SDK's JSON serialiser refuses deep nesting, and the answer would never go out.
_MAX_DEPTH = 16


@dataclass(frozen=True, slots=True)
class ErrorDetails:
    """The provider's own description of a failure."""

    kind: str | None = None
    message: str | None = None
    binance_code: int | None = None
    binance_msg: str | None = None
    hint: str | None = None
    retry_safe: bool | None = None
    extra: dict[str, Any] | None = None
    """The provider's other facts, by its own names (JSON values)."""

    def lines(self) -> list[str]:
        """Human-readable lines, only for the fields present."""
        out = []
        if self.kind:
            out.append(f"Kind: {self.kind}")
        if self.binance_code is not None or self.binance_msg:
            parts = ["Exchange error:"]
            if self.binance_code is not None:
                parts.append(f"code {self.binance_code}")
            if self.binance_msg:
                parts.append(self.binance_msg)
            out.append(" ".join(parts))
        if self.hint:
            out.append(f"Hint: {self.hint}")
        if self.retry_safe is not None:
            out.append(
                "Retry safe: yes" if self.retry_safe else "Retry safe: no (do not repeat blindly; check state first)"
            )
        if self.extra:
            out.append(f"Details: {_extra_json(self.extra)}")
        return out

    def as_data(self) -> dict[str, Any]:
        """JSON-ready dict of the present fields, the provider's other facts included (as their
        bounded JSON text under ``details_truncated`` when they are longer than the bound)."""
        extra = self.extra or {}
        if extra and len(text := _extra_json(extra)) > MAX_EXTRA_CHARS - 1:
            extra = {"details_truncated": text}
        return {**extra, **{k: v for k, v in _asdict(self).items() if v is not None}}


def _extra_json(extra: dict[str, Any]) -> str:
    text = json.dumps(extra, separators=(", ", ": "), ensure_ascii=False, default=str)
    return text if len(text) <= MAX_EXTRA_CHARS else text[: MAX_EXTRA_CHARS - 1] + "…"


def _asdict(d: ErrorDetails) -> dict[str, Any]:
    return {
        "kind": d.kind,
        "message": d.message,
        "binance_code": d.binance_code,
        "binance_msg": d.binance_msg,
        "hint": d.hint,
        "retry_safe": d.retry_safe,
    }


def details_from_metadata(metadata: Any) -> ErrorDetails | None:
    """Parse `error-details-json` from trailing metadata; None when absent or malformed."""
    if not metadata:
        return None
    raw: str | bytes | None = None
    for key, value in metadata:
        if key == DETAILS_KEY:
            raw = value
    if raw is None:
        return None
    try:
        data = _plain(json.loads(raw), 0)
    except (ValueError, TypeError, RecursionError):  # RecursionError: nesting deeper than json.loads goes
        return None
    if not isinstance(data, dict):
        return None
    code = data.get("binance_code")
    retry = data.get("retry_safe")
    extra = {str(k): v for k, v in data.items() if k not in _KNOWN and v is not None}
    return ErrorDetails(
        kind=_str_or_none(data.get("kind")),
        message=_str_or_none(data.get("message")),
        binance_code=code if isinstance(code, int) and not isinstance(code, bool) else None,
        binance_msg=_str_or_none(data.get("binance_msg")),
        hint=_str_or_none(data.get("hint")),
        retry_safe=retry if isinstance(retry, bool) else None,
        extra=extra or None,
    )


def _plain(value: Any, depth: int) -> Any:
    """The provider's JSON as any transport can write it: strings valid UTF-8 (a lone surrogate
    such as "\\ud800" is valid JSON but not UTF-8), numbers finite, nesting bounded."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (dict, list)) and depth >= _MAX_DEPTH:
        return f"(nested deeper than {_MAX_DEPTH} levels)"
    if isinstance(value, dict):
        return {_plain(str(k), depth): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, depth + 1) for v in value]
    return value


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _text_result(text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=True)


def unreachable_result(provider: str, tool: str, reason: str, *, idempotent: bool) -> types.CallToolResult:
    """The provider could not be reached, or the connection failed during the call."""
    advice = (
        "Calling it again is safe once the provider is back."
        if idempotent
        else "If the call reached the provider before the connection failed, its outcome is "
        "unknown: check the current state before retrying."
    )
    return _text_result(
        f"Provider {provider!r} is unreachable; {tool} got no answer ({reason}). "
        f"The gateway reconnects automatically. {advice}"
    )


def timed_out_result(provider: str, tool: str, *, idempotent: bool) -> types.CallToolResult:
    """The provider did not answer within the tool's deadline."""
    outcome = (
        "Calling it again is safe."
        if idempotent
        else "Its outcome is unknown: check the current state before retrying."
    )
    return _text_result(f"{tool} timed out (no answer from provider {provider!r} in time). {outcome}")


def tool_error_result(provider: str, tool: str, exc: grpc.aio.AioRpcError, *, idempotent: bool) -> types.CallToolResult:
    """A failed InvokeTool as an isError result whose text states the cause."""
    code = exc.code()
    details = details_from_metadata(exc.trailing_metadata())
    # The provider's bare message when it sent one: its status text repeats the hint and retry advice,
    # which the detail lines below already give.
    message = (details.message if details and details.message else exc.details()) or ""
    if code is grpc.StatusCode.UNAVAILABLE and details is None:
        reason = message or "connection failed"
        return unreachable_result(provider, tool, reason, idempotent=idempotent)
    if code is grpc.StatusCode.DEADLINE_EXCEEDED:
        return timed_out_result(provider, tool, idempotent=idempotent)
    else:
        head = f"{tool} failed ({code.name}): {message}".rstrip(": ")
    lines = [head, *(details.lines() if details else [])]
    return _text_result("\n".join(lines))


def protocol_error(what: str, exc: grpc.aio.AioRpcError) -> MCPError:
    """A failed resource read, prompt render or completion as an MCP protocol error."""
    code = exc.code()
    details = details_from_metadata(exc.trailing_metadata())
    data: dict[str, Any] = {**(details.as_data() if details else {}), "grpc_status": code.name}
    message = exc.details() or code.name
    if code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
        return MCPError(_INVALID_PARAMS, f"{what}: {message}", data)
    if code is grpc.StatusCode.UNAVAILABLE and details is None:
        return MCPError(_INTERNAL_ERROR, f"{what}: provider unreachable ({message})", data)
    return MCPError(_INTERNAL_ERROR, f"{what} failed ({code.name}): {message}", data)
