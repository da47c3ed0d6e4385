"""Sandbox API credentials: a documented default HMAC pair and an Ed25519 key on disk.

The defaults are public on purpose (they only open the loopback sandbox); they are documented in
`simulator/README.md`. The Ed25519 private key is generated once per path and persisted as PKCS#8
PEM so clients can sign with it (spec §1.8).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

DEFAULT_API_KEY = "sandboxHmacApiKey0000000000000000000000000000000000000000000000000"[:64]
DEFAULT_API_SECRET = "sandboxHmacSecret000000000000000000000000000000000000000000000000"[:64]
DEFAULT_ED25519_API_KEY = "sandboxEd25519ApiKey000000000000000000000000000000000000000000000"[:64]


@dataclass(frozen=True)
class Credentials:
    """The keys the sandbox accepts; the secret and private key never leave this process's logs."""

    api_key: str
    api_secret: str
    ed25519_api_key: str
    ed25519_private_key_file: Path
    ed25519_public_key: Ed25519PublicKey


def load_or_create_ed25519(path: Path | None) -> tuple[Path, Ed25519PublicKey]:
    """Load the PEM at `path`, or create one there (or in a fresh temp file when `path` is None)."""
    if path is not None and path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 private key")
        return path, key.public_key()
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    if path is None:
        fd, name = tempfile.mkstemp(prefix="binance-sim-ed25519-", suffix=".pem")
        os.close(fd)
        path = Path(name)
    path.write_bytes(pem)
    path.chmod(0o600)
    return path, key.public_key()


def make_credentials(
    api_key: str = DEFAULT_API_KEY,
    api_secret: str = DEFAULT_API_SECRET,
    ed25519_api_key: str = DEFAULT_ED25519_API_KEY,
    ed25519_key_file: Path | None = None,
) -> Credentials:
    path, public = load_or_create_ed25519(ed25519_key_file)
    return Credentials(api_key, api_secret, ed25519_api_key, path, public)
