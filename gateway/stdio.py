"""MCP over stdio where every request gets an answer, even one the SDK cannot parse.

The SDK's stdio reader hands a line it cannot parse to the session as an exception, which only
logs it at debug: a client waits for that request until its own timeout. Lines that fail: a
lone surrogate escape (`"\\ud800"`, valid JSON grammar, not Unicode), nesting deeper than the
parser's limit (about 200 levels), or valid JSON that is not a JSON-RPC message.

Rules:
1. Each stdin line is parsed once, with the SDK's own adapter; a good message goes to the server.
2. A bad line is answered with a JSON-RPC error: -32700 (parse error) when the SDK's parser
   refused the text, -32600 (invalid request) when it is JSON but not a valid message. The id is
   the line's top-level `id` (a string or integer), found without parsing nested values (so no
   depth limit applies); null when there is none (JSON-RPC 2.0 §5).
3. An id that cannot be echoed (a string with a lone surrogate) is answered as null too.
4. Refused lines are logged, at most one line per reason every 10 s (with the count).
5. A stdin that is a pipe or a socket is read by the event loop itself, not by a worker thread per
   line (the SDK's way: a thread hand-off per request showed in the gateway's profile), decoded
   exactly as `TextIOWrapper(encoding="utf-8", errors="replace")` does: universal newlines.

`top_level_id` and `bad_line_error` are pure; `gateway_stdio` is the shell. The SDK's
`stdio_server` still owns stdout (it diverts fd 1 so stray prints cannot corrupt the wire).
"""

from __future__ import annotations

import asyncio
import codecs
import collections
import contextlib
import io
import json
import os
import re
import stat
import sys
import time
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

import anyio
import mcp_types as types
import structlog
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage
from pydantic import ValidationError

from gateway.throttle import LogThrottle

__all__ = ["ABSENT", "bad_line_error", "gateway_stdio", "top_level_id"]

