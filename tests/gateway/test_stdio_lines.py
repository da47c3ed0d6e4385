"""The gateway's stdin reader (gateway/stdio.py rule 5): lines read by the event loop from a pipe are
the lines a `TextIOWrapper(encoding="utf-8", errors="replace")` gives, however the bytes arrive."""

from __future__ import annotations

import asyncio
import io
import os
import sys
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.stdio import _MAX_PENDING_LINES, _LineProtocol, _stdin_lines

# Pieces that stress decoding: every newline form, multi-byte characters, bytes that are not UTF-8,
# a character cut in two.
_PIECES = [b"a", b"{}", b"\n", b"\r", b"\r\n", "é".encode(), "€".encode(), b"\xff", b"\xe2\x82", b" "]


def _text_lines(data: bytes) -> list[str]:
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="replace").readlines()


def _fed(data: bytes, cuts: list[int]) -> list[str]:
    protocol = _LineProtocol()
    start = 0
    for cut in [*sorted({c % (len(data) + 1) for c in cuts}), len(data)]:
        protocol.data_received(data[start:cut])
        start = cut
    protocol.eof_received()
    protocol.connection_lost(None)
    return list(protocol.lines)


@given(
    st.lists(st.sampled_from(_PIECES), max_size=40).map(b"".join),
    st.lists(st.integers(min_value=0, max_value=400), max_size=12),
)
def test_lines_match_text_io_wherever_the_bytes_are_cut(data: bytes, cuts: list[int]) -> None:
    assert _fed(data, cuts) == _text_lines(data)


def test_every_newline_form_ends_a_line_and_the_last_line_may_lack_one() -> None:
    assert _fed(b'{"a":1}\r\n{"b":2}\r{"c":3}\n{"d"', [3, 8, 9]) == ['{"a":1}\n', '{"b":2}\n', '{"c":3}\n', '{"d"']


class _Transport(asyncio.ReadTransport):
    def __init__(self) -> None:
        super().__init__()
        self.paused = 0
        self.resumed = 0

    def pause_reading(self) -> None:
        self.paused += 1

    def resume_reading(self) -> None:
        self.resumed += 1


async def test_reading_pauses_while_lines_wait_and_resumes_once_they_are_taken() -> None:
    protocol = _LineProtocol()
    transport = _Transport()
    protocol.connection_made(transport)
    protocol.data_received(b"x\n" * (_MAX_PENDING_LINES + 10))
    assert (transport.paused, transport.resumed) == (1, 0)
    taken = [await protocol.next_line() for _ in range(_MAX_PENDING_LINES + 10)]
    assert taken == ["x\n"] * (_MAX_PENDING_LINES + 10)
    assert (transport.paused, transport.resumed) == (1, 1)
    protocol.eof_received()
    assert await protocol.next_line() is None


@pytest.fixture
def stdin_pipe(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[int, io.FileIO]]:
    """sys.stdin on the read end of a fresh pipe; yields the read fd and the write end."""
    read_fd, write_fd = os.pipe()
    with open(read_fd, encoding="utf-8") as stdin, io.FileIO(write_fd, "wb") as writer:
        monkeypatch.setattr(sys, "stdin", stdin)
        yield read_fd, writer


async def test_a_pipe_on_stdin_is_read_to_its_end_and_fd_0_is_left_open_and_blocking(
    stdin_pipe: tuple[int, io.FileIO],
) -> None:
    read_fd, writer = stdin_pipe
    writer.write(b'{"id":1}\n' + "é".encode()[:1])
    got: list[str] = []
    async with _stdin_lines() as lines:
        async for line in lines:
            got.append(line)
            if len(got) == 1:
                writer.write("é".encode()[1:] + b"\r\n{}")
                writer.close()
    assert got == ['{"id":1}\n', "é\n", "{}"]
    assert os.get_blocking(read_fd)
    os.fstat(read_fd)  # still open
