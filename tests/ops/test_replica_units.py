"""The replica deployment example (deploy/): two template units, the gateway config and HAProxy's.

The template units keep every hardening line of the single provider unit; the gateway config is
what the gateway itself accepts (three replica addresses of one provider); the units verify with
systemd-analyze as instances (`binance-provider@a`, `mcp-gateway@8765`).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.settings import load_settings
from provider.settings import Settings
from tests.stack import ROOT

DEPLOY = ROOT / "deploy"
SINGLE = DEPLOY / "binance-provider.service"
PROVIDER = DEPLOY / "binance-provider@.service"
GATEWAY = DEPLOY / "mcp-gateway@.service"
INSTALLED_BIN = "/opt/binance-mcp/.venv/bin"
HARDENING = (
    "DynamicUser", "UMask", "ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices", "PrivateMounts",
    "PrivateUsers", "NoNewPrivileges", "CapabilityBoundingSet", "AmbientCapabilities", "ProtectKernelTunables",
    "ProtectKernelModules", "ProtectKernelLogs", "ProtectControlGroups", "ProtectClock", "ProtectHostname",
    "ProtectProc", "RestrictAddressFamilies", "RestrictNamespaces", "RestrictRealtime", "RestrictSUIDSGID",
    "LockPersonality", "MemoryDenyWriteExecute", "SystemCallArchitectures", "SystemCallFilter",
    "SystemCallErrorNumber",
)  # fmt: skip


def service(unit: Path) -> dict[str, list[str]]:
    """[Service] key -> values in order (systemd allows repeated keys, so no configparser)."""
    out: dict[str, list[str]] = {}
    section = ""
    for raw in unit.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{unit.name}: not KEY=VALUE: {raw!r}"
        if section == "Service":
            out.setdefault(key.strip(), []).append(value.strip())
    return out


@pytest.mark.parametrize("unit", [PROVIDER, GATEWAY], ids=lambda u: u.name)
def test_replica_units_keep_every_hardening_line_of_the_single_provider_unit(unit: Path) -> None:
    single, replica = service(SINGLE), service(unit)
    for key in HARDENING:
        assert replica.get(key) == single.get(key), key


def test_each_provider_replica_reads_the_shared_env_then_its_own_and_keeps_its_own_state() -> None:
    svc = service(PROVIDER)
    assert svc["Type"] == ["notify"] and svc["ExecStart"] == [f"{INSTALLED_BIN}/binance-provider"]
    assert svc["EnvironmentFile"] == ["/etc/binance-provider/env", "/etc/binance-provider/%i.env"]
    state_dir = f"/var/lib/{svc['StateDirectory'][0]}"
    assert "%i" in state_dir and svc["WorkingDirectory"] == [state_dir]
    assert f"PROVIDER_AUDIT_LOG={state_dir}/audit.log" in " ".join(svc["Environment"])
    assert svc["RestartPreventExitStatus"] == ["2"]
    assert float(svc["TimeoutStopSec"][0].removesuffix("s")) >= Settings.grace_s + 5


def _gateway_argv(port: str, host: str = "127.0.0.1") -> list[str]:
    (exec_start,) = service(GATEWAY)["ExecStart"]
    program, *argv = exec_start.split()
    assert program == f"{INSTALLED_BIN}/mcp-gateway"
    return [a.replace("${GATEWAY_HOST}", host).replace("%i", port) for a in argv]


def test_the_gateway_unit_and_example_config_give_one_provider_with_three_replicas(tmp_path: Path) -> None:
    config = (DEPLOY / "gateway.toml").read_text()
    for name in re.findall(r'"/etc/mcp-gateway/([^"]+\.(?:pem|key))"', config):
        (tmp_path / name).write_text("PEM\n")  # the settings check that TLS files exist
    (tmp_path / "gateway.toml").write_text(config.replace("/etc/mcp-gateway/", f"{tmp_path}/"))
    argv = [a.replace("/etc/mcp-gateway/", f"{tmp_path}/") for a in _gateway_argv("8765")]
    settings = load_settings(argv, {"MCP_GATEWAY_STATE_KEYS": "k" * 43})
    (target,) = settings.providers
    assert len(target.addresses) == 3 and target.tls is not None
    assert (settings.http.host, settings.http.port) == ("127.0.0.1", 8765)


def test_the_load_balancer_example_keeps_a_session_on_the_gateway_that_issued_it() -> None:
    lines = {line.strip() for line in (DEPLOY / "haproxy.cfg").read_text().splitlines()}
    assert "stick store-response res.hdr(mcp-session-id)" in lines
    assert "stick on req.hdr(mcp-session-id)" in lines
    assert sum(line.startswith("server gw") for line in lines) == 2


def _instances(tmp_path: Path) -> list[Path]:
    """Instance copies whose ExecStart points at this checkout's entry points (verify checks they exist)."""
    here = str(Path(sys.executable).parent)
    out = []
    for unit, instance in ((PROVIDER, "binance-provider@a.service"), (GATEWAY, "mcp-gateway@8765.service")):
        copy = tmp_path / instance
        copy.write_text(unit.read_text().replace(INSTALLED_BIN, here))
        out.append(copy)
    return out


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed here")
def test_systemd_analyze_verifies_both_instances_and_rates_them_at_most_2(tmp_path: Path) -> None:
    instances = _instances(tmp_path)
    verify = subprocess.run(
        ["systemd-analyze", "verify", *map(str, instances)], capture_output=True, text=True, timeout=30
    )
    assert verify.returncode == 0 and verify.stdout.strip() == verify.stderr.strip() == "", verify.stderr
    for unit in instances:
        security = subprocess.run(
            ["systemd-analyze", "security", "--offline=yes", "--threshold=20", str(unit)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert security.returncode == 0, security.stdout[-2000:] + security.stderr
