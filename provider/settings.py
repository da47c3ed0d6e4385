"""The provider's configuration: typed, frozen, validated once at start.

Only this module reads the environment. Values come from process environment variables, with an
optional `.env` file underneath (the process environment wins). Every variable the provider knows
is in `VARIABLES`; an unknown `BINANCE_*` or `PROVIDER_*` name fails at start, as does any invalid
value, with a message naming the variable. Secrets are kept out of `repr` and logs.
"""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import urlsplit

from provider import audit
from provider.binance.auth import Ed25519Signer
from provider.binance.environment import Environment, EnvironmentKind
from provider.tls import ServerTls, TlsError, is_loopback_host, load_server_tls
from provider.trading.confirm import ConfirmPolicy, parse_policy

#: name -> one-line description (README's configuration table is written from the same facts).
VARIABLES: dict[str, str] = {
    "BINANCE_ENV": "mainnet, testnet or sandbox (sandbox needs BINANCE_REST_URL and BINANCE_WS_URL). Default testnet.",
    "BINANCE_REST_URL": "Explicit REST base URL (overrides the environment's), e.g. the sandbox's http://127.0.0.1:PORT.",
    "BINANCE_WS_URL": "Explicit WebSocket stream base URL, e.g. ws://127.0.0.1:PORT.",
    "BINANCE_WS_API_URL": "WebSocket API URL (user data stream). Default: derived, e.g. BINANCE_WS_URL + /ws-api/v3.",
    "BINANCE_API_KEY": "API key (sent as X-MBX-APIKEY).",
    "BINANCE_API_SECRET": "HMAC-SHA256 secret of the key (secret; never logged).",
    "BINANCE_PRIVATE_KEY_FILE": "PEM file of an Ed25519 private key (used instead of the HMAC secret).",
    "BINANCE_RECV_WINDOW_MS": "recvWindow of signed requests, 1..60000. Default 5000.",
    "BINANCE_TRADING_ENABLED": "true to allow place/cancel order tools. Default false.",
    "BINANCE_MAINNET_TRADING": "Must also be true to trade on mainnet (real money). Default false.",
    "BINANCE_MAX_ORDER_NOTIONAL": "Largest worst-case order value, in BINANCE_CAP_ASSET, e.g. 100 (empty = no limit).",
    "BINANCE_CAP_ASSET": (
        "Asset the order cap is counted in; other quote assets are converted at live prices. Default USDT."
    ),
    "BINANCE_CONFIRM_ORDERS": (
        "never, always or above:<notional in BINANCE_CAP_ASSET>: when a person must approve an order (through "
        "the MCP client) before it is sent. Default never on sandbox and testnet, always on mainnet."
    ),
    "BINANCE_ALLOWED_SYMBOLS": "Comma-separated symbols that may be traded (empty = all).",
    "BINANCE_ALLOWED_ORDER_TYPES": "Comma-separated order types that may be placed (empty = all).",
    "BINANCE_ALLOW_RISKY_KEY": (
        "true to trade with a key that can withdraw, has no IP whitelist on mainnet, or whose permissions "
        "cannot be read (refused otherwise). Default false."
    ),
    "PROVIDER_LISTEN": "gRPC listen address host:port. Default 127.0.0.1:50053. Beyond loopback it needs TLS.",
    "PROVIDER_TLS_CERT_FILE": "PEM certificate chain of the gRPC port; with PROVIDER_TLS_KEY_FILE it turns TLS on.",
    "PROVIDER_TLS_KEY_FILE": "PEM private key of PROVIDER_TLS_CERT_FILE (secret; never logged).",
    "PROVIDER_TLS_CLIENT_CA_FILE": "PEM CA; when set, clients must present a certificate it signed (mutual TLS).",
    "PROVIDER_ACCOUNT_STREAM": "true to keep a live account from the user data stream when keys are set. Default true.",
    "PROVIDER_ACCOUNT_RESYNC_S": "Seconds between REST checks of the live account (bounds a lost event). Default 60.",
    "PROVIDER_ORDERBOOK_ENABLED": "true to keep live order books over WebSocket. Default true.",
    "PROVIDER_ORDERBOOK_MAX_SYMBOLS": "Live books kept before the least recently used idle one is dropped. Default 20.",
    "PROVIDER_AUDIT_LOG": "Append-only JSON-lines audit log of mutating calls. Default ./var/audit.log.",
    "PROVIDER_METRICS_LISTEN": "host:port for Prometheus metrics (empty = off).",
    "PROVIDER_GRACE_S": "Seconds in-flight calls get to finish on SIGTERM. Default 5.",
    "PROVIDER_LOG_LEVEL": "debug, info, warning or error. Default info.",
    "PROVIDER_ENV_FILE": "Path of the .env file to read. Default ./.env when present.",
    "PROVIDER_REDIS_URL": (
        "redis:// or rediss:// URL shared by provider replicas (budgets, order locks, book leases). "
        "Empty = one process with in-process state."
    ),
    "PROVIDER_REDIS_PREFIX": (
        "Key prefix in Redis. Default binance-mcp:<BINANCE_ENV>: (so budgets are per environment)."
    ),
}

