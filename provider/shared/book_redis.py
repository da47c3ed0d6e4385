"""The Redis shell of replicated books (issue 19): lease scripts, fenced publishing, reading.

Keys, per symbol, under the environment's prefix (``binance-mcp:sandbox:`` ...):

- ``book:<SYMBOL>:lease`` — ``<fence>:<token>`` of the replica that ingests the symbol, with a TTL.
- ``book:<SYMBOL>:fence`` — the fence counter: each take gets the larger of INCR and Redis's
  clock in ms, so fences keep growing even after a Redis restart that lost the counter (a
  follower ignores entries of a fence lower than one it saw).
- ``book:<SYMBOL>:events`` — a stream of diffs, checkpoint marks and beats (``book_feed.py``),
  trimmed to about ``keep_entries``.
- ``book:<SYMBOL>:ckpt`` — the latest checkpoint: the whole book and the stream entry it was
  written at (``sid``).

Every write of the ingester goes through one Lua script that first checks that the lease key holds
the writer's ``<fence>:<token>`` (``book_lease.py`` Rule 5): a stale holder's writes are refused,
atomically with the check. The stream and checkpoint expire an hour after the last checkpoint, so
a symbol nobody tracks any more leaves nothing behind.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import redis.asyncio as aioredis
import redis.exceptions

from provider.shared.book_feed import Checkpoint, Entry, checkpoint_of, decode_entry, encode_entry
from provider.shared.redis_conn import RedisUnavailable, translated

__all__ = ["BookBus"]

_ACQUIRE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local fence = redis.call('INCR', KEYS[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if fence < now then
  fence = now
  redis.call('SET', KEYS[2], fence)
end
redis.call('SET', KEYS[1], fence .. ':' .. ARGV[1], 'PX', ARGV[2])
return fence
"""

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

_PUBLISH = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return false end
return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 3))
"""

_CHECKPOINT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return false end
local sid = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'k', 'c', 'f', ARGV[4], 'id', ARGV[5])
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[3], 'sid', sid, unpack(ARGV, 6))
redis.call('PEXPIRE', KEYS[3], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return sid
"""


