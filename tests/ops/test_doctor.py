"""`binance-provider doctor`: the real CLI against the sandbox, and its verdicts as pure functions."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from provider import settings as settings_module
from provider.binance.environment import Environment
from provider.doctor import Check, Status, audit_check, clock_check, key_checks, render, trading_check
from tests.sim_fixture import SimProcess
from tests.stack import ROOT, child_env, sandbox_env

SANDBOX_ACCOUNT = {"canTrade": True, "canWithdraw": False, "accountType": "SPOT", "permissions": ["SPOT"]}


async def doctor(env: dict[str, str], *args: str) -> tuple[int, dict[str, tuple[str, str]], str]:
    """Runs `python -m provider doctor`; returns exit code, {check: (status, detail)} and all output."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "provider", "doctor", "--timeout", "10", *args, cwd=str(ROOT), env=child_env(env),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    text = out.decode()
    lines: dict[str, tuple[str, str]] = {}
    for line in text.splitlines()[:-1]:
        status, rest = line.split(maxsplit=1)
        name, _, detail = rest.partition("  ")
        lines[name.strip()] = (status, detail.strip())
    assert text.splitlines()[-1].startswith("doctor: ")
    assert proc.returncode is not None
    return proc.returncode, lines, text + err.decode()


def env_for(sim: SimProcess, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {**sandbox_env(sim.info), "PROVIDER_AUDIT_LOG": str(tmp_path / "audit.log"), **extra}


async def test_doctor_passes_every_check_against_the_sandbox_with_a_good_key(sim: SimProcess, tmp_path: Path) -> None:
    code, lines, output = await doctor(env_for(sim, tmp_path))
    assert code == 0, output
    assert set(lines) == {"configuration", "rest", "stream", "clock", "api key", "withdrawals", "key permissions",
                          "trading", "audit log"}
    assert all(status == "OK" for status, _ in lines.values()), output
    assert "canTrade true" in lines["api key"][1]
    assert "withdrawals no" in lines["key permissions"][1]
    assert sim.info.api_secret not in output


async def test_doctor_reports_the_keys_permissions_and_fails_a_key_trading_would_refuse(
    sim: SimProcess, tmp_path: Path
) -> None:
    await sim.fault("api_restrictions", enableWithdrawals=True)
    try:
        code, lines, output = await doctor(env_for(sim, tmp_path, BINANCE_TRADING_ENABLED="true"))
        assert code == 1 and lines["key permissions"][0] == "FAIL", output
        detail = lines["key permissions"][1]
        assert "withdrawals yes" in detail and "BINANCE_ALLOW_RISKY_KEY" in detail
        code, lines, _ = await doctor(env_for(sim, tmp_path, BINANCE_TRADING_ENABLED="true",
                                              BINANCE_ALLOW_RISKY_KEY="true"))
        assert lines["key permissions"][0] == "WARN"
        code, lines, _ = await doctor(env_for(sim, tmp_path, BINANCE_TRADING_ENABLED="false"))  # a warning only
        assert lines["key permissions"][0] == "WARN"
    finally:
        await sim.fault("clear")


async def test_doctor_fails_a_rejected_key_without_printing_it(sim: SimProcess, tmp_path: Path) -> None:
    wrong_secret = "s3cr3t" * 10
    code, lines, output = await doctor(env_for(sim, tmp_path, BINANCE_API_SECRET=wrong_secret))
    assert code == 1
    assert lines["api key"][0] == "FAIL"
    assert "-1022" in lines["api key"][1]
    assert lines["rest"][0] == "OK"
    assert wrong_secret not in output and sim.info.api_secret not in output

    wrong_key = "k3y" * 20
    code, lines, output = await doctor(env_for(sim, tmp_path, BINANCE_API_KEY=wrong_key))
    assert code == 1
    assert lines["api key"][0] == "FAIL"
    assert "-2015" in lines["api key"][1]
    assert wrong_key not in output and sim.info.api_secret not in output


async def test_doctor_warns_on_a_skewed_clock_and_fails_beyond_recv_window(sim: SimProcess, tmp_path: Path) -> None:
    await sim.fault("clock_skew", ms=2000)
    code, lines, output = await doctor(env_for(sim, tmp_path))
    assert lines["clock"][0] == "WARN", output
    assert "ahead" in lines["clock"][1]
    assert code == 0  # a warning alone does not fail the run

    await sim.fault("clock_skew", ms=-4000)
    code, lines, output = await doctor(env_for(sim, tmp_path, BINANCE_RECV_WINDOW_MS="3000"))
    assert lines["clock"][0] == "FAIL", output
    assert "behind" in lines["clock"][1] and "recvWindow 3000" in lines["clock"][1]
    assert code == 1


async def test_doctor_reports_configuration_errors_by_variable_name(tmp_path: Path) -> None:
    code, lines, _ = await doctor({"BINANCE_ENV": "testnet", "BINANCE_RECV_WINDOW_MS": "0"})
    assert code == 1
    assert lines == {"configuration": ("FAIL", lines["configuration"][1])}
    assert lines["configuration"][1].startswith("BINANCE_RECV_WINDOW_MS")


async def test_doctor_fails_an_unreachable_exchange(tmp_path: Path) -> None:
    closed = "127.0.0.1:9"  # discard port: nothing listens on loopback here
    code, lines, output = await doctor({"BINANCE_ENV": "sandbox", "BINANCE_REST_URL": f"http://{closed}",
                                        "BINANCE_WS_URL": f"ws://{closed}",
                                        "PROVIDER_AUDIT_LOG": str(tmp_path / "audit.log")})
    assert code == 1
    assert lines["rest"][0] == "FAIL" and lines["stream"][0] == "FAIL", output


# -- verdicts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("offset", "status"), [(0, Status.OK), (-500, Status.OK), (501, Status.WARN),
                                                (-5000, Status.WARN), (5001, Status.FAIL), (-60000, Status.FAIL)])
