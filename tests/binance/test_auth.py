"""Signing follows spec §1.8: the three documented HMAC vectors and an Ed25519 round trip."""

import base64
from decimal import Decimal
from urllib.parse import unquote

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)

from provider.binance.auth import Ed25519Signer, HmacSigner, encode_params, sign

SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
ORDER = {"symbol": "LTCBTC", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
         "quantity": "1", "price": "0.1"}


def test_hmac_vector_plain_payload() -> None:
    signed = sign(ORDER, HmacSigner(SECRET), now_ms=1499827319559, recv_window_ms=5000)
    assert signed.payload == ("symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1"
                              "&price=0.1&recvWindow=5000&timestamp=1499827319559")
    assert signed.query.endswith(
        "&signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71")


def test_hmac_vector_non_ascii_symbol_is_signed_percent_encoded() -> None:
    signed = sign({**ORDER, "symbol": "１２３４５６"}, HmacSigner(SECRET), 1499827319559, 5000)
    assert signed.payload.startswith(
        "symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&")
    assert signed.query.endswith(
        "signature=e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3")


def test_hmac_vector_query_and_body_concatenated_without_separator() -> None:
    payload = ("symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC"
               "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559")
    assert HmacSigner(SECRET).signature(payload) == (
        "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77")


def test_ed25519_signature_verifies_with_the_public_key() -> None:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    signed = sign(ORDER, Ed25519Signer.from_pem(pem), now_ms=1700000000000)
    sig_encoded = signed.query.rsplit("&signature=", 1)[1]
    assert "+" not in sig_encoded and "/" not in sig_encoded and "=" not in sig_encoded
    key.public_key().verify(base64.b64decode(unquote(sig_encoded)), signed.payload.encode())


def test_signers_never_show_key_material() -> None:
    assert SECRET not in repr(HmacSigner(SECRET))
    pem = Ed25519PrivateKey.generate().private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    assert "PRIVATE" not in repr(Ed25519Signer.from_pem(pem))


def test_encoding_renders_bools_arrays_and_decimals_exactly() -> None:
    query = encode_params({"symbols": ["BTCUSDT", "BNBBTC"], "omitZeroBalances": True,
                           "price": Decimal("0.00000100"), "skip": None})
    assert query == ("symbols=%5B%22BTCUSDT%22%2C%22BNBBTC%22%5D&omitZeroBalances=true"
                     "&price=0.00000100")


def test_caller_supplied_timestamp_and_signature_are_replaced() -> None:
    signed = sign({"symbol": "X", "timestamp": 1, "signature": "forged"}, HmacSigner("s"), 42,
                  None)
    assert signed.payload == "symbol=X&timestamp=42"


def test_recv_window_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError):
        sign({}, HmacSigner("s"), 1, 60001)


def test_non_ed25519_pem_is_refused() -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    with pytest.raises(ValueError):
        Ed25519Signer.from_pem(pem)


def test_websocket_api_signatures_sort_every_parameter_and_skip_percent_encoding() -> None:
    from provider.binance.auth import HmacSigner, sign_ws_api

    # the documented vector (spec §1.9): HMAC over the sorted params, apiKey included
    secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
    params = {
        "symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.01000000",
        "price": "52000.00", "recvWindow": 100, "timestamp": 1645423376532,
        "apiKey": "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
    }
    signed = sign_ws_api(params, HmacSigner(secret))
    assert signed["signature"] == "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24"