@contextlib.contextmanager
def _translated(what: str) -> Iterator[None]:
    """As ``redis_conn.translated``, and a command Redis refused (OOM, READONLY, BUSY script...) is
    :class:`RedisUnavailable` too: either way it was not done, and the caller retries later."""
    with translated(what):
        try:
            yield
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
            raise
        except redis.exceptions.RedisError as exc:
            raise RedisUnavailable(f"Redis refused {what}: {type(exc).__name__}: {exc}") from exc


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class BookBus:
    """Lease, publish and read operations on one Redis, for books under ``prefix`` (``namespace``
    ``account`` serves the user data stream's lease and stream the same way).

    Raises (every method):
        RedisUnavailable: Redis did not answer (``redis_conn.translated``).
    """

    def __init__(self, redis: aioredis.Redis, prefix: str, *, keep_entries: int = 5000,
                 expire_ms: int = 3_600_000, namespace: str = "book") -> None:
        self._redis, self._prefix, self._namespace = redis, prefix, namespace
        self.keep_entries, self.expire_ms = keep_entries, expire_ms
        self._acquire = redis.register_script(_ACQUIRE)
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)
        self._publish = redis.register_script(_PUBLISH)
        self._checkpoint = redis.register_script(_CHECKPOINT)

    async def close(self) -> None:
        """Close the Redis client (this bus owns it)."""
        await self._redis.aclose()

    def key(self, symbol: str, what: str) -> str:
        """The Redis key of ``symbol``'s ``what`` (lease, fence, events, ckpt)."""
        return f"{self._prefix}{self._namespace}:{symbol}:{what}"

    async def acquire(self, symbol: str, token: str, ttl_ms: int) -> int | None:
        """Take the lease if free: our new fence, or None when another replica holds it."""
        with _translated("book lease"):
            fence = await self._acquire(keys=[self.key(symbol, "lease"), self.key(symbol, "fence")],
                                        args=[token, ttl_ms])
        return int(fence) or None

    async def renew(self, value: str, symbol: str, ttl_ms: int) -> bool:
        """Extend the lease if it still holds ``value``."""
        with _translated("book lease"):
            return bool(await self._renew(keys=[self.key(symbol, "lease")], args=[value, ttl_ms]))

    async def release(self, value: str, symbol: str) -> None:
        """Hand the lease back if it still holds ``value``."""
        with _translated("book lease"):
            await self._release(keys=[self.key(symbol, "lease")], args=[value])

    async def holder(self, symbol: str) -> str | None:
        """What the lease key holds now (``<fence>:<token>``), for health and tests."""
        with _translated("book lease"):
            value = await self._redis.get(self.key(symbol, "lease"))
        return None if value is None else _text(value)

    async def publish(self, value: str, symbol: str, entry: Entry) -> bool:
        """Append ``entry`` to the symbol's stream; False: the lease is no longer ``value``."""
        return await self.append(value, symbol, encode_entry(entry))

    async def append(self, value: str, name: str, fields: Mapping[str, str]) -> bool:
        """Append ``fields`` to ``name``'s stream; False: the lease is no longer ``value``."""
        flat = [x for pair in fields.items() for x in pair]
        with _translated("publish"):
            sid = await self._publish(keys=[self.key(name, "lease"), self.key(name, "events")],
                                      args=[value, self.keep_entries, *flat])
        return sid is not None

    async def flag(self, name: str, what: str, ttl_ms: int) -> None:
        """Raise a short-lived flag (e.g. a follower asking the holder for a fresh resync)."""
        with _translated("flag"):
            await self._redis.set(self.key(name, what), "1", px=ttl_ms)

    async def take_flag(self, name: str, what: str) -> bool:
        """Whether the flag was raised, lowering it."""
        with _translated("flag"):
            return bool(await self._redis.delete(self.key(name, what)))

    async def checkpoint(self, value: str, symbol: str, fields: Mapping[str, str]) -> bool:
        """Write the whole book and its mark (``book_feed.checkpoint_fields``); False as publish."""
        flat = [x for pair in fields.items() for x in pair]
        with _translated("book checkpoint"):
            sid = await self._checkpoint(
                keys=[self.key(symbol, "lease"), self.key(symbol, "events"), self.key(symbol, "ckpt")],
                args=[value, self.keep_entries, self.expire_ms, fields["f"], fields["id"], *flat])
        return sid is not None

    async def load_checkpoint(self, symbol: str) -> Checkpoint | None:
        """The latest checkpoint, None when none was written.

        Raises:
            BookError: the hash is not a checkpoint (a foreign writer under our prefix).
        """
        with _translated("book checkpoint"):
            raw = await self._redis.hgetall(self.key(symbol, "ckpt"))
        if not raw:
            return None
        return checkpoint_of({_text(k): _text(v) for k, v in raw.items()})

    async def read(self, cursors: Mapping[str, str], block_ms: int, count: int = 500
                   ) -> list[tuple[str, str, Entry | None]]:
        """Entries after each symbol's cursor, waiting up to ``block_ms``: ``(symbol, id, entry)``
        in stream order per symbol; an entry that does not parse comes as None (a gap for it)."""
        out: list[tuple[str, str, Entry | None]] = []
        for symbol, sid, fields in await self.read_fields(cursors, block_ms, count):
            try:
                entry: Entry | None = decode_entry(fields)
            except ValueError:
                entry = None
            out.append((symbol, sid, entry))
        return out

    async def read_fields(self, cursors: Mapping[str, str], block_ms: int, count: int = 500
                          ) -> list[tuple[str, str, dict[str, str]]]:
        """Raw entries after each name's cursor: ``(name, id, fields)`` in stream order per name."""
        streams = {self.key(s, "events"): cursor for s, cursor in cursors.items()}
        with _translated("read"):
            answer = await self._redis.xread(streams, count=count, block=block_ms)  # type: ignore[arg-type]
        out: list[tuple[str, str, dict[str, str]]] = []
        items = answer.items() if isinstance(answer, dict) else (answer or [])
        skip = len(self._prefix) + len(self._namespace) + 1
        for key, rows in items:
            name = _text(key)[skip:].rsplit(":", 1)[0]
            for sid, fields in _rows(rows):
                out.append((name, _text(sid), {_text(k): _text(v) for k, v in fields.items()}))
        return out


def _rows(rows: Any) -> Sequence[tuple[Any, Mapping[Any, Any]]]:
    """XREAD rows as ``(id, fields)`` pairs (RESP2 lists or RESP3 nesting alike)."""
    if isinstance(rows, list) and len(rows) == 1 and isinstance(rows[0], list) \
            and rows[0] and isinstance(rows[0][0], list):
        rows = rows[0]
    return [(row[0], row[1]) for row in rows]
