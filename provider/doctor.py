"""`binance-provider doctor`: check a deployment before (or while) it runs, one line per check.

    OK    configuration      sandbox: rest http://127.0.0.1:PORT, ws ws://..., hmac key, trading on
    OK    rest               GET /api/v3/ping answered in 3 ms
    WARN  clock              exchange clock is 1200 ms ahead of this host (rtt 2 ms); ...
    FAIL  api key            the exchange rejected the key (Binance -2015: Invalid API-key, ...)

Exit code 0 when nothing FAILed, 1 otherwise. It reads the same settings the provider does and
sends only read requests (ping, time, account); it never prints a key or a secret.

The verdicts are pure functions of what was measured (`clock_check`, `key_checks`,
`trading_check`), so they are tested without an exchange; `run` is the I/O shell around them.
"""

from __future__ import annotations

import argparse
import asyncio
import enum
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from provider import audit, logs
from provider import settings as settings_module
from provider.binance import order_calls
from provider.binance.auth import Ed25519Signer, HmacSigner, Signer
from provider.binance.client import BinanceClient, ClientConfig
from provider.binance.environment import EnvironmentKind
from provider.binance.transport import AiohttpTransport
from provider.binance.wss import ssl_for
from provider.errors import PermissionDenied, ProviderError, Unauthenticated
from provider.trading import keys

__all__ = ["Check", "Status", "clock_check", "key_checks", "main", "permissions_check", "render", "run",
           "trading_check"]

#: an offset above this is worth fixing even though signed requests correct for it
CLOCK_WARN_MS = 500
DEFAULT_SYMBOL = "BTCUSDT"


class Status(enum.Enum):
    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    name: str
    status: Status
    detail: str


# -- verdicts (pure) ---------------------------------------------------------------------------


def clock_check(offset_ms: int, rtt_ms: int, recv_window_ms: int) -> Check:
    """Judges the exchange-minus-local clock offset against recvWindow (spec: timestamp rules)."""
    direction = "ahead of" if offset_ms > 0 else "behind"
    where = f"exchange clock is {abs(offset_ms)} ms {direction} this host (rtt {rtt_ms} ms)"
    if abs(offset_ms) > recv_window_ms:
        return Check("clock", Status.FAIL, f"{where}, beyond recvWindow {recv_window_ms} ms: "
                     "signed requests depend on the measured correction; fix NTP (timedatectl)")
    if abs(offset_ms) > CLOCK_WARN_MS:
        return Check("clock", Status.WARN, f"{where}; the provider corrects for it, but fix NTP (timedatectl)")
    return Check("clock", Status.OK, where)


def key_checks(account: Mapping[str, Any], trading_enabled: bool) -> list[Check]:
    """What GET /api/v3/account says about the key: can it trade, and (loudly) can it withdraw."""
    permissions = ",".join(str(p) for p in account.get("permissions") or []) or "none listed"
    can_trade = bool(account.get("canTrade"))
    detail = f"accepted; accountType {account.get('accountType', '?')}, permissions {permissions}, " \
             f"canTrade {str(can_trade).lower()}"
    checks = []
    if trading_enabled and not can_trade:
        checks.append(Check("api key", Status.FAIL, f"{detail}: trading is enabled but the key cannot trade"))
    else:
        checks.append(Check("api key", Status.OK, detail))
    if account.get("canWithdraw"):
        checks.append(Check(
            "withdrawals", Status.WARN,
            "!!! THIS KEY CAN WITHDRAW FUNDS !!! Anyone who reads this host's environment file can move "
            "money off the exchange. Create a key with withdrawals disabled and an IP whitelist.",
        ))
    else:
        checks.append(Check("withdrawals", Status.OK, "the key cannot withdraw (as it should be)"))
    return checks


def permissions_check(restrictions: Mapping[str, Any] | None, settings: settings_module.Settings,
                      error: str | None = None) -> Check:
    """What GET /sapi/v1/account/apiRestrictions says the key may do, judged as the trading rails judge
    it before the first order (provider/trading/keys.py): FAIL when trading is on and would be refused."""
    mainnet = settings.environment.kind is EnvironmentKind.MAINNET
    verdict = keys.judge(restrictions, mainnet=mainnet, override=settings.trading.allow_risky_key, error=error)
    shown = keys.describe(restrictions) if restrictions is not None else f"not readable ({error})"
    if not verdict.problems:
        return Check("key permissions", Status.OK, shown)
    detail = f"{shown}: {verdict.message()}"
    if not settings.trading.enabled:
        return Check("key permissions", Status.WARN, detail)
    if verdict.allowed:
        return Check("key permissions", Status.WARN, f"{detail} (allowed by BINANCE_ALLOW_RISKY_KEY=true)")
    return Check("key permissions", Status.FAIL, f"{detail}: every order will be refused (BINANCE_ALLOW_RISKY_KEY=true "
                 "overrides, knowing the risk)")


