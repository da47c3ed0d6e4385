"""Request signing for SIGNED (TRADE / USER_DATA) REST endpoints; pure, no clock, no I/O.

Spec §1.8: the signed payload is the *percent-encoded* ``k=v&k=v`` string (query, then body,
joined with no separator); ``signature`` is appended last. HMAC-SHA256 gives lower-case hex,
Ed25519 gives base64 which is then percent-encoded. Since 2026-01-15 non-ASCII values must be
percent-encoded as UTF-8 before signing, else -1022.

Secrets stay inside the signer objects: their ``repr`` never shows key material.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote

if TYPE_CHECKING:  # cryptography is imported when an Ed25519 key is loaded (provider start time)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = [
    "Ed25519Signer",
    "HmacSigner",
    "ParamValue",
    "SignedQuery",
    "Signer",
    "encode_params",
    "encode_value",
    "sign",
    "sign_ws_api",
]

ParamValue = str | int | bool | Decimal | list[str] | tuple[str, ...]


def encode_value(value: ParamValue) -> str:
    """Render one parameter value as Binance expects it (before percent-encoding).

    Booleans are ``true``/``false``; arrays are compact JSON (spec §1.2); decimals keep their
    exact digits (never floats).
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return json.dumps(list(value), separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def encode_params(params: Mapping[str, ParamValue | None]) -> str:
    """Percent-encode ``params`` in insertion order, skipping ``None`` values (spec §1.8)."""
    return "&".join(
        f"{quote(key, safe='')}={quote(encode_value(value), safe='')}"
        for key, value in params.items()
        if value is not None
    )


class Signer(Protocol):
    """Something that turns the signature payload into the ``signature`` value (not encoded)."""

    key_type: str

    def signature(self, payload: str) -> str:
        """Sign the ASCII payload; return the raw signature text (hex or base64)."""
        ...


class HmacSigner:
    """HMAC-SHA256 keyed with the API secret; output lower-case hex (spec §1.8)."""

    key_type = "HMAC_SHA256"

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("HMAC secret must not be empty")
        self._secret = secret.encode("ascii")

    def signature(self, payload: str) -> str:
        return hmac.new(self._secret, payload.encode("ascii"), hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return "HmacSigner(<secret hidden>)"


class Ed25519Signer:
    """Ed25519 (pure EdDSA) with a PKCS#8 private key; output base64 (spec §1.8)."""

    key_type = "ED25519"

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key

    @classmethod
    def from_pem(cls, pem: bytes, password: bytes | None = None) -> Ed25519Signer:
        """Load a PEM private key; refuse anything that is not Ed25519."""
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        key = load_pem_private_key(pem, password=password)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the private key is not an Ed25519 key")
        return cls(key)

    def signature(self, payload: str) -> str:
        return base64.b64encode(self._key.sign(payload.encode("ascii"))).decode("ascii")

    def __repr__(self) -> str:
        return "Ed25519Signer(<private key hidden>)"


@dataclass(frozen=True)
class SignedQuery:
    """A signed, percent-encoded query string ready to go on the wire, plus what was signed."""

    query: str
    payload: str
    timestamp_ms: int


def sign(
    params: Mapping[str, ParamValue | None],
    signer: Signer,
    now_ms: int,
    recv_window_ms: int | None = 5000,
) -> SignedQuery:
    """Add ``recvWindow`` and ``timestamp`` (= ``now_ms``, server-corrected) and sign.

    Args:
        params: request parameters in the order they should appear.
        signer: HMAC or Ed25519 signer.
        now_ms: the timestamp to send, already corrected by the server-time offset.
        recv_window_ms: 1..60000, or None to use the server default (5000).
    """
    if recv_window_ms is not None and not 0 < recv_window_ms <= 60000:
        raise ValueError("recvWindow must be in 1..60000 ms (spec §1.7)")
    full: dict[str, ParamValue | None] = {
        k: v for k, v in params.items() if k not in ("signature", "timestamp", "recvWindow")
    }
    full["recvWindow"] = recv_window_ms
    full["timestamp"] = now_ms
    payload = encode_params(full)
    signature = quote(signer.signature(payload), safe="")
    query = f"{payload}&signature={signature}" if payload else f"signature={signature}"
    return SignedQuery(query=query, payload=payload, timestamp_ms=now_ms)


def sign_ws_api(params: Mapping[str, str | int], signer: Signer) -> dict[str, str | int]:
    """WebSocket API signing (spec §1.9), unlike REST: every parameter but ``signature``, ``apiKey``
    included, sorted by name, joined as ``k=v&...`` without percent-encoding; returns the params
    with ``signature`` added (raw hex or base64: the frame is JSON, not a URL)."""
    payload = "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "signature")
    return {**params, "signature": signer.signature(payload)}
