"""TLS between gateway and provider: a real provider with mutual TLS, a real gateway over stdio,
gRPC clients with a foreign or no client certificate, and the settings that refuse half a TLS
configuration or plaintext beyond loopback.

Certificates are made per module by a throwaway CA (`cryptography`), written under tmp_path.
"""

from __future__ import annotations

import datetime
import ipaddress
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
import pytest_asyncio
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.pool import channel_factory
from gateway.settings import ProviderTarget, TlsFiles, load_settings
from gateway.settings import SettingsError as GatewaySettingsError
from provider.settings import SettingsError, from_mapping
from tests.e2e.conftest import HeldSession
from tests.sim_fixture import SimProcess
from tests.stack import ROOT, ProviderProcess, child_env, sandbox_env

NOW = datetime.datetime.now(datetime.UTC)


# -- a throwaway PKI -----------------------------------------------------------------------


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _ca(cn: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = _key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(minutes=5))
        .not_valid_after(NOW + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _leaf(
    cn: str,
    issuer: tuple[ec.EllipticCurvePrivateKey, x509.Certificate],
    *,
    server: bool,
    not_after: datetime.datetime | None = None,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = _key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer[1].subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(minutes=5))
        .not_valid_after(not_after or NOW + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.DNSName("provider.test"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
    return key, builder.sign(issuer[0], hashes.SHA256())


@dataclass(frozen=True)
class Pki:
    """Paths of every PEM file the tests use."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    foreign_cert: Path
    """A client certificate from another CA (self-signed)."""
    foreign_key: Path
    expired_cert: Path
    expired_key: Path

    def read(self, path: Path) -> bytes:
        return path.read_bytes()

    def credentials(self, client: tuple[Path, Path] | None) -> grpc.ChannelCredentials:
        cert, key = client if client else (None, None)
        return grpc.ssl_channel_credentials(
            root_certificates=self.ca.read_bytes(),
            private_key=key.read_bytes() if key else None,
            certificate_chain=cert.read_bytes() if cert else None,
        )


def make_pki(root: Path) -> Pki:
    ca = _ca("test CA")
    files: dict[str, bytes] = {"ca": _pem_cert(ca[1])}
    for stem, (key, cert) in {
        "server": _leaf("provider", ca, server=True),
        "client": _leaf("gateway", ca, server=False),
        "foreign": _ca("gateway"),
        "expired": _leaf("provider", ca, server=True, not_after=NOW - datetime.timedelta(minutes=1)),
    }.items():
        files[f"{stem}_cert"], files[f"{stem}_key"] = _pem_cert(cert), _pem_key(key)
    for stem, data in files.items():
        (root / f"{stem}.pem").write_bytes(data)
    return Pki(**{stem: root / f"{stem}.pem" for stem in files})


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def mtls_env(pki: Pki) -> dict[str, str]:
    return {
        "PROVIDER_TLS_CERT_FILE": str(pki.server_cert),
        "PROVIDER_TLS_KEY_FILE": str(pki.server_key),
        "PROVIDER_TLS_CLIENT_CA_FILE": str(pki.ca),
    }


# -- a real provider with mutual TLS ------------------------------------------------------


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def mtls_provider(pki: Pki) -> AsyncIterator[ProviderProcess]:
    sim = await SimProcess.start("--rate", "50")
    try:
        provider = await ProviderProcess.start(
            {**sandbox_env(sim.info, trading=False), **mtls_env(pki)},
            credentials=pki.credentials((pki.client_cert, pki.client_key)),
        )
        try:
            yield provider
        finally:
            await provider.stop()
    finally:
        await sim.stop()


async def health_status(address: str, credentials: grpc.ChannelCredentials) -> int:
    options = [("grpc.use_local_subchannel_pool", 1)]
    async with grpc.aio.secure_channel(address, credentials, options=options) as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        return int(reply.status)


@pytest.mark.asyncio(loop_scope="module")
async def test_gateway_lists_and_calls_tools_over_mutual_tls(
    mtls_provider: ProviderProcess, pki: Pki, tmp_path: Path
) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(
        "[[providers]]\n"
        'name = "binance"\n'
        f'address = "{mtls_provider.address}"\n'
        f'tls_ca_file = "{pki.ca}"\n'
        f'tls_cert_file = "{pki.client_cert}"\n'
        f'tls_key_file = "{pki.client_key}"\n'
    )
    async with HeldSession(extra_args=("--config", str(config), "--startup-wait", "15")) as session:
        tools = {t.name for t in (await session.list_tools()).tools}
        assert "binance_get_ticker" in tools
        result = await session.call_tool("binance_get_ticker", {"symbol": "BTCUSDT"})
    assert not result.is_error, result.content
    assert result.structured_content is not None
    assert result.structured_content["symbol"] == "BTCUSDT"
    assert result.structured_content["freshness"]["environment"] == "sandbox"


@pytest.mark.asyncio(loop_scope="module")
async def test_provider_accepts_only_client_certificates_signed_by_its_client_ca(
    mtls_provider: ProviderProcess, pki: Pki
) -> None:
    serving = health_pb2.HealthCheckResponse.SERVING
    assert await health_status(mtls_provider.address, pki.credentials((pki.client_cert, pki.client_key))) == serving
    for client in [(pki.foreign_cert, pki.foreign_key), None]:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await health_status(mtls_provider.address, pki.credentials(client))
        assert caught.value.code() is grpc.StatusCode.UNAVAILABLE, client


@pytest.mark.asyncio(loop_scope="module")
async def test_provider_rejects_plaintext_clients_on_its_tls_port(mtls_provider: ProviderProcess) -> None:
    async with grpc.aio.insecure_channel(mtls_provider.address) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE


@pytest.mark.asyncio(loop_scope="module")
async def test_gateway_channel_verifies_the_configured_server_name(mtls_provider: ProviderProcess, pki: Pki) -> None:
    def target(server_name: str) -> ProviderTarget:
        files = TlsFiles(pki.ca, pki.client_cert, pki.client_key, server_name=server_name)
        return ProviderTarget("binance", mtls_provider.address, files)

    async def check(server_name: str) -> int:
        async with channel_factory(target(server_name))() as channel:
            reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
            return int(reply.status)

    assert await check("provider.test") == health_pb2.HealthCheckResponse.SERVING
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await check("somebody-else.test")
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE


# -- settings: half-configured TLS and plaintext beyond loopback ---------------------------


def _provider_env(**extra: str) -> dict[str, str]:
    return {"BINANCE_ENV": "testnet", **extra}


@pytest.mark.parametrize(
    ("files", "needle"),
    [
        ({"CERT": "server_cert"}, "PROVIDER_TLS_KEY_FILE"),
        ({"KEY": "server_key"}, "PROVIDER_TLS_CERT_FILE"),
        ({"CLIENT_CA": "ca"}, "PROVIDER_TLS_CLIENT_CA_FILE needs them"),
        ({"CERT": "server_cert", "KEY": "client_key"}, "does not match"),
        ({"CERT": "expired_cert", "KEY": "expired_key"}, "not now"),
        ({"CERT": "server_cert", "KEY": "server_key", "CLIENT_CA": "client_key"}, "CLIENT_CA_FILE: no PEM certificate"),
        ({"CERT": "server_key", "KEY": "server_key"}, "PROVIDER_TLS_CERT_FILE: no PEM certificate"),
    ],
)
def test_provider_refuses_half_or_inconsistent_tls(pki: Pki, files: dict[str, str], needle: str) -> None:
    env = _provider_env(**{f"PROVIDER_TLS_{var}_FILE": str(getattr(pki, attr)) for var, attr in files.items()})
    with pytest.raises(SettingsError, match=needle) as caught:
        from_mapping(env)
    assert "PRIVATE KEY" not in str(caught.value)  # names and paths only, never key material


def test_provider_refuses_unreadable_tls_file(pki: Pki, tmp_path: Path) -> None:
    env = _provider_env(PROVIDER_TLS_CERT_FILE=str(tmp_path / "missing.pem"), PROVIDER_TLS_KEY_FILE=str(pki.server_key))
    with pytest.raises(SettingsError, match="PROVIDER_TLS_CERT_FILE: cannot read"):
        from_mapping(env)


@pytest.mark.parametrize("listen", ["0.0.0.0:50053", "10.1.2.3:50053", "[::]:50053", "provider.example:1"])
def test_provider_refuses_plaintext_beyond_loopback(listen: str) -> None:
    with pytest.raises(SettingsError, match="PROVIDER_TLS_CERT_FILE and PROVIDER_TLS_KEY_FILE"):
        from_mapping(_provider_env(PROVIDER_LISTEN=listen))


@pytest.mark.parametrize("listen", ["127.0.0.1:50053", "localhost:0", "[::1]:50053", "127.0.0.2:1"])
def test_provider_allows_plaintext_on_loopback(listen: str) -> None:
    assert from_mapping(_provider_env(PROVIDER_LISTEN=listen)).tls is None


def test_provider_serves_any_address_with_tls_and_says_which_kind(pki: Pki) -> None:
    server_only = from_mapping(
        _provider_env(
            PROVIDER_LISTEN="0.0.0.0:50053",
            PROVIDER_TLS_CERT_FILE=str(pki.server_cert),
            PROVIDER_TLS_KEY_FILE=str(pki.server_key),
        )
    )
    mutual = from_mapping(_provider_env(PROVIDER_LISTEN="0.0.0.0:50053", **mtls_env(pki)))
    assert (server_only.describe()["tls"], mutual.describe()["tls"]) == ("server", "mutual")
    assert "PRIVATE KEY" not in repr(mutual)


def test_provider_process_exits_with_a_message_naming_the_variables_when_plaintext_beyond_loopback() -> None:
    env = child_env({"BINANCE_ENV": "testnet", "PROVIDER_LISTEN": "0.0.0.0:0"})
    done = subprocess.run(
        [sys.executable, "-m", "provider"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "PROVIDER_TLS_CERT_FILE" in done.stdout + done.stderr


def _gateway_config(tmp_path: Path, body: str) -> list[str]:
    config = tmp_path / "gateway.toml"
    config.write_text(body)
    return ["--config", str(config)]


@pytest.fixture
def here(tmp_path: Path, pki: Pki) -> Iterator[Path]:
    for path in (pki.ca, pki.client_cert, pki.client_key):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    yield tmp_path


@pytest.mark.parametrize("address", ["10.0.0.5:50053", "provider.example:443", "0.0.0.0:1"])
def test_gateway_refuses_plaintext_to_a_provider_beyond_loopback(address: str, tmp_path: Path) -> None:
    with pytest.raises(GatewaySettingsError, match="beyond loopback"):
        load_settings(["--provider", f"binance={address}"], {})
    with pytest.raises(GatewaySettingsError, match="tls_ca_file"):
        load_settings(_gateway_config(tmp_path, f'[[providers]]\nname = "b"\naddress = "{address}"\n'), {})


def test_gateway_takes_mutual_tls_files_and_server_name_beyond_loopback(here: Path) -> None:
    argv = _gateway_config(
        here,
        '[[providers]]\nname = "binance"\naddress = "10.0.0.5:50053"\n'
        'tls_ca_file = "ca.pem"\ntls_cert_file = "client_cert.pem"\ntls_key_file = "client_key.pem"\n'
        'tls_server_name = "provider.test"\n',
    )
    [target] = load_settings(argv, {}).providers
    assert target.tls == TlsFiles(
        here / "ca.pem", here / "client_cert.pem", here / "client_key.pem", server_name="provider.test"
    )


@pytest.mark.parametrize(
    ("keys", "needle"),
    [
        ('tls_ca_file = "ca.pem"\ntls_cert_file = "client_cert.pem"\n', "go together"),
        ('tls_server_name = "provider.test"\n', "tls_server_name: needs"),
        ('tls_ca_file = "ca.pem"\ntls_server_name = 3\n', "tls_server_name: expected"),
    ],
)
def test_gateway_refuses_half_tls(here: Path, keys: str, needle: str) -> None:
    argv = _gateway_config(here, f'[[providers]]\nname = "b"\naddress = "127.0.0.1:1"\n{keys}')
    with pytest.raises(GatewaySettingsError, match=needle):
        load_settings(argv, {})