def trading_check(settings: settings_module.Settings) -> Check:
    """Whether orders are allowed, and whether that is real money."""
    limits = settings.trading
    if not limits.enabled:
        return Check("trading", Status.OK, "off: read-only (BINANCE_TRADING_ENABLED=true allows orders)")
    if not settings.has_credentials:
        return Check("trading", Status.FAIL, "BINANCE_TRADING_ENABLED=true but no API key and secret are configured")
    rails = [
        f"max notional {limits.max_order_notional}" if limits.max_order_notional else "no max notional",
        f"symbols {','.join(sorted(limits.allowed_symbols))}" if limits.allowed_symbols else "all symbols",
        f"types {','.join(sorted(limits.allowed_order_types))}" if limits.allowed_order_types else "all order types",
        f"a person approves orders: {limits.confirm.describe()} (BINANCE_CONFIRM_ORDERS)",
    ]
    summary = "; ".join(rails)
    if settings.environment.kind is EnvironmentKind.MAINNET:
        if not limits.mainnet_confirmed:
            return Check("trading", Status.WARN, "enabled on MAINNET but BINANCE_MAINNET_TRADING is not true: "
                         f"every order will be refused ({summary})")
        return Check("trading", Status.WARN, f"ENABLED ON MAINNET WITH REAL MONEY ({summary})")
    return Check("trading", Status.OK, f"enabled on {settings.environment.name} ({summary})")


def audit_check(path: Path) -> Check:
    """The audit log must be appendable, or its directory creatable, by this user (nothing is created)."""
    problem = audit.problem(path)
    if problem is not None:
        return Check("audit log", Status.FAIL, f"PROVIDER_AUDIT_LOG: {problem}; the provider will refuse to start")
    return Check("audit log", Status.OK, f"{path} {'is writable' if path.exists() else 'will be created'}")


def render(checks: Sequence[Check]) -> str:
    """The report: one aligned line per check, then a summary line."""
    width = max((len(c.name) for c in checks), default=0)
    lines = [f"{c.status.value:<5} {c.name:<{width}}  {c.detail}" for c in checks]
    fails = sum(c.status is Status.FAIL for c in checks)
    warns = sum(c.status is Status.WARN for c in checks)
    lines.append(f"doctor: {fails} failed, {warns} warning(s), {len(checks) - fails - warns} ok")
    return "\n".join(lines)


# -- the I/O shell -----------------------------------------------------------------------------


def _describe(settings: settings_module.Settings) -> str:
    d = settings.describe()
    return (f"{d['environment']}: rest {d['rest_url']}, ws {d['ws_url']}, {d['credentials']} credentials, "
            f"recvWindow {settings.recv_window_ms} ms, metrics {settings.metrics_listen or 'off'}")


def _failure(err: ProviderError) -> str:
    text = err.message
    if err.binance_code is None or str(err.binance_code) in text:
        return text
    if err.binance_msg and err.binance_msg in text:
        return f"{text} (Binance {err.binance_code})"
    return f"{text} (Binance {err.binance_code}: {err.binance_msg})"


async def _stream_check(ws_url: str, symbol: str, timeout_s: float) -> Check:
    url = f"{ws_url.rstrip('/')}/ws/{symbol.lower()}@bookTicker"
    started = time.monotonic()
    try:
        async with connect(url, open_timeout=timeout_s, close_timeout=1, ssl=ssl_for(url)) as ws:
            opened_ms = (time.monotonic() - started) * 1000
            try:
                await asyncio.wait_for(ws.recv(), timeout_s)
            except TimeoutError:
                return Check("stream", Status.WARN, f"connected to {url} in {opened_ms:.0f} ms, "
                             f"but no {symbol} bookTicker message within {timeout_s:g} s")
    except (OSError, TimeoutError) as exc:
        return Check("stream", Status.FAIL, f"cannot open {url}: {type(exc).__name__}: {exc}")
    except Exception as exc:  # websockets' handshake errors (InvalidStatus, InvalidURI, ...)
        return Check("stream", Status.FAIL, f"cannot open {url}: {type(exc).__name__}: {exc}")
    return Check("stream", Status.OK, f"{symbol} bookTicker message received from {url}")