def test_clock_verdict_warns_over_500_ms_and_fails_over_recv_window(offset: int, status: Status) -> None:
    assert clock_check(offset, 3, 5000).status is status


def test_a_key_that_can_withdraw_gets_a_loud_warning() -> None:
    checks = {c.name: c for c in key_checks({**SANDBOX_ACCOUNT, "canWithdraw": True}, trading_enabled=False)}
    assert checks["withdrawals"].status is Status.WARN
    assert "CAN WITHDRAW" in checks["withdrawals"].detail
    assert checks["api key"].status is Status.OK


def test_a_key_that_cannot_trade_fails_only_when_trading_is_enabled() -> None:
    account = {**SANDBOX_ACCOUNT, "canTrade": False}
    assert key_checks(account, trading_enabled=True)[0].status is Status.FAIL
    assert key_checks(account, trading_enabled=False)[0].status is Status.OK


def test_trading_verdicts_flag_mainnet_and_missing_credentials() -> None:
    base = settings_module.Settings(environment=Environment.mainnet(), api_key="k", api_secret="s")
    on = replace(base.trading, enabled=True)
    assert trading_check(base).status is Status.OK
    unconfirmed = trading_check(replace(base, trading=on))
    assert unconfirmed.status is Status.WARN and "refused" in unconfirmed.detail
    live = trading_check(replace(base, trading=replace(on, mainnet_confirmed=True, max_order_notional=Decimal(50))))
    assert live.status is Status.WARN and "REAL MONEY" in live.detail and "max notional 50" in live.detail
    assert trading_check(replace(base, api_key=None, api_secret=None, trading=on)).status is Status.FAIL
    assert trading_check(replace(base, environment=Environment.testnet(), trading=on)).status is Status.OK


def test_report_has_one_line_per_check_and_a_summary() -> None:
    text = render([Check("rest", Status.OK, "fine"), Check("clock", Status.WARN, "off"),
                   Check("api key", Status.FAIL, "rejected")])
    assert text.splitlines() == [
        "OK    rest     fine", "WARN  clock    off", "FAIL  api key  rejected",
        "doctor: 1 failed, 1 warning(s), 1 ok",
    ]


def test_audit_verdict_fails_a_directory_or_a_path_under_a_file_and_creates_nothing(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    for bad in (tmp_path, tmp_path / "a-file" / "audit.log"):
        check = audit_check(bad)
        assert check.status is Status.FAIL and check.detail.startswith("PROVIDER_AUDIT_LOG: "), check
    missing = tmp_path / "new" / "audit.log"
    assert audit_check(missing).status is Status.OK and "will be created" in audit_check(missing).detail
    assert not missing.parent.exists()
