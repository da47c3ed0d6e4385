"""Append-only audit log of mutating calls: what was asked, what was sent, what came back.

One JSON object per line, flushed and fsync'd before the call returns, so a crash loses nothing
that was answered. Secrets never reach it: signed parameters are recorded before signing, and
`signature`/key-like fields are dropped defensively.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

_SECRET_KEYS = {"signature", "apikey", "api_key", "secret", "api_secret", "private_key"}
_APPEND = os.O_WRONLY | os.O_APPEND | os.O_CREAT


def prepare(path: Path) -> None:
    """Creates the log's directory and opens the file for append once, as the first record will.

    Called at start, so a log that cannot be written stops the provider there instead of failing
    every order later.

    Raises:
        OSError: the directory cannot be created or the file cannot be opened for append.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, _APPEND, 0o600))


def problem(path: Path) -> str | None:
    """Why this user could not append to `path` (creating it and its directories), or None.

    Creates nothing: `doctor` may run as another user than the service, and a file it created would
    belong to that user.
    """
    try:
        if path.is_dir():
            return f"{path} is a directory"
        if path.exists():
            return None if os.access(path, os.W_OK) else f"{path} is not writable by this user"
        parent = path.absolute().parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            return f"cannot create {path}: {parent} is not a directory"
        if not os.access(parent, os.W_OK | os.X_OK):
            return f"cannot create {path}: {parent} is not writable by this user"
    except (OSError, ValueError) as exc:
        return f"cannot check {path}: {exc}"
    return None


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items() if k.lower() not in _SECRET_KEYS}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


class AuditLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = asyncio.Lock()
        self._writing: set[asyncio.Task[None]] = set()

    async def record(self, action: str, **fields: Any) -> None:
        """Appends one line; a caller cancelled meanwhile (its client went away) still gets it written.

        The write is a task of its own, awaited shielded: an RPC's task is cancelled when its client
        leaves, often right while it records how the call ended, and that line is the one that matters.
        """
        entry = {"ts_ms": int(time.time() * 1000), "action": action, **_scrub(fields)}
        line = json.dumps(entry, default=str, separators=(",", ":")) + "\n"
        task = asyncio.get_running_loop().create_task(self._write(line))
        self._writing.add(task)
        task.add_done_callback(self._writing.discard)
        await asyncio.shield(task)

    async def flush(self) -> None:
        """Waits for lines whose callers were cancelled before they were written (at shutdown)."""
        if self._writing:
            await asyncio.wait(set(self._writing))

    async def _write(self, line: str) -> None:
        async with self._lock:
            await asyncio.to_thread(self._append, line)

    def _append(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, _APPEND, 0o600)
        try:
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
