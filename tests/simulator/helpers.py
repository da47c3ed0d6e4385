"""Small signed REST client for sandbox tests (HMAC or Ed25519, spec §1.8)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
import yarl
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.sim_fixture import SimProcess


def hmac_sign(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def ed25519_sign(key_file: str, payload: str) -> str:
    key = serialization.load_pem_private_key(Path(key_file).read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return quote(base64.b64encode(key.sign(payload.encode())).decode(), safe="")


class Api:
    """Raw access to the sandbox REST API; returns (status, json, headers)."""

    def __init__(self, sim: SimProcess, session: aiohttp.ClientSession, ed25519: bool = False):
        self.sim = sim
        self.session = session
        self.ed25519 = ed25519

    @property
    def key(self) -> str:
        return self.sim.info.ed25519_api_key if self.ed25519 else self.sim.info.api_key

    def sign(self, payload: str) -> str:
        if self.ed25519:
            return ed25519_sign(self.sim.info.ed25519_private_key_file, payload)
        return hmac_sign(self.sim.info.api_secret, payload)

    async def public(self, path: str, **params: Any) -> tuple[int, Any, Any]:
        async with self.session.get(self.sim.info.rest_url + path, params=params) as r:
            return r.status, await r.json(content_type=None), r.headers

    async def signed(self, method: str, path: str, *, in_body: bool = False,
                     timestamp: int | None = None, **params: Any) -> tuple[int, Any, Any]:
        params = {k: v for k, v in params.items() if v is not None}
        params["timestamp"] = timestamp if timestamp is not None else int(time.time() * 1000)
        payload = urlencode(params)
        sig = self.sign(payload)
        url = self.sim.info.rest_url + path
        headers = {"X-MBX-APIKEY": self.key}
        if in_body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            data = f"{payload}&signature={sig}"
            async with self.session.request(method, url, data=data, headers=headers) as r:
                return r.status, await r.json(content_type=None), r.headers
        async with self.session.request(
            method, yarl.URL(f"{url}?{payload}&signature={sig}", encoded=True), headers=headers
        ) as r:
            return r.status, await r.json(content_type=None), r.headers

    async def order(self, **params: Any) -> tuple[int, Any, Any]:
        return await self.signed("POST", "/api/v3/order", **params)


async def wait_log(sim: SimProcess, event: str, within_s: float = 10.0,
                   **fields: Any) -> dict[str, Any]:
    """The first JSON stderr log line with `event` (and the given field values); bounded wait."""
    async with asyncio.timeout(within_s):
        while True:
            for line in list(sim.stderr_lines):
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if rec.get("event") == event and all(rec.get(k) == v for k, v in fields.items()):
                    return dict(rec)
            await asyncio.sleep(0.02)  # polling an external process's log, bounded above


async def wait_until(check: Callable[[], Awaitable[bool]], within_s: float = 10.0) -> None:
    """Poll `check` until it holds; bounded wait."""
    async with asyncio.timeout(within_s):
        while True:
            if await check():
                return
            await asyncio.sleep(0.02)  # polling an external process, bounded above
