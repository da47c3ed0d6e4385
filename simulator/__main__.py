"""`binance-sim` / `python -m simulator`: start the sandbox and print one ready line on stdout.

The ready line is the only thing ever written to stdout:
`{"event":"ready","rest_url":...,"ws_url":...,"ws_api_url":...,"api_key":...,"api_secret":...,
"ed25519_api_key":...,"ed25519_private_key_file":...}`; logs go to stderr (structlog).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from pathlib import Path

import structlog
from aiohttp import web

from simulator.app import create_app
from simulator.config import SimConfig
from simulator.keys import (
    DEFAULT_API_KEY,
    DEFAULT_API_SECRET,
    DEFAULT_ED25519_API_KEY,
    make_credentials,
)
from simulator.symbols import DEFAULT_SYMBOLS


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="binance-sim", description="Binance-compatible sandbox")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--symbols", default=",".join(DEFAULT_SYMBOLS),
                   help="comma-separated subset of: " + ",".join(DEFAULT_SYMBOLS))
    p.add_argument("--faults", action="store_true", help="enable /sim/* fault injection")
    p.add_argument("--rate", type=float, default=20.0, help="market events per second per symbol")
    p.add_argument("--api-key", default=DEFAULT_API_KEY)
    p.add_argument("--api-secret", default=DEFAULT_API_SECRET)
    p.add_argument("--ed25519-api-key", default=DEFAULT_ED25519_API_KEY)
    p.add_argument("--ed25519-key-file", type=Path, default=None,
                   help="PEM private key; created there if missing (default: a temp file)")
    p.add_argument("--weight-limit", type=int, default=6000)
    p.add_argument("--ws-ping-interval", type=float, default=20.0)
    p.add_argument("--ws-pong-timeout", type=float, default=60.0)
    p.add_argument("--conn-lifetime", type=float, default=24 * 3600.0)
    p.add_argument("--ws-api-lifetime", type=float, default=24 * 3600.0,
                   help="maximum WebSocket API connection age in seconds")
    p.add_argument("--lenient", action="store_true",
                   help="accept lower-case symbols and unknown parameters (Binance refuses them)")
    p.add_argument("--log-level", default="info")
    return p.parse_args(argv)


def configure_logging(level: str) -> None:
    logging.basicConfig(stream=sys.stderr, level=level.upper(), format="%(message)s")
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
    )


def build_config(args: argparse.Namespace) -> SimConfig:
    names = [s.strip().upper() for s in args.symbols.split(",") if s.strip()]
    unknown = [n for n in names if n not in DEFAULT_SYMBOLS]
    if unknown or not names:
        raise SystemExit(f"unknown symbols: {unknown}; known: {sorted(DEFAULT_SYMBOLS)}")
    creds = make_credentials(args.api_key, args.api_secret, args.ed25519_api_key,
                             args.ed25519_key_file)
    return SimConfig(
        credentials=creds,
        seed=args.seed,
        symbols={n: DEFAULT_SYMBOLS[n] for n in names},
        faults=args.faults,
        rate=args.rate,
        weight_limit=args.weight_limit,
        ws_ping_interval=args.ws_ping_interval,
        ws_pong_timeout=args.ws_pong_timeout,
        conn_lifetime=args.conn_lifetime,
        ws_api_lifetime=args.ws_api_lifetime,
        strict=not args.lenient,
    )


async def serve(config: SimConfig, host: str, port: int) -> None:
    log = structlog.get_logger("simulator")
    app = create_app(config)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = int(runner.addresses[0][1])
    shown = f"[{host}]" if ":" in host else host
    creds = config.credentials
    ready = {
        "event": "ready",
        "rest_url": f"http://{shown}:{bound}",
        "ws_url": f"ws://{shown}:{bound}",
        "ws_api_url": f"ws://{shown}:{bound}/ws-api/v3",
        "api_key": creds.api_key,
        "api_secret": creds.api_secret,
        "ed25519_api_key": creds.ed25519_api_key,
        "ed25519_private_key_file": str(creds.ed25519_private_key_file),
    }
    sys.stdout.write(json.dumps(ready, separators=(",", ":")) + "\n")
    sys.stdout.flush()
    log.info("sandbox.ready", rest_url=ready["rest_url"], seed=config.seed,
             symbols=sorted(config.symbols), faults=config.faults, rate=config.rate)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("sandbox.stopping")
    await runner.cleanup()
    log.info("sandbox.stopped")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    configure_logging(args.log_level)
    config = build_config(args)
    asyncio.run(serve(config, args.host, args.port))


if __name__ == "__main__":
    main()