_ORDER_TYPES = {
    "LIMIT",
    "MARKET",
    "LIMIT_MAKER",
    "STOP_LOSS",
    "STOP_LOSS_LIMIT",
    "TAKE_PROFIT",
    "TAKE_PROFIT_LIMIT",
}


#: Binance's symbol pattern (spec: exchangeInfo `symbol`); UTF-8 names too (Binance, since 2025-12). Compiled
#: by `_symbols` only when symbols are listed: the \u00C0-\uFFEF class takes ~15 ms to compile.
_SYMBOL = r"[A-Z0-9\-_.\u00C0-\uFFEF]{1,20}"
#: variables that name a file; a NUL or control character in a path is refused before any open.
_PATH_VARIABLES = (
    "BINANCE_PRIVATE_KEY_FILE",
    "PROVIDER_TLS_CERT_FILE",
    "PROVIDER_TLS_KEY_FILE",
    "PROVIDER_TLS_CLIENT_CA_FILE",
    "PROVIDER_AUDIT_LOG",
)


class SettingsError(ValueError):
    """Invalid configuration; the message names the variable."""


@dataclass(frozen=True)
class TradingLimits:
    """Rails on mutating calls, checked before anything is sent."""

    enabled: bool = False
    mainnet_confirmed: bool = False
    max_order_notional: Decimal | None = None
    cap_asset: str = "USDT"
    allowed_symbols: frozenset[str] = frozenset()
    allowed_order_types: frozenset[str] = frozenset()
    allow_risky_key: bool = False
    """Trade with a key that can withdraw / has no IP whitelist on mainnet (`provider/trading/keys.py`)."""
    confirm: ConfirmPolicy = field(default_factory=ConfirmPolicy)
    """When a person approves an order before it is sent (`provider/trading/confirm.py`)."""


@dataclass(frozen=True)
class Settings:
    environment: Environment
    api_key: str | None = field(default=None, repr=False)
    api_secret: str | None = field(default=None, repr=False)
    private_key_pem: bytes | None = field(default=None, repr=False)
    recv_window_ms: int = 5000
    trading: TradingLimits = TradingLimits()
    listen: str = "127.0.0.1:50053"
    orderbook_enabled: bool = True
    account_stream_enabled: bool = True
    account_resync_s: float = 60.0
    orderbook_max_symbols: int = 20
    audit_log: Path = Path("var/audit.log")
    metrics_listen: str | None = None
    grace_s: float = 5.0
    log_level: str = "info"
    tls: ServerTls | None = None
    redis_url: str | None = field(default=None, repr=False)
    """Shared state of provider replicas; None = in-process implementations (one process, as before)."""
    redis_prefix: str = ""
    """Prefix of every Redis key; default ``binance-mcp:<environment name>:``."""

    def __post_init__(self) -> None:
        if not self.redis_prefix:
            object.__setattr__(self, "redis_prefix", f"binance-mcp:{self.environment.name}:")

    @property
    def has_credentials(self) -> bool:
        return bool(self.api_key and (self.api_secret or self.private_key_pem))

    def describe(self) -> dict[str, object]:
        """What the startup log shows: no secret, only whether one is set."""
        return {
            "environment": self.environment.name,
            "rest_url": self.environment.rest_url,
            "ws_url": self.environment.ws_url,
            "ws_api_url": self.environment.ws_api_url,
            "credentials": ("ed25519" if self.private_key_pem else "hmac") if self.has_credentials else "none",
            "trading_enabled": self.trading.enabled,
            "listen": self.listen,
            "tls": ("mutual" if self.tls.mutual else "server") if self.tls else "off",
            "orderbook_enabled": self.orderbook_enabled,
            "account_stream_enabled": self.account_stream_enabled,
            "account_resync_s": self.account_resync_s,
            "redis": _redacted_url(self.redis_url) if self.redis_url else "off",
            "redis_prefix": self.redis_prefix,
        }


