"""TLS for the provider's gRPC port: certificate files read and checked once, at start.

A mismatched key, an expired certificate or an unreadable file would otherwise surface only as an
opaque handshake failure on the gateway's side; here it stops the provider with a message naming
the variable. With a client CA the server requires a client certificate signed by it (mutual TLS).

Plaintext is for loopback only: `is_loopback_host` is the test the settings apply to the listen
address.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import grpc

if TYPE_CHECKING:  # cryptography is imported when TLS is configured (provider start time)
    from cryptography import x509

__all__ = ["ServerTls", "TlsError", "is_loopback_host", "load_server_tls"]

CERT_VAR = "PROVIDER_TLS_CERT_FILE"
KEY_VAR = "PROVIDER_TLS_KEY_FILE"
CLIENT_CA_VAR = "PROVIDER_TLS_CLIENT_CA_FILE"


class TlsError(ValueError):
    """A TLS file is missing, unreadable or inconsistent; the message names the variable."""


@dataclass(frozen=True)
class ServerTls:
    """The PEM material the gRPC server presents and, for mutual TLS, verifies clients against."""

    certificate_chain: bytes
    private_key: bytes = field(repr=False)
    client_ca: bytes | None = None
    """Roots that sign accepted client certificates; when set a client certificate is required."""

    @property
    def mutual(self) -> bool:
        return self.client_ca is not None

    def credentials(self) -> grpc.ServerCredentials:
        return grpc.ssl_server_credentials(
            [(self.private_key, self.certificate_chain)],
            root_certificates=self.client_ca,
            require_client_auth=self.mutual,
        )


def is_loopback_host(host: str) -> bool:
    """True for `localhost` and loopback IPs (127.0.0.0/8, ::1), bracketed or not."""
    host = host.strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_server_tls(
    cert_file: str | None, key_file: str | None, client_ca_file: str | None, *, now: datetime.datetime
) -> ServerTls | None:
    """Read and check the files; None when no TLS is configured.

    Raises:
        TlsError: half a configuration, an unreadable or invalid file, a key that does not match the
            certificate, or a certificate outside its validity period at `now`.
    """
    if not (cert_file or key_file or client_ca_file):
        return None
    if not (cert_file and key_file):
        raise TlsError(
            f"{CERT_VAR} and {KEY_VAR}: both are needed for TLS"
            + (f" ({CLIENT_CA_VAR} needs them too)" if client_ca_file else "")
        )
    chain_pem, key_pem = _read(cert_file, CERT_VAR), _read(key_file, KEY_VAR)
    leaf = _certificates(chain_pem, CERT_VAR)[0]
    _check_validity(leaf, CERT_VAR, now)
    _check_key_matches(leaf, key_pem)
    client_ca = None
    if client_ca_file:
        client_ca = _read(client_ca_file, CLIENT_CA_VAR)
        _certificates(client_ca, CLIENT_CA_VAR)
    return ServerTls(certificate_chain=chain_pem, private_key=key_pem, client_ca=client_ca)


def _read(path: str, var: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise TlsError(f"{var}: cannot read {path}: {exc.strerror}") from None


def _certificates(pem: bytes, var: str) -> list[x509.Certificate]:
    from cryptography import x509

    try:
        certs = x509.load_pem_x509_certificates(pem)
    except ValueError:
        certs = []
    if not certs:
        raise TlsError(f"{var}: no PEM certificate in the file")
    return certs


def _check_validity(cert: x509.Certificate, var: str, now: datetime.datetime) -> None:
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise TlsError(
            f"{var}: certificate valid from {cert.not_valid_before_utc:%Y-%m-%d %H:%M} "
            f"to {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC, not now"
        )


def _check_key_matches(cert: x509.Certificate, key_pem: bytes) -> None:
    from cryptography.hazmat.primitives import serialization

    # The key's own text never goes into a message.
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError):
        raise TlsError(f"{KEY_VAR}: not an unencrypted PEM private key") from None
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(serialization.Encoding.PEM, public) != cert.public_key().public_bytes(
        serialization.Encoding.PEM, public
    ):
        raise TlsError(f"{KEY_VAR}: the private key does not match the certificate in {CERT_VAR}")