def _signer(settings: settings_module.Settings) -> Signer | None:
    if settings.private_key_pem:
        return Ed25519Signer.from_pem(settings.private_key_pem)
    if settings.api_secret:
        return HmacSigner(settings.api_secret)
    return None


async def _exchange_checks(settings: settings_module.Settings, symbol: str, timeout_s: float) -> list[Check]:
    checks: list[Check] = []
    try:
        signer = _signer(settings)
    except ValueError as exc:
        return [Check("api key", Status.FAIL, f"BINANCE_PRIVATE_KEY_FILE: {exc}")]
    env = settings.environment
    client = BinanceClient(env, AiohttpTransport(env.rest_url), api_key=settings.api_key, signer=signer,
                           config=ClientConfig(recv_window_ms=settings.recv_window_ms))
    try:
        started = time.monotonic()
        try:
            await client.ping()
        except ProviderError as err:
            checks.append(Check("rest", Status.FAIL, f"GET {env.rest_url}/api/v3/ping: {_failure(err)}"))
            checks.append(await _stream_check(env.ws_url, symbol, timeout_s))
            return checks
        checks.append(Check("rest", Status.OK, f"GET /api/v3/ping answered in "
                            f"{(time.monotonic() - started) * 1000:.0f} ms"))
        checks.append(await _stream_check(env.ws_url, symbol, timeout_s))
        try:
            offset = await client.sync_clock()
            sample = client.clock.sample
            checks.append(clock_check(offset, sample.rtt_ms if sample else 0, settings.recv_window_ms))
        except ProviderError as err:
            checks.append(Check("clock", Status.FAIL, f"GET /api/v3/time: {_failure(err)}"))
        checks.extend(await _key_checks(client, settings))
    finally:
        await client.close()
    return checks


async def _key_checks(client: BinanceClient, settings: settings_module.Settings) -> list[Check]:
    if not settings.has_credentials:
        return [Check("api key", Status.WARN, "none configured: market data only (no account or trading tools)")]
    try:
        account = await client.account(omit_zero_balances=True)
    except (Unauthenticated, PermissionDenied) as err:
        return [Check("api key", Status.FAIL, f"the exchange rejected the key: {_failure(err)}. Check the key, "
                      f"its secret, its IP whitelist, and that it was made for {settings.environment.name}")]
    except ProviderError as err:
        return [Check("api key", Status.FAIL, f"GET /api/v3/account: {_failure(err)}")]
    checks = key_checks(account.data, settings.trading.enabled)
    try:
        raw = (await order_calls.api_restrictions(client)).data
        checks.append(permissions_check(raw if isinstance(raw, dict) else None, settings, "not an object"))
    except ProviderError as err:
        checks.append(permissions_check(None, settings, f"GET /sapi/v1/account/apiRestrictions: {_failure(err)}"))
    return checks


async def run(environ: Mapping[str, str] | None = None, *, symbol: str | None = None,
              timeout_s: float = 5.0) -> list[Check]:
    """Every check, in order; a configuration failure stops there (nothing else can be trusted)."""
    try:
        settings = settings_module.load(environ, prepare_audit_log=False)
    except settings_module.SettingsError as exc:
        return [Check("configuration", Status.FAIL, str(exc))]
    checks = [Check("configuration", Status.OK, _describe(settings)), trading_check(settings),
              audit_check(settings.audit_log)]
    chosen = symbol or min(settings.trading.allowed_symbols, default=DEFAULT_SYMBOL)
    checks[1:1] = await _exchange_checks(settings, chosen, timeout_s)
    return checks


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry: prints the report on stdout (logs stay on stderr, errors only); returns the exit code."""
    parser = argparse.ArgumentParser(prog="binance-provider doctor",
                                     description="Check configuration, connectivity, clock, key and trading setup.")
    parser.add_argument("--symbol", help=f"symbol for the stream check (default: first allowed, or {DEFAULT_SYMBOL})")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the stream (default 5)")
    args = parser.parse_args(argv)
    logs.configure("error")
    checks = asyncio.run(run(symbol=args.symbol, timeout_s=args.timeout))
    print(render(checks), flush=True)  # the CLI's one documented output
    return 1 if any(c.status is Status.FAIL for c in checks) else 0


if __name__ == "__main__":
    sys.exit(main())