def read_env_file(path: Path, name: str = "PROVIDER_ENV_FILE") -> dict[str, str]:
    """KEY=VALUE lines; blank lines and # comments skipped; optional quotes stripped.

    Raises:
        SettingsError: the file cannot be read, is not UTF-8 text, or has a line that is not KEY=VALUE.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(f"{name}: cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise SettingsError(f"{name}: {path} is not UTF-8 text (byte {exc.start})") from None
    values: dict[str, str] = {}
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[7:]
        key, sep, value = line.partition("=")
        if not sep:
            raise SettingsError(f"{path}:{n}: expected KEY=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def load(environ: Mapping[str, str] | None = None, *, prepare_audit_log: bool = True) -> Settings:
    """The settings of this process: environment over the `.env` file, validated.

    With `prepare_audit_log` (the server) the audit log's directory is created and the file opened
    for append once, so a log that cannot be written stops the start instead of failing every order
    later; `doctor` passes False and only checks, creating nothing.

    Raises:
        SettingsError: any invalid value or unusable file, naming the variable.
    """
    env = dict(os.environ if environ is None else environ)
    env_file = env.get("PROVIDER_ENV_FILE")
    if env_file and _bad_path(env_file):
        raise SettingsError(f"PROVIDER_ENV_FILE: {_bad_path(env_file)}")
    path = Path(env_file) if env_file else Path(".env")
    if env_file and not path.is_file():
        raise SettingsError(f"PROVIDER_ENV_FILE: no such file {path}")
    if path.is_file():
        env = {**read_env_file(path, "PROVIDER_ENV_FILE" if env_file else f"{path} (PROVIDER_ENV_FILE)"), **env}
    settings = from_mapping(env)
    if prepare_audit_log:
        try:
            audit.prepare(settings.audit_log)
        except OSError as exc:
            raise SettingsError(
                f"PROVIDER_AUDIT_LOG: cannot append to {settings.audit_log}: {exc.strerror or exc}"
            ) from None
    return settings


def from_mapping(env: Mapping[str, str]) -> Settings:
    unknown = sorted(k for k in env if (k.startswith("BINANCE_") or k.startswith("PROVIDER_")) and k not in VARIABLES)
    if unknown:
        raise SettingsError(f"unknown setting {', '.join(unknown)}; known: {', '.join(VARIABLES)}")

    def get(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    for name in _PATH_VARIABLES:
        problem = _bad_path(get(name) or "")
        if problem:
            raise SettingsError(f"{name}: {problem}")
    environment = _environment(
        get("BINANCE_ENV") or "testnet", get("BINANCE_REST_URL"), get("BINANCE_WS_URL"), get("BINANCE_WS_API_URL")
    )
    api_key = _credential(get("BINANCE_API_KEY"), "BINANCE_API_KEY")
    api_secret = _credential(get("BINANCE_API_SECRET"), "BINANCE_API_SECRET")
    key_file = get("BINANCE_PRIVATE_KEY_FILE")
    private_key_pem = _private_key(key_file) if key_file else None
    if (api_secret or private_key_pem) and not api_key:
        raise SettingsError("BINANCE_API_KEY: required when a secret or private key is configured")

    trading = TradingLimits(
        enabled=_bool(env, "BINANCE_TRADING_ENABLED", False),
        mainnet_confirmed=_bool(env, "BINANCE_MAINNET_TRADING", False),
        max_order_notional=_decimal(get("BINANCE_MAX_ORDER_NOTIONAL"), "BINANCE_MAX_ORDER_NOTIONAL"),
        cap_asset=_asset(get("BINANCE_CAP_ASSET") or "USDT", "BINANCE_CAP_ASSET"),
        allowed_symbols=_symbols(get("BINANCE_ALLOWED_SYMBOLS")),
        allowed_order_types=_order_types(get("BINANCE_ALLOWED_ORDER_TYPES")),
        allow_risky_key=_bool(env, "BINANCE_ALLOW_RISKY_KEY", False),
        confirm=_confirm(get("BINANCE_CONFIRM_ORDERS"), environment),
    )
    listen = get("PROVIDER_LISTEN") or "127.0.0.1:50053"
    _check_address(listen, "PROVIDER_LISTEN")
    tls = _tls(get("PROVIDER_TLS_CERT_FILE"), get("PROVIDER_TLS_KEY_FILE"), get("PROVIDER_TLS_CLIENT_CA_FILE"))
    if tls is None and not is_loopback_host(listen.rpartition(":")[0]):
        raise SettingsError(
            f"PROVIDER_LISTEN={listen} is beyond loopback: plaintext gRPC is for 127.0.0.1/localhost only; "
            "set PROVIDER_TLS_CERT_FILE and PROVIDER_TLS_KEY_FILE (and PROVIDER_TLS_CLIENT_CA_FILE for mutual TLS)"
        )
    metrics = get("PROVIDER_METRICS_LISTEN")
    if metrics:
        _check_address(metrics, "PROVIDER_METRICS_LISTEN")
    log_level = (get("PROVIDER_LOG_LEVEL") or "info").lower()
    if log_level not in ("debug", "info", "warning", "error"):
        raise SettingsError(f"PROVIDER_LOG_LEVEL: one of debug, info, warning, error; got {log_level!r}")
    return Settings(
        environment=environment,
        api_key=api_key,
        api_secret=api_secret,
        private_key_pem=private_key_pem,
        recv_window_ms=_int(get("BINANCE_RECV_WINDOW_MS"), "BINANCE_RECV_WINDOW_MS", 5000, 1, 60000),
        trading=trading,
        listen=listen,
        orderbook_enabled=_bool(env, "PROVIDER_ORDERBOOK_ENABLED", True),
        account_stream_enabled=_bool(env, "PROVIDER_ACCOUNT_STREAM", True),
        account_resync_s=float(_int(get("PROVIDER_ACCOUNT_RESYNC_S"), "PROVIDER_ACCOUNT_RESYNC_S", 60, 1, 3600)),
        orderbook_max_symbols=_int(
            get("PROVIDER_ORDERBOOK_MAX_SYMBOLS"), "PROVIDER_ORDERBOOK_MAX_SYMBOLS", 20, 1, 1000
        ),
        audit_log=Path(get("PROVIDER_AUDIT_LOG") or "var/audit.log"),
        metrics_listen=metrics,
        grace_s=float(_int(get("PROVIDER_GRACE_S"), "PROVIDER_GRACE_S", 5, 0, 600)),
        log_level=log_level,
        tls=tls,
        redis_url=_redis_url(get("PROVIDER_REDIS_URL")),
        redis_prefix=_redis_prefix(get("PROVIDER_REDIS_PREFIX")),
    )


def _redis_url(value: str | None) -> str | None:
    """A redis://, rediss:// or unix:// URL with a host (or socket path); the value may hold a password."""
    if value is None:
        return None
    try:
        parts = urlsplit(value)
        ok = parts.scheme in ("redis", "rediss", "unix") and bool(parts.hostname or parts.path)
        _ = parts.port  # raises on a port that is not a number in range
    except ValueError:
        ok = False
    if not ok:
        raise SettingsError(
            f"PROVIDER_REDIS_URL: a redis://host:port/db, rediss:// or unix:// URL; got {_redacted_url(value)!r}"
        )
    return value


