"""The architecture's claim: the pure cores import no network or RPC library (issue 14)."""

from __future__ import annotations

import subprocess
import sys

from tests.stack import ROOT

PURE_CORES = (
    "provider.orderbook.book",
    "provider.orderbook.sync",
    "provider.orderbook.connection_plan",
    "provider.binance.rules",
    "provider.binance.governor",
    "provider.binance.auth",
    "provider.binance.clock",
    "provider.binance.order_limits",
    "provider.binance.windows",
    "provider.analytics.metrics",
    "provider.trading.plan",
    "provider.trading.placement",
    "provider.trading.confirm",
    "provider.account.state",
    "provider.shared.book_lease",
    "provider.shared.book_feed",
    "common.backoff",
)
IO_LIBRARIES = ("grpc", "aiohttp", "websockets", "redis")


def test_the_pure_cores_load_no_network_or_rpc_library() -> None:
    script = (
        "import importlib, sys\n"
        f"for name in {PURE_CORES!r}: importlib.import_module(name)\n"
        f"print(sorted(m for m in {IO_LIBRARIES!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout
