"""Signed-request checks exactly as Binance describes them (spec §1.6-§1.8).

Verification recipe (§1.8): take the raw, still percent-encoded query and body as received, drop
the `signature=` pair from wherever it is, concatenate query + body with no separator, and verify
HMAC-SHA256 (hex, case-insensitive) or Ed25519 (base64 after percent-decoding). Then the
timestamp must satisfy `timestamp < serverTime + 1000` and `serverTime - timestamp <= recvWindow`.

The WebSocket API signs differently (§1.9): every parameter but `signature`, `apiKey` included,
sorted by name, joined as `k=v&k=v` with no percent-encoding (`ws_signature_payload`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from decimal import Decimal
from urllib.parse import unquote

from cryptography.exceptions import InvalidSignature

from simulator import errors
from simulator.errors import ApiError
from simulator.keys import Credentials
from simulator.params import Params
from simulator.state import Sim

BAD_SIGNATURE = "Signature for this request is not valid."
OUTSIDE_WINDOW = "Timestamp for this request is outside of the recvWindow."
AHEAD = "Timestamp for this request was 1000ms ahead of the server's time."


def strip_signature(raw: str) -> str:
    """`raw` without its `signature=...` pair (and the `&` that joined it)."""
    if not raw:
        return raw
    return "&".join(p for p in raw.split("&") if not p.startswith("signature="))


def signature_payload(raw_query: str, raw_body: str) -> str:
    return strip_signature(raw_query) + strip_signature(raw_body)


def verify_hmac(secret: str, payload: str, signature: str) -> bool:
    expected = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.lower())


def verify_ed25519(creds: Credentials, payload: str, signature: str, encoded: bool = True) -> bool:
    """`encoded`: the base64 was percent-encoded (REST); WebSocket API signatures are not."""
    try:
        raw = base64.b64decode(unquote(signature) if encoded else signature, validate=True)
        creds.ed25519_public_key.verify(raw, payload.encode())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def check_api_key(creds: Credentials, headers: Mapping[str, str]) -> str:
    """Return which key type the request uses; -2014/-2015 with HTTP 401 otherwise."""
    return api_key_kind(creds, headers.get("X-MBX-APIKEY"))


def api_key_kind(creds: Credentials, key: str | None) -> str:
    """`HMAC` or `ED25519` for a key the sandbox knows; -2014/-2015 with HTTP 401 otherwise."""
    if not key:
        raise ApiError(-2014, "API-key format invalid.", 401)
    if key == creds.api_key:
        return "HMAC"
    if key == creds.ed25519_api_key:
        return "ED25519"
    if not key.isalnum() or len(key) > 128:
        raise ApiError(-2014, "API-key format invalid.", 401)
    raise ApiError(-2015, "Invalid API-key, IP, or permissions for action.", 401)


def verify(creds: Credentials, kind: str, payload: str, signature: str, encoded: bool = True) -> bool:
    """Check `signature` over `payload` with the key of type `kind` (`encoded`: see
    `verify_ed25519`)."""
    if kind == "HMAC":
        return verify_hmac(creds.api_secret, payload, signature)
    return verify_ed25519(creds, payload, signature, encoded)


def ws_signature_payload(values: Mapping[str, str]) -> str:
    """The WebSocket API signature payload (§1.9): sorted `k=v` pairs, `signature` left out."""
    return "&".join(f"{k}={values[k]}" for k in sorted(values) if k != "signature")


def recv_window_ms(params: Params) -> Decimal:
    text = params.values.get("recvWindow")
    if text is None:
        return Decimal(5000)
    value = params.decimal_opt("recvWindow")
    assert value is not None
    if "." in text and len(text.split(".")[1]) > 3:
        raise errors.bad_precision("recvWindow")
    if value > 60000:
        raise ApiError(-1131, "recvWindow must be less than 60000")
    return value


def timestamp_ms(params: Params) -> Decimal:
    ts = params.int_req("timestamp")
    # Inputs may be µs (spec §1.3): 16 digits instead of 13.
    return Decimal(ts) / 1000 if ts >= 10**15 else Decimal(ts)


def check_timestamp(params: Params, now_ms: int) -> None:
    ts = timestamp_ms(params)
    window = recv_window_ms(params)
    if ts >= now_ms + 1000:
        raise ApiError(-1021, AHEAD)
    if now_ms - ts > window:
        raise ApiError(-1021, OUTSIDE_WINDOW)


def authenticate(
    sim: Sim,
    headers: Mapping[str, str],
    raw_query: str,
    raw_body: str,
    params: Params,
    now_ms: int,
) -> None:
    """Run every signed-endpoint check; raises the matching `ApiError`."""
    creds = sim.config.credentials
    kind = check_api_key(creds, headers)
    params.int_req("timestamp")
    signature = params.str_req("signature")
    payload = signature_payload(raw_query, raw_body)
    if not verify(creds, kind, payload, signature):
        raise ApiError(-1022, BAD_SIGNATURE)
    check_timestamp(params, now_ms)