def _redacted_url(value: str) -> str:
    """The URL with any password replaced, for logs and errors."""
    head, at, host = value.rpartition("@")
    if not at:
        return value
    scheme, sep, userinfo = head.partition("://")
    user = userinfo.partition(":")[0]
    return f"{scheme}{sep}{user}:***@{host}" if sep else f"***@{host}"


def _redis_prefix(value: str | None) -> str:
    if value is None:
        return ""
    if len(value) > 100 or not re.fullmatch(r"[A-Za-z0-9:_.\-]+", value):
        raise SettingsError(f"PROVIDER_REDIS_PREFIX: up to 100 of A-Z a-z 0-9 : _ . -; got {value[:40]!r}")
    return value


def _bad_path(value: str) -> str | None:
    """Why `value` cannot be a file name (a NUL or control character), or None."""
    bad = next((c for c in value if ord(c) < 0x20 or ord(c) == 0x7F), None)
    return None if bad is None else f"the path contains the control character {bad!r}"


def _credential(value: str | None, name: str) -> str | None:
    """An API key or HMAC secret: one line of printable ASCII, as Binance issues them.

    A CR/LF would split the X-MBX-APIKEY header, and a non-ASCII secret cannot key HMAC-SHA256 over
    the ASCII payload; the value itself never goes into the message.
    """
    if value is None:
        return None
    for i, c in enumerate(value):
        if not "!" <= c <= "~":
            kind = "a control character" if ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 else (
                "a space" if c.isspace() else "a non-ASCII character")
            raise SettingsError(
                f"{name}: contains {kind} at position {i + 1} of {len(value)}; "
                "it must be one line of printable ASCII (check for a pasted line break or quote)"
            )
    return value


