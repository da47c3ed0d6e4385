"""The systemd side: the unit file is valid and hardened, readiness and stopping are notified, and the
provider runs under MemoryDenyWriteExecute (checked with the kernel's PR_SET_MDWE)."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from google.protobuf import struct_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from contracts.provider.v1 import provider_pb2, provider_pb2_grpc
from provider.settings import Settings
from tests.sim_fixture import SimProcess
from tests.stack import ROOT, ProviderProcess, free_port, sandbox_env

UNIT = ROOT / "deploy" / "binance-provider.service"
INSTALLED = "/opt/binance-mcp/.venv/bin/binance-provider"
PR_SET_MDWE, PR_GET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 66, 1


def unit_entries() -> dict[str, list[tuple[str, str]]]:
    """Sections -> (key, value) in order; systemd allows repeated keys, so no configparser."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = ""
    for raw in UNIT.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = line.strip("[]")
            sections.setdefault(current, [])
            continue
        key, sep, value = line.partition("=")
        assert sep, f"not KEY=VALUE: {raw!r}"
        sections[current].append((key.strip(), value.strip()))
    return sections


def service() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in unit_entries()["Service"]:
        out.setdefault(key, []).append(value)
    return out


def seconds(value: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(s|min|ms)?", value)
    assert match, value
    number, unit = float(match[1]), match[2] or "s"
    return number * {"s": 1, "min": 60, "ms": 0.001}[unit]


def test_unit_declares_notify_readiness_restart_policy_and_environment() -> None:
    assert set(unit_entries()) == {"Unit", "Service", "Install"}
    svc = service()
    assert svc["Type"] == ["notify"] and svc["NotifyAccess"] == ["main"]
    assert svc["ExecStart"] == [INSTALLED]
    assert svc["EnvironmentFile"] == ["/etc/binance-provider/env"]
    assert svc["Restart"] == ["on-failure"] and seconds(svc["RestartSec"][0]) > 0
    assert svc["RestartPreventExitStatus"] == ["2"]  # invalid configuration: provider/server.py exits 2
    # stop timeout leaves the default drain grace plus time to close the exchange session
    assert seconds(svc["TimeoutStopSec"][0]) >= Settings.grace_s + 5
    env = " ".join(svc["Environment"])
    state_dir = f"/var/lib/{svc['StateDirectory'][0]}"
    assert f"PROVIDER_AUDIT_LOG={state_dir}/audit.log" in env
    assert svc["WorkingDirectory"] == [state_dir]
    assert dict(unit_entries()["Install"]) == {"WantedBy": "multi-user.target"}


def test_unit_is_hardened() -> None:
    svc = service()
    for key in ("NoNewPrivileges", "ProtectHome", "PrivateTmp", "PrivateDevices", "ProtectKernelTunables",
                "ProtectKernelModules", "ProtectKernelLogs", "ProtectControlGroups", "LockPersonality",
                "RestrictRealtime", "MemoryDenyWriteExecute", "DynamicUser", "RestrictSUIDSGID"):
        assert svc.get(key) == ["yes"], key
    assert svc["ProtectSystem"] == ["strict"]
    assert svc["CapabilityBoundingSet"] == [""]
    assert svc["RestrictAddressFamilies"] == ["AF_INET AF_INET6 AF_UNIX"]
    assert "@system-service" in svc["SystemCallFilter"]


def _verifiable_copy(tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at this checkout's entry point (verify checks it exists)."""
    entry = Path(sys.executable).parent / "binance-provider"
    assert entry.exists(), f"{entry} missing: install the project (pip install -e .)"
    copy = tmp_path / UNIT.name
    copy.write_text(UNIT.read_text().replace(INSTALLED, str(entry)))
    return copy


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed here")
def test_systemd_analyze_verifies_the_unit_without_warnings(tmp_path: Path) -> None:
    result = subprocess.run(["systemd-analyze", "verify", str(_verifiable_copy(tmp_path))],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "" and result.stderr.strip() == "", result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed here")
def test_systemd_analyze_security_rates_the_unit_at_most_2(tmp_path: Path) -> None:
    result = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--threshold=20",
                             str(_verifiable_copy(tmp_path))], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr


async def _datagram(sock: socket.socket, timeout_s: float) -> str:
    data = await asyncio.wait_for(asyncio.get_running_loop().sock_recv(sock, 4096), timeout_s)
    return data.decode()


async def test_ready_is_notified_once_serving_and_stopping_on_sigterm(sim: SimProcess, tmp_path: Path) -> None:
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.setblocking(False)
    provider = ProviderProcess(env=sandbox_env(sim.info, NOTIFY_SOCKET=str(path)), port=free_port())
    serving_when_ready: list[int] = []

    async def on_ready() -> None:
        assert await _datagram(sock, 30) == "READY=1"
        # own subchannel pool: the launcher's channel may hold a cached refusal from before the port opened
        options = [("grpc.use_local_subchannel_pool", 1)]
        async with grpc.aio.insecure_channel(provider.address, options=options) as channel:
            reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
            serving_when_ready.append(reply.status)

    try:
        watcher = asyncio.create_task(on_ready())
        await provider.launch()
        await asyncio.wait_for(watcher, 30)
        assert serving_when_ready == [health_pb2.HealthCheckResponse.SERVING]
        stopping = asyncio.create_task(_datagram(sock, 30))
        assert await provider.stop() == 0
        assert await stopping == "STOPPING=1"
    finally:
        await provider.stop()
        sock.close()


def _mdwe_supported() -> bool:
    probe = ("import ctypes,sys; sys.exit(0 if ctypes.CDLL(None, use_errno=True)"
             f".prctl({PR_SET_MDWE}, {PR_MDWE_REFUSE_EXEC_GAIN}, 0, 0, 0) == 0 else 1)")
    return sys.platform == "linux" and subprocess.run([sys.executable, "-c", probe], timeout=30).returncode == 0


@pytest.mark.skipif(not _mdwe_supported(), reason="the kernel has no PR_SET_MDWE (Linux < 6.3)")
async def test_provider_serves_under_memory_deny_write_execute(sim: SimProcess, tmp_path: Path) -> None:
    # sitecustomize runs before the provider imports anything: every library then loads under W^X
    marker = tmp_path / "mdwe"
    (tmp_path / "sitecustomize.py").write_text(
        "import ctypes, os\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        f"assert libc.prctl({PR_SET_MDWE}, {PR_MDWE_REFUSE_EXEC_GAIN}, 0, 0, 0) == 0\n"
        f"open(os.environ['MDWE_MARKER'], 'w').write(str(libc.prctl({PR_GET_MDWE}, 0, 0, 0, 0)))\n"
    )
    env = sandbox_env(sim.info, ed25519=True, PYTHONPATH=f"{tmp_path}:{ROOT}", MDWE_MARKER=str(marker))
    provider = await ProviderProcess.start(env)
    try:
        assert int(marker.read_text()) & PR_MDWE_REFUSE_EXEC_GAIN
        async with grpc.aio.insecure_channel(provider.address) as channel:
            stub = provider_pb2_grpc.ProviderStub(channel)
            for tool, args in [("binance.get_account", {}), ("binance.orderbook_l1", {"symbol": "BTCUSDT"}),
                               ("binance.place_order", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET",
                                                        "quantity": "0.001"})]:
                arguments = struct_pb2.Struct()
                arguments.update(args)
                reply = await stub.InvokeTool(provider_pb2.InvokeToolRequest(name=tool, arguments=arguments),
                                              timeout=15)
                assert json.loads(reply.structured_json), tool
    finally:
        assert await provider.stop() == 0
