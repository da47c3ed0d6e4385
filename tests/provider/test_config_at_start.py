"""Bad configuration stops the real `binance-provider` process at start: exit code 2, one message
that names the variable, no traceback, no secret; `doctor` reports the same problems as FAIL lines.

Nothing here needs an exchange: every case fails before the provider would connect to one.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.ops.test_doctor import doctor
from tests.stack import ROOT, child_env

SECRET = "s3cr3t-value-never-shown"
GARBAGE_PEM = b"-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbA==\n-----END PRIVATE KEY-----\n"


def base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    closed = "127.0.0.1:9"  # never contacted: each case fails earlier
    return {
        "BINANCE_ENV": "sandbox",
        "BINANCE_REST_URL": f"http://{closed}",
        "BINANCE_WS_URL": f"ws://{closed}",
        "PROVIDER_LISTEN": "127.0.0.1:0",
        "PROVIDER_AUDIT_LOG": str(tmp_path / "audit.log"),
        "PROVIDER_ORDERBOOK_ENABLED": "false",
        **extra,
    }


def start_provider(env: dict[str, str]) -> tuple[int, str]:
    """Runs the provider as the console script does; a provider that starts anyway fails the test by timing out."""
    done = subprocess.run(
        [sys.executable, "-m", "provider"], cwd=ROOT, env=child_env(env), capture_output=True, text=True, timeout=20
    )
    return done.returncode, done.stdout + done.stderr


def key_file(tmp_path: Path, content: bytes) -> str:
    path = tmp_path / "key.pem"
    path.write_bytes(content)
    return str(path)


def bad_cases(tmp_path: Path) -> dict[str, tuple[dict[str, str], str]]:
    """case -> (environment, variable the message must name)."""
    (tmp_path / "a-file").write_text("not a directory")
    return {
        "garbage_pem": (
            {"BINANCE_API_KEY": "k", "BINANCE_PRIVATE_KEY_FILE": key_file(tmp_path, GARBAGE_PEM)},
            "BINANCE_PRIVATE_KEY_FILE",
        ),
        "empty_key_file": (
            {"BINANCE_API_KEY": "k", "BINANCE_PRIVATE_KEY_FILE": key_file(tmp_path, b"")},
            "BINANCE_PRIVATE_KEY_FILE",
        ),
        "crlf_in_api_key": (
            {"BINANCE_API_KEY": SECRET + "\r\nX-Injected: 1", "BINANCE_API_SECRET": "s"},
            "BINANCE_API_KEY",
        ),
        "control_in_secret": ({"BINANCE_API_KEY": "k", "BINANCE_API_SECRET": SECRET + "\x01"}, "BINANCE_API_SECRET"),
        "audit_log_under_a_file": (
            {"PROVIDER_AUDIT_LOG": str(tmp_path / "a-file" / "audit.log")},
            "PROVIDER_AUDIT_LOG",
        ),
        "audit_log_is_a_directory": ({"PROVIDER_AUDIT_LOG": str(tmp_path)}, "PROVIDER_AUDIT_LOG"),
    }


CASES = [
    "garbage_pem",
    "empty_key_file",
    "crlf_in_api_key",
    "control_in_secret",
    "audit_log_under_a_file",
    "audit_log_is_a_directory",
]


@pytest.mark.parametrize("case", CASES)
def test_the_provider_process_stops_at_start_naming_the_variable(tmp_path: Path, case: str) -> None:
    extra, variable = bad_cases(tmp_path)[case]
    code, output = start_provider(base_env(tmp_path, **extra))
    assert code == 2, output[-3000:]
    assert "invalid_configuration" in output and variable in output, output[-3000:]
    assert "Traceback" not in output
    assert SECRET not in output


@pytest.mark.parametrize("case", CASES)
async def test_doctor_fails_the_same_configuration_naming_the_variable(tmp_path: Path, case: str) -> None:
    extra, variable = bad_cases(tmp_path)[case]
    code, lines, output = await doctor(base_env(tmp_path, **extra))
    assert code == 1, output
    failed = {name: detail for name, (status, detail) in lines.items() if status == "FAIL"}
    assert any(detail.startswith(variable) for detail in failed.values()), output
    assert "Traceback" not in output
    assert SECRET not in output