def _private_key(path: str) -> bytes:
    """The PEM bytes of an Ed25519 private key file, checked to load (never echoed)."""
    name = "BINANCE_PRIVATE_KEY_FILE"
    try:
        pem = Path(path).read_bytes()
    except OSError as exc:
        raise SettingsError(f"{name}: cannot read {path}: {exc.strerror or exc}") from None
    if not pem.strip():
        raise SettingsError(f"{name}: {path} is empty; it must hold a PEM Ed25519 private key")
    from cryptography.exceptions import UnsupportedAlgorithm  # only with a key file (provider start time)

    try:
        Ed25519Signer.from_pem(pem)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        # cryptography's messages describe the format problem, never the key material
        raise SettingsError(
            f"{name}: {path} is not an unencrypted PEM Ed25519 private key ({str(exc)[:200]})"
        ) from None
    return pem


def _symbols(value: str | None) -> frozenset[str]:
    symbols = frozenset(s.strip().upper() for s in (value or "").split(",") if s.strip())
    bad = sorted(s for s in symbols if not re.fullmatch(_SYMBOL, s))
    if bad:
        shown = ", ".join(repr(s[:30]) for s in bad[:5])
        raise SettingsError(f"BINANCE_ALLOWED_SYMBOLS: not symbols: {shown}; symbols match {_SYMBOL}")
    return symbols


def _tls(cert: str | None, key: str | None, client_ca: str | None) -> ServerTls | None:
    try:
        return load_server_tls(cert, key, client_ca, now=datetime.datetime.now(datetime.UTC))
    except TlsError as exc:
        raise SettingsError(str(exc)) from None


def _confirm(value: str | None, environment: Environment) -> ConfirmPolicy:
    try:
        return parse_policy(value, mainnet=environment.kind is EnvironmentKind.MAINNET)
    except ValueError as exc:
        raise SettingsError(f"BINANCE_CONFIRM_ORDERS: {exc}") from None


def _environment(name: str, rest: str | None, ws: str | None, ws_api: str | None) -> Environment:
    name = name.lower()
    try:
        if name == "mainnet" and not (rest or ws or ws_api):
            return Environment.mainnet()
        if name == "testnet" and not (rest or ws or ws_api):
            return Environment.testnet()
        if name in ("mainnet", "testnet", "sandbox"):
            if not (rest and ws):
                raise SettingsError(
                    f"BINANCE_REST_URL and BINANCE_WS_URL: both are needed with BINANCE_ENV={name} and explicit URLs"
                )
            return Environment.custom(rest, ws, name=name, ws_api_url=ws_api or "")
    except ValueError as exc:
        if isinstance(exc, SettingsError):
            raise
        raise SettingsError(f"BINANCE_REST_URL/BINANCE_WS_URL/BINANCE_WS_API_URL: {exc}") from None
    raise SettingsError(f"BINANCE_ENV: one of mainnet, testnet, sandbox; got {name!r}")


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(name, "").strip().lower()
    if not value:
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}: true or false; got {value!r}")


def _int(value: str | None, name: str, default: int, low: int, high: int) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise SettingsError(f"{name}: an integer from {low} to {high}; got {value!r}") from None
    if not low <= number <= high:
        raise SettingsError(f"{name}: an integer from {low} to {high}; got {number}")
    return number


def _asset(value: str, name: str) -> str:
    asset = value.strip().upper()
    if not re.fullmatch(r"[A-Z0-9]{1,20}", asset):
        raise SettingsError(f"{name} must be an asset code such as USDT (letters and digits); got {value[:40]!r}")
    return asset


def _decimal(value: str | None, name: str) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise SettingsError(f"{name}: a positive decimal number; got {value!r}") from None
    if not number.is_finite() or number <= 0:
        raise SettingsError(f"{name}: a positive decimal number; got {value!r}")
    return number


def _order_types(value: str | None) -> frozenset[str]:
    types = frozenset(t.strip().upper() for t in (value or "").split(",") if t.strip())
    bad = sorted(types - _ORDER_TYPES)
    if bad:
        raise SettingsError(
            f"BINANCE_ALLOWED_ORDER_TYPES: unknown {', '.join(bad)}; allowed: {', '.join(sorted(_ORDER_TYPES))}"
        )
    return types


def _check_address(value: str, name: str) -> None:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not (port.isascii() and port.isdigit()) or not 0 <= int(port) <= 65535:
        raise SettingsError(f"{name}: host:port, e.g. 127.0.0.1:50053; got {value!r}")
