"""Typed, frozen gateway settings, validated once at start-up.

Only this module reads the command line, the TOML config file and the environment
(`MCP_GATEWAY_TOKEN`, `MCP_GATEWAY_STATE_KEYS`). Everything below it receives a `GatewaySettings`
explicitly.

Precedence: command-line flags override the config file, which overrides the defaults.
Providers from the command line and the config file are merged; a name given twice is an error.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from gateway.names import ToolNames

__all__ = [
    "DEFAULT_DEFAULT_TIMEOUT_MS",
    "DEFAULT_POOL_SIZE",
    "STATE_KEYS_ENV",
    "GatewaySettings",
    "HttpSettings",
    "ProviderTarget",
    "SettingsError",
    "TlsFiles",
    "ToolNames",
    "Transport",
    "is_loopback_host",
    "load_settings",
]

DEFAULT_POOL_SIZE = 4
DEFAULT_DEFAULT_TIMEOUT_MS = 10_000
DEFAULT_STARTUP_WAIT_S = 15.0
DEFAULT_REFRESH_INTERVAL_S = 30.0
DEFAULT_INPUT_TIMEOUT_S = 300.0
DEFAULT_LISTEN = "127.0.0.1:8765"
DEFAULT_MAX_REQUEST_BYTES = 1_000_000
DEFAULT_MAX_CONCURRENCY_PER_CLIENT = 16
DEFAULT_MAX_CONNECTIONS = 1000
DEFAULT_MAX_CONNECTIONS_PER_CLIENT = 100
DEFAULT_HEADER_TIMEOUT_S = 10.0
DEFAULT_BODY_TIMEOUT_S = 30.0
DEFAULT_KEEP_ALIVE_S = 5.0
DEFAULT_LISTEN_BACKLOG = 128
TOKEN_ENV = "MCP_GATEWAY_TOKEN"
STATE_KEYS_ENV = "MCP_GATEWAY_STATE_KEYS"
_MIN_STATE_KEY_BYTES = 32

_PROVIDER_KEYS = {
    "name",
    "address",
    "addresses",
    "tls_ca_file",
    "tls_cert_file",
    "tls_key_file",
    "tls_server_name",
    "namespace",
}
_TOP_KEYS = {
    "providers",
    "pool_size",
    "transport",
    "default_timeout_ms",
    "startup_wait_s",
    "refresh_interval_s",
    "input_timeout_s",
    "listen",
    "max_request_bytes",
    "max_concurrency_per_client",
    "max_connections",
    "max_connections_per_client",
    "header_timeout_s",
    "body_timeout_s",
    "keep_alive_s",
    "listen_backlog",
    "allowed_origins",
    "log_level",
    "tool_names",
}


class SettingsError(ValueError):
    """The configuration is invalid; the message says which value and why."""


def is_loopback_host(host: str) -> bool:
    """True for `localhost` and loopback IPs (127.0.0.0/8, ::1), bracketed or not."""
    host = host.strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Transport(StrEnum):
    """How MCP clients reach the gateway."""

    STDIO = "stdio"
    HTTP = "http"


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """PEM files for a TLS channel to a provider."""

    ca_file: Path | None = None
    """Root certificates that sign the provider's certificate (system roots when None)."""
    cert_file: Path | None = None
    """Client certificate for mutual TLS (needs key_file)."""
    key_file: Path | None = None
    """Client private key for mutual TLS (needs cert_file)."""
    server_name: str | None = None
    """Name to verify the provider's certificate against, when it differs from the address's host."""


