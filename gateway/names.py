"""Tool names every MCP client accepts, derived from the canonical (dotted) names.

Canonical names come from the contracts and the catalog's namespacing (`binance.get_ticker`,
`binance2.binance.get_ticker`). Several clients refuse them: Claude Desktop and claude.ai require
`^[a-zA-Z0-9_-]{1,64}$` (and then withhold every tool of the server), Codex CLI, Copilot and
Windsurf refuse dots. So the gateway exposes portable names by default.

Rules (pure, no I/O):
1. Every character outside `[a-zA-Z0-9_-]` becomes `_` (`binance.get_ticker` -> `binance_get_ticker`).
2. A result longer than 64 characters keeps its first 55 characters, then `_` and the first 8 hex
   digits of the SHA-256 of the canonical name: deterministic, and distinct for distinct long names.
3. Two canonical names that map to one portable name are a collision; the catalog refuses the
   second (see `gateway/catalog.py`), so a call never reaches the wrong tool.
"""

from __future__ import annotations

import hashlib
import re
from enum import StrEnum

__all__ = ["MAX_NAME_LENGTH", "PORTABLE_NAME", "ToolNames", "portable_name"]

MAX_NAME_LENGTH = 64
PORTABLE_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_DIGEST_CHARS = 8
_OTHER = re.compile(r"[^a-zA-Z0-9_-]")


class ToolNames(StrEnum):
    """Which form of the tool names the gateway lists (both forms are accepted in calls)."""

    PORTABLE = "portable"
    """`binance_get_ticker`: matches `^[a-zA-Z0-9_-]{1,64}$`, accepted by every client."""
    DOTTED = "dotted"
    """`binance.get_ticker`: the canonical names, for clients that want them."""


def portable_name(canonical: str) -> str:
    """The portable form of a canonical tool name (rules 1 and 2)."""
    name = _OTHER.sub("_", canonical) or "_"
    if len(name) <= MAX_NAME_LENGTH:
        return name
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:_DIGEST_CHARS]
    return f"{name[: MAX_NAME_LENGTH - _DIGEST_CHARS - 1]}_{digest}"