log = structlog.get_logger("gateway.stdio")

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
_WS = " \t\r\n"
_MAX_PENDING_LINES = 64
_LONE_SURROGATE = re.compile(
    r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()
"""`top_level_id` found no usable id."""


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WS:
        i += 1
    return i


def _string_end(text: str, i: int) -> int:
    """Index just past the JSON string starting at `text[i] == '"'`, or -1."""
    i += 1
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            return i + 1
        i += 1
    return -1


def _value_end(text: str, i: int) -> int:
    """Index just past the JSON value starting at `i` (nested values skipped by counting), or -1."""
    if i >= len(text):
        return -1
    if text[i] == '"':
        return _string_end(text, i)
    if text[i] in "[{":
        depth = 0
        while i < len(text):
            c = text[i]
            if c == '"':
                i = _string_end(text, i)
                if i < 0:
                    return -1
                continue
            if c in "[{":
                depth += 1
            elif c in "]}":
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
        return -1
    while i < len(text) and text[i] not in ",}]" + _WS:
        i += 1
    return i


def _id_value(token: str) -> Any:
    try:
        value = json.loads(token)
    except ValueError:
        return ABSENT
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: cannot be echoed (rule 3)
            return ABSENT
        return value
    return ABSENT


def top_level_id(text: str) -> Any:
    """The top-level `id` member of a JSON object text: a str, an int, None (null), or ABSENT.

    Reads the top-level members only and skips nested values by counting brackets, so it has no
    depth limit; never raises; linear in the text's length.
    """
    i = _skip_ws(text, 0)
    if i >= len(text) or text[i] != "{":
        return ABSENT
    i += 1
    while True:
        i = _skip_ws(text, i)
        if i >= len(text) or text[i] != '"':
            return ABSENT
        end = _string_end(text, i)
        if end < 0:
            return ABSENT
        key = text[i + 1 : end - 1]
        i = _skip_ws(text, end)
        if i >= len(text) or text[i] != ":":
            return ABSENT
        start = _skip_ws(text, i + 1)
        i = _value_end(text, start)
        if i < 0:
            return ABSENT
        if key == "id":
            return _id_value(text[start:i])
        i = _skip_ws(text, i)
        if i >= len(text) or text[i] != ",":
            return ABSENT
        i += 1


def _reason(line: str, exc: Exception) -> tuple[int, str]:
    if not isinstance(exc, ValidationError):
        return PARSE_ERROR, f"Parse error: {type(exc).__name__}"
    errors = exc.errors(include_input=False, include_url=False)
    invalid_json = [e for e in errors if e["type"] == "json_invalid"]
    if invalid_json:
        if _LONE_SURROGATE.search(line):
            return PARSE_ERROR, "Parse error: a lone surrogate escape (\\ud800-\\udfff without its pair) is not Unicode"
        return PARSE_ERROR, f"Parse error: {invalid_json[0]['msg']}"
    first = errors[0] if errors else {"loc": (), "msg": "not a JSON-RPC 2.0 message"}
    where = ".".join(str(p) for p in first["loc"])
    return INVALID_REQUEST, f"Invalid Request: {where + ': ' if where else ''}{first['msg']}"


def bad_line_error(line: str, exc: Exception) -> types.JSONRPCError:
    """The answer to a line the SDK could not parse as a JSON-RPC message (rules 2 and 3)."""
    code, message = _reason(line, exc)
    found = top_level_id(line)
    return types.JSONRPCError(
        jsonrpc="2.0",
        id=None if found is ABSENT else found,
        error=types.ErrorData(code=code, message=message),
    )


class _LineProtocol(asyncio.Protocol):
    """A pipe's bytes as the text lines `TextIOWrapper(encoding="utf-8", errors="replace")` reads.

    Universal newlines ("\\n", "\\r\\n" or "\\r"), each line given back ending in "\\n", the last one as
    it is. Reading pauses while `_MAX_PENDING_LINES` lines wait (back-pressure, as a reader thread
    that reads the next line only once the last one was taken).
    """

    def __init__(self) -> None:
        self._decoder = io.IncrementalNewlineDecoder(codecs.getincrementaldecoder("utf-8")("replace"), translate=True)
        self._partial: list[str] = []
        self.lines: collections.deque[str] = collections.deque()
        self.done = False
        self._wake = asyncio.Event()
        self._transport: asyncio.ReadTransport | None = None
        self._paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.ReadTransport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._add(self._decoder.decode(data))

    def eof_received(self) -> bool | None:
        self._finish()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._finish()

    def _finish(self) -> None:
        if self.done:
            return
        self._add(self._decoder.decode(b"", final=True))
        if self._partial:
            self.lines.append("".join(self._partial))
            self._partial.clear()
        self.done = True
        self._wake.set()

    def _add(self, text: str) -> None:
        if not text:
            return
        start = 0
        while (end := text.find("\n", start)) >= 0:
            self._partial.append(text[start : end + 1])
            self.lines.append("".join(self._partial))
            self._partial.clear()
            start = end + 1
        if start < len(text):
            self._partial.append(text[start:])
        if self.lines:
            self._wake.set()
            if len(self.lines) >= _MAX_PENDING_LINES and self._transport is not None and not self._paused:
                self._paused = True
                self._transport.pause_reading()

    async def next_line(self) -> str | None:
        """The next line; None once the pipe is closed and every line was taken."""
        while not self.lines:
            if self.done:
                return None
            self._wake.clear()
            await self._wake.wait()
        line = self.lines.popleft()
        if self._paused and not self.lines and self._transport is not None:
            self._paused = False
            self._transport.resume_reading()
        return line


async def _protocol_lines(protocol: _LineProtocol) -> AsyncIterator[str]:
    while (line := await protocol.next_line()) is not None:
        yield line


def _stdin_pipe() -> int | None:
    """Stdin's descriptor when it is a pipe or a socket (what MCP clients give a server), else None."""
    try:
        fd = sys.stdin.fileno()
        mode = os.fstat(fd).st_mode
    except (AttributeError, OSError, ValueError):
        return None
    return fd if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) else None


