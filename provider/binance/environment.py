"""Which Binance answers: one switch that derives the REST and WebSocket bases together.

The original system's "testnet" switch changed nothing and traded on mainnet (see
lessons-from-prior-art.md); here a URL can only come from an :class:`Environment`, and its
``name`` is stamped on every result so a caller always sees who answered.
Base URLs: spec §1.1.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["Environment", "EnvironmentKind"]


class EnvironmentKind(enum.Enum):
    """The three kinds of exchange the provider can talk to."""

    MAINNET = "mainnet"
    TESTNET = "testnet"
    CUSTOM = "custom"  # the sandbox exchange, or any Binance-compatible URL pair


_KNOWN: dict[EnvironmentKind, tuple[str, str]] = {
    EnvironmentKind.MAINNET: ("https://api.binance.com", "wss://stream.binance.com:9443"),
    EnvironmentKind.TESTNET: ("https://testnet.binance.vision", "wss://stream.testnet.binance.vision"),
}
#: the WebSocket API (requests and the user data stream), spec §1.1.
_KNOWN_WS_API: dict[EnvironmentKind, str] = {
    EnvironmentKind.MAINNET: "wss://ws-api.binance.com:443/ws-api/v3",
    EnvironmentKind.TESTNET: "wss://ws-api.testnet.binance.vision/ws-api/v3",
}
WS_API_PATH = "/ws-api/v3"


def _checked(url: str, schemes: tuple[str, ...], what: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in schemes or not parts.netloc:
        raise ValueError(f"{what} must be an absolute {'/'.join(schemes)} URL, got {url!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"{what} must not carry a query or fragment, got {url!r}")
    return url.rstrip("/")


@dataclass(frozen=True)
class Environment:
    """A named pair of base URLs: REST (``/api/v3/...`` lives under it) and WebSocket streams.

    Attributes:
        kind: mainnet, testnet or custom.
        name: shown in every result and in the startup log ("mainnet", "testnet", "sandbox"...).
        rest_url: REST base without trailing slash, e.g. ``https://api.binance.com``.
        ws_url: stream base without trailing slash; streams are ``ws_url + "/ws/<stream>"``.
        ws_api_url: the WebSocket API endpoint (user data stream); derived when not given: the known
            one for mainnet and testnet, ``ws_url + "/ws-api/v3"`` for explicit URLs (the sandbox).
    """

    kind: EnvironmentKind
    name: str
    rest_url: str
    ws_url: str
    ws_api_url: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "rest_url", _checked(self.rest_url, ("http", "https"), "rest_url"))
        object.__setattr__(self, "ws_url", _checked(self.ws_url, ("ws", "wss"), "ws_url"))
        api = self.ws_api_url or _KNOWN_WS_API.get(self.kind) or self.ws_url + WS_API_PATH
        object.__setattr__(self, "ws_api_url", _checked(api, ("ws", "wss"), "ws_api_url"))
        if not self.name:
            raise ValueError("environment name must not be empty")

    @classmethod
    def mainnet(cls) -> Environment:
        """Production Binance: real money."""
        rest, ws = _KNOWN[EnvironmentKind.MAINNET]
        return cls(EnvironmentKind.MAINNET, "mainnet", rest, ws)

    @classmethod
    def testnet(cls) -> Environment:
        """Binance spot testnet: virtual balances, data reset about monthly."""
        rest, ws = _KNOWN[EnvironmentKind.TESTNET]
        return cls(EnvironmentKind.TESTNET, "testnet", rest, ws)

    @classmethod
    def custom(cls, rest_url: str, ws_url: str, name: str = "sandbox", ws_api_url: str = "") -> Environment:
        """Explicit URLs, e.g. the sandbox exchange on loopback."""
        return cls(EnvironmentKind.CUSTOM, name, rest_url, ws_url, ws_api_url)

    @classmethod
    def from_kind(cls, kind: str | EnvironmentKind, rest_url: str | None = None,
                  ws_url: str | None = None, name: str | None = None) -> Environment:
        """Build from settings: ``custom`` needs both URLs; the others refuse explicit URLs."""
        kind = EnvironmentKind(kind)
        if kind is EnvironmentKind.CUSTOM:
            if not rest_url or not ws_url:
                raise ValueError("a custom environment needs both rest_url and ws_url")
            return cls.custom(rest_url, ws_url, name or "sandbox")
        if rest_url or ws_url:
            raise ValueError(f"{kind.value} derives its URLs; do not pass rest_url/ws_url")
        return cls.mainnet() if kind is EnvironmentKind.MAINNET else cls.testnet()

    @property
    def is_production(self) -> bool:
        """True when orders move real money."""
        return self.kind is EnvironmentKind.MAINNET

    def ws_stream_url(self, *streams: str) -> str:
        """URL of a raw stream (one name) or a combined stream (several names), spec §6."""
        if not streams:
            raise ValueError("at least one stream name is needed")
        if len(streams) == 1:
            return f"{self.ws_url}/ws/{streams[0]}"
        return f"{self.ws_url}/stream?streams={'/'.join(streams)}"
