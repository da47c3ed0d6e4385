"""Round-robin pool of gRPC channels to one provider.

`PoolBook` is pure bookkeeping: it decides which slot serves the next call, which slots need a
fresh channel, and which channels to close; it never opens or closes anything itself (the same
split as httpcore's connection pool, which returns the connections to close). `ChannelPool` is the
thin I/O shell that performs those decisions with `grpc.aio` channels.

Rules:
1. Calls rotate over the slots in order, so load spreads over `size` HTTP/2 connections.
2. An empty slot is filled lazily by the caller on first use.
3. Evicting a slot (after UNAVAILABLE) empties it and hands back its channel to close; the next
   call through that slot opens a fresh channel, which resets gRPC's reconnect backoff.
4. Evicting a channel that is no longer in its slot (a concurrent eviction won) is a no-op.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

import grpc
import grpc.aio

from gateway.settings import ProviderTarget

__all__ = ["ChannelPool", "PoolBook", "channel_factory"]

T = TypeVar("T")


@dataclass
class PoolBook(Generic[T]):
    """Which channel serves the next call; pure, no I/O."""

    size: int
    _slots: list[T | None] = field(init=False)
    _next: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        if self.size <= 0:
            raise ValueError("pool size must be positive")
        self._slots = [None] * self.size

    def pick(self) -> tuple[int, T | None]:
        """The slot for the next call and its channel (None: the caller must `fill` it)."""
        index = self._next
        self._next = (self._next + 1) % self.size
        return index, self._slots[index]

    def fill(self, index: int, channel: T) -> T:
        """Store a freshly opened channel; returns the channel that now serves the slot.

        If another task filled the slot meanwhile, that channel wins and the caller must close
        its own (compare identities).
        """
        current = self._slots[index]
        if current is None:
            self._slots[index] = channel
            return channel
        return current

    def evict(self, index: int, channel: T) -> T | None:
        """Empty a slot if it still holds `channel`; returns the channel to close, if any."""
        if self._slots[index] is channel:
            self._slots[index] = None
            return channel
        return None

    def drain(self) -> list[T]:
        """Empty every slot; returns all channels to close."""
        out = [c for c in self._slots if c is not None]
        self._slots = [None] * self.size
        return out

    def live(self) -> int:
        """Number of open channels."""
        return sum(c is not None for c in self._slots)


# Short reconnect backoff: a restarted provider should be reachable again within about a second.
_CHANNEL_OPTIONS: list[tuple[str, int]] = [
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.min_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 2_000),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.max_receive_message_length", 16 * 1024 * 1024),
    # Each slot gets its own subchannel (own HTTP/2 connection) instead of sharing one.
    ("grpc.use_local_subchannel_pool", 1),
]


def _read(path: Path | None) -> bytes | None:
    return path.read_bytes() if path is not None else None


def channel_factory(target: ProviderTarget, address: str | None = None) -> Callable[[], grpc.aio.Channel]:
    """A function that opens one channel to `address` (default: the target's first), TLS when configured.

    Every replica of a target shares its TLS files; without `server_name` each replica's
    certificate is checked against the host of its own address.
    """
    where = address or target.address
    if target.tls is None:
        return lambda: grpc.aio.insecure_channel(where, options=_CHANNEL_OPTIONS)
    # With cert_file/key_file the channel presents a client certificate (mutual TLS).
    creds = grpc.ssl_channel_credentials(
        root_certificates=_read(target.tls.ca_file),
        private_key=_read(target.tls.key_file),
        certificate_chain=_read(target.tls.cert_file),
    )
    options: list[tuple[str, int | str]] = [*_CHANNEL_OPTIONS]
    if target.tls.server_name:
        options.append(("grpc.ssl_target_name_override", target.tls.server_name))
    return lambda: grpc.aio.secure_channel(where, creds, options=options)


class ChannelPool:
    """Channels to one provider, used in rotation; performs `PoolBook`'s decisions."""

    def __init__(self, size: int, open_channel: Callable[[], grpc.aio.Channel]) -> None:
        self._book: PoolBook[grpc.aio.Channel] = PoolBook(size)
        self._open = open_channel

    def acquire(self) -> tuple[int, grpc.aio.Channel]:
        """The channel for the next call, opening it if its slot is empty."""
        index, channel = self._book.pick()
        if channel is None:
            fresh = self._open()
            channel = self._book.fill(index, fresh)
            if channel is not fresh:  # pragma: no cover - single-threaded fill cannot race
                self._close_later(fresh)
        return index, channel

    def evict(self, index: int, channel: grpc.aio.Channel) -> None:
        """Drop a channel that failed with UNAVAILABLE so its slot reconnects from scratch."""
        stale = self._book.evict(index, channel)
        if stale is not None:
            self._close_later(stale)

    async def close(self) -> None:
        """Close every channel."""
        for channel in self._book.drain():
            await channel.close(grace=None)

    def _close_later(self, channel: grpc.aio.Channel) -> None:
        # Calls still running on the channel get a short grace before it closes.
        task = asyncio.get_running_loop().create_task(channel.close(grace=1.0))
        _BACKGROUND.add(task)
        task.add_done_callback(_BACKGROUND.discard)


_BACKGROUND: set[asyncio.Task[None]] = set()