@dataclass(frozen=True, slots=True)
class ProviderTarget:
    """One provider the gateway connects to."""

    name: str
    """Namespace for the provider's tools, e.g. "binance"."""
    address: str
    """gRPC target, e.g. "127.0.0.1:50053" (the first replica's when there are several)."""
    tls: TlsFiles | None = None
    """TLS files, or None for a plaintext channel (loopback only)."""
    namespace: bool = True
    """Prefix the provider's tool names with `<name>.` (TOML `namespace = false` keeps them as the
    provider gives them, e.g. for the conformance fixture, whose clients call `test_simple_text`)."""
    replicas: tuple[str, ...] = ()
    """Further addresses of the same provider (replicas sharing state through Redis): calls are
    balanced over the healthy ones (`gateway/balance.py`); all share `tls`."""

    @property
    def addresses(self) -> tuple[str, ...]:
        """Every address of the provider, the first one first."""
        return (self.address, *self.replicas)

    @property
    def is_loopback(self) -> bool:
        """True when every address only reaches this machine, where plaintext is acceptable."""
        return all(is_loopback_host(a.rpartition(":")[0]) for a in self.addresses)


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """Streamable HTTP transport settings."""

    host: str = "127.0.0.1"
    port: int = 8765
    token: str | None = field(default=None, repr=False)
    """Bearer token clients must send; required when listening beyond loopback."""
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    """Largest accepted request body."""
    max_concurrency_per_client: int = DEFAULT_MAX_CONCURRENCY_PER_CLIENT
    """POST requests one client may have in flight at once: per token when one is configured (every
    connection and session presenting it counts together), else per client address."""
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    """Open connections in all (also capped below the process's file-descriptor limit)."""
    max_connections_per_client: int = DEFAULT_MAX_CONNECTIONS_PER_CLIENT
    """Open connections per client address."""
    header_timeout_s: float = DEFAULT_HEADER_TIMEOUT_S
    """Time a connection has to send a request's complete headers (on connect and between requests)."""
    body_timeout_s: float = DEFAULT_BODY_TIMEOUT_S
    """Time a request has to send its complete body once its headers are in."""
    keep_alive_s: float = DEFAULT_KEEP_ALIVE_S
    """Idle time after which a kept-alive connection that sent nothing is closed."""
    listen_backlog: int = DEFAULT_LISTEN_BACKLOG
    """Pending connections the kernel queues, and the most accepted in one go before the guard
    sees them: with `max_connections` it bounds the descriptors a connection flood can take."""
    allowed_origins: tuple[str, ...] = ()
    """Extra browser origins allowed besides loopback ones."""

    @property
    def is_loopback(self) -> bool:
        """True when the listening address is only reachable from this machine."""
        return is_loopback_host(self.host)


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    """Everything the gateway needs, validated."""

    providers: tuple[ProviderTarget, ...]
    pool_size: int = DEFAULT_POOL_SIZE
    """gRPC channels per provider, used in rotation."""
    transport: Transport = Transport.STDIO
    default_timeout_ms: int = DEFAULT_DEFAULT_TIMEOUT_MS
    """Deadline of a call whose tool declares no timeout_ms."""
    startup_wait_s: float = DEFAULT_STARTUP_WAIT_S
    """How long start-up waits for providers to be SERVING before serving with what it has."""
    refresh_interval_s: float = DEFAULT_REFRESH_INTERVAL_S
    """Period of the catalog re-listing that catches changes a health watch misses."""
    input_timeout_s: float = DEFAULT_INPUT_TIMEOUT_S
    """How long a tool call waits for the client to answer one input request (elicitation, sampling)."""
    state_keys: tuple[str, ...] = field(default=(), repr=False)
    """Keys that seal a 2026 client's `requestState` (env MCP_GATEWAY_STATE_KEYS, comma-separated,
    the first seals, all open: rotation). Gateways that share a key accept each other's rounds;
    empty: a key of this process only (a retry reaching another gateway, or this one after a
    restart, is refused and the client starts the call afresh)."""
    http: HttpSettings = field(default_factory=HttpSettings)
    log_level: str = "info"
    tool_names: ToolNames = ToolNames.PORTABLE
    """Which form of tool names is listed: portable (`binance_get_ticker`, every client) or dotted."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mcp-gateway",
        description="Generic MCP gateway in front of gRPC capability providers (provider.v1).",
    )
    p.add_argument(
        "--provider",
        action="append",
        default=[],
        metavar="NAME=HOST:PORT[,HOST:PORT...]",
        help="a provider to connect to (repeatable), plaintext, loopback only (TLS: use --config); "
        "several addresses are replicas of one provider, calls are balanced over the healthy ones",
    )
    p.add_argument("--config", type=Path, help="TOML config file (providers, TLS files, limits)")
    p.add_argument("--pool-size", type=int, help=f"channels per provider (default {DEFAULT_POOL_SIZE})")
    p.add_argument("--transport", choices=[t.value for t in Transport], help="stdio (default) or http")
    p.add_argument(
        "--default-timeout-ms",
        type=int,
        help=f"deadline for tools without their own (default {DEFAULT_DEFAULT_TIMEOUT_MS})",
    )
    p.add_argument(
        "--startup-wait",
        type=float,
        dest="startup_wait_s",
        help=f"seconds to wait for providers at start (default {DEFAULT_STARTUP_WAIT_S:g})",
    )
    p.add_argument(
        "--refresh-interval",
        type=float,
        dest="refresh_interval_s",
        help=f"seconds between catalog re-listings (default {DEFAULT_REFRESH_INTERVAL_S:g})",
    )
    p.add_argument(
        "--input-timeout",
        type=float,
        dest="input_timeout_s",
        help=f"seconds a tool waits for the client to answer an elicitation or sampling request "
        f"(default {DEFAULT_INPUT_TIMEOUT_S:g})",
    )
    p.add_argument("--listen", help=f"HOST:PORT for --transport http (default {DEFAULT_LISTEN})")
    p.add_argument("--token", help=f"bearer token for HTTP clients (or env {TOKEN_ENV})")
    p.add_argument("--max-request-bytes", type=int, help="largest HTTP request body accepted")
    p.add_argument(
        "--max-concurrency-per-client", type=int, help="HTTP requests in flight per client (token, else address)"
    )
    p.add_argument("--max-connections", type=int, help=f"open HTTP connections (default {DEFAULT_MAX_CONNECTIONS})")
    p.add_argument(
        "--max-connections-per-client",
        type=int,
        help=f"open HTTP connections per client address (default {DEFAULT_MAX_CONNECTIONS_PER_CLIENT})",
    )
    p.add_argument(
        "--header-timeout",
        type=float,
        dest="header_timeout_s",
        help=f"seconds to send a request's headers (default {DEFAULT_HEADER_TIMEOUT_S:g})",
    )
    p.add_argument(
        "--listen-backlog",
        type=int,
        help=f"pending HTTP connections queued and accepted at once (default {DEFAULT_LISTEN_BACKLOG})",
    )
    p.add_argument(
        "--body-timeout",
        type=float,
        dest="body_timeout_s",
        help=f"seconds to send a request's body (default {DEFAULT_BODY_TIMEOUT_S:g})",
    )
    p.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    p.add_argument(
        "--tool-names",
        choices=[t.value for t in ToolNames],
        help="listed tool names: portable (binance_get_ticker, the default, accepted by every client) or "
        "dotted (binance.get_ticker); calls are accepted under both",
    )
    return p


def _split_hostport(value: str, what: str) -> tuple[str, int]:
    host, sep, port_s = value.rpartition(":")
    if not sep or not host or not port_s.isdigit():
        raise SettingsError(f"{what}: expected HOST:PORT, got {value!r}")
    port = int(port_s)
    if not 0 <= port <= 65535:
        raise SettingsError(f"{what}: port out of range in {value!r}")
    return host.strip("[]"), port


def _check_name(name: str) -> str:
    if not name or not all(c.isalnum() or c in "_-" for c in name):
        raise SettingsError(f"provider name {name!r}: use letters, digits, '_' or '-'")
    return name


def _addresses(raw: Sequence[str], what: str) -> tuple[str, ...]:
    """Replica addresses, each HOST:PORT, none twice."""
    addresses = tuple(a.strip() for a in raw)
    if not addresses:
        raise SettingsError(f"{what}: expected at least one HOST:PORT")
    for address in addresses:
        _split_hostport(address, what)
    if len(set(addresses)) != len(addresses):
        raise SettingsError(f"{what}: an address is given more than once")
    return addresses


def _provider_from_cli(spec: str) -> ProviderTarget:
    name, sep, raw = spec.partition("=")
    if not sep:
        raise SettingsError(f"--provider {spec!r}: expected NAME=HOST:PORT[,HOST:PORT...]")
    first, *more = _addresses(raw.split(","), f"--provider {spec!r}")
    return ProviderTarget(name=_check_name(name.strip()), address=first, replicas=tuple(more))


def _toml_addresses(entry: Mapping[str, Any], where: str) -> tuple[str, ...]:
    """`address = "H:P"` or `addresses = ["H:P", ...]` (replicas of one provider), not both."""
    address, addresses = entry.get("address"), entry.get("addresses")
    if (address is None) == (addresses is None):
        raise SettingsError(f"{where}: give 'address' (one) or 'addresses' (replicas), exactly one of them")
    if address is not None:
        if not isinstance(address, str):
            raise SettingsError(f"{where}.address: expected a HOST:PORT string")
        return _addresses([address], f"{where}.address")
    if not isinstance(addresses, list) or not all(isinstance(a, str) for a in addresses):
        raise SettingsError(f"{where}.addresses: expected an array of HOST:PORT strings")
    return _addresses(addresses, f"{where}.addresses")


def _path(raw: Any, base: Path, what: str) -> Path | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise SettingsError(f"{what}: expected a path string")
    path = Path(raw) if Path(raw).is_absolute() else base / raw
    if not path.is_file():
        raise SettingsError(f"{what}: file not found: {path}")
    return path


def _provider_from_toml(entry: Any, base: Path, index: int) -> ProviderTarget:
    where = f"providers[{index}]"
    if not isinstance(entry, Mapping):
        raise SettingsError(f"{where}: expected a table")
    unknown = set(entry) - _PROVIDER_KEYS
    if unknown:
        raise SettingsError(f"{where}: unknown keys {sorted(unknown)}")
    name = entry.get("name")
    if not isinstance(name, str):
        raise SettingsError(f"{where}: 'name' is a required string")
    first, *more = _toml_addresses(entry, where)
    server_name = entry.get("tls_server_name")
    if server_name is not None and (not isinstance(server_name, str) or not server_name):
        raise SettingsError(f"{where}.tls_server_name: expected a host name string")
    tls = TlsFiles(
        ca_file=_path(entry.get("tls_ca_file"), base, f"{where}.tls_ca_file"),
        cert_file=_path(entry.get("tls_cert_file"), base, f"{where}.tls_cert_file"),
        key_file=_path(entry.get("tls_key_file"), base, f"{where}.tls_key_file"),
        server_name=server_name,
    )
    if (tls.cert_file is None) != (tls.key_file is None):
        raise SettingsError(f"{where}: tls_cert_file and tls_key_file go together")
    has_tls = any(v is not None for v in (tls.ca_file, tls.cert_file, tls.key_file))
    if server_name is not None and not has_tls:
        raise SettingsError(f"{where}.tls_server_name: needs tls_ca_file or tls_cert_file/tls_key_file")
    namespace = entry.get("namespace", True)
    if not isinstance(namespace, bool):
        raise SettingsError(f"{where}.namespace: expected true or false")
    return ProviderTarget(
        name=_check_name(name),
        address=first,
        tls=tls if has_tls else None,
        namespace=namespace,
        replicas=tuple(more),
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise SettingsError(f"--config {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"--config {path}: {exc}") from exc
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise SettingsError(f"--config {path}: unknown keys {sorted(unknown)}")
    return data


def _positive_int(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise SettingsError(f"{what}: expected a positive integer, got {value!r}")
    return value


def _positive_float(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise SettingsError(f"{what}: expected a positive number, got {value!r}")
    return float(value)


def load_settings(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> GatewaySettings:
    """Parse and validate the command line (and the config file it names).

    Raises:
        SettingsError: a value is missing, malformed or inconsistent.
    """
    args = _parser().parse_args(argv)
    env = os.environ if environ is None else environ
    file: dict[str, Any] = _read_toml(args.config) if args.config else {}
    base = args.config.parent if args.config else Path.cwd()

    def pick(flag: Any, key: str, default: Any) -> Any:
        return flag if flag is not None else file.get(key, default)

    raw_providers = file.get("providers", [])
    if not isinstance(raw_providers, list):
        raise SettingsError("providers: expected an array of tables ([[providers]])")
    providers = [_provider_from_toml(e, base, i) for i, e in enumerate(raw_providers)]
    providers += [_provider_from_cli(s) for s in args.provider]
    names = [p.name for p in providers]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SettingsError(f"provider names given more than once: {dupes}")
    if not providers:
        raise SettingsError("no provider: pass --provider NAME=HOST:PORT or --config FILE")

    try:
        transport = Transport(pick(args.transport, "transport", Transport.STDIO.value))
    except ValueError as exc:
        raise SettingsError(f"transport: expected stdio or http ({exc})") from exc
    host, port = _split_hostport(pick(args.listen, "listen", DEFAULT_LISTEN), "--listen")
    token = args.token or env.get(TOKEN_ENV) or None
    origins = file.get("allowed_origins", [])
    if not isinstance(origins, list) or not all(isinstance(o, str) for o in origins):
        raise SettingsError("allowed_origins: expected an array of strings")
    http = HttpSettings(
        host=host,
        port=port,
        token=token,
        max_request_bytes=_positive_int(
            pick(args.max_request_bytes, "max_request_bytes", DEFAULT_MAX_REQUEST_BYTES),
            "max_request_bytes",
        ),
        max_concurrency_per_client=_positive_int(
            pick(
                args.max_concurrency_per_client,
                "max_concurrency_per_client",
                DEFAULT_MAX_CONCURRENCY_PER_CLIENT,
            ),
            "max_concurrency_per_client",
        ),
        allowed_origins=tuple(origins),
        max_connections=_positive_int(
            pick(args.max_connections, "max_connections", DEFAULT_MAX_CONNECTIONS), "max_connections"
        ),
        max_connections_per_client=_positive_int(
            pick(args.max_connections_per_client, "max_connections_per_client", DEFAULT_MAX_CONNECTIONS_PER_CLIENT),
            "max_connections_per_client",
        ),
        header_timeout_s=_positive_float(
            pick(args.header_timeout_s, "header_timeout_s", DEFAULT_HEADER_TIMEOUT_S), "header_timeout_s"
        ),
        body_timeout_s=_positive_float(
            pick(args.body_timeout_s, "body_timeout_s", DEFAULT_BODY_TIMEOUT_S), "body_timeout_s"
        ),
        keep_alive_s=_positive_float(file.get("keep_alive_s", DEFAULT_KEEP_ALIVE_S), "keep_alive_s"),
        listen_backlog=_positive_int(
            pick(args.listen_backlog, "listen_backlog", DEFAULT_LISTEN_BACKLOG), "listen_backlog"
        ),
    )
    if transport is Transport.HTTP and not http.is_loopback and not http.token:
        raise SettingsError(
            f"--listen {host}:{port} is beyond loopback: a bearer token is required (--token or env {TOKEN_ENV})"
        )
    log_level = pick(args.log_level, "log_level", "info")
    if log_level not in ("debug", "info", "warning", "error"):
        raise SettingsError(f"log_level: unknown level {log_level!r}")
    tool_names_raw = pick(args.tool_names, "tool_names", ToolNames.PORTABLE.value)
    try:
        tool_names = ToolNames(tool_names_raw)
    except ValueError as exc:
        raise SettingsError(f"tool_names: expected portable or dotted, got {tool_names_raw!r}") from exc
    state_keys = tuple(k.strip() for k in env.get(STATE_KEYS_ENV, "").split(",") if k.strip())
    if any(len(k.encode()) < _MIN_STATE_KEY_BYTES for k in state_keys):
        raise SettingsError(f"{STATE_KEYS_ENV}: every key needs at least {_MIN_STATE_KEY_BYTES} bytes of randomness")
    settings = GatewaySettings(
        providers=tuple(providers),
        pool_size=_positive_int(pick(args.pool_size, "pool_size", DEFAULT_POOL_SIZE), "pool_size"),
        transport=transport,
        default_timeout_ms=_positive_int(
            pick(args.default_timeout_ms, "default_timeout_ms", DEFAULT_DEFAULT_TIMEOUT_MS),
            "default_timeout_ms",
        ),
        startup_wait_s=_positive_float(
            pick(args.startup_wait_s, "startup_wait_s", DEFAULT_STARTUP_WAIT_S), "startup_wait_s"
        ),
        refresh_interval_s=_positive_float(
            pick(args.refresh_interval_s, "refresh_interval_s", DEFAULT_REFRESH_INTERVAL_S),
            "refresh_interval_s",
        ),
        input_timeout_s=_positive_float(
            pick(args.input_timeout_s, "input_timeout_s", DEFAULT_INPUT_TIMEOUT_S), "input_timeout_s"
        ),
        state_keys=state_keys,
        http=http,
        log_level=log_level,
        tool_names=tool_names,
    )
    for p in settings.providers:
        if p.tls is None and not p.is_loopback:
            raise SettingsError(
                f"provider {p.name!r} at {', '.join(p.addresses)} is beyond loopback: plaintext gRPC is for "
                "127.0.0.1/localhost only; give it tls_ca_file (and tls_cert_file + tls_key_file for mutual TLS) "
                "in a [[providers]] table of --config"
            )
    return settings
