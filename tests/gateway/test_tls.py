"""A provider behind TLS, configured through the TOML config file."""

from __future__ import annotations

import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.gateway.conftest import gateway_session
from tests.gateway.fake_provider import FakeProvider


def _self_signed_localhost() -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


async def test_tls_provider_from_config_file(tmp_path: Path) -> None:
    key_pem, cert_pem = _self_signed_localhost()
    (tmp_path / "ca.pem").write_bytes(cert_pem)
    provider = await FakeProvider(tls=(key_pem, cert_pem)).start()
    config = tmp_path / "gateway.toml"
    config.write_text(
        f'pool_size = 2\n[[providers]]\nname = "fake"\naddress = "localhost:{provider.port}"\ntls_ca_file = "ca.pem"\n'
    )
    try:
        async with gateway_session(["--config", str(config), "--startup-wait", "10"]) as s:
            result = await s.call_tool("fake_echo", {"text": "secure"})
        assert result.structured_content == {"text": "secure", "count": 1}
    finally:
        await provider.stop()