def _copy_of(fd: int) -> io.FileIO:
    """A file on a duplicate of `fd`, for a transport to close without closing `fd`."""
    return io.FileIO(os.dup(fd), "rb")


@contextlib.asynccontextmanager
async def _stdin_lines() -> AsyncIterator[AsyncIterable[str]]:
    """Stdin's lines (rule 5).

    Read by the event loop when stdin is a pipe or a socket, through a worker thread otherwise
    (a file, a terminal). fd 0 itself is never closed, and its blocking mode is restored.
    """
    fd = _stdin_pipe()
    opened = await _open_pipe(fd) if fd is not None else None
    if fd is None or opened is None:
        yield anyio.wrap_file(_DetachingText(sys.stdin.buffer, encoding="utf-8", errors="replace"))
        return
    transport, protocol, blocking = opened
    try:
        yield _protocol_lines(protocol)
    finally:
        transport.close()
        with contextlib.suppress(OSError):
            os.set_blocking(fd, blocking)


async def _open_pipe(fd: int) -> tuple[asyncio.ReadTransport, _LineProtocol, bool] | None:
    """The loop's transport on a duplicate of `fd`, and `fd`'s blocking mode before; None when the
    loop cannot watch it (then `fd` is left as it was)."""
    try:
        blocking = os.get_blocking(fd)
        pipe = _copy_of(fd)
    except OSError:
        return None
    try:
        transport, protocol = await asyncio.get_running_loop().connect_read_pipe(_LineProtocol, pipe)
    except (OSError, ValueError):
        pipe.close()
        with contextlib.suppress(OSError):
            os.set_blocking(fd, blocking)
        return None
    return transport, protocol, blocking


class _DetachingText(io.TextIOWrapper):
    """A text layer over stdin's buffer that never closes the buffer (fd 0 stays usable)."""

    def close(self) -> None:
        with contextlib.suppress(ValueError):
            self.detach()


async def _read_lines(
    stdin: AsyncIterable[str],
    to_server: MemoryObjectSendStream[SessionMessage | Exception],
    to_client: Any,
) -> None:
    throttle = LogThrottle()
    async with to_server:
        async for line in stdin:
            if not line.strip():
                continue
            try:
                message = types.jsonrpc_message_adapter.validate_json(line, by_name=False)
            except Exception as exc:
                answer = bad_line_error(line, exc)
                suppressed = throttle.note(str(answer.error.code), time.monotonic())
                if suppressed is not None:
                    log.info(
                        "stdio_message_refused",
                        code=answer.error.code,
                        reason=answer.error.message,
                        has_id=answer.id is not None,
                        bytes=len(line),
                        suppressed=suppressed,
                    )
                try:
                    await to_client.send(SessionMessage(answer))
                except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                    return  # the server is shutting down
                continue
            await to_server.send(SessionMessage(message))


@contextlib.asynccontextmanager
async def gateway_stdio() -> AsyncIterator[tuple[MemoryObjectReceiveStream[SessionMessage | Exception], Any]]:
    """Like the SDK's `stdio_server()`, but every request line gets an answer (module rules).

    Yields the read stream (for `Server.run`) and the SDK's stdout write stream.
    """
    send, receive = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    # The SDK's own reader gets an empty stdin (it ends at once): this module reads the real one.
    async with _stdin_lines() as stdin, stdio_server(stdin=anyio.wrap_file(io.StringIO())) as (sdk_read, write):
        await sdk_read.aclose()
        async with anyio.create_task_group() as tg:
            tg.start_soon(_read_lines, stdin, send, write)
            yield receive, write
            tg.cancel_scope.cancel()
